/*
 * 52-workers: one sandboxed worker process per allocation (attack cases
 * 45, 46, 50). Its /proc status (seccomp, no_new_privs, unprivileged
 * uid), its constant argv, its fds (relay sockets, socketpair, event
 * loop fds only), the secret absent from its memory and present exactly
 * once in the supervisor's (the vault; attack case 46); worker and
 * supervisor crashes; no zombies, no leaked fds.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

static struct tu_relay	relay;

static pid_t
allocate(struct tu_client *c, uint8_t add_family, int *rc)
{
	pid_t	before[64];
	size_t	nb;

	nb = tu_workers(&relay, before, 64);
	*rc = tu_allocate(c, -1, 0, add_family);
	if (*rc != 0)
		return -1;
	return tu_new_worker(&relay, before, nb, 2000);
}

static size_t
zombies_below(pid_t root)
{
	pid_t		pids[256];
	struct tu_proc	p;
	size_t		n, i, z = 0;

	n = tu_descendants(root, NULL, pids, 256);
	for (i = 0; i < n; i++)
		if (tu_proc_read(pids[i], &p) == 0 && p.state == 'Z') {
			diag("zombie: pid %d (%s)", (int)p.pid, p.comm);
			z++;
		}
	return z;
}

static int
count_fds(pid_t pid)
{
	static char	t[256][128];

	return tu_proc_fds(pid, t, 256, NULL);
}

/* the supervisor is back to where it started: no zombie, fds0 fds */
static int
settled(void *arg)
{
	size_t	z;

	tu_children(relay.pid, &z);
	return z == 0 && count_fds(relay.pid) == *(const int *)arg;
}

/* the worker's argv is constant: everything per allocation is MSG_CONF */
static void
check_cmdline(pid_t w, const char *what)
{
	static const char	want[] = "turncell-worker";	/* with its NUL */
	char			path[64], buf[256];
	ssize_t			n = -1;
	int			fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)w);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	ok(n == (ssize_t)sizeof(want) && memcmp(buf, want, sizeof(want)) == 0,
	    "%s: argv is only \"turncell-worker\" (%zd bytes)", what, n);
}

static void
check_status(pid_t w, const char *what)
{
	char	v[128];
	long	uid[4] = { -1, -1, -1, -1 }, gid[4] = { -1, -1, -1, -1 };
	int	i, nonroot;
	struct tu_proc	p;

	ok(tu_proc_read(w, &p) == 0 && p.ppid == tu_spawner(&relay) &&
	    tu_proc_read(p.ppid, &p) == 0 && p.ppid == relay.pid,
	    "%s: the worker is a child of the spawner, a child of the "
	    "supervisor", what);
	check_cmdline(w, what);
	if (!tu_sandboxed()) {
		skip(3, "%s: ASan build, workers run without their filter",
		    what);
	} else {
		v[0] = '\0';
		tu_proc_status(w, "Seccomp", v, sizeof(v));
		is_str(v, "2", "%s: Seccomp: 2 (filter mode)", what);
		v[0] = '\0';
		tu_proc_status(w, "Seccomp_filters", v, sizeof(v));
		ok(atoi(v) >= 1, "%s: Seccomp_filters >= 1 (got '%s')", what,
		    v);
		v[0] = '\0';
		tu_proc_status(w, "NoNewPrivs", v, sizeof(v));
		is_str(v, "1", "%s: NoNewPrivs: 1", what);
	}
	if (geteuid() != 0) {
		skip(2, "%s: not root: no privilege drop to check", what);
		return;
	}
	v[0] = '\0';
	tu_proc_status(w, "Uid", v, sizeof(v));
	sscanf(v, "%ld %ld %ld %ld", &uid[0], &uid[1], &uid[2], &uid[3]);
	for (nonroot = 1, i = 0; i < 4; i++)
		if (uid[i] <= 0)
			nonroot = 0;
	ok(nonroot, "%s: all four uids non-root (Uid: %s)", what, v);
	v[0] = '\0';
	tu_proc_status(w, "Gid", v, sizeof(v));
	sscanf(v, "%ld %ld %ld %ld", &gid[0], &gid[1], &gid[2], &gid[3]);
	for (nonroot = 1, i = 0; i < 4; i++)
		if (gid[i] <= 0)
			nonroot = 0;
	ok(nonroot, "%s: all four gids non-root (Gid: %s)", what, v);
}

