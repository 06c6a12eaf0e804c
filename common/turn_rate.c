/*
 * turn_rate.c: token buckets for everything a stranger can make the
 * relay do (attack cases 40, 41 and 43).
 *
 * A source is an IPv4 address or an IPv6 /64 (one site: a host owns its
 * whole /64, so keying IPv6 per /128 gives one budget per address an
 * attacker can pick). Per-source buckets live in fixed tables of
 * TURN_RATE_SLOTS slots indexed by a seeded hash of the source: memory is
 * constant whatever the number of sources, sources that collide share a
 * budget, and the seed (derived from the nonce key) keeps collisions
 * unpredictable. Every class also has one global bucket.
 *
 * Classes (enum turn_rc):
 *   BINDING  Binding responses: their own, larger budget, so 401-bait from
 *            a neighbour behind the same NAT does not starve Bindings;
 *   UNAUTH   every other reply to a request that has not shown a valid
 *            nonce (401, 438, 400, 420): checked before any key is derived;
 *   PROVEN   failures of requests that carried a valid nonce: the nonce
 *            proves the exact transport address (it is bound to it), so
 *            this budget is keyed per address and nobody else's flood can
 *            drain it; it is also checked before keys are derived;
 *   START    worker starts (fork+exec), per source and global.
 * A bucket holds at most one second of its rate (burst = rate).
 */
#include <string.h>

#include "turn_int.h"

#define TURN_TB_MILLI	1000ULL		/* bucket units per token */

/* the source a budget is kept for: IPv4 address or IPv6 /64, no port */
void
turn_src_key(const struct taddr *a, struct taddr *key)
{
	*key = *a;
	key->port = 0;
	if (a->family == ADDR_V6)
		memset(key->ip + 8, 0, 8);
}

/* refill b for now_ms at rate tokens/s (burst = rate); 1 if one is left */
static int
turn_tb_refill(struct turn_tb *b, unsigned rate, uint64_t now_ms)
{
	uint64_t	cap = (uint64_t)rate * TURN_TB_MILLI;
	uint64_t	dt;

	if (b->last_ms == 0)		/* never used: full */
		b->milli = cap;
	dt = now_ms > b->last_ms ? now_ms - b->last_ms : 0;
	if (dt > TURN_MS * 1000)	/* long idle: full anyway */
		dt = TURN_MS * 1000;
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	b->milli += dt * rate;		/* rate tokens/s = rate milli/ms */
	if (b->milli > cap)
		b->milli = cap;
	return b->milli >= TURN_TB_MILLI;
}

static void
turn_tb_take(struct turn_tb *b)
{
	if (b->milli >= TURN_TB_MILLI)
		b->milli -= TURN_TB_MILLI;
}

struct turn_rc_def {
	unsigned	 src_rate;	/* per source (or address) per s */
	unsigned	 glob_rate;	/* global per s; 0 = none */
	struct turn_tb	*table;
	struct turn_tb	*glob;
	int		 exact;		/* key on the transport address */
};

static void
turn_rc_def(struct turn *t, enum turn_rc rc, struct turn_rc_def *d)
{
	const struct turn_conf	*c = &t->conf;

	memset(d, 0, sizeof(*d));
	switch (rc) {
	case TURN_RC_BINDING:
		d->src_rate = c->binding_per_ip_per_s;
		d->glob_rate = c->binding_global_per_s;
		break;
	case TURN_RC_UNAUTH:
		d->src_rate = c->unauth_per_ip_per_s;
		d->glob_rate = c->unauth_global_per_s;
		break;
	case TURN_RC_PROVEN:
		d->src_rate = c->unauth_per_ip_per_s;
		d->exact = 1;
		break;
	case TURN_RC_START:
		d->src_rate = c->starts_per_ip_per_s;
		d->glob_rate = c->starts_global_per_s;
		break;
	default:
		break;
	}
	d->table = t->rate[rc];
	d->glob = &t->rate_glob[rc];
}

/*
 * 0: allowed (and counted when take is set); TURN_LIMIT_SOURCE or
 * TURN_LIMIT_GLOBAL: that budget is spent. A rate of 0 is no limit.
 */
int
turn_rate_check(struct turn *t, enum turn_rc rc, const struct taddr *from,
    uint64_t now_ms, int take)
{
	struct turn_rc_def	 d;
	struct turn_tb		*b = NULL;
	struct taddr		 key;

	turn_rc_def(t, rc, &d);
	if (d.src_rate != 0) {
		if (d.exact)
			key = *from;
		else
			turn_src_key(from, &key);
		b = &d.table[addr_hash(&key, t->seed) & (TURN_RATE_SLOTS - 1)];
		if (!turn_tb_refill(b, d.src_rate, now_ms))
			return TURN_LIMIT_SOURCE;
	}
	if (d.glob_rate != 0 && !turn_tb_refill(d.glob, d.glob_rate, now_ms))
		return TURN_LIMIT_GLOBAL;
	if (take) {
		if (b != NULL)
			turn_tb_take(b);
		if (d.glob_rate != 0)
			turn_tb_take(d.glob);
	}
	return 0;
}
