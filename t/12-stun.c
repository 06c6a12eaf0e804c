/*
 * 12-stun.c: the STUN/TURN codec, byte-exact.
 *
 * RFC 5769 vectors, the Firezone relay's vectors (its regression tests'
 * recorded messages and the vectors of t/21), a malformed-input table
 * (attack cases 35-38), decoding at misaligned offsets, and encoder
 * padding hygiene.
 */
#include <stdio.h>
#include <string.h>

#include "stun.h"
#include "tap.h"

#define MAXMSG	4096

/* RFC 5769 §2.1 sample request (short-term password below) */
static const char rfc_req[] =
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "802200105354554e207465737420636c69656e74"
    "002400046e0001ff"
    "80290008932ff9b151263b36"
    "000600096576746a3a683676592020 20"
    "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
    "80280004e57a3bcf";
/* RFC 5769 §2.2 sample IPv4 response */
static const char rfc_resp4[] =
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "0020000800 01a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96";
/* RFC 5769 §2.3 sample IPv6 response */
static const char rfc_resp6[] =
    "010100482112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
    "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c";
/* RFC 5769 §2.4 sample request with long-term authentication */
static const char rfc_req_lt[] =
    "000100602112a44278ad3433c6ad72c029da412e"
    "00060012e3839ee38388e383aae38383e382afe382b90000"
    "0015001c662f2f3439396b39353464364f4c33346f4c394653547679363473 41"
    "0014000b6578616d706c652e6f726700"
    "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666";
static const char rfc_pass[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t rfc_lt_user[] = {
	0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa,
	0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9
};

/* the Firezone relay's regression tests: vectors recorded from real
 * clients */
static const char h_bind_req[] = "000100002112a4420908af7d45e8751f5092d167";
static const char h_bind_resp[] =
    "0101000c2112a4420908af7d45e8751f5092d16700200008000144e07a9fe402";
static const char h_alloc_resp[] =
    "010300202112a442998bcae2a73b55941682cf47001600080001e112026eff67"
    "0020000800013ada7a9fe2df000d000400000258";
static const char h_401[] =
    "0113002c2112a44216e1c61ab424700638d1cdc70009001000000401556e6175"
    "74686f72697a656400150006666f6f626172000000140008666972657a6f6e65";
static const char h_alloc_fp[] =
    "000300482112a442998bcae2a73b55941682cf47001900041100000000060004"
    "7465737400140008666972657a6f6e6500150006666f6f626172000000080014"
    "b279018b143b1c6ac194a2848d0e37958731a2f38028000497076a00";

/* the Firezone relay's nil-UUID nonce (the vectors of t/21) */
#define NIL_NONCE "30303030303030302d303030302d303030302d303030302d303030303030303030303030"
#define V_USER "00060015343130323434343830303a6162636465666768696a000000"
static const char v1_req[] =
    "000300082112a442000102030405060708090a0b0019000411000000";
static const char v1_resp[] =
    "011300482112a442000102030405060708090a0b0009001000000401556e6175"
    "74686f72697a6564001500 24" NIL_NONCE "00140008666972657a6f6e65";
static const char v2_req[] =
    "000300702112a442101112131415161718191a1b0019000411000000" V_USER
    "00140008666972657a6f6e65" "00150024" NIL_NONCE
    "00080014bdb3598046f3b403e75bdadb8111baec95497fc9";
static const char v2_resp[] =
    "010300202112a442101112131415161718191a1b001600080001e112ea12d543"
    "002000080001bd52e721c045000d000400000258";
static const char v3_req[] =
    "000900702112a442202122232425262728292a2b" V_USER
    "000c000440000000001200080001329ae112a670" "00150024" NIL_NONCE
    "00080014b35cd606793de027031c814212b62700707f48a5";
static const char v3_resp[] = "010900002112a442202122232425262728292a2b";
static const char v4_req[] =
    "000400642112a442303132333435363738393a3b" V_USER
    "00150024" NIL_NONCE "000d000400000000"
    "00080014ff59f21bbb4e6c9bc115139fc55eafec64146092";
static const char v4_resp[] =
    "010400082112a442303132333435363738393a3b000d000400000000";
static const char v5_req[] =
    "000300782112a442404142434445464748494a4b0019000411000000"
    "8000000402000000" V_USER "00140008666972657a6f6e65"
    "00150024" NIL_NONCE
    "00080014843686c3a5983fe5fefba53a3b061f23754d5e2f";
static const char v5_resp[] =
    "010300382112a442404142434445464748494a4b001600080001e112ea12d543"
    "001600140002e1120113a9fa404142434445464748494a4a"
    "002000080001bd52e721c045000d000400000258";
static const char v2_resp_signed[] =
    "010300542112a442101112131415161718191a1b80220018666972657a6f6e65"
    "2d72656c61793b207265763d78787878001600080001e112ea12d54300200008"
    "0001bd52e721c045000d000400000258000800149f6cd2beb6c84ccfba9480cd"
    "9ab0b169ece6c2ca";
static const char v_user[] = "4102444800:abcdefghij";
static const char v_pass[] = "izLTF0QnQC5bcltVxbyfK8r8wOW0iLM5g6vZqRBi1yA";

static const uint8_t tid0[STUN_TID_LEN] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b
};

static size_t
hex(const char *h, uint8_t *out)
{
	return tap_unhex(h, out, MAXMSG);
}

static void
tid_from(const char *h, uint8_t tid[STUN_TID_LEN])
{
	uint8_t	 b[MAXMSG];

	hex(h, b);
	memcpy(tid, b + 8, STUN_TID_LEN);
}

static struct taddr
ta(const char *hp)
{
	struct taddr	 a;

	if (addr_parse_hostport(hp, &a) == -1) {
		diag("bad address in test: %s", hp);
		memset(&a, 0, sizeof(a));
	}
	return a;
}

static int
is_addr(const struct taddr *got, const char *want, const char *name)
{
	char	 b[ADDR_STRLEN];

	return is_str(addr_fmt(got, b, sizeof(b)), want, "%s", name);
}

