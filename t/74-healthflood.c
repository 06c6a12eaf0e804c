/*
 * 74-healthflood.c: held connections never take /healthz down, nor delay
 * the portal (issue 11, item 3; attack case 51). 300 idle TCP connections
 * and 50 that send half a request are held open on the health port; then
 * /healthz must answer within 1 s, the relay must still join the portal
 * (once: the connection is never dropped), the connections held must be
 * closed by the
 * relay's header timeout, and its fd count must stay bounded.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define IDLE	300
#define SLOW	50
#define FD_BOUND	100	/* health connections + everything else */

static char	body[TP_BODY_MAX];
static int	held[IDLE + SLOW];

static int
connect_nb(uint16_t port)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ms for GET /healthz, -1 if it did not get 200 within 2 s */
static long
healthz_ms(uint16_t port)
{
	uint64_t	t0 = tu_now_ms();

	if (tp_http(port, "GET", "/healthz", NULL, 0, body, sizeof(body),
	    2000) != 200)
		return -1;
	return (long)(tu_now_ms() - t0);
}

/* how many held connections the relay has closed (EOF or reset) */
static int
closed_by_relay(int n)
{
	char	b[64];
	int	i, c = 0;
	ssize_t	r;

	for (i = 0; i < n; i++) {
		if (held[i] < 0)
			continue;
		r = recv(held[i], b, sizeof(b), MSG_DONTWAIT);
		if (r == 0 || (r == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK))
			c++;
	}
	return c;
}

static int
mostly_closed(void *arg)
{
	return closed_by_relay(IDLE + SLOW) >= IDLE + SLOW - 10;
}

int
main(void)
{
	struct tp_mock		 m;
	struct tp_relay_opts	 o;
	struct tu_relay		 r;
	char			 token[64];
	static const char	 half[] = "GET /healthz HTTP/1.1\r\nHost: x";
	long			 ms, worst = 0, rss0;
	int			 i, n = 0, nfds, fds0, got200 = 1;

	tu_init(60);
	tu_need("bin/turncell", "bin/mock-portal", NULL);
	memset(&m, 0, sizeof(m));
	if (!ok(tp_mock_start(&m, 0) == 0, "mock portal"))
		return done_testing();
	memset(&o, 0, sizeof(o));
	snprintf(token, sizeof(token), "tok-%08x", tu_rand());
	o.token = token;
	o.name = "healthflood";
	o.api_url = m.url;
	o.health_any = 1;	/* the kernel's port, from --port-file */
	if (!ok(tp_relay_start(&r, &o) == 0 && r.health_port != 0,
	    "relay with a token and health"))
		goto out;
	o.health_port = r.health_port;
	rss0 = tu_proc_rss_kb(r.pid);
	fds0 = tu_proc_nfds(r.pid);
	for (i = 0; i < IDLE + SLOW; i++) {
		held[i] = connect_nb(o.health_port);
		n += held[i] >= 0;
		if (i >= IDLE && held[i] >= 0) {
			struct pollfd	pfd = { held[i], POLLOUT, 0 };

			(void)poll(&pfd, 1, 200);
			(void)send(held[i], half, sizeof(half) - 1,
			    MSG_NOSIGNAL);
		}
	}
	is_int(n, IDLE + SLOW, "%d idle and %d half-request connections held",
	    IDLE, SLOW);
	tu_sleep_ms(200);
	for (i = 0; i < 5; i++) {
		ms = healthz_ms(o.health_port);
		if (ms < 0)
			got200 = 0;
		else if (ms > worst)
			worst = ms;
		tu_sleep_ms(100);
	}
	ok(got200 && worst < 1000, "/healthz 200 within 1 s, 5 of 5 "
	    "(slowest %ld ms)", worst);
	ok(tp_mock_wait(&m, "joins", 1, 5000) >= 1,
	    "the relay joined the portal meanwhile");
	nfds = tu_proc_nfds(r.pid);
	ok(nfds > 0 && nfds < FD_BOUND, "relay fds bounded (%d)", nfds);
	/* past the 2 s header timeout: the held ones are closed */
	tu_wait_for(mostly_closed, NULL, 5000);
	i = closed_by_relay(IDLE + SLOW);
	ok(i >= IDLE + SLOW - 10, "the relay closed %d of %d held connections",
	    i, IDLE + SLOW);
	diag("health flood: supervisor VmRSS %ld -> %ld kB, fds %d -> %d "
	    "(%d while held)", rss0, tu_proc_rss_kb(r.pid), fds0,
	    tu_proc_nfds(r.pid), nfds);
	ms = healthz_ms(o.health_port);
	ok(ms >= 0 && ms < 1000, "/healthz afterwards (%ld ms)", ms);
	ok(tp_mock_wait(&m, "joins", 1, 100) == 1,
	    "one join: the portal connection was never dropped");
	ok(tu_relay_alive(&r), "the relay is still running");
	if (tap_failed())
		tu_log_dump(&r, 20);
	for (i = 0; i < IDLE + SLOW; i++)
		if (held[i] >= 0)
			close(held[i]);
	tu_relay_stop(&r);
out:
	tp_mock_stop(&m);
	return done_testing();
}
