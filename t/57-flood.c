/*
 * 57-flood: unauthenticated and garbage floods against the real
 * bin/turncell on loopback (attack cases 12, 40, 41, 42).
 *
 * (a) FLOOD_N unauthenticated ALLOCATEs from one source socket (a child
 *     process, bounded by count and FLOOD_MS): no worker is ever started
 *     (children of the supervisor polled during the flood, and the
 *     workers-started counter of /metrics), the 401s received are capped
 *     by --unauth-rate per source IP per second, RSS and fds flat;
 * (b) meanwhile and after, a client from 127.0.0.2 still gets 401, then
 *     an allocation, and relays;
 * (c) FLOOD_N datagrams of random bytes, truncated STUN headers and STUN
 *     with a garbage MESSAGE-INTEGRITY: the supervisor stays up, Binding
 *     from 127.0.0.2 is answered during and after, no worker;
 * (d) the figures: packets sent and answered, the response/request byte
 *     ratio of Binding and of the 401, RSS and fd counts.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define RATE		50	/* --unauth-rate (its default) */
#define RATE_S		"50"
#define FLOOD_N		20000
#define FLOOD_MS	5000
/*
 * The flood is paced at FLOOD_PPS (attack case 41's 10k per second
 * from one source): unpaced, loopback sends 20 000 datagrams in a few
 * tens of ms,
 * nearly all of them dropped by the kernel in front of the supervisor,
 * and the whole flood falls into one or two of the cap's one-second
 * windows. Paced, it spans about two seconds (three windows) and the
 * supervisor really has to answer or suppress each datagram.
 */
#define FLOOD_PPS	10000	/* TU_FLOOD_PPS=0: unpaced */
#define BATCH		50
#define DRAIN_MS	300	/* responses still in flight after the flood */
/*
 * The unauthenticated path keeps no per-source state (a fixed table of
 * rate slots allocated at start-up, stateless nonces), so RSS should
 * not move at all; 2 MiB covers first-touch faults of code and of the
 * fixed tables, while a per-packet leak of even 100 bytes over 20 000
 * packets would exceed it.
 */
#define RSS_SLACK_KB	2048
#define CHAN		0x4000

enum { FLOOD_ALLOC, FLOOD_GARBAGE };

struct flood_res {
	long		sent;
	long		send_err;
	long		recv;		/* datagrams back */
	long		recv_bytes;
	long		recv_401;
	long		recv_438;
	long		recv_400;
	long		recv_other;
	long		kinds[3];	/* garbage: random, truncated, bad MI */
	uint64_t	send_ms;	/* first send to last send */
	uint64_t	span_ms;	/* first send to last response */
};

static struct tu_relay	relay;
static uint16_t		hport;
static char		body[TP_BODY_MAX];
static long		flood_pps = FLOOD_PPS;

/* value of the sample named exactly `series` (with labels); -1 if none */
static long long
metric(const char *series)
{
	const char	*p = body;
	size_t		 n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
		p += n;
	}
	return 0;	/* a counter never incremented is not listed */
}

static int
scrape(void)
{
	return tp_http(hport, "GET", "/metrics", NULL, 0, body, sizeof(body),
	    2000) == 200 ? 0 : -1;
}

static long long
m_started(void)
{
	if (scrape() == -1)
		return -1;
	return metric("turncell_workers_started_total");
}

static long long
m_alloc_401(void)
{
	if (scrape() == -1)
		return -1;
	return metric("turncell_responses_total{method=\"allocate\","
	    "class=\"error\",code=\"401\"}");
}

/* the response counters and drops of the last scrape, as diagnostics */
static void
diag_metrics(void)
{
	char	*p, *e;
	int	 i;

	for (p = body, i = 0; *p != '\0' && i < 1000; p = e, i++) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (*p != '#' && (strncmp(p, "turncell_responses_total", 24) ==
		    0 || strncmp(p, "turncell_send_errors", 20) == 0))
			diag("  %.*s", (int)(e - p), p);
		if (*e == '\n')
			e++;
	}
}

/*
 * The flood side (runs in a child process: no TAP output, _exit only)
 */

