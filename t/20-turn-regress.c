/*
 * 20-turn-regress.c: the regression scenarios of Firezone's relay tests
 * (rust/relay/tests/regression.rs) against the sans-IO engine, as scripted
 * tables in Firezone's assert_commands shape, run by the scripted runner
 * of t/tengine.h: a step is one input (client datagram, worker ready,
 * worker data, tick) followed by the exact commands expected, in order,
 * then "no further commands", and optionally the next timeout. LOG
 * commands are skipped unless the step asks for them. All-zero RNG,
 * secret 64 x '0'; requests and expected responses are both built with
 * the codec's encoder and compared byte for byte.
 *
 * After the ten: the two bug fixes (freeing an allocation clears its
 * channels; refreshing a cooling-down channel re-binds it) and the relay
 * restart that Firezone clients detect (old nonce 438, old credentials
 * 401, no allocation 437).
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "peer.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

#define SALT		"abcdefghij"
#define SOFTWARE	"turncell/test"
#define PORT0		49152
#define NO_TIMEOUT	UINT64_MAX

static const char secret0[] =
    "0000000000000000000000000000000000000000000000000000000000000000";
static const char secret1[] =
    "1111111111111111111111111111111111111111111111111111111111111111";

/* ---- engines, addresses, credentials ---- */

static void
rng_fill(void *arg, void *out, size_t len)
{
	memset(out, *(const uint8_t *)arg, len);
}

static struct taddr
ta(const char *hostport)
{
	struct taddr	a;

	memset(&a, 0, sizeof(a));
	if (addr_parse_hostport(hostport, &a) == -1)
		diag("bad address %s", hostport);
	return a;
}

static struct turn *
engine(int dual, const char *secret, turn_rng_fn *rng, void *arg)
{
	struct turn_conf	c;

	memset(&c, 0, sizeof(c));
	c.public4 = ta("203.0.113.1:0");
	if (dual)
		c.public6 = ta("[2001:db8::1]:0");
	c.lowest_port = 49152;
	c.highest_port = 65535;
	c.secret = secret;
	c.secret_len = strlen(secret);
	c.software = SOFTWARE;
	c.auth_schemes = AUTH_SCHEME_FIREZONE;
	return turn_new(&c, rng, arg);
}

struct creds {
	char	user[64];
	size_t	ulen;
	uint8_t	key[16];
};

/* "<wall + 1000>:<salt>" and its key under secret */
static void
creds(struct creds *cr, const char *secret, const char *salt)
{
	char		pass[AUTH_PASS_LEN + 1];
	uint64_t	expiry = (uint64_t)TE_WALL + 1000;

	cr->ulen = (size_t)snprintf(cr->user, sizeof(cr->user), "%llu:%s",
	    (unsigned long long)expiry, salt);
	auth_password(expiry, secret, strlen(secret), salt, strlen(salt),
	    pass);
	stun_lt_key((const uint8_t *)cr->user, cr->ulen, AUTH_REALM, pass,
	    AUTH_PASS_LEN, cr->key);
}

static void
nonce(const struct taddr *client, uint64_t now, uint8_t fill,
    char out[AUTH_NONCE_LEN + 1])
{
	uint8_t	key[AUTH_NONCE_KEY_LEN];

	memset(key, fill, sizeof(key));
	auth_nonce_mint(key, client, now / TE_SEC, out);
}

static void
tid(uint8_t out[STUN_TID_LEN], uint8_t seed)
{
	size_t	i;

	for (i = 0; i < STUN_TID_LEN; i++)
		out[i] = (uint8_t)(seed * 16 + i);
}

/* ---- requests ---- */

struct req {
	uint16_t		 method;
	uint8_t			 tid[STUN_TID_LEN];
	int			 transport;	/* -1 = none */
	long			 lifetime;	/* -1 = none */
	int			 req_family;	/* 0 = none */
	uint16_t		 chan;		/* 0 = none */
	const struct taddr	*peer;
	const struct creds	*cr;		/* NULL: no USERNAME, MI */
	const char		*nonce;
};

