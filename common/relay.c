/*
 * relay.c: the worker's channel table (see relay.h).
 *
 * Fixed-size tables, allocated once in relay_new(); nothing on the data
 * path allocates. Channel -> peer is a direct index over the 4096 legal
 * channel numbers; peer -> channel is an open-addressed hash with linear
 * probing and backward-shift deletion (no tombstones), sized at twice the
 * channel limit so a probe run stays short.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

#define RELAY_CHAN_MIN		0x4000
#define RELAY_CHAN_MAX		0x4FFF
#define RELAY_NCHAN		(RELAY_CHAN_MAX - RELAY_CHAN_MIN + 1)
#define RELAY_HASH_SLOTS	(2 * RELAY_MAX_CHANNELS)	/* power of 2 */
#define RELAY_HASH_SEED		0x9e3779b9u

struct relay_chan {
	uint16_t	 chan;		/* 0 = free slot */
	struct taddr	 peer;
};

struct relay {
	struct peer_filter	 filter;	/* a copy, not the caller's */
	struct relay_chan	 slot[RELAY_MAX_CHANNELS];
	uint16_t		 by_chan[RELAY_NCHAN];	/* slot + 1, 0 = none */
	uint16_t		 by_peer[RELAY_HASH_SLOTS];	/* slot + 1 */
	size_t			 count;
	uint64_t		 denied;
	struct taddr		 perm[RELAY_MAX_PERMS];	/* canonical, port 0 */
	size_t			 n_perms;
};

static int
relay_chan_ok(uint16_t chan)
{
	return chan >= RELAY_CHAN_MIN && chan <= RELAY_CHAN_MAX;
}

static int
relay_peer_ok(const struct taddr *a)
{
	return a != NULL && a->port != 0 &&
	    (a->family == ADDR_V4 || a->family == ADDR_V6);
}

/* a canonical copy for keys: padding and unused IPv4 bytes zeroed */
static void
relay_canon(struct taddr *out, const struct taddr *in)
{
	memset(out, 0, sizeof(*out));
	out->family = in->family;
	out->port = in->port;
	memcpy(out->ip, in->ip, in->family == ADDR_V4 ? 4 : sizeof(out->ip));
}

struct relay *
relay_new(const struct peer_filter *f)
{
	struct relay	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if (f != NULL)
		r->filter = *f;
	return r;
}

void
relay_free(struct relay *r)
{
	free(r);
}

static size_t
relay_home(const struct taddr *a)
{
	return addr_hash(a, RELAY_HASH_SEED) & (RELAY_HASH_SLOTS - 1);
}

/* the hash position holding peer a, or -1 */
static long
relay_find_peer(const struct relay *r, const struct taddr *a)
{
	size_t		 i, n;
	uint16_t	 s;

	i = relay_home(a);
	for (n = 0; n < RELAY_HASH_SLOTS; n++) {
		if ((s = r->by_peer[i]) == 0)
			return -1;
		if (addr_eq(&r->slot[s - 1].peer, a))
			return (long)i;
		i = (i + 1) & (RELAY_HASH_SLOTS - 1);
	}
	return -1;
}

static void
relay_hash_insert(struct relay *r, const struct taddr *a, uint16_t s)
{
	size_t	i, n;

	/* never full: at most RELAY_MAX_CHANNELS in 2x as many slots */
	i = relay_home(a);
	for (n = 0; n < RELAY_HASH_SLOTS; n++) {
		if (r->by_peer[i] == 0) {
			r->by_peer[i] = s;
			return;
		}
		i = (i + 1) & (RELAY_HASH_SLOTS - 1);
	}
}

/* remove position i and shift later members of its run back */
static void
relay_hash_remove(struct relay *r, size_t i)
{
	size_t		 j, n, home, mask = RELAY_HASH_SLOTS - 1;
	uint16_t	 s;

	r->by_peer[i] = 0;
	j = i;
	for (n = 0; n < RELAY_HASH_SLOTS; n++) {
		j = (j + 1) & mask;
		if ((s = r->by_peer[j]) == 0)
			return;
		home = relay_home(&r->slot[s - 1].peer);
		/* move j into the hole at i unless its home lies in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			r->by_peer[i] = s;
			r->by_peer[j] = 0;
			i = j;
		}
	}
}

int
relay_chan_add(struct relay *r, uint16_t chan, const struct taddr *peer)
{
	struct taddr	 p;
	uint16_t	 s;
	long		 pos;
	size_t		 i;

	if (!relay_chan_ok(chan) || !relay_peer_ok(peer)) {
		errno = EINVAL;
		return -1;
	}
	relay_canon(&p, peer);
	pos = relay_find_peer(r, &p);
	if ((s = r->by_chan[chan - RELAY_CHAN_MIN]) != 0) {
		/* a refresh of the same binding is fine, a rebind is not */
		if (pos != -1 && r->by_peer[pos] == s)
			return 0;
		errno = EEXIST;
		return -1;
	}
	if (pos != -1) {		/* peer already on another channel */
		errno = EEXIST;
		return -1;
	}
	for (i = 0; i < RELAY_MAX_CHANNELS; i++)
		if (r->slot[i].chan == 0)
			break;
	if (i == RELAY_MAX_CHANNELS) {
		errno = ENOSPC;
		return -1;
	}
	r->slot[i].chan = chan;
	r->slot[i].peer = p;
	r->by_chan[chan - RELAY_CHAN_MIN] = (uint16_t)(i + 1);
	relay_hash_insert(r, &p, (uint16_t)(i + 1));
	r->count++;
	return 0;
}