static size_t
pkt_alloc(uint8_t *out, size_t cap)
{
	struct stun_enc	e;
	uint8_t		tid[STUN_TID_LEN], v[4] = { 17, 0, 0, 0 };
	long		n;

	tu_fill(tid, sizeof(tid));
	stun_enc_init(&e, out, cap, STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_put_attr(&e, STUN_A_REQUESTED_TRANSPORT, v, 4);
	n = stun_enc_finish(&e);
	return n > 0 ? (size_t)n : 0;
}

/* ALLOCATE with plausible USERNAME/REALM, a garbage NONCE and MI */
static size_t
pkt_bad_mi(uint8_t *out, size_t cap)
{
	struct stun_enc	e;
	uint8_t		tid[STUN_TID_LEN], v[4] = { 17, 0, 0, 0 };
	uint8_t		nonce[32], key[16];
	char		user[64];
	long		n;

	tu_fill(tid, sizeof(tid));
	tu_fill(nonce, sizeof(nonce));
	tu_fill(key, sizeof(key));
	snprintf(user, sizeof(user), "%lu:%08x", 2000000000UL + tu_rand() %
	    100000, tu_rand());
	stun_enc_init(&e, out, cap, STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_put_attr(&e, STUN_A_REQUESTED_TRANSPORT, v, 4);
	stun_put_attr(&e, STUN_A_USERNAME, user, strlen(user));
	stun_put_attr(&e, STUN_A_REALM, AUTH_REALM, strlen(AUTH_REALM));
	stun_put_attr(&e, STUN_A_NONCE, nonce, sizeof(nonce));
	stun_put_mi(&e, key);		/* a random key: garbage MI */
	n = stun_enc_finish(&e);
	return n > 0 ? (size_t)n : 0;
}

static size_t
pkt_garbage(uint8_t *out, size_t cap, long i, struct flood_res *r)
{
	size_t	n;

	switch (i % 3) {
	case 0:		/* random bytes, 1..200 */
		n = 1 + tu_rand() % 200;
		tu_fill(out, n);
		break;
	case 1:		/* a STUN header cut short: 1..19 bytes */
		n = pkt_alloc(out, cap);
		n = 1 + tu_rand() % (STUN_HDR_LEN - 1);
		break;
	default:
		n = pkt_bad_mi(out, cap);
		break;
	}
	r->kinds[i % 3]++;
	return n;
}

static void
classify(const uint8_t *p, size_t n, struct flood_res *r)
{
	struct stun_msg	m;
	int		code;

	r->recv++;
	r->recv_bytes += (long)n;
	if (stun_decode(p, n, &m, &code) != STUN_OK || m.cls != STUN_ERROR ||
	    !(m.has & STUN_HAS_ERROR)) {
		r->recv_other++;
		return;
	}
	if (m.error_code == STUN_ERR_UNAUTHORIZED)
		r->recv_401++;
	else if (m.error_code == STUN_ERR_STALE_NONCE)
		r->recv_438++;
	else if (m.error_code == STUN_ERR_BAD_REQUEST)
		r->recv_400++;
	else
		r->recv_other++;
}

static void
drain(int fd, struct flood_res *r, uint64_t t0, int wait_ms)
{
	uint8_t		in[2048];
	struct pollfd	pfd;
	ssize_t		n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, wait_ms) <= 0)
			return;
		while ((n = recv(fd, in, sizeof(in), MSG_DONTWAIT)) >= 0) {
			classify(in, (size_t)n, r);
			r->span_ms = tu_now_ms() - t0;
		}
		if (wait_ms == 0)
			return;
	}
}

