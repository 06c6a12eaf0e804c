/*
 * 28-turn-permission: table tests of the engine's rules, CREATE-PERMISSION
 * without --indications (the indications path is t/23).
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

/* CREATE-PERMISSION: peers checked like CHANNEL-BIND's, no command for
 * the worker without --indications */
static void
test_permission(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p1 = te_addr("192.0.2.60", 1);
	struct taddr		 p2 = te_addr("192.0.2.61", 1);
	struct taddr		 lo = te_addr("127.0.0.1", 1);
	struct taddr		 v6 = te_addr("2001:db8:5::5", 1);
	struct ts_req		 r;

	t = te_new();
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

int
main(void)
{
	te_creds();

	test_permission();
	is_int(te_leaks, 0, "no LOG held a password or a nonce MAC");
	return done_testing();
}
