/*
 * tbucket.h: a token bucket in bytes per second (pure: the caller gives
 * the time). The worker keeps one per direction for --max-bps.
 *
 * The burst is a quarter second at the rate, and never less than
 * TBUCKET_BURST_MIN (the largest UDP payload), so a datagram of any size
 * can pass. Tokens are kept in byte-milliseconds, so a refill after any
 * number of milliseconds loses nothing to rounding.
 */
#ifndef TBUCKET_H
#define TBUCKET_H

#include <stddef.h>
#include <stdint.h>

#define TBUCKET_BURST_MIN	65536	/* bytes */

struct tbucket {
	uint64_t	 rate;		/* bytes per second; 0 = unlimited */
	uint64_t	 burst;		/* bytes */
	uint64_t	 tokens;	/* byte-milliseconds, <= burst * 1000 */
	uint64_t	 last_ms;
};

/* rate 0 = unlimited; the bucket starts full */
void		tbucket_init(struct tbucket *, uint64_t rate, uint64_t now_ms);
uint64_t	tbucket_burst(uint64_t rate);
/* 1: n bytes may pass (taken from the bucket); 0: drop them */
int		tbucket_take(struct tbucket *, size_t n, uint64_t now_ms);

#endif
