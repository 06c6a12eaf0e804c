/*
 * turn.c: the sans-IO TURN engine (supervisor side): life cycle and the
 * demultiplexing of client datagrams.
 *
 * Bytes and time in, commands out; no clock, RNG, socket or event loop.
 * The tables live in turn_alloc.c, requests in turn_req.c, responses in
 * turn_resp.c, worker events and the timer in turn_worker.c, the FIFO in
 * turn_q.c, RFC 3489 Binding in turn_classic.c, the budgets in turn_rate.c
 * and the quotas in turn_quota.c.
 */
#include <stdlib.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "turn_int.h"

#define TURN_SEED_TAG	"turncell hash seed"

static int
turn_conf_ok(const struct turn_conf *c)
{
	if (c->lowest_port == 0 || c->lowest_port > c->highest_port)
		return 0;
	if (c->public4.family == 0 && c->public6.family == 0)
		return 0;
	if (c->secret == NULL && c->secret_len != 0)
		return 0;
	if (c->software != NULL && strlen(c->software) > STUN_MAX_SOFTWARE)
		return 0;
	/* Firezone credentials alone always use realm "firezone" */
	if (c->realm != NULL && (*c->realm == '\0' ||
	    strlen(c->realm) > AUTH_REALM_MAX ||
	    (c->auth_schemes == AUTH_SCHEME_FIREZONE &&
	    strcmp(c->realm, AUTH_REALM) != 0)))
		return 0;
	return 1;
}

/* hash seed from the nonce key (never the key itself) */
static uint32_t
turn_seed(const uint8_t key[AUTH_NONCE_KEY_LEN])
{
	struct hmac_sha256_ctx	ctx;
	uint8_t			d[SHA256_DIGEST_SIZE];
	uint32_t		s;

	hmac_sha256_set_key(&ctx, AUTH_NONCE_KEY_LEN, key);
	hmac_sha256_update(&ctx, sizeof(TURN_SEED_TAG) - 1,
	    (const uint8_t *)TURN_SEED_TAG);
	hmac_sha256_digest(&ctx, sizeof(d), d);
	s = buf_load32(d);
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(d, sizeof(d));
	return s;
}

/*
 * Pointers only: the secrets stay in the caller's storage (the
 * supervisor's vault), so that no second copy of them exists in this
 * process. The caller keeps them alive and unchanged until the next call
 * or turn_free().
 */