static void
key_for(const char *user, const char *realm, const char *pass,
    uint8_t key[16])
{
	stun_lt_key((const uint8_t *)user, strlen(user), realm, pass,
	    strlen(pass), key);
}

static int
decode_hex(const char *h, uint8_t *buf, struct stun_msg *m, int *code)
{
	size_t	 n = hex(h, buf);

	return stun_decode(buf, n, m, code);
}

static void
test_rfc5769(void)
{
	uint8_t		 b[MAXMSG], key[16];
	struct stun_msg	 m;
	int		 rc, code;

	/* the RFC 5769 §2.1 request: PRIORITY (0x0024) is comprehension-
	 * required and unknown to a TURN server: 420 listing it;
	 * ICE-CONTROLLED (0x8029) ignored */
	rc = decode_hex(rfc_req, b, &m, &code);
	is_int(rc, STUN_REPLY, "5769 2.1: decodes with a reply");
	is_int(code, STUN_ERR_UNKNOWN_ATTRIBUTE, "5769 2.1: 420");
	ok(m.n_unknown == 1 && m.unknown[0] == 0x0024,
	    "5769 2.1: PRIORITY listed as unknown");
	is_int(m.method, STUN_BINDING, "5769 2.1: binding");
	is_int(m.cls, STUN_REQUEST, "5769 2.1: request");
	is_mem(m.username, m.username_len, "evtj:h6vY", 9,
	    "5769 2.1: username (space padding accepted)");
	is_mem(m.software, m.software_len, "STUN test client", 16,
	    "5769 2.1: software");
	ok(m.has & STUN_HAS_FINGERPRINT, "5769 2.1: fingerprint verified");
	is_int(m.mi_off, 20 + 20 + 8 + 12 + 16, "5769 2.1: mi_off");
	is_int(stun_check_mi_key(&m, (const uint8_t *)rfc_pass,
	    strlen(rfc_pass)), 1, "5769 2.1: MESSAGE-INTEGRITY verifies");
	is_int(stun_check_mi_key(&m, (const uint8_t *)rfc_pass,
	    strlen(rfc_pass) - 1), 0, "5769 2.1: wrong key fails");

	rc = decode_hex(rfc_resp4, b, &m, &code);
	is_int(rc, STUN_OK, "5769 2.2: ok");
	ok(m.method == STUN_BINDING && m.cls == STUN_SUCCESS,
	    "5769 2.2: binding success");
	ok(m.has & STUN_HAS_MAPPED, "5769 2.2: has XOR-MAPPED-ADDRESS");
	is_addr(&m.mapped, "192.0.2.1:32853", "5769 2.2: mapped address");
	is_mem(m.software, m.software_len, "test vector", 11,
	    "5769 2.2: software");
	ok(m.has & STUN_HAS_FINGERPRINT, "5769 2.2: fingerprint verified");
	is_int(stun_check_mi_key(&m, (const uint8_t *)rfc_pass,
	    strlen(rfc_pass)), 1, "5769 2.2: MESSAGE-INTEGRITY verifies");

	rc = decode_hex(rfc_resp6, b, &m, &code);
	is_int(rc, STUN_OK, "5769 2.3: ok");
	is_addr(&m.mapped, "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
	    "5769 2.3: mapped address");
	ok(m.has & STUN_HAS_FINGERPRINT, "5769 2.3: fingerprint verified");
	is_int(stun_check_mi_key(&m, (const uint8_t *)rfc_pass,
	    strlen(rfc_pass)), 1, "5769 2.3: MESSAGE-INTEGRITY verifies");

	rc = decode_hex(rfc_req_lt, b, &m, &code);
	is_int(rc, STUN_OK, "5769 2.4: ok");
	is_mem(m.username, m.username_len, rfc_lt_user, sizeof(rfc_lt_user),
	    "5769 2.4: username");
	is_mem(m.nonce, m.nonce_len, "f//499k954d6OL34oL9FSTvy64sA", 28,
	    "5769 2.4: nonce");
	is_mem(m.realm, m.realm_len, "example.org", 11, "5769 2.4: realm");
	ok(!(m.has & STUN_HAS_FINGERPRINT), "5769 2.4: no fingerprint");
	stun_lt_key(rfc_lt_user, sizeof(rfc_lt_user), "example.org",
	    "TheMatrIX", 9, key);
	is_int(stun_check_mi(&m, key), 1,
	    "5769 2.4: long-term MESSAGE-INTEGRITY verifies");
	key[0] ^= 1;
	is_int(stun_check_mi(&m, key), 0, "5769 2.4: altered key fails");
}

static void
test_historic_decode(void)
{
	uint8_t		 b[MAXMSG], key[16];
	struct stun_msg	 m;
	int		 rc, code;

	rc = decode_hex(h_bind_req, b, &m, &code);
	ok(rc == STUN_OK && m.method == STUN_BINDING &&
	    m.cls == STUN_REQUEST && m.has == 0, "historic BINDING request");
	is_mem(m.tid, STUN_TID_LEN, b + 8, STUN_TID_LEN, "binding tid");

	rc = decode_hex(h_alloc_fp, b, &m, &code);
	is_int(rc, STUN_OK, "client ALLOCATE with FINGERPRINT: ok");
	ok(m.method == STUN_ALLOCATE && m.cls == STUN_REQUEST,
	    "client ALLOCATE: allocate request");
	ok((m.has & STUN_HAS_TRANSPORT) && m.transport == 17,
	    "client ALLOCATE: transport UDP");
	is_mem(m.username, m.username_len, "test", 4, "client ALLOCATE: user");
	is_mem(m.nonce, m.nonce_len, "foobar", 6, "client ALLOCATE: nonce");
	is_mem(m.realm, m.realm_len, "firezone", 8, "client ALLOCATE: realm");
	ok(m.has & STUN_HAS_FINGERPRINT, "client ALLOCATE: FINGERPRINT ok");
	key_for("test", "firezone", "test", key);
	is_int(stun_check_mi(&m, key), 1, "client ALLOCATE: MI verifies");
	key_for("test", "firezone", "tesT", key);
	is_int(stun_check_mi(&m, key), 0, "client ALLOCATE: wrong pass fails");

	rc = decode_hex(h_401, b, &m, &code);
	ok(rc == STUN_OK && m.cls == STUN_ERROR &&
	    (m.has & STUN_HAS_ERROR) && m.error_code == 401,
	    "historic 401 decodes with its error code");
	is_mem(m.reason, m.reason_len, "Unauthorized", 12, "401 reason");

	rc = decode_hex(h_alloc_resp, b, &m, &code);
	ok(rc == STUN_OK && m.n_relayed == 1, "historic ALLOCATE success");
	is_addr(&m.relayed[0], "35.124.91.37:49152", "relayed address");
	is_addr(&m.mapped, "91.141.70.157:7112", "mapped address");
	is_int(m.lifetime, 600, "lifetime");
}

