/*
 * turn_req.c: answering STUN requests (RFC 8489, RFC 8656 §7-§12).
 *
 * One function per method, one per validation step. Every check that
 * fails calls turn_req_fail() with a named error code, which applies the
 * unauthenticated-reply cap, logs and queues the error response (signed
 * when rq->key is set). Order per method: pre-authentication 400/420,
 * authentication (401/438), then the method's own checks.
 */
#include <string.h>

#include "turn_int.h"

#define TURN_PROTO_UDP		17
#define nitems(a)		(sizeof(a) / sizeof((a)[0]))

/*
 * 1: the reply to a request that did not pass authentication is over its
 * budget and suppressed (counted); the budget is charged once per request.
 */
static int
turn_req_capped(struct turn_req *rq, enum turn_rc rc)
{
	struct turn	*t = rq->t;

	if (rq->authed || rq->charged)
		return 0;
	if (turn_rate_check(t, rc, rq->from, rq->now_ms, 1) == 0) {
		rq->charged = 1;
		return 0;
	}
	if (rc == TURN_RC_BINDING)
		t->st.capped_binding++;
	else if (rc == TURN_RC_PROVEN)
		t->st.capped_proven++;
	else
		t->st.capped_unauth++;
	t->st.dropped++;
	return 1;
}

/* queue the error response for code; always returns -1 */
int
turn_req_fail(struct turn_req *rq, int code)
{
	struct turn		*t = rq->t;
	struct turn_rctx	 x;
	char			 ab[ADDR_STRLEN];
	int			 level;

	if (turn_req_capped(rq, rq->proven ? TURN_RC_PROVEN : TURN_RC_UNAUTH))
		return -1;
	/* strangers never reach the log above debug: a flood of them
	 * would become a flood of log lines */
	level = rq->authed && code != STUN_ERR_UNAUTHORIZED &&
	    code != STUN_ERR_STALE_NONCE ? TURN_LOG_WARN : TURN_LOG_DEBUG;
	turn_log(t, level, "Request failed method=%s code=%d reason=\"%s\" "
	    "client=%s",
	    stun_method_name(rq->m->method), code, stun_reason(code),
	    addr_fmt(rq->from, ab, sizeof(ab)));
	turn_rctx_req(rq, &x);
	turn_resp_error(t, &x, code, rq->now_ms, rq->unknown, rq->n_unknown);
	return -1;
}

/* ---- authentication (RFC 8489 §9.2.4; 438 before 401 before 437) ---- */

/*
 * Candidate keys for the USERNAME; the result of the first whose form it
 * has. Firezone credentials use realm "firezone" (what the portal and its
 * clients use); REST credentials use the configured realm, which is the
 * one announced in 401/438. With both schemes and a realm other than
 * "firezone", Firezone credentials are also tried under the announced
 * realm, for clients that key with whatever realm the relay announces.
 */
static int
turn_auth_keys(struct turn_req *rq)
{
	struct turn		*t = rq->t;
	const struct stun_msg	*m = rq->m;
	struct {
		int		 scheme;
		const char	*realm;
	}			 cand[TURN_KEY_CANDS];
	int			 r, first = AUTH_BAD_USERNAME;
	size_t			 i, j, n = 0;

	if (t->conf.auth_schemes & AUTH_SCHEME_FIREZONE) {
		cand[n].scheme = AUTH_SCHEME_FIREZONE;
		cand[n++].realm = AUTH_REALM;
		if (strcmp(t->realm, AUTH_REALM) != 0) {
			cand[n].scheme = AUTH_SCHEME_FIREZONE;
			cand[n++].realm = t->realm;
		}
	}
	if (t->conf.auth_schemes & AUTH_SCHEME_REST) {
		cand[n].scheme = AUTH_SCHEME_REST;
		cand[n++].realm = t->realm;
	}
	rq->n_keys = 0;
	/* every secret (at most TURN_SECRETS_MAX), the minting one first */
	for (j = 0; j < t->n_secrets; j++)
		for (i = 0; i < n; i++) {
			r = auth_user_key_realm(cand[i].scheme, cand[i].realm,
			    t->secrets[j], t->secret_lens[j], m->username,
			    m->username_len, rq->wall_s,
			    t->conf.max_user_ttl_s, rq->keys[rq->n_keys]);
			if (r == AUTH_BAD_USERNAME)
				continue;
			if (rq->n_keys++ == 0)
				first = r;
		}
	if (rq->n_keys > 0)
		rq->key = rq->keys[0];
	return first;
}

