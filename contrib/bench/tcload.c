/*
 * tcload: a multi-allocation TURN load generator, to measure turncell and
 * coturn on the same load (contrib/bench/bench.py drives both).
 *
 *   tcload -s IP:PORT -u USER -p PASS -n N [-k K] [-P PID] [-c NPEERS]
 *          [-b IP] [-r IP] [-t] [PHASE ...]
 *   tcload -S		check the CPU measurement (tcload_proc.c) first
 *
 * It opens N UDP sockets on IP (127.0.0.1 unless -b; one per allocation)
 * and NPEERS echo peers on 127.0.0.2 (unless -r), then
 *  1. set-up: ALLOCATE on every socket, K transactions in flight, long-term
 *     credentials (the 401 supplies realm and nonce; the authenticated
 *     ALLOCATE is timed from its first transmission to its success);
 *  2. unless -t: a ChannelBind (channel 0x4000) from every allocation to
 *     its peer, K in flight;
 *  3. each PHASE, "paced:RATE:SIZE:SECONDS" (RATE packets/s in total,
 *     round robin over the allocations) or "sat:WINDOW:SIZE:SECONDS" (as
 *     fast as the relay answers, at most WINDOW packets outstanding):
 *     ChannelData of SIZE payload bytes, each stamped with phase, allocation
 *     and send time; the peers echo every datagram back to its sender, so
 *     it returns through the relay on the same channel;
 *  4. Refresh with LIFETIME 0 on every allocation.
 * With -P the server's process tree (PID and every descendant) is measured
 * around the set-up and each phase: CPU exactly (see tcload_proc.c), PSS
 * before and after the set-up. Each phase also reports the busy CPU of the
 * whole machine over the same interval (/proc/stat: what no process is
 * charged for, softirq work such as XDP, included; everything else running
 * on the machine too) and what the bench itself cost: the server's tree,
 * tcload and the kernel threads (bench_cpu_s; others_cpu_s is the rest of
 * the machine's busy time, the other work on a shared machine).
 *
 * A phase's loss is what did not come back within LOAD_DRAIN_MS after
 * sending stopped; tool_drops says how much of it the kernel dropped at
 * tcload's own sockets (their receive queues full: the tool fell behind).
 *
 * One line of key=value pairs per step on stdout. Every wait is bounded
 * (a phase lasts at most LOAD_MAX_SECONDS, a stage LOAD_STAGE_SECONDS).
 * The loop is one thread, epoll over every socket, recvmmsg/sendmmsg where
 * a socket has more than one datagram.
 */
#define _GNU_SOURCE		/* recvmmsg, sendmmsg */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcload.h"

#define LOAD_MAX_SECONDS	120	/* one phase at most */

uint64_t
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

void
load_die(const char *what)
{
	fprintf(stderr, "tcload: %s%s%s\n", what, errno ? ": " : "",
	    errno ? strerror(errno) : "");
	exit(1);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
hist_add(uint64_t *h, uint64_t us)
{
	unsigned b, i;

	if (us < HIST_LINEAR) {
		h[us]++;
		return;
	}
	b = 63u - (unsigned)__builtin_clzll(us);	/* >= 6 */
	i = HIST_LINEAR + (b - 6) * HIST_SUB +
	    (unsigned)((us >> (b - 5)) & (HIST_SUB - 1));
	h[i < HIST_BUCKETS ? i : HIST_BUCKETS - 1]++;
}

/* value (us, middle of its bucket) at quantile q */
static double
hist_q(const uint64_t *h, double q)
{
	uint64_t	total = 0, acc = 0, want;
	unsigned	i, b, sub;

	for (i = 0; i < HIST_BUCKETS; i++)
		total += h[i];
	if (total == 0)
		return -1;
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		acc += h[i];
		if (acc > want)
			break;
	}
	if (i < HIST_LINEAR)
		return i;
	b = (i - HIST_LINEAR) / HIST_SUB + 6;
	sub = (i - HIST_LINEAR) % HIST_SUB;
	return ((double)(HIST_SUB + sub) + 0.5) * (double)(1ull << (b - 5));
}