static void
req_init(struct req *r, uint16_t method, uint8_t tseed)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	tid(r->tid, tseed);
	r->transport = -1;
	r->lifetime = -1;
}

static size_t
req_build(const struct req *r, uint8_t *buf, size_t cap)
{
	struct stun_enc	e;
	long		n;

	stun_enc_init(&e, buf, cap, r->method, STUN_REQUEST, r->tid);
	if (r->transport >= 0)
		stun_put_u32(&e, STUN_A_REQUESTED_TRANSPORT,
		    (uint32_t)r->transport << 24);
	if (r->lifetime >= 0)
		stun_put_u32(&e, STUN_A_LIFETIME, (uint32_t)r->lifetime);
	if (r->req_family != 0)
		stun_put_u32(&e, STUN_A_REQUESTED_ADDRESS_FAMILY,
		    (uint32_t)r->req_family << 24);
	if (r->chan != 0)
		stun_put_u32(&e, STUN_A_CHANNEL_NUMBER,
		    (uint32_t)r->chan << 16);
	if (r->peer != NULL)
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, r->peer);
	if (r->cr != NULL)
		stun_put_attr(&e, STUN_A_USERNAME, r->cr->user, r->cr->ulen);
	if (r->nonce != NULL)
		stun_put_attr(&e, STUN_A_NONCE, r->nonce, strlen(r->nonce));
	if (r->cr != NULL)
		stun_put_mi(&e, r->cr->key);
	n = stun_enc_finish(&e);
	return n < 0 ? 0 : (size_t)n;
}

/* ---- expected responses: SOFTWARE first when signed ---- */

static void
resp_begin(struct stun_enc *e, uint8_t *buf, uint16_t method, uint8_t cls,
    const uint8_t *t, const uint8_t *key)
{
	stun_enc_init(e, buf, STUN_MAX_MSG, method, cls, t);
	if (key != NULL)
		stun_put_attr(e, STUN_A_SOFTWARE, SOFTWARE, strlen(SOFTWARE));
}

static size_t
resp_end(struct stun_enc *e, const uint8_t *key)
{
	long	n;

	if (key != NULL)
		stun_put_mi(e, key);
	n = stun_enc_finish(e);
	return n < 0 ? 0 : (size_t)n;
}

static size_t
resp_binding(uint8_t *buf, const uint8_t *t, const struct taddr *client)
{
	struct stun_enc	e;

	resp_begin(&e, buf, STUN_BINDING, STUN_SUCCESS, t, NULL);
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, client);
	return resp_end(&e, NULL);
}

static size_t
resp_alloc(uint8_t *buf, const uint8_t *t, const uint8_t *key,
    const struct taddr *relay, const struct taddr *client, uint32_t life)
{
	struct stun_enc	e;

	resp_begin(&e, buf, STUN_ALLOCATE, STUN_SUCCESS, t, key);
	stun_put_xaddr(&e, STUN_A_XOR_RELAYED_ADDRESS, relay);
	stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, client);
	stun_put_u32(&e, STUN_A_LIFETIME, life);
	return resp_end(&e, key);
}

static size_t
resp_lifetime(uint8_t *buf, const uint8_t *t, const uint8_t *key,
    uint32_t life)
{
	struct stun_enc	e;

	resp_begin(&e, buf, STUN_REFRESH, STUN_SUCCESS, t, key);
	stun_put_u32(&e, STUN_A_LIFETIME, life);
	return resp_end(&e, key);
}

static size_t
resp_empty(uint8_t *buf, uint16_t method, const uint8_t *t,
    const uint8_t *key)
{
	struct stun_enc	e;

	resp_begin(&e, buf, method, STUN_SUCCESS, t, key);
	return resp_end(&e, key);
}

/*
 * error; nonce != NULL adds REALM, NONCE (401/438); unsigned errors carry
 * no reason phrase (reflection gain, attack case 40)
 */