static void
test_v_decode(void)
{
	uint8_t		 b[MAXMSG], key[16];
	struct stun_msg	 m;
	int		 rc, code;

	key_for(v_user, "firezone", v_pass, key);

	rc = decode_hex(v1_req, b, &m, &code);
	ok(rc == STUN_OK && m.method == STUN_ALLOCATE &&
	    m.has == STUN_HAS_TRANSPORT && m.transport == 17, "V1 decodes");

	rc = decode_hex(v2_req, b, &m, &code);
	is_int(rc, STUN_OK, "V2 decodes");
	is_mem(m.username, m.username_len, v_user, strlen(v_user),
	    "V2 username");
	is_mem(m.nonce, m.nonce_len, "00000000-0000-0000-0000-000000000000",
	    36, "V2 nonce");
	is_int(stun_check_mi(&m, key), 1, "V2 MI verifies");

	rc = decode_hex(v3_req, b, &m, &code);
	ok(rc == STUN_OK && m.method == STUN_CHANNEL_BIND &&
	    (m.has & STUN_HAS_CHANNEL) && m.channel == 0x4000,
	    "V3 channel 0x4000");
	ok(m.n_peers == 1 && (m.has & STUN_HAS_PEER), "V3 one peer");
	is_addr(&m.peers[0], "192.0.2.50:5000", "V3 peer address");
	is_int(stun_check_mi(&m, key), 1, "V3 MI verifies");

	rc = decode_hex(v4_req, b, &m, &code);
	ok(rc == STUN_OK && m.method == STUN_REFRESH &&
	    (m.has & STUN_HAS_LIFETIME) && m.lifetime == 0, "V4 lifetime 0");
	is_int(stun_check_mi(&m, key), 1, "V4 MI verifies");

	rc = decode_hex(v5_req, b, &m, &code);
	ok(rc == STUN_OK && (m.has & STUN_HAS_ADD_FAMILY) &&
	    m.add_family == STUN_AF_IPV6 && !(m.has & STUN_HAS_REQ_FAMILY),
	    "V5 additional family IPv6");
	is_int(stun_check_mi(&m, key), 1, "V5 MI verifies");

	rc = decode_hex(v2_resp_signed, b, &m, &code);
	ok(rc == STUN_OK && m.cls == STUN_SUCCESS, "V2 signed response");
	is_int(stun_check_mi(&m, key), 1, "V2 signed response MI verifies");
}

static int
enc_check(struct stun_enc *e, const char *want, const char *name)
{
	uint8_t	 w[MAXMSG];
	size_t	 wn = hex(want, w);
	long	 n = stun_enc_finish(e);

	if (n < 0)
		return ok(0, "%s (encoder overflow)", name);
	return is_mem(e->w.p, (size_t)n, w, wn, "%s", name);
}

static void
test_encode(void)
{
	uint8_t		 out[MAXMSG], tid[STUN_TID_LEN], key[16];
	struct stun_enc	 e;
	struct taddr	 a;
	static const char nil[] = "00000000-0000-0000-0000-000000000000";
	static const char sw[] = "firezone-relay; rev=xxxx";

	tid_from(h_bind_resp, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, tid);
	a = ta("91.141.64.64:26098");
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &a);
	enc_check(&e, h_bind_resp, "encode historic BINDING response");

	tid_from(h_alloc_resp, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_SUCCESS, tid);
	a = ta("35.124.91.37:49152");
	stun_put_xaddr(&e, STUN_A_XOR_RELAYED_ADDRESS, &a);
	a = ta("91.141.70.157:7112");
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &a);
	stun_put_u32(&e, STUN_A_LIFETIME, 600);
	enc_check(&e, h_alloc_resp, "encode historic ALLOCATE success");

	tid_from(h_401, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_ERROR, tid);
	stun_put_error(&e, STUN_ERR_UNAUTHORIZED);
	stun_put_attr(&e, STUN_A_NONCE, "foobar", 6);
	stun_put_attr(&e, STUN_A_REALM, "firezone", 8);
	enc_check(&e, h_401, "encode historic 401 (NONCE foobar)");

	tid_from(v1_resp, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_ERROR, tid);
	stun_put_error(&e, STUN_ERR_UNAUTHORIZED);
	stun_put_attr(&e, STUN_A_NONCE, nil, strlen(nil));
	stun_put_attr(&e, STUN_A_REALM, "firezone", 8);
	enc_check(&e, v1_resp, "encode V1 401");

	tid_from(v2_resp, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_SUCCESS, tid);
	a = ta("203.0.113.1:49152");
	stun_put_xaddr(&e, STUN_A_XOR_RELAYED_ADDRESS, &a);
	a = ta("198.51.100.7:40000");
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &a);
	stun_put_u32(&e, STUN_A_LIFETIME, 600);
	enc_check(&e, v2_resp, "encode V2 success");

	tid_from(v3_resp, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_CHANNEL_BIND, STUN_SUCCESS,
	    tid);
	enc_check(&e, v3_resp, "encode V3 success (header only)");

	tid_from(v4_resp, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_REFRESH, STUN_SUCCESS, tid);
	stun_put_u32(&e, STUN_A_LIFETIME, 0);
	enc_check(&e, v4_resp, "encode V4 success");

	tid_from(v5_resp, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_SUCCESS, tid);
	a = ta("203.0.113.1:49152");
	stun_put_xaddr(&e, STUN_A_XOR_RELAYED_ADDRESS, &a);
	a = ta("[2001:db8::1]:49152");
	stun_put_xaddr(&e, STUN_A_XOR_RELAYED_ADDRESS, &a);
	a = ta("198.51.100.7:40000");
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &a);
	stun_put_u32(&e, STUN_A_LIFETIME, 600);
	enc_check(&e, v5_resp, "encode V5 dual-stack success");

	tid_from(v2_resp_signed, tid);
	key_for(v_user, "firezone", v_pass, key);
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_SUCCESS, tid);
	stun_put_attr(&e, STUN_A_SOFTWARE, sw, strlen(sw));
	a = ta("203.0.113.1:49152");
	stun_put_xaddr(&e, STUN_A_XOR_RELAYED_ADDRESS, &a);
	a = ta("198.51.100.7:40000");
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &a);
	stun_put_u32(&e, STUN_A_LIFETIME, 600);
	stun_put_mi(&e, key);
	enc_check(&e, v2_resp_signed, "encode V2 signed (SOFTWARE + MI)");

	/* encode the requests we decode, to pin the request-side encoder */
	tid_from(v3_req, tid);
	stun_enc_init(&e, out, sizeof(out), STUN_CHANNEL_BIND, STUN_REQUEST,
	    tid);
	stun_put_attr(&e, STUN_A_USERNAME, v_user, strlen(v_user));
	stun_put_attr(&e, STUN_A_CHANNEL_NUMBER, "\x40\x00\x00\x00", 4);
	a = ta("192.0.2.50:5000");
	stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, &a);
	stun_put_attr(&e, STUN_A_NONCE, nil, strlen(nil));
	stun_put_mi(&e, key);
	enc_check(&e, v3_req, "encode V3 request byte-exact");

	/* the real client's ALLOCATE, MI then FINGERPRINT */
	tid_from(h_alloc_fp, tid);
	key_for("test", "firezone", "test", key);
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_put_u32(&e, STUN_A_REQUESTED_TRANSPORT, 0x11000000);
	stun_put_attr(&e, STUN_A_USERNAME, "test", 4);
	stun_put_attr(&e, STUN_A_REALM, "firezone", 8);
	stun_put_attr(&e, STUN_A_NONCE, "foobar", 6);
	stun_put_mi(&e, key);
	stun_put_fingerprint(&e);
	enc_check(&e, h_alloc_fp, "encode client ALLOCATE with MI+FP");
}

