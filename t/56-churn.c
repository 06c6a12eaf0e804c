/*
 * 56-churn: authenticated allocation churn, worker kills and restart
 * hygiene against the real bin/turncell on loopback (attack cases 43,
 * 45, 55).
 *
 * Churn: up to CHURN_MAX cycles (at most CHURN_MS of them) of new
 * socket -> ALLOCATE (401 nonce dance) -> ChannelBind -> ChannelData
 * both ways -> REFRESH 0 over a 20-port relay range, so every relay port
 * is reused many times; then no children, no zombies, the supervisor's
 * fd count back to where it started, every relay port bindable, RSS
 * flat. Kills: 20 live allocations, SIGKILL 10 random workers: the
 * supervisor survives and reaps them, the killed ones get 437, the
 * others still relay. Restarts: stop and start on the same ports at
 * once, by SIGTERM (idle, and draining with a live allocation then a
 * second SIGTERM) and by SIGKILL.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

/* TU_CHURN_SECONDS=N runs a soak of N seconds instead (attack case 43
 * asks for 10 minutes); the default is a few seconds for make check */
#define CHURN_MAX	1000
#define CHURN_MS	7500
#define CHURN_MIN	50	/* fewer cycles than this proves nothing */
#define NPORTS		20
#define NLIVE		20
#define NKILL		10
#define NRESTART	5
#define CHAN		0x4000
/*
 * RSS bound for the churn. The supervisor keeps per-allocation state in
 * fixed tables sized at start-up (ports, rate slots) plus a few hundred
 * bytes of heap per allocation and worker record. The baseline is taken
 * after a warm-up of WARMUP cycles (first-use page faults of those
 * tables and of code, libev's child watcher, the allocator's arenas), so
 * what is left is a leak. 1 MiB leaves room for allocator fragmentation
 * and page noise while still catching a leak of about 1 KiB per cycle
 * over the default 1000 cycles (a lost receive buffer, a worker record,
 * a copied datagram). From the very start the bound is the brief's
 * 2 MiB.
 */
#define WARMUP		20
#define RSS_SLACK_KB	1024
#define RSS_START_KB	2048

static struct tu_relay		relay;
static struct tu_relay_opts	opts;
static const char		*extra_args[] = { "--unauth-rate", "0",
	"--max-starts-per-ip", "0", "--max-starts", "0", NULL };

struct live {
	struct tu_client	c;
	pid_t			w;
	int			up;
	int			killed;
};

static struct live	lv[NLIVE];
static long		churn_max = CHURN_MAX;
static long		churn_ms = CHURN_MS;

static int
in_range(const struct tu_client *c)
{
	return c->n_relayed == 1 && c->relayed[0].family == ADDR_V4 &&
	    c->relayed[0].port >= relay.lo && c->relayed[0].port <= relay.hi;
}

/* one ChannelData each way; 1 if both arrive byte-exact */
static int
both_ways(struct tu_client *c, int pfd, const char *what, int idx)
{
	uint8_t		out[100], in[2048];
	struct taddr	from;
	uint16_t	chan = 0;
	long		n;
	size_t		len = 20 + tu_rand() % 64;

	tu_fill(out, len);
	if (tu_cdata_send(c, CHAN, out, len) == -1) {
		diag("%s %d: send ChannelData failed", what, idx);
		return 0;
	}
	n = tu_recvfrom(pfd, in, sizeof(in), 1000, &from);
	if (n != (long)len || memcmp(in, out, len) != 0 ||
	    !addr_eq(&from, &c->relayed[0])) {
		diag("%s %d: client->peer: got %ld bytes, want %zu", what, idx,
		    n, len);
		return 0;
	}
	tu_fill(out, len);
	if (tu_sendto(pfd, &c->relayed[0], out, len) == -1) {
		diag("%s %d: peer send failed", what, idx);
		return 0;
	}
	n = tu_cdata_recv(c, &chan, in, sizeof(in), 1000);
	if (n != (long)len || memcmp(in, out, len) != 0 || chan != CHAN) {
		diag("%s %d: peer->client: got %ld bytes on 0x%04x, want %zu",
		    what, idx, n, chan, len);
		return 0;
	}
	return 1;
}

/* allocate + ChannelBind on a fresh socket; 0 or -1 (diag'd) */
static int
open_alloc(struct tu_client *c, const struct taddr *peer, const char *what,
    int idx)
{
	int	rc;

	if (tu_client_open(c, &relay, ADDR_V4) == -1) {
		diag("%s %d: no socket", what, idx);
		return -1;
	}
	rc = tu_allocate(c, -1, 0, 0);
	if (rc != 0 || c->ndance < 2 || c->dance[0] != STUN_ERR_UNAUTHORIZED ||
	    !in_range(c)) {
		diag("%s %d: ALLOCATE: rc %d, dance %d/%d, %zu relayed", what,
		    idx, rc, c->ndance > 0 ? c->dance[0] : -1,
		    c->ndance > 1 ? c->dance[1] : -1, c->n_relayed);
		return -1;
	}
	rc = tu_chanbind(c, CHAN, peer);
	if (rc != 0) {
		diag("%s %d: ChannelBind: rc %d", what, idx, rc);
		return -1;
	}
	return 0;
}

