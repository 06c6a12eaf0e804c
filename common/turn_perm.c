/*
 * turn_perm.c: the optional RFC 8656 data path (--indications, off by
 * default as in the Firezone relay; see the README's "Protocol notes").
 *
 * Permissions are per peer IP (the port is ignored, RFC 8656 §9), last
 * TURN_PERM_LIFETIME seconds, and are installed by CREATE-PERMISSION and
 * CHANNEL-BIND; at most TURN_MAX_PERMS per allocation (a small array, like
 * the channels). The worker mirrors the set through PERM_ADD (on creation
 * only; a refresh changes nothing there) and PERM_DEL (on expiry).
 *
 * Send indications from the client become WORKER_SEND (the payload points
 * into the input); datagrams the worker forwards for a permitted peer
 * without a channel become Data indications to the client. Indications
 * never get an answer: whatever does not qualify is dropped and counted.
 */
#include <stdlib.h>
#include <string.h>

#include "turn_int.h"

#define TURN_PERM_INIT		4
#define TURN_DATA_MAX		65535	/* a worker sending more is hostile */
#define TURN_XADDR_MAX		24	/* XOR-PEER-ADDRESS, IPv6, with header */

/* a canonical key for peer's IP: family and address, port 0 */
static void
turn_perm_key(const struct taddr *peer, struct taddr *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = peer->family;
	memcpy(ip->ip, peer->ip, peer->family == ADDR_V4 ? 4 : sizeof(ip->ip));
}

/* the permission for peer's IP, live or not yet reaped */
static struct turn_perm *
turn_perm_find(struct turn_alloc *a, const struct taddr *peer)
{
	struct taddr	ip;
	size_t		i;

	turn_perm_key(peer, &ip);
	for (i = 0; i < a->n_perms; i++)
		if (addr_eq(&a->perms[i].ip, &ip))
			return &a->perms[i];
	return NULL;
}

/* 1 if peer's IP has a permission that has not expired at now */
static int
turn_perm_live(struct turn_alloc *a, const struct taddr *peer,
    uint64_t now_ms)
{
	const struct turn_perm	*p = turn_perm_find(a, peer);

	return p != NULL && p->expiry_ms > now_ms;
}

uint64_t
turn_perm_deadline(const struct turn_alloc *a)
{
	uint64_t	w = UINT64_MAX;
	size_t		i;

	for (i = 0; i < a->n_perms; i++)
		if (a->perms[i].expiry_ms < w)
			w = a->perms[i].expiry_ms;
	return w;
}

static struct turn_perm *
turn_perm_add(struct turn_alloc *a, const struct taddr *peer)
{
	struct turn_perm	*v, *p;
	size_t			 cap;

	if (a->n_perms >= TURN_MAX_PERMS)
		return NULL;
	if (a->n_perms == a->cap_perms) {
		cap = a->cap_perms == 0 ? TURN_PERM_INIT : a->cap_perms * 2;
		if (cap > TURN_MAX_PERMS)
			cap = TURN_MAX_PERMS;
		if ((v = realloc(a->perms, cap * sizeof(*v))) == NULL)
			return NULL;
		a->perms = v;
		a->cap_perms = cap;
	}
	p = &a->perms[a->n_perms++];
	memset(p, 0, sizeof(*p));
	turn_perm_key(peer, &p->ip);
	return p;
}

static void
turn_perm_cmd(struct turn *t, enum turn_cmd_type type,
    const struct turn_alloc *a, const struct taddr *ip)
{
	struct turn_qent	*e;

	if ((e = turn_q_push(t, type)) == NULL)
		return;
	e->c.alloc_id = a->id;
	e->c.addr = *ip;
}

/*
 * Install or refresh the permission for peer's IP; a new one is announced
 * to the worker. Nothing happens when the table is full (the caller
 * checked the room where it matters) or memory is short.
 */
void
turn_perm_install(struct turn *t, struct turn_alloc *a,
    const struct taddr *peer, uint64_t now_ms)
{
	struct turn_perm	*p;
	char			 ab[ADDR_STRLEN], pb[ADDR_STRLEN];

	if ((p = turn_perm_find(a, peer)) == NULL) {
		if ((p = turn_perm_add(a, peer)) == NULL) {
			turn_log(t, TURN_LOG_DEBUG, "No room for a permission "
			    "id=%u", a->id);
			return;
		}
		turn_perm_cmd(t, TURN_CMD_WORKER_PERM_ADD, a, &p->ip);
		turn_log(t, TURN_LOG_INFO, "Created permission id=%u "
		    "client=%s peer=%s", a->id,
		    addr_fmt(&a->client, ab, sizeof(ab)),
		    addr_fmt_ip(&p->ip, pb, sizeof(pb)));
	}
	p->expiry_ms = now_ms + TURN_PERM_LIFETIME * TURN_MS;
	turn_alloc_rewake(t, a);
}

/* the number of permissions a request's peers would add */
static size_t
turn_perm_new(struct turn_alloc *a, const struct taddr *peers, size_t n)
{
	size_t	i, j, k = 0;

	for (i = 0; i < n; i++) {
		if (turn_perm_find(a, &peers[i]) != NULL)
			continue;
		for (j = 0; j < i; j++)
			if (addr_ip_eq(&peers[j], &peers[i]))
				break;
		if (j == i)
			k++;
	}
	return k;
}

