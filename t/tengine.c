/* tengine.c: see tengine.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "auth.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

struct te_rec		te_recs[TE_MAXCMD];
size_t			te_nrecs;
uint64_t		te_now = TE_T0;
struct te_hook		te_hook;
struct ts_cred		te_u, te_u2, te_uexp, te_urest;
struct te_log		te_logs[64];
size_t			te_nlogs;
unsigned		te_leaks;

/* strings no LOG may contain */
static char		te_secrets[16][64];
static size_t		te_nsecrets;

void
te_secret_add(const char *s)
{
	snprintf(te_secrets[te_nsecrets % 16], sizeof(te_secrets[0]), "%s",
	    s);
	te_nsecrets++;
}

void
te_creds(void)
{
	ts_cred_make(&te_u, TE_SECRET, TE_EXPIRY, "abcdefghij");
	ts_cred_make(&te_u2, TE_SECRET, TE_EXPIRY, "otheruser1");
	ts_cred_make(&te_uexp, TE_SECRET, 1600000000ULL, "expired123");
	ts_rest_make(&te_urest, TE_SECRET, "4102444800:alice");
	te_secret_add(te_u.pass);
	te_secret_add(te_u2.pass);
	te_secret_add(te_uexp.pass);
	te_secret_add(te_urest.pass);
}

void
te_nonce(const struct taddr *a, uint64_t now_s, char out[TS_NONCE_LEN + 1])
{
	ts_nonce(a, now_s, out);
	te_secret_add(out + 8);		/* the MAC part */
}

static void
te_log_check(const struct turn_cmd *c)
{
	size_t	i, n = te_nsecrets < 16 ? te_nsecrets : 16;

	if (c->text == NULL || strlen(c->text) > TURN_LOG_MAX) {
		ok(0, "LOG text missing or longer than TURN_LOG_MAX");
		return;
	}
	for (i = 0; i < n; i++)
		if (te_secrets[i][0] != '\0' &&
		    strstr(c->text, te_secrets[i]) != NULL) {
			te_leaks++;
			diag("LOG leaks a secret: %s", c->text);
		}
	if (te_nlogs < sizeof(te_logs) / sizeof(te_logs[0])) {
		te_logs[te_nlogs].level = c->level;
		snprintf(te_logs[te_nlogs].text, sizeof(te_logs[0].text),
		    "%s", c->text);
		te_nlogs++;
	}
}

/* a LOG at level <= maxlevel whose text holds sub */
int
te_log_has(int maxlevel, const char *sub)
{
	size_t	i;

	for (i = 0; i < te_nlogs; i++)
		if (te_logs[i].level <= maxlevel &&
		    strstr(te_logs[i].text, sub) != NULL)
			return 1;
	return 0;
}

/* the most severe level logged (smallest number), 99 if none */
int
te_log_worst(void)
{
	size_t	i;
	int	w = 99;

	for (i = 0; i < te_nlogs; i++)
		if (te_logs[i].level < w)
			w = te_logs[i].level;
	return w;
}

void
te_dump_logs(void)
{
	size_t	i;

	for (i = 0; i < te_nlogs; i++)
		diag("  log %d: %s", te_logs[i].level, te_logs[i].text);
}

void
te_rng_zero(void *arg, void *out, size_t len)
{
	(void)arg;
	memset(out, 0, len);
}

static void
te_hook_cb(void *arg, uint16_t method, int cls, int code)
{
	(void)arg;
	te_hook.calls++;
	te_hook.method = method;
	te_hook.cls = cls;
	te_hook.code = code;
}

void
te_collect(struct turn *t)
{
	struct turn_cmd	 c;
	struct te_rec	*r;
	int		 i;

	te_nrecs = 0;
	te_nlogs = 0;
	for (i = 0; i < 10000; i++) {
		memset(&c, 0, sizeof(c));
		if (turn_next_cmd(t, &c) != 1)
			return;
		if (c.type == TURN_CMD_LOG) {
			te_log_check(&c);
			continue;
		}
		if (te_nrecs == TE_MAXCMD) {
			ok(0, "too many commands");
			return;
		}
		r = &te_recs[te_nrecs++];
		r->c = c;
		r->orig = c.data;
		if (c.data != NULL && c.len <= sizeof(r->data))
			memcpy(r->data, c.data, c.len);
		else if (c.len > sizeof(r->data)) {
			diag("command data of %zu bytes not recorded", c.len);
			r->c.len = 0;
		}
		r->c.data = r->data;
	}
	ok(0, "turn_next_cmd did not run dry");
}

