/*
 * 20-turn-regress.c: the regression scenarios of reference §13.2 against
 * the sans-IO engine, as scripted tables in Firezone's assert_commands
 * shape. A step is one input (client datagram, worker ready, worker data,
 * tick) followed by the exact commands expected, in order, then "no
 * further commands", and optionally the next timeout. LOG commands are
 * skipped unless the step asks for them. All-zero RNG, secret 64 x '0';
 * requests and expected responses are both built with the codec's
 * encoder and compared byte for byte.
 *
 * After the ten: the two bug fixes (freeing an allocation clears its
 * channels; refreshing a cooling-down channel re-binds it) and the relay
 * restart of reference §17 (old nonce 438, old credentials 401, no
 * allocation 437).
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "peer.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"

#define T0		1000000ULL		/* monotonic ms */
#define WALL		1700000000LL		/* wall clock s */
#define SEC		1000ULL
#define SALT		"abcdefghij"
#define SOFTWARE	"turncell/test"
#define PORT0		49152
#define NO_TIMEOUT	UINT64_MAX
#define DONT_CHECK	0

#define MAX_STEPS	24
#define MAX_EXP		6
#define POOL		(64 * 1024)

static const char secret0[] =
    "0000000000000000000000000000000000000000000000000000000000000000";
static const char secret1[] =
    "1111111111111111111111111111111111111111111111111111111111111111";

/* ---- the script ---- */

enum in_kind { IN_CLIENT, IN_READY, IN_WDATA, IN_TICK };

struct exp {
	enum turn_cmd_type type;
	uint32_t	 id;
	struct taddr	 addr;
	uint16_t	 port;
	uint8_t		 families;
	uint16_t	 chan;
	int		 reason;
	int		 level;
	const uint8_t	*data;
	size_t		 len;
	const char	*text;		/* LOG: expected prefix */
};

struct step {
	const char	*name;
	enum in_kind	 kind;
	struct taddr	 from;
	const uint8_t	*in;
	size_t		 in_len;
	uint32_t	 id;
	uint64_t	 now;
	struct exp	 exp[MAX_EXP];
	size_t		 n_exp;
	int		 logs;		/* compare LOG commands too */
	uint64_t	 timeout;	/* DONT_CHECK or the expected value */
	long		 channels;	/* -1 or stats.channels after */
	long		 allocs;	/* -1 or turn_alloc_count() after */
};

struct scen {
	struct step	 s[MAX_STEPS];
	size_t		 n;
	uint8_t		 pool[POOL];
	size_t		 used;
};

static const uint8_t *
pool_copy(struct scen *sc, const void *p, size_t n)
{
	uint8_t	*d;

	if (sc->used + n > sizeof(sc->pool))
		return NULL;
	d = sc->pool + sc->used;
	memcpy(d, p, n);
	sc->used += n;
	return d;
}

static struct step *
st_add(struct scen *sc, const char *name, enum in_kind kind, uint64_t now)
{
	struct step	*st = &sc->s[sc->n++];

	memset(st, 0, sizeof(*st));
	st->name = name;
	st->kind = kind;
	st->now = now;
	st->channels = st->allocs = -1;
	return st;
}

static struct step *
st_client(struct scen *sc, const char *name, const struct taddr *from,
    const uint8_t *b, size_t n, uint64_t now)
{
	struct step	*st = st_add(sc, name, IN_CLIENT, now);

	st->from = *from;
	st->in = pool_copy(sc, b, n);
	st->in_len = n;
	return st;
}

static struct step *
st_ready(struct scen *sc, const char *name, uint32_t id, uint64_t now)
{
	struct step	*st = st_add(sc, name, IN_READY, now);

	st->id = id;
	return st;
}

static struct step *
st_wdata(struct scen *sc, const char *name, uint32_t id, const uint8_t *b,
    size_t n, uint64_t now)
{
	struct step	*st = st_add(sc, name, IN_WDATA, now);

	st->id = id;
	st->in = pool_copy(sc, b, n);
	st->in_len = n;
	return st;
}

static struct step *
st_tick(struct scen *sc, const char *name, uint64_t now)
{
	return st_add(sc, name, IN_TICK, now);
}

