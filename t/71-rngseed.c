/*
 * 71-rngseed.c: --rng-seed never makes a key predictable (issue 11, item
 * 4). Two relays started with the same seed must generate different
 * secrets and hand the same client different nonces; the seed is
 * announced by a WARN line.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define SEED	"7"

/* a standalone relay writing its generated secret to dir/secret */
static pid_t
start_generated(const char *dir, uint16_t port, uint16_t lo, char *log,
    size_t logcap)
{
	static char	env_rd[160];
	char		lp[16], los[16], his[16];
	char		*argv[24], *env[4];
	int		n = 0;

	snprintf(lp, sizeof(lp), "%u", port);
	snprintf(los, sizeof(los), "%u", lo);
	snprintf(his, sizeof(his), "%u", lo + 3);
	snprintf(env_rd, sizeof(env_rd), "RUNTIME_DIRECTORY=%s", dir);
	snprintf(log, logcap, "%s/log", dir);
	argv[n++] = (char *)tu_path("bin/turncell");
	argv[n++] = "--listen-port";	argv[n++] = lp;
	argv[n++] = "--bind-ip4-addr";	argv[n++] = "127.0.0.1";
	argv[n++] = "--public-ip4-addr"; argv[n++] = "127.0.0.1";
	argv[n++] = "--lowest-port";	argv[n++] = los;
	argv[n++] = "--highest-port";	argv[n++] = his;
	argv[n++] = "--health-check-addr"; argv[n++] = "none";
	argv[n++] = "--rng-seed";	argv[n++] = SEED;
	if (geteuid() == 0) {
		argv[n++] = "--user";	argv[n++] = "nobody";
	}
	argv[n] = NULL;
	env[0] = env_rd;
	env[1] = "PATH=/usr/bin:/bin";
	env[2] = NULL;
	return tu_spawn(argv, env, log);
}

/* the first line of path into out (NUL-terminated); 0 or -1 */
static int
read_line(const char *path, char *out, size_t cap, int timeout_ms)
{
	uint64_t	end = tu_now_ms() + (uint64_t)timeout_ms;
	FILE		*f;

	do {
		if ((f = fopen(path, "r")) != NULL) {
			if (fgets(out, (int)cap, f) != NULL) {
				fclose(f);
				out[strcspn(out, "\n")] = '\0';
				if (out[0] != '\0')
					return 0;
			} else
				fclose(f);
		}
		tu_sleep_ms(50);
	} while (tu_now_ms() < end);
	return -1;
}

/* 1 if a line of path holds both needles (b may be NULL) */
static int
file_has(const char *path, const char *a, const char *b)
{
	char	line[1024];
	FILE	*f;
	int	found = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, a) != NULL &&
		    (b == NULL || strstr(line, b) != NULL);
	fclose(f);
	return found;
}

static int
wait_has(const char *path, const char *a, const char *b, int timeout_ms)
{
	uint64_t	end = tu_now_ms() + (uint64_t)timeout_ms;

	do {
		if (file_has(path, a, b))
			return 1;
		tu_sleep_ms(50);
	} while (tu_now_ms() < end);
	return 0;
}

/* free listen port and 4 relay ports */
static int
free_ports(uint16_t *port, uint16_t *lo)
{
	uint16_t	p;

	for (p = 20000 + (uint16_t)(getpid() % 20000); p < 60000; p += 7) {
		if (tu_port_free(p, 0) && tu_port_free(p + 1, 0) &&
		    tu_port_free(p + 2, 0) && tu_port_free(p + 3, 0) &&
		    tu_port_free(p + 4, 0)) {
			*port = p;
			*lo = p + 1;
			return 0;
		}
	}
	return -1;
}

