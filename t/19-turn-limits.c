/*
 * 19-turn-limits: table tests of the engine's quotas and budgets
 * (README.md, "Quotas and budgets"; attack cases 28, 32, 40, 41, 43):
 * per canonical user and per IPv6 /64, worker starts per second per
 * source and globally, reply budgets for Binding, for requests without a
 * valid nonce and for failures after one, and the 3x bound on every
 * unauthenticated reply.
 *
 * Built on the engine harness (t/tengine.h) and the independent test
 * encoder (t/tstun.h). All-zero RNG: nonce key 32 zero bytes.
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

/*
 * Quotas that one credential or one site cannot get around (attack
 * cases 32, 43): per canonical user, per IPv6 /64, and worker starts per
 * second per source and globally.
 */
static void
test_quota_user(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct turn_stats	 st;
	struct taddr		 a;
	struct ts_cred		 z;
	struct ts_req		 r;
	char			 ip[64];
	int			 i, started;

	te_conf_init(&conf);
	conf.max_allocs_per_user = 2;
	t = te_start(&conf);
	a = te_addr("198.51.100.1", 1);
	te_allocate(t, &a, &te_u, -1, 1, "user 1/2");
	a = te_addr("198.51.100.2", 1);
	te_allocate(t, &a, &te_u, -1, 0, "user 2/2");
	a = te_addr("198.51.100.3", 1);
	te_alloc_req(&r, &te_u, &a, -1);
	te_input(t, &r, &a);
	te_expect_err(&a, &r, M_ALLOCATE, 486, te_u.key, "third for the same user");
	/* leading zeros: the same user, with a valid password of its own */
	ts_cred_make(&z, TE_SECRET, TE_EXPIRY, "abcdefghij");
	snprintf(z.user, sizeof(z.user), "0%llu:abcdefghij",
	    (unsigned long long)TE_EXPIRY);
	ts_key_make(z.user, te_u.pass, z.key);
	te_alloc_req(&r, &z, &a, -1);
	te_input(t, &r, &a);
	te_expect_err(&a, &r, M_ALLOCATE, 486, z.key,
	    "\"0<expiry>:salt\" is the same user");
	te_allocate(t, &a, &te_u2, -1, 0, "another user unaffected");
	turn_get_stats(t, &st);
	is_int((long long)st.denied_user, 2, "stats.denied_user counts both");
	turn_free(t);

	/* IPv6: the per-source quota holds for a whole /64 */
	te_conf_init(&conf);
	conf.max_allocs_per_ip = 2;
	t = te_start(&conf);
	a = te_addr("2001:db8:7::1", 1);
	te_allocate(t, &a, &te_u, -1, 0, "/64 1/2");
	a = te_addr("2001:db8:7::2", 1);
	te_allocate(t, &a, &te_u, -1, 0, "/64 2/2");
	a = te_addr("2001:db8:7::3", 1);
	te_alloc_req(&r, &te_u, &a, -1);
	te_input(t, &r, &a);
	te_expect_err(&a, &r, M_ALLOCATE, 486, te_u.key,
	    "third address of the same /64");
	a = te_addr("2001:db8:7:1::3", 1);
	te_allocate(t, &a, &te_u, -1, 0, "next /64 unaffected");
	turn_free(t);

	/* worker starts: 10 a second per source (486), 15 globally (508) */
	te_conf_init(&conf);
	conf.starts_per_ip_per_s = 10;
	conf.starts_global_per_s = 15;
	t = te_start(&conf);
	started = 0;
	for (i = 0; i < 12; i++) {
		a = te_addr("198.51.100.50", (uint16_t)(1000 + i));
		te_alloc_req(&r, &te_u, &a, -1);
		te_input(t, &r, &a);
		if (te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START)
			started++;
		else if (i == 10)
			te_expect_err(&a, &r, M_ALLOCATE, 486, te_u.key,
			    "11th start from one source in a second");
	}
	is_int(started, 10, "12 ALLOCATEs from one source: 10 workers start");
	for (i = 0; i < 7; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", 60 + i);
		a = te_addr(ip, 1000);
		te_alloc_req(&r, &te_u, &a, -1);
		te_input(t, &r, &a);
		if (te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START)
			started++;
		else if (i == 5)
			te_expect_err(&a, &r, M_ALLOCATE, 508, te_u.key,
			    "16th start in a second, any source");
	}
	is_int(started, 15, "global: 15 starts in a second");
	turn_get_stats(t, &st);
	ok(st.denied_start_src == 2 && st.denied_start_global == 2,
	    "stats: 2 denied per source, 2 globally");
	te_now += TE_SEC;
	a = te_addr("198.51.100.50", 2000);
	te_alloc_req(&r, &te_u, &a, -1);
	te_input(t, &r, &a);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START,
	    "a second later the source may start again");
	turn_free(t);
}