static struct exp *
ex_add(struct step *st, enum turn_cmd_type type, uint32_t id)
{
	struct exp	*e = &st->exp[st->n_exp++];

	memset(e, 0, sizeof(*e));
	e->type = type;
	e->id = id;
	return e;
}

static void
ex_send(struct scen *sc, struct step *st, const struct taddr *to,
    const uint8_t *b, size_t n)
{
	struct exp	*e = ex_add(st, TURN_CMD_SEND, 0);

	e->addr = *to;
	e->data = pool_copy(sc, b, n);
	e->len = n;
}

static void
ex_start(struct step *st, uint32_t id, uint16_t port, uint8_t fam)
{
	struct exp	*e = ex_add(st, TURN_CMD_WORKER_START, id);

	e->port = port;
	e->families = fam;
}

static void
ex_chan_add(struct step *st, uint32_t id, uint16_t chan,
    const struct taddr *peer)
{
	struct exp	*e = ex_add(st, TURN_CMD_WORKER_CHAN_ADD, id);

	e->chan = chan;
	e->addr = *peer;
}

static void
ex_chan_del(struct step *st, uint32_t id, uint16_t chan)
{
	ex_add(st, TURN_CMD_WORKER_CHAN_DEL, id)->chan = chan;
}

static void
ex_data(struct scen *sc, struct step *st, uint32_t id, uint16_t chan,
    const uint8_t *b, size_t n)
{
	struct exp	*e = ex_add(st, TURN_CMD_WORKER_DATA, id);

	e->chan = chan;
	e->data = pool_copy(sc, b, n);
	e->len = n;
}

static void
ex_stop(struct step *st, uint32_t id, int reason)
{
	ex_add(st, TURN_CMD_WORKER_STOP, id)->reason = reason;
}

static void
ex_log(struct step *st, int level, const char *prefix)
{
	struct exp	*e = ex_add(st, TURN_CMD_LOG, 0);

	e->level = level;
	e->text = prefix;
	st->logs = 1;
}

/* ---- the runner ---- */

static void
feed(struct turn *t, const struct step *st, int *rc)
{
	*rc = 0;
	switch (st->kind) {
	case IN_CLIENT:
		turn_client_input(t, st->in, st->in_len, &st->from, st->now,
		    WALL + (int64_t)((st->now - T0) / SEC));
		break;
	case IN_READY:
		turn_worker_ready(t, st->id, st->now);
		break;
	case IN_WDATA:
		*rc = turn_worker_data(t, st->id, st->in, st->in_len, st->now);
		break;
	case IN_TICK:
		turn_timeout(t, st->now);
		break;
	}
}

static int
in_input(const struct step *st, const uint8_t *p, size_t n)
{
	return st->in != NULL && p >= st->in && n <= st->in_len &&
	    (size_t)(p - st->in) <= st->in_len - n;
}

static int
bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* 1 if the command matches; diagnostics otherwise */
static int
cmd_match(const struct step *st, const struct turn_cmd *c,
    const struct exp *e)
{
	if (c->type != e->type || c->alloc_id != e->id)
		return 0;
	switch (c->type) {
	case TURN_CMD_SEND:
		return addr_eq(&c->addr, &e->addr) &&
		    bytes_eq(c->data, c->len, e->data, e->len);
	case TURN_CMD_WORKER_START:
		return c->port == e->port && c->families == e->families;
	case TURN_CMD_WORKER_CHAN_ADD:
		return c->chan == e->chan && addr_eq(&c->addr, &e->addr);
	case TURN_CMD_WORKER_CHAN_DEL:
		return c->chan == e->chan;
	case TURN_CMD_WORKER_DATA:
		/* the payload points into the caller's datagram */
		return c->chan == e->chan && in_input(st, c->data, c->len) &&
		    bytes_eq(c->data, c->len, e->data, e->len);
	case TURN_CMD_WORKER_STOP:
		return c->reason == e->reason;
	case TURN_CMD_LOG:
		return c->level == e->level && c->text != NULL &&
		    strncmp(c->text, e->text, strlen(e->text)) == 0;
	default:
		return 0;
	}
}

