/*
 * 31-relay.c: the worker's channel table (common/relay.c).
 *
 * Add/del/lookup both ways, the peer filter applied again at send time
 * (attack case 11), conflicts, a full table, and a randomised
 * add/del run checked against a naive model (the peer hash uses
 * backward-shift deletion, which is easy to get subtly wrong).
 */
#include <errno.h>
#include <string.h>

#include "relay.h"
#include "tap.h"

static struct taddr
mk4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct taddr	t;

	memset(&t, 0, sizeof(t));
	t.family = ADDR_V4;
	t.port = port;
	t.ip[0] = a;
	t.ip[1] = b;
	t.ip[2] = c;
	t.ip[3] = d;
	return t;
}

static void
test_basic(void)
{
	struct peer_filter	 f;
	struct relay		*r;
	struct taddr		 p1, p2, p6, q;
	const struct taddr	*got;

	memset(&f, 0, sizeof(f));
	r = relay_new(&f);
	ok(r != NULL && relay_count(r) == 0 && relay_denied(r) == 0,
	    "new table is empty");
	p1 = mk4(93, 184, 216, 34, 5000);
	p2 = mk4(93, 184, 216, 34, 5001);
	memset(&p6, 0, sizeof(p6));
	p6.family = ADDR_V6;
	p6.port = 443;
	memcpy(p6.ip, "\x26\x06\x47\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x11\x11", 16);

	is_int(relay_chan_add(r, 0x4000, &p1), 0, "add 0x4000 -> v4 peer");
	is_int(relay_chan_add(r, 0x4fff, &p6), 0, "add 0x4fff -> v6 peer");
	is_int((long long)relay_count(r), 2, "two channels");
	got = relay_to_peer(r, 0x4000);
	ok(got != NULL && addr_eq(got, &p1), "to_peer 0x4000");
	got = relay_to_peer(r, 0x4fff);
	ok(got != NULL && addr_eq(got, &p6), "to_peer 0x4fff");
	ok(relay_to_peer(r, 0x4001) == NULL, "to_peer unbound channel");
	ok(relay_to_peer(r, 0x3fff) == NULL && relay_to_peer(r, 0x5000) ==
	    NULL && relay_to_peer(r, 0) == NULL, "to_peer out of range");
	is_int(relay_from_peer(r, &p1), 0x4000, "from_peer v4");
	is_int(relay_from_peer(r, &p6), 0x4fff, "from_peer v6");
	is_int(relay_from_peer(r, &p2), 0, "from_peer other port");
	q = p1;
	q.ip[3] = 35;
	is_int(relay_from_peer(r, &q), 0, "from_peer other address");
	q = p1;
	q.ip[9] = 0xee;		/* junk past an IPv4 address is ignored */
	is_int(relay_from_peer(r, &q), 0x4000, "from_peer v4 canonical");
	q = p1;
	q.family = ADDR_V6;
	is_int(relay_from_peer(r, &q), 0, "from_peer family differs");
	is_int(relay_denied(r), 0, "nothing denied so far");

	/* refresh, rebind, conflicts */
	is_int(relay_chan_add(r, 0x4000, &p1), 0, "same binding again: ok");
	is_int((long long)relay_count(r), 2, "refresh does not add");
	errno = 0;
	ok(relay_chan_add(r, 0x4000, &p2) == -1 && errno == EEXIST,
	    "same number to a second peer refused");
	ok(relay_chan_add(r, 0x4001, &p1) == -1 && errno == EEXIST,
	    "same peer on a second number refused");
	got = relay_to_peer(r, 0x4000);
	ok(got != NULL && addr_eq(got, &p1) && relay_from_peer(r, &p2) == 0,
	    "conflicts left the table unchanged");

	/* bad arguments */
	errno = 0;
	ok(relay_chan_add(r, 0x3fff, &p2) == -1 && errno == EINVAL,
	    "channel 0x3fff refused");
	ok(relay_chan_add(r, 0x5000, &p2) == -1, "channel 0x5000 refused");
	q = p2;
	q.port = 0;
	ok(relay_chan_add(r, 0x4002, &q) == -1, "peer port 0 refused");
	q = p2;
	q.family = 0;
	ok(relay_chan_add(r, 0x4002, &q) == -1, "peer family 0 refused");
	ok(relay_chan_add(r, 0x4002, NULL) == -1, "NULL peer refused");
	is_int(relay_from_peer(r, &q), 0, "from_peer family 0");

	/* delete */
	is_int(relay_chan_del(r, 0x4000), 0, "del 0x4000");
	ok(relay_to_peer(r, 0x4000) == NULL && relay_from_peer(r, &p1) == 0,
	    "deleted both ways");
	errno = 0;
	ok(relay_chan_del(r, 0x4000) == -1 && errno == ENOENT,
	    "del again refused");
	ok(relay_chan_del(r, 0x3000) == -1, "del out of range refused");
	is_int(relay_chan_add(r, 0x4000, &p2), 0,
	    "number free again: rebind to another peer");
	is_int(relay_chan_add(r, 0x4001, &p1), 0, "old peer on a new number");
	is_int((long long)relay_count(r), 3, "three channels");
	relay_free(r);
}

