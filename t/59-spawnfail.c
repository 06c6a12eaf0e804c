/*
 * 59-spawnfail: a worker that cannot be started. WORKER_START runs inside
 * the supervisor's command drain, so the failure ("worker gone") is an
 * input raised during a drain: the command pump must hold it in its
 * deferred-input queue and feed it after the drain (supervisor/README.md,
 * "The command pump"). The client must get 508, the supervisor must live
 * on, and allocations must work again once workers can be started.
 * That happens when the supervisor forks workers itself, which it does
 * once its worker spawner is gone: the spawner is killed first (and the
 * supervisor must log that and live on). The failure is made real by
 * lowering the supervisor's RLIMIT_NOFILE to its highest open descriptor,
 * so that socketpair() fails with EMFILE.
 */
#define _GNU_SOURCE	/* prlimit */

#include <sys/resource.h>
#include <sys/types.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

static struct tu_relay	relay;

static int
top_fd(pid_t pid)
{
	static char	names[256][128];
	int		nums[256], n, i, top = -1;

	n = tu_proc_fds(pid, names, 256, nums);
	for (i = 0; i < n; i++)
		if (nums[i] > top)
			top = nums[i];
	return top;
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct tu_client	a, b;
	struct rlimit		old, tight;
	pid_t			before[64], w;
	size_t			nb;
	off_t			mark;
	int			rc, top;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	if (tu_relay_start(&relay, &o) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	ok(1, "relay started (pid %d)", (int)relay.pid);
	mark = tu_log_size(&relay);
	ok(tu_kill(tu_spawner(&relay), SIGKILL) == 0,
	    "SIGKILL the worker spawner");
	ok(tu_log_wait(&relay, mark, "The worker spawner died", 5000),
	    "the supervisor logs the spawner's death");
	tu_client_open(&a, &relay, ADDR_V4);
	tu_client_open(&b, &relay, ADDR_V4);

	top = top_fd(relay.pid);
	ok(top > 2, "the supervisor's highest descriptor is %d", top);
	ok(prlimit(relay.pid, RLIMIT_NOFILE, NULL, &old) == 0,
	    "read the supervisor's RLIMIT_NOFILE");
	tight = old;
	tight.rlim_cur = (rlim_t)top + 1;
	ok(prlimit(relay.pid, RLIMIT_NOFILE, &tight, NULL) == 0,
	    "lower it to %d: no room for a socketpair", top + 1);

	mark = tu_log_size(&relay);
	nb = tu_workers(&relay, before, 64);
	rc = tu_allocate(&a, -1, 0, 0);
	is_int(rc, 508, "ALLOCATE while no worker can be started gets 508");
	ok(tu_log_wait(&relay, mark, "Cannot create a socketpair", 1000),
	    "the supervisor logs why");
	is_int((long long)tu_workers(&relay, before, 64), (long long)nb,
	    "no worker process appeared");
	ok(tu_relay_alive(&relay), "the supervisor survives");
	ok(tu_relay_binding(&relay, ADDR_V4), "... and still answers Binding");
	is_int(tu_refresh(&a, 600), STUN_ERR_ALLOC_MISMATCH,
	    "the failed allocation is gone (REFRESH gets 437)");

	ok(prlimit(relay.pid, RLIMIT_NOFILE, &old, NULL) == 0,
	    "restore RLIMIT_NOFILE");
	nb = tu_workers(&relay, before, 64);
	is_int(tu_allocate(&b, -1, 0, 0), 0, "the next ALLOCATE succeeds");
	w = tu_new_worker(&relay, before, nb, 2000);
	ok(w > 0, "... with its worker (%d)", (int)w);
	is_int(tu_allocate(&a, -1, 0, 0), 0,
	    "the first client can allocate again");

	tu_client_close(&a);
	tu_client_close(&b);
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_relay_stop(&relay);
	return done_testing();
}