static void
diag_cmd(const char *what, const struct turn_cmd *c)
{
	char	ab[ADDR_STRLEN];

	diag("%s: type %d alloc %u addr %s port %u fam %u chan 0x%04x "
	    "reason %d len %zu%s%s", what, c->type, c->alloc_id,
	    addr_fmt(&c->addr, ab, sizeof(ab)), c->port, c->families, c->chan,
	    c->reason, c->len, c->text ? " text " : "", c->text ? c->text : "");
	if (c->data != NULL && c->len > 0) {
		char	 hex[2 * 160 + 1];
		size_t	 i, n = c->len < 160 ? c->len : 160;

		for (i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", c->data[i]);
		diag("  %s", hex);
	}
}

static int
next_cmd(struct turn *t, const struct step *st, struct turn_cmd *c)
{
	while (turn_next_cmd(t, c) == 1)
		if (c->type != TURN_CMD_LOG || st->logs)
			return 1;
	return 0;
}

/* pop and compare the step's commands, then "no further commands" */
static int
check_cmds(struct turn *t, const struct step *st)
{
	struct turn_cmd	 c;
	struct turn_cmd	 w;
	size_t		 i;
	int		 good = 1;

	for (i = 0; i < st->n_exp; i++) {
		if (!next_cmd(t, st, &c)) {
			diag("missing command %zu (type %d)", i, st->exp[i].type);
			return 0;
		}
		if (!cmd_match(st, &c, &st->exp[i])) {
			memset(&w, 0, sizeof(w));
			w.type = st->exp[i].type;
			w.alloc_id = st->exp[i].id;
			w.addr = st->exp[i].addr;
			w.port = st->exp[i].port;
			w.families = st->exp[i].families;
			w.chan = st->exp[i].chan;
			w.reason = st->exp[i].reason;
			w.data = st->exp[i].data;
			w.len = st->exp[i].len;
			w.text = st->exp[i].text;
			diag_cmd("got ", &c);
			diag_cmd("want", &w);
			good = 0;
		}
	}
	while (next_cmd(t, st, &c)) {
		diag_cmd("unexpected", &c);
		good = 0;
	}
	return good;
}

static int
check_after(struct turn *t, const struct step *st, int rc)
{
	struct turn_stats	stats;
	uint64_t		to = turn_next_timeout(t);
	int			good = 1;

	turn_get_stats(t, &stats);
	if (st->timeout != DONT_CHECK && to != st->timeout) {
		diag("next timeout %llu, want %llu", (unsigned long long)to,
		    (unsigned long long)st->timeout);
		good = 0;
	}
	if (st->channels >= 0 && stats.channels != (uint64_t)st->channels) {
		diag("channels %llu, want %ld",
		    (unsigned long long)stats.channels, st->channels);
		good = 0;
	}
	if (st->allocs >= 0 && turn_alloc_count(t) != (size_t)st->allocs) {
		diag("allocations %zu, want %ld", turn_alloc_count(t),
		    st->allocs);
		good = 0;
	}
	if (st->kind == IN_WDATA && rc != 0) {
		diag("turn_worker_data returned %d", rc);
		good = 0;
	}
	return good;
}

static void
run(const char *scenario, struct turn *t, const struct scen *sc)
{
	size_t	i;
	int	rc, good;

	if (t == NULL) {
		ok(0, "%s: engine created", scenario);
		return;
	}
	for (i = 0; i < sc->n; i++) {
		feed(t, &sc->s[i], &rc);
		good = check_cmds(t, &sc->s[i]);
		good &= check_after(t, &sc->s[i], rc);
		ok(good, "%s: %s", scenario, sc->s[i].name);
	}
	turn_free(t);
}

/* ---- engines, addresses, credentials ---- */

static void
rng_zero(void *arg, void *out, size_t len)
{
	memset(out, 0, len);
}

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
	uint64_t	expiry = (uint64_t)WALL + 1000;

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
	auth_nonce_mint(key, client, now / SEC, out);
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
		stun_put_u32(&e, STUN_A_CHANNEL_NUMBER, (uint32_t)r->chan << 16);
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

/* ---- expected responses (engine.md §6 order) ---- */

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

/* error; nonce != NULL adds REALM, NONCE (401/438) */
static size_t
resp_error(uint8_t *buf, uint16_t method, const uint8_t *t,
    const uint8_t *key, int code, const char *n)
{
	struct stun_enc	e;

	resp_begin(&e, buf, method, STUN_ERROR, t, key);
	stun_put_error(&e, code);
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

static struct scen	SC;

static struct scen *
scen_new(void)
{
	memset(&SC, 0, sizeof(SC));
	return &SC;
}

/* an authenticated request from client at now (nonce minted for it) */
static struct step *
st_req(struct scen *sc, const char *name, struct req *r,
    const struct taddr *client, uint64_t now)
{
	struct step	*st;
	char		 n[AUTH_NONCE_LEN + 1];
	uint8_t		 buf[STUN_MAX_MSG];
	int		 minted = 0;

	if (r->cr != NULL && r->nonce == NULL) {
		nonce(client, now, 0, n);
		r->nonce = n;
		minted = 1;
	}
	st = st_client(sc, name, client, buf, req_build(r, buf, sizeof(buf)),
	    now);
	if (minted)
		r->nonce = NULL;
	return st;
}

/* ALLOCATE (+ WORKER_START), worker ready (+ success) as alloc id */
static struct step *
st_allocate(struct scen *sc, const struct taddr *client, long lifetime,
    int family, uint64_t now, uint32_t id)
{
	struct req	 r;
	struct step	*st;
	uint8_t		 buf[STUN_MAX_MSG];
	const struct taddr *relay = family == STUN_AF_IPV6 ? &A6 : &A4;

	req_init(&r, STUN_ALLOCATE, (uint8_t)(0x10 + id));
	r.transport = 17;
	r.lifetime = lifetime;
	r.req_family = family;
	r.cr = &CR;
	st = st_req(sc, "ALLOCATE starts a worker", &r, client, now);
	ex_start(st, id, PORT0, family == STUN_AF_IPV6 ? ADDR_FAM_V6 :
	    ADDR_FAM_V4);
	st = st_ready(sc, "worker ready sends the ALLOCATE success", id, now);
	ex_send(sc, st, client, buf, resp_alloc(buf, r.tid, CR.key, relay,
	    client, lifetime < 0 ? 600 : (uint32_t)lifetime));
	return st;
}

static struct step *
st_chanbind(struct scen *sc, const struct taddr *client, uint16_t chan,
    const struct taddr *peer, uint64_t now, uint8_t tseed)
{
	struct req	 r;
	struct step	*st;
	uint8_t		 buf[STUN_MAX_MSG];

	req_init(&r, STUN_CHANNEL_BIND, tseed);
	r.chan = chan;
	r.peer = peer;
	r.cr = &CR;
	st = st_req(sc, "CHANNEL-BIND", &r, client, now);
	ex_chan_add(st, 1, chan, peer);
	ex_send(sc, st, client, buf, resp_empty(buf, STUN_CHANNEL_BIND, r.tid,
	    CR.key));
	return st;
}

static struct step *
st_refresh(struct scen *sc, const struct taddr *client, long lifetime,
    uint64_t now, uint8_t tseed)
{
	struct req	 r;
	struct step	*st;
	uint8_t		 buf[STUN_MAX_MSG];

	req_init(&r, STUN_REFRESH, tseed);
	r.lifetime = lifetime;
	r.cr = &CR;
	st = st_req(sc, "REFRESH", &r, client, now);
	if (lifetime == 0)
		ex_stop(st, 1, TURN_STOP_DELETED);
	ex_send(sc, st, client, buf, resp_lifetime(buf, r.tid, CR.key,
	    (uint32_t)lifetime));
	return st;
}

/* 1 */
static void
can_answer_stun_request_from_ip4_address(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	struct req	 r;
	uint8_t		 buf[STUN_MAX_MSG], out[STUN_MAX_MSG];

	req_init(&r, STUN_BINDING, 1);
	st = st_client(sc, "BINDING answered with XOR-MAPPED-ADDRESS only",
	    &C4, buf, req_build(&r, buf, sizeof(buf)), T0);
	ex_send(sc, st, &C4, out, resp_binding(out, r.tid, &C4));
	st->timeout = NO_TIMEOUT;
	run("1 binding", engine(0, secret0, rng_zero, NULL), sc);
}

/* 2 */
static void
deallocate_once_time_expired(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	const long	 L = 1234;

	st_allocate(sc, &C4, L, 0, T0, 1)->timeout = T0 + L * SEC;
	st = st_tick(sc, "expired allocation stops its worker",
	    T0 + (L + 1) * SEC);
	ex_stop(st, 1, TURN_STOP_EXPIRED);
	st->timeout = NO_TIMEOUT;
	st->allocs = 0;
	run("2 expiry", engine(0, secret0, rng_zero, NULL), sc);
}

/* 3 */
static void
unauthenticated_allocate_triggers_authentication(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	struct req	 r;
	char		 n[AUTH_NONCE_LEN + 1];
	uint8_t		 buf[STUN_MAX_MSG], out[STUN_MAX_MSG];
	const long	 L = 777;

	req_init(&r, STUN_ALLOCATE, 0x11);
	r.transport = 17;
	r.lifetime = L;
	st = st_client(sc, "ALLOCATE without credentials gets an unsigned 401",
	    &C4, buf, req_build(&r, buf, sizeof(buf)), T0);
	nonce(&C4, T0, 0, n);
	ex_send(sc, st, &C4, out, resp_error(out, STUN_ALLOCATE, r.tid, NULL,
	    STUN_ERR_UNAUTHORIZED, n));
	st->allocs = 0;
	r.cr = &CR;
	r.nonce = n;		/* the one from the 401, same transaction */
	st = st_client(sc, "retry with that nonce starts a worker", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), T0);
	ex_start(st, 1, PORT0, ADDR_FAM_V4);
	st = st_ready(sc, "worker ready sends the success", 1, T0);
	ex_send(sc, st, &C4, out, resp_alloc(out, r.tid, CR.key, &A4, &C4,
	    (uint32_t)L));
	st->timeout = T0 + L * SEC;
	run("3 401 then 200", engine(0, secret0, rng_zero, NULL), sc);
}

/* 4 */
static void
when_refreshed_in_time_allocation_does_not_expire(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	const long	 L1 = 1000, L2 = 2000;
	const uint64_t	 t2 = T0 + L1 / 2 * SEC;

	st_allocate(sc, &C4, L1, 0, T0, 1)->timeout = T0 + L1 * SEC;
	st = st_refresh(sc, &C4, L2, t2, 0x30);
	st->timeout = t2 + L2 * SEC;
	st = st_tick(sc, "no expiry before the refreshed lifetime",
	    t2 + (L2 - 1) * SEC);
	st->timeout = t2 + L2 * SEC;
	st->allocs = 1;
	run("4 refresh", engine(0, secret0, rng_zero, NULL), sc);
}

/* 5 */
static void
when_receiving_lifetime_0_for_existing_allocation_then_delete(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	const long	 L = 1000;

	st_allocate(sc, &C4, L, 0, T0, 1);
	st = st_refresh(sc, &C4, 0, T0 + L / 2 * SEC, 0x30);
	st->allocs = 0;
	st->timeout = NO_TIMEOUT;
	st_tick(sc, "nothing left to expire", T0 + (L + 1) * SEC);
	run("5 refresh 0", engine(0, secret0, rng_zero, NULL), sc);
}

/* 6 */
static void
freeing_allocation_clears_all_channels(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;

	st_allocate(sc, &C6, -1, 0, T0, 1);
	st = st_chanbind(sc, &C6, 0x4321, &P4, T0 + SEC, 0x20);
	st->channels = 1;
	st = st_refresh(sc, &C6, 0, T0 + 2 * SEC, 0x30);
	st->channels = 0;
	st->allocs = 0;
	st->timeout = NO_TIMEOUT;
	run("6 free clears channels", engine(0, secret0, rng_zero, NULL), sc);
}

/* 7 and 9: data both ways on channel chan */
static void
ping_pong_steps(struct scen *sc, const struct taddr *client, uint16_t chan,
    uint64_t now, uint32_t seed)
{
	struct step	*st;
	uint8_t		 payload[32], frame[64];
	size_t		 n;

	fill_random(payload, sizeof(payload), seed);
	n = cdata(frame, chan, payload, sizeof(payload));
	st = st_client(sc, "ChannelData goes to the worker", client, frame, n,
	    now);
	ex_data(sc, st, 1, chan, payload, sizeof(payload));
	fill_random(payload, sizeof(payload), seed + 1);
	n = cdata(frame, chan, payload, sizeof(payload));
	st = st_wdata(sc, "peer data comes back as ChannelData", 1, frame, n,
	    now);
	ex_send(sc, st, client, frame, n);
}

static void
ping_pong_relay(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	const uint16_t	 chan = 0x4abc;

	st_allocate(sc, &C4, 3600, 0, T0, 1)->timeout = T0 + 3600 * SEC;
	st = st_chanbind(sc, &C4, chan, &P4, T0 + SEC, 0x20);
	st->timeout = T0 + SEC + 600 * SEC;
	ping_pong_steps(sc, &C4, chan, T0 + 2 * SEC, 7);
	run("7 ping pong", engine(0, secret0, rng_zero, NULL), sc);
}

/* 8 */
static void
allows_rebind_channel_after_expiry(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	const uint16_t	 chan = 0x4001;
	const uint64_t	 t1 = T0 + SEC, t2 = t1 + 601 * SEC;

	st_allocate(sc, &C4, 3600, 0, T0, 1);
	st_chanbind(sc, &C4, chan, &P4, t1, 0x20)->timeout = t1 + 600 * SEC;
	st = st_tick(sc, "expired channel is removed from the worker", t2);
	ex_chan_del(st, 1, chan);
	st->timeout = t1 + 900 * SEC;
	st->channels = 0;
	st = st_tick(sc, "cool-down over: channel deleted", t2 + 301 * SEC);
	st->timeout = T0 + 3600 * SEC;
	st = st_chanbind(sc, &C4, chan, &P4B, t2 + 302 * SEC, 0x21);
	st->timeout = t2 + 302 * SEC + 600 * SEC;
	st->channels = 1;
	run("8 rebind after expiry", engine(0, secret0, rng_zero, NULL), sc);
}

/* 9 */
static void
ping_pong_ip6_relay(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	const uint16_t	 chan = 0x4fff;

	st_allocate(sc, &C6, 3600, STUN_AF_IPV6, T0, 1);
	st = st_chanbind(sc, &C6, chan, &P6, T0 + SEC, 0x20);
	st->timeout = T0 + SEC + 600 * SEC;
	ping_pong_steps(sc, &C6, chan, T0 + 2 * SEC, 9);
	run("9 ping pong ip6", engine(1, secret0, rng_zero, NULL), sc);
}

/* 10 */
static void
ignores_stun_request_from_port_0(void)
{
	struct scen	*sc = scen_new();
	struct taddr	 c0 = ta("198.51.100.7:0");
	struct req	 r;
	uint8_t		 buf[STUN_MAX_MSG];

	req_init(&r, STUN_BINDING, 1);
	st_client(sc, "BINDING from port 0: no command", &c0, buf,
	    req_build(&r, buf, sizeof(buf)), T0);
	run("10 port 0", engine(0, secret0, rng_zero, NULL), sc);
}

/* ---- after the ten ---- */

/* bug fix 1 on the expiry path: no CHAN_DEL, no channel left behind */
static void
expiry_clears_channels(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	uint8_t		 frame[16], payload[4] = { 1, 2, 3, 4 };
	const uint16_t	 chan = 0x4444;

	st_allocate(sc, &C4, 100, 0, T0, 1);
	st_chanbind(sc, &C4, chan, &P4, T0 + SEC, 0x20)->channels = 1;
	st = st_tick(sc, "expiry stops the worker, channels go with it",
	    T0 + 100 * SEC);
	ex_stop(st, 1, TURN_STOP_EXPIRED);
	st->channels = 0;
	st->allocs = 0;
	st->timeout = NO_TIMEOUT;
	st_client(sc, "ChannelData on the freed channel is dropped", &C4,
	    frame, cdata(frame, chan, payload, sizeof(payload)),
	    T0 + 101 * SEC);
	run("fix: expiry clears channels", engine(0, secret0, rng_zero, NULL),
	    sc);
}

/* bug fix 2: a cooling-down channel refreshed is bound and routed again */
static void
refresh_rebinds_cooling_channel(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	uint8_t		 frame[16], payload[4] = { 9, 8, 7, 6 };
	size_t		 n;
	const uint16_t	 chan = 0x4555;
	const uint64_t	 t1 = T0 + SEC;

	n = cdata(frame, chan, payload, sizeof(payload));
	st_allocate(sc, &C4, 3600, 0, T0, 1);
	st_chanbind(sc, &C4, chan, &P4, t1, 0x20);
	st = st_tick(sc, "channel expires", t1 + 600 * SEC);
	ex_chan_del(st, 1, chan);
	st->channels = 0;
	st_client(sc, "ChannelData while cooling down is dropped", &C4, frame,
	    n, t1 + 601 * SEC);
	/* the worker may not have seen CHAN_DEL yet: drop, not hostile */
	st = st_wdata(sc, "peer data on a cooling channel is dropped", 1,
	    frame, n, t1 + 602 * SEC);
	st->allocs = 1;
	st = st_chanbind(sc, &C4, chan, &P4, t1 + 610 * SEC, 0x21);
	st->name = "CHANNEL-BIND on the cooling channel re-emits CHAN_ADD";
	st->channels = 1;
	st->timeout = t1 + 1210 * SEC;
	st = st_client(sc, "ChannelData is forwarded again", &C4, frame, n,
	    t1 + 611 * SEC);
	ex_data(sc, st, 1, chan, payload, sizeof(payload));
	run("fix: refresh re-binds", engine(0, secret0, rng_zero, NULL), sc);
}

/* LOG commands can be asserted too */
static void
logs_on_request(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;

	st = st_allocate(sc, &C4, 600, 0, T0, 1);
	ex_log(st, TURN_LOG_INFO, "Created new allocation");
	st = st_tick(sc, "expiry is logged", T0 + 600 * SEC);
	ex_stop(st, 1, TURN_STOP_EXPIRED);
	ex_log(st, TURN_LOG_INFO, "Deleted allocation");
	run("logs", engine(0, secret0, rng_zero, NULL), sc);
}

/*
 * Reference §17: the relay restarts with a new nonce key and a new
 * secret. Old nonce: 438 (signed: the USERNAME has a valid form). Fresh
 * nonce, old credentials: 401 signed with the key the new relay derives.
 * New credentials from a client without an allocation: 437.
 */
static void
relay_restart(void)
{
	struct scen	*sc = scen_new();
	struct step	*st;
	struct creds	 cr1, old;
	struct req	 r;
	char		 n0[AUTH_NONCE_LEN + 1], n1[AUTH_NONCE_LEN + 1];
	char		 n2[AUTH_NONCE_LEN + 1];
	uint8_t		 buf[STUN_MAX_MSG], out[STUN_MAX_MSG], fill = 0x5a;
	const uint64_t	 t = T0 + 5 * SEC;

	creds(&cr1, secret1, "klmnopqrst");	/* issued after the restart */
	creds(&old, secret1, SALT);	/* the key it derives for CR's name */
	nonce(&C4, T0, 0, n0);		/* issued before the restart */
	nonce(&C4, t, fill, n1);
	nonce(&C4, t, fill, n2);

	req_init(&r, STUN_REFRESH, 0x40);
	r.cr = &CR;
	r.nonce = n0;
	st = st_client(sc, "old nonce: 438 with a fresh nonce", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), t);
	ex_send(sc, st, &C4, out, resp_error(out, STUN_REFRESH, r.tid, old.key,
	    STUN_ERR_STALE_NONCE, n1));

	req_init(&r, STUN_REFRESH, 0x41);
	r.cr = &CR;
	r.nonce = n1;
	st = st_client(sc, "fresh nonce, old credentials: 401", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), t);
	ex_send(sc, st, &C4, out, resp_error(out, STUN_REFRESH, r.tid, old.key,
	    STUN_ERR_UNAUTHORIZED, n2));

	req_init(&r, STUN_REFRESH, 0x42);
	r.cr = &cr1;
	r.nonce = n2;
	st = st_client(sc, "new credentials, no allocation: 437", &C4, buf,
	    req_build(&r, buf, sizeof(buf)), t);
	ex_send(sc, st, &C4, out, resp_error(out, STUN_REFRESH, r.tid, cr1.key,
	    STUN_ERR_ALLOC_MISMATCH, NULL));
	st->allocs = 0;
	run("restart", engine(0, secret1, rng_fill, &fill), sc);
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