static void
test_denied(void)
{
	struct peer_filter	 f;
	struct relay		*r;
	struct taddr		 lo, meta, pub, self;

	/* attack case 11: a channel to loopback slipped past the supervisor */
	memset(&f, 0, sizeof(f));
	r = relay_new(&f);
	lo = mk4(127, 0, 0, 1, 9999);
	is_int(relay_chan_add(r, 0x4000, &lo), 0,
	    "channel to 127.0.0.1 can be added (no filter at add)");
	ok(relay_to_peer(r, 0x4000) == NULL, "denied at send time");
	is_int(relay_denied(r), 1, "relay_denied() == 1");
	ok(relay_to_peer(r, 0x4000) == NULL && relay_denied(r) == 2,
	    "denied again, counted again");
	meta = mk4(169, 254, 169, 254, 80);
	ok(relay_chan_add(r, 0x4001, &meta) == 0 &&
	    relay_to_peer(r, 0x4001) == NULL && relay_denied(r) == 3,
	    "cloud metadata denied at send time");
	pub = mk4(93, 184, 216, 34, 80);
	ok(relay_chan_add(r, 0x4002, &pub) == 0 &&
	    relay_to_peer(r, 0x4002) != NULL && relay_denied(r) == 3,
	    "public peer allowed, not counted");
	relay_free(r);

	/* --allow-peer 127.0.0.0/8 opens loopback; the caller's filter may go */
	memset(&f, 0, sizeof(f));
	ok(peer_cidr_parse("127.0.0.0/8", &f.allow[0]) == 0, "parse 127/8");
	f.n_allow = 1;
	self = mk4(127, 0, 0, 1, 3478);
	f.self[0] = self;
	f.n_self = 1;
	r = relay_new(&f);
	memset(&f, 0, sizeof(f));
	ok(relay_chan_add(r, 0x4000, &lo) == 0 &&
	    relay_to_peer(r, 0x4000) != NULL && relay_denied(r) == 0,
	    "allowed range: loopback peer sent to (filter copied)");
	ok(relay_chan_add(r, 0x4001, &self) == 0 &&
	    relay_to_peer(r, 0x4001) == NULL && relay_denied(r) == 1,
	    "relay's own listen address still denied");
	ok(relay_chan_add(r, 0x4002, &meta) == 0 &&
	    relay_to_peer(r, 0x4002) == NULL && relay_denied(r) == 2,
	    "link-local still denied");
	relay_free(r);
}

