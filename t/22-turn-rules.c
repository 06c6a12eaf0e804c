/*
 * 22-turn-rules: table tests of the engine's rules (notes/engine.md,
 * reference §5.4 and §13.4, DESIGN §3, SECURITY cases by number).
 *
 * Independent of the codec: requests are built and responses are read by
 * the small encoder/walker below (nettle for HMAC-SHA1/SHA-256/MD5, zlib
 * for FINGERPRINT), never by stun.c. Every error response is checked for
 * its exact code, its transaction id, and whether it is signed (SOFTWARE
 * first, MESSAGE-INTEGRITY valid under the client's key) or unsigned (no
 * SOFTWARE, no MESSAGE-INTEGRITY); every 401/438 for REALM "firezone" and
 * a NONCE equal to the one computed here for the source at now.
 * All-zero RNG: nonce key 32 zero bytes, first port = lowest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/sha2.h>
#include <zlib.h>

#include "addr.h"
#include "auth.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

/* the tables */

/* reference §5.4 and §13.4 server.rs */
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

static void
test_lifetime(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	te_conf_init(&conf);
	t = te_start(&conf);

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
	te_refresh_req(&r, &te_u, &c, 100);
	te_input(t, &r, &c);
	is_int(te_resp_lifetime(0), 100, "REFRESH LIFETIME 100 -> 100");
	ok(turn_next_timeout(t) == te_now + 100 * TE_SEC,
	    "REFRESH replaces the expiry (now + 100 s)");
	te_tick(t, te_now + 100 * TE_SEC - 1);
	te_expect_none("tick 1 ms before the expiry");
	te_tick(t, te_now + 1);
	te_ncmds(1, "tick at the expiry");
	ok(te_is_stop(0, id, TURN_STOP_EXPIRED), "WORKER_STOP(EXPIRED)");
	is_int(turn_alloc_count(t), 0, "allocation gone");
	ok(turn_next_timeout(t) == UINT64_MAX, "no timer left");

	/* no LIFETIME -> 600; LIFETIME 1 is honoured (no minimum) */
	id = te_allocate(t, &c, &te_u, -1, 1, "no LIFETIME");
	is_int(te_resp_lifetime(0), 600, "no LIFETIME -> 600");
	te_refresh_req(&r, &te_u, &c, 1);
	te_input(t, &r, &c);
	is_int(te_resp_lifetime(0), 1, "REFRESH LIFETIME 1 -> 1");
	te_tick(t, te_now + TE_SEC);
	ok(te_nrecs == 1 && te_is_stop(0, id, TURN_STOP_EXPIRED),
	    "LIFETIME 1 expires 1 s later");

	/* LIFETIME 0 on ALLOCATE: success says 0, gone at the next tick */
	id = te_allocate(t, &c, &te_u, 0, 1, "ALLOCATE LIFETIME 0");
	is_int(te_resp_lifetime(0), 0, "ALLOCATE LIFETIME 0 -> LIFETIME 0");
	ok(turn_next_timeout(t) <= te_now, "timer due at once");
	te_tick(t, te_now);
	ok(te_nrecs == 1 && te_is_stop(0, id, TURN_STOP_EXPIRED),
	    "LIFETIME 0: WORKER_STOP(EXPIRED) at the next tick");
	if (te_nrecs != 1)
		te_dump_cmds();
	is_int(turn_alloc_count(t), 0, "LIFETIME 0: allocation gone");
	turn_free(t);
}