/* only relay socket(s) on the relayed port(s), one SEQPACKET socketpair
 * end, and the event loop's own anon inodes */
static void
check_fds(pid_t w, const struct tu_client *c, const char *what)
{
	static char	t[64][128];
	unsigned long	ino;
	uint16_t	port;
	int		n, i, j, utype, kind, udp = 0, unx = 0, seq = 0, other = 0;
	int		ports_ok = 1;

	n = tu_proc_fds(w, t, 64, NULL);
	ok(n > 0, "%s: /proc/PID/fd readable (%d fds)", what, n);
	for (i = 0; i < n; i++) {
		/* the loop's epoll and its MSG_STATS timerfd */
		if (strcmp(t[i], "anon_inode:[eventpoll]") == 0 ||
		    strcmp(t[i], "anon_inode:[timerfd]") == 0)
			continue;
		if (sscanf(t[i], "socket:[%lu]", &ino) != 1) {
			diag("%s: unexpected fd -> %s", what, t[i]);
			other++;
			continue;
		}
		port = 0;
		utype = 0;
		kind = tu_sock_kind(ino, &port, &utype);
		if (kind == 'u') {
			udp++;
			for (j = 0; j < (int)c->n_relayed; j++)
				if (c->relayed[j].port == port)
					break;
			if (j == (int)c->n_relayed) {
				diag("%s: UDP socket on port %u is not a "
				    "relayed port", what, port);
				ports_ok = 0;
			}
		} else if (kind == 'x') {
			unx++;
			if (utype == 5)
				seq++;
		} else {
			diag("%s: socket %s is neither UDP nor AF_UNIX", what,
			    t[i]);
			other++;
		}
	}
	is_int(other, 0, "%s: no file, directory, pipe or other fd", what);
	is_int(udp, (long long)c->n_relayed,
	    "%s: exactly %zu UDP relay socket(s)", what, c->n_relayed);
	ok(ports_ok, "%s: ... bound to the relayed port(s)", what);
	is_int(unx, 1, "%s: exactly one AF_UNIX socket", what);
	is_int(seq, 1, "%s: ... a SOCK_SEQPACKET one (the socketpair)", what);
}

