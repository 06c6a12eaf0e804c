/*
 * 27-turn-channel: table tests of the engine's rules, CHANNEL-BIND and the
 * data path through the worker: channel validity, rebinding, expiry, and
 * the rules for frames a worker sends back.
 *
 * Built on the engine harness (t/tengine.h) and the independent test
 * encoder (t/tstun.h): requests are built and responses read without
 * stun.c. Every error response is checked for its exact code, its
 * transaction id, and whether it is signed (SOFTWARE first,
 * MESSAGE-INTEGRITY valid under the client's key) or unsigned (no
 * SOFTWARE, no MESSAGE-INTEGRITY); every 401/438 for REALM "firezone" and
 * the nonce computed for the source at now. All-zero RNG: nonce key 32
 * zero bytes, first port = lowest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "auth.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

/* turn_worker_data: frames from a worker are checked before anything
 * is sent, and a broken one stops that worker */
static void
test_worker_data(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct ts_req		 r;
	struct turn_stats	 st;
	uint32_t		 id;
	int			 rc, k;
	static const struct {
		const char	*hex;
		const char	*name;
	} bad[] = {
		{ "40010002cafe", "frame on an unbound channel" },
		{ "40000005cafe", "frame length past the end" },
		{ "40000002cafe00", "trailing byte" },
		{ "400000", "short header" },
		{ "", "no frame at all" },
		{ "40000002cafe40010001ff", "second frame unbound" },
		/* attack case 49: empty frames cost sends and relay nothing */
		{ "40000000", "an empty frame on a bound channel" },
		{ "40000002cafe4000000040000000", "empty frames after a good one" },
	};
	uint8_t			 buf[64];
	size_t			 len, i;

	te_conf_init(&conf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = te_start(&conf);
		id = te_allocate(t, &c, &te_u, -1, 1, bad[i].name);
		te_chanbind_req(&r, &te_u, &c, 0x4000, &p);
		te_input(t, &r, &c);
		len = tap_unhex(bad[i].hex, buf, sizeof(buf));
		rc = turn_worker_data(t, id, buf, len, te_now);
		te_collect(t);
		is_int(rc, -1, "%s: hostile", bad[i].name);
		ok(te_nrecs >= 1 && te_is_stop(te_nrecs - 1, id,
		    TURN_STOP_HOSTILE),
		    "%s: WORKER_STOP(HOSTILE) last", bad[i].name);
		if (te_nrecs < 1 || !te_is_stop(te_nrecs - 1, id,
		    TURN_STOP_HOSTILE))
			te_dump_cmds();
		for (k = 0; k + 1 < (int)te_nrecs; k++)
			if (te_recs[k].c.type != TURN_CMD_SEND &&
			    te_recs[k].c.type != TURN_CMD_SEND_FRAMES)
				ok(0, "%s: only SENDs before the stop",
				    bad[i].name);
		is_int(turn_alloc_count(t), 0, "%s: allocation freed",
		    bad[i].name);
		turn_get_stats(t, &st);
		is_int((long long)st.hostile_workers, 1,
		    "%s: stats.hostile_workers", bad[i].name);
		te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6,
		    &c);
		te_expect_none("ChannelData after the hostile stop");
		turn_free(t);
	}

	t = te_start(&conf);
	id = te_allocate(t, &c, &te_u, -1, 1, "good frames");
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p);
	te_input(t, &r, &c);
	len = tap_unhex("40000002cafe" "40000001ab" "40000002cdef", buf,
	    sizeof(buf));
	rc = turn_worker_data(t, id, buf, len, te_now);
	te_collect(t);
	is_int(rc, 0, "three good frames accepted");
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND_FRAMES &&
	    te_recs[0].orig == buf && te_recs[0].c.len == len &&
	    memcmp(te_recs[0].c.data, buf, len) == 0 &&
	    te_same_addr(&te_recs[0].c.addr, &c),
	    "one SEND_FRAMES for the record: every frame, headers included, "
	    "in place, to the client");
	turn_get_stats(t, &st);
	is_int((long long)st.packets_p2c, 3, "stats: three frames to the client");
	is_int((long long)st.bytes_p2c, 5, "stats: five payload bytes");
	rc = turn_worker_data(t, 4242, buf, len, te_now);
	te_collect(t);
	is_int(rc, 0, "unknown alloc_id: 0 (teardown race)");
	te_expect_none("unknown alloc_id");

	/* a STARTING allocation has no channels */
	{
		struct taddr	c2 = te_addr("198.51.100.9", 40000);
		uint32_t	id2;

		id2 = te_allocate(t, &c2, &te_u, -1, 0, "starting");
		rc = turn_worker_data(t, id2, buf, 6, te_now);
		te_collect(t);
		is_int(rc, -1, "data from a STARTING allocation: hostile");
		ok(te_nrecs == 1 && te_is_stop(0, id2, TURN_STOP_HOSTILE),
		    "WORKER_STOP(HOSTILE) for it");
	}
	turn_free(t);
}

