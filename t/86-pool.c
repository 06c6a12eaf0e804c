/*
 * 86-pool.c: the worker spawner and its pool of idle workers
 * (supervisor/README.md, "Processes and privileges"; --worker-pool).
 *
 * With --worker-pool 4 the pool fills to 4 idle workers (processes and
 * /metrics agree); an ALLOCATE takes one of them (its pid was there
 * before the request, /metrics counts a take and no miss) and the pool
 * refills; idle workers killed are dropped and replaced, never handed out
 * (no allocation crashes); the spawner holds neither the secret nor a
 * descriptor of the supervisor's; a spawner out of descriptors fails an
 * ALLOCATE with 508 and a log line; a killed spawner takes its workers
 * with it, the supervisor logs it, lives on and forks workers itself;
 * allocations churned through the pool leak no process or descriptor;
 * SIGTERM with idle workers, idle or draining, leaves no process behind.
 * Every wait is on a condition with a deadline.
 */
#define _GNU_SOURCE	/* prlimit */

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define POOL		4
#define WAIT_MS		10000

static struct tu_relay	relay;

static long long
metric(const char *name)
{
	return tp_metric(relay.health_port, name);
}

struct mwait {
	const char	*name;
	long long	 want;
};

static int
metric_is(void *arg)
{
	struct mwait	*m = arg;

	return metric(m->name) == m->want;
}

/* wait until the metric has the value; the last value read */
static long long
metric_wait(const char *name, long long want)
{
	struct mwait	m = { name, want };

	tu_wait_for(metric_is, &m, WAIT_MS);
	return metric(name);
}

/* the UDP port worker pid has bound, 0 if none */
static uint16_t
worker_port(pid_t pid)
{
	static char	t[64][128];
	unsigned long	ino;
	uint16_t	port;
	int		n, i, ut;

	n = tu_proc_fds(pid, t, 64, NULL);
	for (i = 0; i < n; i++) {
		port = 0;
		if (sscanf(t[i], "socket:[%lu]", &ino) == 1 &&
		    tu_sock_kind(ino, &port, &ut) == 'u')
			return port;
	}
	return 0;
}

/* a channel to a peer on 127.0.0.1, one datagram there and back */
static int
relays(struct tu_client *c)
{
	struct taddr	 peer, from;
	uint8_t		 buf[64];
	uint16_t	 chan = 0;
	long		 n;
	int		 pfd, good = 0;

	if ((pfd = tu_udp_bind(ADDR_V4, 0)) == -1)
		return 0;
	if (tu_sock_addr(pfd, &peer) == 0 && tu_chanbind(c, 0x4000, &peer) == 0 &&
	    tu_cdata_send(c, 0x4000, "there", 5) == 0 &&
	    tu_recvfrom(pfd, buf, sizeof(buf), WAIT_MS, &from) == 5 &&
	    memcmp(buf, "there", 5) == 0 &&
	    tu_sendto(pfd, &from, "back", 4) == 0 &&
	    (n = tu_cdata_recv(c, &chan, buf, sizeof(buf), WAIT_MS)) == 4 &&
	    chan == 0x4000 && memcmp(buf, "back", 4) == 0)
		good = 1;
	close(pfd);
	return good;
}

static int
in(pid_t p, const pid_t *set, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (set[i] == p)
			return 1;
	return 0;
}

/* no start budget and no 401 budget: a churn from one address must not
 * be held to --max-starts-per-ip or --unauth-rate */
static int
start_worker(struct tu_relay_opts *o, const char *pool, const char *rate,
    const char *worker)
{
	memset(o, 0, sizeof(*o));
	o->worker_path = worker;
	o->allow[0] = "127.0.0.0/8";
	o->health = "127.0.0.1:0";
	o->pool = pool;
	o->extra[0] = "--max-starts-per-ip";
	o->extra[1] = "0";
	o->extra[2] = "--max-starts";
	o->extra[3] = "0";
	o->extra[4] = "--unauth-rate";	/* each client's first 401 */
	o->extra[5] = "0";
	if (rate != NULL) {
		o->extra[6] = "--worker-pool-rate";
		o->extra[7] = rate;
	}
	return tu_relay_start(&relay, o);
}