static size_t
resp_error(uint8_t *buf, uint16_t method, const uint8_t *t,
    const uint8_t *key, int code, const char *n)
{
	struct stun_enc	e;
	uint8_t		bare[4] = { 0, 0, (uint8_t)(code / 100),
			    (uint8_t)(code % 100) };

	resp_begin(&e, buf, method, STUN_ERROR, t, key);
	if (key != NULL)
		stun_put_error(&e, code);
	else
		stun_put_attr(&e, STUN_A_ERROR_CODE, bare, sizeof(bare));
	if (n != NULL) {
		stun_put_attr(&e, STUN_A_REALM, AUTH_REALM, strlen(AUTH_REALM));
		stun_put_attr(&e, STUN_A_NONCE, n, strlen(n));
	}
	return resp_end(&e, key);
}

static size_t
cdata(uint8_t *buf, uint16_t chan, const uint8_t *payload, size_t n)
{
	cdata_put_hdr(buf, chan, n);
	memcpy(buf + CDATA_HDR_LEN, payload, n);
	return CDATA_HDR_LEN + n;
}

static void
fill_random(uint8_t *p, size_t n, uint32_t seed)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* ---- the scenarios ---- */

static struct taddr	C4, C6, P4, P4B, P6, A4, A6;
static struct creds	CR;		/* secret0 credentials */

static struct te_scen	SC;

static struct te_scen *
scen_new(void)
{
	memset(&SC, 0, sizeof(SC));
	return &SC;
}

/* an authenticated request from client at now (nonce minted for it) */
static struct te_step *
st_req(struct te_scen *sc, const char *name, struct req *r,
    const struct taddr *client, uint64_t now)
{
	struct te_step	*st;
	char		 n[AUTH_NONCE_LEN + 1];
	uint8_t		 buf[STUN_MAX_MSG];
	int		 minted = 0;

	if (r->cr != NULL && r->nonce == NULL) {
		nonce(client, now, 0, n);
		r->nonce = n;
		minted = 1;
	}
	st = te_st_client(sc, name, client, buf, req_build(r, buf, sizeof(buf)),
	    now);
	if (minted)
		r->nonce = NULL;
	return st;
}

/* ALLOCATE (+ WORKER_START), worker ready (+ success) as alloc id */
static struct te_step *
st_allocate(struct te_scen *sc, const struct taddr *client, long lifetime,
    int family, uint64_t now, uint32_t id)
{
	struct req	 r;
	struct te_step	*st;
	uint8_t		 buf[STUN_MAX_MSG];
	const struct taddr *relay = family == STUN_AF_IPV6 ? &A6 : &A4;

	req_init(&r, STUN_ALLOCATE, (uint8_t)(0x10 + id));
	r.transport = 17;
	r.lifetime = lifetime;
	r.req_family = family;
	r.cr = &CR;
	st = st_req(sc, "ALLOCATE starts a worker", &r, client, now);
	te_ex_start(st, id, PORT0, family == STUN_AF_IPV6 ? ADDR_FAM_V6 :
	    ADDR_FAM_V4);
	st = te_st_ready(sc, "worker ready sends the ALLOCATE success", id,
	    now);
	te_ex_send(sc, st, client, buf, resp_alloc(buf, r.tid, CR.key, relay,
	    client, lifetime < 0 ? 600 : (uint32_t)lifetime));
	return st;
}

static struct te_step *
st_chanbind(struct te_scen *sc, const struct taddr *client, uint16_t chan,
    const struct taddr *peer, uint64_t now, uint8_t tseed)
{
	struct req	 r;
	struct te_step	*st;
	uint8_t		 buf[STUN_MAX_MSG];

	req_init(&r, STUN_CHANNEL_BIND, tseed);
	r.chan = chan;
	r.peer = peer;
	r.cr = &CR;
	st = st_req(sc, "CHANNEL-BIND", &r, client, now);
	te_ex_chan_add(st, 1, chan, peer);
	te_ex_send(sc, st, client, buf, resp_empty(buf, STUN_CHANNEL_BIND,
	    r.tid,
	    CR.key));
	return st;
}

