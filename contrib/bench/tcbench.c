/*
 * tcbench: a TURN load client for side-by-side measurements (turncell vs
 * coturn on the same load, same machine, same run). It speaks to a relay
 * on loopback only.
 *
 *   tcbench alloc  SERVER USER PASS N           allocation set-up latency
 *   tcbench relay  SERVER USER PASS N SIZE PID   relayed packets + relay CPU
 *   tcbench hold   SERVER USER PASS SECONDS      keep one allocation open
 *
 * SERVER is ip:port on loopback; PID is the relay's process id whose CPU
 * time (and that of its children, which for turncell are the workers) is
 * sampled from /proc before and after.
 * Output is one "key=value" line per measurement, for run.sh to compare.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "stun.h"

#define BENCH_MAX_SECONDS	30
#define BENCH_BATCH		32

struct bench_client {
	int		 fd;
	struct taddr	 server;
	const char	*user;
	const char	*pass;
	uint8_t		 key[16];
	char		 nonce[800];
	size_t		 nonce_len;
	struct taddr	 relayed;
};

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
die(const char *what)
{
	fprintf(stderr, "tcbench: %s\n", what);
	exit(1);
}

static int
udp_socket(void)
{
	struct sockaddr_in	sin;
	int			fd, sz = 4 << 20;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind");
	return fd;
}

static ssize_t
recv_wait(int fd, uint8_t *buf, size_t cap, int ms, struct taddr *from)
{
	struct pollfd		pfd = { .fd = fd, .events = POLLIN };
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);
	ssize_t			n;

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&ss, &sl);
	if (n >= 0 && from != NULL)
		addr_from_sockaddr((struct sockaddr *)&ss, sl, from);
	return n;
}

static void
send_to(int fd, const struct taddr *to, const void *p, size_t len)
{
	struct sockaddr_storage	ss;
	size_t			sl = addr_to_sockaddr(to, &ss);

	(void)sendto(fd, p, len, 0, (struct sockaddr *)&ss, (socklen_t)sl);
}

/* first attribute of a type in a response: value pointer and length */
static const uint8_t *
find_attr(const uint8_t *m, size_t n, uint16_t type, size_t *len)
{
	size_t	off = STUN_HDR_LEN;

	while (off + 4 <= n) {
		uint16_t t = buf_load16(m + off), l = buf_load16(m + off + 2);

		if (off + 4 + l > n)
			return NULL;
		if (t == type) {
			*len = l;
			return m + off + 4;
		}
		off += 4 + ((l + 3u) & ~3u);
	}
	return NULL;
}

static void
rand_tid(uint8_t tid[STUN_TID_LEN])
{
	for (int i = 0; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)random();
}

/* one authenticated (or not, before the first 401) request; returns the
 * response class and fills buf */
static int
transact(struct bench_client *c, uint16_t method, uint32_t lifetime,
    uint16_t chan, const struct taddr *peer, uint8_t *buf, ssize_t *rlen,
    uint64_t *rtt_us)
{
	uint8_t		 req[STUN_MAX_MSG], tid[STUN_TID_LEN];
	struct stun_enc	 e;
	uint8_t		 transport[4] = { 17, 0, 0, 0 }, chn[4];
	long		 n;
	uint64_t	 t0;
	int		 tries;

	for (tries = 0; tries < 5; tries++) {
		rand_tid(tid);
		stun_enc_init(&e, req, sizeof(req), method, STUN_REQUEST, tid);
		if (method == STUN_ALLOCATE)
			stun_put_attr(&e, STUN_A_REQUESTED_TRANSPORT, transport, 4);
		if (method == STUN_CHANNEL_BIND) {
			chn[0] = chan >> 8; chn[1] = chan & 0xff; chn[2] = chn[3] = 0;
			stun_put_attr(&e, STUN_A_CHANNEL_NUMBER, chn, 4);
			stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, peer);
		}
		if (method == STUN_REFRESH || method == STUN_ALLOCATE)
			stun_put_u32(&e, STUN_A_LIFETIME, lifetime);
		if (c->nonce_len > 0) {
			stun_put_attr(&e, STUN_A_USERNAME, c->user, strlen(c->user));
			stun_put_attr(&e, STUN_A_REALM, "firezone", 8);
			stun_put_attr(&e, STUN_A_NONCE, c->nonce, c->nonce_len);
			stun_put_mi(&e, c->key);
		}
		if ((n = stun_enc_finish(&e)) < 0)
			die("encode");
		t0 = now_us();
		send_to(c->fd, &c->server, req, (size_t)n);
		for (;;) {
			*rlen = recv_wait(c->fd, buf, 2048, 2000, NULL);
			if (*rlen < STUN_HDR_LEN)
				die("no response from relay");
			if (memcmp(buf + 8, tid, STUN_TID_LEN) == 0)
				break;
		}
		if (rtt_us != NULL)
			*rtt_us = now_us() - t0;
		if ((buf[0] & 0x01) == 0x01) {	/* error class */
			size_t		 l;
			const uint8_t	*v = find_attr(buf, (size_t)*rlen,
			    STUN_A_NONCE, &l);
			const uint8_t	*ec = find_attr(buf, (size_t)*rlen,
			    STUN_A_ERROR_CODE, &l);
			int		 code = ec ? ec[2] * 100 + ec[3] : 0;

			if ((code == 401 || code == 438) && v != NULL &&
			    (v = find_attr(buf, (size_t)*rlen, STUN_A_NONCE, &l)) &&
			    l < sizeof(c->nonce)) {
				memcpy(c->nonce, v, l);
				c->nonce_len = l;
				continue;
			}
			return code;
		}
		return 0;
	}
	return -1;
}

