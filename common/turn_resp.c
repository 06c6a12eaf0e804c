/*
 * turn_resp.c: every response the engine sends, built only through the
 * stun_enc_*() writers into arena storage owned by the engine.
 *
 * Signed (the context has a key): SOFTWARE, <attributes>,
 * MESSAGE-INTEGRITY [, FINGERPRINT]. Unsigned: <attributes>
 * [, FINGERPRINT] - minimal, to keep the reflection gain low: unsigned
 * errors carry no reason phrase, and a reply to a request that did not
 * pass authentication is dropped if it would be more than TURN_MAX_GAIN
 * times the request (attack case 40), plus what a long --realm adds.
 * 401 and 438 carry REALM then NONCE (a fresh nonce for the recipient).
 */
#include <string.h>

#include "buf.h"
#include "turn_int.h"

#define TURN_ALT_MAX	20	/* ALTERNATE-SERVER value, IPv6 */
#define TURN_MAX_GAIN	3	/* reply/request bytes before authentication */

struct turn_resp {
	struct stun_enc	 e;
	size_t		 off;		/* arena offset */
};

/*
 * A --realm longer than "firezone" makes every 401 and 438 longer by the
 * difference (padded): allowed on top of the gain, or a small first
 * request (a browser's ALLOCATE) would never get its 401. At most 120
 * bytes, the operator's choice, the same for every client.
 */
static size_t
turn_realm_extra(const struct turn *t)
{
	size_t	have = (strlen(t->realm) + 3) & ~(size_t)3;
	size_t	base = (sizeof(AUTH_REALM) - 1 + 3) & ~(size_t)3;

	return have > base ? have - base : 0;
}

void
turn_rctx_req(const struct turn_req *rq, struct turn_rctx *x)
{
	x->tid = rq->m->tid;
	x->to = rq->from;
	x->key = rq->key;
	x->fp = (rq->m->has & STUN_HAS_FINGERPRINT) != 0;
	x->method = rq->m->method;
	x->max_len = rq->authed ? 0 : TURN_MAX_GAIN * rq->len +
	    turn_realm_extra(rq->t);
}

void
turn_rctx_alloc(const struct turn_alloc *a, struct turn_rctx *x)
{
	x->tid = a->tid;
	x->to = &a->client;
	x->key = a->key;
	x->fp = a->fp;
	x->method = STUN_ALLOCATE;
	x->max_len = 0;
}

static int
turn_resp_begin(struct turn *t, const struct turn_rctx *x, int cls,
    struct turn_resp *r)
{
	uint8_t	*p;

	if ((p = turn_arena_reserve(t, STUN_MAX_MSG, &r->off)) == NULL)
		return -1;
	stun_enc_init(&r->e, p, STUN_MAX_MSG, x->method, (uint8_t)cls, x->tid);
	if (x->key != NULL && t->software != NULL)
		stun_put_attr(&r->e, STUN_A_SOFTWARE, t->software,
		    t->software_len);
	return 0;
}

/* sign, finish and queue the SEND; the hook hears about it */
static void
turn_resp_send(struct turn *t, const struct turn_rctx *x, int cls, int code,
    struct turn_resp *r)
{
	struct turn_qent	*e;
	long			 n;

	if (x->key != NULL)
		stun_put_mi(&r->e, x->key);
	if (x->fp)
		stun_put_fingerprint(&r->e);
	if ((n = stun_enc_finish(&r->e)) < 0)
		goto fail;
	if (x->max_len != 0 && (size_t)n > x->max_len) {
		t->st.capped_unauth++;
		goto fail;
	}
	turn_arena_trim(t, r->off, (size_t)n);
	if ((e = turn_q_push(t, TURN_CMD_SEND)) == NULL)
		goto fail;
	e->c.addr = *x->to;
	e->c.len = (size_t)n;
	e->own = 1;
	e->off = r->off;
	if (t->hook != NULL)
		t->hook(t->hook_arg, x->method, cls, code);
	return;
fail:
	turn_arena_trim(t, r->off, 0);
	t->st.dropped++;
}

/* ALTERNATE-SERVER: MAPPED-ADDRESS format (0, family, port, ip) */
static void
turn_put_alternate(struct turn_resp *r, const struct taddr *a)
{
	uint8_t		v[TURN_ALT_MAX];
	struct buf_w	w;
	size_t		iplen = a->family == ADDR_V6 ? 16 : 4;

	buf_w_init(&w, v, sizeof(v));
	buf_put_u8(&w, 0);
	buf_put_u8(&w, a->family == ADDR_V6 ? STUN_AF_IPV6 : STUN_AF_IPV4);
	buf_put_u16(&w, a->port);
	buf_put_bytes(&w, a->ip, iplen);
	if (w.err == 0)
		stun_put_attr(&r->e, STUN_A_ALTERNATE_SERVER, v, w.len);
}

