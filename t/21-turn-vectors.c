/*
 * 21-turn-vectors: byte-exact vectors of the Firezone relay's regression
 * tests (rust/relay/tests/regression.rs; "the reference" below) replayed
 * through the sans-IO engine with an all-zero RNG, using the command
 * recorder of t/tengine.h.
 *
 * The hex below was produced by contrib/vectors/derive.py (run it with
 * --c), an independent Python encoder that first reproduces the
 * reference's historic vectors exactly. turncell's vectors differ from
 * the reference's in three deliberate ways:
 * - nonces are stateless MACs bound to the client address
 *   ("<8 hex now_s mod 2^32><24 hex HMAC-SHA256>"), so the reference's nil-UUID
 *   nonce is stale (438) and V2-V5 carry our nonce (their MI recomputed);
 * - every non-Binding response from the authentication step on is signed
 *   (MESSAGE-INTEGRITY with the client's key) and starts with SOFTWARE
 *   ("turncell/test" here), as Firezone does since Nov 2024 / Feb 2025;
 * - unsigned errors carry no SOFTWARE and no reason phrase, and 401s use
 *   the later order REALM, NONCE; and ALLOCATE success waits for the
 *   worker (turn_worker_ready).
 * Every command is compared byte-exactly; LOG commands are skipped.
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
 * turncell vectors: now_s 1000, client 198.51.100.7:40000, nonce key 32 x 00,
 * password izLTF0QnQC5bcltVxbyfK8r8wOW0iLM5g6vZqRBi1yA,
 * nonce 000003e8c2f574281feb3087c2614fc8
 */

/*
 * V1 ALLOCATE without credentials (reference bytes)
 */
static const char V1_REQ[] =
    "000300082112a442000102030405060708090a0b0019000411000000";

/*
 * -> unsigned 401: ERROR-CODE without a reason phrase, REALM, NONCE
 * (our nonce format, REALM before NONCE, no SOFTWARE: 76 bytes for a
 * 28-byte request, under the 3x bound of attack case 40)
 */
static const char V1_401[] =
    "011300382112a442000102030405060708090a0b000900040000040100140008"
    "666972657a6f6e65001500203030303030336538633266353734323831666562"
    "333038376332363134666338";

/*
 * V2 ALLOCATE, the reference's request with our nonce (MI recomputed)
 */
static const char V2_REQ[] =
    "0003006c2112a442101112131415161718191a1b001900041100000000060015"
    "343130323434343830303a6162636465666768696a0000000014000866697265"
    "7a6f6e6500150020303030303033653863326635373432383166656233303837"
    "633236313466633800080014b59d852466f0b0543b32f0372d1dc36e6158e2c1";

/*
 * -> WORKER_START(alloc 1, 49152, v4); on worker ready the signed
 * success: SOFTWARE, XOR-RELAYED, XOR-MAPPED, LIFETIME 600, MI
 */
static const char V2_OK[] =
    "0103004c2112a442101112131415161718191a1b8022000d7475726e63656c6c"
    "2f74657374000000001600080001e112ea12d543002000080001bd52e721c045"
    "000d0004000002580008001409218291fac896d2445b3f4b18f604b081f70ad3";

/*
 * V2 ALLOCATE with the reference's nil-UUID nonce (reference bytes)
 */
static const char V2_STALE_REQ[] =
    "000300702112a442101112131415161718191a1b001900041100000000060015"
    "343130323434343830303a6162636465666768696a0000000014000866697265"
    "7a6f6e650015002430303030303030302d303030302d303030302d303030302d"
    "30303030303030303030303000080014bdb3598046f3b403e75bdadb8111baec"
    "95497fc9";

/*
 * -> signed 438 (the username is well-formed): SOFTWARE, ERROR-CODE,
 * REALM, NONCE (fresh), MI; stale because our nonces are MACs
 */
static const char V2_438[] =
    "011300702112a442101112131415161718191a1b8022000d7475726e63656c6c"
    "2f746573740000000009000f000004265374616c65204e6f6e63650000140008"
    "666972657a6f6e65001500203030303030336538633266353734323831666562"
    "33303837633236313466633800080014a7b6cec785b3623bdf2fd5383c3a4efb"
    "474ade87";

/*
 * V3 CHANNEL-BIND 0x4000 -> 192.0.2.50:5000 with our nonce
 */
static const char V3_REQ[] =
    "0009006c2112a442202122232425262728292a2b000600153431303234343438"
    "30303a6162636465666768696a000000000c000440000000001200080001329a"
    "e112a67000150020303030303033653863326635373432383166656233303837"
    "633236313466633800080014b594a93fe78339ab29d9b8e9761762abd214383a";