/* authentication order: 438 before 401 before 437 (DESIGN §1) */
static void
test_auth(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 other = te_addr("198.51.100.7", 40001);
	struct ts_req		 r;
	struct ts_cred		 bad;
	char			 nonce[41];
	uint8_t			 badkey[16];

	te_conf_init(&conf);
	t = te_start(&conf);
	bad = te_u;
	bad.key[0] ^= 1;	/* wrong password, same username */

	/* a nonce minted for another port + bad password -> 438 */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_nonce(&other, te_now / TE_SEC, nonce);
	ts_req_auth(&r, &bad, nonce);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 438, te_u.key,
	    "other source's nonce + bad password");

	/* the reference's nil-UUID nonce */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_auth(&r, &te_u, "00000000-0000-0000-0000-000000000000");
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 438, te_u.key, "nil-UUID nonce");

	/* stale by age: 4000 s old; 3000 s old is still fine */
	te_now += 5000 * TE_SEC;
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_nonce(&c, te_now / TE_SEC - 4000, nonce);
	ts_req_auth(&r, &te_u, nonce);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 438, te_u.key, "nonce 4000 s old");
	ts_req_init(&r, M_REFRESH, C_REQ);
	te_nonce(&c, te_now / TE_SEC - 3000, nonce);
	ts_req_auth(&r, &te_u, nonce);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_REFRESH, 437, te_u.key,
	    "nonce 3000 s old is valid (REFRESH, no allocation)");

	/* a tampered MAC */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_nonce(&c, te_now / TE_SEC, nonce);
	nonce[AUTH_NONCE_LEN - 1] = nonce[AUTH_NONCE_LEN - 1] == '0' ? '1' : '0';
	ts_req_auth(&r, &te_u, nonce);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 438, te_u.key, "tampered nonce");

	/* stale nonce + malformed username -> 438 unsigned */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_str(&r, A_USERNAME, "foobar");
	ts_req_str(&r, A_REALM, "firezone");
	ts_req_str(&r, A_NONCE, "00000000-0000-0000-0000-000000000000");
	ts_key_make("foobar", "x", badkey);
	ts_req_mi(&r, badkey);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 438, NULL,
	    "stale nonce + malformed username");

	/* valid nonce + bad password -> 401, signed with U's key */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_auth_req(&r, &bad, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, te_u.key,
	    "valid nonce + bad password");

	/* valid nonce + good credentials + no allocation (REFRESH) -> 437 */
	te_refresh_req(&r, &te_u, &c, 600);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_REFRESH, 437, te_u.key,
	    "REFRESH without an allocation");

	/* expired username, correct password for it -> 401 signed */
	te_alloc_req(&r, &te_uexp, &c, -1);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, te_uexp.key, "expired username");

	/* malformed usernames -> 401 unsigned */
	{
		static const char *const bad_users[] = { "foobar", "abc:alice",
		    ":alice", "-5:alice", "+5:alice",
		    "99999999999999999999:alice", "4102444800:",
		    "4102444800:a:b" };
		size_t	i;

		for (i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]);
		    i++) {
			ts_req_init(&r, M_ALLOCATE, C_REQ);
			ts_req_byte(&r, A_TRANSPORT, 17);
			ts_req_str(&r, A_USERNAME, bad_users[i]);
			ts_req_str(&r, A_REALM, "firezone");
			te_nonce(&c, te_now / TE_SEC, nonce);
			ts_req_str(&r, A_NONCE, nonce);
			ts_key_make(bad_users[i], "x", badkey);
			ts_req_mi(&r, badkey);
			te_input(t, &r, &c);
			te_expect_err(&c, &r, M_ALLOCATE, 401, NULL,
			    bad_users[i]);
		}
	}

	/* MESSAGE-INTEGRITY missing -> unsigned 401 with REALM, NONCE */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_str(&r, A_USERNAME, te_u.user);
	ts_req_str(&r, A_REALM, "firezone");
	te_nonce(&c, te_now / TE_SEC, nonce);
	ts_req_str(&r, A_NONCE, nonce);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, NULL, "MI missing");

	/* USERNAME missing -> 401 unsigned */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_str(&r, A_REALM, "firezone");
	ts_req_str(&r, A_NONCE, nonce);
	ts_req_mi(&r, te_u.key);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, NULL, "USERNAME missing");

	/* NONCE missing, valid username -> 401 signed */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_str(&r, A_USERNAME, te_u.user);
	ts_req_str(&r, A_REALM, "firezone");
	ts_req_mi(&r, te_u.key);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, te_u.key, "NONCE missing");

	/* REALM is not required (reference) */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_str(&r, A_USERNAME, te_u.user);
	ts_req_str(&r, A_NONCE, nonce);
	ts_req_mi(&r, te_u.key);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START,
	    "no REALM, good credentials -> WORKER_START");
	is_int(turn_alloc_count(t), 1, "exactly one allocation after all that");
	turn_free(t);

	/* max_user_ttl_s: an expiry in 2100 is too far -> 401 signed */
	te_conf_init(&conf);
	conf.max_user_ttl_s = 86400;
	t = te_start(&conf);
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, te_u.key,
	    "expiry beyond max_user_ttl_s");
	turn_free(t);
}

