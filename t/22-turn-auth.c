/*
 * 22-turn-auth: table tests of the engine's rules, authentication: the
 * order 438, 401, 437, every error signed or minimal, the wrong user on an
 * allocation, TURN REST credentials and --realm, the per-source cap on
 * unauthenticated
 * replies, the response hook and the LOG commands (never a secret).
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

#include <nettle/md5.h>

#include "addr.h"
#include "auth.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

/* authentication order: 438 before 401 before 437 */
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
	te_alloc_req(&r, &bad, &c, -1);
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

/* another user on an existing allocation (attack case 22) */
static void
test_wrong_user(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct ts_req		 r;

	t = te_new();
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

/* per-source cap on unauthenticated replies (attack case 41) */
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
	conf.binding_per_ip_per_s = 5;
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
	is_int((long long)(st1.capped_binding - st0.capped_binding), 5,
	    "and in stats.capped_binding");
	for (i = 0; i < 5; i++) {
		ts_req_init(&r, M_ALLOCATE, C_REQ);
		ts_req_byte(&r, A_TRANSPORT, 17);
		te_input(t, &r, &a);
		total_sends += te_nrecs == 1;
	}
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
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	t = te_new();
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

/* LOG commands: levels, texts, never a secret */
static void
test_logs(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c2 = te_addr("198.51.100.9", 40000);
	struct taddr		 p = te_addr("192.0.2.50", 5000);
	struct ts_req		 r;
	uint32_t		 id;
	uint8_t		 frame[6] = { 0x40, 0, 0, 2, 0xca, 0xfe };

	t = te_new();
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

/* TURN REST credentials (auth.h) */
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

/*
 * Secret rotation (turn_set_secrets, what SIGHUP does with a
 * --secret-file of several lines): every secret verifies, a bad set is
 * refused with the old one kept, a removed secret's credentials get 401,
 * and nonces (keyed apart from the secrets) stay valid across a change.
 */
static void
test_rotate(void)
{
	static const char	*secb = "rotated-secret-B";
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c[8];
	struct ts_cred		 ub;
	struct ts_req		 r;
	const char		*set[TURN_SECRETS_MAX + 1];
	size_t			 lens[TURN_SECRETS_MAX + 1], i;
	char			 ip[32];

	for (i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%zu", 20 + i);
		c[i] = te_addr(ip, 40000);
	}
	for (i = 0; i <= TURN_SECRETS_MAX; i++) {
		set[i] = i == 0 ? secb : TE_SECRET;
		lens[i] = strlen(set[i]);
	}
	ts_cred_make(&ub, secb, TE_EXPIRY, "rotatedbb1");
	te_secret_add(ub.pass);
	te_conf_init(&conf);
	t = te_start(&conf);
	te_allocate(t, &c[0], &te_u, -1, 1, "secret A: A's credentials");
	te_alloc_req(&r, &ub, &c[1], -1);
	te_input(t, &r, &c[1]);
	ok(te_nrecs == 1 && ts_code(te_recs[0].c.data, te_recs[0].c.len) ==
	    401, "secret A: B's credentials -> 401");

	is_int(turn_set_secrets(t, set, lens, 2), 0, "secrets B, A set");
	te_allocate(t, &c[2], &te_u, -1, 1, "B, A: A's credentials verify");
	te_allocate(t, &c[3], &ub, -1, 1, "B, A: B's credentials verify");
	te_refresh_req(&r, &te_u, &c[0], 600);
	te_input(t, &r, &c[0]);
	ok(te_nrecs == 1 && ts_code(te_recs[0].c.data, te_recs[0].c.len) ==
	    0, "B, A: the allocation made under A refreshes");
	/* a stale nonce: the 438 is signed with the key A's user verifies */
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	ts_req_auth(&r, &te_u, "00000000-0000-0000-0000-000000000000");
	te_input(t, &r, &c[4]);
	te_expect_err(&c[4], &r, M_ALLOCATE, 438, te_u.key,
	    "B, A: 438 to A's user signed with A's key");

	is_int(turn_set_secrets(t, set, lens, 0), -1, "no secret: refused");
	is_int(turn_set_secrets(t, set, lens, TURN_SECRETS_MAX + 1), -1,
	    "%d secrets: refused", TURN_SECRETS_MAX + 1);
	te_allocate(t, &c[5], &te_u, -1, 1,
	    "after the refusals A's credentials still verify");
	is_int(turn_set_secrets(t, set, lens, TURN_SECRETS_MAX), 0,
	    "%d secrets: taken", TURN_SECRETS_MAX);

	is_int(turn_set_secrets(t, set, lens, 1), 0, "secret B alone set");
	te_alloc_req(&r, &te_u, &c[6], -1);
	te_input(t, &r, &c[6]);
	ok(te_nrecs == 1 && ts_code(te_recs[0].c.data, te_recs[0].c.len) ==
	    401, "B alone: A's credentials -> 401");
	te_refresh_req(&r, &te_u, &c[2], 600);
	te_input(t, &r, &c[2]);
	ok(te_nrecs == 1 && ts_code(te_recs[0].c.data, te_recs[0].c.len) ==
	    401, "B alone: A's allocation cannot refresh with A's key");
	te_allocate(t, &c[7], &ub, -1, 1, "B alone: B's credentials verify");
	is_int((int)te_leaks, 0, "no LOG holds a secret or password");
	turn_free(t);
}

/* the credential c with its long-term key MD5(user:realm:pass) */
static struct ts_cred
realm_cred(const struct ts_cred *c, const char *realm)
{
	struct ts_cred	k = *c;
	struct md5_ctx	ctx;

	md5_init(&ctx);
	md5_update(&ctx, strlen(c->user), (const uint8_t *)c->user);
	md5_update(&ctx, 1, (const uint8_t *)":");
	md5_update(&ctx, strlen(realm), (const uint8_t *)realm);
	md5_update(&ctx, 1, (const uint8_t *)":");
	md5_update(&ctx, strlen(c->pass), (const uint8_t *)c->pass);
	md5_digest(&ctx, 16, k.key);
	return k;
}

/* an ALLOCATE signed with c must get exactly a 401 */
static void
realm_401(struct turn *t, const struct ts_cred *c, const struct taddr *from,
    const char *what)
{
	struct ts_req	r;

	te_alloc_req(&r, c, from, -1);
	te_input(t, &r, from);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    ts_code(te_recs[0].c.data, te_recs[0].c.len) == 401, "%s", what);
}

/* the REALM of the only recorded response */
static int
realm_is(const char *want)
{
	const uint8_t	*v;
	size_t		 vlen;

	if (te_nrecs != 1 || te_recs[0].c.type != TURN_CMD_SEND)
		return 0;
	v = ts_attr(te_recs[0].c.data, te_recs[0].c.len, A_REALM, &vlen);
	return v != NULL && vlen == strlen(want) && memcmp(v, want, vlen) == 0;
}

/*
 * --realm: REST credentials are keyed with it and 401/438 announce it;
 * Firezone credentials keep "firezone" and, with both schemes, work under
 * the announced realm too; Firezone alone refuses another realm.
 */
static void
test_realm(void)
{
	static const char	 realm[] = "turn.example.test";
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c[4];
	struct ts_cred		 rest_r, rest_fz, fz_r, fz_fz;
	struct ts_req		 r;
	char			 longr[AUTH_REALM_MAX + 2];
	int			 i;

	for (i = 0; i < 4; i++)
		c[i] = te_addr("198.51.100.9", (uint16_t)(40000 + i));
	rest_r = realm_cred(&te_urest, realm);
	rest_fz = realm_cred(&te_urest, "firezone");
	fz_r = realm_cred(&te_u, realm);
	fz_fz = realm_cred(&te_u, "firezone");
	ok(memcmp(fz_fz.key, te_u.key, 16) == 0 &&
	    memcmp(rest_fz.key, te_urest.key, 16) == 0,
	    "realm keys: the test's own MD5 matches the default keys");

	te_conf_init(&conf);
	conf.auth_schemes = AUTH_SCHEME_REST;
	conf.realm = realm;
	t = te_start(&conf);
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_input(t, &r, &c[0]);
	ok(te_nrecs == 1 && ts_code(te_recs[0].c.data, te_recs[0].c.len) ==
	    401 && realm_is(realm), "REST, --realm: the 401 announces it");
	te_allocate(t, &c[0], &rest_r, -1, 1, "REST, --realm: key under it");
	realm_401(t, &rest_fz, &c[1], "REST, --realm: key under firezone "
	    "-> 401");
	ok(realm_is(realm), "REST, --realm: that 401 announces it too");
	realm_401(t, &fz_fz, &c[2], "REST, --realm: Firezone user -> 401");
	turn_free(t);

	te_conf_init(&conf);
	conf.auth_schemes = AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST;
	conf.realm = realm;
	t = te_start(&conf);
	te_allocate(t, &c[0], &fz_fz, -1, 1, "both, --realm: Firezone user, "
	    "realm firezone");
	te_allocate(t, &c[1], &fz_r, -1, 1, "both, --realm: Firezone user, "
	    "the announced realm");
	te_allocate(t, &c[2], &rest_r, -1, 1, "both, --realm: REST user, "
	    "the announced realm");
	realm_401(t, &rest_fz, &c[3], "both, --realm: REST user, realm "
	    "firezone -> 401");
	ok(realm_is(realm), "both, --realm: the 401 announces the realm");
	turn_free(t);

	/* Firezone only: realm firezone, nothing else */
	te_conf_init(&conf);
	conf.realm = "firezone";
	t = turn_new(&conf, te_rng_zero, NULL);
	ok(t != NULL, "Firezone only, realm firezone: accepted");
	turn_free(t);
	conf.realm = realm;
	ok(turn_new(&conf, te_rng_zero, NULL) == NULL,
	    "Firezone only, another realm: refused");
	conf.auth_schemes = AUTH_SCHEME_REST;
	conf.realm = "";
	ok(turn_new(&conf, te_rng_zero, NULL) == NULL, "empty realm: refused");
	memset(longr, 'r', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = '\0';
	conf.realm = longr;
	ok(turn_new(&conf, te_rng_zero, NULL) == NULL,
	    "128-character realm: refused");
	longr[AUTH_REALM_MAX] = '\0';
	t = turn_new(&conf, te_rng_zero, NULL);
	ok(t != NULL, "127-character realm: accepted");
	turn_free(t);
	/* the reflection cap allows for the realm: a minimal first
	 * ALLOCATE (28 bytes) still gets its 401 (196 bytes) */
	t = te_start(&conf);
	ts_req_init(&r, M_ALLOCATE, C_REQ);
	ts_req_byte(&r, A_TRANSPORT, 17);
	te_input(t, &r, &c[0]);
	ok(te_nrecs == 1 && ts_code(te_recs[0].c.data, te_recs[0].c.len) ==
	    401 && realm_is(longr), "127-character realm: a 28-byte ALLOCATE "
	    "gets its 401");
	turn_free(t);
}

int
main(void)
{
	te_creds();
	is_str(te_u.pass, "izLTF0QnQC5bcltVxbyfK8r8wOW0iLM5g6vZqRBi1yA",
	    "test password derivation matches the Firezone vector");

	test_auth();
	test_wrong_user();
	test_unauth_cap();
	test_hook();
	test_logs();
	test_rest();
	test_realm();
	test_rotate();
	return done_testing();
}