static int
start(struct tu_relay_opts *o, const char *pool, const char *rate)
{
	return start_worker(o, pool, rate, NULL);
}

/* the pool fills; an ALLOCATE takes an idle worker; the pool refills */
static void
t_take(struct tu_client *a, pid_t *before, size_t *nb)
{
	pid_t		w = -1;
	size_t		na, i;
	uint16_t	port;

	is_int(metric_wait("turncell_worker_pool_idle", POOL), POOL,
	    "the pool fills to %d idle workers", POOL);
	*nb = tu_wait_workers(&relay, POOL, WAIT_MS);
	is_int((long long)*nb, POOL, "%d worker processes exist", POOL);
	tu_workers(&relay, before, 64);
	is_int(metric("turncell_spawner_up"), 1, "the spawner is up");
	is_int(metric("turncell_worker_pool_size"), POOL, "pool size %d",
	    POOL);

	is_int(tu_allocate(a, -1, 0, 0), 0, "ALLOCATE succeeds");
	port = a->n_relayed > 0 ? a->relayed[0].port : 0;
	for (i = 0; i < *nb; i++)
		if (worker_port(before[i]) == port && port != 0)
			w = before[i];
	ok(w > 0, "its worker (bound to %u) was idle before the request (%d)",
	    port, (int)w);
	is_int(metric("turncell_worker_pool_taken_total"), 1,
	    "/metrics: one worker taken from the pool");
	is_int(metric("turncell_worker_pool_misses_total"), 0,
	    "/metrics: no miss");
	is_int(metric_wait("turncell_worker_pool_idle", POOL), POOL,
	    "the pool refills to %d", POOL);
	na = tu_wait_workers(&relay, POOL + 1, WAIT_MS);
	is_int((long long)na, POOL + 1, "%d idle workers and the taken one",
	    POOL);
	*nb = tu_workers(&relay, before, 64);
}

/* idle workers killed are replaced and never handed out */
static void
t_killed_idle(pid_t *pids, size_t n, struct tu_client *b)
{
	pid_t	killed[64], now[64];
	size_t	nk = 0, i, nn;
	int	gone = 1;

	/* every worker with no relay port is idle */
	for (i = 0; i < n; i++)
		if (worker_port(pids[i]) == 0 &&
		    tu_kill(pids[i], SIGKILL) == 0)
			killed[nk++] = pids[i];
	is_int((long long)nk, POOL, "SIGKILL the %d idle workers", POOL);
	for (i = 0; i < nk; i++)
		gone &= tu_wait_gone(killed[i], 1, WAIT_MS);
	ok(gone, "they are dead");
	/* at once: their exits may not have reached the supervisor yet */
	is_int(tu_allocate(b, -1, 0, 0), 0,
	    "an ALLOCATE right after succeeds (a dead idle worker is never "
	    "handed out)");
	is_int(metric_wait("turncell_worker_pool_lost_total", POOL), POOL,
	    "/metrics: the %d killed idle workers are counted lost", POOL);
	is_int(metric("turncell_workers_crashed_total"), 0,
	    "no allocation got a dead worker (no crash)");
	is_int(metric_wait("turncell_worker_pool_idle", POOL), POOL,
	    "the pool is refilled to %d", POOL);
	nn = tu_wait_workers(&relay, POOL + 2, WAIT_MS);
	is_int((long long)nn, POOL + 2, "two allocations' workers and %d idle",
	    POOL);
	tu_workers(&relay, now, 64);
	for (i = 0; i < nk; i++)
		if (in(killed[i], now, nn))
			gone = 0;
	ok(gone, "none of the killed workers is among them");
}