static void
test_encode_misc(void)
{
	uint8_t		 out[MAXMSG];
	struct stun_enc	 e;
	struct stun_msg	 m;
	int		 rc, code;
	long		 n;
	static const uint16_t unk[3] = { 0x0030, 0x0031, 0x7fff };

	/* a 420 with UNKNOWN-ATTRIBUTES round-trips */
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_ERROR, tid0);
	stun_put_error(&e, STUN_ERR_UNKNOWN_ATTRIBUTE);
	stun_put_unknown(&e, unk, 3);
	n = stun_enc_finish(&e);
	ok(n == 20 + 4 + 4 + 17 + 3 + 4 + 6 + 2, "420 length %ld", n);
	is_mem(out + 20 + 4 + 4 + 20, 12,
	    "\x00\x0a\x00\x06\x00\x30\x00\x31\x7f\xff\x00\x00", 12,
	    "UNKNOWN-ATTRIBUTES value and zero padding");
	rc = stun_decode(out, (size_t)n, &m, &code);
	ok(rc == STUN_OK && m.error_code == 420 && m.cls == STUN_ERROR &&
	    m.method == STUN_ALLOCATE, "420 decodes back");

	/* overflow is sticky and reported */
	stun_enc_init(&e, out, 40, STUN_BINDING, STUN_REQUEST, tid0);
	stun_put_attr(&e, STUN_A_SOFTWARE, "0123456789abcdef", 16);
	is_int(stun_enc_finish(&e), 40, "exactly full buffer is fine");
	stun_put_u32(&e, STUN_A_LIFETIME, 1);
	is_int(stun_enc_finish(&e), -1, "one attribute too many: -1");
	stun_enc_init(&e, out, 19, STUN_BINDING, STUN_REQUEST, tid0);
	is_int(stun_enc_finish(&e), -1, "no room for the header: -1");
	stun_enc_init(&e, out, 40, STUN_BINDING, STUN_REQUEST, tid0);
	stun_put_mi_key(&e, (const uint8_t *)"k", 1);
	is_int(stun_enc_finish(&e), -1, "no room for MI: -1");
	stun_enc_init(&e, out, 27, STUN_BINDING, STUN_REQUEST, tid0);
	stun_put_fingerprint(&e);
	is_int(stun_enc_finish(&e), -1, "no room for FINGERPRINT: -1");
	stun_enc_init(&e, out, sizeof(out), STUN_BINDING, STUN_ERROR, tid0);
	stun_put_error(&e, 200);
	is_int(stun_enc_finish(&e), -1, "error code 200 refused");

	/* every method/class combination round-trips through the header */
	for (rc = 0; rc < 4; rc++) {
		stun_enc_init(&e, out, sizeof(out), 0xabc, (uint8_t)rc, tid0);
		n = stun_enc_finish(&e);
		stun_decode(out, (size_t)n, &m, &code);
		ok(m.method == 0xabc && m.cls == rc, "method/class %d", rc);
	}
}

/*
 * Malformed-input table. Messages are built by hand: header type, then
 * raw attribute bytes; the length field is computed unless overridden.
 */
struct bad_case {
	const char	*name;
	const char	*hdr;	/* type + length + cookie; NULL: computed */
	const char	*attrs;
	int		 rc;
	int		 code;
};