int
turn_set_secrets(struct turn *t, const char *const *secrets,
    const size_t *lens, size_t n)
{
	size_t	 i;

	if (n == 0 || n > TURN_SECRETS_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (secrets[i] == NULL && lens[i] != 0)
			return -1;
	for (i = 0; i < n; i++) {
		t->secrets[i] = secrets[i] != NULL ? secrets[i] : "";
		t->secret_lens[i] = lens[i];
	}
	for (; i < TURN_SECRETS_MAX; i++) {
		t->secrets[i] = NULL;
		t->secret_lens[i] = 0;
	}
	t->n_secrets = n;
	t->conf.secret = t->secrets[0];
	t->conf.secret_len = t->secret_lens[0];
	return 0;
}

/* private copies of the strings the configuration points to, except the
 * secret (a reference, see turn_set_secrets) */
static int
turn_conf_copy(struct turn *t, const struct turn_conf *c)
{
	t->conf = *c;
	if (turn_set_secrets(t, &c->secret, &c->secret_len, 1) == -1)
		return -1;
	if (c->software != NULL) {
		if ((t->software = strdup(c->software)) == NULL)
			return -1;
		t->software_len = strlen(t->software);
	}
	t->conf.software = t->software;
	/* fits: checked by turn_conf_ok */
	strcpy(t->realm, c->realm != NULL ? c->realm : AUTH_REALM);
	t->conf.realm = t->realm;
	if (t->conf.auth_schemes == 0)
		t->conf.auth_schemes = AUTH_SCHEME_FIREZONE;
	return 0;
}

struct turn *
turn_new(const struct turn_conf *conf, turn_rng_fn *rng, void *rng_arg)
{
	struct turn	*t;
	unsigned	 range;

	if (conf == NULL || rng == NULL || !turn_conf_ok(conf))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (turn_conf_copy(t, conf) == -1)
		goto fail;
	t->rng = rng;
	t->rng_arg = rng_arg;
	if (conf->nonce_key != NULL)
		memcpy(t->nkey, conf->nonce_key, sizeof(t->nkey));
	else
		rng(rng_arg, t->nkey, sizeof(t->nkey));
	t->conf.nonce_key = NULL;	/* the caller's copy is not kept */
	t->seed = turn_seed(t->nkey);
	range = (unsigned)conf->highest_port - conf->lowest_port + 1;
	t->max_allocs = conf->max_allocs == 0 || conf->max_allocs > range ?
	    range : conf->max_allocs;
	if (turn_tables_init(t) == -1)
		goto fail;
	return t;
fail:
	turn_free(t);
	return NULL;
}

void
turn_free(struct turn *t)
{
	if (t == NULL)
		return;
	turn_tables_free(t);
	turn_q_free(t);
	free(t->software);
	explicit_bzero(t->nkey, sizeof(t->nkey));
	free(t);
}

void
turn_set_response_hook(struct turn *t, turn_response_fn *fn, void *arg)
{
	t->hook = fn;
	t->hook_arg = arg;
}

void
turn_set_filter(struct turn *t, const struct peer_filter *f)
{
	t->conf.filter = *f;
}

/* ChannelData from a client: forward on a bound channel, else drop */
static void
turn_cdata_in(struct turn *t, const uint8_t *p, size_t len,
    const struct taddr *from)
{
	struct turn_alloc	*a;
	struct turn_chan	*c;
	struct turn_qent	*e;
	const uint8_t		*payload;
	size_t			 plen;
	uint16_t		 num;

	if (cdata_decode(p, len, &num, &payload, &plen) == -1 ||
	    (a = turn_alloc_find(t, from)) == NULL ||
	    a->state != TURN_ST_READY ||
	    (c = turn_chan_by_num(a, num)) == NULL || !c->bound ||
	    (e = turn_q_push(t, TURN_CMD_WORKER_DATA)) == NULL) {
		t->st.dropped++;
		return;
	}
	e->c.alloc_id = a->id;
	e->c.chan = num;
	e->c.addr = c->peer;
	e->c.data = payload;
	e->c.len = plen;
	t->st.packets_c2p++;
	t->st.bytes_c2p += plen;
}

/* a STUN message: only requests are ever answered */
static void
turn_stun_in(struct turn *t, const uint8_t *p, size_t len,
    const struct taddr *from, uint64_t now_ms, int64_t wall_s)
{
	struct stun_msg	m;
	struct turn_req	rq;
	int		rc, code = 0;

	memset(&m, 0, sizeof(m));
	rc = stun_decode(p, len, &m, &code);
	if (rc == STUN_OK && m.cls == STUN_INDICATION &&
	    m.method == STUN_SEND && t->conf.indications) {
		turn_send_in(t, &m, from, now_ms);
		return;
	}
	if (rc == STUN_DROP || m.cls != STUN_REQUEST) {
		t->st.dropped++;
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.t = t;
	rq.m = &m;
	rq.from = from;
	rq.now_ms = now_ms;
	rq.wall_s = wall_s;
	rq.len = len;
	if (rc == STUN_REPLY) {
		if (code != STUN_ERR_UNKNOWN_ATTRIBUTE)
			code = STUN_ERR_BAD_REQUEST;
		rq.unknown = m.unknown;
		rq.n_unknown = m.n_unknown < STUN_MAX_UNKNOWN ?
		    m.n_unknown : STUN_MAX_UNKNOWN;
		turn_req_fail(&rq, code);
	} else
		turn_req_dispatch(&rq);
	explicit_bzero(rq.keys, sizeof(rq.keys));
}

void
turn_client_input(struct turn *t, const uint8_t *p, size_t len,
    const struct taddr *from, uint64_t now_ms, int64_t wall_s)
{
	turn_q_reset(t);
	if (p == NULL || len == 0 || from == NULL || from->port == 0 ||
	    (from->family != ADDR_V4 && from->family != ADDR_V6)) {
		t->st.dropped++;
		return;
	}
	if (p[0] >= 0x40 && p[0] <= 0x7f)
		turn_cdata_in(t, p, len, from);
	else if (p[0] <= 0x03) {
		if (!turn_classic_in(t, p, len, from, now_ms))
			turn_stun_in(t, p, len, from, now_ms, wall_s);
	}
	else
		t->st.dropped++;
}

void
turn_get_stats(const struct turn *t, struct turn_stats *st)
{
	*st = t->st;
	st->allocations = t->n_allocs;
}

size_t
turn_alloc_count(const struct turn *t)
{
	return t->n_allocs;
}

int
turn_alloc_addrs(const struct turn *t, uint32_t alloc_id,
    struct taddr *client, uint16_t *port)
{
	const struct turn_alloc	*a;

	if ((a = turn_alloc_by_id(t, alloc_id)) == NULL)
		return -1;
	*client = a->client;
	*port = a->port;
	return 0;
}