/* reflection gain (SECURITY 40) */
static void
test_sizes(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c6 = te_addr("2001:db8:1::7", 40000);
	struct ts_req		 r;

	te_conf_init(&conf);
	t = te_start(&conf);
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	is_int((long long)r.len, 28, "unauthenticated ALLOCATE is 28 bytes");
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, NULL, "28-byte ALLOCATE");
	ok(te_nrecs == 1 && te_recs[0].c.len < 96,
	    "its 401 is under 96 bytes (ERROR-CODE, REALM, NONCE only)");
	diag("401 size %zu (20 + 20 ERROR-CODE + 12 REALM + 36 NONCE = 88)",
	    te_nrecs == 1 ? te_recs[0].c.len : 0);
	is_int(te_nrecs == 1 ? ts_nattrs(te_recs[0].c.data,
	    te_recs[0].c.len) : -1,
	    3, "401: exactly 3 attributes");

	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.len == 32,
	    "20-byte BINDING -> 32-byte response");
	te_check_resp(0, &c, &r, M_BINDING, C_OK, 0, NULL,
	    "BINDING success, unsigned, no SOFTWARE");
	te_input(t, &r, &c6);
	ok(te_nrecs == 1 && te_recs[0].c.len == 44,
	    "20-byte BINDING from IPv6 -> 44-byte response");
	{
		const uint8_t	*v;
		size_t		 vlen;
		struct taddr	 m;

		v = te_nrecs == 1 ? ts_attr(te_recs[0].c.data, te_recs[0].c.len,
		    A_XMAPPED, &vlen) : NULL;
		ok(v != NULL && ts_xaddr(te_recs[0].c.data, v, vlen, &m) == 0 &&
		    te_same_addr(&m, &c6),
		    "XOR-MAPPED-ADDRESS = the IPv6 source");
	}
	turn_free(t);
}

/* REQUESTED-TRANSPORT, 420s, EVEN-PORT (DESIGN §3, SECURITY 26, 27, 36) */
static void
test_attrs(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	const uint8_t		*v;
	size_t			 vlen;
	uint8_t			 token[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	te_conf_init(&conf);
	t = te_start(&conf);

	/* missing REQUESTED-TRANSPORT: 400 before authentication */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_u32(&r, A_LIFETIME, 600);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 400, NULL,
	    "REQUESTED-TRANSPORT missing (good credentials)");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 400, NULL,
	    "REQUESTED-TRANSPORT missing (no credentials)");

	/* TCP -> 442 after authentication */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 6);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 442, te_u.key,
	    "REQUESTED-TRANSPORT TCP");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 6);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, NULL,
	    "REQUESTED-TRANSPORT TCP without credentials (auth first)");

	/* unknown comprehension-required 0x0030 -> 420 listing it */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_u32(&r, 0x0030, 0);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 420, NULL, "attribute 0x0030");
	v = te_nrecs == 1 ? ts_attr(te_recs[0].c.data, te_recs[0].c.len,
	    A_UNKNOWN,
	    &vlen) : NULL;
	ok(v != NULL && vlen == 2 && ts_get16(v) == 0x0030,
	    "420 UNKNOWN-ATTRIBUTES lists exactly 0x0030");

	/* comprehension-optional unknown 0x8030 is ignored */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_u32(&r, 0x8030, 0);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, NULL,
	    "attribute 0x8030 ignored (401 as without it)");

	/* DONT-FRAGMENT, RESERVATION-TOKEN -> 420 */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_attr(&r, A_DONT_FRAG, NULL, 0);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 420, NULL, "DONT-FRAGMENT");
	v = te_nrecs == 1 ? ts_attr(te_recs[0].c.data, te_recs[0].c.len,
	    A_UNKNOWN,
	    &vlen) : NULL;
	ok(v != NULL && vlen == 2 && ts_get16(v) == A_DONT_FRAG,
	    "420 lists DONT-FRAGMENT");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_attr(&r, A_RES_TOKEN, token, 8);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 420, NULL, "RESERVATION-TOKEN");
	v = te_nrecs == 1 ? ts_attr(te_recs[0].c.data, te_recs[0].c.len,
	    A_UNKNOWN,
	    &vlen) : NULL;
	ok(v != NULL && vlen == 2 && ts_get16(v) == A_RES_TOKEN,
	    "420 lists RESERVATION-TOKEN");
	is_int(turn_alloc_count(t), 0, "no allocation from any of these");
	turn_free(t);

	/* EVEN-PORT with an odd lowest port -> the next even port */
	te_conf_init(&conf);
	conf.lowest_port = 49153;
	t = te_start(&conf);
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_attr(&r, A_EVEN_PORT, "", 1);	/* one byte: R = 0 */
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START &&
	    te_recs[0].c.port == 49154,
	    "EVEN-PORT, lowest 49153 -> port 49154");
	if (te_nrecs == 1)
		diag("port %u", te_recs[0].c.port);
	turn_free(t);

	/* without EVEN-PORT, the same range starts at 49153 */
	t = te_start(&conf);
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START &&
	    te_recs[0].c.port == 49153, "no EVEN-PORT, lowest 49153 -> 49153");
	turn_free(t);
}

