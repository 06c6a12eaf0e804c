/*
 * 87-overload: the bounded receive queue of the listen socket, through
 * the real bin/turncell. Past capacity a datagram that waited longer than
 * --max-queue-delay is dropped before the engine sees it, and every loss
 * is counted in /metrics (turncell_queue_drops_total): what the client
 * sent is what reached the peer plus what the counters say was dropped,
 * exactly, however busy the machine.
 *
 * The relay is made to fall behind for certain by stopping it (SIGSTOP)
 * while datagrams arrive, then letting it go on (SIGCONT): each of them
 * then waited at least as long as it was stopped.
 *
 *  (a) --max-queue-delay 20 --queue-delay-grace 0: every datagram that
 *      waited (stopped for 300 ms) is dropped and counted as listen_late;
 *      the relay still relays afterwards.
 *  (b) a grace longer than the test: the same wait is a burst, and every
 *      datagram is relayed, nothing counted.
 *  (d) as (a), with the worker stopped while the peer sends: the worker
 *      drops and counts (relay_late, reported with MSG_STATS).
 *  (e) the worker stopped while the client sends: the client's data
 *      does not wait for it (the supervisor sends it on the relay socket
 *      itself), so every datagram arrives.
 *  (g) as (e) with --max-bps, where the client's data goes through the
 *      worker: the supervisor's records wait on the socketpair, and the
 *      worker drops and counts them when it reads them (worker_late).
 *  (f) the relay stopped while the peer sends: the worker's records wait
 *      on the socketpair, and the supervisor drops and counts them when
 *      it reads them (from_worker_late).
 *  (c) more than the listen socket's buffer holds while stopped (grace as
 *      in (b)): the kernel drops the rest, and listen_full counts exactly
 *      those (SO_RXQ_OVFL): sent = relayed + listen_full (+ to_peer,
 *      should the relay socket's buffer fill in the burst that follows).
 */
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define CHAN		0x4000
#define STOPPED_N	200	/* datagrams sent while stopped, (a) (b) */
#define STOP_MS		300	/* stopped at least this long */
#define FLOOD_N		12000	/* (c): more than 8 MiB of buffer holds */
#define FLOOD_LEN	1200
#define MARK_TRIES	200	/* markers, one per 50 ms at most */
#define QUIET_MS	500	/* after the marker: nothing more comes */

struct run {
	struct tu_relay		r;
	struct tu_client	c;
	int			pfd;
	struct taddr		peer;
	uint32_t		tag;	/* datagrams of the current phase */
	int			p2c;	/* direction: peer -> client */
};

static long long
qdrops(struct run *x, const char *queue)
{
	char	name[96];

	snprintf(name, sizeof(name), "turncell_queue_drops_total{queue=\"%s\"}",
	    queue);
	return tp_metric(x->r.health_port, name);
}

/* the sum of the counters of queues[] over base, once it reaches want
 * or after 25 s: workers report every 10 s (MSG_STATS) */
static long long
counted(struct run *x, const char *const *queues, long long base,
    long long want)
{
	uint64_t	end = tu_now_ms() + 25000;
	long long	sum;
	size_t		i;

	for (;;) {
		for (i = 0, sum = -base; queues[i] != NULL; i++)
			sum += qdrops(x, queues[i]);
		if (sum >= want || tu_now_ms() >= end)
			return sum;
		tu_sleep_ms(200);
	}
}

static int
run_start(struct run *x, const char *delay, const char *grace,
    const char *max_bps)
{
	struct tu_relay_opts	o;
	int			rc;

	memset(x, 0, sizeof(*x));
	x->pfd = -1;
	memset(&o, 0, sizeof(o));
	o.health = "127.0.0.1:0";
	o.allow[0] = "127.0.0.0/8";
	o.extra[0] = "--max-queue-delay";
	o.extra[1] = delay;
	o.extra[2] = "--queue-delay-grace";
	o.extra[3] = grace;
	if (max_bps != NULL) {
		o.extra[4] = "--max-bps";
		o.extra[5] = max_bps;
	}
	if (tu_relay_start(&x->r, &o) == -1)
		return -1;
	if (tu_client_open(&x->c, &x->r, ADDR_V4) == -1 ||
	    (rc = tu_allocate(&x->c, -1, 0, 0)) != 0 ||
	    (x->pfd = tu_udp_bind(ADDR_V4, 0)) == -1 ||
	    tu_sock_addr(x->pfd, &x->peer) == -1 ||
	    tu_chanbind(&x->c, CHAN, &x->peer) != 0)
		return -1;
	(void)tu_rcvbuf(x->pfd, 16 << 20);
	return 0;
}