#define TIDH	"000102030405060708090a0b"
static const struct bad_case bad_cases[] = {
	{ "19 bytes", "00010000 2112a442", "000102030405060708090a", STUN_DROP, 0 },
	{ "top bits 10", "80010000 2112a442", "", STUN_DROP, 0 },
	{ "top bits 01 (ChannelData-looking)", "40010000 2112a442", "",
	    STUN_DROP, 0 },
	{ "bad cookie", "00010000 2112a443", "", STUN_DROP, 0 },
	{ "length not a multiple of 4", "00010002 2112a442", "0000",
	    STUN_DROP, 0 },
	{ "length > datagram", "00010008 2112a442", "80220000", STUN_DROP, 0 },
	{ "length < datagram", "00010000 2112a442", "80220000", STUN_DROP, 0 },
	{ "attribute overruns", NULL, "00060008 61626364", STUN_DROP, 0 },
	{ "attribute length 0xffff", NULL, "0006ffff 61626364", STUN_DROP, 0 },
	{ "padding overruns", NULL, "00060005 61626364", STUN_DROP, 0 },
	{ "FINGERPRINT not last", NULL,
	    "80280004 00000000 80220000", STUN_DROP, 0 },
	{ "FINGERPRINT wrong length", NULL, "80280008 0000000000000000",
	    STUN_DROP, 0 },
	{ "FINGERPRINT wrong", NULL, "80280004 00000000", STUN_DROP, 0 },
	{ "MI length 19", NULL,
	    "00080013 00000000000000000000000000000000000000 00",
	    STUN_REPLY, 400 },
	{ "MI length 21", NULL,
	    "00080015 000000000000000000000000000000000000000000 000000",
	    STUN_REPLY, 400 },
	{ "MI-SHA256 length 31", NULL, "001c001f"
	    "00000000000000000000000000000000000000000000000000000000000000 00",
	    STUN_REPLY, 400 },
	{ "MI-SHA256 length 32", NULL, "001c0020"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    STUN_OK, 0 },
	{ "channel 0x3fff", NULL, "000c0004 3fff0000", STUN_REPLY, 400 },
	{ "channel 0x4000", NULL, "000c0004 40000000", STUN_OK, 0 },
	{ "channel 0x4fff", NULL, "000c0004 4fff0000", STUN_OK, 0 },
	{ "channel 0x5000", NULL, "000c0004 50000000", STUN_REPLY, 400 },
	{ "channel 0x7fff", NULL, "000c0004 7fff0000", STUN_REPLY, 400 },
	{ "channel 0xffff", NULL, "000c0004 ffff0000", STUN_REPLY, 400 },
	{ "channel length 2", NULL, "000c0002 40000000", STUN_REPLY, 400 },
	{ "requested family 0x00", NULL, "00170004 00000000", STUN_REPLY, 400 },
	{ "requested family 0x03", NULL, "00170004 03000000", STUN_REPLY, 400 },
	{ "requested family 0x02", NULL, "00170004 02000000", STUN_OK, 0 },
	{ "additional family 0x00", NULL, "80000004 00000000", STUN_REPLY, 400 },
	{ "additional family 0x03", NULL, "80000004 03000000", STUN_REPLY, 400 },
	{ "additional family length 1", NULL, "80000001 02000000",
	    STUN_REPLY, 400 },
	{ "XOR-PEER v4 with length 20", NULL,
	    "00120014 0001a147e112a643 0000000000000000 00000000",
	    STUN_REPLY, 400 },
	{ "XOR-PEER v6 with length 8", NULL, "00120008 0002a147e112a643",
	    STUN_REPLY, 400 },
	{ "XOR-PEER family 0x03", NULL, "00120008 0003a147e112a643",
	    STUN_REPLY, 400 },
	{ "XOR-PEER length 0", NULL, "00120000", STUN_REPLY, 400 },
	{ "XOR-MAPPED malformed", NULL, "00200004 0001a147", STUN_REPLY, 400 },
	{ "XOR-RELAYED malformed", NULL, "00160008 0000a147e112a643",
	    STUN_REPLY, 400 },
	{ "LIFETIME length 3", NULL, "000d0003 00000000", STUN_REPLY, 400 },
	{ "REQUESTED-TRANSPORT length 3", NULL, "00190003 11000000",
	    STUN_REPLY, 400 },
	{ "REQUESTED-TRANSPORT twice", NULL, "00190004 11000000 00190004 11000000",
	    STUN_REPLY, 400 },
	{ "LIFETIME twice (first wins)", NULL,
	    "000d0004 00000258 000d0003 00000000", STUN_OK, 0 },
	{ "EVEN-PORT length 0", NULL, "00180000", STUN_REPLY, 400 },
	{ "EVEN-PORT length 1", NULL, "00180001 80000000", STUN_OK, 0 },
	{ "DONT-FRAGMENT length 1", NULL, "001a0001 00000000", STUN_REPLY, 400 },
	{ "DONT-FRAGMENT length 0", NULL, "001a0000", STUN_OK, 0 },
	{ "RESERVATION-TOKEN length 4", NULL, "00220004 00000000",
	    STUN_REPLY, 400 },
	{ "RESERVATION-TOKEN length 8", NULL, "00220008 0000000000000000",
	    STUN_OK, 0 },
	{ "DATA length 0", NULL, "00130000", STUN_OK, 0 },
	{ "USERHASH any length", NULL, "001e0003 61626300", STUN_OK, 0 },
	{ "ERROR-CODE garbage ignored", NULL, "00090001 00000000", STUN_OK, 0 },
	{ "unknown 0x0030", NULL, "00300000", STUN_REPLY, 420 },
	{ "unknown 0x8030 ignored", NULL, "80300002 61620000", STUN_OK, 0 },
	{ "400 wins over 420", NULL, "00300000 000c0004 3fff0000",
	    STUN_REPLY, 400 },
	{ "420 then 400 still 400", NULL, "000c0004 3fff0000 00300000",
	    STUN_REPLY, 400 },
	{ "drop wins over 400", NULL, "000c0004 3fff0000 80280004 00000000",
	    STUN_DROP, 0 },
	{ "drop wins over 420", NULL, "00300000 00060008 61626364",
	    STUN_DROP, 0 },
	{ "non-zero padding accepted", NULL, "00060001 61ffffff", STUN_OK, 0 },
	{ "USERNAME length 0", NULL, "00060000", STUN_OK, 0 },
	{ "after MI: unknown, bad channel ignored", NULL,
	    "00080014 0000000000000000000000000000000000000000"
	    "00300000 000c0004 3fff0000", STUN_OK, 0 },
	{ "after MI: overrun still dropped", NULL,
	    "00080014 0000000000000000000000000000000000000000"
	    "00300008 00000000", STUN_DROP, 0 },
	{ "no attributes", NULL, "", STUN_OK, 0 },
};

