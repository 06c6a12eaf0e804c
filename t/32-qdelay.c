/*
 * 32-qdelay: the age limit of a receive queue (common/qdelay.c), as
 * scripted reads -> expected decisions: on time, late within the grace,
 * late past it, an on-time datagram that does not end being behind, an
 * empty queue that does, no limit, no time stamp, a clock that goes back.
 */
#include <stdint.h>
#include <stdio.h>

#include "qdelay.h"
#include "tap.h"

#define MS	1000000ULL

struct step {
	char		 op;		/* 'r' read one, 'e' queue empty */
	uint64_t	 now, arrived;	/* ms */
	int		 drop;		/* expected */
};

static void
run(const char *what, uint64_t max_ms, uint64_t grace_ms,
    const struct step *st, size_t n)
{
	struct qdelay	q;
	size_t		i;
	int		got, bad = 0;

	qd_init(&q, max_ms * MS, grace_ms * MS);
	for (i = 0; i < n; i++) {
		if (st[i].op == 'e') {
			qd_empty(&q);
			continue;
		}
		got = qd_late(&q, st[i].now * MS, st[i].arrived * MS);
		if (got != st[i].drop) {
			diag("%s: step %zu (now %llu, arrived %llu): %d, "
			    "want %d", what, i,
			    (unsigned long long)st[i].now,
			    (unsigned long long)st[i].arrived, got,
			    st[i].drop);
			bad++;
		}
	}
	ok(bad == 0, "%s", what);
}

#define RUN(what, max, grace, tab) \
	run(what, max, grace, tab, sizeof(tab) / sizeof(tab[0]))

int
main(void)
{
	/* max 10 ms, grace 50 ms unless said */
	static const struct step grace[] = {
		{ 'r', 1000, 980, 0 },	/* behind from 1000 */
		{ 'r', 1049, 1000, 0 },	/* 49 ms behind: kept */
		{ 'r', 1050, 1000, 1 },	/* 50 ms behind, 50 ms late: drop */
		{ 'r', 1050, 1045, 0 },	/* on time: kept ... */
		{ 'r', 1051, 1030, 1 },	/* ... and still behind: drop */
		{ 'e', 0, 0, 0 },	/* empty: caught up */
		{ 'r', 1060, 1040, 0 },	/* late again: a new grace */
		{ 'r', 1109, 1090, 0 },
		{ 'r', 1110, 1090, 1 },
	};
	static const struct step edge[] = {
		{ 'r', 1000, 990, 0 },	/* exactly max: on time */
		{ 'r', 1000, 0, 0 },	/* no time stamp */
		{ 'r', 1000, 2000, 0 },	/* from the future */
	};
	static const struct step nograce[] = {
		{ 'r', 1000, 989, 1 },	/* grace 0: late is dropped */
		{ 'r', 1000, 995, 0 },
	};
	static const struct step off[] = {
		{ 'r', 100000, 1, 0 },	/* max 0: never */
		{ 'r', 200000, 1, 0 },
	};
	static const struct step back[] = {
		{ 'r', 1000, 900, 0 },	/* behind from 1000 */
		{ 'r', 500, 400, 0 },	/* the clock went back: anew */
		{ 'r', 549, 400, 0 },
		{ 'r', 550, 400, 1 },
	};

	static const struct step burst[] = {
		{ 'r', 1000, 995, 0 },	/* 5 ms: on time */
		{ 'r', 1001, 980, 0 },	/* 21 ms: behind from 1001 */
		{ 'r', 1050, 990, 0 },	/* behind 49 ms: within the grace */
		{ 'r', 1051, 990, 1 },	/* behind 50 ms: dropped */
	};

	RUN("a late datagram within the grace is kept, after it dropped",
	    10, 50, burst);
	RUN("behind until the queue is empty, not until one is on time",
	    10, 50, grace);
	RUN("exactly max, no time stamp, a time stamp from the future: kept",
	    10, 50, edge);
	RUN("grace 0: every late datagram is dropped", 10, 0, nograce);
	RUN("max 0: the limit is off", 0, 0, off);
	RUN("a clock that goes back starts a new grace", 10, 50, back);
	return done_testing();
}