/* the spawner holds no secret and none of the supervisor's sockets */
static void
t_spawner_memory(void)
{
	pid_t	sp = tu_spawner(&relay);
	char	t[64][128];
	int	n, i, sock = 0;

	ok(sp > 0, "the spawner runs (%d)", (int)sp);
	is_int(tu_mem_search(relay.pid, relay.secret, strlen(relay.secret)), 1,
	    "control: the secret is in the supervisor's memory once");
	is_int(tu_mem_search(sp, relay.secret, strlen(relay.secret)), 0,
	    "the secret is not in the spawner's memory");
	n = tu_proc_fds(sp, t, 64, NULL);
	for (i = 0; i < n; i++)
		if (strncmp(t[i], "socket:", 7) == 0)
			sock++;
	ok(n > 0 && sock == 1, "the spawner has one socket, its control "
	    "socket (%d fds, %d sockets)", n, sock);
}

/* the spawner dies: its workers with it; the supervisor forks workers */
static void
t_spawner_dies(struct tu_client *a, struct tu_client *c)
{
	pid_t	sp = tu_spawner(&relay), w;
	pid_t	before[64], old[64];
	size_t	nb, nold, i;
	off_t	mark = tu_log_size(&relay);
	struct tu_proc	p;
	int	gone = 1;

	nold = tu_workers(&relay, old, 64);
	ok(nold == POOL + 2, "%zu workers: two allocations' and %d idle", nold,
	    POOL);
	ok(tu_kill(sp, SIGKILL) == 0, "SIGKILL the spawner");
	ok(tu_log_wait(&relay, mark, "The worker spawner died", WAIT_MS),
	    "the supervisor logs it");
	is_int(metric_wait("turncell_spawner_up", 0), 0,
	    "/metrics: spawner down");
	ok(tu_relay_alive(&relay), "the supervisor survives");
	for (i = 0; i < nold; i++)
		gone &= tu_wait_gone(old[i], 1, WAIT_MS);
	ok(gone, "every one of them died with it");
	is_int((long long)tu_wait_workers(&relay, 0, WAIT_MS), 0,
	    "no worker left below the supervisor");
	is_int(metric("turncell_workers_crashed_total"), 2,
	    "/metrics: the two allocations count as crashed");
	is_int(metric("turncell_worker_pool_idle"), 0, "/metrics: pool empty");
	ok(tu_refresh(a, 600) == STUN_ERR_ALLOC_MISMATCH,
	    "the allocation of a dead worker is gone (437)");
	nb = tu_workers(&relay, before, 64);
	is_int(tu_allocate(c, -1, 0, 0), 0, "a new ALLOCATE succeeds");
	w = tu_new_worker(&relay, before, nb, WAIT_MS);
	ok(w > 0 && tu_proc_read(w, &p) == 0 && p.ppid == relay.pid,
	    "its worker is the supervisor's own child (%d)", (int)w);
	is_int(metric("turncell_workers_direct_total"), 1,
	    "/metrics: one worker forked by the supervisor");
	is_int(tu_refresh(c, 0), 0, "REFRESH 0 frees it");
	is_int((long long)tu_wait_children(relay.pid, 0, NULL, WAIT_MS), 0,
	    "its worker is reaped by the supervisor");
}

/* with the spawner's descriptor lost on the way: 508, logged (no pool:
 * the allocation waits for a worker started for it) */