static void
run_stop(struct run *x)
{
	if (x->pfd != -1)
		close(x->pfd);
	tu_client_close(&x->c);
	tu_relay_stop(&x->r);
}

/* payload: tag (phase), sequence number, then filler; from the client
 * as ChannelData, or from the peer to the relayed address */
static int
send_one(struct run *x, uint32_t seq, size_t len)
{
	uint8_t	p[FLOOD_LEN];

	memset(p, 0x5a, sizeof(p));
	memcpy(p, &x->tag, 4);
	memcpy(p + 4, &seq, 4);
	if (len < 8)
		len = 8;
	if (x->p2c)
		return tu_sendto(x->pfd, &x->c.relayed[0], p, len);
	return tu_cdata_send(&x->c, CHAN, p, len);
}

/* one datagram at the receiving end (peer, or client), its length */
static long
recv_one(struct run *x, uint8_t *in, size_t cap, int ms)
{
	uint16_t	chan;

	if (x->p2c)
		return tu_cdata_recv(&x->c, &chan, in, cap, ms);
	return tu_recvfrom(x->pfd, in, cap, ms, NULL);
}

/*
 * After the stop: markers of a new tag, one at a time, until one reaches
 * the peer (a marker may itself be late on a busy machine: it is dropped
 * and counted like any other). The listen queue is read in order, so once
 * a marker is out every datagram sent before it was relayed or dropped;
 * the peer is read until QUIET_MS of silence. *got counts the datagrams
 * of tag `old` that arrived, *marks_sent and *marks_got the markers.
 */
/* read the peer until `ms` of silence: datagrams of tag `old` in *got,
 * of the current tag (markers) in *marks */
static void
peer_read(struct run *x, uint32_t old, int ms, long *got, long *marks)
{
	uint8_t		in[FLOOD_LEN + 64];
	uint32_t	tag;

	while (recv_one(x, in, sizeof(in), ms) >= 8) {
		memcpy(&tag, in, 4);
		if (tag == old)
			(*got)++;
		else if (tag == x->tag)
			(*marks)++;
	}
}

static int
settle(struct run *x, uint32_t old, long *got, long *marks_sent,
    long *marks_got)
{
	int	i;

	*got = *marks_sent = *marks_got = 0;
	x->tag = old + 1;
	for (i = 0; i < MARK_TRIES && *marks_got == 0; i++) {
		if (send_one(x, (uint32_t)i, 8) == 0)
			(*marks_sent)++;
		peer_read(x, old, 50, got, marks_got);
	}
	if (*marks_got == 0)
		return -1;
	peer_read(x, old, QUIET_MS, got, marks_got);
	return 0;
}

/* one datagram there and back to the peer before the stop */
static int
warm(struct run *x)
{
	uint8_t	in[64];
	int	i;

	x->tag = 1;
	for (i = 0; i < 100; i++) {
		(void)send_one(x, (uint32_t)i, 8);
		if (recv_one(x, in, sizeof(in), 100) >= 8)
			break;
	}
	while (recv_one(x, in, sizeof(in), 100) > 0)
		;
	return i < 100 ? 0 : -1;
}

/* stop the process that reads the datagrams (the relay, or the worker),
 * send n datagrams of len bytes, wait, go on */
