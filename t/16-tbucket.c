/*
 * 16-tbucket: the token bucket behind --max-bps (common/tbucket.c):
 * unlimited at rate 0, the burst (a quarter second, at least 64 KiB),
 * refill per millisecond without rounding loss, the cap, a clock that
 * goes back, and the long-run rate over a simulated minute.
 */
#include <stdint.h>
#include <stdio.h>

#include "tap.h"
#include "tbucket.h"

int
main(void)
{
	struct tbucket	b;
	uint64_t	t, passed;
	int		i, n;

	tbucket_init(&b, 0, 1000);
	for (i = n = 0; i < 100000; i++)
		n += tbucket_take(&b, 65535, 1000);
	is_int(n, 100000, "rate 0: everything passes");

	is_int((long long)tbucket_burst(100000), 65536,
	    "burst at 100 kB/s: the 64 KiB floor");
	is_int((long long)tbucket_burst(4000000), 1000000,
	    "burst at 4 MB/s: a quarter second");

	tbucket_init(&b, 100000, 1000);
	ok(tbucket_take(&b, 65536, 1000), "a full burst at once");
	ok(!tbucket_take(&b, 1, 1000), "then not one byte more");
	ok(!tbucket_take(&b, 101, 1001), "1 ms later: 100 bytes, not 101");
	ok(tbucket_take(&b, 100, 1001), "but 100 pass");
	/* 333 B/s is 0.333 bytes per ms: fractions carry over */
	tbucket_init(&b, 333, 0);
	(void)tbucket_take(&b, 65536, 0);
	for (t = 1, passed = 0; t <= 3000; t++)
		passed += tbucket_take(&b, 1, t) ? 1 : 0;
	ok(passed == 999 || passed == 1000,
	    "333 B/s, 1-byte takes each ms for 3 s: %llu pass (999 +- 1)",
	    (unsigned long long)passed);

	tbucket_init(&b, 100000, 0);
	(void)tbucket_take(&b, 65536, 0);
	ok(!tbucket_take(&b, 65536, 600) && tbucket_take(&b, 65536, 700),
	    "refill back to the burst after 656 ms, not before");
	ok(!tbucket_take(&b, 1, 700), "and empty again");
	ok(tbucket_take(&b, 65536, 10000000) && !tbucket_take(&b, 1,
	    10000000), "a long idle fills to the burst, never more");
	ok(!tbucket_take(&b, 10, 5000), "a clock going back adds nothing");
	ok(!tbucket_take(&b, 65537, 99999999),
	    "more than the burst never passes");

	/* a minute of 1200-byte datagrams, one per ms: 6x the rate */
	tbucket_init(&b, 200000, 0);
	for (t = 0, passed = 0; t < 60000; t++)
		passed += tbucket_take(&b, 1200, t) ? 1200 : 0;
	ok(passed + 1200 >= 60 * 200000 && passed <= 60 * 200000 + 65536,
	    "60 s offered at 6x: %llu bytes pass (rate x 60 s + burst)",
	    (unsigned long long)passed);
	return done_testing();
}
