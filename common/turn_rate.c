/*
 * turn_rate.c: per-source cap on unauthenticated replies (attack case 41).
 *
 * A fixed table of TURN_RATE_SLOTS { second, count } slots indexed by a
 * seeded hash of the source IP (port ignored). A slot whose second is
 * not the current one starts over; sources that collide in one second
 * share a budget. Memory is constant whatever the number of sources, and
 * the seed (derived from the nonce key) keeps collisions unpredictable.
 */
#include "turn_int.h"

/* 1: the reply may be sent (and is counted); 0: suppress it */
int
turn_rate_allow(struct turn *t, const struct taddr *from, uint64_t now_ms)
{
	struct turn_rate	*r;
	struct taddr		 ip;
	uint64_t		 sec = now_ms / TURN_MS;

	if (t->conf.unauth_per_ip_per_s == 0)
		return 1;
	ip = *from;
	ip.port = 0;
	r = &t->rate[addr_hash(&ip, t->seed) & (TURN_RATE_SLOTS - 1)];
	if (r->sec != sec || r->count == 0) {
		r->sec = sec;
		r->count = 0;
	}
	if (r->count >= t->conf.unauth_per_ip_per_s)
		return 0;
	r->count++;
	return 1;
}