static void
flood_run(int kind, struct flood_res *r)
{
	uint8_t		out[512];
	uint64_t	t0, due, now;
	size_t		n;
	int		fd, k, big = 1 << 20;

	memset(r, 0, sizeof(*r));
	if ((fd = tu_udp_bind(ADDR_V4, 0)) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	t0 = tu_now_ms();
	while (r->sent + r->send_err < FLOOD_N &&
	    (now = tu_now_ms()) < t0 + FLOOD_MS) {
		for (k = 0; k < BATCH && r->sent + r->send_err < FLOOD_N; k++) {
			n = kind == FLOOD_ALLOC ? pkt_alloc(out, sizeof(out)) :
			    pkt_garbage(out, sizeof(out), r->sent + r->send_err,
			    r);
			if (tu_sendto(fd, &relay.addr4, out, n) == 0)
				r->sent++;
			else
				r->send_err++;
		}
		drain(fd, r, t0, 0);
		if (flood_pps <= 0)
			continue;
		due = t0 + (uint64_t)(r->sent + r->send_err) * 1000 /
		    (uint64_t)flood_pps;
		now = tu_now_ms();
		if (due > now)
			tu_sleep_ms((int)(due - now));
	}
	r->send_ms = tu_now_ms() - t0;
	drain(fd, r, t0, DRAIN_MS);
	close(fd);
}

struct flood {
	pid_t			pid;
	int			rfd;
	uint64_t		t0;
	int			done;
	struct flood_res	res;
};

static int
flood_start(struct flood *f, int kind)
{
	struct flood_res	r;
	pid_t			ppid = getpid();
	int			p[2];
	ssize_t			w;

	memset(f, 0, sizeof(*f));
	if (pipe(p) == -1)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	fflush(stdout);
	f->pid = fork();
	if (f->pid == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (f->pid == 0) {
		/* never exit(): the atexit cleanup would kill the relay */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != ppid)
			_exit(1);
		/* not the test's handlers: they kill the tracked relay */
		signal(SIGALRM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		alarm(FLOOD_MS / 1000 + 5);
		close(p[0]);
		flood_run(kind, &r);
		w = write(p[1], &r, sizeof(r));
		_exit(w == (ssize_t)sizeof(r) ? 0 : 1);
	}
	tu_track(f->pid);
	close(p[1]);
	f->rfd = p[0];
	f->t0 = tu_now_ms();
	return 0;
}

/* 1 once the child has exited and its figures are read */
static int
flood_poll(struct flood *f, int timeout_ms)
{
	int	st;

	if (f->done)
		return 1;
	if (tu_waitpid(f->pid, &st, timeout_ms) != f->pid)
		return 0;
	f->done = 1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
	    read(f->rfd, &f->res, sizeof(f->res)) != (ssize_t)sizeof(f->res)) {
		diag("flood child failed (status 0x%x)", st);
		memset(&f->res, 0, sizeof(f->res));
	}
	close(f->rfd);
	return 1;
}

static void
flood_stop(struct flood *f)
{
	if (f->done)
		return;
	tu_kill(f->pid, SIGKILL);
	flood_poll(f, 2000);
}

/*
 * The checks
 */

/* the max of the supervisor's children over a poll */
static size_t
kids_now(size_t *zombies)
{
	return tu_children(relay.pid, zombies);
}

/* (d) the reflection figures, from 127.0.0.3 (its own rate budget) */
static void
test_ratios(void)
{
	struct taddr	src;
	struct stun_msg	m;
	uint8_t		req[64], resp[1500], tid[STUN_TID_LEN];
	struct stun_enc	e;
	long		qn, rn;
	int		fd, code;

	tu_ip4(&src, 127, 0, 0, 3, 0);
	if ((fd = tu_udp_bind_addr(&src)) < 0) {
		skip(6, "127.0.0.3 not bindable");
		return;
	}
	tu_fill(tid, sizeof(tid));
	stun_enc_init(&e, req, sizeof(req), STUN_BINDING, STUN_REQUEST, tid);
	qn = stun_enc_finish(&e);
	tu_sendto(fd, &relay.addr4, req, (size_t)qn);
	rn = tu_recvfrom(fd, resp, sizeof(resp), TU_TIMEOUT_MS, NULL);
	ok(rn > 0 && stun_decode(resp, (size_t)rn, &m, &code) == STUN_OK &&
	    m.cls == STUN_SUCCESS && memcmp(m.tid, tid, sizeof(tid)) == 0,
	    "ratio: Binding answered");
	ok(rn > 0 && rn <= qn + 12, "ratio: Binding response %ld bytes <= "
	    "request %ld + 12 (attack case 40)", rn, qn);
	diag("ratio: Binding %ld -> %ld bytes: %.2fx", qn, rn,
	    rn > 0 ? (double)rn / (double)qn : 0.0);

	qn = (long)pkt_alloc(req, sizeof(req));
	memcpy(tid, req + 8, sizeof(tid));
	tu_sendto(fd, &relay.addr4, req, (size_t)qn);
	rn = tu_recvfrom(fd, resp, sizeof(resp), TU_TIMEOUT_MS, NULL);
	ok(rn > 0 && stun_decode(resp, (size_t)rn, &m, &code) == STUN_OK &&
	    m.cls == STUN_ERROR && m.error_code == STUN_ERR_UNAUTHORIZED &&
	    memcmp(m.tid, tid, sizeof(tid)) == 0,
	    "ratio: unauthenticated ALLOCATE (%ld bytes) gets 401", qn);
	ok(rn > 0 && (m.has & (STUN_HAS_REALM | STUN_HAS_NONCE)) ==
	    (STUN_HAS_REALM | STUN_HAS_NONCE) &&
	    (m.has & ~(uint32_t)(STUN_HAS_REALM | STUN_HAS_NONCE |
	    STUN_HAS_ERROR)) == 0,
	    "ratio: the 401 carries ERROR-CODE, REALM and NONCE only");
	is_int(qn, 28, "ratio: the ALLOCATE is 28 bytes");
	ok(rn > 0 && rn < 4 * qn, "ratio: 401 is %ld bytes: gain %.2fx < 4x",
	    rn, rn > 0 ? (double)rn / (double)qn : 0.0);
	diag("ratio: 401 %ld -> %ld bytes: %.2fx", qn, rn,
	    rn > 0 ? (double)rn / (double)qn : 0.0);
	close(fd);
}

/* (b) a legitimate client from 127.0.0.2: 401, ALLOCATE, relay, REFRESH 0.
 * Requests are retransmitted (500 ms, 6 tries) as a real client would:
 * its datagrams share the supervisor's socket buffer with the flood. */
static int
legit(const char *when, int *sends)
{
	struct tu_client	c;
	struct tu_req		q;
	struct taddr		src, peer, from;
	uint8_t			out[64], in[256];
	pid_t			before[64], w = -1;
	size_t			nb;
	uint16_t		chan;
	long			n;
	int			pfd, rc, s, good = 0;

	*sends = 0;
	tu_ip4(&src, 127, 0, 0, 2, 0);
	if (tu_client_open_from(&c, &relay, &src) == -1) {
		diag("%s: 127.0.0.2 not bindable", when);
		return 0;
	}
	pfd = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(pfd, &peer);
	nb = tu_workers(&relay, before, 64);
	memset(&q, 0, sizeof(q));
	q.method = STUN_ALLOCATE;
	rc = tu_transact_rtx(&c, &q, 6, 500, &s);
	*sends += s;
	if (rc != 0 || c.ndance < 2 || c.dance[0] != STUN_ERR_UNAUTHORIZED) {
		diag("%s: ALLOCATE from 127.0.0.2: rc %d, first %d", when, rc,
		    c.ndance > 0 ? c.dance[0] : -1);
		goto out;
	}
	w = tu_new_worker(&relay, before, nb, 2000);
	memset(&q, 0, sizeof(q));
	q.method = STUN_CHANNEL_BIND;
	q.chan = CHAN;
	q.peer = &peer;
	rc = tu_transact_rtx(&c, &q, 6, 500, &s);
	*sends += s;
	if (rc != 0) {
		diag("%s: ChannelBind: rc %d", when, rc);
		goto out;
	}
	/* ChannelData is not retransmitted; the flood hits the supervisor's
	 * socket, not the worker's, so one datagram each way must pass */
	tu_fill(out, sizeof(out));
	tu_cdata_send(&c, CHAN, out, sizeof(out));
	n = tu_recvfrom(pfd, in, sizeof(in), 2000, &from);
	if (n != (long)sizeof(out) || memcmp(in, out, sizeof(out)) != 0 ||
	    !addr_eq(&from, &c.relayed[0])) {
		diag("%s: client->peer: %ld bytes", when, n);
		goto out;
	}
	tu_fill(out, sizeof(out));
	tu_sendto(pfd, &c.relayed[0], out, sizeof(out));
	n = tu_cdata_recv(&c, &chan, in, sizeof(in), 2000);
	if (n != (long)sizeof(out) || memcmp(in, out, sizeof(out)) != 0) {
		diag("%s: peer->client: %ld bytes", when, n);
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.method = STUN_REFRESH;
	q.has_lifetime = 1;
	q.lifetime = 0;
	rc = tu_transact_rtx(&c, &q, 6, 500, &s);
	*sends += s;
	if (rc != 0) {
		diag("%s: REFRESH 0: rc %d", when, rc);
		goto out;
	}
	good = 1;
out:
	if (w > 0 && !tu_wait_gone(w, 0, 2000)) {
		diag("%s: the legit worker %d did not go", when, (int)w);
		good = 0;
	}
	close(pfd);
	tu_client_close(&c);
	return good;
}

static int
binding_from(uint8_t last, int *sends)
{
	struct tu_client	c;
	struct taddr		src;
	struct tu_req		q;
	int			rc;

	tu_ip4(&src, 127, 0, 0, last, 0);
	if (tu_client_open_from(&c, &relay, &src) == -1)
		return -1;
	memset(&q, 0, sizeof(q));
	q.method = STUN_BINDING;
	rc = tu_transact_rtx(&c, &q, 6, 500, sends);
	if (rc == 0 && !((c.resp.has & STUN_HAS_MAPPED) &&
	    addr_eq(&c.resp.mapped, &c.local)))
		rc = -2;
	tu_client_close(&c);
	return rc;
}

static void
report(const char *what, const struct flood_res *r)
{
	diag("%s: sent %ld datagrams (%ld send errors) in %llu ms (%.0f/s); "
	    "received %ld responses (%ld bytes) over %llu ms: 401 %ld, "
	    "438 %ld, 400 %ld, other %ld", what, r->sent, r->send_err,
	    (unsigned long long)r->send_ms,
	    r->send_ms ? r->sent * 1000.0 / (double)r->send_ms : 0.0,
	    r->recv, r->recv_bytes, (unsigned long long)r->span_ms,
	    r->recv_401, r->recv_438, r->recv_400, r->recv_other);
}

/* responses allowed over a span: the cap's windows are whole seconds of
 * the supervisor's clock, and a span of s seconds touches at most
 * floor(s) + 2 of them: RATE * (s + 1) plus one window (RATE) of slack */
/* what the supervisor's children looked like while a flood ran */
struct watch {
	size_t	max_kids;
	size_t	max_z;
	long	polls;
};

/*
 * Poll the relay's children for the whole flood; 700 ms in, run mid()
 * once (what it does is waited out before polling on). mid()'s result,
 * or -1 if the flood was over before it ran.
 */
static int
flood_watch(struct flood *f, struct watch *w,
    int (*mid)(struct flood *, int *), int *sends)
{
	size_t	kids, z;
	int	rv = -1;

	memset(w, 0, sizeof(*w));
	while (!flood_poll(f, 0) && tu_now_ms() < f->t0 + FLOOD_MS + 3000) {
		kids = kids_now(&z);
		w->polls++;
		if (kids > w->max_kids)
			w->max_kids = kids;
		if (z > w->max_z)
			w->max_z = z;
		if (rv == -1 && tu_now_ms() >= f->t0 + 700) {
			rv = mid(f, sends);
			continue;
		}
		tu_sleep_ms(10);
	}
	return rv;
}

static long
cap_for(uint64_t span_ms)
{
	return (long)(RATE * ((double)span_ms / 1000.0 + 1.0)) + RATE;
}

/* the legit client in the middle of the unauthenticated flood */
static int
unauth_mid(struct flood *f, int *sends)
{
	int	good;

	good = legit("legit during the flood", sends);
	diag("legit during the flood: %d request datagrams, flood %s when "
	    "it finished", *sends, flood_poll(f, 0) ? "over" : "still running");
	return good;
}

static void
test_unauth_flood(void)
{
	struct flood	f;
	struct watch	w;
	long long	st0, st1, s401_0, s401_1;
	long		cap;
	int		during, after, sends_d = 0;
	int		sends_a = 0, legit_401;

	st0 = m_started();
	s401_0 = m_alloc_401();
	if (flood_start(&f, FLOOD_ALLOC) == -1) {
		ok(0, "unauth flood: fork");
		return;
	}
	during = flood_watch(&f, &w, unauth_mid, &sends_d);
	if (during == -1) {
		/* an unpaced flood (TU_FLOOD_PPS=0) can be over by now */
		during = legit("legit right after the flood", &sends_d);
	}
	legit_401 = 1;
	flood_stop(&f);
	report("unauth flood", &f.res);
	ok(f.res.sent > 0, "unauth flood: %ld ALLOCATEs sent in %llu ms",
	    f.res.sent, (unsigned long long)f.res.send_ms);
	ok(f.res.sent == FLOOD_N || f.res.send_ms >= FLOOD_MS,
	    "unauth flood: bounded by count (%d) or time (%d ms)", FLOOD_N,
	    FLOOD_MS);
	is_int((long long)w.max_kids, 0, "unauth flood: the supervisor had no "
	    "child in %ld polls during the flood", w.polls);
	is_int((long long)w.max_z, 0, "unauth flood: no zombies");
	ok(f.res.recv_401 > 0, "unauth flood: some 401s came back (%ld)",
	    f.res.recv_401);
	cap = cap_for(f.res.span_ms);
	ok(f.res.recv_401 <= cap, "unauth flood: 401s received %ld <= %ld "
	    "(%d/s over %llu ms + %d)", f.res.recv_401, cap, RATE,
	    (unsigned long long)f.res.span_ms, RATE);
	is_int(f.res.recv_other + f.res.recv_400 + f.res.recv_438, 0,
	    "unauth flood: nothing but 401s came back");
	ok(during, "legit client from 127.0.0.2 during the flood: 401, "
	    "ALLOCATE, ChannelData both ways, REFRESH 0");
	after = legit("legit after the flood", &sends_a);
	legit_401++;
	ok(after, "legit client from 127.0.0.2 after the flood: 401, "
	    "ALLOCATE, ChannelData both ways, REFRESH 0 (%d datagrams)",
	    sends_a);

	st1 = m_started();
	s401_1 = m_alloc_401();
	ok(st0 == 0 && st1 == st0 + during + after,
	    "unauth flood: /metrics workers started %lld -> %lld: the legit "
	    "clients' only", st0, st1);
	/* the supervisor answers between the first send and the end of the
	 * drain, whether or not the answer was received */
	if (f.res.send_ms + DRAIN_MS > f.res.span_ms)
		cap = cap_for(f.res.send_ms + DRAIN_MS);
	ok(s401_1 >= s401_0 && s401_1 - s401_0 - legit_401 <= cap,
	    "unauth flood: 401s the supervisor sent to the flood source %lld "
	    "<= %ld", s401_1 - s401_0 - legit_401, cap);
	diag("unauth flood: supervisor sent %lld 401s to the flood, %ld "
	    "received; %.1f%% of the requests answered",
	    s401_1 - s401_0 - legit_401, f.res.recv_401,
	    f.res.sent ? 100.0 * (double)f.res.recv_401 /
	    (double)f.res.sent : 0.0);
}

/* a Binding from another source in the middle of the garbage flood */
static int
garbage_mid(struct flood *f, int *sends)
{
	int	good;

	(void)f;
	good = binding_from(2, sends) == 0;
	diag("garbage flood: Binding from 127.0.0.2 during the flood: %s "
	    "after %d datagrams", good ? "answered" : "NOT answered", *sends);
	return good;
}

static void
test_garbage_flood(void)
{
	struct flood	f;
	struct watch	w;
	long long	st0, st1;
	long		cap, answered;
	int		during, sends_d = 0, sends_a = 0, rc;

	st0 = m_started();
	if (flood_start(&f, FLOOD_GARBAGE) == -1) {
		ok(0, "garbage flood: fork");
		return;
	}
	during = flood_watch(&f, &w, garbage_mid, &sends_d);
	if (during == -1)
		during = binding_from(2, &sends_d) == 0;
	flood_stop(&f);
	report("garbage flood", &f.res);
	diag("garbage flood: %ld random, %ld truncated STUN headers, %ld "
	    "STUN with a garbage MESSAGE-INTEGRITY", f.res.kinds[0],
	    f.res.kinds[1], f.res.kinds[2]);
	ok(f.res.sent > 0 && (f.res.sent == FLOOD_N ||
	    f.res.send_ms >= FLOOD_MS), "garbage flood: %ld datagrams sent, "
	    "bounded by count or time", f.res.sent);
	ok(tu_relay_alive(&relay), "garbage flood: the supervisor is alive");
	is_int((long long)w.max_kids, 0, "garbage flood: no child in %ld polls",
	    w.polls);
	is_int((long long)w.max_z, 0, "garbage flood: no zombies");
	ok(during == 1, "garbage flood: Binding from 127.0.0.2 answered "
	    "during the flood");
	rc = binding_from(2, &sends_a);
	is_int(rc, 0, "garbage flood: Binding from 127.0.0.2 answered after "
	    "it");
	st1 = m_started();
	ok(st1 == st0 && st0 >= 0, "garbage flood: /metrics workers started "
	    "unchanged (%lld -> %lld)", st0, st1);
	/* the bad-MI ALLOCATEs draw 401/438: unauthenticated, capped too */
	answered = f.res.recv;
	cap = cap_for(f.res.span_ms);
	ok(answered <= cap, "garbage flood: responses %ld <= the cap %ld",
	    answered, cap);
	is_int(f.res.recv_other, 0, "garbage flood: only 400/401/438 came "
	    "back");
}

static int
no_metrics_conn(void *arg)
{
	return tu_tcp_conns(hport) == 0;
}

int
main(void)
{
	struct tu_relay_opts	o;
	char			haddr[32];
	long			rss0, rss1, rss2;
	int			fd0, fd1, fd2;
	const char		*pps = getenv("TU_FLOOD_PPS");

	if (pps != NULL)
		flood_pps = atol(pps);
	tu_init(40);
	tu_need("bin/turncell", NULL);
	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.extra[0] = "--unauth-rate";
	o.extra[1] = RATE_S;
	o.health = "127.0.0.1:0";
	if (tu_relay_start(&relay, &o) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	hport = relay.health_port;
	snprintf(haddr, sizeof(haddr), "127.0.0.1:%u", hport);
	ok(1, "relay started on 127.0.0.1:%u, --unauth-rate %d, /metrics on "
	    "%s", relay.port, RATE, haddr);
	ok(m_started() == 0, "/metrics answers: no worker started yet");

	test_ratios();
	rss0 = tu_proc_rss_kb(relay.pid);
	/* the /metrics connections closed */
	tu_wait_for(no_metrics_conn, NULL, 2000);
	fd0 = tu_proc_nfds(relay.pid);

	test_unauth_flood();
	rss1 = tu_proc_rss_kb(relay.pid);
	fd1 = tu_wait_nfds(relay.pid, fd0, 1000);
	diag("unauth flood: supervisor VmRSS %ld -> %ld kB, fds %d -> %d",
	    rss0, rss1, fd0, fd1);
	ok(rss0 > 0 && rss1 > 0 && rss1 - rss0 < RSS_SLACK_KB,
	    "unauth flood: RSS grew by %ld kB (< %d kB)", rss1 - rss0,
	    RSS_SLACK_KB);
	is_int(fd1, fd0, "unauth flood: supervisor fd count unchanged");

	test_garbage_flood();
	rss2 = tu_proc_rss_kb(relay.pid);
	fd2 = tu_wait_nfds(relay.pid, fd0, 1000);
	diag("garbage flood: supervisor VmRSS %ld -> %ld kB, fds %d -> %d",
	    rss1, rss2, fd1, fd2);
	ok(rss2 > 0 && rss2 - rss0 < RSS_SLACK_KB,
	    "garbage flood: RSS %ld kB above the start (< %d kB)", rss2 - rss0,
	    RSS_SLACK_KB);
	is_int(fd2, fd0, "garbage flood: supervisor fd count unchanged");
	if (scrape() == 0)
		diag("/metrics: dropped datagrams %lld (suppressed replies "
		    "included), workers started %lld",
		    metric("turncell_dropped_datagrams_total"),
		    metric("turncell_workers_started_total"));
	diag_metrics();

	ok(tu_relay_alive(&relay), "the supervisor is still running");
	is_int(tu_log_count(&relay, 0, "Worker died"), 0, "no worker died");
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_relay_stop(&relay);
	return done_testing();
}