static size_t
build(const char *hdr, const char *attrs, uint8_t *out)
{
	size_t	 n;

	if (hdr != NULL) {
		n = hex(hdr, out);
		n += hex(TIDH, out + n);
	} else {
		n = hex("00010000 2112a442" TIDH, out);
	}
	n += tap_unhex(attrs, out + n, MAXMSG - n);
	if (hdr == NULL) {
		out[2] = (uint8_t)((n - 20) >> 8);
		out[3] = (uint8_t)(n - 20);
	}
	return n;
}

static void
test_bad_table(void)
{
	uint8_t		 b[MAXMSG];
	struct stun_msg	 m;
	size_t		 i, n;
	int		 rc, code;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		if (strcmp(c->name, "19 bytes") == 0)
			n = hex("000100002112a442000102030405060708090a", b);
		else
			n = build(c->hdr, c->attrs, b);
		rc = stun_decode(b, n, &m, &code);
		ok(rc == c->rc && code == c->code, "malformed: %s (rc %d code %d)",
		    c->name, rc, code);
	}
}

/* a message with a valid FINGERPRINT appended after the given attrs */
static size_t
build_fp(const char *attrs, uint8_t *out)
{
	struct stun_enc	 e;
	uint8_t		 a[MAXMSG];
	size_t		 n = hex(attrs, a), off = 0;

	stun_enc_init(&e, out, MAXMSG, STUN_ALLOCATE, STUN_REQUEST, tid0);
	while (off + 4 <= n) {
		size_t	 len = (size_t)(a[off + 2] << 8 | a[off + 3]);

		stun_put_attr(&e, (uint16_t)(a[off] << 8 | a[off + 1]),
		    a + off + 4, len);
		off += 4 + ((len + 3) & ~(size_t)3);
	}
	stun_put_fingerprint(&e);
	return (size_t)stun_enc_finish(&e);
}

static void
test_semantics(void)
{
	uint8_t		 b[MAXMSG], key[16], v[1024];
	struct stun_msg	 m;
	struct stun_enc	 e;
	struct taddr	 a;
	size_t		 n, i;
	int		 rc, code;
	char		 name[64];

	/* unknown list: order, dedupe, cap */
	n = build(NULL, "00300000 00310000 00300000 80300000", b);
	rc = stun_decode(b, n, &m, &code);
	ok(rc == STUN_REPLY && code == 420 && m.n_unknown == 2 &&
	    m.unknown[0] == 0x0030 && m.unknown[1] == 0x0031,
	    "420 lists 0x0030 0x0031 once each, not 0x8030");
	n = build(NULL, "00300000 00310000 00320000 00330000 00340000 "
	    "00350000 00360000 00370000 00380000 00390000", b);
	rc = stun_decode(b, n, &m, &code);
	ok(rc == STUN_REPLY && code == 420 && m.n_unknown == STUN_MAX_UNKNOWN &&
	    m.unknown[7] == 0x0037, "at most STUN_MAX_UNKNOWN listed");

	/* USERNAME/NONCE/REALM/SOFTWARE limits */
	memset(v, 'x', sizeof(v));
	stun_enc_init(&e, b, MAXMSG, STUN_ALLOCATE, STUN_REQUEST, tid0);
	stun_put_attr(&e, STUN_A_USERNAME, v, 512);
	stun_put_attr(&e, STUN_A_NONCE, v, 763);
	stun_put_attr(&e, STUN_A_REALM, v, 763);
	stun_put_attr(&e, STUN_A_SOFTWARE, v, 763);
	rc = stun_decode(b, (size_t)stun_enc_finish(&e), &m, &code);
	ok(rc == STUN_OK && m.username_len == 512 && m.nonce_len == 763 &&
	    m.realm_len == 763 && m.software_len == 763,
	    "USERNAME 512 and NONCE/REALM/SOFTWARE 763 accepted");
	for (i = 0; i < 4; i++) {
		static const uint16_t t[4] = { STUN_A_USERNAME, STUN_A_NONCE,
		    STUN_A_REALM, STUN_A_SOFTWARE };

		stun_enc_init(&e, b, MAXMSG, STUN_ALLOCATE, STUN_REQUEST, tid0);
		stun_put_attr(&e, t[i], v, i == 0 ? 513 : 764);
		rc = stun_decode(b, (size_t)stun_enc_finish(&e), &m, &code);
		snprintf(name, sizeof(name), "attribute 0x%04x over limit: 400",
		    t[i]);
		ok(rc == STUN_REPLY && code == 400, "%s", name);
	}

	/* XOR-PEER-ADDRESS: order kept, at most STUN_MAX_PEERS */
	stun_enc_init(&e, b, MAXMSG, STUN_CREATE_PERMISSION, STUN_REQUEST,
	    tid0);
	for (i = 0; i < STUN_MAX_PEERS; i++) {
		a = ta(i % 2 ? "[2001:db8::7]:1" : "192.0.2.9:1");
		a.port = (uint16_t)(1000 + i);
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, &a);
	}
	n = (size_t)stun_enc_finish(&e);
	rc = stun_decode(b, n, &m, &code);
	ok(rc == STUN_OK && m.n_peers == STUN_MAX_PEERS &&
	    m.peers[0].family == ADDR_V4 && m.peers[1].family == ADDR_V6 &&
	    m.peers[7].port == 1007, "%d peers kept in order", STUN_MAX_PEERS);
	is_addr(&m.peers[3], "[2001:db8::7]:1003", "v6 peer decoded");
	a = ta("192.0.2.9:2000");
	stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, &a);
	rc = stun_decode(b, (size_t)stun_enc_finish(&e), &m, &code);
	ok(rc == STUN_REPLY && code == 400, "one peer too many: 400");

	/* two MESSAGE-INTEGRITY: the first counts */
	key_for("u", "firezone", "p", key);
	stun_enc_init(&e, b, MAXMSG, STUN_REFRESH, STUN_REQUEST, tid0);
	stun_put_attr(&e, STUN_A_USERNAME, "u", 1);
	stun_put_mi(&e, key);
	stun_put_attr(&e, STUN_A_MESSAGE_INTEGRITY, v, 20);
	stun_put_attr(&e, STUN_A_USERNAME, "other", 5);
	stun_put_attr(&e, STUN_A_LIFETIME, "\0\0\0\1", 4);
	rc = stun_decode(b, (size_t)stun_enc_finish(&e), &m, &code);
	ok(rc == STUN_OK && m.mi_off == 28, "two MI: first one recorded");
	is_int(stun_check_mi(&m, key), 1, "two MI: first one verifies");
	ok(m.username_len == 1 && !(m.has & STUN_HAS_LIFETIME),
	    "attributes after MI ignored");

	/* MI followed by FINGERPRINT: both verified */
	stun_put_fingerprint(&e);
	rc = stun_decode(b, (size_t)stun_enc_finish(&e), &m, &code);
	ok(rc == STUN_OK && (m.has & STUN_HAS_FINGERPRINT) &&
	    stun_check_mi(&m, key), "MI then FINGERPRINT after junk");
	n = (size_t)stun_enc_finish(&e);
	b[n - 1] ^= 1;
	rc = stun_decode(b, n, &m, &code);
	is_int(rc, STUN_DROP, "flipped FINGERPRINT bit: drop");
	b[n - 1] ^= 1;
	b[25] ^= 1;	/* inside USERNAME's padding: covered by FP and MI */
	rc = stun_decode(b, n, &m, &code);
	is_int(rc, STUN_DROP, "flipped padding bit: FINGERPRINT drop");

	/* real fingerprinted messages with bad attributes */
	n = build_fp("000c0004 3fff0000", b);
	rc = stun_decode(b, n, &m, &code);
	ok(rc == STUN_REPLY && code == 400 && (m.has & STUN_HAS_FINGERPRINT),
	    "valid FINGERPRINT, bad channel: 400");
	n = build_fp("00300000", b);
	rc = stun_decode(b, n, &m, &code);
	ok(rc == STUN_REPLY && code == 420 && m.unknown[0] == 0x0030,
	    "valid FINGERPRINT, unknown 0x0030: 420");
	n = build_fp("00180001 80000000 001a0000 00220008 0102030405060708 "
	    "00130003 616263 00", b);
	rc = stun_decode(b, n, &m, &code);
	ok(rc == STUN_OK && m.even_port == 1 &&
	    (m.has & (STUN_HAS_EVEN_PORT | STUN_HAS_DONT_FRAGMENT |
	    STUN_HAS_RES_TOKEN | STUN_HAS_DATA)) == (STUN_HAS_EVEN_PORT |
	    STUN_HAS_DONT_FRAGMENT | STUN_HAS_RES_TOKEN | STUN_HAS_DATA) &&
	    m.data_len == 3 && memcmp(m.data, "abc", 3) == 0,
	    "EVEN-PORT, DONT-FRAGMENT, RESERVATION-TOKEN, DATA");

	/* the header's method/tid is valid on STUN_REPLY */
	n = build(NULL, "000c0004 3fff0000", b);
	rc = stun_decode(b, n, &m, &code);
	ok(rc == STUN_REPLY && m.method == STUN_BINDING && m.tid[11] == 0x0b,
	    "400: header fields still valid");

	/* MI check refuses a message without MI */
	n = hex(v1_req, b);
	stun_decode(b, n, &m, &code);
	is_int(stun_check_mi(&m, key), 0, "no MI: check fails");
}