/*
 * The budgets (attack cases 40, 41): Binding apart from 401-bait, IPv6
 * per /64, a global budget, and requests with a valid nonce never held to
 * a budget a flood from their source has spent.
 */
static void
test_budgets(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 spoof = te_addr("198.51.100.7", 1), c, x;
	struct taddr		 v6a, v6b = te_addr("2001:db8:2::1", 5000);
	struct turn_stats	 st0, st1;
	struct ts_req		 r;
	char			 nonce[TS_NONCE_LEN + 1];
	unsigned		 sends;
	int			 i;

	te_conf_init(&conf);
	conf.unauth_per_ip_per_s = 5;
	conf.binding_per_ip_per_s = 20;
	conf.unauth_global_per_s = 30;
	t = te_start(&conf);

	/* 401-bait from one source spends its budget ... */
	sends = 0;
	for (i = 0; i < 50; i++) {
		ts_req_init(&r, M_ALLOCATE, C_REQ);
		ts_req_byte(&r, A_TRANSPORT, 17);
		spoof.port = (uint16_t)(1 + i);
		te_input(t, &r, &spoof);
		sends += te_nrecs;
	}
	is_int(sends, 5, "50 unauthenticated ALLOCATEs from one IPv4 -> 5 401s");
	/* ... but not the Bindings of that source */
	sends = 0;
	for (i = 0; i < 20; i++) {
		ts_req_init(&r, M_BINDING, C_REQ);
		spoof.port = (uint16_t)(100 + i);
		te_input(t, &r, &spoof);
		sends += te_nrecs;
	}
	is_int(sends, 20, "Binding has its own budget: 20 of 20 answered");

	/* a client on the same IP holding a valid nonce is never starved */
	c = te_addr("198.51.100.7", 40000);
	turn_get_stats(t, &st0);
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START,
	    "valid nonce + credentials from the flooded IP -> WORKER_START");
	{
		struct taddr	c2 = te_addr("198.51.100.7", 40001);

		te_nonce(&c2, te_now / TE_SEC, nonce);
		ts_req_init(&r, M_REFRESH, C_REQ);
		ts_req_str(&r, A_USERNAME, te_u.user);
		ts_req_str(&r, A_REALM, "firezone");
		ts_req_str(&r, A_NONCE, nonce);
		ts_req_mi(&r, te_u2.key);	/* wrong password */
		te_input(t, &r, &c2);
		te_expect_err(&c2, &r, M_REFRESH, 401, te_u.key,
		    "valid nonce, wrong password, flooded IP: still answered");
		/* its failures have their own per-address budget */
		sends = 0;
		for (i = 0; i < 10; i++) {
			te_input(t, &r, &c2);
			sends += te_nrecs;
		}
		is_int(sends, 4, "failures after a valid nonce: 5 a second "
		    "per address");
		turn_get_stats(t, &st1);
		is_int((long long)(st1.capped_proven - st0.capped_proven), 6,
		    "the 6 suppressed counted in stats.capped_proven");
		/* another address of the same IP, own nonce: its own budget */
		x = te_addr("198.51.100.7", 40002);
		te_nonce(&x, te_now / TE_SEC, nonce);
		ts_req_init(&r, M_REFRESH, C_REQ);
		ts_req_str(&r, A_USERNAME, te_u.user);
		ts_req_str(&r, A_REALM, "firezone");
		ts_req_str(&r, A_NONCE, nonce);
		ts_req_mi(&r, te_u2.key);
		te_input(t, &r, &x);
		te_expect_err(&x, &r, M_REFRESH, 401, te_u.key,
		    "another port of that IP: own failure budget");
	}
	/* a stale nonce is not proof: the flooded source's budget applies */
	ts_req_init(&r, M_REFRESH, C_REQ);
	te_nonce(&spoof, te_now / TE_SEC, nonce);
	ts_req_auth(&r, &te_u, nonce);
	x = te_addr("198.51.100.7", 40003);
	te_input(t, &r, &x);
	te_expect_none("someone else's nonce from the flooded IP -> no 438");

	/* IPv6: one budget per /64, not per address */
	sends = 0;
	for (i = 0; i < 50; i++) {
		char	ip[64];

		snprintf(ip, sizeof(ip), "2001:db8:1::%x", i + 1);
		v6a = te_addr(ip, 4000);
		ts_req_init(&r, M_ALLOCATE, C_REQ);
		ts_req_byte(&r, A_TRANSPORT, 17);
		te_input(t, &r, &v6a);
		sends += te_nrecs;
	}
	is_int(sends, 5, "50 addresses of one IPv6 /64 -> 5 401s");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_input(t, &r, &v6b);
	is_int(te_nrecs, 1, "another /64 still answered");

	/* the global budget: 30 a second whatever the number of sources */
	te_now += 5 * TE_SEC;
	sends = 0;
	for (i = 0; i < 100; i++) {
		memset(&x, 0, sizeof(x));
		x.family = ADDR_V4;
		x.ip[0] = 100;
		x.ip[2] = (uint8_t)(i >> 8);
		x.ip[3] = (uint8_t)i;
		x.port = 1;
		ts_req_init(&r, M_ALLOCATE, C_REQ);
		ts_req_byte(&r, A_TRANSPORT, 17);
		te_input(t, &r, &x);
		sends += te_nrecs;
	}
	is_int(sends, 30, "100 sources in one second, global 30 -> 30 401s");
	c = te_addr("198.51.100.9", 40000);
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START,
	    "global budget spent: a valid nonce still allocates");
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &c);
	is_int(te_nrecs, 1, "global 401 budget spent: Binding still answered");
	turn_free(t);
}