static struct te_step *
st_refresh(struct te_scen *sc, const struct taddr *client, long lifetime,
    uint64_t now, uint8_t tseed)
{
	struct req	 r;
	struct te_step	*st;
	uint8_t		 buf[STUN_MAX_MSG];

	req_init(&r, STUN_REFRESH, tseed);
	r.lifetime = lifetime;
	r.cr = &CR;
	st = st_req(sc, "REFRESH", &r, client, now);
	if (lifetime == 0)
		te_ex_stop(st, 1, TURN_STOP_DELETED);
	te_ex_send(sc, st, client, buf, resp_lifetime(buf, r.tid, CR.key,
	    (uint32_t)lifetime));
	return st;
}

/* 1 */
static void
can_answer_stun_request_from_ip4_address(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	struct req	 r;
	uint8_t		 buf[STUN_MAX_MSG], out[STUN_MAX_MSG];

	req_init(&r, STUN_BINDING, 1);
	st = te_st_client(sc, "BINDING answered with XOR-MAPPED-ADDRESS only",
	    &C4, buf, req_build(&r, buf, sizeof(buf)), TE_T0);
	te_ex_send(sc, st, &C4, out, resp_binding(out, r.tid, &C4));
	st->timeout = NO_TIMEOUT;
	te_run("1 binding", engine(0, secret0, te_rng_zero, NULL), sc);
}

/* 2 */
static void
deallocate_once_time_expired(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	const long	 L = 1234;

	st_allocate(sc, &C4, L, 0, TE_T0, 1)->timeout = TE_T0 + L * TE_SEC;
	st = te_st_tick(sc, "expired allocation stops its worker",
	    TE_T0 + (L + 1) * TE_SEC);
	te_ex_stop(st, 1, TURN_STOP_EXPIRED);
	st->timeout = NO_TIMEOUT;
	st->allocs = 0;
	te_run("2 expiry", engine(0, secret0, te_rng_zero, NULL), sc);
}

/* 3 */
static void
unauthenticated_allocate_triggers_authentication(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	struct req	 r;
	char		 n[AUTH_NONCE_LEN + 1];
	uint8_t		 buf[STUN_MAX_MSG], out[STUN_MAX_MSG];
	const long	 L = 777;

	req_init(&r, STUN_ALLOCATE, 0x11);
	r.transport = 17;
	r.lifetime = L;
	st = te_st_client(sc,
	    "ALLOCATE without credentials gets an unsigned 401",
	    &C4, buf, req_build(&r, buf, sizeof(buf)), TE_T0);
	nonce(&C4, TE_T0, 0, n);
	te_ex_send(sc, st, &C4, out, resp_error(out, STUN_ALLOCATE, r.tid, NULL,
	    STUN_ERR_UNAUTHORIZED, n));
	st->allocs = 0;
	r.cr = &CR;
	r.nonce = n;		/* the one from the 401, same transaction */
	st = te_st_client(sc, "retry with that nonce starts a worker", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), TE_T0);
	te_ex_start(st, 1, PORT0, ADDR_FAM_V4);
	st = te_st_ready(sc, "worker ready sends the success", 1, TE_T0);
	te_ex_send(sc, st, &C4, out, resp_alloc(out, r.tid, CR.key, &A4, &C4,
	    (uint32_t)L));
	st->timeout = TE_T0 + L * TE_SEC;
	te_run("3 401 then 200", engine(0, secret0, te_rng_zero, NULL), sc);
}

/* 4 */
static void
when_refreshed_in_time_allocation_does_not_expire(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	const long	 L1 = 1000, L2 = 2000;
	const uint64_t	 t2 = TE_T0 + L1 / 2 * TE_SEC;

	st_allocate(sc, &C4, L1, 0, TE_T0, 1)->timeout = TE_T0 + L1 * TE_SEC;
	st = st_refresh(sc, &C4, L2, t2, 0x30);
	st->timeout = t2 + L2 * TE_SEC;
	st = te_st_tick(sc, "no expiry before the refreshed lifetime",
	    t2 + (L2 - 1) * TE_SEC);
	st->timeout = t2 + L2 * TE_SEC;
	st->allocs = 1;
	te_run("4 refresh", engine(0, secret0, te_rng_zero, NULL), sc);
}