static long
stopped_burst(struct run *x, pid_t reader, int n, size_t len)
{
	long	sent = 0;
	int	i;

	x->tag = 2;
	if (tu_kill(reader, SIGSTOP) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (send_one(x, (uint32_t)i, len) == 0)
			sent++;
	tu_sleep_ms(STOP_MS);	/* a lower bound: the wait is what counts */
	(void)tu_kill(reader, SIGCONT);
	return sent;
}

int
main(void)
{
	struct run	x;
	long		sent, got = 0, ms = 0, mg = 0;
	int		rc;
	long long	late, full, late0, full0, tow, want, dl = 0, dw = 0;
	int		tries;
	pid_t		wk;
	static const char *const relay_q[] = { "relay_late", "relay_full",
			    NULL };
	static const char *const worker_q[] = { "worker_late", NULL };
	static const char *const from_q[] = { "from_worker_late",
			    "relay_late", "relay_full", NULL };

	tu_init(120);
	tu_need("bin/turncell", NULL);

	/* (a) */
	if (run_start(&x, "20", "0", NULL) == -1 || warm(&x) == -1) {
		ok(0, "(a) relay, allocation, channel, first datagram");
		run_stop(&x);
		return done_testing();
	}
	late0 = qdrops(&x, "listen_late");
	full0 = qdrops(&x, "listen_full");
	ok(late0 >= 0 && full0 >= 0,
	    "/metrics has listen_late and listen_full");
	sent = stopped_burst(&x, x.r.pid, STOPPED_N, 100);
	rc = settle(&x, 2, &got, &ms, &mg);
	ok(rc == 0, "(a) relaying again after the stop (%ld markers sent, "
	    "%ld arrived)", ms, mg);
	late = qdrops(&x, "listen_late") - late0;
	full = qdrops(&x, "listen_full") - full0;
	diag("(a) sent %ld while stopped, %ld arrived; markers %ld/%ld; "
	    "listen_late %lld, listen_full %lld", sent, got, mg, ms, late,
	    full);
	is_int(got, 0, "(a) none of the %ld datagrams that waited %d ms "
	    "reached the peer", sent, STOP_MS);
	is_int(late + full, sent + ms - mg, "(a) every datagram not "
	    "relayed is counted (listen_late + listen_full)");

	/* (d): the worker stopped, the peer sending; same limits */
	x.p2c = 1;
	wk = tu_new_worker(&x.r, NULL, 0, 2000);
	if (wk <= 0 || warm(&x) == -1) {
		ok(0, "(d) the worker, a first datagram to the client");
		run_stop(&x);
		return done_testing();
	}
	sent = stopped_burst(&x, wk, STOPPED_N, 100);
	rc = settle(&x, 2, &got, &ms, &mg);
	ok(rc == 0, "(d) the worker relays again after the stop");
	/* workers report every 10 s (MSG_STATS) */
	want = sent + ms - mg - got;
	late = counted(&x, relay_q, 0, want);
	diag("(d) the peer sent %ld while the worker was stopped, %ld "
	    "arrived; markers %ld/%ld; relay_late + relay_full %lld",
	    sent, got, mg, ms, late);
	is_int(got, 0, "(d) none of the %ld peer datagrams that waited %d ms "
	    "reached the client", sent, STOP_MS);
	is_int(late, want, "(d) every datagram not relayed is counted "
	    "(relay_late + relay_full, from the worker)");

	/* (e): the worker stopped, the client sending: its data leaves from
	 * the supervisor, so the stop delays nothing. Up to three bursts: on
	 * a busy machine the supervisor itself may fall behind its listen
	 * queue (no grace here), which drops and counts; none of that is the
	 * worker's, and one burst must arrive whole */
	x.p2c = 0;
	for (tries = 1; tries <= 3; tries++) {
		dl = qdrops(&x, "listen_late") + qdrops(&x, "listen_full") +
		    qdrops(&x, "to_peer");
		dw = qdrops(&x, "to_worker") + qdrops(&x, "worker_late");
		sent = stopped_burst(&x, wk, STOPPED_N, 100);
		rc = settle(&x, 2, &got, &ms, &mg);
		dl = qdrops(&x, "listen_late") + qdrops(&x, "listen_full") +
		    qdrops(&x, "to_peer") - dl;
		dw = qdrops(&x, "to_worker") + qdrops(&x, "worker_late") - dw;
		diag("(e) burst %d: the client sent %ld while the worker was "
		    "stopped, %ld arrived; markers %ld/%ld; listen_late + "
		    "listen_full + to_peer %lld, to_worker + worker_late %lld",
		    tries, sent, got, mg, ms, dl, dw);
		if (rc != 0 || dw != 0 || got + dl != sent + ms - mg ||
		    got == sent)
			break;
	}
	ok(rc == 0, "(e) relaying after the worker's stop");
	is_int(dw, 0, "(e) nothing waited for the worker (to_worker, "
	    "worker_late)");
	is_int(got + dl, sent + ms - mg, "(e) every datagram reached the peer "
	    "or is counted at the supervisor's own queues");
	is_int(got, sent, "(e) a burst (%d of at most 3) reached the peer "
	    "whole: the client's data does not wait for the stopped worker",
	    tries > 3 ? 3 : tries);

	/* (f): the relay stopped, the peer sending: the worker's records
	 * wait on the socketpair, too old when the supervisor reads them */
	x.p2c = 1;
	late0 = counted(&x, relay_q, 0, 0);
	sent = stopped_burst(&x, x.r.pid, STOPPED_N, 100);
	rc = settle(&x, 2, &got, &ms, &mg);
	ok(rc == 0, "(f) relaying again after the stop");
	want = sent + ms - mg - got;
	late = counted(&x, from_q, late0, want);
	diag("(f) the peer sent %ld while the relay was stopped, %ld "
	    "arrived; markers %ld/%ld; from_worker_late + relay_late + "
	    "relay_full %lld", sent, got, mg, ms, late);
	is_int(got, 0, "(f) none of the %ld peer datagrams that waited %d ms "
	    "for the relay reached the client", sent, STOP_MS);
	is_int(late, want, "(f) every datagram not relayed is counted "
	    "(from_worker_late; relay_late, relay_full)");
	x.p2c = 0;
	run_stop(&x);

	/* (b) */
	if (run_start(&x, "20", "60000", NULL) == -1 || warm(&x) == -1) {
		ok(0, "(b) relay, allocation, channel, first datagram");
		run_stop(&x);
		return done_testing();
	}
	sent = stopped_burst(&x, x.r.pid, STOPPED_N, 100);
	ok(settle(&x, 2, &got, &ms, &mg) == 0, "(b) relaying after the stop");
	late = qdrops(&x, "listen_late");
	full = qdrops(&x, "listen_full");
	is_int(got, sent, "(b) within the grace every datagram that waited "
	    "is relayed (%ld)", sent);
	ok(late == 0 && full == 0, "(b) nothing counted as dropped "
	    "(listen_late %lld, listen_full %lld)", late, full);

	/* (c): the same relay, its buffer overrun while stopped */
	sent = stopped_burst(&x, x.r.pid, FLOOD_N, FLOOD_LEN);
	ok(settle(&x, 2, &got, &ms, &mg) == 0, "(c) relaying after the "
	    "flood");
	late = qdrops(&x, "listen_late");
	full = qdrops(&x, "listen_full");
	tow = qdrops(&x, "to_worker") + qdrops(&x, "to_peer");
	diag("(c) sent %ld x %d bytes while stopped, %ld arrived; markers "
	    "%ld/%ld; listen_late %lld, listen_full %lld, to_worker + to_peer "
	    "%lld",
	    sent, FLOOD_LEN, got, mg, ms, late, full, tow);
	ok(full > 0, "(c) the kernel dropped at the full listen socket and "
	    "listen_full counts it (%lld)", full);
	is_int(got + late + full + tow, sent + ms - mg, "(c) sent = relayed "
	    "+ listen_late + listen_full + to_worker + to_peer");
	run_stop(&x);

	/* (g): with --max-bps the client's data goes through the worker:
	 * the records the supervisor queued for it meanwhile are too old
	 * when it reads them */
	if (run_start(&x, "20", "0", "100000000") == -1 || warm(&x) == -1 ||
	    (wk = tu_new_worker(&x.r, NULL, 0, 2000)) <= 0) {
		ok(0, "(g) relay with --max-bps, allocation, channel, first "
		    "datagram");
		run_stop(&x);
		return done_testing();
	}
	tow = qdrops(&x, "to_worker");
	sent = stopped_burst(&x, wk, STOPPED_N, 100);
	rc = settle(&x, 2, &got, &ms, &mg);
	ok(rc == 0, "(g) relaying again after the worker's stop");
	want = sent + ms - mg - got - (qdrops(&x, "to_worker") - tow);
	late = counted(&x, worker_q, 0, want);
	diag("(g) the client sent %ld while the worker was stopped, %ld "
	    "arrived; markers %ld/%ld; worker_late %lld, to_worker %lld",
	    sent, got, mg, ms, late, qdrops(&x, "to_worker") - tow);
	is_int(got, 0, "(g) none of the %ld datagrams that waited %d ms for "
	    "the worker reached the peer", sent, STOP_MS);
	is_int(late, want, "(g) every datagram not relayed is counted "
	    "(worker_late, from the worker; to_worker)");

	run_stop(&x);
	return done_testing();
}