/* datagrams that get no command at all (SECURITY 35, 36) and 400s */
static void
test_drop(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct taddr		 c0 = te_addr("198.51.100.7", 0);
	struct ts_req		 r;
	uint8_t			 raw[64];
	struct turn_stats	 st;
	size_t			 i;
	static const uint16_t	 methods[] = { M_SEND, M_DATA, 0x00A,
	    0x00B, 0x002, 0x0FF };

	te_conf_init(&conf);
	t = te_start(&conf);

	/* indications and responses */
	ts_req_init(&r, M_BINDING, C_IND);
	te_input(t, &r, &c);
	te_expect_none("BINDING indication");
	ts_req_init(&r, M_SEND, C_IND);
	ts_req_xaddr(&r, A_PEER, &p);
	ts_req_attr(&r, A_DATA, "hi", 2);
	te_input(t, &r, &c);
	te_expect_none("SEND indication");
	ts_req_init(&r, M_BINDING, C_OK);
	ts_req_xaddr(&r, A_XMAPPED, &c);
	te_input(t, &r, &c);
	te_expect_none("BINDING success response");
	ts_req_init(&r, M_ALLOCATE, C_ERR);
	te_input(t, &r, &c);
	te_expect_none("ALLOCATE error response");
	ts_req_init(&r, M_BINDING, C_IND);
	ts_req_u32(&r, 0x0030, 0);
	te_input(t, &r, &c);
	te_expect_none("indication with unknown attribute 0x0030");
	ts_req_init(&r, M_CHANBIND, C_IND);
	ts_req_channel(&r, 0x3FFF);
	te_input(t, &r, &c);
	te_expect_none("indication with bad CHANNEL-NUMBER");
	ts_req_init(&r, M_ALLOCATE, C_OK);
	ts_req_u32(&r, 0x0030, 0);
	te_input(t, &r, &c);
	te_expect_none("success response with unknown attribute 0x0030");

	/* unsupported methods -> 400 unsigned */
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char	name[64];

		ts_req_init(&r, methods[i], C_REQ);
		te_auth_req(&r, &te_u, &c);
		te_input(t, &r, &c);
		snprintf(name, sizeof(name), "method 0x%03x request",
		    methods[i]);
		te_expect_err(&c, &r, methods[i], 400, NULL, name);
	}

	/* method 0xFFF makes the first byte 0x3E: not STUN, dropped */
	ts_req_init(&r, 0xFFF, C_REQ);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_none("method 0xfff request (first byte 0x3e)");

	/* source port 0 */
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &c0);
	te_expect_none("BINDING from port 0");
	te_alloc_req(&r, &te_u, &c0, -1);
	te_input(t, &r, &c0);
	te_expect_none("ALLOCATE from port 0");
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c0);
	te_expect_none("ChannelData from port 0");

	/* malformed STUN */
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input_raw(t, r.b, 0, &c);
	te_expect_none("empty datagram");
	te_input_raw(t, r.b, 19, &c);
	te_expect_none("19 bytes");
	memcpy(raw, r.b, 20);
	raw[4] ^= 1;
	te_input_raw(t, raw, 20, &c);
	te_expect_none("bad magic cookie");
	memcpy(raw, r.b, 20);
	ts_put16(raw + 2, 4);
	te_input_raw(t, raw, 20, &c);
	te_expect_none("length 4, no attributes");
	memcpy(raw, r.b, 20);
	memset(raw + 20, 0, 4);
	te_input_raw(t, raw, 24, &c);
	te_expect_none("4 trailing bytes");
	memcpy(raw, r.b, 20);
	ts_put16(raw + 2, 2);
	memset(raw + 20, 0, 2);
	te_input_raw(t, raw, 22, &c);
	te_expect_none("length not a multiple of 4");
	ts_req_init(&r, M_BINDING, C_REQ);
	ts_req_attr(&r, 0x8030, "abcd", 4);
	ts_put16(r.b + 22, 8);	/* attribute overruns the message */
	te_input(t, &r, &c);
	te_expect_none("attribute overrunning the message");
	memcpy(raw, r.b, 20);
	raw[0] = 0x80;
	te_input_raw(t, raw, 20, &c);
	te_expect_none("first byte 0x80");
	raw[0] = 0xC0;
	te_input_raw(t, raw, 20, &c);
	te_expect_none("first byte 0xC0");
	raw[0] = 0x50;
	te_input_raw(t, raw, 20, &c);
	te_expect_none("first byte 0x50 (no channel 0x5000)");

	/* FINGERPRINT wrong / not last */
	ts_req_init(&r, M_BINDING, C_REQ);
	ts_req_fp(&r);
	r.b[r.len - 1] ^= 1;
	te_input(t, &r, &c);
	te_expect_none("bad FINGERPRINT");
	ts_req_init(&r, M_BINDING, C_REQ);
	ts_req_fp(&r);
	ts_req_u32(&r, 0x8030, 0);
	te_input(t, &r, &c);
	te_expect_none("FINGERPRINT not last");

	/* CHANNEL-NUMBER outside 0x4000-0x4FFF -> 400 unsigned, pre-auth */
	{
		static const unsigned	chans[] = { 0x3FFF, 0x5000, 0x7FFF,
		    0xFFFF, 0x0000 };
		char			name[64];

		for (i = 0; i < sizeof(chans) / sizeof(chans[0]); i++) {
			te_chanbind_req(&r, &te_u, &c, chans[i], &p);
			te_input(t, &r, &c);
			snprintf(name, sizeof(name), "CHANNEL-NUMBER 0x%04x",
			    chans[i]);
			te_expect_err(&c, &r, M_CHANBIND, 400, NULL, name);
		}
	}
	/* an unknown comprehension-required attribute on BINDING */
	ts_req_init(&r, M_BINDING, C_REQ);
	ts_req_u32(&r, 0x0030, 0);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_BINDING, 420, NULL, "BINDING with 0x0030");

	/* ChannelData without an allocation, or malformed */
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	te_expect_none("ChannelData without an allocation");
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00", 3, &c);
	te_expect_none("ChannelData of 3 bytes");
	turn_get_stats(t, &st);
	ok(st.dropped > 0, "stats.dropped counts dropped input (%llu)",
	    (unsigned long long)st.dropped);
	is_int(turn_alloc_count(t), 0, "no allocation from any of these");
	turn_free(t);
}