static int
allocate(struct bench_client *c, uint64_t *rtt)
{
	uint8_t		 buf[2048];
	ssize_t		 n;
	size_t		 l;
	const uint8_t	*v;
	int		 code;

	if ((code = transact(c, STUN_ALLOCATE, 600, 0, NULL, buf, &n, rtt)) != 0)
		return code;
	if ((v = find_attr(buf, (size_t)n, STUN_A_XOR_RELAYED_ADDRESS, &l)) ==
	    NULL || l != 8)
		die("no IPv4 XOR-RELAYED-ADDRESS");
	c->relayed.family = ADDR_V4;
	c->relayed.port = buf_load16(v + 2) ^ (STUN_MAGIC >> 16);
	for (int i = 0; i < 4; i++)
		c->relayed.ip[i] = v[4 + i] ^ (uint8_t)(STUN_MAGIC >> (24 - 8 * i));
	return 0;
}

static void
client_init(struct bench_client *c, const char *server, const char *user,
    const char *pass)
{
	memset(c, 0, sizeof(*c));
	if (addr_parse_hostport(server, &c->server) == -1)
		die("bad server address");
	c->fd = udp_socket();
	c->user = user;
	c->pass = pass;
	stun_lt_key((const uint8_t *)user, strlen(user), "firezone", pass,
	    strlen(pass), c->key);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
bench_alloc(const char *server, const char *user, const char *pass, int n)
{
	uint64_t	*lat = calloc((size_t)n, sizeof(*lat));
	uint8_t		 buf[2048];
	ssize_t		 rl;
	int		 i, done = 0, code;
	uint64_t	 deadline = now_us() + BENCH_MAX_SECONDS * 1000000ull;

	if (lat == NULL)
		die("calloc");
	for (i = 0; i < n && now_us() < deadline; i++) {
		struct bench_client c;

		client_init(&c, server, user, pass);
		/* the 401 round trip fetches the nonce; only the
		 * authenticated ALLOCATE is timed (transact keeps the
		 * last attempt's round trip) */
		if ((code = allocate(&c, &lat[done])) != 0) {
			fprintf(stderr, "tcbench: allocation %d failed: error %d\n",
			    i, code);
			close(c.fd);
			break;
		}
		done++;
		(void)transact(&c, STUN_REFRESH, 0, 0, NULL, buf, &rl, NULL);
		close(c.fd);
	}
	if (done == 0)
		die("no allocation succeeded");
	qsort(lat, (size_t)done, sizeof(*lat), cmp_u64);
	printf("allocations=%d alloc_p50_us=%llu alloc_p99_us=%llu\n", done,
	    (unsigned long long)lat[done / 2],
	    (unsigned long long)lat[(done * 99) / 100 >= done ? done - 1 :
	    (done * 99) / 100]);
	free(lat);
	return 0;
}

/* utime+stime (clock ticks) of pid and all its live descendants */
static unsigned long long
tree_cpu(pid_t root)
{
	DIR			*d = opendir("/proc");
	struct dirent		*de;
	unsigned long long	 total = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char		 path[64], line[1024], *p;
		FILE		*f;
		int		 ppid;
		pid_t		 pid = (pid_t)atoi(de->d_name);
		unsigned long	 ut, st;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) == NULL ||
		    (p = strrchr(line, ')')) == NULL) {
			fclose(f);
			continue;
		}
		fclose(f);
		/* after ") ": state ppid pgrp session tty tpgid flags minflt
		 * cminflt majflt cmajflt utime stime */
		if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		    &ppid, &ut, &st) != 3)
			continue;
		if (pid == root || ppid == root)
			total += ut + st;
	}
	closedir(d);
	return total;
}