/* decode the same bytes at offsets 0..3 and compare everything */
static void
test_misaligned(void)
{
	static const char *vecs[] = {
		rfc_req, rfc_resp4, rfc_resp6, rfc_req_lt, h_bind_req,
		h_bind_resp, h_alloc_resp, h_401, h_alloc_fp, v1_req, v2_req,
		v3_req, v4_req, v5_req, v5_resp, v2_resp_signed
	};
	static uint64_t	 store[(MAXMSG + 8) / 8];
	uint8_t		 src[MAXMSG], key[16], *p;
	struct stun_msg	 m0, m;
	size_t		 i, n, off;
	int		 rc0, rc, code0, code, same;

	key_for(v_user, "firezone", v_pass, key);
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		n = hex(vecs[i], src);
		same = 1;
		rc0 = stun_decode(src, n, &m0, &code0);
		for (off = 0; off < 4; off++) {
			p = (uint8_t *)store + off;
			memcpy(p, src, n);
			rc = stun_decode(p, n, &m, &code);
			if (rc != rc0 || code != code0 || m.has != m0.has ||
			    m.mi_off != m0.mi_off ||
			    !addr_eq(&m.mapped, &m0.mapped) ||
			    m.n_peers != m0.n_peers ||
			    m.lifetime != m0.lifetime ||
			    (m.has & STUN_HAS_USERNAME &&
			    m.username != p + (m0.username - src)) ||
			    stun_check_mi(&m, key) != stun_check_mi(&m0, key))
				same = 0;
		}
		ok(same && rc0 != STUN_DROP, "vector %zu at offsets 0-3", i);
	}
}

static int
no_aa(const uint8_t *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] == 0xaa)
			return 0;
	return 1;
}