/* CREATE-PERMISSION: every peer or none (508 when they do not fit) */
int
turn_perm_grant(struct turn_req *rq, struct turn_alloc *a)
{
	const struct stun_msg	*m = rq->m;
	size_t			 i, n;

	n = m->n_peers < STUN_MAX_PEERS ? m->n_peers : STUN_MAX_PEERS;
	if (a->n_perms + turn_perm_new(a, m->peers, n) > TURN_MAX_PERMS)
		return turn_req_fail(rq, STUN_ERR_INSUFFICIENT_CAPACITY);
	for (i = 0; i < n; i++)
		turn_perm_install(rq->t, a, &m->peers[i], rq->now_ms);
	return 0;
}

/* timer: permissions past their lifetime go, and the worker hears of it */
void
turn_due_perms(struct turn *t, struct turn_alloc *a, uint64_t now_ms)
{
	struct turn_perm	*p;
	char			 pb[ADDR_STRLEN];
	size_t			 i = 0;

	while (i < a->n_perms) {
		p = &a->perms[i];
		if (p->expiry_ms > now_ms) {
			i++;
			continue;
		}
		turn_perm_cmd(t, TURN_CMD_WORKER_PERM_DEL, a, &p->ip);
		turn_log(t, TURN_LOG_INFO, "Permission expired id=%u peer=%s",
		    a->id, addr_fmt_ip(&p->ip, pb, sizeof(pb)));
		a->perms[i] = a->perms[a->n_perms - 1];
		a->n_perms--;
	}
}

/* ---- Send indication from the client (RFC 8656 §11.2) ---- */

void
turn_send_in(struct turn *t, const struct stun_msg *m,
    const struct taddr *from, uint64_t now_ms)
{
	struct turn_alloc	*a;
	struct turn_qent	*e;

	if ((a = turn_alloc_find(t, from)) == NULL ||
	    a->state != TURN_ST_READY ||
	    (m->has & STUN_HAS_PEER) == 0 || m->n_peers == 0 ||
	    (m->has & STUN_HAS_DATA) == 0 || m->data_len == 0 ||
	    !turn_perm_live(a, &m->peers[0], now_ms) ||
	    turn_peer_code(t, a, &m->peers[0]) != 0 ||
	    (e = turn_q_push(t, TURN_CMD_WORKER_SEND)) == NULL) {
		t->st.dropped++;
		return;
	}
	e->c.alloc_id = a->id;
	e->c.addr = m->peers[0];
	e->c.data = m->data;
	e->c.len = m->data_len;
	t->st.packets_c2p++;
	t->st.bytes_c2p += m->data_len;
}

/* ---- peer data without a channel: a Data indication (RFC 8656 §11.3) ---- */

static int
turn_peer_valid(const struct taddr *p)
{
	return p != NULL && p->port != 0 &&
	    (p->family == ADDR_V4 || p->family == ADDR_V6);
}

/* queue the Data indication; 0, or -1 if it cannot be built (dropped) */
static int
turn_data_ind(struct turn *t, const struct turn_alloc *a,
    const struct taddr *peer, const uint8_t *p, size_t len)
{
	struct stun_enc		 enc;
	struct turn_qent	*e;
	uint8_t			 tid[STUN_TID_LEN], *b;
	size_t			 off, cap;
	long			 n;

	/* XOR-PEER-ADDRESS, then DATA padded to 4 */
	cap = STUN_HDR_LEN + (peer->family == ADDR_V4 ? 12 : TURN_XADDR_MAX) +
	    4 + ((len + 3) & ~(size_t)3);
	if (cap - STUN_HDR_LEN > 0xffff)
		return -1;	/* cannot be framed as one STUN message */
	memset(tid, 0, sizeof(tid));
	t->rng(t->rng_arg, tid, sizeof(tid));
	if ((b = turn_arena_reserve(t, cap, &off)) == NULL)
		return -1;
	stun_enc_init(&enc, b, cap, STUN_DATA, STUN_INDICATION, tid);
	stun_put_xaddr(&enc, STUN_A_XOR_PEER_ADDRESS, peer);
	stun_put_attr(&enc, STUN_A_DATA, p, len);
	if ((n = stun_enc_finish(&enc)) < 0)
		goto fail;
	turn_arena_trim(t, off, (size_t)n);
	if ((e = turn_q_push(t, TURN_CMD_SEND)) == NULL)
		goto fail;
	e->c.addr = a->client;
	e->c.len = (size_t)n;
	e->own = 1;
	e->off = off;
	return 0;
fail:
	turn_arena_trim(t, off, 0);
	return -1;
}

int
turn_worker_peer_data(struct turn *t, uint32_t alloc_id,
    const struct taddr *peer, const uint8_t *p, size_t len, uint64_t now_ms)
{
	struct turn_alloc	*a;

	turn_q_reset(t);
	if ((a = turn_alloc_by_id(t, alloc_id)) == NULL) {
		t->st.dropped++;	/* raced with teardown */
		return 0;
	}
	/* never asked for (no --indications), or impossible: hostile */
	if (!t->conf.indications || a->state != TURN_ST_READY ||
	    !turn_peer_valid(peer) || len > TURN_DATA_MAX ||
	    (p == NULL && len > 0)) {
		t->st.hostile_workers++;
		turn_alloc_stop(t, a, TURN_STOP_HOSTILE);
		return -1;
	}
	/* expired or unknown: the worker may not have read PERM_DEL yet */
	if (!turn_perm_live(a, peer, now_ms) ||
	    turn_data_ind(t, a, peer, p, len) == -1) {
		t->st.dropped++;
		return 0;
	}
	t->st.packets_p2c++;
	t->st.bytes_p2c += len;
	return 0;
}
