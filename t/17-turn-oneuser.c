/*
 * 17-turn-oneuser: --one-allocation-per-user in the engine. An
 * authenticated ALLOCATE whose user already has an allocation on another
 * 5-tuple stops the old worker (WORKER_STOP, reason REPLACED) before it
 * starts the new one, counts it and logs it; the old 5-tuple's REFRESH
 * gets 437. Other users, the same 5-tuple again and an ALLOCATE that is
 * refused (draining) leave the old allocation alone; off (the default),
 * a user may hold several.
 *
 * Built on the engine harness (t/tengine.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

/* ALLOCATE from `from` as `c`; the recorded commands are left to check */
static void
alloc_in(struct turn *t, const struct ts_cred *c, const struct taddr *from,
    struct ts_req *r)
{
	te_alloc_req(r, c, from, -1);
	te_input(t, r, from);
}

static void
test_on(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c1 = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.7", 40001);
	struct taddr		 c3 = te_addr("198.51.100.20", 5000);
	struct turn_stats	 st;
	struct ts_req		 r;
	uint32_t		 id1, id2, id3;

	te_conf_init(&conf);
	conf.one_per_user = 1;
	conf.max_allocs_per_user = 1;	/* makes way instead of 486 */
	t = te_start(&conf);
	id1 = te_allocate(t, &c1, &te_u, -1, 1, "on: first allocation");

	/* the same user from a new port (a NAT rebinding) */
	alloc_in(t, &te_u, &c2, &r);
	ok(te_nrecs == 2 && te_is_stop(0, id1, TURN_STOP_REPLACED) &&
	    te_recs[1].c.type == TURN_CMD_WORKER_START,
	    "on: same user, new 5-tuple -> WORKER_STOP(old, REPLACED), then "
	    "WORKER_START");
	if (te_nrecs != 2)
		te_dump_cmds();
	id2 = te_nrecs == 2 ? te_recs[1].c.alloc_id : 0;
	ok(id2 != 0 && id2 != id1, "on: the new allocation has a new id");
	ok(te_log_has(TURN_LOG_INFO, "replaced by the user's new allocation"),
	    "on: logged at info with the reason");
	turn_get_stats(t, &st);
	is_int((long long)st.replaced, 1, "on: counted in stats.replaced");
	is_int((long long)turn_alloc_count(t), 1, "on: one allocation left");
	turn_worker_ready(t, id2, te_now);
	te_collect(t);
	te_check_resp(0, &c2, &r, M_ALLOCATE, C_OK, 0, te_u.key,
	    "on: the new ALLOCATE succeeds when its worker is ready");

	te_refresh_req(&r, &te_u, &c1, 600);
	te_input(t, &r, &c1);
	te_expect_err(&c1, &r, M_REFRESH, 437, te_u.key,
	    "on: the old 5-tuple's REFRESH -> 437");

	/* the same 5-tuple again is not a replacement */
	alloc_in(t, &te_u, &c2, &r);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND,
	    "on: ALLOCATE again from the same 5-tuple -> answered, nothing "
	    "stopped");

	/* another user is not touched */
	id3 = te_allocate(t, &c3, &te_u2, -1, 1, "on: another user");
	ok(id3 != 0 && turn_alloc_count(t) == 2,
	    "on: two users, two allocations");

	/* a refused ALLOCATE (draining) keeps the old allocation */
	turn_drain(t, te_now, 0);
	te_collect(t);
	alloc_in(t, &te_u, &c1, &r);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    ts_code(te_recs[0].c.data, te_recs[0].c.len) == 508,
	    "on, draining: the new ALLOCATE gets 508, nothing stopped");
	is_int((long long)turn_alloc_count(t), 2,
	    "on, draining: the old allocation stays");
	turn_get_stats(t, &st);
	is_int((long long)st.replaced, 1, "on: still one replacement");
	turn_free(t);
}

static void
test_off(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c1 = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.7", 40001);
	struct turn_stats	 st;

	te_conf_init(&conf);
	t = te_start(&conf);
	te_allocate(t, &c1, &te_u, -1, 1, "off: first allocation");
	te_allocate(t, &c2, &te_u, -1, 1, "off: same user, second 5-tuple: "
	    "only a WORKER_START");
	is_int((long long)turn_alloc_count(t), 2, "off: both allocations live");
	turn_get_stats(t, &st);
	is_int((long long)st.replaced, 0, "off: nothing replaced");
	turn_free(t);
}

int
main(void)
{
	te_creds();
	test_on();
	test_off();
	return done_testing();
}