void
te_set_ip(struct taddr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (addr_parse_ip(ip, a) != 0) {
		printf("Bail out! bad test address %s\n", ip);
		exit(255);
	}
	a->port = port;
}

struct taddr
te_addr(const char *ip, uint16_t port)
{
	struct taddr	a;

	te_set_ip(&a, ip, port);
	return a;
}

int
te_same_addr(const struct taddr *a, const struct taddr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

void
te_allow(struct turn_conf *conf, const char *net, uint8_t bits)
{
	te_set_ip(&conf->filter.allow[conf->filter.n_allow].net, net, 0);
	conf->filter.allow[conf->filter.n_allow].bits = bits;
	conf->filter.n_allow++;
}

/* dual stack, documentation ranges allowed as peers */
void
te_conf_init(struct turn_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	te_set_ip(&conf->public4, "203.0.113.1", 0);
	te_set_ip(&conf->public6, "2001:db8::1", 0);
	conf->lowest_port = 49152;
	conf->highest_port = 65535;
	conf->secret = TE_SECRET;
	conf->secret_len = strlen(TE_SECRET);
	conf->software = "turncell/test";
	conf->auth_schemes = AUTH_SCHEME_FIREZONE;
	te_allow(conf, "192.0.2.0", 24);
	te_allow(conf, "2001:db8::", 32);
}

struct turn *
te_start(const struct turn_conf *conf)
{
	return te_start_rng(conf, te_rng_zero, NULL);
}

struct turn *
te_new(void)
{
	struct turn_conf	conf;

	te_conf_init(&conf);
	return te_start(&conf);
}

struct turn *
te_start_rng(const struct turn_conf *conf, turn_rng_fn *rng, void *arg)
{
	struct turn	*t;

	te_now = TE_T0;
	if ((t = turn_new(conf, rng, arg)) == NULL) {
		printf("Bail out! turn_new failed\n");
		exit(255);
	}
	turn_set_response_hook(t, te_hook_cb, NULL);
	memset(&te_hook, 0, sizeof(te_hook));
	return t;
}

void
te_input(struct turn *t, const struct ts_req *r, const struct taddr *from)
{
	turn_client_input(t, r->b, r->len, from, te_now, TE_WALL);
	te_collect(t);
}

void
te_input_raw(struct turn *t, const uint8_t *p, size_t len,
    const struct taddr *from)
{
	turn_client_input(t, p, len, from, te_now, TE_WALL);
	te_collect(t);
}

void
te_tick(struct turn *t, uint64_t at)
{
	te_now = at;
	turn_timeout(t, te_now);
	te_collect(t);
}

const char *
te_cmd_name(int type)
{
	static const char *const names[] = { "NONE", "SEND", "WORKER_START",
	    "CHAN_ADD", "CHAN_DEL", "WORKER_DATA", "WORKER_STOP", "LOG",
	    "PERM_ADD", "PERM_DEL", "WORKER_SEND", "SEND_FRAMES" };

	return type >= 0 && type < (int)(sizeof(names) / sizeof(names[0])) ?
	    names[type] : "?";
}

void
te_dump_cmds(void)
{
	size_t	i;

	for (i = 0; i < te_nrecs; i++) {
		const struct turn_cmd *c = &te_recs[i].c;

		diag("  cmd %zu: %s alloc %u port %u fam 0x%x chan 0x%x "
		    "reason %d len %zu code %d", i, te_cmd_name(c->type),
		    c->alloc_id, c->port, c->families, c->chan, c->reason,
		    c->len, c->type == TURN_CMD_SEND ?
		    ts_code(c->data, c->len) : 0);
	}
}

/* exactly n commands */
int
te_ncmds(size_t n, const char *what)
{
	if (te_nrecs == n)
		return ok(1, "%s: %zu command(s)", what, n);
	ok(0, "%s: %zu command(s)", what, n);
	diag("got %zu:", te_nrecs);
	te_dump_cmds();
	return 0;
}

/*
 * Check recs[i] is a SEND to `to` of a response (method, cls) with
 * error code `code` (0 for success), to request `rq` (tid), signed with
 * key (or unsigned when key is NULL). One TAP line.
 */
int
te_check_resp(size_t i, const struct taddr *to, const struct ts_req *rq,
    uint16_t method, int cls, int code, const uint8_t *key, const char *what)
{
	const struct turn_cmd	*c;
	const uint8_t		*p, *v;
	char			 why[256], nonce[TS_NONCE_LEN + 1];
	size_t			 len, vlen;
	int			 got;

	why[0] = '\0';
	if (i >= te_nrecs) {
		snprintf(why, sizeof(why), "no command %zu", i);
		goto fail;
	}
	c = &te_recs[i].c;
	p = c->data;
	len = c->len;
	if (c->type != TURN_CMD_SEND) {
		snprintf(why, sizeof(why), "command is %s, not SEND",
		    te_cmd_name(c->type));
		goto fail;
	}
	if (!te_same_addr(&c->addr, to)) {
		snprintf(why, sizeof(why), "sent to the wrong address");
		goto fail;
	}
	if (ts_nattrs(p, len) < 0 || ts_get32(p + 4) != 0x2112A442u) {
		snprintf(why, sizeof(why), "malformed response (lengths or "
		    "non-zero padding)");
		goto fail;
	}
	if (ts_get16(p) != ts_mtype(method, cls)) {
		snprintf(why, sizeof(why), "message type 0x%04x, want 0x%04x",
		    ts_get16(p), ts_mtype(method, cls));
		goto fail;
	}
	if (rq != NULL && memcmp(p + 8, rq->b + 8, 12) != 0) {
		snprintf(why, sizeof(why), "transaction id differs");
		goto fail;
	}
	if ((got = ts_code(p, len)) != code) {
		snprintf(why, sizeof(why), "code %d, want %d", got, code);
		goto fail;
	}
	if (key != NULL) {
		if (ts_attr_at(p, len, 0) != A_SOFTWARE) {
			snprintf(why, sizeof(why), "SOFTWARE not first");
			goto fail;
		}
		if ((got = ts_mi(p, len, key)) != 1) {
			snprintf(why, sizeof(why), "%s", got == 0 ?
			    "not signed" : "MI wrong for the client's key");
			goto fail;
		}
	} else {
		if (ts_attr(p, len, A_MI, NULL) != NULL ||
		    ts_attr(p, len, A_SOFTWARE, NULL) != NULL) {
			snprintf(why, sizeof(why), "signed or has SOFTWARE, "
			    "want minimal unsigned");
			goto fail;
		}
	}
	if (code == 401 || code == 438) {
		v = ts_attr(p, len, A_REALM, &vlen);
		if (v == NULL || vlen != 8 || memcmp(v, "firezone", 8) != 0) {
			snprintf(why, sizeof(why), "REALM missing or wrong");
			goto fail;
		}
		te_nonce(to, te_now / TE_SEC, nonce);
		v = ts_attr(p, len, A_NONCE, &vlen);
		if (v == NULL || vlen != AUTH_NONCE_LEN ||
		    memcmp(v, nonce, AUTH_NONCE_LEN) != 0) {
			snprintf(why, sizeof(why), "NONCE missing or not the "
			    "fresh nonce %s", nonce);
			goto fail;
		}
	} else if (ts_attr(p, len, A_NONCE, NULL) != NULL) {
		snprintf(why, sizeof(why), "NONCE on a %d", code);
		goto fail;
	}
	return ok(1, "%s", what);
 fail:
	ok(0, "%s", what);
	diag("%s", why);
	te_dump_cmds();
	return 0;
}

/* exactly one command: the error response */
int
te_expect_err(const struct taddr *to, const struct ts_req *rq, uint16_t method,
    int code, const uint8_t *key, const char *what)
{
	char	buf[200];

	snprintf(buf, sizeof(buf), "%s -> %d %s", what, code,
	    key != NULL ? "signed" : "unsigned");
	if (te_nrecs != 1) {
		ok(0, "%s", buf);
		diag("want exactly one SEND, got %zu commands", te_nrecs);
		te_dump_cmds();
		return 0;
	}
	return te_check_resp(0, to, rq, method, C_ERR, code, key, buf);
}

int
te_expect_none(const char *what)
{
	if (te_nrecs == 0)
		return ok(1, "%s -> nothing", what);
	ok(0, "%s -> nothing", what);
	te_dump_cmds();
	return 0;
}

const uint8_t *
te_resp_data(size_t i, size_t *len)
{
	*len = i < te_nrecs ? te_recs[i].c.len : 0;
	return i < te_nrecs ? te_recs[i].c.data : (const uint8_t *)"";
}

uint32_t
te_resp_lifetime(size_t i)
{
	const uint8_t	*p, *v;
	size_t		 len, vlen;

	p = te_resp_data(i, &len);
	if ((v = ts_attr(p, len, A_LIFETIME, &vlen)) == NULL || vlen != 4)
		return 0xdeadbeef;
	return ts_get32(v);
}

/* an authenticated request skeleton for `from` at now */
void
te_auth_req(struct ts_req *r, const struct ts_cred *c,
    const struct taddr *from)
{
	char	nonce[TS_NONCE_LEN + 1];

	te_nonce(from, te_now / TE_SEC, nonce);
	ts_req_auth(r, c, nonce);
}

void
te_alloc_req(struct ts_req *r, const struct ts_cred *c,
    const struct taddr *from, int64_t lifetime)
{
	ts_req_init(r, M_ALLOCATE, C_REQ);
	ts_req_byte(r, A_TRANSPORT, 17);
	if (lifetime >= 0)
		ts_req_u32(r, A_LIFETIME, (uint32_t)lifetime);
	te_auth_req(r, c, from);
}

/*
 * ALLOCATE for `from` that must start a worker; returns the alloc id (0 on
 * failure). ready: also make the worker ready and expect the success.
 */
uint32_t
te_allocate(struct turn *t, const struct taddr *from,
    const struct ts_cred *c, int64_t lifetime, int ready, const char *what)
{
	struct ts_req	r;
	uint32_t	id;
	char		buf[200];

	te_alloc_req(&r, c, from, lifetime);
	te_input(t, &r, from);
	snprintf(buf, sizeof(buf), "%s: ALLOCATE -> WORKER_START", what);
	if (te_nrecs != 1 || te_recs[0].c.type != TURN_CMD_WORKER_START) {
		ok(0, "%s", buf);
		te_dump_cmds();
		return 0;
	}
	ok(1, "%s", buf);
	id = te_recs[0].c.alloc_id;
	if (!ready)
		return id;
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	snprintf(buf, sizeof(buf), "%s: worker ready -> signed success", what);
	if (te_nrecs != 1) {
		ok(0, "%s", buf);
		te_dump_cmds();
		return 0;
	}
	te_check_resp(0, from, &r, M_ALLOCATE, C_OK, 0, c->key, buf);
	return id;
}

void
te_refresh_req(struct ts_req *r, const struct ts_cred *c,
    const struct taddr *from, int64_t lifetime)
{
	ts_req_init(r, M_REFRESH, C_REQ);
	if (lifetime >= 0)
		ts_req_u32(r, A_LIFETIME, (uint32_t)lifetime);
	te_auth_req(r, c, from);
}

void
te_chanbind_req(struct ts_req *r, const struct ts_cred *c,
    const struct taddr *from, unsigned chan, const struct taddr *peer)
{
	ts_req_init(r, M_CHANBIND, C_REQ);
	ts_req_channel(r, chan);
	ts_req_xaddr(r, A_PEER, peer);
	te_auth_req(r, c, from);
}

int
te_is_stop(size_t i, uint32_t id, int reason)
{
	return i < te_nrecs && te_recs[i].c.type == TURN_CMD_WORKER_STOP &&
	    te_recs[i].c.alloc_id == id && te_recs[i].c.reason == reason;
}


/* ---- the scripted runner ---- */


static const uint8_t *
te_pool_copy(struct te_scen *sc, const void *p, size_t n)
{
	uint8_t	*d;

	if (sc->used + n > sizeof(sc->pool))
		return NULL;
	d = sc->pool + sc->used;
	memcpy(d, p, n);
	sc->used += n;
	return d;
}

static struct te_step *
te_st_add(struct te_scen *sc, const char *name, enum te_in kind, uint64_t now)
{
	struct te_step	*st = &sc->s[sc->n++];

	memset(st, 0, sizeof(*st));
	st->name = name;
	st->kind = kind;
	st->now = now;
	st->channels = st->allocs = -1;
	return st;
}

struct te_step *
te_st_client(struct te_scen *sc, const char *name, const struct taddr *from,
    const uint8_t *b, size_t n, uint64_t now)
{
	struct te_step	*st = te_st_add(sc, name, TE_IN_CLIENT, now);

	st->from = *from;
	st->in = te_pool_copy(sc, b, n);
	st->in_len = n;
	return st;
}

struct te_step *
te_st_ready(struct te_scen *sc, const char *name, uint32_t id, uint64_t now)
{
	struct te_step	*st = te_st_add(sc, name, TE_IN_READY, now);

	st->id = id;
	return st;
}

struct te_step *
te_st_wdata(struct te_scen *sc, const char *name, uint32_t id, const uint8_t *b,
    size_t n, uint64_t now)
{
	struct te_step	*st = te_st_add(sc, name, TE_IN_WDATA, now);

	st->id = id;
	st->in = te_pool_copy(sc, b, n);
	st->in_len = n;
	return st;
}

struct te_step *
te_st_tick(struct te_scen *sc, const char *name, uint64_t now)
{
	return te_st_add(sc, name, TE_IN_TICK, now);
}

static struct te_exp *
te_ex_add(struct te_step *st, enum turn_cmd_type type, uint32_t id)
{
	struct te_exp	*e = &st->exp[st->n_exp++];

	memset(e, 0, sizeof(*e));
	e->type = type;
	e->id = id;
	return e;
}

static void
te_ex_bytes(struct te_scen *sc, struct te_step *st, enum turn_cmd_type type,
    const struct taddr *to, const uint8_t *b, size_t n)
{
	struct te_exp	*e = te_ex_add(st, type, 0);

	e->addr = *to;
	e->data = te_pool_copy(sc, b, n);
	e->len = n;
}

void
te_ex_send(struct te_scen *sc, struct te_step *st, const struct taddr *to,
    const uint8_t *b, size_t n)
{
	te_ex_bytes(sc, st, TURN_CMD_SEND, to, b, n);
}

/* a worker record's frames to the client, pointing into the record */
void
te_ex_frames(struct te_scen *sc, struct te_step *st, const struct taddr *to,
    const uint8_t *b, size_t n)
{
	te_ex_bytes(sc, st, TURN_CMD_SEND_FRAMES, to, b, n);
}

void
te_ex_start(struct te_step *st, uint32_t id, uint16_t port, uint8_t fam)
{
	struct te_exp	*e = te_ex_add(st, TURN_CMD_WORKER_START, id);

	e->port = port;
	e->families = fam;
}

void
te_ex_chan_add(struct te_step *st, uint32_t id, uint16_t chan,
    const struct taddr *peer)
{
	struct te_exp	*e = te_ex_add(st, TURN_CMD_WORKER_CHAN_ADD, id);

	e->chan = chan;
	e->addr = *peer;
}

void
te_ex_chan_del(struct te_step *st, uint32_t id, uint16_t chan)
{
	te_ex_add(st, TURN_CMD_WORKER_CHAN_DEL, id)->chan = chan;
}

void
te_ex_data(struct te_scen *sc, struct te_step *st, uint32_t id, uint16_t chan,
    const uint8_t *b, size_t n)
{
	struct te_exp	*e = te_ex_add(st, TURN_CMD_WORKER_DATA, id);

	e->chan = chan;
	e->data = te_pool_copy(sc, b, n);
	e->len = n;
}

void
te_ex_stop(struct te_step *st, uint32_t id, int reason)
{
	te_ex_add(st, TURN_CMD_WORKER_STOP, id)->reason = reason;
}

void
te_ex_log(struct te_step *st, int level, const char *prefix)
{
	struct te_exp	*e = te_ex_add(st, TURN_CMD_LOG, 0);

	e->level = level;
	e->text = prefix;
	st->logs = 1;
}

/* ---- the runner ---- */

static void
te_feed(struct turn *t, const struct te_step *st, int *rc)
{
	*rc = 0;
	switch (st->kind) {
	case TE_IN_CLIENT:
		turn_client_input(t, st->in, st->in_len, &st->from, st->now,
		    TE_WALL + (int64_t)((st->now - TE_T0) / TE_SEC));
		break;
	case TE_IN_READY:
		turn_worker_ready(t, st->id, st->now);
		break;
	case TE_IN_WDATA:
		*rc = turn_worker_data(t, st->id, st->in, st->in_len, st->now);
		break;
	case TE_IN_TICK:
		turn_timeout(t, st->now);
		break;
	}
}

static int
te_in_input(const struct te_step *st, const uint8_t *p, size_t n)
{
	return st->in != NULL && p >= st->in && n <= st->in_len &&
	    (size_t)(p - st->in) <= st->in_len - n;
}

static int
te_bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* 1 if the command matches; diagnostics otherwise */
static int
te_cmd_match(const struct te_step *st, const struct turn_cmd *c,
    const struct te_exp *e)
{
	if (c->type != e->type || c->alloc_id != e->id)
		return 0;
	switch (c->type) {
	case TURN_CMD_SEND:
		return addr_eq(&c->addr, &e->addr) &&
		    te_bytes_eq(c->data, c->len, e->data, e->len);
	case TURN_CMD_SEND_FRAMES:
		/* the frames point into the worker's record */
		return addr_eq(&c->addr, &e->addr) &&
		    te_in_input(st, c->data, c->len) &&
		    te_bytes_eq(c->data, c->len, e->data, e->len);
	case TURN_CMD_WORKER_START:
		return c->port == e->port && c->families == e->families;
	case TURN_CMD_WORKER_CHAN_ADD:
		return c->chan == e->chan && addr_eq(&c->addr, &e->addr);
	case TURN_CMD_WORKER_CHAN_DEL:
		return c->chan == e->chan;
	case TURN_CMD_WORKER_DATA:
		/* the payload points into the caller's datagram */
		return c->chan == e->chan && te_in_input(st, c->data, c->len) &&
		    te_bytes_eq(c->data, c->len, e->data, e->len);
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
te_diag_cmd(const char *what, const struct turn_cmd *c)
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
te_next_cmd(struct turn *t, const struct te_step *st, struct turn_cmd *c)
{
	while (turn_next_cmd(t, c) == 1)
		if (c->type != TURN_CMD_LOG || st->logs)
			return 1;
	return 0;
}

/* pop and compare the step's commands, then "no further commands" */
static int
te_check_cmds(struct turn *t, const struct te_step *st)
{
	struct turn_cmd	 c;
	struct turn_cmd	 w;
	size_t		 i;
	int		 good = 1;

	for (i = 0; i < st->n_exp; i++) {
		if (!te_next_cmd(t, st, &c)) {
			diag("missing command %zu (type %d)", i,
			    st->exp[i].type);
			return 0;
		}
		if (!te_cmd_match(st, &c, &st->exp[i])) {
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
			te_diag_cmd("got ", &c);
			te_diag_cmd("want", &w);
			good = 0;
		}
	}
	while (te_next_cmd(t, st, &c)) {
		te_diag_cmd("unexpected", &c);
		good = 0;
	}
	return good;
}

static int
te_check_after(struct turn *t, const struct te_step *st, int rc)
{
	struct turn_stats	stats;
	uint64_t		to = turn_next_timeout(t);
	int			good = 1;

	turn_get_stats(t, &stats);
	if (st->timeout != TE_DONT_CHECK && to != st->timeout) {
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
	if (st->kind == TE_IN_WDATA && rc != 0) {
		diag("turn_worker_data returned %d", rc);
		good = 0;
	}
	return good;
}

void
te_run(const char *scenario, struct turn *t, const struct te_scen *sc)
{
	size_t	i;
	int	rc, good;

	if (t == NULL) {
		ok(0, "%s: engine created", scenario);
		return;
	}
	for (i = 0; i < sc->n; i++) {
		te_feed(t, &sc->s[i], &rc);
		good = te_check_cmds(t, &sc->s[i]);
		good &= te_check_after(t, &sc->s[i], rc);
		ok(good, "%s: %s", scenario, sc->s[i].name);
	}
	turn_free(t);
}

/* ---- engines, addresses, credentials ---- */
