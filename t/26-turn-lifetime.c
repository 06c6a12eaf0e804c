/*
 * 26-turn-lifetime: table tests of the engine's rules, lifetimes and
 * REFRESH: clamping, expiry, REFRESH 0, REFRESH while the worker starts,
 * replays and smuggled attributes, and the drain.
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

static void
test_lifetime(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	t = te_new();

	/* clamped to 3600 (client_message.rs) */
	te_alloc_req(&r, &te_u, &c, 10000000);
	te_input(t, &r, &c);
	id = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
	te_ncmds(1, "ALLOCATE LIFETIME 10000000");
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	is_int(te_resp_lifetime(0), 3600, "ALLOCATE LIFETIME 10000000 -> 3600");
	ok(turn_next_timeout(t) == te_now + 3600 * TE_SEC,
	    "timer at now + 3600 s");

	/* REFRESH clamps the same way */
	te_refresh_req(&r, &te_u, &c, 10000000);
	te_input(t, &r, &c);
	te_check_resp(0, &c, &r, M_REFRESH, C_OK, 0, te_u.key,
	    "REFRESH success");
	is_int(te_resp_lifetime(0), 3600, "REFRESH LIFETIME 10000000 -> 3600");

	/* REFRESH replaces the expiry, it does not add */
	te_now += 10 * TE_SEC;
	te_refresh_req(&r, &te_u, &c, 1000);
	te_input(t, &r, &c);
	is_int(te_resp_lifetime(0), 1000, "REFRESH LIFETIME 1000 -> 1000");
	ok(turn_next_timeout(t) == te_now + 1000 * TE_SEC,
	    "REFRESH replaces the expiry (te_now + 1000 s)");
	te_tick(t, te_now + 1000 * TE_SEC - 1);
	te_expect_none("tick 1 ms before the expiry");
	te_tick(t, te_now + 1);
	te_ncmds(1, "tick at the expiry");
	ok(te_is_stop(0, id, TURN_STOP_EXPIRED), "WORKER_STOP(EXPIRED)");
	is_int(turn_alloc_count(t), 0, "allocation gone");
	ok(turn_next_timeout(t) == UINT64_MAX, "no timer left");

	/*
	 * RFC 8656 §7.2/§8: never below the 600 s default; only REFRESH 0
	 * deletes (an honoured ALLOCATE LIFETIME 0 let one replayed request
	 * start and stop a worker per packet: attack case 28)
	 */
	id = te_allocate(t, &c, &te_u, -1, 1, "no LIFETIME");
	is_int(te_resp_lifetime(0), 600, "no LIFETIME -> 600");
	te_refresh_req(&r, &te_u, &c, 1);
	te_input(t, &r, &c);
	is_int(te_resp_lifetime(0), 600, "REFRESH LIFETIME 1 -> 600");
	te_refresh_req(&r, &te_u, &c, 599);
	te_input(t, &r, &c);
	is_int(te_resp_lifetime(0), 600, "REFRESH LIFETIME 599 -> 600");
	te_tick(t, te_now + TE_SEC);
	te_expect_none("LIFETIME 1 does not expire 1 s later");
	te_refresh_req(&r, &te_u, &c, 0);
	te_input(t, &r, &c);
	ok(te_nrecs == 2 && te_is_stop(0, id, TURN_STOP_DELETED),
	    "REFRESH LIFETIME 0 still deletes");
	is_int(te_resp_lifetime(1), 0, "REFRESH LIFETIME 0 -> LIFETIME 0");

	id = te_allocate(t, &c, &te_u, 0, 1, "ALLOCATE LIFETIME 0");
	is_int(te_resp_lifetime(0), 600, "ALLOCATE LIFETIME 0 -> 600");
	ok(turn_next_timeout(t) == te_now + 600 * TE_SEC, "timer at te_now + 600 s");
	te_tick(t, te_now);
	te_expect_none("ALLOCATE LIFETIME 0: not stopped at the next tick");
	is_int(turn_alloc_count(t), 1, "ALLOCATE LIFETIME 0: allocation kept");
	id = 0;
	te_alloc_req(&r, &te_u, &c, 1);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 437, te_u.key,
	    "second ALLOCATE LIFETIME 1 from the same 5-tuple");
	(void)id;
	turn_free(t);
}

/* drain: new allocations refused (ALTERNATE-SERVER when configured),
 * existing ones served until they end */
