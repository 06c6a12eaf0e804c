/*
 * 73-logblock.c: a log reader that stops reading never stalls the relay
 * (issue 11, item 6). bin/turncell runs with its stderr on a pipe this
 * test never reads and --log-level debug, so every request logs a line;
 * once the pipe is full the relay must keep answering, drop lines and
 * count them in /metrics.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define REQUESTS	3000	/* ~150-byte debug lines: far over 64 KiB */

static char	body[TP_BODY_MAX];

static pid_t
spawn_relay(int errfd, uint16_t port, uint16_t hport, const char *secret)
{
	char	lp[16], lo[16], hi[16], ha[32];
	char	*argv[32];
	int	n = 0, null;
	pid_t	pid;

	snprintf(lp, sizeof(lp), "%u", port);
	snprintf(lo, sizeof(lo), "%u", port + 1);
	snprintf(hi, sizeof(hi), "%u", port + 4);
	snprintf(ha, sizeof(ha), "127.0.0.1:%u", hport);
	argv[n++] = (char *)tu_path("bin/turncell");
	argv[n++] = "--listen-port";	argv[n++] = lp;
	argv[n++] = "--bind-ip4-addr";	argv[n++] = "127.0.0.1";
	argv[n++] = "--public-ip4-addr"; argv[n++] = "127.0.0.1";
	argv[n++] = "--lowest-port";	argv[n++] = lo;
	argv[n++] = "--highest-port";	argv[n++] = hi;
	argv[n++] = "--secret-file";	argv[n++] = (char *)secret;
	argv[n++] = "--health-check-addr"; argv[n++] = ha;
	argv[n++] = "--log-level";	argv[n++] = "debug";
	argv[n++] = "--unauth-rate";	argv[n++] = "0";
	argv[n++] = "--unauth-global-rate"; argv[n++] = "0";
	if (geteuid() == 0) {
		argv[n++] = "--user";	argv[n++] = "nobody";
	}
	argv[n] = NULL;
	if ((pid = fork()) != 0)
		return pid;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(null, 1);
	dup2(errfd, 2);
	execv(argv[0], argv);
	_exit(127);
}

/* a Binding answered within timeout_ms */
static int
binding(int fd, const struct taddr *to, int timeout_ms)
{
	uint8_t		req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4,
			    0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t		buf[256];
	struct taddr	from;

	if (tu_sendto(fd, to, req, sizeof(req)) == -1)
		return 0;
	while (tu_recvfrom(fd, buf, sizeof(buf), timeout_ms, &from) > 0)
		if (buf[0] == 0x01 && buf[1] == 0x01 &&
		    memcmp(buf + 8, req + 8, 12) == 0)
			return 1;
	return 0;
}

int
main(void)
{
	char		 dir[] = "/tmp/turncell-logblock.XXXXXX", secret[128];
	uint8_t		 req[28] = { 0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xa4,
			    0x42 };
	struct taddr	 to;
	uint16_t	 port = 0, hport, p;
	const char	*m;
	pid_t		 pid;
	int		 pfd[2], fd, sfd, i, st, answered;
	long long	 dropped = -1;

	tu_init(40);
	if (access(tu_path("bin/turncell"), X_OK) == -1)
		skip_all("bin/turncell not built");
	for (p = 30000 + (uint16_t)(getpid() % 20000); p < 62000; p += 11)
		if (tu_port_free(p, 0) && tu_port_free(p + 1, 0) &&
		    tu_port_free(p + 4, 0)) {
			port = p;
			break;
		}
	hport = tp_tcp_port();
	if (port == 0 || mkdtemp(dir) == NULL || pipe(pfd) == -1) {
		ok(0, "ports, temp dir and pipe");
		return done_testing();
	}
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	sfd = open(secret, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (sfd == -1 || write(sfd, "0123456789abcdef0123456789abcdef\n",
	    33) != 33) {
		ok(0, "secret file");
		return done_testing();
	}
	close(sfd);
	pid = spawn_relay(pfd[1], port, hport, secret);
	close(pfd[1]);
	tu_ip4(&to, 127, 0, 0, 1, port);
	fd = tu_udp_bind(ADDR_V4, 0);
	for (i = 0; i < 50 && !binding(fd, &to, 100); i++)
		;
	if (!ok(pid > 0 && i < 50, "relay up, its stderr a pipe nobody reads"))
		goto out;
	/* every one of these logs a debug line (its 401) */
	req[20] = 0x00; req[21] = 0x19; req[22] = 0x00; req[23] = 0x04;
	req[24] = 17;
	for (i = 0; i < REQUESTS; i++) {
		req[8] = (uint8_t)i;
		req[9] = (uint8_t)(i >> 8);
		tu_sendto(fd, &to, req, sizeof(req));
		if (i % 200 == 199)
			tu_sleep_ms(5);
	}
	tu_sleep_ms(300);
	answered = 0;
	for (i = 0; i < 5; i++)
		answered += binding(fd, &to, 1000);
	is_int(answered, 5, "after %d logged requests with the log pipe full, "
	    "5 of 5 Bindings answered within 1 s", REQUESTS);
	if (tp_http(hport, "GET", "/metrics", NULL, 0, body, sizeof(body),
	    2000) == 200 && (m = strstr(body, "\nturncell_log_dropped_total "))
	    != NULL)
		dropped = strtoll(m + 28, NULL, 10);
	ok(dropped > 0, "/metrics: turncell_log_dropped_total %lld", dropped);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
	}
	close(pfd[0]);
	unlink(secret);
	rmdir(dir);
	return done_testing();
}