/*
 * -> (192.0.2.0/24 in conf.filter.allow) WORKER_CHAN_ADD(1, 0x4000,
 * 192.0.2.50:5000), then the signed empty success: SOFTWARE, MI
 */
static const char V3_OK[] =
    "0109002c2112a442202122232425262728292a2b8022000d7475726e63656c6c"
    "2f7465737400000000080014384e831507038bda8387a84c10096e0f1ad21091";

/*
 * -> (default filter: 192.0.2.0/24 is documentation space) signed 403
 */
static const char V3_403[] =
    "011900402112a442202122232425262728292a2b8022000d7475726e63656c6c"
    "2f746573740000000009000d00000403466f7262696464656e00000000080014"
    "1fe5f985a95bdf81e41252175f8475710662e762";

/*
 * client ChannelData -> WORKER_DATA(1, 0x4000, deadbeef)
 */
static const char DATA_IN[] =
    "40000004deadbeef";

/*
 * the payload of DATA_IN
 */
static const char DATA_IN_PAYLOAD[] =
    "deadbeef";

/*
 * worker frame -> SEND to the client, unchanged (no padding)
 */
static const char DATA_OUT[] =
    "40000002cafe";

/*
 * V4 REFRESH LIFETIME 0 with our nonce
 */
static const char V4_REQ[] =
    "000400602112a442303132333435363738393a3b000600153431303234343438"
    "30303a6162636465666768696a00000000150020303030303033653863326635"
    "3734323831666562333038376332363134666338000d00040000000000080014"
    "b99f59174e9e8693e17fa7d9651472e10835a2e6";

/*
 * -> WORKER_STOP(1, DELETED), then signed success: SOFTWARE,
 * LIFETIME 0, MI
 */
static const char V4_OK[] =
    "010400342112a442303132333435363738393a3b8022000d7475726e63656c6c"
    "2f74657374000000000d00040000000000080014d1500fb1ba09e794ee657dbc"
    "a12ace78872f94a0";

/*
 * V5 dual-stack ALLOCATE (ADDITIONAL-ADDRESS-FAMILY IPv6), our nonce,
 * same client after V4 deleted its allocation
 */
static const char V5_REQ[] =
    "000300742112a442404142434445464748494a4b001900041100000080000004"
    "0200000000060015343130323434343830303a6162636465666768696a000000"
    "00140008666972657a6f6e650015002030303030303365386332663537343238"
    "3166656233303837633236313466633800080014a0ae8529d54fdd73b613176a"
    "1bcc3e7ef4c02dbf";

/*
 * -> WORKER_START(alloc 2, 49152, v4|v6); on ready: SOFTWARE,
 * XOR-RELAYED v4, XOR-RELAYED v6, XOR-MAPPED, LIFETIME 600, MI
 */
static const char V5_OK[] =
    "010300642112a442404142434445464748494a4b8022000d7475726e63656c6c"
    "2f74657374000000001600080001e112ea12d543001600140002e1120113a9fa"
    "404142434445464748494a4a002000080001bd52e721c045000d000400000258"
    "00080014717ff83a8e3e2bfd0fd3aefa0835a8f197e900d6";

/*
 * BINDING from 91.141.64.64:26098 (reference bytes)
 */
static const char BIND_REQ[] =
    "000100002112a4420908af7d45e8751f5092d167";

/*
 * -> exactly XOR-MAPPED-ADDRESS (unchanged from the reference)
 */
static const char BIND_OK[] =
    "0101000c2112a4420908af7d45e8751f5092d16700200008000144e07a9fe402";

static unsigned		nresponses;

static void
count_response(void *arg, uint16_t method, int cls, int code)
{
	(void)arg;
	(void)method;
	(void)cls;
	(void)code;
	nresponses++;
}

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	return tap_unhex(hex, out, cap);
}

static void
expect_n(size_t n, const char *what)
{
	is_int((long long)te_nrecs, (long long)n, "%s: %zu command(s)", what,
	    n);
}

static void
expect_send(size_t i, const struct taddr *to, const char *hex,
    const char *what)
{
	uint8_t	want[2048];
	size_t	wlen = unhex(hex, want, sizeof(want));

	if (i >= te_nrecs) {
		ok(0, "%s: command %zu missing", what, i);
		ok(0, "%s: bytes", what);
		return;
	}
	ok(te_recs[i].c.type == TURN_CMD_SEND &&
	    te_same_addr(&te_recs[i].c.addr, to), "%s: SEND to the client",
	    what);
	is_mem(te_recs[i].c.data, te_recs[i].c.len, want, wlen, "%s: bytes",
	    what);
}