static void
test_drain(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c1 = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.8", 40000);
	struct taddr		 c3 = te_addr("198.51.100.9", 40000);
	struct ts_req		 r;
	const uint8_t		*v;
	size_t			 vlen;
	uint32_t		 id1, id2;
	uint64_t		 deadline;
	int			 s1 = 0, s2 = 0;
	size_t			 i;

	te_conf_init(&conf);
	t = te_start(&conf);
	id1 = te_allocate(t, &c1, &te_u, -1, 1, "before drain");
	turn_drain(t, te_now, 0);
	te_collect(t);
	te_alloc_req(&r, &te_u, &c2, -1);
	te_input(t, &r, &c2);
	te_expect_err(&c2, &r, M_ALLOCATE, 508, te_u.key,
	    "ALLOCATE while draining");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_input(t, &r, &c2);
	te_expect_err(&c2, &r, M_ALLOCATE, 401, NULL,
	    "unauthenticated ALLOCATE while draining (auth first)");
	te_refresh_req(&r, &te_u, &c1, 900);
	te_input(t, &r, &c1);
	te_check_resp(0, &c1, &r, M_REFRESH, C_OK, 0, te_u.key,
	    "REFRESH while draining works");
	is_int(te_resp_lifetime(0), 900, "no deadline: lifetime not clamped");
	(void)id1;
	turn_free(t);

	/* with an alternate server: 300 Try Alternate */
	te_conf_init(&conf);
	te_set_ip(&conf.alternate, "198.51.100.99", 3478);
	t = te_start(&conf);
	turn_drain(t, te_now, 0);
	te_collect(t);
	te_alloc_req(&r, &te_u, &c2, -1);
	te_input(t, &r, &c2);
	te_expect_err(&c2, &r, M_ALLOCATE, 300, te_u.key,
	    "ALLOCATE while draining with an alternate");
	v = te_nrecs == 1 ? ts_attr(te_recs[0].c.data, te_recs[0].c.len,
	    A_ALTERNATE, &vlen) : NULL;
	ok(v != NULL && vlen == 8 && memcmp(v,
	    "\x00\x01\x0d\x96\xc6\x33\x64\x63", 8) == 0,
	    "ALTERNATE-SERVER 198.51.100.99:3478, plain MAPPED format");
	turn_free(t);

	/* with a deadline: lifetimes clamped, WORKER_STOP(DRAIN) at it */
	te_conf_init(&conf);
	t = te_start(&conf);
	id1 = te_allocate(t, &c1, &te_u, -1, 1, "drain deadline 1");
	id2 = te_allocate(t, &c3, &te_u, -1, 1, "drain deadline 2");
	deadline = te_now + 100 * TE_SEC;
	turn_drain(t, te_now, deadline);
	te_collect(t);
	ok(turn_next_timeout(t) <= deadline, "timer at or before the deadline");
	te_now += 10 * TE_SEC;
	te_refresh_req(&r, &te_u, &c1, 600);
	te_input(t, &r, &c1);
	te_check_resp(0, &c1, &r, M_REFRESH, C_OK, 0, te_u.key,
	    "REFRESH before the deadline");
	is_int(te_resp_lifetime(0), 90,
	    "REFRESH lifetime clamped to 90 s left");
	te_tick(t, deadline);
	for (i = 0; i < te_nrecs; i++) {
		if (te_is_stop(i, id1, TURN_STOP_DRAIN))
			s1++;
		if (te_is_stop(i, id2, TURN_STOP_DRAIN))
			s2++;
	}
	ok(te_nrecs == 2 && s1 == 1 && s2 == 1,
	    "deadline tick: WORKER_STOP(DRAIN) for each allocation");
	if (te_nrecs != 2 || s1 != 1 || s2 != 1)
		te_dump_cmds();
	is_int(turn_alloc_count(t), 0, "no allocation left");
	turn_free(t);
}

/* REFRESH on a STARTING allocation: no special case */
static void
test_refresh_starting(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	t = te_new();
	id = te_allocate(t, &c, &te_u, -1, 0, "starting");
	te_refresh_req(&r, &te_u, &c, 1000);
	te_input(t, &r, &c);
	te_check_resp(0, &c, &r, M_REFRESH, C_OK, 0, te_u.key,
	    "REFRESH on a STARTING allocation -> success");
	is_int(te_resp_lifetime(0), 1000, "with LIFETIME 1000");
	ok(turn_next_timeout(t) == te_now + 1000 * TE_SEC,
	    "expiry now + 1000 s");
	te_refresh_req(&r, &te_u, &c, 0);
	te_input(t, &r, &c);
	ok(te_nrecs == 2 && te_is_stop(0, id, TURN_STOP_DELETED),
	    "REFRESH 0 on a STARTING allocation -> WORKER_STOP(DELETED)");
	te_check_resp(1, &c, &r, M_REFRESH, C_OK, 0, te_u.key, "then success");
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	te_expect_none("worker ready after the delete");
	is_int(turn_alloc_count(t), 0, "no allocation");
	turn_free(t);
}

/* replay from another source and attributes after MESSAGE-INTEGRITY
 * (attack cases 21 and 24) */
static void
test_smuggling(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 other = te_addr("198.51.100.7", 40001);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct taddr		 lo = te_addr("127.0.0.1", 5000);
	struct ts_req		 r;
	uint32_t		 id;

	t = te_new();
	id = te_allocate(t, &c, &te_u, 3600, 1, "smuggling");

	/* a second XOR-PEER-ADDRESS after MI is ignored */
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p);
	ts_req_xaddr(&r, A_PEER, &lo);
	te_input(t, &r, &c);
	ok(te_nrecs == 2 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    te_same_addr(&te_recs[0].c.addr, &p),
	    "XOR-PEER-ADDRESS 127.0.0.1 after MI ignored; covered peer bound");
	te_check_resp(1, &c, &r, M_CHANBIND, C_OK, 0, te_u.key, "success");

	/* LIFETIME 0 after MI does not delete */
	te_refresh_req(&r, &te_u, &c, -1);
	ts_req_u32(&r, A_LIFETIME, 0);
	te_input(t, &r, &c);
	ok(te_nrecs == 1, "LIFETIME 0 after MI: no WORKER_STOP");
	is_int(te_resp_lifetime(0), 600, "LIFETIME after MI ignored (default)");

	/* the captured REFRESH 0 replayed from another port */
	te_refresh_req(&r, &te_u, &c, 0);
	te_input(t, &r, &other);
	te_expect_err(&other, &r, M_REFRESH, 438, te_u.key,
	    "REFRESH 0 replayed from another source (nonce bound)");
	is_int(turn_alloc_count(t), 1, "victim's allocation unchanged");
	(void)id;
	turn_free(t);
}

int
main(void)
{
	te_creds();

	test_lifetime();
	test_drain();
	test_refresh_starting();
	test_smuggling();
	is_int(te_leaks, 0, "no LOG held a password or a nonce MAC");
	return done_testing();
}
