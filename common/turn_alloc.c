/*
 * turn_alloc.c: the engine's tables.
 *
 * - client transport address -> allocation and alloc_id -> allocation:
 *   chained hashes with a fixed bucket count (power of two, sized for
 *   max_allocs), keyed with a per-process seed;
 * - port -> in use: a 65536-bit map;
 * - source and user -> number of live allocations: turn_quota.c;
 * - a binary min-heap of allocations ordered by their next wake-up
 *   (allocation expiry or a channel deadline), so turn_next_timeout() is
 *   O(1) and exact;
 * - channels: a small array per allocation (at most TURN_MAX_CHANNELS);
 *   permissions (--indications) likewise, in turn_perm.c.
 * Memory is allocated only when an allocation or a channel is created.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "turn_int.h"

#define TURN_BUCKETS_MIN	64
#define TURN_BUCKETS_MAX	65536
#define TURN_CHAN_INIT		4

int
turn_tables_init(struct turn *t)
{
	size_t	n = TURN_BUCKETS_MIN;

	while (n < t->max_allocs && n < TURN_BUCKETS_MAX)
		n *= 2;
	t->mask = (uint32_t)(n - 1);
	t->by_client = calloc(n, sizeof(*t->by_client));
	t->by_id = calloc(n, sizeof(*t->by_id));
	t->by_ip = calloc(n, sizeof(*t->by_ip));
	t->by_user = calloc(n, sizeof(*t->by_user));
	if (t->by_client == NULL || t->by_id == NULL || t->by_ip == NULL ||
	    t->by_user == NULL)
		return -1;
	return 0;
}

void
turn_tables_free(struct turn *t)
{
	while (t->heap_n > 0)
		turn_alloc_free(t, t->heap[t->heap_n - 1]);
	free(t->heap);
	free(t->by_client);
	free(t->by_id);
	turn_quota_free(t);
	t->heap = NULL;
	t->by_client = t->by_id = NULL;
}

/* ---- hashes ---- */

static struct turn_alloc **
turn_client_bucket(const struct turn *t, const struct taddr *a)
{
	return &t->by_client[addr_hash(a, t->seed) & t->mask];
}

static struct turn_alloc **
turn_id_bucket(const struct turn *t, uint32_t id)
{
	return &t->by_id[id & t->mask];
}

struct turn_alloc *
turn_alloc_find(const struct turn *t, const struct taddr *client)
{
	struct turn_alloc	*a;

	for (a = *turn_client_bucket(t, client); a != NULL; a = a->next_client)
		if (addr_eq(&a->client, client))
			return a;
	return NULL;
}

struct turn_alloc *
turn_alloc_by_id(const struct turn *t, uint32_t id)
{
	struct turn_alloc	*a;

	for (a = *turn_id_bucket(t, id); a != NULL; a = a->next_id)
		if (a->id == id)
			return a;
	return NULL;
}

static void
turn_unlink_client(struct turn *t, struct turn_alloc *a)
{
	struct turn_alloc	**pp;

	for (pp = turn_client_bucket(t, &a->client); *pp != NULL;
	    pp = &(*pp)->next_client)
		if (*pp == a) {
			*pp = a->next_client;
			return;
		}
}

static void
turn_unlink_id(struct turn *t, struct turn_alloc *a)
{
	struct turn_alloc	**pp;

	for (pp = turn_id_bucket(t, a->id); *pp != NULL; pp = &(*pp)->next_id)
		if (*pp == a) {
			*pp = a->next_id;
			return;
		}
}

/* ---- ports ---- */

static int
turn_port_used(const struct turn *t, uint32_t p)
{
	return (t->ports[p >> 3] >> (p & 7)) & 1;
}

static void
turn_port_set(struct turn *t, uint32_t p, int used)
{
	if (used)
		t->ports[p >> 3] |= (uint8_t)(1u << (p & 7));
	else
		t->ports[p >> 3] &= (uint8_t)~(1u << (p & 7));
}

/* first free port at range offset start, start + 1, ... (count tries) */
static int
turn_port_probe(const struct turn *t, uint32_t start, uint32_t count,
    int even, uint16_t *out)
{
	uint32_t	lo = t->conf.lowest_port;
	uint32_t	range = (uint32_t)t->conf.highest_port - lo + 1;
	uint32_t	i, p;

	for (i = 0; i < count; i++) {
		p = lo + (start + i) % range;
		if (even && (p & 1) != 0)
			continue;
		if (!turn_port_used(t, p)) {
			*out = (uint16_t)p;
			return 0;
		}
	}
	return -1;
}