int
relay_chan_del(struct relay *r, uint16_t chan)
{
	uint16_t	 s;
	long		 pos;

	if (!relay_chan_ok(chan) ||
	    (s = r->by_chan[chan - RELAY_CHAN_MIN]) == 0) {
		errno = ENOENT;
		return -1;
	}
	pos = relay_find_peer(r, &r->slot[s - 1].peer);
	if (pos != -1)
		relay_hash_remove(r, (size_t)pos);
	r->by_chan[chan - RELAY_CHAN_MIN] = 0;
	memset(&r->slot[s - 1], 0, sizeof(r->slot[s - 1]));
	r->count--;
	return 0;
}

/*
 * The peer filter is applied again here, before every send, whatever the
 * supervisor checked when it bound the channel (attack case 11).
 */
const struct taddr *
relay_to_peer(struct relay *r, uint16_t chan)
{
	const struct taddr	*p;
	uint16_t		 s;

	if (!relay_chan_ok(chan) ||
	    (s = r->by_chan[chan - RELAY_CHAN_MIN]) == 0)
		return NULL;
	p = &r->slot[s - 1].peer;
	if (peer_check(&r->filter, p) != PEER_OK) {
		r->denied++;
		return NULL;
	}
	return p;
}

uint16_t
relay_from_peer(const struct relay *r, const struct taddr *peer)
{
	struct taddr	 p;
	long		 pos;

	if (!relay_peer_ok(peer))
		return 0;
	relay_canon(&p, peer);
	if ((pos = relay_find_peer(r, &p)) == -1)
		return 0;
	return r->slot[r->by_peer[pos] - 1].chan;
}

size_t
relay_count(const struct relay *r)
{
	return r->count;
}

uint64_t
relay_denied(const struct relay *r)
{
	return r->denied;
}

/* ---- permissions (--indications): a small set of peer IPs ---- */

static int
relay_ip_ok(const struct taddr *a)
{
	return a != NULL && (a->family == ADDR_V4 || a->family == ADDR_V6);
}

/* the index of a's IP in the set, or -1 */
static long
relay_perm_find(const struct relay *r, const struct taddr *a)
{
	struct taddr	ip;
	size_t		i;

	relay_canon(&ip, a);
	ip.port = 0;
	for (i = 0; i < r->n_perms; i++)
		if (addr_eq(&r->perm[i], &ip))
			return (long)i;
	return -1;
}

int
relay_perm_add(struct relay *r, const struct taddr *a)
{
	if (!relay_ip_ok(a)) {
		errno = EINVAL;
		return -1;
	}
	if (relay_perm_find(r, a) != -1)
		return 0;
	if (r->n_perms >= RELAY_MAX_PERMS) {
		errno = ENOSPC;
		return -1;
	}
	relay_canon(&r->perm[r->n_perms], a);
	r->perm[r->n_perms].port = 0;
	r->n_perms++;
	return 0;
}

int
relay_perm_del(struct relay *r, const struct taddr *a)
{
	long	i;

	if (!relay_ip_ok(a) || (i = relay_perm_find(r, a)) == -1) {
		errno = ENOENT;
		return -1;
	}
	r->perm[i] = r->perm[r->n_perms - 1];
	r->n_perms--;
	return 0;
}

int
relay_perm_has(const struct relay *r, const struct taddr *peer)
{
	return relay_peer_ok(peer) && relay_perm_find(r, peer) != -1;
}

int
relay_perm_send(struct relay *r, const struct taddr *peer)
{
	if (!relay_perm_has(r, peer))
		return -1;
	if (peer_check(&r->filter, peer) != PEER_OK) {
		r->denied++;
		return -1;
	}
	return 0;
}

size_t
relay_perm_count(const struct relay *r)
{
	return r->n_perms;
}
