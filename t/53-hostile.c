/*
 * 53-hostile: a worker that misbehaves (attack cases 47, 49). The test
 * worker build/test/turncell-worker-hostile (make: -DWRK_HOSTILE) reads
 * TURNCELL_HOSTILE=garbage|oversize|second-ready|unbound-chan|wrong-dir|deaf|
 * empty-record
 * (one bad record right after READY), pass-fds (valid records that pass
 * its relay socket in SCM_RIGHTS, many times each, repeatedly) or
 * TURNCELL_SYSCALL=open|socket|exec|fork|ptrace (that call once
 * sandboxed, before READY: SIGSYS).
 *
 * How the mode reaches the worker: the supervisor execs workers with an
 * EMPTY environment and a fixed argv, so --worker-path points at a
 * small /bin/sh wrapper that exports the mode, only while the file
 * <dir>/armed exists, and execs the hostile binary in place (same PID,
 * fd 3 kept). So one allocation gets a hostile worker while the others,
 * before and after it, get well-behaved ones: the test checks that the
 * hostile one is killed (and counted), the supervisor survives, that
 * allocation is gone (REFRESH 437), the supervisor holds exactly the
 * descriptors it held before it and the hostile worker's relay port is
 * free again (nothing it passed stays open), an existing allocation
 * keeps relaying and a new ALLOCATE works.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define FLOOD_BINDINGS	200
#define FLOOD_P99_US	20000	/* 0.8 s without a budget per worker */
#define HOSTILE_BIN	"build/test/turncell-worker-hostile"

static struct tu_relay	relay;
static char		bindir[64];
static char		armed[128];

static int
write_wrapper(const char *var, const char *mode, char *out, size_t cap)
{
	FILE	*f;
	int	 rc;

	snprintf(out, cap, "%s/worker-%s-%s.sh", bindir, var, mode);
	unlink(out);
	if ((f = fopen(out, "w")) == NULL)
		return -1;
	fprintf(f, "#!/bin/sh\n"
	    "if [ -e '%s' ]; then %s='%s'; export %s; fi\n"
	    "exec '%s' \"$@\"\n", armed, var, mode, var,
	    tu_path(HOSTILE_BIN));
	rc = fclose(f);
	if (rc == 0)
		rc = chmod(out, 0755);
	return rc;
}