/* FINGERPRINT echoed last, CRC checked here with zlib */
static void
test_fingerprint(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	te_conf_init(&conf);
	t = te_start(&conf);
	ts_req_init(&r, M_BINDING, C_REQ);
	ts_req_fp(&r);
	te_input(t, &r, &c);
	te_check_resp(0, &c, &r, M_BINDING, C_OK, 0, NULL,
	    "BINDING with FINGERPRINT -> success");
	ok(te_nrecs == 1 && te_recs[0].c.len == 40 &&
	    ts_attr_at(te_recs[0].c.data, te_recs[0].c.len, 0) == A_XMAPPED &&
	    ts_fp(te_recs[0].c.data, te_recs[0].c.len) == 1,
	    "BINDING response: XOR-MAPPED, FINGERPRINT (valid, last)");

	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_fp(&r);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_ALLOCATE, 401, NULL,
	    "ALLOCATE with FINGERPRINT");
	ok(te_nrecs == 1 && ts_fp(te_recs[0].c.data, te_recs[0].c.len) == 1,
	    "401: FINGERPRINT last and valid");

	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_auth_req(&r, &te_u, &c);
	ts_req_fp(&r);
	te_input(t, &r, &c);
	id = te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START ?
	    te_recs[0].c.alloc_id : 0;
	ok(id != 0, "signed ALLOCATE with FINGERPRINT -> WORKER_START");
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	te_check_resp(0, &c, &r, M_ALLOCATE, C_OK, 0, te_u.key,
	    "its success is signed");
	ok(te_nrecs == 1 && ts_fp(te_recs[0].c.data, te_recs[0].c.len) == 1,
	    "success: FINGERPRINT after MI, last and valid");

	/* the same retransmitted: identical bytes again, with FINGERPRINT */
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    ts_fp(te_recs[0].c.data, te_recs[0].c.len) == 1,
	    "retransmission answered with FINGERPRINT too");
	turn_free(t);
}