static void
t_secret(void)
{
	char		dir[2][64], log[2][128], path[160], sec[2][256];
	uint16_t	port, lo;
	pid_t		pid;
	int		i, st;

	for (i = 0; i < 2; i++) {
		snprintf(dir[i], sizeof(dir[i]), "/tmp/turncell-seed.XXXXXX");
		sec[i][0] = '\0';
		if (mkdtemp(dir[i]) == NULL || free_ports(&port, &lo) == -1) {
			ok(0, "temp dir and ports");
			return;
		}
		(void)chmod(dir[i], 0755);
		pid = start_generated(dir[i], port, lo, log[i],
		    sizeof(log[i]));
		snprintf(path, sizeof(path), "%s/secret", dir[i]);
		ok(pid > 0 && read_line(path, sec[i], sizeof(sec[i]),
		    5000) == 0, "relay %d with --rng-seed " SEED
		    " wrote a generated secret", i + 1);
		ok(wait_has(log[i], "--rng-seed set", "WARN", 2000),
		    "relay %d: a WARN line names --rng-seed", i + 1);
		if (pid > 0) {
			tu_kill(pid, SIGKILL);
			(void)tu_waitpid(pid, &st, 2000);
		}
		unlink(path);
		unlink(log[i]);
		rmdir(dir[i]);
	}
	ok(sec[0][0] != '\0' && strcmp(sec[0], sec[1]) != 0,
	    "same seed, different secrets");
}

/* the NONCE of the 401 to a 28-byte ALLOCATE from fd; 0 or -1 */
static int
nonce_of(int fd, const struct taddr *to, char out[64], uint8_t tid)
{
	uint8_t		req[28] = { 0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xa4,
			    0x42 };
	uint8_t		buf[512];
	struct taddr	from;
	long		n;
	size_t		off = 20, alen;

	req[8] = tid;
	req[20] = 0x00; req[21] = 0x19; req[22] = 0x00; req[23] = 0x04;
	req[24] = 17;
	if (tu_sendto(fd, to, req, sizeof(req)) == -1 ||
	    (n = tu_recvfrom(fd, buf, sizeof(buf), 2000, &from)) < 20)
		return -1;
	while (off + 4 <= (size_t)n) {
		alen = (size_t)buf[off + 2] << 8 | buf[off + 3];
		if (off + 4 + alen > (size_t)n)
			return -1;
		if (buf[off] == 0x00 && buf[off + 1] == 0x15 && alen < 64) {
			memcpy(out, buf + off + 4, alen);
			out[alen] = '\0';
			return 0;
		}
		off += 4 + ((alen + 3) & ~(size_t)3);
	}
	return -1;
}

static void
t_nonce(void)
{
	struct tu_relay		r[2];
	struct tu_relay_opts	o;
	char			n1[64], n2[64];
	int			fd, i, same_ts = 0, differ = 0;

	memset(&o, 0, sizeof(o));
	o.extra[0] = "--rng-seed";
	o.extra[1] = SEED;
	if (tu_relay_start(&r[0], &o) == -1 || tu_relay_start(&r[1], &o) == -1) {
		ok(0, "two relays with --rng-seed " SEED);
		return;
	}
	fd = tu_udp_bind(ADDR_V4, 0);
	for (i = 0; i < 5 && !same_ts; i++) {
		if (nonce_of(fd, &r[0].addr4, n1, (uint8_t)(2 * i)) == -1 ||
		    nonce_of(fd, &r[1].addr4, n2, (uint8_t)(2 * i + 1)) == -1)
			continue;
		/* 8 hex of seconds, then the MAC under the nonce key */
		if (strncmp(n1, n2, 8) == 0) {
			same_ts = 1;
			differ = strcmp(n1 + 8, n2 + 8) != 0;
		}
	}
	ok(same_ts, "two nonces for one client in the same second");
	ok(differ, "same seed, same client, same second: different nonces");
	close(fd);
	tu_relay_stop(&r[0]);
	tu_relay_stop(&r[1]);
}

int
main(void)
{
	tu_init(40);
	if (access(tu_path("bin/turncell"), X_OK) == -1)
		skip_all("bin/turncell not built");
	t_secret();
	t_nonce();
	return done_testing();
}