/* a frame on a cooling channel inside a record is dropped: the frames
 * around it go out as two SEND_FRAMES, in order */
static void
test_worker_data_split(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p1 = te_addr("192.0.2.50", 5000);
	struct taddr		 p2 = te_addr("192.0.2.51", 5000);
	struct ts_req		 r;
	struct turn_stats	 st;
	uint8_t			 buf[64];
	uint64_t		 t0;
	size_t			 len;
	uint32_t		 id;
	int			 rc;

	t = te_new();
	id = te_allocate(t, &c, &te_u, -1, 1, "split");
	t0 = te_now;
	te_chanbind_req(&r, &te_u, &c, 0x4001, &p2);
	te_input(t, &r, &c);
	te_now = t0 + 300 * TE_SEC;
	te_refresh_req(&r, &te_u, &c, 600);
	te_input(t, &r, &c);
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p1);
	te_input(t, &r, &c);
	te_tick(t, t0 + 600 * TE_SEC);
	ok(te_nrecs >= 1 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_DEL &&
	    te_recs[0].c.chan == 0x4001, "0x4001 expires, 0x4000 stays");
	te_now = t0 + 601 * TE_SEC;
	len = tap_unhex("40000002cafe" "40010001ff" "40000003abcdef", buf,
	    sizeof(buf));
	rc = turn_worker_data(t, id, buf, len, te_now);
	te_collect(t);
	is_int(rc, 0, "a cooling channel in a record is not hostile");
	ok(te_nrecs == 2 &&
	    te_recs[0].c.type == TURN_CMD_SEND_FRAMES &&
	    te_recs[0].orig == buf && te_recs[0].c.len == 6 &&
	    te_recs[1].c.type == TURN_CMD_SEND_FRAMES &&
	    te_recs[1].orig == buf + 11 && te_recs[1].c.len == 7 &&
	    memcmp(te_recs[1].c.data, buf + 11, 7) == 0 &&
	    te_same_addr(&te_recs[1].c.addr, &c),
	    "two SEND_FRAMES around the dropped frame");
	if (te_nrecs != 2)
		te_dump_cmds();
	turn_get_stats(t, &st);
	is_int((long long)st.packets_p2c, 2, "stats: two frames sent");
	is_int((long long)st.dropped, 1, "stats: one frame dropped");
	turn_free(t);
}