static int
bench_relay(const char *server, const char *user, const char *pass, int n,
    int size, pid_t pid)
{
	struct bench_client	 c;
	struct taddr		 peer, from;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	uint8_t			 buf[2048], pkt[2048];
	ssize_t			 rl;
	int			 pfd, sent = 0, at_peer = 0, back = 0, code;
	unsigned long long	 cpu0, cpu1;
	uint64_t		 t0, deadline;
	long			 hz = sysconf(_SC_CLK_TCK);

	if (size < 4 || size > 1200)
		die("size must be 4..1200");
	client_init(&c, server, user, pass);
	if ((code = allocate(&c, NULL)) != 0) {
		fprintf(stderr, "tcbench: allocate: error %d\n", code);
		return 1;
	}
	pfd = udp_socket();
	sl = sizeof(ss);
	getsockname(pfd, (struct sockaddr *)&ss, &sl);
	addr_from_sockaddr((struct sockaddr *)&ss, sl, &peer);
	if ((code = transact(&c, STUN_CHANNEL_BIND, 0, 0x4000, &peer, buf, &rl,
	    NULL)) != 0) {
		fprintf(stderr, "tcbench: channel bind: error %d\n", code);
		return 1;
	}
	memset(pkt, 0x5a, sizeof(pkt));
	cdata_put_hdr(pkt, 0x4000, (size_t)size);
	cpu0 = tree_cpu(pid);
	t0 = now_us();
	deadline = t0 + BENCH_MAX_SECONDS * 1000000ull;
	while (sent < n && now_us() < deadline) {
		int burst = n - sent < BENCH_BATCH ? n - sent : BENCH_BATCH, i;

		for (i = 0; i < burst; i++)
			send_to(c.fd, &c.server, pkt, CDATA_HDR_LEN + (size_t)size);
		sent += burst;
		/* the peer echoes what arrives; the client counts echoes */
		while ((rl = recv_wait(pfd, buf, sizeof(buf), at_peer < sent ?
		    20 : 0, &from)) > 0) {
			at_peer++;
			send_to(pfd, &from, buf, (size_t)rl);
		}
		while ((rl = recv_wait(c.fd, buf, sizeof(buf), 0, NULL)) > 0)
			back++;
	}
	while ((rl = recv_wait(c.fd, buf, sizeof(buf), 100, NULL)) > 0)
		back++;
	cpu1 = tree_cpu(pid);
	printf("sent=%d at_peer=%d echoed=%d seconds=%.3f relay_cpu_ms=%llu "
	    "cpu_us_per_pkt=%.3f\n", sent, at_peer, back,
	    (double)(now_us() - t0) / 1e6, (cpu1 - cpu0) * 1000 / (unsigned long long)hz,
	    (at_peer + back) ? (double)(cpu1 - cpu0) * 1e6 / (double)hz /
	    (double)(at_peer + back) : 0.0);
	(void)transact(&c, STUN_REFRESH, 0, 0, NULL, buf, &rl, NULL);
	return 0;
}

/* allocate, print the relayed port, keep the allocation for secs, free it */
static int
bench_hold(const char *server, const char *user, const char *pass, int secs)
{
	struct bench_client	c;
	uint8_t			buf[2048];
	ssize_t			rl;
	int			code;

	client_init(&c, server, user, pass);
	if ((code = allocate(&c, NULL)) != 0) {
		fprintf(stderr, "tcbench: allocate: error %d\n", code);
		return 1;
	}
	printf("relayed_port=%u\n", c.relayed.port);
	fflush(stdout);
	sleep((unsigned)(secs > 0 && secs < BENCH_MAX_SECONDS ? secs : 1));
	(void)transact(&c, STUN_REFRESH, 0, 0, NULL, buf, &rl, NULL);
	return 0;
}

int
main(int argc, char *argv[])
{
	srandom((unsigned)now_us());
	if (argc == 6 && strcmp(argv[1], "alloc") == 0)
		return bench_alloc(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 8 && strcmp(argv[1], "relay") == 0)
		return bench_relay(argv[2], argv[3], argv[4], atoi(argv[5]),
		    atoi(argv[6]), (pid_t)atoi(argv[7]));
	if (argc == 6 && strcmp(argv[1], "hold") == 0)
		return bench_hold(argv[2], argv[3], argv[4], atoi(argv[5]));
	fprintf(stderr, "usage: tcbench alloc SERVER USER PASS N\n"
	    "       tcbench relay SERVER USER PASS N SIZE PID\n"
	    "       tcbench hold  SERVER USER PASS SECONDS\n");
	return 2;
}