/* attack case 38: pre-fill with 0xAA, nothing of it may survive */
static void
test_padding(void)
{
	static const int codes[] = { 300, 400, 401, 403, 420, 437, 438, 440,
	    441, 442, 443, 486, 500, 508 };
	static const uint16_t unk[1] = { 0x0030 };
	uint8_t		 out[MAXMSG];
	struct stun_enc	 e;
	struct taddr	 a;
	long		 n;
	size_t		 i;
	int		 good = 1;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		memset(out, 0xaa, sizeof(out));
		stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_ERROR,
		    tid0);
		stun_put_error(&e, codes[i]);
		n = stun_enc_finish(&e);
		if (n != (long)(20 + 4 + ((4 + strlen(stun_reason(codes[i])) +
		    3) & ~(size_t)3)) || !no_aa(out, (size_t)n) ||
		    out[n] != 0xaa) {
			diag("ERROR-CODE %d leaks or has a bad length", codes[i]);
			good = 0;
		}
	}
	ok(good, "every ERROR-CODE: padding zero, length exact");

	memset(out, 0xaa, sizeof(out));
	stun_enc_init(&e, out, sizeof(out), STUN_ALLOCATE, STUN_ERROR, tid0);
	stun_put_attr(&e, STUN_A_USERNAME, "ab", 2);
	stun_put_attr(&e, STUN_A_SOFTWARE, "turncell/0.1.0", 14);
	stun_put_attr(&e, STUN_A_REALM, "example.org", 11);
	stun_put_attr(&e, STUN_A_NONCE, "abcdefghi", 9);
	stun_put_attr(&e, STUN_A_DATA, "x", 1);
	stun_put_unknown(&e, unk, 1);
	a = ta("192.0.2.1:32853");
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &a);
	a = ta("[2001:db8:1234:5678:11:2233:4455:6677]:32853");
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &a);
	stun_put_mi_key(&e, (const uint8_t *)"key", 3);
	stun_put_fingerprint(&e);
	n = stun_enc_finish(&e);
	ok(n > 0 && (n & 3) == 0, "odd attributes: 4-aligned total %ld", n);
	ok(n > 0 && (long)(out[2] << 8 | out[3]) == n - 20,
	    "header length matches bytes written");
	ok(no_aa(out, (size_t)n - 32) && out[n] == 0xaa,
	    "no 0xAA before MI/FP, nothing written past the end");
}

static void
test_cdata(void)
{
	uint8_t		 b[64], hdr[4];
	const uint8_t	*pl;
	size_t		 n, plen;
	uint16_t	 ch;

	ok(cdata_is((const uint8_t *)"\x40", 1) &&
	    cdata_is((const uint8_t *)"\x4f", 1) &&
	    cdata_is((const uint8_t *)"\x7f", 1),
	    "0x40-0x7f are ChannelData framing");
	ok(!cdata_is((const uint8_t *)"\x80", 1) &&
	    !cdata_is((const uint8_t *)"\x3f", 1) &&
	    !cdata_is((const uint8_t *)"\x00", 1) &&
	    !cdata_is((const uint8_t *)"\x40", 0), "others are not");

	n = hex("40000004deadbeef", b);
	ok(cdata_decode(b, n, &ch, &pl, &plen) == 0 && ch == 0x4000 &&
	    plen == 4 && pl == b + 4, "exact ChannelData");
	n = hex("4fff0003deadbe00", b);
	ok(cdata_decode(b, n, &ch, &pl, &plen) == 0 && ch == 0x4fff &&
	    plen == 3, "padded ChannelData accepted");
	n = hex("400000000000", b);
	ok(cdata_decode(b, n, &ch, &pl, &plen) == 0 && plen == 0,
	    "empty payload with padding");
	n = hex("40000005deadbeef", b);
	is_int(cdata_decode(b, n, &ch, &pl, &plen), -1, "length > remaining");
	n = hex("400000", b);
	is_int(cdata_decode(b, n, &ch, &pl, &plen), -1, "3 bytes");
	n = hex("3fff0000", b);
	is_int(cdata_decode(b, n, &ch, &pl, &plen), -1, "channel 0x3fff");
	n = hex("50000000", b);
	is_int(cdata_decode(b, n, &ch, &pl, &plen), -1, "channel 0x5000");
	n = hex("7fff0000", b);
	is_int(cdata_decode(b, n, &ch, &pl, &plen), -1, "channel 0x7fff");
	n = hex("ffff0000", b);
	is_int(cdata_decode(b, n, &ch, &pl, &plen), -1, "channel 0xffff");
	ok(cdata_put_hdr(hdr, 0x4001, 2) == 0 &&
	    memcmp(hdr, "\x40\x01\x00\x02", 4) == 0, "header 40010002");
	ok(cdata_put_hdr(hdr, 0x4001, 65535) == 0 &&
	    memcmp(hdr, "\x40\x01\xff\xff", 4) == 0, "header max length");
	is_int(cdata_put_hdr(hdr, 0x4001, 65536), -1, "65536 refused");
}

static void
test_names(void)
{
	static const struct {
		int		 code;
		const char	*s;
	} r[] = {
		{ 300, "Try Alternate" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 420, "Unknown Attribute" }, { 437, "Allocation Mismatch" },
		{ 438, "Stale Nonce" }, { 440, "Address Family not Supported" },
		{ 441, "Wrong Credentials" },
		{ 442, "Unsupported Transport Protocol" },
		{ 443, "Peer Address Family Mismatch" },
		{ 486, "Allocation Quota Reached" }, { 500, "Server Error" },
		{ 508, "Insufficient Capacity" }, { 499, "" },
	};
	size_t	 i;
	int	 good = 1;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (strcmp(stun_reason(r[i].code), r[i].s) != 0) {
			diag("reason %d: '%s'", r[i].code,
			    stun_reason(r[i].code));
			good = 0;
		}
	ok(good, "reason phrases");
	ok(strcmp(stun_method_name(STUN_BINDING), "binding") == 0 &&
	    strcmp(stun_method_name(STUN_ALLOCATE), "allocate") == 0 &&
	    strcmp(stun_method_name(STUN_REFRESH), "refresh") == 0 &&
	    strcmp(stun_method_name(STUN_SEND), "send") == 0 &&
	    strcmp(stun_method_name(STUN_DATA), "data") == 0 &&
	    strcmp(stun_method_name(STUN_CREATE_PERMISSION),
	    "createpermission") == 0 &&
	    strcmp(stun_method_name(STUN_CHANNEL_BIND), "channelbind") == 0 &&
	    strcmp(stun_method_name(0x00a), "unknown") == 0, "method names");
	ok(*stun_strerror(STUN_DROP) != '\0' && *stun_strerror(STUN_OK) != '\0',
	    "strerror");
}

int
main(void)
{
	test_rfc5769();
	test_historic_decode();
	test_v_decode();
	test_encode();
	test_encode_misc();
	test_bad_table();
	test_semantics();
	test_misaligned();
	test_padding();
	test_cdata();
	test_names();
	return done_testing();
}