static void
expect_start(size_t i, uint32_t alloc, uint16_t port, uint8_t fam,
    const char *what)
{
	const struct turn_cmd	*c = &te_recs[i].c;

	if (i >= te_nrecs) {
		ok(0, "%s: command %zu missing", what, i);
		return;
	}
	ok(c->type == TURN_CMD_WORKER_START && c->alloc_id == alloc &&
	    c->port == port && c->families == fam,
	    "%s: WORKER_START(%u, %u, 0x%x)", what, alloc, port, fam);
	if (c->type != TURN_CMD_WORKER_START || c->alloc_id != alloc ||
	    c->port != port || c->families != fam)
		diag("got type %d alloc %u port %u families 0x%x", c->type,
		    c->alloc_id, c->port, c->families);
}

/* the harness's configuration; the default peer filter unless allow_doc
 * (then 192.0.2.0/24 only) */
static void
conf_init(struct turn_conf *conf, int allow_doc)
{
	te_conf_init(conf);
	memset(&conf->filter, 0, sizeof(conf->filter));
	if (allow_doc)
		te_allow(conf, "192.0.2.0", 24);
}

static void
feed(struct turn *t, const char *hex, const struct taddr *from,
    uint8_t *buf, size_t cap, size_t *lenp)
{
	size_t	len = unhex(hex, buf, cap);

	if (lenp != NULL)
		*lenp = len;
	turn_client_input(t, buf, len, from, TE_T0, TE_WALL);
	te_collect(t);
}

/* the BINDING request recorded from a client by Firezone's tests */
static void
test_binding(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 from;
	uint8_t			 in[64];

	conf_init(&conf, 1);
	t = turn_new(&conf, te_rng_zero, NULL);
	if (!ok(t != NULL, "turn_new"))
		return;
	te_set_ip(&from, "91.141.64.64", 26098);
	feed(t, BIND_REQ, &from, in, sizeof(in), NULL);
	expect_n(1, "BINDING");
	expect_send(0, &from, BIND_OK, "BINDING success");
	turn_free(t);
}