/* the key the request's MESSAGE-INTEGRITY verifies with: 1 (rq->key
 * set to it) or 0 */
static int
turn_auth_match(struct turn_req *rq)
{
	size_t	i;

	for (i = 0; i < rq->n_keys; i++)
		if (stun_check_mi(rq->m, rq->keys[i])) {
			rq->key = rq->keys[i];
			return 1;
		}
	return 0;
}

static int
turn_auth_mi(struct turn_req *rq)
{
	if (!turn_auth_match(rq))
		return turn_req_fail(rq, STUN_ERR_UNAUTHORIZED);
	rq->authed = 1;
	return 0;
}

/*
 * 0 when authenticated; -1 after an error response (438 before 401) or
 * a suppressed one. Keys are derived (SHA-256, MD5) only within a budget:
 * for a request without a valid nonce after its reply budget is charged
 * (the key signs the 438/401), for one with a valid nonce after its
 * address's failure budget is checked. The nonce check itself is one
 * HMAC over 31 bytes and is what tells the two apart: a client with a
 * valid nonce is never held to the budget a spoofed flood spends.
 */
static int
turn_auth(struct turn_req *rq)
{
	struct turn		*t = rq->t;
	const struct stun_msg	*m = rq->m;
	int			 r;

	/* no MI or no USERNAME: a minimal, unsigned 401 */
	if ((m->has & STUN_HAS_MI) == 0 || (m->has & STUN_HAS_USERNAME) == 0)
		return turn_req_fail(rq, STUN_ERR_UNAUTHORIZED);
	if ((m->has & STUN_HAS_NONCE) == 0 || auth_nonce_check(t->nkey,
	    rq->from, rq->now_ms / TURN_MS, m->nonce, m->nonce_len) != 0) {
		if (turn_req_capped(rq, TURN_RC_UNAUTH))
			return -1;
		/* signed if the USERNAME has a valid form, with the key
		 * of the secret that verifies the request if one does */
		(void)turn_auth_keys(rq);
		(void)turn_auth_match(rq);
		return turn_req_fail(rq, (m->has & STUN_HAS_NONCE) ?
		    STUN_ERR_STALE_NONCE : STUN_ERR_UNAUTHORIZED);
	}
	rq->proven = 1;
	if (turn_rate_check(t, TURN_RC_PROVEN, rq->from, rq->now_ms, 0) != 0) {
		t->st.capped_proven++;
		t->st.dropped++;
		return -1;
	}
	r = turn_auth_keys(rq);
	if (r != AUTH_OK)	/* bad form: unsigned; expired: signed */
		return turn_req_fail(rq, STUN_ERR_UNAUTHORIZED);
	return turn_auth_mi(rq);
}

/* ---- shared checks ---- */

/*
 * RFC 8656 §7.2 and §8: the requested lifetime clamped to the maximum and
 * never below the default; only a REFRESH may ask for 0 (delete). An
 * ALLOCATE with LIFETIME 0 gets the default: honouring it would let one
 * replayed request start and stop a worker per packet.
 */
static uint32_t
turn_req_lifetime(const struct turn_req *rq)
{
	const struct turn	*t = rq->t;
	uint32_t		 l = TURN_DEFAULT_LIFETIME;
	uint64_t		 left;

	if (rq->m->has & STUN_HAS_LIFETIME) {
		l = rq->m->lifetime;
		if (l == 0 && rq->m->method == STUN_REFRESH)
			return 0;
	}
	if (l > TURN_MAX_LIFETIME)
		l = TURN_MAX_LIFETIME;
	if (l < TURN_DEFAULT_LIFETIME)
		l = TURN_DEFAULT_LIFETIME;
	if (t->draining && t->drain_deadline != 0) {
		left = t->drain_deadline > rq->now_ms ?
		    (t->drain_deadline - rq->now_ms) / TURN_MS : 0;
		if (l > left)
			l = (uint32_t)left;
	}
	return l;
}

static int
turn_same_user(const struct turn_alloc *a, const struct stun_msg *m)
{
	return a->user_len == m->username_len &&
	    memcmp(a->user, m->username, a->user_len) == 0;
}