/* 5 */
static void
when_receiving_lifetime_0_for_existing_allocation_then_delete(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	const long	 L = 1000;

	st_allocate(sc, &C4, L, 0, TE_T0, 1);
	st = st_refresh(sc, &C4, 0, TE_T0 + L / 2 * TE_SEC, 0x30);
	st->allocs = 0;
	st->timeout = NO_TIMEOUT;
	te_st_tick(sc, "nothing left to expire", TE_T0 + (L + 1) * TE_SEC);
	te_run("5 refresh 0", engine(0, secret0, te_rng_zero, NULL), sc);
}

/* 6 */
static void
freeing_allocation_clears_all_channels(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;

	st_allocate(sc, &C6, -1, 0, TE_T0, 1);
	st = st_chanbind(sc, &C6, 0x4321, &P4, TE_T0 + TE_SEC, 0x20);
	st->channels = 1;
	st = st_refresh(sc, &C6, 0, TE_T0 + 2 * TE_SEC, 0x30);
	st->channels = 0;
	st->allocs = 0;
	st->timeout = NO_TIMEOUT;
	te_run("6 free clears channels", engine(0, secret0, te_rng_zero, NULL),
	    sc);
}

/* 7 and 9: data both ways on channel chan */
static void
ping_pong_steps(struct te_scen *sc, const struct taddr *client, uint16_t chan,
    uint64_t now, uint32_t seed)
{
	struct te_step	*st;
	uint8_t		 payload[32], frame[64];
	size_t		 n;

	fill_random(payload, sizeof(payload), seed);
	n = cdata(frame, chan, payload, sizeof(payload));
	st = te_st_client(sc, "ChannelData goes to the worker", client, frame,
	    n,
	    now);
	te_ex_data(sc, st, 1, chan, payload, sizeof(payload));
	fill_random(payload, sizeof(payload), seed + 1);
	n = cdata(frame, chan, payload, sizeof(payload));
	st = te_st_wdata(sc, "peer data comes back as ChannelData", 1, frame, n,
	    now);
	te_ex_frames(sc, st, client, frame, n);
}

static void
ping_pong_relay(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	const uint16_t	 chan = 0x4abc;

	st_allocate(sc, &C4, 3600, 0, TE_T0,
	    1)->timeout = TE_T0 + 3600 * TE_SEC;
	st = st_chanbind(sc, &C4, chan, &P4, TE_T0 + TE_SEC, 0x20);
	st->timeout = TE_T0 + TE_SEC + 600 * TE_SEC;
	ping_pong_steps(sc, &C4, chan, TE_T0 + 2 * TE_SEC, 7);
	te_run("7 ping pong", engine(0, secret0, te_rng_zero, NULL), sc);
}

/* 8 */
static void
allows_rebind_channel_after_expiry(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	const uint16_t	 chan = 0x4001;
	const uint64_t	 t1 = TE_T0 + TE_SEC, t2 = t1 + 601 * TE_SEC;

	st_allocate(sc, &C4, 3600, 0, TE_T0, 1);
	st_chanbind(sc, &C4, chan, &P4, t1, 0x20)->timeout = t1 + 600 * TE_SEC;
	st = te_st_tick(sc, "expired channel is removed from the worker", t2);
	te_ex_chan_del(st, 1, chan);
	st->timeout = t1 + 900 * TE_SEC;
	st->channels = 0;
	st = te_st_tick(sc, "cool-down over: channel deleted",
	    t2 + 301 * TE_SEC);
	st->timeout = TE_T0 + 3600 * TE_SEC;
	st = st_chanbind(sc, &C4, chan, &P4B, t2 + 302 * TE_SEC, 0x21);
	st->timeout = t2 + 302 * TE_SEC + 600 * TE_SEC;
	st->channels = 1;
	te_run("8 rebind after expiry", engine(0, secret0, te_rng_zero, NULL),
	    sc);
}