static void
t_no_fds(void)
{
	struct tu_relay_opts	o;
	struct tu_client	dc, *d = &dc;
	struct rlimit		old, tight;
	off_t			mark;
	int			n, top = -1, i, nums[256];
	static char		names[256][128];

	if (start(&o, "0", NULL) == -1) {
		ok(0, "no fds: relay started");
		return;
	}
	tu_client_open(d, &relay, ADDR_V4);
	n = tu_proc_fds(relay.pid, names, 256, nums);
	for (i = 0; i < n; i++)
		if (nums[i] > top)
			top = nums[i];
	/*
	 * RLIMIT_NOFILE bounds descriptor numbers, and a new one takes the
	 * lowest free number: a limit of n (the count open) leaves no room,
	 * n + 1 room for one, the relay socket, which the supervisor binds
	 * before it asks the spawner for a worker.
	 */
	ok(prlimit(relay.pid, RLIMIT_NOFILE, NULL, &old) == 0 &&
	    (tight = old, tight.rlim_cur = (rlim_t)n,
	    prlimit(relay.pid, RLIMIT_NOFILE, &tight, NULL) == 0),
	    "lower the supervisor's RLIMIT_NOFILE to %d (highest open %d)", n,
	    top);
	mark = tu_log_size(&relay);
	is_int(tu_allocate(d, -1, 0, 0), 508,
	    "ALLOCATE when no relay socket can be created: 508");
	ok(tu_log_wait(&relay, mark, "Cannot create a relay socket",
	    WAIT_MS), "the supervisor logs why");
	tight.rlim_cur = (rlim_t)n + 1;
	ok(prlimit(relay.pid, RLIMIT_NOFILE, &tight, NULL) == 0,
	    "RLIMIT_NOFILE %d: room for the relay socket only", n + 1);
	mark = tu_log_size(&relay);
	is_int(tu_allocate(d, -1, 0, 0), 508,
	    "ALLOCATE when the worker's socketpair cannot be received: 508");
	ok(tu_log_wait(&relay, mark, "Cannot receive a worker's socketpair",
	    WAIT_MS), "the supervisor logs why");
	ok(prlimit(relay.pid, RLIMIT_NOFILE, &old, NULL) == 0,
	    "restore RLIMIT_NOFILE");
	n = tu_proc_fds(relay.pid, names, 256, nums);
	is_int(tu_allocate(d, -1, 0, 0), 0, "the next ALLOCATE succeeds");
	is_int(tu_proc_fds(relay.pid, names, 256, nums), n + 2,
	    "... and holds two more of the supervisor's descriptors (its "
	    "socketpair, its relay socket)");
	is_int(tu_refresh(d, 0), 0, "... and is freed");
	/*
	 * Near the limit (a relay socket among its last eighth, at least the
	 * last 16 descriptors) the supervisor
	 * hands the relay socket to the worker and keeps no reference: the
	 * allocation works through its worker, at one descriptor.
	 */
	n = tu_proc_fds(relay.pid, names, 256, nums);
	tight.rlim_cur = (rlim_t)n + 4;
	mark = tu_log_size(&relay);
	ok(prlimit(relay.pid, RLIMIT_NOFILE, &tight, NULL) == 0,
	    "RLIMIT_NOFILE %d: a relay socket lands in its last 16", n + 4);
	is_int(tu_allocate(d, -1, 0, 0), 0, "ALLOCATE near the limit succeeds");
	is_int(tu_proc_fds(relay.pid, names, 256, nums), n + 1,
	    "... holding one supervisor descriptor (its socketpair)");
	ok(tu_log_wait(&relay, mark, "Near the descriptor limit", WAIT_MS),
	    "... logged");
	ok(relays(d), "... and relays (through its worker)");
	is_int(metric("turncell_relay_sockets_released_total"), 1,
	    "... counted in turncell_relay_sockets_released_total");
	is_int(tu_refresh(d, 0), 0, "... and is freed");
	ok(prlimit(relay.pid, RLIMIT_NOFILE, &old, NULL) == 0,
	    "restore RLIMIT_NOFILE again");
	tu_client_close(d);
	if (tap_failed())
		tu_log_dump(&relay, 20);
	tu_relay_stop(&relay);
}

/*
 * Churn through the pool: allocations taken and freed faster than the
 * pool refills (--worker-pool-rate 1: after the first few, most find it
 * empty and wait for a worker started for them); afterwards the pool is
 * full again and nothing leaked: workers, descriptors, zombies.
 */
static int
no_health_conn(void *arg)
{
	(void)arg;
	return tu_tcp_conns(relay.health_port) == 0;
}

#define CHURN_MAX	300
#define CHURN_MS	20000

