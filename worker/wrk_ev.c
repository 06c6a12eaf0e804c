/*
 * wrk_ev.c: the worker's event loop, a plain epoll loop.
 *
 * The worker waits for three things only: records on fd 3, datagrams on
 * its relay socket(s) and the MSG_STATS period. epoll_wait is called
 * without a timeout, so a wake-up arms and cancels no timer: the period
 * is a timerfd in the epoll set, armed once at start. Deadlines of the
 * allocation (lifetime, channels, permissions) are the supervisor's, which
 * tells the worker what to remove. libev cannot do this: with no timer
 * at all it still passes a timeout of about a minute to every wait.
 *
 * Everything here is created before the sandbox (epoll_create1,
 * timerfd_create); after it only epoll_ctl, epoll_wait, read and
 * clock_gettime (the --max-bps clock, normally the vDSO) are used.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wrk.h"

#define WRK_EV_MAX	8	/* events per epoll_wait: ctl, 2 relay, timer */

/* the --max-bps clock, read once per wake-up and only when a limit is set */
static void
wrk_ev_clock(struct wrk *w)
{
	struct timespec	ts;

	if (w->conf.max_bps == 0 && w->tick_fn == NULL)
		return;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		w->now_ms = (uint64_t)ts.tv_sec * 1000 +
		    (uint64_t)ts.tv_nsec / 1000000;
}

int
wrk_ev_init(struct wrk *w, unsigned period_ms)
{
	struct itimerspec	its;

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->ep == -1 || w->tfd == -1)
		return -1;
	wrk_ev_clock(w);
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = period_ms / 1000;
	its.it_value.tv_nsec = (long)(period_ms % 1000) * 1000000L;
	its.it_interval = its.it_value;
	return timerfd_settime(w->tfd, 0, &its, NULL);
}

/* watch ev->fd for events (0: stop watching it) */
int
wrk_ev_set(struct wrk *w, struct wrk_ev *ev, uint32_t events)
{
	struct epoll_event	e;
	int			op;

	if (events == ev->events)
		return 0;		/* no change, no system call */
	memset(&e, 0, sizeof(e));
	e.events = events;
	e.data.ptr = ev;
	if (events == 0)
		op = ev->events != 0 ? EPOLL_CTL_DEL : -1;
	else
		op = ev->events != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (op == -1 || epoll_ctl(w->ep, op, ev->fd, &e) == -1)
		return op == -1 ? 0 : -1;
	ev->events = events;
	return 0;
}

uint64_t
wrk_ev_now(struct wrk *w)
{
	return w->now_ms;
}

int
wrk_ev_run(struct wrk *w)
{
	struct epoll_event	 evs[WRK_EV_MAX];
	struct wrk_ev		*ev;
	int			 i, n, pass, timeout;

	wrk_ev_clock(w);
	w->running = 1;
	while (w->running) {
		/* only a test-only hostile worker has a tick */
		timeout = w->tick_fn != NULL ? (int)w->tick_ms : -1;
		n = epoll_wait(w->ep, evs, WRK_EV_MAX, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		wrk_ev_clock(w);
		/*
		 * Control first when both are ready: a CHAN_ADD sent just
		 * before the client's success response is applied before
		 * the peer's first datagrams are looked up.
		 */
		for (pass = 0; pass < 2 && w->running; pass++)
			for (i = 0; i < n && w->running; i++) {
				ev = evs[i].data.ptr;
				if ((ev == &w->ctl_ev) != (pass == 0))
					continue;
				/* stopped by an earlier callback of this
				 * round: its events are stale */
				if (ev->events == 0)
					continue;
				ev->fn(w, ev, evs[i].events);
			}
		if (w->tick_fn != NULL && w->running)
			w->tick_fn(w);
	}
	return 0;
}