/* draw a candidate (4 RNG bytes), probe upward; -1 when none is free */
int
turn_port_pick(struct turn *t, int even, uint16_t *out)
{
	uint32_t	range = (uint32_t)t->conf.highest_port -
			    t->conf.lowest_port + 1;
	uint8_t		rb[4];

	memset(rb, 0, sizeof(rb));
	t->rng(t->rng_arg, rb, sizeof(rb));
	return turn_port_probe(t, buf_load32(rb) % range, range, even, out);
}

/* after a bind failure: the next free port above a's, never a's own */
int
turn_port_next(struct turn *t, struct turn_alloc *a)
{
	uint32_t	range = (uint32_t)t->conf.highest_port -
			    t->conf.lowest_port + 1;
	uint32_t	off = (uint32_t)a->port - t->conf.lowest_port;
	uint16_t	p;

	if (turn_port_probe(t, off + 1, range - 1, a->even, &p) == -1)
		return -1;
	turn_port_set(t, a->port, 0);
	turn_port_set(t, p, 1);
	a->port = p;
	return 0;
}

/* ---- wake-up heap ---- */

static void
turn_heap_swap(struct turn *t, size_t i, size_t j)
{
	struct turn_alloc	*x = t->heap[i];

	t->heap[i] = t->heap[j];
	t->heap[j] = x;
	t->heap[i]->hidx = i;
	t->heap[j]->hidx = j;
}

static void
turn_heap_up(struct turn *t, size_t i)
{
	while (i > 0 && t->heap[(i - 1) / 2]->wake_ms > t->heap[i]->wake_ms) {
		turn_heap_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
turn_heap_down(struct turn *t, size_t i)
{
	size_t	l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < t->heap_n && t->heap[l]->wake_ms < t->heap[m]->wake_ms)
			m = l;
		if (r < t->heap_n && t->heap[r]->wake_ms < t->heap[m]->wake_ms)
			m = r;
		if (m == i)
			return;
		turn_heap_swap(t, i, m);
		i = m;
	}
}

int
turn_heap_insert(struct turn *t, struct turn_alloc *a)
{
	struct turn_alloc	**v;
	size_t			  cap;

	if (t->heap_n == t->heap_cap) {
		cap = t->heap_cap == 0 ? TURN_BUCKETS_MIN : t->heap_cap * 2;
		if ((v = realloc(t->heap, cap * sizeof(*v))) == NULL)
			return -1;
		t->heap = v;
		t->heap_cap = cap;
	}
	a->hidx = t->heap_n;
	t->heap[t->heap_n++] = a;
	turn_heap_up(t, a->hidx);
	return 0;
}

void
turn_heap_remove(struct turn *t, struct turn_alloc *a)
{
	size_t	i = a->hidx;

	if (i >= t->heap_n || t->heap[i] != a)
		return;
	if (i != t->heap_n - 1)
		turn_heap_swap(t, i, t->heap_n - 1);
	t->heap_n--;
	if (i < t->heap_n) {
		turn_heap_up(t, i);
		turn_heap_down(t, i);
	}
	a->hidx = SIZE_MAX;
}

struct turn_alloc *
turn_heap_top(const struct turn *t)
{
	return t->heap_n == 0 ? NULL : t->heap[0];
}

static uint64_t
turn_chan_deadline(const struct turn_chan *c)
{
	return c->bound ? c->expiry_ms :
	    c->expiry_ms + TURN_CHANNEL_COOLDOWN * TURN_MS;
}

static void
turn_alloc_wake(struct turn_alloc *a)
{
	uint64_t	w = a->expiry_ms, d;
	size_t		i;

	for (i = 0; i < a->n_chans; i++)
		if ((d = turn_chan_deadline(&a->chans[i])) < w)
			w = d;
	if ((d = turn_perm_deadline(a)) < w)
		w = d;
	a->wake_ms = w;
}

/* recompute a's wake-up time and fix its heap position */
void
turn_alloc_rewake(struct turn *t, struct turn_alloc *a)
{
	turn_alloc_wake(a);
	if (a->hidx < t->heap_n && t->heap[a->hidx] == a) {
		turn_heap_up(t, a->hidx);
		turn_heap_down(t, a->hidx);
	}
}

/* recompute every wake-up time, then restore the heap order */
void
turn_heap_rebuild(struct turn *t)
{
	size_t	i;

	for (i = 0; i < t->heap_n; i++)
		turn_alloc_wake(t->heap[i]);
	for (i = t->heap_n / 2; i > 0; i--)
		turn_heap_down(t, i - 1);
}

/* ---- allocations ---- */

static uint32_t
turn_alloc_id(struct turn *t)
{
	do {
		if (++t->next_id == 0)
			t->next_id = 1;
	} while (turn_alloc_by_id(t, t->next_id) != NULL);
	return t->next_id;
}

