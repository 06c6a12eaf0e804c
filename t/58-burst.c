/*
 * 58-burst: bursts through the real bin/turncell on loopback. Every
 * datagram carries a stream tag and a sequence number and a payload that
 * is a function of both, of mixed sizes (20..1200 bytes); the receiver
 * checks that each one arrives exactly once, intact, in order:
 *
 *  (a) peer -> client: BURST_N datagrams back to back to the relayed
 *      address, out as ChannelData on the bound channel;
 *  (b) client -> peer: BURST_N ChannelData back to back;
 *  (c) two allocations at once, both directions (isolation: both
 *      streams complete).
 *
 * The test's receiving sockets get an 8 MiB SO_RCVBUF (FORCE as root) so
 * that they are not what drops.
 *
 * Whether 5,000 unpaced datagrams all fit depends on the relay being
 * scheduled while they arrive: on a busy 2-core machine the kernel may
 * drop some at a full socket buffer of the relay. So each case gets up to
 * ATTEMPTS bursts. Every burst must be free of duplicates, corruption,
 * reordering and misrouting; a burst that lost datagrams must have the
 * loss show up in a drop counter of the relay's side (the kernel's drop
 * counters of its sockets in /proc/net/udp, or the relay's own drop
 * counters in /metrics): a silent loss fails at once. And one burst of
 * the ATTEMPTS must deliver every datagram (the release build; under
 * make check-asan a complete burst is not required).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define BURST_N		5000
#define BURST_PACE	0	/* datagrams per pause of 1 ms, 0 = none */
#define SILENCE_MS	2000	/* a stream is over after this much quiet */
#define LINGER_MS	100	/* after the last one: duplicates? */
#define RCVBUF		(8 << 20)
#define CHAN		0x4000
#define MIN_LEN		20
#define MAX_LEN		1200
#define MAX_STREAMS	4
#define ATTEMPTS	3	/* bursts per case, see above */

static struct tu_relay	relay;
static uint16_t		health_port;

/* one stream of numbered datagrams and what its receiver saw */
struct stream {
	const char	*name;
	uint8_t		 tag;		/* in every datagram */
	int		 rx_fd;
	int		 cdata;		/* received as ChannelData */
	struct taddr	 src;		/* expected sender */
	/* results */
	uint8_t		 seen[BURST_N];
	unsigned	 got;		/* unique, intact */
	unsigned	 dup, bad, reorder, foreign;
	long		 last;		/* last sequence number, -1 none */
};

static size_t
pl_len(uint8_t tag, uint32_t seq)
{
	return MIN_LEN + (seq * 7919u + tag * 31u) % (MAX_LEN - MIN_LEN + 1);
}

static uint8_t
pl_byte(uint8_t tag, uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + tag + (i >> 8));
}

/* tag, 'B', seq (4 bytes, big-endian), then the pattern */
static size_t
pl_make(uint8_t *p, uint8_t tag, uint32_t seq)
{
	size_t	len = pl_len(tag, seq), i;

	p[0] = tag;
	p[1] = 'B';
	p[2] = (uint8_t)(seq >> 24);
	p[3] = (uint8_t)(seq >> 16);
	p[4] = (uint8_t)(seq >> 8);
	p[5] = (uint8_t)seq;
	for (i = 6; i < len; i++)
		p[i] = pl_byte(tag, seq, i);
	return len;
}

/* sequence number of an intact payload of stream tag, -1 otherwise */
static long
pl_check(const uint8_t *p, size_t len, uint8_t tag)
{
	uint32_t	seq;
	size_t		i;

	if (len < MIN_LEN || p[0] != tag || p[1] != 'B')
		return -1;
	seq = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
	    (uint32_t)p[4] << 8 | p[5];
	if (seq >= BURST_N || len != pl_len(tag, seq))
		return -1;
	for (i = 6; i < len; i++)
		if (p[i] != pl_byte(tag, seq, i))
			return -1;
	return (long)seq;
}

static void
stream_init(struct stream *s, const char *name, uint8_t tag, int rx_fd,
    int cdata, const struct taddr *src)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->tag = tag;
	s->rx_fd = rx_fd;
	s->cdata = cdata;
	s->src = *src;
	s->last = -1;
}