/* V1-V5 on one engine, as one client session */
static void
test_session(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct turn_stats	 st;
	struct taddr		 client, peer;
	uint8_t			 in[512], frame[16];
	size_t			 inlen, flen;
	int			 rc;

	conf_init(&conf, 1);
	t = turn_new(&conf, te_rng_zero, NULL);
	if (!ok(t != NULL, "turn_new"))
		return;
	turn_set_response_hook(t, count_response, NULL);
	nresponses = 0;
	te_set_ip(&client, "198.51.100.7", 40000);
	te_set_ip(&peer, "192.0.2.50", 5000);
	is_int((long long)(turn_next_timeout(t) == UINT64_MAX), 1,
	    "no timer before any allocation");

	/* V1: no credentials -> unsigned 401 with our nonce */
	feed(t, V1_REQ, &client, in, sizeof(in), NULL);
	expect_n(1, "V1");
	expect_send(0, &client, V1_401, "V1 401");
	is_int(turn_alloc_count(t), 0, "V1: no allocation");

	/* the reference's V2 with its nil-UUID nonce -> signed 438 */
	feed(t, V2_STALE_REQ, &client, in, sizeof(in), NULL);
	expect_n(1, "V2 nil nonce");
	expect_send(0, &client, V2_438, "V2 nil nonce 438");
	is_int(turn_alloc_count(t), 0, "V2 nil nonce: no allocation");

	/* V2 with our nonce -> WORKER_START, then success on ready */
	feed(t, V2_REQ, &client, in, sizeof(in), NULL);
	expect_n(1, "V2");
	expect_start(0, 1, 49152, ADDR_FAM_V4, "V2");
	is_int(turn_alloc_count(t), 1, "V2: one (starting) allocation");
	is_int((long long)turn_next_timeout(t), (long long)(TE_T0 + 600000),
	    "V2: timer at the 600 s expiry");
	turn_worker_ready(t, 1, TE_T0);
	te_collect(t);
	expect_n(1, "V2 worker ready");
	expect_send(0, &client, V2_OK, "V2 success");

	/* V3: CHANNEL-BIND 0x4000 -> 192.0.2.50:5000 */
	feed(t, V3_REQ, &client, in, sizeof(in), NULL);
	expect_n(2, "V3");
	ok(te_nrecs >= 1 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    te_recs[0].c.alloc_id == 1 && te_recs[0].c.chan == 0x4000 &&
	    te_same_addr(&te_recs[0].c.addr, &peer),
	    "V3: WORKER_CHAN_ADD(1, 0x4000, 192.0.2.50:5000) first");
	expect_send(1, &client, V3_OK, "V3 success");
	turn_get_stats(t, &st);
	is_int((long long)st.channels, 1, "V3: one bound channel");

	/* data client -> peer */
	feed(t, DATA_IN, &client, in, sizeof(in), &inlen);
	expect_n(1, "ChannelData in");
	if (te_nrecs >= 1) {
		uint8_t	want[8];
		size_t	wlen = unhex(DATA_IN_PAYLOAD, want, sizeof(want));

		ok(te_recs[0].c.type == TURN_CMD_WORKER_DATA &&
		    te_recs[0].c.alloc_id == 1 && te_recs[0].c.chan == 0x4000,
		    "ChannelData: WORKER_DATA(1, 0x4000)");
		is_mem(te_recs[0].c.data, te_recs[0].c.len, want, wlen,
		    "ChannelData: payload deadbeef");
		ok(te_recs[0].orig == in + CDATA_HDR_LEN,
		    "ChannelData: payload points into the input");
	}

	/* data peer -> client */
	flen = unhex(DATA_OUT, frame, sizeof(frame));
	rc = turn_worker_data(t, 1, frame, flen, TE_T0);
	te_collect(t);
	is_int(rc, 0, "worker data accepted");
	expect_n(1, "worker data");
	ok(te_nrecs >= 1 && te_recs[0].c.type == TURN_CMD_SEND_FRAMES &&
	    te_same_addr(&te_recs[0].c.addr, &client),
	    "worker frame: SEND_FRAMES to the client");
	is_mem(te_recs[0].c.data, te_recs[0].c.len, frame, flen,
	    "worker frame: bytes");
	turn_get_stats(t, &st);
	is_int((long long)st.packets_c2p, 1, "stats: 1 packet client->peer");
	is_int((long long)st.bytes_c2p, 4, "stats: 4 payload bytes c->p");
	is_int((long long)st.packets_p2c, 1, "stats: 1 packet peer->client");

	/* V4: REFRESH 0 -> WORKER_STOP then success */
	feed(t, V4_REQ, &client, in, sizeof(in), NULL);
	expect_n(2, "V4");
	ok(te_nrecs >= 1 && te_recs[0].c.type == TURN_CMD_WORKER_STOP &&
	    te_recs[0].c.alloc_id == 1 &&
	    te_recs[0].c.reason == TURN_STOP_DELETED,
	    "V4: WORKER_STOP(1, DELETED) first");
	expect_send(1, &client, V4_OK, "V4 success");
	is_int(turn_alloc_count(t), 0, "V4: allocation gone");
	turn_get_stats(t, &st);
	is_int((long long)st.channels, 0, "V4: its channel is gone too");
	ok(turn_next_timeout(t) == UINT64_MAX, "V4: no timer left");

	/* V5: dual-stack ALLOCATE, alloc id 2, port 49152 again */
	feed(t, V5_REQ, &client, in, sizeof(in), NULL);
	expect_n(1, "V5");
	expect_start(0, 2, 49152, ADDR_FAM_V4 | ADDR_FAM_V6, "V5");
	turn_worker_ready(t, 2, TE_T0);
	te_collect(t);
	expect_n(1, "V5 worker ready");
	expect_send(0, &client, V5_OK, "V5 success");

	/* 401, 438, V2, V3, V4, V5 */
	is_int(nresponses, 6, "response hook called once per response");
	turn_free(t);
}

/* V3 under the default peer filter: documentation space is denied */
static void
test_default_filter(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct turn_stats	 st;
	struct taddr		 client;
	uint8_t			 in[512];

	conf_init(&conf, 0);
	t = turn_new(&conf, te_rng_zero, NULL);
	if (!ok(t != NULL, "turn_new (default filter)"))
		return;
	te_set_ip(&client, "198.51.100.7", 40000);
	feed(t, V2_REQ, &client, in, sizeof(in), NULL);
	expect_start(0, 1, 49152, ADDR_FAM_V4, "V2 (default filter)");
	turn_worker_ready(t, 1, TE_T0);
	te_collect(t);
	expect_send(0, &client, V2_OK, "V2 success (default filter)");
	feed(t, V3_REQ, &client, in, sizeof(in), NULL);
	expect_n(1, "V3 denied: no CHAN_ADD");
	expect_send(0, &client, V3_403, "V3 403");
	turn_get_stats(t, &st);
	is_int((long long)st.channels, 0, "V3 denied: no channel");
	feed(t, DATA_IN, &client, in, sizeof(in), NULL);
	expect_n(0, "ChannelData on the refused channel");
	turn_free(t);
}

int
main(void)
{
	test_binding();
	test_session();
	test_default_filter();
	return done_testing();
}