/* a non-blocking UDP socket bound to ip; its address and port are noted
 * (*addr, portmap) so that its receive-queue drops can be counted */
static int
udp_socket(const char *ip, int rcvbuf, uint32_t *addr, uint8_t *portmap)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	int			fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		load_die("socket (raise the open file limit?)");
	/* root may exceed net.core.rmem_max; others get what it allows */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		load_die("bad IPv4 address");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		load_die("bind");
	*addr = sin.sin_addr.s_addr;
	portmap[ntohs(sin.sin_port) / 8] |= 1u << (ntohs(sin.sin_port) % 8);
	return fd;
}

/* datagrams the kernel dropped at the tool's own sockets (full queues):
 * loss that is the tool's, not the relay's */
static uint64_t
tool_drops(struct load *L)
{
	uint64_t c = 0, p = 0;

	(void)proc_udp_drops(L->client_addr, L->client_ports, &c);
	(void)proc_udp_drops(L->peer_addr, L->peer_ports, &p);
	return c + p;
}

static void
ep_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		load_die("epoll_ctl");
}

/* the peers echo every datagram to its sender (the relayed address) */
static void
peer_echo(struct load *L, int p)
{
	struct mmsghdr		 mm[LOAD_BATCH];
	struct iovec		 iov[LOAD_BATCH];
	struct sockaddr_in	 from[LOAD_BATCH];
	static uint8_t		 bufs[LOAD_BATCH][2048];
	int			 i, n;

	do {
		for (i = 0; i < LOAD_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		if ((n = recvmmsg(L->peer_fd[p], mm, LOAD_BATCH, MSG_DONTWAIT,
		    NULL)) <= 0)
			return;
		for (i = 0; i < n; i++) {
			iov[i].iov_len = mm[i].msg_len;
			if (mm[i].msg_len >= LOAD_STAMP_LEN &&
			    buf_load32(bufs[i]) == L->phase_id)
				L->at_peer++;
		}
		(void)sendmmsg(L->peer_fd[p], mm, (unsigned)n, MSG_DONTWAIT);
	} while (n == LOAD_BATCH);
}

/* ChannelData coming back to allocation a: count and time it */
static void
client_recv(struct load *L, unsigned a, uint64_t now)
{
	struct mmsghdr	 mm[16];
	struct iovec	 iov[16];
	static uint8_t	 bufs[16][2048];
	int		 i, n;

	do {
		for (i = 0; i < 16; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		if ((n = recvmmsg(L->c[a].fd, mm, 16, MSG_DONTWAIT, NULL)) <= 0)
			return;
		for (i = 0; i < n; i++) {
			const uint8_t	*p = bufs[i] + CDATA_HDR_LEN;
			uint64_t	 sent;

			if (mm[i].msg_len < CDATA_HDR_LEN + LOAD_STAMP_LEN ||
			    (bufs[i][0] & 0xc0) != 0x40)
				continue;
			if (buf_load32(p) != L->phase_id ||
			    buf_load32(p + 4) != a) {
				L->stale++;
				continue;
			}
			sent = (uint64_t)buf_load32(p + 8) << 32 |
			    buf_load32(p + 12);
			L->delivered++;
			hist_add(L->hist, now > sent ? (now - sent) / 1000 : 0);
		}
	} while (n == 16);
}

static void
stamp(uint8_t *p, uint32_t phase, uint32_t a, uint64_t t)
{
	p[0] = phase >> 24; p[1] = phase >> 16; p[2] = phase >> 8; p[3] = phase;
	p[4] = a >> 24; p[5] = a >> 16; p[6] = a >> 8; p[7] = a;
	for (int i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(t >> (56 - 8 * i));
}

/* cnt stamped copies of the packet template to allocation a; returns how
 * many the socket took */
static int
send_batch(struct load *L, unsigned a, const uint8_t *tmpl, size_t len,
    unsigned cnt)
{
	static uint8_t	 bufs[LOAD_BATCH][CDATA_HDR_LEN + LOAD_STAMP_LEN];
	struct mmsghdr	 mm[LOAD_BATCH];
	struct iovec	 iov[LOAD_BATCH][2];
	uint64_t	 now = now_ns();
	unsigned	 i;

	/* each message: its own header and stamp, then the shared filler */
	for (i = 0; i < cnt; i++) {
		memcpy(bufs[i], tmpl, CDATA_HDR_LEN);
		stamp(bufs[i] + CDATA_HDR_LEN, L->phase_id, a, now);
		iov[i][0].iov_base = bufs[i];
		iov[i][0].iov_len = sizeof(bufs[i]);
		iov[i][1].iov_base = (void *)(tmpl + sizeof(bufs[i]));
		iov[i][1].iov_len = len - sizeof(bufs[i]);
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = iov[i];
		mm[i].msg_hdr.msg_iovlen = 2;
	}
	if (cnt == 1)
		return sendmsg(L->c[a].fd, &mm[0].msg_hdr, MSG_DONTWAIT) ==
		    -1 ? -1 : 1;
	return sendmmsg(L->c[a].fd, mm, cnt, MSG_DONTWAIT);
}

static void
pump(struct load *L, int timeout_ms)
{
	struct epoll_event	ev[LOAD_EVENTS];
	uint64_t		now;
	int			ne, j;

	if ((ne = epoll_wait(L->ep, ev, LOAD_EVENTS, timeout_ms)) == -1 &&
	    errno != EINTR)
		load_die("epoll_wait");
	now = now_ns();
	for (j = 0; j < ne; j++) {
		if (ev[j].data.u32 >= L->n)
			peer_echo(L, (int)(ev[j].data.u32 - L->n));
		else
			client_recv(L, ev[j].data.u32, now);
	}
}

static int
cpu_read(struct load *L, uint64_t *ns, unsigned *procs)
{
	*ns = 0;
	*procs = 0;
	return L->pid > 0 ? proc_tree_cpu(L->pid, ns, procs) : -1;
}

static void
run_phase(struct load *L, const struct phase *ph)
{
	static uint8_t	 pkt[CDATA_HDR_LEN + 65535];
	uint64_t	 t0, t_end, now, sent = 0, written_off = 0, last_rx;
	uint64_t	 cpu0, cpu1, self0, self1, got, rx_before, t_stop;
	uint64_t	 drops0, drops1, mach0, mach1, kth0, kth1;
	unsigned	 next = 0, procs, i, active = 0;
	size_t		 len = CDATA_HDR_LEN + ph->size;
	double		 secs, server_s, mach_s, kth_s, bench_s;

	for (i = 0; i < L->n; i++)
		active += L->c[i].state == LC_DONE;
	if (active != L->n)
		load_die("a phase needs every allocation bound");
	L->phase_id++;
	L->at_peer = L->delivered = L->stale = 0;
	memset(L->hist, 0, sizeof(L->hist));
	memset(pkt + CDATA_HDR_LEN, 0x5a, ph->size);
	cdata_put_hdr(pkt, LOAD_CHANNEL, ph->size);
	drops0 = tool_drops(L);
	(void)proc_kthreads_cpu(&kth0);
	cpu_read(L, &cpu0, &procs);
	(void)proc_machine_cpu(&mach0);
	self0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = last_rx = now_ns();
	t_end = t0 + (uint64_t)(ph->seconds * 1e9);
	while ((now = now_ns()) < t_end) {
		uint64_t owed;

		if (ph->sat) {
			if (now - last_rx > LOAD_STALL_MS * 1000000ull) {
				written_off = sent - L->delivered;
				last_rx = now;
			}
			got = L->delivered + written_off;
			owed = ph->arg > sent - got ? ph->arg - (sent - got) :
			    0;
		} else {
			uint64_t target = (uint64_t)((double)(now - t0) *
			    ph->arg / 1e9);

			owed = target > sent ? target - sent : 0;
			if (owed > 4096)
				owed = 4096;
		}
		while (owed > 0) {
			/* round robin; with fewer allocations than packets
			 * owed, each gets its share in one sendmmsg */
			unsigned cnt = owed >= L->n ? (unsigned)(owed / L->n) : 1;
			int	 m;

			if (cnt > LOAD_BATCH)
				cnt = LOAD_BATCH;
			if ((m = send_batch(L, next, pkt, len, cnt)) <= 0)
				break;
			sent += (unsigned)m;
			owed -= (unsigned)m;
			if ((unsigned)m < cnt)
				break;
			if (++next == L->n)
				next = 0;
		}
		rx_before = L->delivered;
		pump(L, 1);
		if (L->delivered != rx_before)
			last_rx = now_ns();
	}
	/* stragglers: bounded wait for what is still in flight */
	t_stop = now_ns();
	t_end = t_stop + LOAD_DRAIN_MS * 1000000ull;
	while (L->delivered < sent && now_ns() < t_end)
		pump(L, 5);
	cpu_read(L, &cpu1, &procs);
	(void)proc_machine_cpu(&mach1);
	(void)proc_kthreads_cpu(&kth1);
	self1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	drops1 = tool_drops(L);
	secs = (double)(now_ns() - t0) / 1e9;
	server_s = (double)(cpu1 - cpu0) / 1e9;
	mach_s = mach1 > mach0 ? (double)(mach1 - mach0) / 1e9 : 0;
	kth_s = kth1 > kth0 ? (double)(kth1 - kth0) / 1e9 : 0;
	/* what the bench itself cost: the server, tcload (the softirq work
	 * of its sends and receives included, it runs in its context) and
	 * the kernel threads */
	bench_s = server_s + (double)(self1 - self0) / 1e9 + kth_s;
	printf("phase mode=%s arg=%u size=%u allocs=%u seconds=%.3f "
	    "send_seconds=%.3f sent=%llu "
	    "at_peer=%llu delivered=%llu stale=%llu loss_pct=%.3f "
	    "rtt_p50_us=%.0f rtt_p99_us=%.0f relayed=%llu server_cpu_s=%.4f "
	    "pkts_per_cpu_s=%.0f tool_cpu_s=%.4f tool_drops=%llu "
	    "server_procs=%u machine_cpu_s=%.2f pkts_per_machine_cpu_s=%.0f "
	    "kthreads_cpu_s=%.2f bench_cpu_s=%.2f pkts_per_bench_cpu_s=%.0f "
	    "others_cpu_s=%.2f\n",
	    ph->sat ? "sat" : "paced", ph->arg, ph->size, L->n, secs,
	    (double)(t_stop - t0) / 1e9,
	    (unsigned long long)sent, (unsigned long long)L->at_peer,
	    (unsigned long long)L->delivered, (unsigned long long)L->stale,
	    sent ? 100.0 * (double)(sent - (L->delivered < sent ?
	    L->delivered : sent)) / (double)sent : 0.0,
	    hist_q(L->hist, 0.50), hist_q(L->hist, 0.99),
	    (unsigned long long)(L->at_peer + L->delivered),
	    L->pid > 0 ? server_s : -1.0,
	    L->pid > 0 && server_s > 0 ? (double)(L->at_peer + L->delivered) /
	    server_s : -1.0, (double)(self1 - self0) / 1e9,
	    (unsigned long long)(drops1 - drops0), procs, mach_s,
	    mach_s > 0 ? (double)(L->at_peer + L->delivered) / mach_s : -1.0,
	    kth_s, bench_s, L->pid > 0 && bench_s > 0 ?
	    (double)(L->at_peer + L->delivered) / bench_s : -1.0,
	    mach_s - bench_s);
	fflush(stdout);
}

static int
parse_phase(const char *s, struct phase *ph)
{
	char	mode[8];

	memset(ph, 0, sizeof(*ph));
	if (sscanf(s, "%7[a-z]:%u:%u:%lf", mode, &ph->arg, &ph->size,
	    &ph->seconds) != 4)
		return -1;
	if (strcmp(mode, "sat") == 0)
		ph->sat = 1;
	else if (strcmp(mode, "paced") != 0)
		return -1;
	if (ph->arg == 0 || ph->size < LOAD_STAMP_LEN || ph->size > 1400 ||
	    ph->seconds <= 0 || ph->seconds > LOAD_MAX_SECONDS)
		return -1;
	return 0;
}

static void
raise_nofile(unsigned need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		load_die("getrlimit");
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		load_die("cannot raise the open file limit");
}

static void
usage(void)
{
	fprintf(stderr, "usage: tcload -s IP:PORT -u USER -p PASS -n N [-k K] "
	    "[-P PID] [-c NPEERS] [-b IP] [-r IP] [-t]\n"
	    "              [paced:RATE:SIZE:SECONDS | sat:WINDOW:SIZE:SECONDS]"
	    " ...\n"
	    "       tcload -S\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct load	 L;
	struct phase	 ph[LOAD_MAX_PHASES];
	uint64_t	 el, cpu0, cpu1, pss0 = 0, pss1 = 0, self0;
	unsigned	 nph = 0, i, ok, procs0 = 0, procs1 = 0;
	int		 ch, setup_only = 0, crb;

	memset(&L, 0, sizeof(L));
	L.k = 64;
	L.npeers = 4;
	L.client_ip = "127.0.0.1";
	L.peer_ip = "127.0.0.2";
	while ((ch = getopt(argc, argv, "s:u:p:n:k:P:c:b:r:tS")) != -1) {
		switch (ch) {
		case 's':
			if (addr_parse_hostport(optarg, &L.server) == -1 ||
			    L.server.family != ADDR_V4)
				usage();
			break;
		case 'u': L.user = optarg; break;
		case 'p': L.pass = optarg; break;
		case 'n': L.n = (unsigned)atoi(optarg); break;
		case 'k': L.k = (unsigned)atoi(optarg); break;
		case 'P': L.pid = (pid_t)atoi(optarg); break;
		case 'c': L.npeers = (unsigned)atoi(optarg); break;
		case 'b': L.client_ip = optarg; break;
		case 'r': L.peer_ip = optarg; break;
		case 't': setup_only = 1; break;
		case 'S': return proc_selftest() == 0 ? 0 : 1;
		default: usage();
		}
	}
	for (; optind < argc; optind++)
		if (nph == LOAD_MAX_PHASES || parse_phase(argv[optind],
		    &ph[nph++]) == -1)
			usage();
	if (L.user == NULL || L.pass == NULL || L.server.port == 0 ||
	    L.n == 0 || L.n > 100000 || L.k == 0 || L.npeers == 0 ||
	    L.npeers > LOAD_MAX_PEERS || (setup_only && nph > 0))
		usage();
	srandom((unsigned)now_ns());
	raise_nofile(L.n + L.npeers + 64);
	if ((L.c = calloc(L.n, sizeof(*L.c))) == NULL ||
	    (L.slots = calloc(L.k, sizeof(*L.slots))) == NULL ||
	    (L.lat = calloc(L.n, sizeof(*L.lat))) == NULL)
		load_die("calloc");
	if ((L.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		load_die("epoll_create1");
	for (i = 0; i < L.npeers; i++) {
		struct sockaddr_in	sin;
		socklen_t		sl = sizeof(sin);

		L.peer_fd[i] = udp_socket(L.peer_ip, 8 << 20, &L.peer_addr,
		    L.peer_ports);
		if (getsockname(L.peer_fd[i], (struct sockaddr *)&sin,
		    &sl) == -1)
			load_die("getsockname");
		addr_from_sockaddr((struct sockaddr *)&sin, sl, &L.peer[i]);
		ep_add(L.ep, L.peer_fd[i], L.n + i);
	}
	/* room for bursts: 64 MiB of receive queues in all, 256 KiB to
	 * 8 MiB per socket (a limit: memory is used only when it fills) */
	crb = (int)((64u << 20) / L.n);
	crb = crb < (256 << 10) ? 256 << 10 : crb > (8 << 20) ? 8 << 20 : crb;
	for (i = 0; i < L.n; i++) {
		struct sockaddr_storage	ss;
		size_t			sl = addr_to_sockaddr(&L.server, &ss);

		L.c[i].fd = udp_socket(L.client_ip, crb, &L.client_addr,
		    L.client_ports);
		L.c[i].slot = -1;
		if (connect(L.c[i].fd, (struct sockaddr *)&ss,
		    (socklen_t)sl) == -1)
			load_die("connect");
		ep_add(L.ep, L.c[i].fd, i);
	}

	if (L.pid > 0)
		(void)proc_tree_pss(L.pid, &pss0, &procs0);
	cpu_read(&L, &cpu0, &procs0);
	self0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	ok = stage_run(&L, ST_ALLOCATE, &el);
	cpu_read(&L, &cpu1, &procs1);
	qsort(L.lat, L.nlat, sizeof(*L.lat), cmp_u32);
	printf("setup allocs=%u k=%u ok=%u failed=%u seconds=%.3f "
	    "allocs_per_s=%.0f alloc_p50_us=%u alloc_p99_us=%u retrans=%u "
	    "err_3xx=%u err_4xx=%u err_5xx=%u err_6xx=%u err_other=%u "
	    "last_error=%d server_cpu_s=%.4f tool_cpu_s=%.4f",
	    L.n, L.k, ok, L.n - ok, (double)el / 1e9,
	    el ? (double)ok * 1e9 / (double)el : 0.0,
	    L.nlat ? L.lat[L.nlat / 2] : 0,
	    L.nlat ? L.lat[(size_t)L.nlat * 99 / 100] : 0, L.retrans,
	    L.errors[0], L.errors[1], L.errors[2], L.errors[3], L.errors[4],
	    L.last_error, L.pid > 0 ? (double)(cpu1 - cpu0) / 1e9 : -1.0,
	    (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - self0) / 1e9);
	if (L.pid > 0 && proc_tree_pss(L.pid, &pss1, &procs1) == 0)
		printf(" pss_before_kib=%llu pss_after_kib=%llu "
		    "pss_per_alloc_kib=%.1f server_procs=%u",
		    (unsigned long long)pss0, (unsigned long long)pss1,
		    ok ? ((double)pss1 - (double)pss0) / ok : 0.0, procs1);
	printf("\n");
	fflush(stdout);
	free(L.lat);
	L.lat = NULL;

	if (!setup_only && ok == L.n) {
		memset(L.errors, 0, sizeof(L.errors));
		L.retrans = 0;
		ok = stage_run(&L, ST_BIND, &el);
		printf("bind ok=%u failed=%u seconds=%.3f retrans=%u "
		    "last_error=%d\n", ok, L.n - ok, (double)el / 1e9,
		    L.retrans, L.last_error);
		fflush(stdout);
		if (ok == L.n)
			for (i = 0; i < nph; i++)
				run_phase(&L, &ph[i]);
	}
	/* every allocation that exists is freed, whatever happened above */
	for (i = 0; i < L.n; i++)
		L.c[i].state = L.c[i].allocated ? LC_DONE : LC_IDLE;
	memset(L.errors, 0, sizeof(L.errors));
	ok = stage_run(&L, ST_FREE, &el);
	printf("free ok=%u seconds=%.3f\n", ok, (double)el / 1e9);
	return 0;
}