static void
t_churn(void)
{
	struct tu_relay_opts	o;
	struct tu_client	c;
	uint64_t		end;
	size_t			z = 0;
	int			fds0, i, rc, okc = 0;
	long long		taken, misses;

	/* refills at 1/s: most cycles find the pool empty and wait */
	if (start(&o, "4", "1") == -1) {
		ok(0, "churn: relay started");
		return;
	}
	is_int(metric_wait("turncell_worker_pool_idle", POOL), POOL,
	    "churn: the pool fills");
	/* our scrapes' connections closed, so they are not counted */
	tu_wait_for(no_health_conn, NULL, WAIT_MS);
	fds0 = tu_proc_nfds(relay.pid);
	end = tu_now_ms() + CHURN_MS;
	for (i = 0; i < CHURN_MAX && tu_now_ms() < end; i++) {
		if (tu_client_open(&c, &relay, ADDR_V4) == -1)
			break;
		if ((rc = tu_allocate(&c, -1, 0, 0)) == 0 &&
		    (rc = tu_refresh(&c, 0)) == 0)
			okc++;
		else {
			/* whatever the answer was: free what may exist */
			diag("churn: cycle %d: %d", i, rc);
			(void)tu_refresh(&c, 0);
		}
		tu_client_close(&c);
	}
	ok(i >= 20 && okc == i, "churn: %d of %d allocate/free cycles "
	    "succeeded (bounded by %d and %d ms)", okc, i, CHURN_MAX,
	    CHURN_MS);
	taken = metric("turncell_worker_pool_taken_total");
	misses = metric("turncell_worker_pool_misses_total");
	ok(taken >= POOL && misses > 0, "churn: the first starts took idle "
	    "workers, later ones waited for one (%lld, %lld)", taken, misses);
	is_int(taken + misses, metric("turncell_workers_started_total"),
	    "churn: every worker started went to a take or a miss");
	is_int(metric("turncell_workers_direct_total"), 0,
	    "churn: none forked by the supervisor");
	is_int(metric_wait("turncell_worker_pool_idle", POOL), POOL,
	    "churn: the pool is full again");
	is_int((long long)tu_wait_workers(&relay, POOL, WAIT_MS), POOL,
	    "churn: only the %d idle workers are left", POOL);
	is_int((long long)tu_wait_children(relay.pid, POOL, &z, WAIT_MS), POOL,
	    "churn: no other process below the supervisor");
	is_int((long long)z, 0, "churn: no zombie");
	is_int(tu_wait_nfds(relay.pid, fds0, WAIT_MS), fds0,
	    "churn: the supervisor's descriptors are back to %d", fds0);
	is_int(metric("turncell_workers_crashed_total"), 0,
	    "churn: no worker crashed");
	if (tap_failed())
		tu_log_dump(&relay, 20);
	tu_relay_stop(&relay);
}

/*
 * A worker binary the --user account cannot execute (a copy in a
 * directory only root may enter): idle workers exit 127 at once. The
 * refills pause, with a log line, instead of starting and losing up to
 * --worker-pool-rate (2000) workers a second; an allocation's worker that
 * cannot exec is logged as such, not as a misbehaving worker.
 */