/* 9 */
static void
ping_pong_ip6_relay(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	const uint16_t	 chan = 0x4fff;

	st_allocate(sc, &C6, 3600, STUN_AF_IPV6, TE_T0, 1);
	st = st_chanbind(sc, &C6, chan, &P6, TE_T0 + TE_SEC, 0x20);
	st->timeout = TE_T0 + TE_SEC + 600 * TE_SEC;
	ping_pong_steps(sc, &C6, chan, TE_T0 + 2 * TE_SEC, 9);
	te_run("9 ping pong ip6", engine(1, secret0, te_rng_zero, NULL), sc);
}

/* 10 */
static void
ignores_stun_request_from_port_0(void)
{
	struct te_scen	*sc = scen_new();
	struct taddr	 c0 = ta("198.51.100.7:0");
	struct req	 r;
	uint8_t		 buf[STUN_MAX_MSG];

	req_init(&r, STUN_BINDING, 1);
	te_st_client(sc, "BINDING from port 0: no command", &c0, buf,
	    req_build(&r, buf, sizeof(buf)), TE_T0);
	te_run("10 port 0", engine(0, secret0, te_rng_zero, NULL), sc);
}

/* ---- after the ten ---- */

/* bug fix 1 on the expiry path: no CHAN_DEL, no channel left behind */
static void
expiry_clears_channels(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	uint8_t		 frame[16], payload[4] = { 1, 2, 3, 4 };
	const uint16_t	 chan = 0x4444;

	st_allocate(sc, &C4, 600, 0, TE_T0, 1);
	st_chanbind(sc, &C4, chan, &P4, TE_T0 + TE_SEC, 0x20)->channels = 1;
	st = te_st_tick(sc, "expiry stops the worker, channels go with it",
	    TE_T0 + 600 * TE_SEC);
	te_ex_stop(st, 1, TURN_STOP_EXPIRED);
	st->channels = 0;
	st->allocs = 0;
	st->timeout = NO_TIMEOUT;
	te_st_client(sc, "ChannelData on the freed channel is dropped", &C4,
	    frame, cdata(frame, chan, payload, sizeof(payload)),
	    TE_T0 + 601 * TE_SEC);
	te_run("fix: expiry clears channels", engine(0, secret0, te_rng_zero,
	    NULL),
	    sc);
}

/* bug fix 2: a cooling-down channel refreshed is bound and routed again */
static void
refresh_rebinds_cooling_channel(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	uint8_t		 frame[16], payload[4] = { 9, 8, 7, 6 };
	size_t		 n;
	const uint16_t	 chan = 0x4555;
	const uint64_t	 t1 = TE_T0 + TE_SEC;

	n = cdata(frame, chan, payload, sizeof(payload));
	st_allocate(sc, &C4, 3600, 0, TE_T0, 1);
	st_chanbind(sc, &C4, chan, &P4, t1, 0x20);
	st = te_st_tick(sc, "channel expires", t1 + 600 * TE_SEC);
	te_ex_chan_del(st, 1, chan);
	st->channels = 0;
	te_st_client(sc, "ChannelData while cooling down is dropped", &C4,
	    frame,
	    n, t1 + 601 * TE_SEC);
	/* the worker may not have seen CHAN_DEL yet: drop, not hostile */
	st = te_st_wdata(sc, "peer data on a cooling channel is dropped", 1,
	    frame, n, t1 + 602 * TE_SEC);
	st->allocs = 1;
	st = st_chanbind(sc, &C4, chan, &P4, t1 + 610 * TE_SEC, 0x21);
	st->name = "CHANNEL-BIND on the cooling channel re-emits CHAN_ADD";
	st->channels = 1;
	st->timeout = t1 + 1210 * TE_SEC;
	st = te_st_client(sc, "ChannelData is forwarded again", &C4, frame, n,
	    t1 + 611 * TE_SEC);
	te_ex_data(sc, st, 1, chan, payload, sizeof(payload));
	te_run("fix: refresh re-binds", engine(0, secret0, te_rng_zero, NULL),
	    sc);
}

/* LOG commands can be asserted too */
static void
logs_on_request(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;

	st = st_allocate(sc, &C4, 600, 0, TE_T0, 1);
	te_ex_log(st, TURN_LOG_INFO, "Created new allocation");
	st = te_st_tick(sc, "expiry is logged", TE_T0 + 600 * TE_SEC);
	te_ex_stop(st, 1, TURN_STOP_EXPIRED);
	te_ex_log(st, TURN_LOG_INFO, "Deleted allocation");
	te_run("logs", engine(0, secret0, te_rng_zero, NULL), sc);
}