/* SECURITY 25 */
static void
test_second_allocate(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r, r2;
	uint8_t			 first[2048];
	size_t			 flen = 0;
	uint32_t		 id;
	struct turn_stats	 st;

	te_conf_init(&conf);
	t = te_start(&conf);
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

/* quotas (DESIGN §3, SECURITY 32-34) */
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

/* SECURITY 45 */
static void
test_worker_gone(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.9", 40000);
	struct ts_req		 r;
	uint32_t		 id, id2;

	te_conf_init(&conf);
	t = te_start(&conf);
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

/* turn_worker_data rules (engine.md 13) */
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
			if (te_recs[k].c.type != TURN_CMD_SEND)
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
	len = tap_unhex("40000002cafe" "40000000" "40000003abcdef", buf,
	    sizeof(buf));
	rc = turn_worker_data(t, id, buf, len, te_now);
	te_collect(t);
	is_int(rc, 0, "three good frames accepted");
	ok(te_nrecs == 3 && te_recs[0].c.type == TURN_CMD_SEND &&
	    te_recs[0].c.len == 6 && memcmp(te_recs[0].c.data, buf, 6) == 0 &&
	    te_recs[1].c.len == 4 && memcmp(te_recs[1].c.data, buf + 6,
	    4) == 0 &&
	    te_recs[2].c.len == 7 && memcmp(te_recs[2].c.data, buf + 10,
	    7) == 0 &&
	    te_same_addr(&te_recs[2].c.addr, &c),
	    "one SEND per frame, header included, to the client");
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

/* SECURITY 22 */
static void
test_wrong_user(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct ts_req		 r;

	te_conf_init(&conf);
	t = te_start(&conf);
	te_allocate(t, &c, &te_u, -1, 1, "owner U");
	te_refresh_req(&r, &te_u2, &c, 600);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_REFRESH, 441, te_u2.key,
	    "REFRESH by another user");
	te_chanbind_req(&r, &te_u2, &c, 0x4000, &p);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_CHANBIND, 441, te_u2.key,
	    "CHANNEL-BIND by another user");
	ts_req_init(&r, M_PERMISSION, C_REQ);
	ts_req_xaddr(&r, A_PEER, &p);
	te_auth_req(&r, &te_u2, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_PERMISSION, 441, te_u2.key,
	    "CREATE-PERMISSION by another user");
	te_refresh_req(&r, &te_u2, &c, 0);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_REFRESH, 441, te_u2.key,
	    "REFRESH 0 by another user");
	is_int(turn_alloc_count(t), 1, "the owner's allocation survives");
	turn_free(t);
}

/* CHANNEL-BIND rules (reference §6.2, DESIGN §3, SECURITY 29) */
static void
test_channel_bind(void)
{
	struct turn_conf	 conf;
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

	te_conf_init(&conf);
	t = te_start(&conf);

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

/* CREATE-PERMISSION (DESIGN §3) */
static void
test_permission(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p1 = te_addr("192.0.2.60", 1);
	struct taddr		 p2 = te_addr("192.0.2.61", 1);
	struct taddr		 lo = te_addr("127.0.0.1", 1);
	struct taddr		 v6 = te_addr("2001:db8:5::5", 1);
	struct ts_req		 r;

	te_conf_init(&conf);
	t = te_start(&conf);
	ts_req_init(&r, M_PERMISSION, C_REQ);
	ts_req_xaddr(&r, A_PEER, &p1);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_PERMISSION, 437, te_u.key, "no allocation");

	te_allocate(t, &c, &te_u, -1, 1, "permission");
	ts_req_init(&r, M_PERMISSION, C_REQ);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_PERMISSION, 400, NULL, "no XOR-PEER-ADDRESS");

	ts_req_init(&r, M_PERMISSION, C_REQ);
	ts_req_xaddr(&r, A_PEER, &p1);
	ts_req_xaddr(&r, A_PEER, &lo);
	ts_req_xaddr(&r, A_PEER, &p2);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_PERMISSION, 403, te_u.key,
	    "one denied peer in a mixed list");

	ts_req_init(&r, M_PERMISSION, C_REQ);
	ts_req_xaddr(&r, A_PEER, &p1);
	ts_req_xaddr(&r, A_PEER, &v6);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	te_expect_err(&c, &r, M_PERMISSION, 443, te_u.key,
	    "IPv6 peer on an IPv4 allocation");

	ts_req_init(&r, M_PERMISSION, C_REQ);
	ts_req_xaddr(&r, A_PEER, &p1);
	ts_req_xaddr(&r, A_PEER, &p2);
	te_auth_req(&r, &te_u, &c);
	te_input(t, &r, &c);
	ok(te_nrecs == 1, "allowed peers: one command");
	te_check_resp(0, &c, &r, M_PERMISSION, C_OK, 0, te_u.key,
	    "allowed peers -> signed success");
	ok(te_nrecs == 1 && ts_nattrs(te_recs[0].c.data, te_recs[0].c.len) == 2,
	    "success carries only SOFTWARE and MI");
	turn_free(t);
}

/* drain (DESIGN §3) */
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