#define EXEC_WAIT_MS	2000
static void
t_exec_fails(void)
{
	struct tu_relay_opts	o;
	struct tu_client	c;
	char			dir[] = "/tmp/tc86.XXXXXX", path[64], cmd[160];
	long long		lost;
	off_t			mark;
	int			rc;

	if (geteuid() != 0) {
		skip(6, "exec failure: needs root (workers run as nobody)");
		return;
	}
	if (mkdtemp(dir) == NULL) {	/* mode 0700, owned by root */
		ok(0, "exec failure: a private directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/turncell-worker", dir);
	snprintf(cmd, sizeof(cmd), "cp bin/turncell-worker %s", path);
	if (system(cmd) != 0 || start_worker(&o, "4", NULL, path) == -1) {
		ok(0, "exec failure: relay started");
		goto out;
	}
	mark = tu_log_size(&relay);
	tu_sleep_ms(EXEC_WAIT_MS);	/* refills that must fail */
	lost = metric("turncell_worker_pool_lost_total");
	ok(lost >= 1 && lost <= 40, "exec failure: %lld idle workers lost "
	    "in %d ms (refills pause a second after each failure)", lost,
	    EXEC_WAIT_MS);
	ok(tu_log_wait(&relay, 0, "Idle workers cannot start", WAIT_MS),
	    "exec failure: logged");
	ok(tu_log_count(&relay, 0, "Idle workers cannot start") <= 4,
	    "exec failure: logged once per pause");
	tu_client_open(&c, &relay, ADDR_V4);
	rc = tu_allocate(&c, -1, 0, 0);
	ok(rc != 0, "exec failure: ALLOCATE fails (%d)", rc);
	tu_client_close(&c);
	ok(tu_log_wait(&relay, mark, "cannot execute", WAIT_MS),
	    "exec failure: the allocation's worker is logged as unable to "
	    "execute");
	is_int(metric("turncell_workers_killed_total"), 0,
	    "exec failure: no worker taken for a misbehaving one");
	if (tap_failed())
		tu_log_dump(&relay, 20);
	tu_relay_stop(&relay);
out:
	(void)unlink(path);
	(void)rmdir(dir);
}

/* SIGTERM with idle workers: nothing is left behind */
static void
t_term(int live)
{
	struct tu_relay_opts	o;
	struct tu_client	e;
	pid_t			pids[64];
	size_t			n, i;
	int			st = 0, gone = 1, rc;
	const char		*what = live ? "draining" : "idle";

	if (start(&o, "4", NULL) == -1) {
		ok(0, "%s: relay started", what);
		return;
	}
	n = tu_wait_workers(&relay, POOL, WAIT_MS);
	tu_workers(&relay, pids, 64);
	pids[n++] = tu_spawner(&relay);
	e.fd = -1;
	if (live) {
		tu_client_open(&e, &relay, ADDR_V4);
		is_int(tu_allocate(&e, -1, 0, 0), 0, "%s: an allocation", what);
		n = tu_wait_workers(&relay, POOL + 1, WAIT_MS) + 1;
		tu_workers(&relay, pids, 64);
		pids[n - 1] = tu_spawner(&relay);
	}
	ok(n == (size_t)POOL + 1 + (size_t)live && pids[n - 1] > 0,
	    "%s: %zu processes below the supervisor", what, n);
	ok(tu_kill(relay.pid, SIGTERM) == 0, "%s: SIGTERM", what);
	if (live) {
		ok(tu_log_wait(&relay, 0, "draining", WAIT_MS),
		    "%s: the relay drains", what);
		is_int(tu_refresh(&e, 0), 0, "%s: the last allocation ends",
		    what);
		tu_client_close(&e);
	}
	rc = tu_waitpid(relay.pid, &st, WAIT_MS) == relay.pid;
	if (rc)
		relay.exited = 1;
	ok(rc && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s: the relay exited 0 (status 0x%x)", what, st);
	for (i = 0; i < n; i++)
		gone &= tu_wait_gone(pids[i], 1, WAIT_MS);
	ok(gone, "%s: the spawner and every worker are gone", what);
	tu_reap_orphans(2000);
	tu_relay_stop(&relay);
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct tu_client	a, b, c;
	pid_t			pids[64];
	size_t			n;

	tu_init(180);
	tu_need("bin/turncell", NULL);
	if (start(&o, "4", NULL) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	ok(1, "relay started (pid %d)", (int)relay.pid);
	tu_client_open(&a, &relay, ADDR_V4);
	tu_client_open(&b, &relay, ADDR_V4);
	tu_client_open(&c, &relay, ADDR_V4);

	t_take(&a, pids, &n);
	t_killed_idle(pids, n, &b);
	t_spawner_memory();
	t_spawner_dies(&a, &c);
	ok(tu_relay_alive(&relay), "the supervisor is still running");

	tu_client_close(&a);
	tu_client_close(&b);
	tu_client_close(&c);
	if (tap_failed())
		tu_log_dump(&relay, 40);
	tu_relay_stop(&relay);

	t_no_fds();
	t_exec_fails();
	t_churn();
	t_term(0);
	t_term(1);
	return done_testing();
}
