/*
 * 29-turn-malformed: table tests of the engine's rules, malformed and
 * hostile datagrams: reflection gain, attribute rules, datagrams that get
 * no command at all, FINGERPRINT.
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

/* reflection gain: no answer larger than its request (attack case 40) */
static void
test_sizes(void)
{
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 c6 = te_addr("2001:db8:1::7", 40000);
	struct ts_req		 r;

	t = te_new();
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

/* REQUESTED-TRANSPORT, 420s, EVEN-PORT (attack cases 26, 27, 36) */
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

/* datagrams that get no command at all (attack cases 35, 36) and 400s */
static void
test_drop(void)
{
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

	t = te_new();

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
	/* a Binding without the cookie is an RFC 3489 client's, answered
	 * (t/18-turn-classic.c); any other method without it is nothing */
	memcpy(raw, r.b, 20);
	raw[1] = 0x03;				/* ALLOCATE */
	raw[4] ^= 1;
	te_input_raw(t, raw, 20, &c);
	te_expect_none("ALLOCATE with a bad magic cookie");
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
	struct turn		*t;
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct ts_req		 r;
	uint32_t		 id;

	t = te_new();
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

	te_alloc_req(&r, &te_u, &c, -1);
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

int
main(void)
{
	te_creds();

	test_sizes();
	test_attrs();
	test_drop();
	test_fingerprint();
	is_int(te_leaks, 0, "no LOG held a password or a nonce MAC");
	return done_testing();
}