static void
arm(int on)
{
	int	fd;

	if (!on) {
		unlink(armed);
		return;
	}
	if ((fd = open(armed, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0)
		close(fd);
}

static void
rm_files(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[400];

	if (bindir[0] == '\0' || (d = opendir(bindir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", bindir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(bindir);
}

/* one data packet each way on B's channel; 1 if both arrived intact */
static int
relays(struct tu_client *b, int pfd, uint16_t chan)
{
	uint8_t		out[100], in[200];
	uint16_t	got;
	long		n;
	size_t		i;
	int		good = 1;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)tu_rand();
	tu_cdata_send(b, chan, out, sizeof(out));
	n = tu_recvfrom(pfd, in, sizeof(in), 1000, NULL);
	if (n != (long)sizeof(out) || memcmp(in, out, sizeof(out)) != 0)
		good = 0;
	tu_sendto(pfd, &b->relayed[0], out, 37);
	n = tu_cdata_recv(b, &got, in, sizeof(in), 1000);
	if (n != 37 || got != chan || memcmp(in, out, 37) != 0)
		good = 0;
	return good;
}

/* one paced burst of A's ChannelData; 1 once A's worker is gone */
static int
deaf_stopped(void *arg)
{
	static uint8_t	buf[1000];
	int		i;

	if (tu_wait_workers(&relay, 1, 0) == 1)
		return 1;
	memset(buf, 0x42, sizeof(buf));
	for (i = 0; i < 64; i++)
		tu_cdata_send(arg, 0x4000, buf, sizeof(buf));
	return 0;
}

/*
 * "deaf": A's worker never reads its socketpair. Send A's ChannelData
 * (1000-byte payloads, paced) until the supervisor has stopped that
 * worker (its queue full with no progress for 5 s), at most 12 s.
 */
static void
flood_deaf(struct tu_client *a, const struct taddr *peer)
{
	if (tu_chanbind(a, 0x4000, peer) != 0) {
		diag("deaf: ChannelBind on A failed");
		return;
	}
	tu_wait_for(deaf_stopped, a, 12000);
}

/* a relay whose workers run the wrapper for var=mode (disarmed) */
static int
start_relay(const char *var, const char *mode, char *path, size_t cap)
{
	struct tu_relay_opts	o;


	if (write_wrapper(var, mode, path, cap) == -1) {
		ok(0, "%s: wrapper script (%s)", mode, strerror(errno));
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.worker_path = path;
	o.health = "127.0.0.1:0";	/* its metrics */
	/* a client's data reaches the worker (whose queue a deaf one never
	 * drains) only with --max-bps; otherwise the supervisor sends it on
	 * the relay socket itself */
	if (strcmp(mode, "deaf") == 0) {
		o.extra[0] = "--max-bps";
		o.extra[1] = "100000000";
	}
	arm(0);
	if (tu_relay_start(&relay, &o) == -1) {
		ok(0, "%s: relay started", mode);
		return -1;
	}
	return 0;
}

/* B: a well-behaved allocation with channel 0x4000 to *pfd (bound to
 * *peer); 1 if it relays */
static int
open_b(struct tu_client *b, int *pfd, struct taddr *peer)
{
	tu_client_open(b, &relay, ADDR_V4);
	*pfd = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(*pfd, peer);
	return tu_allocate(b, -1, 0, 0) == 0 &&
	    tu_chanbind(b, 0x4000, peer) == 0 && relays(b, *pfd, 0x4000);
}

/* the end of a run: clients, B's peer, wrapper, relay (its log if failed) */
static void
finish(struct tu_client *a, struct tu_client *b, struct tu_client *c,
    int pfd, const char *path)
{
	close(pfd);
	tu_client_close(a);
	tu_client_close(b);
	tu_client_close(c);
	unlink(path);
	if (tap_failed())
		tu_log_dump(&relay, 12);
	tu_relay_stop(&relay);
}

/*
 * One relay; the worker of allocation A is hostile in `mode`. sys != 0:
 * a syscall mode (the worker dies of SIGSYS before READY, so A's
 * ALLOCATE gets 508).
 */
static void
run_mode(const char *mode, int sys)
{
	struct tu_client	a, b, c;
	struct taddr		peer;
	char			path[200];
	const char		*m = mode;
	pid_t			wb, wb_after[4];
	off_t			mark;
	int			rc, pfd, fd0;
	uint16_t		aport;
	size_t			n;

	if (start_relay(sys ? "TURNCELL_SYSCALL" : "TURNCELL_HOSTILE",
	    mode, path, sizeof(path)) == -1)
		return;

	/* B: a well-behaved allocation that must not notice anything */
	ok(open_b(&b, &pfd, &peer), "%s: allocation B (normal worker) relays",
	    m);
	wb = tu_new_worker(&relay, NULL, 0, 2000);

	/* A: the hostile worker */
	fd0 = tu_proc_nfds(relay.pid);
	mark = tu_log_size(&relay);
	tu_client_open(&a, &relay, ADDR_V4);
	arm(1);
	rc = tu_allocate(&a, -1, 0, 0);
	arm(0);
	aport = rc == 0 && a.n_relayed > 0 ? a.relayed[0].port : 0;
	if (sys)
		is_int(rc, STUN_ERR_INSUFFICIENT_CAPACITY,
		    "%s: Allocate A gets 508 (its worker died starting)", m);
	else
		is_int(rc, 0, "%s: Allocate A succeeds (its worker sent "
		    "READY)", m);
	if (strcmp(mode, "deaf") == 0)
		flood_deaf(&a, &peer);
	n = tu_wait_workers(&relay, 1, 3000);
	is_int((long long)n, 1, "%s: the hostile worker is gone, B's is left",
	    m);
	if (sys)
		ok(tu_log_wait(&relay, mark, "killed by its sandbox", 2000) &&
		    tu_log_count(&relay, mark, "signal 31") > 0,
		    "%s: the supervisor logs the SIGSYS death", m);
	else
		ok(tu_log_wait(&relay, mark, strcmp(mode, "unbound-chan") == 0 ?
		    "not given a channel" : strcmp(mode, "deaf") == 0 ?
		    "worker stopped reading" : "Killing misbehaving worker",
		    2000),
		    "%s: the supervisor logs killing the worker (and why)", m);
	is_int(tu_wait_nfds(relay.pid, fd0, 5000), fd0,
	    "%s: the supervisor holds as many descriptors as before A", m);
	if (!sys)
		ok(aport != 0 && tu_port_free(aport, 0),
		    "%s: A's relay port %u is free again", m, aport);
	is_int(tp_metric(relay.health_port, "turncell_workers_killed_total"),
	    sys ? 0 : 1, "%s: %s", m, sys ? "no worker counted as killed" :
	    "the worker is counted as killed");
	ok(tu_relay_alive(&relay), "%s: the supervisor survives", m);
	ok(tu_relay_binding(&relay, ADDR_V4), "%s: ... and answers Binding",
	    m);
	is_int(tu_refresh(&a, 600), STUN_ERR_ALLOC_MISMATCH,
	    "%s: allocation A is gone (REFRESH 437)", m);

	/* nothing else changed */
	n = tu_workers(&relay, wb_after, 4);
	ok(wb > 0 && n == 1 && wb_after[0] == wb,
	    "%s: B keeps its worker (%d)", m, (int)wb);
	ok(relays(&b, pfd, 0x4000), "%s: B still relays both ways", m);
	is_int(tu_refresh(&b, 600), 0, "%s: B refreshes", m);
	tu_client_open(&c, &relay, ADDR_V4);
	is_int(tu_allocate(&c, -1, 0, 0), 0,
	    "%s: a new ALLOCATE from another client works", m);
	is_int((long long)tu_wait_workers(&relay, 2, 1000), 2,
	    "%s: ... with its own worker", m);
	ok(tu_relay_alive(&relay), "%s: the supervisor is still running", m);
	finish(&a, &b, &c, pfd, path);
}

static long
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_long(const void *a, const void *b)
{
	long	x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/*
 * "flood" (attack case 49): A's worker sends valid records of the
 * largest size, each full of one-byte frames on its bound channel, as
 * fast as the socketpair takes them. Meanwhile client C's Binding round
 * trip (p99 of FLOOD_BINDINGS) must stay under FLOOD_P99_US and every
 * datagram a peer sends to B must reach B: one worker cannot take the
 * supervisor's loop for itself. A's worker breaks no rule: it stays.
 */
static void
run_flood(void)
{
	struct tu_client	a, b, c;
	struct taddr		peer, peer_a;
	static long		rtt[FLOOD_BINDINGS];
	uint8_t			buf[200], seen[FLOOD_BINDINGS];
	char			path[200];
	uint16_t		chan;
	long			t0, n;
	int			pfd, pfd_a, i, sent = 0, got = 0, rc;

	if (start_relay("TURNCELL_HOSTILE", "flood", path, sizeof(path)) == -1)
		return;
	ok(open_b(&b, &pfd, &peer), "flood: allocation B relays");

	tu_client_open(&a, &relay, ADDR_V4);
	pfd_a = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(pfd_a, &peer_a);
	arm(1);
	rc = tu_allocate(&a, -1, 0, 0);
	arm(0);
	rc = rc == 0 ? tu_chanbind(&a, 0x4000, &peer_a) : rc;
	n = rc == 0 ? tu_cdata_recv(&a, &chan, buf, sizeof(buf), 2000) : -1;
	ok(n == 1 && chan == 0x4000 && buf[0] == 'x',
	    "flood: A's worker floods one-byte frames on its channel");

	/* C's Bindings, and a datagram from B's peer every other one */
	tu_client_open(&c, &relay, ADDR_V4);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < FLOOD_BINDINGS; i++) {
		if (i % 2 == 0) {
			memset(buf, 0, 40);
			buf[0] = (uint8_t)(i >> 8);
			buf[1] = (uint8_t)i;
			buf[2] = 0xb0;
			tu_sendto(pfd, &b.relayed[0], buf, 40);
			sent++;
		}
		t0 = now_us();
		if (tu_request(&c, &(struct tu_req){
		    .method = STUN_BINDING }, 1000) == 0)
			rtt[i] = now_us() - t0;
		else
			rtt[i] = 1000000;
	}
	while ((n = tu_cdata_recv(&b, &chan, buf, sizeof(buf), 500)) >= 0) {
		i = buf[0] << 8 | buf[1];
		if (n == 40 && chan == 0x4000 && buf[2] == 0xb0 &&
		    i < FLOOD_BINDINGS && !seen[i]) {
			seen[i] = 1;
			got++;
		}
	}
	qsort(rtt, FLOOD_BINDINGS, sizeof(rtt[0]), cmp_long);
	diag("flood: Binding RTT median %ld us, p99 %ld us, max %ld us",
	    rtt[FLOOD_BINDINGS / 2], rtt[FLOOD_BINDINGS * 99 / 100 - 1],
	    rtt[FLOOD_BINDINGS - 1]);
	ok(rtt[FLOOD_BINDINGS * 99 / 100 - 1] < FLOOD_P99_US,
	    "flood: C's Binding RTT p99 %ld us < %d us",
	    rtt[FLOOD_BINDINGS * 99 / 100 - 1], FLOOD_P99_US);
	is_int(got, sent, "flood: every datagram to B arrived (%d of %d)",
	    got, sent);
	is_int((long long)tu_wait_workers(&relay, 2, 0), 2,
	    "flood: A's worker (valid records) is not killed");
	ok(tu_relay_alive(&relay), "flood: the supervisor survives");
	close(pfd_a);
	finish(&a, &b, &c, pfd, path);
}

int
main(void)
{
	static const char	*modes[] = { "garbage", "oversize",
				    "second-ready", "unbound-chan", "wrong-dir",
				    "deaf", "empty-record", "pass-fds" };
	/* the hostile build also knows connect, mprotect, int80, x32 */
	static const char	*calls[] = { "open", "socket", "exec", "fork",
				    "ptrace" };
	size_t			 i;

	tu_init(150);
	tu_need("bin/turncell", HOSTILE_BIN, NULL);
	snprintf(bindir, sizeof(bindir), "/tmp/turncell-h.XXXXXX");
	if (mkdtemp(bindir) == NULL) {
		bindir[0] = '\0';
		ok(0, "mkdtemp");
		return done_testing();
	}
	/* workers exec as an unprivileged user when we are root */
	chmod(bindir, 0711);
	snprintf(armed, sizeof(armed), "%s/armed", bindir);
	atexit(rm_files);

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		run_mode(modes[i], 0);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		run_mode(calls[i], 1);
	run_flood();
	return done_testing();
}
