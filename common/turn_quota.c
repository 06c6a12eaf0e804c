/*
 * turn_quota.c: who may start one more allocation (attack cases 32, 33
 * and 43).
 *
 * - live allocations per source (IPv4 address or IPv6 /64, see
 *   turn_src_key()): one node per source, freed with its last allocation;
 * - live allocations per user, keyed by the canonical username: the
 *   expiry read as a number, then the bytes after it, so "0017:s" and
 *   "17:s" (both valid: the password hashes the number) are one user;
 * - worker starts per second, per source and globally (turn_rate.c),
 *   since each start is a fork+exec: a client that allocates and deletes
 *   in a loop is held to that rate whatever its quota.
 * The chains share the allocation tables' bucket count and seed.
 */
#include <stdlib.h>
#include <string.h>

#include "turn_int.h"

#define TURN_U64_DIGITS	20

/* ---- per source ---- */

static struct turn_ipcnt **
turn_ip_slot(const struct turn *t, const struct taddr *a)
{
	struct turn_ipcnt	**pp;
	struct taddr		  ip;

	turn_src_key(a, &ip);
	for (pp = &t->by_ip[addr_hash(&ip, t->seed) & t->mask]; *pp != NULL;
	    pp = &(*pp)->next)
		if (addr_eq(&(*pp)->ip, &ip))
			break;
	return pp;
}

static unsigned
turn_ip_count(const struct turn *t, const struct taddr *a)
{
	struct turn_ipcnt	**pp = turn_ip_slot(t, a);

	return *pp == NULL ? 0 : (*pp)->n;
}

/* ---- per user ---- */

/* the canonical key: leading decimal expiry, then the rest verbatim */
static void
turn_user_key(const uint8_t *u, size_t len, uint64_t *expiry,
    const uint8_t **rest, size_t *rest_len)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < len && i < TURN_U64_DIGITS && u[i] >= '0' &&
	    u[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(u[i] - '0');
	if (i == 0 || (i < len && u[i] >= '0' && u[i] <= '9')) {
		/* not a number we can read: the bytes are the key */
		*expiry = UINT64_MAX;
		i = 0;
	} else
		*expiry = v;
	*rest = u + i;
	*rest_len = len - i;
}

static uint32_t
turn_user_hash(const struct turn *t, uint64_t expiry, const uint8_t *p,
    size_t len)
{
	uint32_t	h = 2166136261u ^ t->seed;
	size_t		i;

	for (i = 0; i < 8; i++) {
		h ^= (uint8_t)(expiry >> (8 * i));
		h *= 16777619u;
	}
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

static struct turn_usercnt **
turn_user_slot(const struct turn *t, const uint8_t *u, size_t ulen)
{
	struct turn_usercnt	**pp;
	const uint8_t		 *rest;
	size_t			  rlen;
	uint64_t		  e;

	turn_user_key(u, ulen, &e, &rest, &rlen);
	for (pp = &t->by_user[turn_user_hash(t, e, rest, rlen) & t->mask];
	    *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->expiry == e && (*pp)->len == rlen &&
		    memcmp((*pp)->rest, rest, rlen) == 0)
			break;
	return pp;
}

static unsigned
turn_user_count(const struct turn *t, const uint8_t *u, size_t ulen)
{
	struct turn_usercnt	**pp = turn_user_slot(t, u, ulen);

	return *pp == NULL ? 0 : (*pp)->n;
}

/* ---- admission ---- */

/* 0, or the error code for one more allocation by rq (nothing taken) */
int
turn_quota_admit(struct turn *t, const struct turn_req *rq)
{
	const struct turn_conf	*c = &t->conf;
	int			 r;

	if (c->max_allocs_per_ip != 0 &&
	    turn_ip_count(t, rq->from) >= c->max_allocs_per_ip) {
		t->st.denied_ip++;
		return STUN_ERR_ALLOC_QUOTA;
	}
	/* with one_per_user the user's old allocation makes way instead */
	if (c->max_allocs_per_user != 0 && !c->one_per_user &&
	    turn_user_count(t, rq->m->username, rq->m->username_len) >=
	    c->max_allocs_per_user) {
		t->st.denied_user++;
		return STUN_ERR_ALLOC_QUOTA;
	}
	if (t->n_allocs >= t->max_allocs)
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	r = turn_rate_check(t, TURN_RC_START, rq->from, rq->now_ms, 0);
	if (r == TURN_LIMIT_SOURCE) {
		t->st.denied_start_src++;
		return STUN_ERR_ALLOC_QUOTA;
	}
	if (r == TURN_LIMIT_GLOBAL) {
		t->st.denied_start_global++;
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	}
	return 0;
}

/*
 * One allocation per user: free every allocation of rq's user (by the
 * canonical username) on another 5-tuple. Only called once rq is
 * admitted, so the old allocation never goes without a new one taking
 * its place. A scan of the table, done only when the user has one.
 */
void
turn_quota_replace(struct turn *t, const struct turn_req *rq)
{
	const uint8_t	*u = rq->m->username, *ra, *rb;
	size_t		 ulen = rq->m->username_len, la, lb, i;
	uint64_t	 ea, eb;
	struct turn_alloc *a;

	turn_user_key(u, ulen, &ea, &ra, &la);
	while (turn_user_count(t, u, ulen) > 0) {
		a = NULL;
		for (i = 0; i <= t->mask && a == NULL; i++)
			for (a = t->by_id[i]; a != NULL; a = a->next_id) {
				turn_user_key(a->user, a->user_len, &eb, &rb,
				    &lb);
				if (ea == eb && la == lb &&
				    memcmp(ra, rb, la) == 0)
					break;
			}
		if (a == NULL)
			return;
		t->st.replaced++;
		turn_alloc_stop(t, a, TURN_STOP_REPLACED);
	}
}

/* count a's allocation for its source and user; -1 out of memory */
int
turn_quota_inc(struct turn *t, const struct turn_alloc *a)
{
	struct turn_ipcnt	**ip = turn_ip_slot(t, &a->client);
	struct turn_usercnt	**us = turn_user_slot(t, a->user, a->user_len);
	const uint8_t		 *rest;
	size_t			  rlen;
	uint64_t		  e;

	if (*us == NULL) {
		turn_user_key(a->user, a->user_len, &e, &rest, &rlen);
		if ((*us = calloc(1, sizeof(**us) + rlen)) == NULL)
			return -1;
		(*us)->expiry = e;
		(*us)->len = rlen;
		memcpy((*us)->rest, rest, rlen);
	}
	if (*ip == NULL) {
		if ((*ip = calloc(1, sizeof(**ip))) == NULL) {
			if ((*us)->n == 0) {
				free(*us);
				*us = NULL;
			}
			return -1;
		}
		turn_src_key(&a->client, &(*ip)->ip);
	}
	(*us)->n++;
	(*ip)->n++;
	return 0;
}

void
turn_quota_dec(struct turn *t, const struct turn_alloc *a)
{
	struct turn_ipcnt	**ip = turn_ip_slot(t, &a->client), *ic;
	struct turn_usercnt	**us = turn_user_slot(t, a->user, a->user_len);
	struct turn_usercnt	 *uc;

	if ((ic = *ip) != NULL && --ic->n == 0) {
		*ip = ic->next;
		free(ic);
	}
	if ((uc = *us) != NULL && --uc->n == 0) {
		*us = uc->next;
		free(uc);
	}
}

/* the nodes are freed with their last allocation; only the heads remain */
void
turn_quota_free(struct turn *t)
{
	free(t->by_ip);
	free(t->by_user);
	t->by_ip = NULL;
	t->by_user = NULL;
}
