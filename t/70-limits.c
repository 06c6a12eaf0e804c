/*
 * 70-limits.c: the quotas and budgets of a real bin/turncell with its
 * default settings (README.md, "Quotas and budgets"; attack cases 17, 28,
 * 32, 41 and 43).
 *
 * - allocate-and-delete churn from one source is held to the worker-start
 *   budget (486 beyond it) and counted in /metrics;
 * - a credential expiring beyond --max-credential-ttl (default 30 days)
 *   gets 401, one inside it works;
 * - a flood of malformed and unauthenticated requests writes no WARN line
 *   and is counted in /metrics.
 */
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define CHURN		40	/* allocate + delete cycles (< 50 401s) */
#define START_RATE	20	/* --max-starts-per-ip default */
#define FLOOD		300	/* unauthenticated requests */

static struct tu_relay	relay;
static uint16_t		hport;
static char		body[TP_BODY_MAX];

/* value of the sample whose name+labels is exactly `series`; -1 if none */
static long long
metric(const char *series)
{
	const char	*p = body;
	size_t		 n = strlen(series);

	if (tp_http(hport, "GET", "/metrics", NULL, 0, body, sizeof(body),
	    2000) != 200)
		return -1;
	while ((p = strstr(p, series)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

static void
t_churn(void)
{
	struct tu_client	c;
	uint64_t		t0, ms;
	int			i, rc, good = 0, quota = 0, other = 0;
	long long		denied;

	t0 = tu_now_ms();
	for (i = 0; i < CHURN && tu_now_ms() < t0 + 5000; i++) {
		if (tu_client_open(&c, &relay, ADDR_V4) == -1) {
			other++;
			continue;
		}
		rc = tu_allocate(&c, 0, 0, 0);
		if (rc == 0) {
			good++;
			(void)tu_refresh(&c, 0);
		} else if (rc == STUN_ERR_ALLOC_QUOTA)
			quota++;
		else {
			diag("cycle %d: rc %d", i, rc);
			other++;
		}
		tu_client_close(&c);
	}
	ms = tu_now_ms() - t0;
	diag("churn: %d cycles in %llu ms: %d started, %d got 486, %d other",
	    i, (unsigned long long)ms, good, quota, other);
	/* under ASan (make check-asan) a cycle may take longer than the
	 * budget's refill: then there is nothing to meet */
	if ((long long)i <= START_RATE + (long long)ms * START_RATE / 1000)
		skip(1, "%d cycles in %llu ms did not outrun the start budget",
		    i, (unsigned long long)ms);
	else
		ok(quota > 0, "allocate/delete churn from one source meets "
		    "486");
	ok(good <= START_RATE + (int)(ms * START_RATE / 1000) + 1,
	    "at most %d + %d/s workers started (%d)", START_RATE, START_RATE,
	    good);
	ok(good >= START_RATE / 2, "but the first ones start (%d)", good);
	is_int(other, 0, "no other outcome");
	denied = metric("turncell_allocations_denied_total"
	    "{reason=\"source_start_rate\"}");
	is_int(denied, quota, "/metrics counts them (source_start_rate)");
}

/* a client whose credential expires ttl s from now */
static int
client_ttl(struct tu_client *c, long ttl)
{
	if (tu_client_open(c, &relay, ADDR_V4) == -1)
		return -1;
	tu_cred(relay.secret, ttl, c->user, sizeof(c->user), c->pass);
	stun_lt_key((const uint8_t *)c->user, strlen(c->user), AUTH_REALM,
	    c->pass, strlen(c->pass), c->key);
	return 0;
}

static int
answers(void *arg)
{
	return tu_relay_binding(&relay, ADDR_V4);
}

static void
t_cred_ttl(void)
{
	struct tu_client	c;

	/* not a wait for something: the start budget refills per second */
	tu_sleep_ms(1100);
	if (client_ttl(&c, 40L * 86400) == -1) {
		ok(0, "client");
		return;
	}
	is_int(tu_allocate(&c, -1, 0, 0), STUN_ERR_UNAUTHORIZED,
	    "credential expiring in 40 days -> 401 (default max 30 days)");
	ok(c.signed_ok, "a signed 401 (the credential is well-formed)");
	tu_client_close(&c);
	if (client_ttl(&c, 29L * 86400) == -1) {
		ok(0, "client");
		return;
	}
	is_int(tu_allocate(&c, -1, 0, 0), 0,
	    "credential expiring in 29 days -> allocated");
	is_int(tu_refresh(&c, 0), 0, "and deleted");
	tu_client_close(&c);
}

static void
t_quiet_flood(void)
{
	uint8_t		 junk[20];
	struct tu_client c;
	struct tu_req	 q;
	off_t		 off;
	long long	 before, after;
	int		 i, fd;

	before = metric("turncell_replies_suppressed_total"
	    "{class=\"unauthenticated\"}");
	off = tu_log_size(&relay);
	if ((fd = tu_udp_bind(ADDR_V4, 0)) == -1 ||
	    tu_client_open(&c, &relay, ADDR_V4) == -1) {
		ok(0, "sockets");
		return;
	}
	memset(&q, 0, sizeof(q));
	q.method = STUN_ALLOCATE;
	q.no_auth = 1;
	for (i = 0; i < FLOOD; i++) {
		/* a header-only ALLOCATE (400), a CHANNEL-BIND without
		 * attributes (400), an unauthenticated ALLOCATE (401) */
		memset(junk, 0, sizeof(junk));
		junk[1] = i % 2 ? 0x03 : 0x09;
		junk[4] = 0x21; junk[5] = 0x12; junk[6] = 0xa4; junk[7] = 0x42;
		junk[8] = (uint8_t)i;
		junk[9] = (uint8_t)(i >> 8);
		tu_sendto(fd, &relay.addr4, junk, sizeof(junk));
		(void)tu_request(&c, &q, 0);
	}
	ok(tu_wait_for(answers, NULL, 3000), "relay answers after the flood");
	is_int(tu_log_count(&relay, off, "\"WARN\""), 0,
	    "%d unauthenticated requests: no WARN line", 2 * FLOOD);
	after = metric("turncell_replies_suppressed_total"
	    "{class=\"unauthenticated\"}");
	ok(before >= 0 && after - before >= FLOOD,
	    "/metrics counts the suppressed replies (%lld)", after - before);
	close(fd);
	tu_client_close(&c);
}

int
main(void)
{
	struct tu_relay_opts	o;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	memset(&o, 0, sizeof(o));
	o.nports = 64;
	o.allow[0] = "127.0.0.0/8";
	o.health = "127.0.0.1:0";	/* the kernel's port, from --port-file */
	if (!ok(tu_relay_start(&relay, &o) == 0, "relay with default limits"))
		return done_testing();
	hport = relay.health_port;
	t_churn();
	t_cred_ttl();
	t_quiet_flood();
	ok(tu_relay_alive(&relay), "the supervisor is still running");
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_relay_stop(&relay);
	return done_testing();
}
