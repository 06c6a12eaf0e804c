/*
 * 25-turn-allocate: table tests of the engine's rules, ALLOCATE: address
 * families, a second ALLOCATE on one 5-tuple, quotas, the port range, a
 * worker that cannot bind its port and a worker that dies.
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

/* address families: REQUESTED- and ADDITIONAL-ADDRESS-FAMILY against
 * the relay's stacks, as the Firezone relay's server.rs tests check */
static void
test_families(void)
{
	static const struct {
		int	 stack;		/* 4, 6, 46 */
		int	 r, a;		/* 0 absent, 1 IPv4, 2 IPv6 */
		int	 code;		/* error, or 0 */
		uint8_t	 fam;		/* WORKER_START families */
		const char *name;
	} tab[] = {
		{ 4, 1, 2, 400, 0, "v4 relay, R=IPv4 + A=IPv6" },
		{ 4, 2, 0, 440, 0, "v4 relay, R=IPv6" },
		{ 6, 1, 0, 440, 0, "v6 relay, R=IPv4" },
		{ 6, 0, 0, 440, 0, "v6 relay, nothing requested" },
		{ 4, 0, 1, 400, 0, "v4 relay, A=IPv4" },
		{ 46, 1, 1, 400, 0, "dual relay, R=IPv4 + A=IPv4" },
		{ 4, 2, 2, 400, 0, "v4 relay, R=IPv6 + A=IPv6" },
		{ 46, 0, 1, 400, 0, "dual relay, A=IPv4" },
		{ 4, 0, 0, 0, ADDR_FAM_V4, "v4 relay, nothing" },
		{ 4, 1, 0, 0, ADDR_FAM_V4, "v4 relay, R=IPv4" },
		{ 46, 0, 0, 0, ADDR_FAM_V4, "dual relay, nothing" },
		{ 46, 1, 0, 0, ADDR_FAM_V4, "dual relay, R=IPv4" },
		{ 46, 2, 0, 0, ADDR_FAM_V6, "dual relay, R=IPv6" },
		{ 6, 2, 0, 0, ADDR_FAM_V6, "v6 relay, R=IPv6" },
		{ 46, 0, 2, 0, ADDR_FAM_V4 | ADDR_FAM_V6,
		    "dual relay, A=IPv6" },
		{ 4, 0, 2, 0, ADDR_FAM_V4, "v4 relay, A=IPv6 (partial)" },
		{ 6, 0, 2, 0, ADDR_FAM_V6, "v6 relay, A=IPv6 (partial)" },
	};
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000), ra;
	struct ts_req		 r;
	const uint8_t		*p, *v;
	size_t			 i, len, vlen, off;
	int			 seq;
	char			 nonce[41];

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		te_conf_init(&conf);
		if (tab[i].stack == 4)
			memset(&conf.public6, 0, sizeof(conf.public6));
		if (tab[i].stack == 6)
			memset(&conf.public4, 0, sizeof(conf.public4));
		t = te_start(&conf);
		ts_req_init(&r, M_ALLOCATE, C_REQ);
		ts_req_byte(&r, A_TRANSPORT, 17);
		if (tab[i].r)
			ts_req_byte(&r, A_REQ_FAM, (uint8_t)tab[i].r);
		if (tab[i].a)
			ts_req_byte(&r, A_ADD_FAM, (uint8_t)tab[i].a);
		te_nonce(&c, te_now / TE_SEC, nonce);
		ts_req_auth(&r, &te_u, nonce);
		te_input(t, &r, &c);
		if (tab[i].code != 0) {
			te_expect_err(&c, &r, M_ALLOCATE, tab[i].code, te_u.key,
			    tab[i].name);
			turn_free(t);
			continue;
		}
		if (te_nrecs != 1 ||
		    te_recs[0].c.type != TURN_CMD_WORKER_START ||
		    te_recs[0].c.families != tab[i].fam) {
			ok(0, "%s -> WORKER_START families 0x%x", tab[i].name,
			    tab[i].fam);
			te_dump_cmds();
			turn_free(t);
			continue;
		}
		ok(1, "%s -> WORKER_START families 0x%x", tab[i].name,
		    tab[i].fam);
		turn_worker_ready(t, te_recs[0].c.alloc_id, te_now);
		te_collect(t);
		/* the relayed addresses match the families, v4 first */
		p = te_resp_data(0, &len);
		seq = 0;
		off = 20;
		while (te_nrecs == 1 && off + 4 <= len && seq < 1000) {
			vlen = ts_get16(p + off + 2);
			v = p + off + 4;
			if (ts_get16(p + off) == A_RELAYED) {
				if (ts_xaddr(p, v, vlen, &ra) != 0 ||
				    ra.port != 49152)
					seq = seq * 10 + 9;
				else if (ra.family == ADDR_V4 && memcmp(ra.ip,
				    conf.public4.ip, 16) == 0)
					seq = seq * 10 + 4;
				else if (ra.family == ADDR_V6 && memcmp(ra.ip,
				    conf.public6.ip, 16) == 0)
					seq = seq * 10 + 6;
				else
					seq = seq * 10 + 9;
			}
			off += 4 + ((vlen + 3) & ~(size_t)3);
		}
		is_int(seq, tab[i].fam == ADDR_FAM_V4 ? 4 :
		    tab[i].fam == ADDR_FAM_V6 ? 6 : 46,
		    "%s: XOR-RELAYED = public address(es):49152, IPv4 first",
		    tab[i].name);
		turn_free(t);
	}
}