static void
test_full(void)
{
	struct peer_filter	 f;
	struct relay		*r;
	struct taddr		 p;
	int			 i, fails = 0;

	memset(&f, 0, sizeof(f));
	r = relay_new(&f);
	for (i = 0; i < RELAY_MAX_CHANNELS; i++) {
		p = mk4(93, 184, (uint8_t)(i >> 8), (uint8_t)i, 7000);
		if (relay_chan_add(r, (uint16_t)(0x4000 + i * 3), &p) != 0)
			fails++;
	}
	ok(fails == 0 && relay_count(r) == RELAY_MAX_CHANNELS,
	    "%d channels added", RELAY_MAX_CHANNELS);
	p = mk4(93, 185, 0, 1, 7000);
	errno = 0;
	ok(relay_chan_add(r, 0x4fff, &p) == -1 && errno == ENOSPC,
	    "table full refused");
	for (i = 0, fails = 0; i < RELAY_MAX_CHANNELS; i++) {
		struct taddr q = mk4(93, 184, (uint8_t)(i >> 8), (uint8_t)i,
		    7000);
		if (relay_from_peer(r, &q) != 0x4000 + i * 3)
			fails++;
	}
	is_int(fails, 0, "every peer found in a full table");
	ok(relay_chan_del(r, 0x4003) == 0 &&
	    relay_chan_add(r, 0x4fff, &p) == 0 &&
	    relay_from_peer(r, &p) == 0x4fff, "room again after a delete");
	relay_free(r);
}

/* random add/del against a naive model */
static uint32_t	rng_state = 0x12345678;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

#define MODEL_CHANS	320	/* more numbers than slots */
#define MODEL_PEERS	400

static void
test_model(void)
{
	struct peer_filter	 f;
	struct relay		*r;
	int			 chan_peer[MODEL_CHANS];	/* -1 none */
	int			 peer_chan[MODEL_PEERS];
	struct taddr		 peers[MODEL_PEERS];
	const struct taddr	*got;
	int			 i, c, pi, rv, want, n = 0, mismatch = 0;

	memset(&f, 0, sizeof(f));
	r = relay_new(&f);
	for (i = 0; i < MODEL_CHANS; i++)
		chan_peer[i] = -1;
	for (i = 0; i < MODEL_PEERS; i++) {
		peer_chan[i] = -1;
		/* few distinct hashes: many collisions in the probe runs */
		peers[i] = mk4(93, 184, 0, (uint8_t)(i % 7), (uint16_t)(1000 + i));
	}
	for (i = 0; i < 40000; i++) {
		c = (int)(rng() % MODEL_CHANS);
		pi = (int)(rng() % MODEL_PEERS);
		if (rng() % 3 == 0) {
			rv = relay_chan_del(r, (uint16_t)(0x4000 + c));
			want = chan_peer[c] >= 0 ? 0 : -1;
			if (rv == 0 && want == 0) {
				peer_chan[chan_peer[c]] = -1;
				chan_peer[c] = -1;
				n--;
			}
		} else {
			rv = relay_chan_add(r, (uint16_t)(0x4000 + c), &peers[pi]);
			if (chan_peer[c] == pi)
				want = 0;
			else if (chan_peer[c] >= 0 || peer_chan[pi] >= 0 ||
			    n == RELAY_MAX_CHANNELS)
				want = -1;
			else {
				want = 0;
				chan_peer[c] = pi;
				peer_chan[pi] = c;
				n++;
			}
		}
		if (rv != want)
			mismatch++;
		/* spot checks every step, full checks now and then */
		got = relay_to_peer(r, (uint16_t)(0x4000 + c));
		if ((chan_peer[c] < 0) != (got == NULL) ||
		    (got != NULL && !addr_eq(got, &peers[chan_peer[c]])))
			mismatch++;
		if (relay_from_peer(r, &peers[pi]) != (peer_chan[pi] < 0 ? 0 :
		    0x4000 + peer_chan[pi]))
			mismatch++;
		if (i % 1000 == 0) {
			int j;
			for (j = 0; j < MODEL_PEERS; j++)
				if (relay_from_peer(r, &peers[j]) !=
				    (peer_chan[j] < 0 ? 0 : 0x4000 + peer_chan[j]))
					mismatch++;
		}
		if ((int)relay_count(r) != n)
			mismatch++;
	}
	is_int(mismatch, 0, "40000 random adds/deletes agree with the model");
	ok(n > 100, "the model reached %d live channels", n);
	relay_free(r);
}

int
main(void)
{
	test_basic();
	test_denied();
	test_full();
	test_model();
	return done_testing();
}
