/*
 * tbucket.c: the token bucket of tbucket.h. Nothing here does I/O or
 * reads a clock.
 */
#include "tbucket.h"

uint64_t
tbucket_burst(uint64_t rate)
{
	return rate / 4 > TBUCKET_BURST_MIN ? rate / 4 : TBUCKET_BURST_MIN;
}

void
tbucket_init(struct tbucket *b, uint64_t rate, uint64_t now_ms)
{
	b->rate = rate;
	b->burst = tbucket_burst(rate);
	b->tokens = b->burst * 1000;
	b->last_ms = now_ms;
}

int
tbucket_take(struct tbucket *b, size_t n, uint64_t now_ms)
{
	uint64_t	cap, el;

	if (b->rate == 0)
		return 1;
	cap = b->burst * 1000;
	/* a clock that goes back adds nothing */
	if (now_ms > b->last_ms) {
		el = now_ms - b->last_ms;
		/* full after (cap - tokens) / rate ms; no overflow past it */
		if (el > (cap - b->tokens) / b->rate)
			b->tokens = cap;
		else
			b->tokens += el * b->rate;
		b->last_ms = now_ms;
	}
	if (n > b->burst || b->tokens < (uint64_t)n * 1000)
		return 0;
	b->tokens -= (uint64_t)n * 1000;
	return 1;
}