/* CHANNEL-BIND validity and order (attack case 29) */
static void
test_channel_bind(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.9", 40000);
	struct taddr		 c6 = te_addr("198.51.100.10", 40000);
	struct taddr		 p1 = te_addr("192.0.2.50", 5000);
	struct taddr		 p1b = te_addr("192.0.2.50", 5001);
	struct taddr		 p2 = te_addr("192.0.2.51", 5000);
	struct taddr		 lo = te_addr("127.0.0.1", 5000);
	struct taddr		 v6 = te_addr("2001:db8:5::5", 5000);
	struct ts_req		 r;
	struct turn_stats	 st;
	uint32_t		 id, id2, id6;
	uint64_t		 tb;
	int			 i, good;

	t = te_new();

	te_chanbind_req(&r, &te_u, &c, 0x4000, &p1);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 437, te_u.key, "no allocation");
	id2 = te_allocate(t, &c2, &te_u, 3600, 0, "starting");
	te_chanbind_req(&r, &te_u, &c2, 0x4000, &p1);
	te_input(t, &r, &c2);
	te_expect_err(&c2, &r, M_CHANBIND, 437, te_u.key,
	    "STARTING allocation");

	/* pre-auth 400s */
	ts_req_init(&r, M_CHANBIND, C_REQ);
	ts_req_xaddr(&r, A_PEER, &p1);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 400, NULL,
	    "CHANNEL-NUMBER missing (no credentials: 400 before 401)");
	ts_req_init(&r, M_CHANBIND, C_REQ);
	ts_req_channel(&r, 0x4000);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 400, NULL,
	    "XOR-PEER-ADDRESS missing");

	id = te_allocate(t, &c, &te_u, 3600, 1, "v4 allocation");
	te_chanbind_req(&r, &te_u, &c, 0x4000, &lo);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 403, te_u.key, "peer 127.0.0.1");
	te_chanbind_req(&r, &te_u, &c, 0x4000, &v6);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 443, te_u.key,
	    "IPv6 peer on an IPv4 allocation");

	tb = te_now;
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p1);
	te_input(t, &r, &c);
	ok(te_nrecs == 2 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    te_recs[0].c.alloc_id == id && te_recs[0].c.chan == 0x4000 &&
	    te_same_addr(&te_recs[0].c.addr, &p1), "bind 0x4000 -> CHAN_ADD");
	te_check_resp(1, &c, &r, M_CHANBIND, C_OK, 0, te_u.key, "then success");
	{
		/* what the XDP fast path keys a CHAN_ADD's channel by */
		struct taddr	cl;
		uint16_t	port = 0;

		memset(&cl, 0, sizeof(cl));
		ok(turn_alloc_addrs(t, id, &cl, &port) == 0 &&
		    te_same_addr(&cl, &c) && port >= 49152,
		    "turn_alloc_addrs: the client address and a relay port");
		ok(turn_alloc_addrs(t, id + 1000, &cl, &port) == -1,
		    "turn_alloc_addrs: -1 for an unknown allocation");
	}
	ok(te_nrecs == 2 && ts_nattrs(te_recs[1].c.data, te_recs[1].c.len) == 2,
	    "success carries only SOFTWARE and MI");
	ok(turn_next_timeout(t) == tb + 600 * TE_SEC,
	    "timer at the channel expiry (600 s)");

	te_chanbind_req(&r, &te_u, &c, 0x4001, &p1);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 400, te_u.key,
	    "same peer, other channel");
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p2);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 400, te_u.key,
	    "same channel, other peer");
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p1b);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 400, te_u.key,
	    "same channel, same IP other port");

	/* same channel + peer: refresh, no second CHAN_ADD */
	te_now += 100 * TE_SEC;
	tb = te_now;
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p1);
	te_input(t, &r, &c);
	ok(te_nrecs == 1, "refresh of a bound channel: no CHAN_ADD");
	te_check_resp(0, &c, &r, M_CHANBIND, C_OK, 0, te_u.key,
	    "refresh success");
	ok(turn_next_timeout(t) == tb + 600 * TE_SEC, "refreshed expiry");

	/* the STARTING allocation did not get the channel */
	turn_worker_ready(t, id2, te_now);
	te_collect(t);
	te_check_resp(0, &c2, NULL, M_ALLOCATE, C_OK, 0, te_u.key,
	    "the STARTING allocation becomes ready");
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c2);
	te_expect_none("ChannelData from the client without that channel");

	/* ChannelData with padding is accepted; c2 has no such channel */
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe\x00\x00", 8,
	    &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_DATA &&
	    te_recs[0].c.len == 2 && te_recs[0].c.chan == 0x4000 &&
	    te_recs[0].c.alloc_id == id,
	    "padded ChannelData -> 2-byte payload");
	te_input_raw(t, (const uint8_t *)"\x40\x01\x00\x02\xca\xfe", 6, &c);
	te_expect_none("ChannelData on an unbound number");
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x05\xca\xfe", 6, &c);
	te_expect_none("ChannelData length past the end");

	/* expiry: bound -> cooling down (CHAN_DEL), data dropped */
	te_tick(t, tb + 600 * TE_SEC);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_DEL &&
	    te_recs[0].c.alloc_id == id && te_recs[0].c.chan == 0x4000,
	    "channel expiry -> CHAN_DEL");
	if (te_nrecs != 1)
		te_dump_cmds();
	turn_get_stats(t, &st);
	is_int((long long)st.channels, 0, "no bound channel");
	ok(turn_next_timeout(t) == tb + 900 * TE_SEC,
	    "timer at the end of the cool-down");
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	te_expect_none("ChannelData on a cooling-down channel");
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p2);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 400, te_u.key,
	    "cooling-down channel, other peer");
	te_chanbind_req(&r, &te_u, &c, 0x4001, &p1);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 400, te_u.key,
	    "cooling-down peer, other channel");

	/* rebinding during the cool-down re-emits CHAN_ADD */
	te_now += 10 * TE_SEC;
	tb = te_now;
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p1);
	te_input(t, &r, &c);
	ok(te_nrecs == 2 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    te_recs[0].c.chan == 0x4000 && te_same_addr(&te_recs[0].c.addr,
	    &p1),
	    "rebind while cooling down -> CHAN_ADD again");
	te_check_resp(1, &c, &r, M_CHANBIND, C_OK, 0, te_u.key,
	    "rebind success");
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_DATA,
	    "ChannelData flows again");

	/* expire and let the cool-down end: number and peer free again */
	te_tick(t, tb + 600 * TE_SEC);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_DEL,
	    "second expiry -> CHAN_DEL");
	te_tick(t, tb + 900 * TE_SEC - 1);
	te_expect_none("tick just before the end of the cool-down");
	te_tick(t, tb + 900 * TE_SEC);
	te_expect_none("end of the cool-down (channel deleted silently)");
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p2);
	te_input(t, &r, &c);
	ok(te_nrecs == 2 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    te_same_addr(&te_recs[0].c.addr, &p2),
	    "after the cool-down the number binds to another peer");

	/* dual-stack allocation takes an IPv6 peer */
	{
		struct ts_req	ra;

		ts_req_init(&ra, M_ALLOCATE, C_REQ);
		ts_req_byte(&ra, A_TRANSPORT, 17);
		ts_req_byte(&ra, A_ADD_FAM, 2);
		te_auth_req(&ra, &te_u, &c6);
		te_input(t, &ra, &c6);
		id6 = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
		turn_worker_ready(t, id6, te_now);
		te_collect(t);
		te_chanbind_req(&r, &te_u, &c6, 0x4000, &v6);
		te_input(t, &r, &c6);
		ok(te_nrecs == 2 && te_recs[0].c.type ==
		    TURN_CMD_WORKER_CHAN_ADD && te_recs[0].c.alloc_id == id6 &&
		    te_same_addr(&te_recs[0].c.addr, &v6),
		    "IPv6 peer on a dual-stack allocation, same number as "
		    "another client's");
	}

	/* TURN_MAX_CHANNELS per allocation, then 508 */
	good = 1;
	for (i = 1; i < TURN_MAX_CHANNELS; i++) {	/* 0x4000 is bound */
		struct taddr	pp;

		pp = te_addr("192.0.2.100", (uint16_t)(10000 + i));

		te_chanbind_req(&r, &te_u, &c, 0x4000 + (unsigned)i, &pp);
		te_input(t, &r, &c);
		if (te_nrecs != 2 ||
		    te_recs[0].c.type != TURN_CMD_WORKER_CHAN_ADD) {
			good = 0;
			diag("channel %d failed", i);
			te_dump_cmds();
			break;
		}
	}
	ok(good, "%d channels bound", TURN_MAX_CHANNELS);
	{
		struct taddr	pp = te_addr("192.0.2.100", 9999);

		te_chanbind_req(&r, &te_u, &c, 0x4000 + TURN_MAX_CHANNELS, &pp);
		te_input(t, &r, &c);
		te_expect_err(&c, &r, M_CHANBIND, 508, te_u.key,
		    "one channel more than TURN_MAX_CHANNELS");
	}

	/* deleting the allocation deletes its channels at once */
	te_refresh_req(&r, &te_u, &c, 0);
	te_input(t, &r, &c);
	ok(te_nrecs == 2 && te_is_stop(0, id, TURN_STOP_DELETED),
	    "REFRESH 0 -> WORKER_STOP(DELETED), success");
	turn_get_stats(t, &st);
	is_int((long long)st.channels, 1,
	    "only the other allocation's channel is left");
	turn_free(t);
}

int
main(void)
{
	te_creds();

	test_worker_data();
	test_worker_data_split();
	test_channel_bind();
	is_int(te_leaks, 0, "no LOG held a password or a nonce MAC");
	return done_testing();
}
