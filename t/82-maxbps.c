/*
 * 82-maxbps.c: --max-bps (README.md, "Bandwidth limit"): each allocation
 * gets a token bucket per direction in its worker. A stream at twice the
 * limit is cut to about the limit (delivered bytes within a tolerance of
 * rate x time + burst), a stream at half the limit loses nothing, and the
 * dropped datagrams are counted in /metrics
 * (turncell_throttled_packets_total{direction}).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define RATE	200000		/* bytes per second */
#define BURST	65536		/* tbucket_burst(RATE) */
#define PAYLOAD	1000

static struct tu_relay	relay;
static long long	throttled_want;

static long long
metric(const char *name)
{
	return tp_metric(relay.health_port, name);
}

#define M_C2P "turncell_throttled_packets_total{direction=\"client_to_peer\"}"
#define M_P2C "turncell_throttled_packets_total{direction=\"peer_to_client\"}"

static int
metrics_caught_up(void *arg)
{
	(void)arg;
	return metric(M_C2P) + metric(M_P2C) >= throttled_want;
}

/* bytes waiting on fd, read without blocking; ChannelData counted by
 * payload when c is set */
static long
drain(int fd, struct tu_client *c, int wait_ms)
{
	uint8_t		buf[2048];
	uint16_t	ch;
	long		n, total = 0;

	for (;;) {
		if (c != NULL)
			n = tu_cdata_recv(c, &ch, buf, sizeof(buf), wait_ms);
		else
			n = tu_recvfrom(fd, buf, sizeof(buf), wait_ms, NULL);
		if (n < 0)
			return total;
		total += n;
	}
}

/*
 * Offer `per_tick` datagrams of PAYLOAD bytes every 10 ms for `ms`, one
 * way (c2p: client ChannelData to the peer; else the peer to the relayed
 * address); *offered gets what was sent, the return value what arrived,
 * *secs the time the offer took.
 */
static long
stream(struct tu_client *c, int pfd, int c2p, int per_tick, int ms,
    long *offered, double *secs)
{
	uint8_t		buf[PAYLOAD];
	uint64_t	t0 = tu_now_ms(), next = t0;
	long		got = 0;
	int		i;

	memset(buf, 0x5a, sizeof(buf));
	*offered = 0;
	while (tu_now_ms() < t0 + (uint64_t)ms) {
		for (i = 0; i < per_tick; i++) {
			if (c2p)
				tu_cdata_send(c, 0x4000, buf, sizeof(buf));
			else
				tu_sendto(pfd, &c->relayed[0], buf,
				    sizeof(buf));
			*offered += PAYLOAD;
		}
		next += 10;
		/* read as we go: nothing waits in a socket buffer */
		got += c2p ? drain(pfd, NULL, 0) : drain(-1, c, 0);
		while (tu_now_ms() < next)
			tu_sleep_ms(1);
	}
	*secs = (double)(tu_now_ms() - t0) / 1000.0;
	got += c2p ? drain(pfd, NULL, 300) : drain(-1, c, 300);
	return got;
}

static void
over_and_under(struct tu_client *c, int pfd, int c2p)
{
	const char	*dir = c2p ? "client -> peer" : "peer -> client";
	long		 offered, got, max;
	double		 secs;

	/* 8 x 1000 bytes per 10 ms: 800 kB/s, four times the limit */
	got = stream(c, pfd, c2p, 8, 2000, &offered, &secs);
	max = (long)(RATE * (secs + 0.1)) + BURST + PAYLOAD;
	ok(got <= max && got >= (long)(RATE * secs * 0.8),
	    "%s at 4x the limit for %.2f s: %ld of %ld bytes delivered "
	    "(want %ld..%ld)", dir, secs, got, offered,
	    (long)(RATE * secs * 0.8), max);
	throttled_want += (offered - got) / PAYLOAD * 9 / 10;
	/* the bucket refills in BURST / RATE = 0.33 s */
	tu_sleep_ms(500);
	/* 1 x 1000 bytes per 10 ms: 100 kB/s, half the limit */
	got = stream(c, pfd, c2p, 1, 1000, &offered, &secs);
	is_int(got, offered, "%s at half the limit: all %ld bytes delivered",
	    dir, offered);
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct tu_client	c;
	struct taddr		pa;
	long long		before;
	int			pfd, caught;

	tu_init(120);
	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.health = "127.0.0.1:0";
	o.extra[0] = "--max-bps";
	o.extra[1] = "200000";
	if (tu_relay_start(&relay, &o) == -1 || tu_client_open(&c, &relay,
	    ADDR_V4) == -1 || (pfd = tu_udp_bind(ADDR_V4, 0)) == -1) {
		ok(0, "relay, client and peer");
		return done_testing();
	}
	tu_rcvbuf(pfd, 4 << 20);
	tu_rcvbuf(c.fd, 4 << 20);
	tu_sock_addr(pfd, &pa);
	is_int(tu_allocate(&c, 600, 0, 0), 0, "allocate");
	is_int(tu_chanbind(&c, 0x4000, &pa), 0, "channel to the peer");
	before = metric(M_C2P);
	ok(before == 0 && metric(M_P2C) == 0,
	    "/metrics: both throttled counters present, 0");

	over_and_under(&c, pfd, 1);
	over_and_under(&c, pfd, 0);

	/* workers report every 10 s */
	caught = throttled_want > 0 &&
	    tu_wait_for(metrics_caught_up, NULL, 15000);
	ok(caught, "/metrics counts the dropped datagrams (%lld + %lld, "
	    "want >= %lld)", metric(M_C2P), metric(M_P2C), throttled_want);
	ok(metric(M_C2P) > 0 && metric(M_P2C) > 0,
	    "each direction counted on its own");
	tu_client_close(&c);
	close(pfd);
	tu_relay_stop(&relay);
	return done_testing();
}