/* one received datagram */
static void
stream_take(struct stream *s, const uint8_t *p, size_t n,
    const struct taddr *from)
{
	const uint8_t	*pl = p;
	size_t		 plen = n;
	uint16_t	 chan;
	long		 seq;

	if (!addr_eq(from, &s->src)) {
		s->foreign++;
		return;
	}
	if (s->cdata) {
		/* exactly header + payload: the relay does not pad */
		if (!cdata_is(p, n) || cdata_decode(p, n, &chan, &pl,
		    &plen) == -1 || chan != CHAN ||
		    plen + CDATA_HDR_LEN != n) {
			s->bad++;
			return;
		}
	}
	if ((seq = pl_check(pl, plen, s->tag)) == -1) {
		s->bad++;
		return;
	}
	if (s->seen[seq]) {
		s->dup++;
		return;
	}
	s->seen[seq] = 1;
	s->got++;
	if (seq < s->last)
		s->reorder++;
	s->last = seq;
}

static int
stream_done(const struct stream *s)
{
	return s->got == BURST_N;
}

/*
 * Receive on every stream's socket until each has all BURST_N (then
 * LINGER_MS more, for duplicates) or SILENCE_MS pass without a datagram.
 */
static void
streams_recv(struct stream *s, size_t ns)
{
	static uint8_t		buf[65536];
	struct pollfd		pfd[MAX_STREAMS];
	struct sockaddr_storage	ss;
	struct taddr		from;
	socklen_t		sl;
	uint64_t		quiet_end, linger_end = 0, now;
	ssize_t			n;
	size_t			i, done;
	int			r, guard;

	quiet_end = tu_now_ms() + SILENCE_MS;
	for (guard = 0; guard < 40 * BURST_N; guard++) {
		now = tu_now_ms();
		for (done = 0, i = 0; i < ns; i++)
			done += stream_done(&s[i]);
		if (done == ns && linger_end == 0)
			linger_end = now + LINGER_MS;
		if (now >= quiet_end || (linger_end != 0 && now >= linger_end))
			break;
		for (i = 0; i < ns; i++) {
			pfd[i].fd = s[i].rx_fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		r = poll(pfd, (nfds_t)ns, (int)((linger_end != 0 ?
		    linger_end : quiet_end) - now));
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		for (i = 0; i < ns; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			/* drain what is there, then poll again */
			for (;;) {
				sl = sizeof(ss);
				n = recvfrom(s[i].rx_fd, buf, sizeof(buf),
				    MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
				if (n < 0)
					break;
				if (addr_from_sockaddr((struct sockaddr *)&ss,
				    sl, &from) == -1)
					memset(&from, 0, sizeof(from));
				stream_take(&s[i], buf, (size_t)n, &from);
			}
		}
		quiet_end = tu_now_ms() + SILENCE_MS;
	}
}

/* datagrams of every stream, interleaved, each to its destination */
struct sender {
	int			 fd;
	const struct taddr	*to;
	uint8_t			 tag;
	int			 cdata;
	unsigned		 errors;
};

static void
senders_run(struct sender *tx, size_t nt)
{
	struct sockaddr_storage	ss[MAX_STREAMS];
	socklen_t		sl[MAX_STREAMS];
	uint8_t			out[CDATA_HDR_LEN + MAX_LEN];
	uint32_t		seq;
	size_t			i, len;
	ssize_t			r;
	unsigned		sent = 0;

	for (i = 0; i < nt; i++)
		sl[i] = (socklen_t)addr_to_sockaddr(tx[i].to, &ss[i]);
	for (seq = 0; seq < BURST_N; seq++) {
		for (i = 0; i < nt; i++) {
			if (tx[i].cdata) {
				len = pl_make(out + CDATA_HDR_LEN, tx[i].tag,
				    seq);
				(void)cdata_put_hdr(out, CHAN, len);
				len += CDATA_HDR_LEN;
			} else
				len = pl_make(out, tx[i].tag, seq);
			/* blocking: waits for room in our send buffer */
			do
				r = sendto(tx[i].fd, out, len, 0,
				    (struct sockaddr *)&ss[i], sl[i]);
			while (r == -1 && errno == EINTR);
			if (r != (ssize_t)len)
				tx[i].errors++;
			sent++;
			if (BURST_PACE > 0 && sent % BURST_PACE == 0)
				tu_sleep_ms(1);
		}
	}
}

/* a metrics counter summed over its labels, -1 if unavailable */
static long
metric(const char *name)
{
	return (long)tp_metric_sum(health_port, name);
}

/* where datagrams were lost: every socket on the path */
static void
diag_path(const struct tu_client *c, const struct taddr *peer)
{
	diag("  drops: relay listen :%u %ld, relay port :%u %ld, client :%u "
	    "%ld, peer :%u %ld", relay.port, tu_udp_drops(relay.port),
	    c->relayed[0].port, tu_udp_drops(c->relayed[0].port),
	    c->local.port, tu_udp_drops(c->local.port), peer->port,
	    tu_udp_drops(peer->port));
}

static void
diag_relay(void)
{
	diag("  relay: send_errors %ld, worker_drops %ld, queue_drops %ld, "
	    "dropped_datagrams %ld", metric("turncell_send_errors_total"),
	    metric("turncell_worker_drops_total"),
	    metric("turncell_queue_drops_total"),
	    metric("turncell_dropped_datagrams_total"));
}

/*
 * Per stream: received, duplicates, corrupt... One flag each: *intact (no
 * duplicate, corrupt, reordered or foreign datagram, no send error) and
 * *complete (every datagram of every stream arrived).
 */
static void
streams_judge(const struct stream *s, size_t ns, const struct sender *tx,
    uint64_t ms, int *intact, int *complete)
{
	size_t	i;

	*intact = *complete = 1;
	for (i = 0; i < ns; i++) {
		if (s[i].dup || s[i].bad || s[i].reorder || s[i].foreign ||
		    tx[i].errors)
			*intact = 0;
		if (s[i].got != BURST_N)
			*complete = 0;
		diag("%s: received %u/%u, duplicates %u, corrupt %u, "
		    "reordered %u, foreign %u, send errors %u (%llu ms)",
		    s[i].name, s[i].got, BURST_N, s[i].dup, s[i].bad,
		    s[i].reorder, s[i].foreign, tx[i].errors,
		    (unsigned long long)ms);
	}
}

/* an allocation with a channel to its own peer socket */
struct pair {
	struct tu_client	c;
	int			pfd;
	struct taddr		peer;
	int			up;
};

static int
pair_open(struct pair *p, const char *what)
{
	int	rc;

	memset(p, 0, sizeof(*p));
	p->pfd = -1;
	if (tu_client_open(&p->c, &relay, ADDR_V4) == -1) {
		diag("%s: no client socket", what);
		return -1;
	}
	if ((rc = tu_allocate(&p->c, -1, 0, 0)) != 0 || p->c.n_relayed != 1) {
		diag("%s: ALLOCATE: rc %d", what, rc);
		return -1;
	}
	if ((p->pfd = tu_udp_bind(ADDR_V4, 0)) == -1 ||
	    tu_sock_addr(p->pfd, &p->peer) == -1) {
		diag("%s: no peer socket", what);
		return -1;
	}
	if ((rc = tu_chanbind(&p->c, CHAN, &p->peer)) != 0) {
		diag("%s: ChannelBind: rc %d", what, rc);
		return -1;
	}
	if (tu_rcvbuf(p->c.fd, RCVBUF) < RCVBUF ||
	    tu_rcvbuf(p->pfd, RCVBUF) < RCVBUF)
		diag("%s: SO_RCVBUF below %d: the test may drop", what,
		    RCVBUF);
	p->up = 1;
	return 0;
}

static void
pair_close(struct pair *p)
{
	if (p->up)
		(void)tu_refresh(&p->c, 0);
	tu_client_close(&p->c);
	if (p->pfd != -1)
		close(p->pfd);
}

/*
 * Every drop counter on the relay's side of the path, summed: the kernel's
 * at its listen socket and at each allocation's relay socket, and the
 * relay's own in /metrics. Only its growth matters.
 */
static long
relay_drops(const struct pair *pp, size_t np)
{
	const char	*m[] = { "turncell_dropped_datagrams_total",
			    "turncell_worker_drops_total",
			    "turncell_queue_drops_total",
			    "turncell_send_errors_total", NULL };
	long		 sum = 0, v;
	size_t		 i;

	if ((v = tu_udp_drops(relay.port)) > 0)
		sum += v;
	for (i = 0; i < np; i++)
		if ((v = tu_udp_drops(pp[i].c.relayed[0].port)) > 0)
			sum += v;
	for (i = 0; m[i] != NULL; i++)
		if ((v = metric(m[i])) > 0)
			sum += v;
	return sum;
}

/* throw away whatever is still queued on a socket (a late datagram) */
static void
sock_flush(int fd)
{
	uint8_t	buf[2048];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

/* one burst of every pair in one direction: 1 complete, 0 lossy, -1 bad */
static int
burst_once(struct pair *pp, size_t np, int to_client, const char *what,
    unsigned attempt)
{
	static struct stream	s[MAX_STREAMS];
	struct sender		tx[MAX_STREAMS];
	char			name[MAX_STREAMS][64];
	uint64_t		t0, settle;
	long			d0, d1;
	size_t			i;
	int			intact, complete;

	d0 = relay_drops(pp, np);
	for (i = 0; i < np; i++) {
		struct pair	*p = &pp[i];

		sock_flush(p->c.fd);
		sock_flush(p->pfd);
		snprintf(name[i], sizeof(name[i]), "%s #%zu %s, burst %u",
		    what, i + 1, to_client ? "peer->client" : "client->peer",
		    attempt + 1);
		memset(&tx[i], 0, sizeof(tx[i]));
		/* a tag per burst: a late datagram of an earlier one is
		 * never taken for this one's */
		tx[i].tag = (uint8_t)(0x10 * (i + 1) + to_client +
		    0x40 * attempt);
		if (to_client) {
			stream_init(&s[i], name[i], tx[i].tag, p->c.fd, 1,
			    &p->c.server);
			tx[i].fd = p->pfd;
			tx[i].to = &p->c.relayed[0];
		} else {
			stream_init(&s[i], name[i], tx[i].tag, p->pfd, 0,
			    &p->c.relayed[0]);
			tx[i].fd = p->c.fd;
			tx[i].to = &p->c.server;
			tx[i].cdata = 1;
		}
	}
	t0 = tu_now_ms();
	senders_run(tx, np);
	streams_recv(s, np);
	streams_judge(s, np, tx, tu_now_ms() - t0, &intact, &complete);
	if (!intact) {
		for (i = 0; i < np; i++)
			diag_path(&pp[i].c, &pp[i].peer);
		diag_relay();
		return -1;
	}
	if (complete)
		return 1;
	/* lost some: a counter must say so (worker counters arrive with
	 * its next statistics record, so give them a few seconds) */
	settle = tu_now_ms() + 5000;
	while ((d1 = relay_drops(pp, np)) <= d0 && tu_now_ms() < settle)
		tu_sleep_ms(100);
	for (i = 0; i < np; i++)
		diag_path(&pp[i].c, &pp[i].peer);
	diag_relay();
	if (d1 <= d0) {
		diag("%s: datagrams lost and no drop counter moved", what);
		return -1;
	}
	diag("%s: the loss is counted (%ld drops on the relay's side); "
	    "bursting again", what, d1 - d0);
	return 0;
}

/*
 * Up to ATTEMPTS bursts: 1 when one was complete and every lossy one
 * before it was intact and counted. Under make check-asan (sanitizer
 * builds, several times slower) intact and counted bursts are enough.
 */
static int
burst(struct pair *pp, size_t np, int to_client, const char *what)
{
	unsigned	a;
	int		r = 0;

	for (a = 0; a < ATTEMPTS; a++) {
		if ((r = burst_once(pp, np, to_client, what, a)) != 0)
			break;
		if (!tu_sandboxed())
			return 1;
	}
	return r == 1;
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct pair		pp[2];
	const char		*ext[] = { "--unauth-rate", "0", NULL };
	size_t			i;
	int			up;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	memset(&o, 0, sizeof(o));
	o.health = "127.0.0.1:0";
	o.allow[0] = "127.0.0.0/8";
	for (i = 0; ext[i] != NULL; i++)
		o.extra[i] = ext[i];
	if (tu_relay_start(&relay, &o) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	health_port = relay.health_port;

	up = pair_open(&pp[0], "allocation #1") == 0;
	if (!up) {
		skip(3, "no allocation with a channel");
		goto out;
	}
	ok(burst(&pp[0], 1, 1, "(a)"), "(a) peer->client: %d datagrams "
	    "(%d..%d bytes) back to back arrive once, intact, in order",
	    BURST_N, MIN_LEN, MAX_LEN);
	ok(burst(&pp[0], 1, 0, "(b)"), "(b) client->peer: %d ChannelData "
	    "back to back arrive once, intact, in order", BURST_N);
	if (pair_open(&pp[1], "allocation #2") == -1) {
		ok(0, "(c) a second allocation with a channel");
		pair_close(&pp[1]);
	} else {
		int	c1, c2;

		c1 = burst(pp, 2, 1, "(c)");
		c2 = burst(pp, 2, 0, "(c)");
		ok(c1 && c2, "(c) two allocations at once, %d each way each: "
		    "both complete, intact, in order", BURST_N);
		pair_close(&pp[1]);
	}
out:
	pair_close(&pp[0]);
	ok(tu_relay_alive(&relay), "the supervisor is still running");
	if (tap_failed())
		tu_log_dump(&relay, 20);
	tu_relay_stop(&relay);
	return done_testing();
}