/* the requester's allocation, or NULL after 437/441 */
static struct turn_alloc *
turn_req_alloc(struct turn_req *rq, int need_ready)
{
	struct turn_alloc	*a;

	a = turn_alloc_find(rq->t, rq->from);
	if (a == NULL || (need_ready && a->state != TURN_ST_READY)) {
		turn_req_fail(rq, STUN_ERR_ALLOC_MISMATCH);
		return NULL;
	}
	if (!turn_same_user(a, rq->m)) {
		turn_req_fail(rq, STUN_ERR_WRONG_CREDENTIALS);
		return NULL;
	}
	return a;
}

/* 0 if the allocation may talk to peer, else 443 or 403 */
int
turn_peer_code(const struct turn *t, const struct turn_alloc *a,
    const struct taddr *peer)
{
	uint8_t	fam = peer->family == ADDR_V6 ? ADDR_FAM_V6 : ADDR_FAM_V4;

	if ((a->families & fam) == 0)
		return STUN_ERR_PEER_AF_MISMATCH;
	if (peer_check(&t->conf.filter, peer) != PEER_OK)
		return STUN_ERR_FORBIDDEN;
	return 0;
}

/* ---- BINDING ---- */

static void
turn_req_binding(struct turn_req *rq)
{
	struct turn_rctx	x;

	if (turn_req_capped(rq, TURN_RC_BINDING))
		return;
	turn_rctx_req(rq, &x);
	x.key = NULL;
	turn_resp_binding(rq->t, &x);
}

/* ---- ALLOCATE (RFC 8656 §7.2) ---- */

static int
turn_alloc_precheck(struct turn_req *rq, uint16_t unk[2])
{
	const struct stun_msg	*m = rq->m;
	size_t			 n = 0;

	if ((m->has & STUN_HAS_TRANSPORT) == 0)
		return STUN_ERR_BAD_REQUEST;
	if (m->has & STUN_HAS_DONT_FRAGMENT)
		unk[n++] = STUN_A_DONT_FRAGMENT;
	if (m->has & STUN_HAS_RES_TOKEN)
		unk[n++] = STUN_A_RESERVATION_TOKEN;
	if (n == 0)
		return 0;
	rq->unknown = unk;
	rq->n_unknown = n;
	return STUN_ERR_UNKNOWN_ATTRIBUTE;
}

/* the client already has an allocation: retransmission or 437 */
static void
turn_alloc_again(struct turn_req *rq, struct turn_alloc *a)
{
	if (memcmp(a->tid, rq->m->tid, STUN_TID_LEN) != 0 ||
	    !turn_same_user(a, rq->m)) {
		turn_req_fail(rq, STUN_ERR_ALLOC_MISMATCH);
		return;
	}
	/* STARTING: the answer follows with turn_worker_ready() */
	if (a->state == TURN_ST_READY)
		turn_resp_alloc_ok(rq->t, a);
}

static int
turn_alloc_admit(const struct turn_req *rq)
{
	struct turn	*t = rq->t;
	int		 code;

	if (t->draining)
		return t->conf.alternate.family != 0 ?
		    STUN_ERR_TRY_ALTERNATE : STUN_ERR_INSUFFICIENT_CAPACITY;
	if ((code = turn_quota_admit(t, rq)) != 0)
		return code;
	if (rq->m->transport != TURN_PROTO_UDP)
		return STUN_ERR_UNSUPPORTED_TRANSPORT;
	return 0;
}

/*
 * The address families to relay (RFC 8656 §7.2): IPv4 by default;
 * REQUESTED-ADDRESS-FAMILY picks one (440 if the relay has no public
 * address of it); ADDITIONAL-ADDRESS-FAMILY (IPv6 only, else 400) gets
 * every family the relay has; both attributes together are a 400.
 */
static int
turn_alloc_families(const struct turn *t, const struct stun_msg *m,
    uint8_t *fam)
{
	int	has4 = t->conf.public4.family != 0;
	int	has6 = t->conf.public6.family != 0;
	int	want = STUN_AF_IPV4;

	if ((m->has & STUN_HAS_REQ_FAMILY) && (m->has & STUN_HAS_ADD_FAMILY))
		return STUN_ERR_BAD_REQUEST;
	if (m->has & STUN_HAS_ADD_FAMILY) {
		if (m->add_family != STUN_AF_IPV6)
			return STUN_ERR_BAD_REQUEST;
		*fam = (has4 ? ADDR_FAM_V4 : 0) | (has6 ? ADDR_FAM_V6 : 0);
		return 0;
	}
	if (m->has & STUN_HAS_REQ_FAMILY)
		want = m->req_family;
	if (want == STUN_AF_IPV4 && has4)
		*fam = ADDR_FAM_V4;
	else if (want == STUN_AF_IPV6 && has6)
		*fam = ADDR_FAM_V6;
	else
		return STUN_ERR_AF_NOT_SUPPORTED;
	return 0;
}