/* per-source cap on unauthenticated replies (SECURITY 41) */
static void
test_unauth_cap(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 a, b = te_addr("198.51.100.8", 3000);
	struct ts_req		 r;
	struct turn_stats	 st0, st1;
	unsigned		 sends = 0, total_sends = 0, calls0;
	int			 i;
	uint32_t		 id;

	te_conf_init(&conf);
	conf.unauth_per_ip_per_s = 5;
	t = te_start(&conf);
	turn_get_stats(t, &st0);
	for (i = 0; i < 10; i++) {
		a = te_addr("198.51.100.7", (uint16_t)(2000 + i));
		te_now = TE_T0 + (uint64_t)i;
		ts_req_init(&r, M_BINDING, C_REQ);
		te_input(t, &r, &a);
		sends += te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND;
	}
	total_sends += sends;
	is_int(sends, 5, "10 BINDINGs in one second from one IP -> 5 answers");
	turn_get_stats(t, &st1);
	is_int((long long)(st1.dropped - st0.dropped), 5,
	    "the 5 suppressed replies count in stats.dropped");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_input(t, &r, &a);
	te_expect_none("unauthenticated ALLOCATE over the budget (no 401)");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	te_input(t, &r, &a);
	te_expect_none("400 over the budget");
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &b);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND,
	    "another IP still answered");
	total_sends += te_nrecs == 1;

	/* signed replies are not capped */
	te_alloc_req(&r, &te_u, &a, -1);
	te_input(t, &r, &a);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_START,
	    "authenticated ALLOCATE over the budget still works");
	id = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND,
	    "its signed success is sent");
	total_sends += te_nrecs == 1;

	te_now = TE_T0 + TE_SEC;
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &a);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND,
	    "next second: answered again");
	total_sends += te_nrecs == 1;
	is_int(te_hook.calls, total_sends,
	    "response hook: once per response sent, not for suppressed ones");
	calls0 = te_hook.calls;

	/*
	 * Many sources in one second: the table is fixed-size, so sources
	 * sharing a slot may share a budget; only check the hook agrees.
	 */
	sends = 0;
	for (i = 0; i < 20000; i++) {
		struct taddr	x;

		memset(&x, 0, sizeof(x));
		x.family = ADDR_V4;
		x.ip[0] = 100;
		x.ip[1] = (uint8_t)(i >> 16);
		x.ip[2] = (uint8_t)(i >> 8);
		x.ip[3] = (uint8_t)i;
		x.port = 1;
		ts_req_init(&r, M_BINDING, C_REQ);
		turn_client_input(t, r.b, r.len, &x, te_now, TE_WALL);
		te_collect(t);
		sends += te_nrecs == 1;
	}
	ok(sends >= 1000, "20000 sources in one second: %u answered", sends);
	is_int(te_hook.calls - calls0, sends,
	    "each answer counted by the hook");
	turn_free(t);
}

/* the response hook's arguments */
static void
test_hook(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	te_conf_init(&conf);
	t = te_start(&conf);
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &c);
	ok(te_hook.calls == 1 && te_hook.method == M_BINDING &&
	    te_hook.cls == STUN_SUCCESS && te_hook.code == 0,
	    "hook: (binding, success, 0)");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_input(t, &r, &c);
	ok(te_hook.calls == 2 && te_hook.method == M_ALLOCATE &&
	    te_hook.cls == STUN_ERROR && te_hook.code == 401,
	    "hook: (allocate, error, 401)");
	ts_req_init(&r, M_BINDING, C_IND);
	te_input(t, &r, &c);
	is_int(te_hook.calls, 2, "hook: not called for a dropped indication");
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	is_int(te_hook.calls, 2, "hook: not called for WORKER_START");
	id = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	ok(te_hook.calls == 3 && te_hook.method == M_ALLOCATE &&
	    te_hook.cls == STUN_SUCCESS && te_hook.code == 0,
	    "hook: (allocate, success, 0) on worker ready");
	te_input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	is_int(te_hook.calls, 3, "hook: not called for ChannelData");
	te_refresh_req(&r, &te_u2, &c, 600);
	te_input(t, &r, &c);
	ok(te_hook.calls == 4 && te_hook.method == M_REFRESH &&
	    te_hook.cls == STUN_ERROR && te_hook.code == 441,
	    "hook: (refresh, error, 441)");
	turn_free(t);
}