/* ERROR-CODE with an empty reason phrase (RFC 8489 §14.8): 8 bytes */
static void
turn_put_error_bare(struct turn_resp *r, int code)
{
	uint8_t	v[4] = { 0, 0, (uint8_t)(code / 100), (uint8_t)(code % 100) };

	stun_put_attr(&r->e, STUN_A_ERROR_CODE, v, sizeof(v));
}

static void
turn_put_realm_nonce(struct turn *t, struct turn_resp *r,
    const struct taddr *to, uint64_t now_ms)
{
	char	nonce[AUTH_NONCE_LEN + 1];

	auth_nonce_mint(t->nkey, to, now_ms / TURN_MS, nonce);
	stun_put_attr(&r->e, STUN_A_REALM, t->realm, strlen(t->realm));
	stun_put_attr(&r->e, STUN_A_NONCE, nonce, AUTH_NONCE_LEN);
}

void
turn_resp_error(struct turn *t, const struct turn_rctx *x, int code,
    uint64_t now_ms, const uint16_t *unknown, size_t n_unknown)
{
	struct turn_resp	r;

	if (turn_resp_begin(t, x, STUN_ERROR, &r) == -1) {
		t->st.dropped++;
		return;
	}
	if (x->key != NULL)
		stun_put_error(&r.e, code);
	else
		turn_put_error_bare(&r, code);
	switch (code) {
	case STUN_ERR_UNAUTHORIZED:
	case STUN_ERR_STALE_NONCE:
		turn_put_realm_nonce(t, &r, x->to, now_ms);
		break;
	case STUN_ERR_UNKNOWN_ATTRIBUTE:
		stun_put_unknown(&r.e, unknown, n_unknown);
		break;
	case STUN_ERR_TRY_ALTERNATE:
		turn_put_alternate(&r, &t->conf.alternate);
		break;
	}
	turn_resp_send(t, x, STUN_ERROR, code, &r);
}

/* BINDING success: XOR-MAPPED-ADDRESS only, never signed */
void
turn_resp_binding(struct turn *t, const struct turn_rctx *x)
{
	struct turn_resp	r;

	if (turn_resp_begin(t, x, STUN_SUCCESS, &r) == -1) {
		t->st.dropped++;
		return;
	}
	stun_put_xaddr(&r.e, STUN_A_XOR_MAPPED_ADDRESS, x->to);
	turn_resp_send(t, x, STUN_SUCCESS, 0, &r);
}

static void
turn_relayed_addr(const struct turn *t, const struct turn_alloc *a,
    uint8_t fam, struct taddr *out)
{
	*out = fam == ADDR_FAM_V6 ? t->conf.public6 : t->conf.public4;
	out->port = a->port;
}

/* ALLOCATE success from what the allocation stored */
void
turn_resp_alloc_ok(struct turn *t, const struct turn_alloc *a)
{
	struct turn_rctx	x;
	struct turn_resp	r;
	struct taddr		relay;

	turn_rctx_alloc(a, &x);
	if (turn_resp_begin(t, &x, STUN_SUCCESS, &r) == -1) {
		t->st.dropped++;
		return;
	}
	if (a->families & ADDR_FAM_V4) {
		turn_relayed_addr(t, a, ADDR_FAM_V4, &relay);
		stun_put_xaddr(&r.e, STUN_A_XOR_RELAYED_ADDRESS, &relay);
	}
	if (a->families & ADDR_FAM_V6) {
		turn_relayed_addr(t, a, ADDR_FAM_V6, &relay);
		stun_put_xaddr(&r.e, STUN_A_XOR_RELAYED_ADDRESS, &relay);
	}
	stun_put_xaddr(&r.e, STUN_A_XOR_MAPPED_ADDRESS, &a->client);
	stun_put_u32(&r.e, STUN_A_LIFETIME, a->lifetime_s);
	turn_resp_send(t, &x, STUN_SUCCESS, 0, &r);
}

/* REFRESH success */
void
turn_resp_lifetime(struct turn *t, const struct turn_rctx *x,
    uint32_t lifetime_s)
{
	struct turn_resp	r;

	if (turn_resp_begin(t, x, STUN_SUCCESS, &r) == -1) {
		t->st.dropped++;
		return;
	}
	stun_put_u32(&r.e, STUN_A_LIFETIME, lifetime_s);
	turn_resp_send(t, x, STUN_SUCCESS, 0, &r);
}

/* CHANNEL-BIND and CREATE-PERMISSION success */
void
turn_resp_empty(struct turn *t, const struct turn_rctx *x)
{
	struct turn_resp	r;

	if (turn_resp_begin(t, x, STUN_SUCCESS, &r) == -1) {
		t->st.dropped++;
		return;
	}
	turn_resp_send(t, x, STUN_SUCCESS, 0, &r);
}