static void
turn_alloc_start(struct turn_req *rq, uint8_t fam)
{
	struct turn		*t = rq->t;
	struct turn_alloc	*a;
	struct turn_qent	*e;
	uint16_t		 port;

	if (turn_port_pick(t, (rq->m->has & STUN_HAS_EVEN_PORT) != 0,
	    &port) == -1)
		goto fail;
	a = turn_alloc_new(t, rq, fam, port, turn_req_lifetime(rq));
	if (a == NULL)
		goto fail;
	if ((e = turn_q_push(t, TURN_CMD_WORKER_START)) == NULL) {
		turn_alloc_free(t, a);
		goto fail;
	}
	e->c.alloc_id = a->id;
	e->c.port = a->port;
	e->c.families = a->families;
	(void)turn_rate_check(t, TURN_RC_START, rq->from, rq->now_ms, 1);
	return;
fail:
	turn_req_fail(rq, STUN_ERR_INSUFFICIENT_CAPACITY);
}

static void
turn_req_allocate(struct turn_req *rq)
{
	struct turn_alloc	*a;
	uint16_t		 unk[2];
	uint8_t			 fam = 0;
	int			 code;

	if ((code = turn_alloc_precheck(rq, unk)) != 0) {
		turn_req_fail(rq, code);
		return;
	}
	if (turn_auth(rq) == -1)
		return;
	if ((a = turn_alloc_find(rq->t, rq->from)) != NULL) {
		turn_alloc_again(rq, a);
		return;
	}
	if ((code = turn_alloc_admit(rq)) != 0 ||
	    (code = turn_alloc_families(rq->t, rq->m, &fam)) != 0) {
		turn_req_fail(rq, code);
		return;
	}
	if (rq->t->conf.one_per_user)
		turn_quota_replace(rq->t, rq);
	turn_alloc_start(rq, fam);
}

/* ---- REFRESH (RFC 8656 §8.2) ---- */

static void
turn_req_refresh(struct turn_req *rq)
{
	struct turn		*t = rq->t;
	struct turn_alloc	*a;
	struct turn_rctx	 x;
	uint32_t		 l;

	if (turn_auth(rq) == -1)
		return;
	if ((a = turn_req_alloc(rq, 0)) == NULL)
		return;
	l = turn_req_lifetime(rq);
	if (l == 0)
		turn_alloc_stop(t, a, TURN_STOP_DELETED);
	else {
		a->expiry_ms = rq->now_ms + l * TURN_MS;
		turn_alloc_rewake(t, a);
	}
	turn_rctx_req(rq, &x);
	turn_resp_lifetime(t, &x, l);
}

/* ---- CHANNEL-BIND (RFC 8656 §12.2) ---- */

/* 400 if num or peer is already taken by another binding */
static int
turn_chan_conflict(struct turn_alloc *a, uint16_t num,
    const struct taddr *peer)
{
	struct turn_chan	*c;

	if ((c = turn_chan_by_peer(a, peer)) != NULL && c->num != num)
		return STUN_ERR_BAD_REQUEST;
	if ((c = turn_chan_by_num(a, num)) != NULL && !addr_eq(&c->peer, peer))
		return STUN_ERR_BAD_REQUEST;
	return 0;
}

static int
turn_chan_cmd(struct turn *t, enum turn_cmd_type type,
    const struct turn_alloc *a, const struct turn_chan *c)
{
	struct turn_qent	*e;

	if ((e = turn_q_push(t, type)) == NULL)
		return -1;
	e->c.alloc_id = a->id;
	e->c.chan = c->num;
	if (type == TURN_CMD_WORKER_CHAN_ADD)
		e->c.addr = c->peer;
	return 0;
}

static void
turn_chan_log(struct turn *t, const char *what, const struct turn_alloc *a,
    const struct turn_chan *c)
{
	char	ab[ADDR_STRLEN], pb[ADDR_STRLEN];

	turn_log(t, TURN_LOG_INFO, "%s id=%u client=%s channel=0x%04x peer=%s",
	    what, a->id, addr_fmt(&a->client, ab, sizeof(ab)), c->num,
	    addr_fmt(&c->peer, pb, sizeof(pb)));
}

/* same channel, same peer: extend; a cooling-down one is bound again */
static void
turn_chan_refresh(struct turn_req *rq, struct turn_alloc *a,
    struct turn_chan *c)
{
	struct turn	*t = rq->t;

