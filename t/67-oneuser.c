/*
 * 67-oneuser.c: --one-allocation-per-user against the real bin/turncell.
 * A client allocates; the same credentials then allocate from a new
 * socket (what a NAT rebinding looks like): the old worker process is
 * stopped and reaped, the old 5-tuple's REFRESH gets 437, the new
 * allocation relays on, /metrics counts one replacement and the log says
 * why. Without the flag the same two allocations both live.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "stun.h"
#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

static long
metric(const char *body, const char *name)
{
	char		 pat[128];
	const char	*p;

	snprintf(pat, sizeof(pat), "\n%s ", name);
	if ((p = strstr(body, pat)) == NULL)
		return -1;
	return strtol(p + strlen(pat), NULL, 10);
}

static void
run(int on)
{
	struct tu_relay_opts	o;
	struct tu_relay		relay;
	struct tu_client	a, b;
	pid_t			before[64], wa;
	size_t			nb;
	char			body[16384];
	const char		*tag = on ? "on" : "off";

	memset(&o, 0, sizeof(o));
	o.health = "127.0.0.1:0";
	if (on)
		o.extra[0] = "--one-allocation-per-user";
	if (!ok(tu_relay_start(&relay, &o) == 0, "%s: relay started", tag))
		return;
	tu_client_open(&a, &relay, ADDR_V4);
	nb = tu_workers(&relay, before, 64);
	is_int(tu_allocate(&a, -1, 0, 0), 0, "%s: A allocates", tag);
	wa = tu_new_worker(&relay, before, nb, 3000);
	ok(wa > 0, "%s: A's worker runs (pid %ld)", tag, (long)wa);

	/* B: the same credentials from another socket (port) */
	tu_client_open(&b, &relay, ADDR_V4);
	memcpy(b.user, a.user, sizeof(b.user));
	memcpy(b.pass, a.pass, sizeof(b.pass));
	memcpy(b.key, a.key, sizeof(b.key));
	is_int(tu_allocate(&b, -1, 0, 0), 0, "%s: the same user allocates "
	    "from another port", tag);
	if (on) {
		ok(wa > 0 && tu_wait_gone(wa, 0, 3000),
		    "on: A's worker is stopped and reaped");
		is_int(tu_refresh(&a, 600), 437, "on: A's REFRESH -> 437");
		ok(tu_log_wait(&relay, 0, "replaced by the user's new "
		    "allocation", 2000), "on: the log says why");
	} else {
		ok(wa > 0 && !tu_proc_gone(wa, 1), "off: A's worker still runs");
		is_int(tu_refresh(&a, 600), 0, "off: A's REFRESH works");
	}
	is_int(tu_refresh(&b, 600), 0, "%s: B's allocation works", tag);
	ok(tp_http_get(relay.health_port, "/metrics", body, sizeof(body)) ==
	    200, "%s: /metrics", tag);
	is_int(metric(body, "turncell_allocations_replaced_total"), on,
	    "%s: turncell_allocations_replaced_total %d", tag, on);
	is_int(metric(body, "turncell_allocations"), on ? 1 : 2,
	    "%s: turncell_allocations %d", tag, on ? 1 : 2);
	ok(tu_relay_alive(&relay), "%s: the relay is still running", tag);
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_client_close(&a);
	tu_client_close(&b);
	tu_relay_stop(&relay);
}

int
main(void)
{
	tu_init(40);
	tu_need("bin/turncell", NULL);
	run(1);
	run(0);
	return done_testing();
}