/* a second ALLOCATE on the same 5-tuple (attack case 25) */
static void
test_second_allocate(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r, r2;
	uint8_t			 first[2048];
	size_t			 flen = 0;
	uint32_t		 id;
	struct turn_stats	 st;

	t = te_new();
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	id = te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START ?
	    te_recs[0].c.alloc_id : 0;
	ok(id == 1, "first alloc_id is 1");
	te_input(t, &r, &c);
	te_expect_none("retransmission while STARTING");
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	if (te_nrecs == 1) {
		flen = te_recs[0].c.len;
		memcpy(first, te_recs[0].c.data, flen);
	}
	te_check_resp(0, &c, &r, M_ALLOCATE, C_OK, 0, te_u.key, "success");
	te_now += 2 * TE_SEC;
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    te_recs[0].c.len == flen && memcmp(te_recs[0].c.data, first,
	    flen) == 0,
	    "same tid -> identical success bytes, no second WORKER_START");
	if (te_nrecs != 1)
		te_dump_cmds();
	te_alloc_req(&r2, &te_u, &c, -1);
	te_input(t, &r2, &c);
	te_expect_err(&c, &r2, M_ALLOCATE, 437, te_u.key, "different tid");
	turn_get_stats(t, &st);
	is_int((long long)st.allocations, 1, "still one allocation");
	turn_free(t);
}

/* quotas: per user, in total, port range (attack cases 32-34) */
static void
test_quota(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 a1 = te_addr("198.51.100.7", 1001);
	struct taddr		 a2 = te_addr("198.51.100.7", 1002);
	struct taddr		 a3 = te_addr("198.51.100.7", 1003);
	struct taddr		 b1 = te_addr("198.51.100.8", 1001);
	struct ts_req		 r;
	uint32_t		 id1;

	te_conf_init(&conf);
	conf.max_allocs_per_ip = 2;
	t = te_start(&conf);
	id1 = te_allocate(t, &a1, &te_u, -1, 1, "per-IP 1/2");
	te_allocate(t, &a2, &te_u, -1, 0, "per-IP 2/2 (starting counts)");
	te_alloc_req(&r, &te_u, &a3, -1);
	te_input(t, &r, &a3);
	te_expect_err(&a3, &r, M_ALLOCATE, 486, te_u.key,
	    "third from the same IP");
	te_allocate(t, &b1, &te_u, -1, 1, "another IP unaffected");
	te_refresh_req(&r, &te_u, &a1, 0);
	te_input(t, &r, &a1);
	ok(te_nrecs == 2 && te_is_stop(0, id1, TURN_STOP_DELETED),
	    "REFRESH 0 frees a quota slot");
	te_allocate(t, &a3, &te_u, -1, 0,
	    "third from the same IP after a delete");
	turn_free(t);

	te_conf_init(&conf);
	conf.max_allocs = 1;
	t = te_start(&conf);
	te_allocate(t, &a1, &te_u, -1, 1, "max_allocs 1/1");
	te_alloc_req(&r, &te_u, &b1, -1);
	te_input(t, &r, &b1);
	te_expect_err(&b1, &r, M_ALLOCATE, 508, te_u.key,
	    "max_allocs 1: second");
	turn_free(t);

	te_conf_init(&conf);
	conf.lowest_port = conf.highest_port = 50000;
	conf.max_allocs = 5;
	t = te_start(&conf);
	id1 = te_allocate(t, &a1, &te_u, -1, 0, "1-port range");
	ok(te_nrecs == 1 && te_recs[0].c.port == 50000,
	    "1-port range: port 50000");
	turn_worker_ready(t, id1, te_now);
	te_collect(t);
	te_alloc_req(&r, &te_u, &b1, -1);
	te_input(t, &r, &b1);
	te_expect_err(&b1, &r, M_ALLOCATE, 508, te_u.key,
	    "1-port range, second allocation");
	te_refresh_req(&r, &te_u, &a1, 0);
	te_input(t, &r, &a1);
	te_alloc_req(&r, &te_u, &b1, -1);
	te_input(t, &r, &b1);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START &&
	    te_recs[0].c.port == 50000 && te_recs[0].c.alloc_id != id1,
	    "the freed port is reused, with a new alloc_id");
	turn_free(t);
}