/*
 * Every reply to a request that did not pass authentication is at most
 * three times its size (attack case 40), for every request shape.
 */
static void
test_gain(void)
{
	static const struct {
		uint16_t	 method;
		int		 transport, lifetime, user, nonce, mi, fp;
		int		 unknown, family6;
		const char	*name;
	} tab[] = {
		{ M_BINDING, 0, 0, 0, 0, 0, 0, 0, 0, "Binding, no attributes" },
		{ M_BINDING, 0, 0, 0, 0, 0, 0, 0, 1, "Binding from IPv6" },
		{ M_BINDING, 0, 0, 0, 0, 0, 1, 0, 1, "Binding + FP from IPv6" },
		{ M_ALLOCATE, 0, 0, 0, 0, 0, 0, 0, 0, "ALLOCATE, nothing (400)" },
		{ M_ALLOCATE, 1, 0, 0, 0, 0, 0, 0, 0, "ALLOCATE, transport" },
		{ M_ALLOCATE, 1, 0, 0, 0, 0, 1, 0, 0, "ALLOCATE, transport+FP" },
		{ M_ALLOCATE, 1, 0, 0, 0, 0, 0, 0, 1, "ALLOCATE from IPv6" },
		{ M_ALLOCATE, 1, 0, 0, 0, 0, 0, 1, 0, "ALLOCATE + unknown" },
		{ M_ALLOCATE, 1, 0, 1, 0, 1, 0, 0, 0, "ALLOCATE, user+MI" },
		{ M_ALLOCATE, 1, 0, 1, 1, 1, 0, 0, 0, "ALLOCATE, stale nonce" },
		{ M_ALLOCATE, 1, 0, 1, 2, 1, 0, 0, 0, "ALLOCATE, bad password" },
		{ M_REFRESH, 0, 0, 0, 0, 0, 0, 0, 0, "REFRESH, nothing" },
		{ M_REFRESH, 0, 1, 0, 0, 0, 0, 0, 0, "REFRESH, LIFETIME" },
		{ M_REFRESH, 0, 1, 0, 0, 0, 1, 0, 1, "REFRESH, LIFETIME+FP v6" },
		{ M_REFRESH, 0, 0, 1, 0, 1, 0, 0, 0, "REFRESH, user+MI" },
		{ M_REFRESH, 0, 0, 1, 1, 1, 0, 0, 0, "REFRESH, stale nonce" },
		{ M_CHANBIND, 0, 0, 0, 0, 0, 0, 0, 0, "CHANNEL-BIND, nothing" },
		{ M_PERMISSION, 0, 0, 0, 0, 0, 0, 0, 0, "CREATE-PERM, nothing" },
		{ 0x00b, 0, 0, 0, 0, 0, 0, 0, 0, "unknown method" },
		{ M_ALLOCATE, 0, 0, 0, 0, 0, 0, 1, 0, "only unknown attr" },
	};
	struct turn_conf	 conf;
	struct turn		*t;
	struct ts_req		 r;
	char			 nonce[TS_NONCE_LEN + 1];
	size_t			 i, n;
	uint8_t			 junk[4] = { 1, 2, 3, 4 };

	te_conf_init(&conf);
	t = te_start(&conf);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct taddr	from = tab[i].family6 ?
		    te_addr("2001:db8:5::1", 3000) : te_addr("198.51.100.20", 3000);

		ts_req_init(&r, tab[i].method, C_REQ);
		if (tab[i].transport)
			ts_req_byte(&r, A_TRANSPORT, 17);
		if (tab[i].lifetime)
			ts_req_u32(&r, A_LIFETIME, 600);
		if (tab[i].unknown)
			ts_req_attr(&r, 0x7ff0, junk, 4);
		if (tab[i].user) {
			ts_req_str(&r, A_USERNAME, "1:x");
			if (tab[i].nonce == 1)
				ts_req_str(&r, A_NONCE,
				    "00000000000000000000000000000000");
		}
		if (tab[i].nonce == 2) {
			ts_req_init(&r, tab[i].method, C_REQ);
			ts_req_byte(&r, A_TRANSPORT, 17);
			te_nonce(&from, te_now / TE_SEC, nonce);
			ts_req_str(&r, A_USERNAME, te_u.user);
			ts_req_str(&r, A_REALM, "firezone");
			ts_req_str(&r, A_NONCE, nonce);
			ts_req_mi(&r, te_u2.key);
		} else if (tab[i].mi)
			ts_req_mi(&r, te_u.key);
		if (tab[i].fp)
			ts_req_fp(&r);
		te_input(t, &r, &from);
		n = te_nrecs == 1 ? te_recs[0].c.len : 0;
		ok(te_nrecs <= 1 && n <= 3 * r.len, "%s: %zu -> %zu bytes "
		    "(at most 3x)", tab[i].name, r.len, n);
		te_now += TE_SEC;
	}
	turn_free(t);
}

int
main(void)
{
	te_creds();
	test_quota_user();
	test_budgets();
	test_gain();
	is_int(te_leaks, 0, "no LOG ever held a password or a nonce MAC");
	return done_testing();
}