	c->expiry_ms = rq->now_ms + TURN_CHANNEL_LIFETIME * TURN_MS;
	if (!c->bound) {
		c->bound = 1;
		t->st.channels++;
		(void)turn_chan_cmd(t, TURN_CMD_WORKER_CHAN_ADD, a, c);
	}
	turn_alloc_rewake(t, a);
	turn_chan_log(t, "Refreshed channel binding", a, c);
}

static int
turn_chan_create(struct turn_req *rq, struct turn_alloc *a)
{
	struct turn		*t = rq->t;
	struct turn_chan	*c;

	c = turn_chan_add(a, rq->m->channel, &rq->m->peers[0],
	    rq->now_ms + TURN_CHANNEL_LIFETIME * TURN_MS);
	if (c == NULL)
		return turn_req_fail(rq, STUN_ERR_INSUFFICIENT_CAPACITY);
	if (turn_chan_cmd(t, TURN_CMD_WORKER_CHAN_ADD, a, c) == -1) {
		turn_chan_del(a, c);
		return turn_req_fail(rq, STUN_ERR_INSUFFICIENT_CAPACITY);
	}
	t->st.channels++;
	turn_alloc_rewake(t, a);
	turn_chan_log(t, "Successfully bound channel", a, c);
	return 0;
}

static void
turn_req_chanbind(struct turn_req *rq)
{
	const struct stun_msg	*m = rq->m;
	struct turn_alloc	*a;
	struct turn_chan	*c;
	struct turn_rctx	 x;
	int			 code;

	if ((m->has & STUN_HAS_CHANNEL) == 0 || (m->has & STUN_HAS_PEER) == 0 ||
	    m->n_peers == 0) {
		turn_req_fail(rq, STUN_ERR_BAD_REQUEST);
		return;
	}
	if (turn_auth(rq) == -1 || (a = turn_req_alloc(rq, 1)) == NULL)
		return;
	if ((code = turn_peer_code(rq->t, a, &m->peers[0])) != 0 ||
	    (code = turn_chan_conflict(a, m->channel, &m->peers[0])) != 0) {
		turn_req_fail(rq, code);
		return;
	}
	if ((c = turn_chan_by_num(a, m->channel)) != NULL)
		turn_chan_refresh(rq, a, c);
	else if (turn_chan_create(rq, a) == -1)
		return;
	/* RFC 8656 §12: a binding installs or refreshes a permission too
	 * (best effort: the channel does not depend on it) */
	if (rq->t->conf.indications)
		turn_perm_install(rq->t, a, &m->peers[0], rq->now_ms);
	turn_rctx_req(rq, &x);
	turn_resp_empty(rq->t, &x);
}

/* ---- CREATE-PERMISSION (RFC 8656 §10.2) ---- */

static void
turn_req_permission(struct turn_req *rq)
{
	const struct stun_msg	*m = rq->m;
	struct turn_alloc	*a;
	struct turn_rctx	 x;
	size_t			 i;
	int			 code;

	if ((m->has & STUN_HAS_PEER) == 0 || m->n_peers == 0) {
		turn_req_fail(rq, STUN_ERR_BAD_REQUEST);
		return;
	}
	if (turn_auth(rq) == -1 || (a = turn_req_alloc(rq, 1)) == NULL)
		return;
	for (i = 0; i < m->n_peers && i < STUN_MAX_PEERS; i++)
		if ((code = turn_peer_code(rq->t, a, &m->peers[i])) != 0) {
			turn_req_fail(rq, code);
			return;
		}
	/* without --indications: a no-op, as in the Firezone relay */
	if (rq->t->conf.indications && turn_perm_grant(rq, a) == -1)
		return;
	turn_rctx_req(rq, &x);
	turn_resp_empty(rq->t, &x);
}

void
turn_req_dispatch(struct turn_req *rq)
{
	switch (rq->m->method) {
	case STUN_BINDING:
		turn_req_binding(rq);
		break;
	case STUN_ALLOCATE:
		turn_req_allocate(rq);
		break;
	case STUN_REFRESH:
		turn_req_refresh(rq);
		break;
	case STUN_CHANNEL_BIND:
		turn_req_chanbind(rq);
		break;
	case STUN_CREATE_PERMISSION:
		turn_req_permission(rq);
		break;
	default:
		turn_req_fail(rq, STUN_ERR_BAD_REQUEST);
		break;
	}
}