/* one churn cycle: 1 if every step succeeded */
static int
cycle(int i, int pfd, const struct taddr *peer, unsigned *uses)
{
	struct tu_client	c;
	int			rc, good = 0;

	if (open_alloc(&c, peer, "cycle", i) == -1)
		goto out;
	uses[c.relayed[0].port - relay.lo]++;
	if (!both_ways(&c, pfd, "cycle", i))
		goto out;
	rc = tu_refresh(&c, 0);
	if (rc != 0 || !c.has_lifetime || c.lifetime != 0) {
		diag("cycle %d: REFRESH 0: rc %d", i, rc);
		goto out;
	}
	good = 1;
out:
	tu_client_close(&c);
	return good;
}

static void
test_churn(void)
{
	static unsigned	uses[NPORTS];
	struct taddr	peer;
	uint64_t	t0, t1;
	long		rss_start, rss0, rss1;
	size_t		kids, z;
	unsigned	umin = ~0u, umax = 0;
	int		pfd, fd0, fd1, i, n = 0, good = 0, p, free_ports = 0;

	pfd = tu_udp_bind(ADDR_V4, 0);
	if (pfd < 0 || tu_sock_addr(pfd, &peer) == -1) {
		ok(0, "churn: peer socket");
		return;
	}
	fd0 = tu_proc_nfds(relay.pid);
	rss_start = tu_proc_rss_kb(relay.pid);
	kids = tu_children(relay.pid, NULL);
	ok(fd0 > 0 && rss_start > 0, "churn: supervisor has %d fds, VmRSS %ld "
	    "kB at the start", fd0, rss_start);
	is_int((long long)kids, 0, "churn: no children at the start");

	t0 = tu_now_ms();
	rss0 = -1;
	for (i = 0; i < churn_max && tu_now_ms() < t0 + (uint64_t)churn_ms;
	    i++) {
		good += cycle(i, pfd, &peer, uses);
		n++;
		if (n == WARMUP)
			rss0 = tu_proc_rss_kb(relay.pid);
	}
	t1 = tu_now_ms();
	diag("churn: %d cycles in %llu ms (%.1f/s)", n,
	    (unsigned long long)(t1 - t0),
	    t1 > t0 ? n * 1000.0 / (double)(t1 - t0) : 0.0);
	ok(n >= CHURN_MIN, "churn: at least %d cycles ran (%d)", CHURN_MIN, n);
	is_int(good, n, "churn: every cycle succeeded (401, ALLOCATE, "
	    "ChannelBind, data both ways, REFRESH 0)");
	for (p = 0; p < NPORTS; p++) {
		if (uses[p] < umin)
			umin = uses[p];
		if (uses[p] > umax)
			umax = uses[p];
	}
	diag("churn: each of the %d relay ports used %u..%u times", NPORTS,
	    umin, umax);
	ok(n < NPORTS * 3 || umax >= 2, "churn: relay ports were reused "
	    "(max uses %u)", umax);

	kids = tu_wait_children(relay.pid, 0, &z, 2000);
	is_int((long long)kids, 0, "churn: no children left after 2 s");
	is_int((long long)z, 0, "churn: no zombie children");
	fd1 = tu_wait_nfds(relay.pid, fd0, 2000);
	is_int(fd1, fd0, "churn: supervisor fd count back to the start");
	for (p = relay.lo; p <= relay.hi; p++) {
		if (tu_port_free((uint16_t)p, 0))
			free_ports++;
		else
			diag("churn: relay port %d still bound", p);
	}
	is_int(free_ports, NPORTS, "churn: all %d relay ports bindable again",
	    NPORTS);
	rss1 = tu_proc_rss_kb(relay.pid);
	diag("churn: VmRSS %ld kB at the start, %ld kB after %d warm-up "
	    "cycles, %ld kB at the end", rss_start, rss0, WARMUP, rss1);
	if (!tu_sandboxed()) {
		/* make check-asan: ASan keeps freed memory in its quarantine
		 * (up to 256 MiB) and its allocator has its own arenas, so RSS
		 * says nothing about leaks there; the normal build checks it */
		skip(2, "ASan build: RSS includes the sanitizer's quarantine");
	} else {
		ok(rss0 > 0 && rss1 > 0 && rss1 - rss0 < RSS_SLACK_KB,
		    "churn: RSS grew by %ld kB after the warm-up (< %d kB)",
		    rss1 - rss0, RSS_SLACK_KB);
		ok(rss_start > 0 && rss1 > 0 && rss1 - rss_start < RSS_START_KB,
		    "churn: RSS grew by %ld kB from the start (< %d kB)",
		    rss1 - rss_start, RSS_START_KB);
	}
	ok(tu_relay_alive(&relay), "churn: the supervisor is still running");
	close(pfd);
}

