/*
 * 72-signals.c: SIGHUP (a secret reload, t/80), SIGUSR1 and SIGUSR2 never
 * end the relay, and a drain has a deadline by default (README.md,
 * "Draining").
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

static void
t_ignored(void)
{
	static const struct {
		int		 sig;
		const char	*name;
	} sigs[] = {
		{ SIGHUP, "SIGHUP" }, { SIGUSR1, "SIGUSR1" },
		{ SIGUSR2, "SIGUSR2" },
	};
	struct tu_relay		r;
	struct tu_client	c;
	char			what[64];
	size_t			i;

	if (tu_relay_client(&r, &c) == -1)
		return;
	is_int(tu_allocate(&c, -1, 0, 0), 0, "an allocation");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		kill(r.pid, sigs[i].sig);
		if (sigs[i].sig == SIGHUP)
			snprintf(what, sizeof(what), "\"Reloaded the secrets\"");
		else
			snprintf(what, sizeof(what), "\"signal\":\"%s\"",
			    sigs[i].name);
		ok(tu_log_wait(&r, 0, what, 2000), "%s is logged",
		    sigs[i].name);
		ok(tu_relay_alive(&r) && tu_relay_binding(&r, ADDR_V4),
		    "%s: the relay still runs and answers", sigs[i].name);
	}
	is_int(tu_refresh(&c, 600), 0, "the allocation survived them");
	is_int(tu_log_count(&r, 0, "draining"), 0, "and no drain started");
	tu_client_close(&c);
	tu_relay_stop(&r);
}

/* REFRESH LIFETIME 3600 while draining: the lifetime granted */
static long
drain_lifetime(const char *timeout)
{
	struct tu_relay		r;
	struct tu_relay_opts	o;
	struct tu_client	c;
	long			l = -1;

	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	if (timeout != NULL) {
		o.extra[0] = "--drain-timeout";
		o.extra[1] = timeout;
	}
	if (tu_relay_start(&r, &o) == -1 ||
	    tu_client_open(&c, &r, ADDR_V4) == -1)
		return -1;
	if (tu_allocate(&c, -1, 0, 0) == 0) {
		off_t	off = tu_log_size(&r);

		kill(r.pid, SIGTERM);
		tu_log_wait(&r, off, "draining", 3000);
		/* not a wait for something: the clamp counts whole seconds,
		 * so one must pass for "what is left" to be below 3600 */
		tu_sleep_ms(1100);
		if (tu_refresh(&c, 3600) == 0 && c.has_lifetime)
			l = (long)c.lifetime;
	}
	tu_client_close(&c);
	tu_relay_stop(&r);
	return l;
}

int
main(void)
{
	long	l;

	tu_init(40);
	tu_need("bin/turncell", NULL);
	t_ignored();
	l = drain_lifetime(NULL);
	ok(l > 3500 && l < 3600, "draining with the default deadline: "
	    "REFRESH 3600 is clamped to what is left of 3600 s (%ld)", l);
	l = drain_lifetime("0");
	is_int(l, 3600, "--drain-timeout 0: no deadline, REFRESH 3600 -> 3600");
	return done_testing();
}