/* a worker that cannot bind its port */
static void
test_bind_fail(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;
	uint16_t		 ports[TURN_BIND_TRIES];
	int			 i, j, same = 1, distinct = 1, inrange = 1;

	te_conf_init(&conf);
	conf.highest_port = 49200;
	t = te_start(&conf);
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START,
	    "ALLOCATE -> WORKER_START");
	id = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
	ports[0] = te_nrecs == 1 ? te_recs[0].c.port : 0;
	for (i = 1; i < TURN_BIND_TRIES; i++) {
		turn_worker_bind_failed(t, id, te_now);
		te_collect(t);
		if (te_nrecs != 1 ||
		    te_recs[0].c.type != TURN_CMD_WORKER_START ||
		    te_recs[0].c.alloc_id != id) {
			same = 0;
			te_dump_cmds();
			break;
		}
		ports[i] = te_recs[0].c.port;
		if (ports[i] == ports[i - 1])
			distinct = 0;
		for (j = 0; j < i; j++)
			if (ports[j] == ports[i])
				diag("port %u tried twice", ports[i]);
		if (ports[i] < 49152 || ports[i] > 49200)
			inrange = 0;
	}
	ok(same, "bind failures 1-%d: WORKER_START again, same alloc_id",
	    TURN_BIND_TRIES - 1);
	ok(distinct, "each retry on another port");
	ok(inrange, "retries stay in the port range");
	turn_worker_bind_failed(t, id, te_now);
	te_collect(t);
	te_expect_err(&c, &r, M_ALLOCATE, 508, te_u.key,
	    "bind failure TURN_BIND_TRIES -> 508");
	is_int(turn_alloc_count(t), 0, "allocation freed");
	turn_worker_bind_failed(t, id, te_now);
	te_collect(t);
	te_expect_none("bind failure for a freed allocation");
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	te_expect_none("ready for a freed allocation");
	id = te_allocate(t, &c, &te_u, -1, 1, "ALLOCATE after the 508");
	turn_worker_bind_failed(t, id, te_now);
	te_collect(t);
	te_expect_none("bind failure on a READY allocation");
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	te_expect_none("second ready");
	turn_worker_ready(t, 9999, te_now);
	te_collect(t);
	te_expect_none("ready for an unknown alloc_id");
	turn_free(t);
}

/* a worker that dies (attack case 45) */
static void
test_worker_gone(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.9", 40000);
	struct ts_req		 r;
	uint32_t		 id, id2;

	t = te_new();
	id = te_allocate(t, &c, &te_u, -1, 1, "gone");
	turn_worker_gone(t, id, te_now);
	te_collect(t);
	te_expect_none("worker gone (READY)");
	is_int(turn_alloc_count(t), 0, "allocation freed");
	te_refresh_req(&r, &te_u, &c, 600);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_REFRESH, 437, te_u.key,
	    "REFRESH after worker gone");
	id2 = te_allocate(t, &c, &te_u, -1, 1,
	    "new ALLOCATE after worker gone");
	ok(id2 != 0 && id2 != id, "with a new alloc_id");

	te_alloc_req(&r, &te_u, &c2, -1);
	te_input(t, &r, &c2);
	id = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
	turn_worker_gone(t, id, te_now);
	te_collect(t);
	te_expect_err(&c2, &r, M_ALLOCATE, 508, te_u.key,
	    "worker gone while STARTING");
	turn_worker_gone(t, id, te_now);
	te_collect(t);
	te_expect_none("worker gone twice");
	turn_free(t);
}

/* max_allocs 0 = the port range size */
static void
test_range(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct ts_req		 r;
	struct taddr		 a;
	uint16_t		 seen[3] = { 0, 0, 0 };
	int			 i, good = 1;

	te_conf_init(&conf);
	conf.lowest_port = 60000;
	conf.highest_port = 60002;
	t = te_start(&conf);
	for (i = 0; i < 3; i++) {
		a = te_addr("198.51.100.7", (uint16_t)(1000 + i));
		te_alloc_req(&r, &te_u, &a, -1);
		te_input(t, &r, &a);
		if (te_nrecs != 1 ||
		    te_recs[0].c.type != TURN_CMD_WORKER_START) {
			good = 0;
			te_dump_cmds();
			continue;
		}
		seen[i] = te_recs[0].c.port;
	}
	ok(good && seen[0] == 60000 && seen[1] == 60001 && seen[2] == 60002,
	    "3-port range: 60000, 60001, 60002 (zero RNG, linear probe)");
	a = te_addr("198.51.100.7", 1003);
	te_alloc_req(&r, &te_u, &a, -1);
	te_input(t, &r, &a);
	te_expect_err(&a, &r, M_ALLOCATE, 508, te_u.key, "fourth allocation");
	turn_free(t);
}

int
main(void)
{
	te_creds();

	test_families();
	test_second_allocate();
	test_quota();
	test_bind_fail();
	test_worker_gone();
	test_range();
	is_int(te_leaks, 0, "no LOG held a password or a nonce MAC");
	return done_testing();
}