/* LOG commands (engine.md 16) */
static void
test_logs(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.9", 40000);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct ts_req		 r;
	uint32_t		 id;
	uint8_t		 frame[6] = { 0x40, 0, 0, 2, 0xca, 0xfe };

	te_conf_init(&conf);
	t = te_start(&conf);
	te_alloc_req(&r, &te_u, &c, -1);
	te_input(t, &r, &c);
	id = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	ok(te_log_has(TURN_LOG_INFO, "Created new allocation"),
	    "info 'Created new allocation' on worker ready");
	if (!te_log_has(TURN_LOG_INFO, "Created new allocation"))
		te_dump_logs();
	te_chanbind_req(&r, &te_u, &c, 0x4000, &p);
	te_input(t, &r, &c);
	te_input_raw(t, frame, sizeof(frame), &c);
	ok(te_nrecs == 1 && te_log_worst() >= TURN_LOG_DEBUG,
	    "ChannelData: no log above debug");
	turn_worker_data(t, id, frame, sizeof(frame), te_now);
	te_collect(t);
	ok(te_nrecs == 1 && te_log_worst() >= TURN_LOG_DEBUG,
	    "peer data: no log above debug");

	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_input(t, &r, &c2);
	ok(te_log_worst() >= TURN_LOG_DEBUG, "401: logged at debug at most");
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_auth(&r, &te_u, "00000000-0000-0000-0000-000000000000");
	te_input(t, &r, &c2);
	ok(te_log_worst() >= TURN_LOG_DEBUG, "438: logged at debug at most");
	te_refresh_req(&r, &te_u, &c2, 600);
	te_input(t, &r, &c2);
	ok(te_log_worst() <= TURN_LOG_WARN, "437: logged at warn");
	if (te_log_worst() > TURN_LOG_WARN)
		te_dump_logs();

	te_tick(t, te_now + 600 * TE_SEC);
	ok(te_nrecs >= 1 && te_is_stop(0, id, TURN_STOP_EXPIRED) &&
	    te_log_has(TURN_LOG_INFO, "Deleted allocation"),
	    "expiry: WORKER_STOP and info 'Deleted allocation'");
	if (!te_log_has(TURN_LOG_INFO, "Deleted allocation"))
		te_dump_logs();

	id = te_allocate(t, &c, &te_u, -1, 1, "hostile log");
	frame[1] = 0x07;
	turn_worker_data(t, id, frame, sizeof(frame), te_now);
	te_collect(t);
	ok(te_log_worst() <= TURN_LOG_WARN, "hostile worker: logged at warn");
	is_int(te_leaks, 0, "no LOG ever held a password or a nonce MAC");
	turn_free(t);
}

/* REFRESH on a STARTING allocation: no special case (engine.md 9) */
static void
test_refresh_starting(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	te_conf_init(&conf);
	t = te_start(&conf);
	id = te_allocate(t, &c, &te_u, -1, 0, "starting");
	te_refresh_req(&r, &te_u, &c, 100);
	te_input(t, &r, &c);
	te_check_resp(0, &c, &r, M_REFRESH, C_OK, 0, te_u.key,
	    "REFRESH on a STARTING allocation -> success");
	is_int(te_resp_lifetime(0), 100, "with LIFETIME 100");
	ok(turn_next_timeout(t) == te_now + 100 * TE_SEC, "expiry now + 100 s");
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

/* TURN REST credentials (auth.h, DESIGN §3) */
static void
test_rest(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.8", 40000);
	struct ts_req		 r;

	te_conf_init(&conf);
	conf.auth_schemes = AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST;
	t = te_start(&conf);
	te_allocate(t, &c, &te_urest, -1, 1, "REST user, both schemes");
	te_allocate(t, &c2, &te_u, -1, 1, "Firezone user, both schemes");
	turn_free(t);

	te_conf_init(&conf);
	conf.auth_schemes = AUTH_SCHEME_REST;
	t = te_start(&conf);
	te_allocate(t, &c, &te_urest, -1, 1, "REST user, REST only");
	te_alloc_req(&r, &te_u, &c2, -1);
	te_input(t, &r, &c2);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    ts_code(te_recs[0].c.data, te_recs[0].c.len) == 401,
	    "Firezone user, REST only -> 401");
	turn_free(t);

	te_conf_init(&conf);
	t = te_start(&conf);
	te_alloc_req(&r, &te_urest, &c, -1);
	te_input(t, &r, &c);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    ts_code(te_recs[0].c.data, te_recs[0].c.len) == 401,
	    "REST user, Firezone only -> 401");
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

/* SECURITY 21 and 24 */
static void
test_smuggling(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 other = te_addr("198.51.100.7", 40001);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct taddr		 lo = te_addr("127.0.0.1", 5000);
	struct ts_req		 r;
	uint32_t		 id;

	te_conf_init(&conf);
	t = te_start(&conf);
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
	is_str(te_u.pass, "izLTF0QnQC5bcltVxbyfK8r8wOW0iLM5g6vZqRBi1yA",
	    "test password derivation matches reference §13.3");

	test_families();
	test_lifetime();
	test_auth();
	test_sizes();
	test_attrs();
	test_drop();
	test_fingerprint();
	test_second_allocate();
	test_quota();
	test_bind_fail();
	test_worker_gone();
	test_worker_data();
	test_wrong_user();
	test_channel_bind();
	test_permission();
	test_drain();
	test_unauth_cap();
	test_hook();
	test_logs();
	test_refresh_starting();
	test_rest();
	test_range();
	test_smuggling();
	return done_testing();
}