static void
check_memory(pid_t w, const char *what)
{
	long	hits, ctl;

	ctl = tu_mem_search(relay.pid, relay.secret, strlen(relay.secret));
	hits = tu_mem_search(w, relay.secret, strlen(relay.secret));
	if (ctl < 0 || hits < 0) {
		skip(2, "%s: cannot read /proc/PID/mem (need root or ptrace "
		    "rights)", what);
		return;
	}
	/* the control, and the one-copy rule: the vault holds the secret,
	 * the engine points into it, the file's read buffer and the
	 * hashing contexts of the allocations above were wiped */
	is_int(ctl, 1, "%s: control: the secret is in the supervisor's "
	    "memory exactly once (the vault)", what);
	is_int(hits, 0, "%s: the secret's bytes are absent from the worker's "
	    "memory", what);
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct tu_client	a, b, c;
	pid_t			wa, wb, wc, wa2, ws[8];
	int			v6, rc, fds0, fds1, st;
	off_t			mark;
	size_t			n, i;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	v6 = tu_have_ipv6();
	memset(&o, 0, sizeof(o));
	o.v6 = v6;
	o.allow[0] = "127.0.0.0/8";
	if (tu_relay_start(&relay, &o) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	ok(1, "relay started (pid %d)", (int)relay.pid);
	is_int((long long)tu_wait_workers(&relay, 0, 100), 0,
	    "no worker before the first allocation");
	fds0 = count_fds(relay.pid);

	/* one worker per allocation */
	tu_client_open(&a, &relay, ADDR_V4);
	tu_client_open(&b, &relay, ADDR_V4);
	tu_client_open(&c, &relay, ADDR_V4);
	wa = allocate(&a, 0, &rc);
	is_int(rc, 0, "allocation A");
	is_int((long long)tu_wait_workers(&relay, 1, 1000), 1,
	    "exactly one worker after one allocation");
	wb = allocate(&b, v6 ? STUN_AF_IPV6 : 0, &rc);
	is_int(rc, 0, "allocation B%s", v6 ? " (dual stack)" : "");
	wc = allocate(&c, 0, &rc);
	is_int(rc, 0, "allocation C");
	is_int((long long)tu_wait_workers(&relay, 3, 1000), 3,
	    "exactly three workers after three allocations");
	ok(wa > 0 && wb > 0 && wc > 0 && wa != wb && wb != wc && wa != wc,
	    "three distinct worker PIDs (%d %d %d)", (int)wa, (int)wb,
	    (int)wc);

	/* the sandbox as /proc shows it */
	if (wa > 0) {
		check_status(wa, "worker A");
		check_fds(wa, &a, "worker A");
		check_memory(wa, "worker A");
	}
	if (wb > 0) {
		check_status(wb, v6 ? "worker B (dual)" : "worker B");
		check_fds(wb, &b, v6 ? "worker B (dual)" : "worker B");
	}

	/* SIGKILL a worker (attack case 45) */
	mark = tu_log_size(&relay);
	ok(wa > 0 && tu_kill(wa, SIGKILL) == 0, "SIGKILL worker A");
	ok(wa > 0 && tu_wait_gone(wa, 0, 2000),
	    "worker A reaped by the supervisor (no zombie)");
	ok(tu_log_wait(&relay, mark, "signal 9", 1000),
	    "the supervisor logs the worker's death and its cause");
	ok(tu_relay_alive(&relay), "the supervisor survives");
	ok(tu_relay_binding(&relay, ADDR_V4), "... and still answers Binding");
	is_int(tu_refresh(&a, 600), STUN_ERR_ALLOC_MISMATCH,
	    "A's next REFRESH gets 437");
	wa2 = allocate(&a, 0, &rc);
	is_int(rc, 0, "a new ALLOCATE from the same 5-tuple works");
	ok(wa2 > 0 && wa2 != wa, "... with a new worker (%d)", (int)wa2);
	is_int(tu_refresh(&b, 600), 0, "B is unaffected (REFRESH 600)");
	is_int(tu_refresh(&c, 600), 0, "C is unaffected (REFRESH 600)");

	/* REFRESH 0: worker reaped, no zombies, no leaked fds */
	is_int(tu_refresh(&c, 0), 0, "C: REFRESH 0");
	ok(wc > 0 && tu_wait_gone(wc, 0, 2000),
	    "C's worker exited and was reaped");
	is_int((long long)zombies_below(relay.pid), 0,
	    "no zombie below the supervisor");
	is_int((long long)tu_wait_workers(&relay, 2, 1000), 2,
	    "two workers left (A', B)");
	is_int(tu_refresh(&a, 0), 0, "A': REFRESH 0");
	is_int(tu_refresh(&b, 0), 0, "B: REFRESH 0");
	is_int((long long)tu_wait_workers(&relay, 0, 2000), 0,
	    "no worker left");
	tu_wait_for(settled, &fds0, 2000);
	is_int((long long)zombies_below(relay.pid), 0,
	    "still no zombie below the supervisor");
	fds1 = count_fds(relay.pid);
	is_int(fds1, fds0, "the supervisor's fd count is back to %d", fds0);

	/* SIGKILL the supervisor: all workers die (attack case 50) */
	tu_allocate(&a, -1, 0, 0);
	tu_allocate(&b, -1, 0, v6 ? STUN_AF_IPV6 : 0);
	tu_allocate(&c, -1, 0, 0);
	n = tu_workers(&relay, ws, 8);
	is_int((long long)n, 3, "three live workers before killing the "
	    "supervisor");
	ok(tu_kill(relay.pid, SIGKILL) == 0, "SIGKILL the supervisor");
	ok(tu_waitpid(relay.pid, &st, 2000) == relay.pid, "supervisor reaped");
	relay.exited = 1;
	{
		uint64_t	t0 = tu_now_ms();
		int		all = 1;

		for (i = 0; i < n; i++)
			if (!tu_wait_gone(ws[i], 1, (int)(t0 + 2000 >
			    tu_now_ms() ? t0 + 2000 - tu_now_ms() : 0))) {
				diag("worker %d still alive", (int)ws[i]);
				all = 0;
			}
		ok(all, "all %zu workers gone within 2 s", n);
	}
	ok(tu_port_free(relay.port, v6), "the listen port is free again");
	ok(tu_port_free(a.relayed[0].port, 0) &&
	    tu_port_free(c.relayed[0].port, 0),
	    "the relay ports are free again");

	tu_client_close(&a);
	tu_client_close(&b);
	tu_client_close(&c);
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_relay_stop(&relay);
	return done_testing();
}