static void
test_kills(void)
{
	struct taddr	peer;
	pid_t		before[64];
	size_t		nb, kids, z;
	off_t		off;
	int		pfd, i, j, t, up = 0, nk = 0, reaped = 0, r437 = 0;
	int		relays = 0, order[NLIVE];

	pfd = tu_udp_bind(ADDR_V4, 0);
	if (pfd < 0 || tu_sock_addr(pfd, &peer) == -1) {
		ok(0, "kills: peer socket");
		return;
	}
	for (i = 0; i < NLIVE; i++) {
		nb = tu_workers(&relay, before, 64);
		lv[i].up = open_alloc(&lv[i].c, &peer, "live", i) == 0;
		if (lv[i].up)
			lv[i].w = tu_new_worker(&relay, before, nb, 2000);
		if (lv[i].up && lv[i].w > 0 && both_ways(&lv[i].c, pfd, "live",
		    i))
			up++;
		else
			lv[i].up = 0;
	}
	is_int(up, NLIVE, "kills: %d allocations from %d sockets relay at "
	    "once", NLIVE, NLIVE);
	is_int((long long)tu_children(relay.pid, NULL), NLIVE,
	    "kills: %d workers", NLIVE);

	/* NKILL random ones (a Fisher-Yates prefix) */
	for (i = 0; i < NLIVE; i++)
		order[i] = i;
	for (i = 0; i < NKILL; i++) {
		j = i + (int)(tu_rand() % (unsigned)(NLIVE - i));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	off = tu_log_size(&relay);
	for (i = 0; i < NKILL; i++) {
		struct live	*l = &lv[order[i]];

		if (l->up && l->w > 0 && tu_kill(l->w, SIGKILL) == 0) {
			l->killed = 1;
			nk++;
		}
	}
	is_int(nk, NKILL, "kills: SIGKILL %d random workers", NKILL);
	for (i = 0; i < NLIVE; i++)
		if (lv[i].killed && tu_wait_gone(lv[i].w, 0, 2000))
			reaped++;
	is_int(reaped, nk, "kills: every killed worker reaped (not a zombie)");
	ok(tu_relay_alive(&relay), "kills: the supervisor survives");
	kids = tu_children(relay.pid, &z);
	is_int((long long)kids, NLIVE - NKILL, "kills: %d workers left",
	    NLIVE - NKILL);
	is_int((long long)z, 0, "kills: no zombie children");
	ok(tu_log_wait(&relay, off, "Worker died", 1000) &&
	    tu_log_count(&relay, off, "Worker died") == nk,
	    "kills: the supervisor logged each death (%d)",
	    tu_log_count(&relay, off, "Worker died"));

	for (i = 0; i < NLIVE; i++) {
		if (!lv[i].up)
			continue;
		if (lv[i].killed) {
			if (tu_refresh(&lv[i].c, 600) == STUN_ERR_ALLOC_MISMATCH)
				r437++;
		} else if (tu_refresh(&lv[i].c, 600) == 0 &&
		    both_ways(&lv[i].c, pfd, "survivor", i))
			relays++;
	}
	is_int(r437, nk, "kills: each killed allocation gets 437 on REFRESH");
	is_int(relays, NLIVE - NKILL, "kills: the other %d refresh and still "
	    "relay both ways", NLIVE - NKILL);

	/* attack case 45: a new Allocate from the killed 5-tuple succeeds */
	{
		struct live	*l = &lv[order[0]];
		int		 rc = -1;

		if (l->killed) {
			rc = tu_allocate(&l->c, -1, 0, 0);
			if (rc == 0 && (!in_range(&l->c) ||
			    tu_chanbind(&l->c, CHAN, &peer) != 0 ||
			    !both_ways(&l->c, pfd, "re-allocated", order[0])))
				rc = -2;
			l->killed = 0;
		}
		is_int(rc, 0, "kills: a new ALLOCATE from a killed allocation's "
		    "5-tuple succeeds and relays");
	}

	for (i = 0; i < NLIVE; i++) {
		if (lv[i].up && !lv[i].killed)
			tu_refresh(&lv[i].c, 0);
		tu_client_close(&lv[i].c);
	}
	kids = tu_wait_children(relay.pid, 0, &z, 2000);
	ok(kids == 0 && z == 0, "kills: no children or zombies after REFRESH "
	    "0 of the rest (%zu, %zu)", kids, z);
	close(pfd);
}

/* SIGTERM twice needs the first one handled: signals do not queue */
static int
term_twice(void)
{
	off_t	off = tu_log_size(&relay);

	if (tu_kill(relay.pid, SIGTERM) == -1)
		return -1;
	if (!tu_log_wait(&relay, off, "draining", 2000))
		return -1;
	return tu_kill(relay.pid, SIGTERM);
}

static void
test_restarts(void)
{
	struct tu_client	c;
	struct taddr		peer;
	uint16_t		port = relay.port, lo = relay.lo, hi = relay.hi;
	uint64_t		t0, t1;
	int			i, live, st, rc, sent, pfd;
	const char		*how;

	pfd = tu_udp_bind(ADDR_V4, 0);
	if (pfd < 0 || tu_sock_addr(pfd, &peer) == -1) {
		ok(0, "restarts: peer socket");
		return;
	}
	for (i = 0; i <= NRESTART; i++) {
		/* NRESTART SIGTERMs, idle and draining; then one SIGKILL */
		live = i % 2 == 1 || i == NRESTART;
		how = i == NRESTART ? "SIGKILL" : live ? "SIGTERM x2 (live "
		    "allocation)" : "SIGTERM (idle)";
		memset(&c, 0, sizeof(c));
		c.fd = -1;
		if (live && open_alloc(&c, &peer, "restart", i) == -1) {
			ok(0, "restart %d: an allocation before stopping", i);
			tu_client_close(&c);
			close(pfd);
			return;
		}
		if (i == NRESTART)
			sent = tu_kill(relay.pid, SIGKILL);
		else if (live)
			sent = term_twice();
		else
			sent = tu_kill(relay.pid, SIGTERM);
		st = 0;
		rc = sent == 0 && tu_waitpid(relay.pid, &st, 3000) == relay.pid;
		t0 = tu_now_ms();
		if (rc)
			relay.exited = 1;
		if (i == NRESTART)
			ok(rc && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
			    "restart %d: %s: the relay died", i, how);
		else
			ok(rc && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			    "restart %d: %s: the relay exited 0 (status 0x%x)",
			    i, how, st);
		tu_client_close(&c);
		if (!rc) {
			tu_log_dump(&relay, 20);
			close(pfd);
			return;
		}
		tu_relay_stop(&relay);
		rc = tu_relay_start_at(&relay, &opts, port, lo, hi);
		t1 = tu_now_ms();
		if (!ok(rc == 0, "restart %d: a new relay binds port %u and "
		    "answers %llu ms after the exit", i, port,
		    (unsigned long long)(t1 - t0))) {
			close(pfd);
			return;
		}
		rc = open_alloc(&c, &peer, "restart", i);
		ok(rc == 0 && both_ways(&c, pfd, "restart", i),
		    "restart %d: the new relay allocates in %u-%u and relays",
		    i, lo, hi);
		if (rc == 0)
			tu_refresh(&c, 0);
		tu_client_close(&c);
	}
	{
		size_t	z, kids = tu_wait_children(relay.pid, 0, &z, 2000);

		ok(kids == 0 && z == 0, "restarts: no children or zombies");
	}
	close(pfd);
}

int
main(void)
{
	const char	*soak = getenv("TU_CHURN_SECONDS");
	int		 i;

	if (soak != NULL && atol(soak) > 0 && atol(soak) < 86400) {
		churn_ms = atol(soak) * 1000;
		churn_max = 1L << 30;
	}
	tu_init((int)(churn_ms / 1000) + 40);
	tu_need("bin/turncell", NULL);
	memset(&opts, 0, sizeof(opts));
	opts.nports = NPORTS;
	opts.allow[0] = "127.0.0.0/8";
	/*
	 * Every cycle starts from a new socket, so every cycle draws a 401;
	 * at ~40 cycles/s that would run into the default cap of 50
	 * unauthenticated replies per IP per second, and every cycle starts
	 * a worker, above the default 20 starts per source per second. The
	 * caps are 57-flood's and 22-turn-rules' business; here they are off.
	 */
	for (i = 0; extra_args[i] != NULL && i < TU_MAX_EXTRA; i++)
		opts.extra[i] = extra_args[i];
	if (tu_relay_start(&relay, &opts) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	ok(1, "relay started on 127.0.0.1:%u, relay ports %u-%u", relay.port,
	    relay.lo, relay.hi);

	test_churn();
	test_kills();
	if (tap_failed())
		tu_log_dump(&relay, 30);
	test_restarts();
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_relay_stop(&relay);
	return done_testing();
}