/*
 * A relay restart, as clients detect it: a new nonce key and a new
 * secret. Old nonce: 438 (signed: the USERNAME has a valid form). Fresh
 * nonce, old credentials: 401 signed with the key the new relay derives.
 * New credentials from a client without an allocation: 437.
 */
static void
relay_restart(void)
{
	struct te_scen	*sc = scen_new();
	struct te_step	*st;
	struct creds	 cr1, old;
	struct req	 r;
	char		 n0[AUTH_NONCE_LEN + 1], n1[AUTH_NONCE_LEN + 1];
	char		 n2[AUTH_NONCE_LEN + 1];
	uint8_t		 buf[STUN_MAX_MSG], out[STUN_MAX_MSG], fill = 0x5a;
	const uint64_t	 t = TE_T0 + 5 * TE_SEC;

	creds(&cr1, secret1, "klmnopqrst");	/* issued after the restart */
	creds(&old, secret1, SALT);	/* the key it derives for CR's name */
	nonce(&C4, TE_T0, 0, n0);		/* issued before the restart */
	nonce(&C4, t, fill, n1);
	nonce(&C4, t, fill, n2);

	req_init(&r, STUN_REFRESH, 0x40);
	r.cr = &CR;
	r.nonce = n0;
	st = te_st_client(sc, "old nonce: 438 with a fresh nonce", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), t);
	te_ex_send(sc, st, &C4, out, resp_error(out, STUN_REFRESH, r.tid,
	    old.key,
	    STUN_ERR_STALE_NONCE, n1));

	req_init(&r, STUN_REFRESH, 0x41);
	r.cr = &CR;
	r.nonce = n1;
	st = te_st_client(sc, "fresh nonce, old credentials: 401", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), t);
	te_ex_send(sc, st, &C4, out, resp_error(out, STUN_REFRESH, r.tid,
	    old.key,
	    STUN_ERR_UNAUTHORIZED, n2));

	req_init(&r, STUN_REFRESH, 0x42);
	r.cr = &cr1;
	r.nonce = n2;
	st = te_st_client(sc, "new credentials, no allocation: 437", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), t);
	te_ex_send(sc, st, &C4, out, resp_error(out, STUN_REFRESH, r.tid,
	    cr1.key,
	    STUN_ERR_ALLOC_MISMATCH, NULL));
	st->allocs = 0;
	te_run("restart", engine(0, secret1, rng_fill, &fill), sc);
}

static int
peers_allowed(void)
{
	struct peer_filter	f;

	memset(&f, 0, sizeof(f));
	return peer_check(&f, &P4) == PEER_OK &&
	    peer_check(&f, &P4B) == PEER_OK && peer_check(&f, &P6) == PEER_OK;
}

int
main(void)
{
	C4 = ta("198.51.100.7:40000");
	C6 = ta("[2001:db8:1::7]:40000");
	P4 = ta("93.184.216.34:5000");
	P4B = ta("93.184.216.35:6000");
	P6 = ta("[2606:2800:220:1:248:1893:25c8:1946]:5000");
	A4 = ta("203.0.113.1:49152");
	A6 = ta("[2001:db8::1]:49152");
	creds(&CR, secret0, SALT);
	ok(peers_allowed(), "test peers pass the default peer filter");

	can_answer_stun_request_from_ip4_address();
	deallocate_once_time_expired();
	unauthenticated_allocate_triggers_authentication();
	when_refreshed_in_time_allocation_does_not_expire();
	when_receiving_lifetime_0_for_existing_allocation_then_delete();
	freeing_allocation_clears_all_channels();
	ping_pong_relay();
	allows_rebind_channel_after_expiry();
	ping_pong_ip6_relay();
	ignores_stun_request_from_port_0();

	expiry_clears_channels();
	refresh_rebinds_cooling_channel();
	logs_on_request();
	relay_restart();
	return done_testing();
}