static struct turn_alloc *
turn_alloc_init(const struct turn_req *rq, uint8_t families, uint16_t port,
    uint32_t lifetime_s)
{
	const struct stun_msg	*m = rq->m;
	struct turn_alloc	*a;

	if ((a = calloc(1, sizeof(*a) + m->username_len)) == NULL)
		return NULL;
	a->state = TURN_ST_STARTING;
	a->client = *rq->from;
	a->port = port;
	a->families = families;
	a->even = (m->has & STUN_HAS_EVEN_PORT) != 0;
	a->fp = (m->has & STUN_HAS_FINGERPRINT) != 0;
	a->tries = 1;
	a->lifetime_s = lifetime_s;
	a->expiry_ms = rq->now_ms + lifetime_s * TURN_MS;
	a->wake_ms = a->expiry_ms;
	a->hidx = SIZE_MAX;
	memcpy(a->tid, m->tid, STUN_TID_LEN);
	memcpy(a->key, rq->key, TURN_KEY_LEN);
	memcpy(a->user, m->username, m->username_len);
	a->user_len = m->username_len;
	return a;
}

/* a STARTING allocation for an authenticated ALLOCATE, linked everywhere */
struct turn_alloc *
turn_alloc_new(struct turn *t, const struct turn_req *rq, uint8_t families,
    uint16_t port, uint32_t lifetime_s)
{
	struct turn_alloc	*a, **b;

	if ((a = turn_alloc_init(rq, families, port, lifetime_s)) == NULL)
		return NULL;
	if (turn_quota_inc(t, a) == -1)
		goto fail;
	if (turn_heap_insert(t, a) == -1)
		goto fail_ip;
	a->id = turn_alloc_id(t);
	b = turn_client_bucket(t, &a->client);
	a->next_client = *b;
	*b = a;
	b = turn_id_bucket(t, a->id);
	a->next_id = *b;
	*b = a;
	turn_port_set(t, port, 1);
	t->n_allocs++;
	return a;
fail_ip:
	turn_quota_dec(t, a);
fail:
	free(a);
	return NULL;
}

/* unlink from every table and free, channels included (no commands) */
void
turn_alloc_free(struct turn *t, struct turn_alloc *a)
{
	size_t	i;

	turn_heap_remove(t, a);
	turn_unlink_client(t, a);
	turn_unlink_id(t, a);
	turn_quota_dec(t, a);
	turn_port_set(t, a->port, 0);
	for (i = 0; i < a->n_chans; i++)
		if (a->chans[i].bound)
			t->st.channels--;
	t->n_allocs--;
	free(a->chans);
	free(a->perms);	/* no PERM_DEL: the worker goes with it */
	explicit_bzero(a->key, sizeof(a->key));
	free(a);
}

/* ---- channels ---- */

struct turn_chan *
turn_chan_by_num(struct turn_alloc *a, uint16_t num)
{
	size_t	i;

	for (i = 0; i < a->n_chans; i++)
		if (a->chans[i].num == num)
			return &a->chans[i];
	return NULL;
}

struct turn_chan *
turn_chan_by_peer(struct turn_alloc *a, const struct taddr *peer)
{
	size_t	i;

	for (i = 0; i < a->n_chans; i++)
		if (addr_eq(&a->chans[i].peer, peer))
			return &a->chans[i];
	return NULL;
}

/* a new bound channel, or NULL (out of memory or TURN_MAX_CHANNELS) */
struct turn_chan *
turn_chan_add(struct turn_alloc *a, uint16_t num, const struct taddr *peer,
    uint64_t expiry_ms)
{
	struct turn_chan	*v, *c;
	size_t			 cap;

	if (a->n_chans >= TURN_MAX_CHANNELS)
		return NULL;
	if (a->n_chans == a->cap_chans) {
		cap = a->cap_chans == 0 ? TURN_CHAN_INIT : a->cap_chans * 2;
		if (cap > TURN_MAX_CHANNELS)
			cap = TURN_MAX_CHANNELS;
		if ((v = realloc(a->chans, cap * sizeof(*v))) == NULL)
			return NULL;
		a->chans = v;
		a->cap_chans = cap;
	}
	c = &a->chans[a->n_chans++];
	memset(c, 0, sizeof(*c));
	c->num = num;
	c->peer = *peer;
	c->bound = 1;
	c->expiry_ms = expiry_ms;
	return c;
}

/* remove (swap with the last); pointers into a->chans become stale */
void
turn_chan_del(struct turn_alloc *a, struct turn_chan *c)
{
	size_t	i = (size_t)(c - a->chans);

	if (i >= a->n_chans)
		return;
	a->chans[i] = a->chans[a->n_chans - 1];
	a->n_chans--;
}
