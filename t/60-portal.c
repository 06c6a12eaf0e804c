/*
 * 60-portal.c: the relay against bin/mock-portal, and the drain (the
 * README's portal and drain sections; the protocol itself is unit-tested
 * in t/24-phx.c).
 *
 * Real processes on loopback: the mock portal and bin/turncell with a
 * token, so each relay has a fresh secret that only reaches us through
 * the portal's join, exactly like in production. Scenarios:
 *  - join: stamp_secret (64 hex), query parameters, User-Agent, bearer
 *    token, heartbeats; /credentials works for ALLOCATE (401, then ok);
 *  - junk frames, a 70 kB one included: logged, the connection kept;
 *  - portal killed and restarted: reconnect, /readyz follows, relaying
 *    and refreshing never stop;
 *  - relay restarted: new secret, old credentials 401 after a fresh
 *    nonce, old allocation 437 with new credentials;
 *  - disconnect token_expired and a 401 or 403 upgrade: exit 1, clear
 *    line; a 503 upgrade: retried until the portal accepts;
 *  - a portal host name that does not resolve: retried, TURN served;
 *  - unanswered heartbeats: dropped after 5 s and reconnected (runs in
 *    the background against its own muted mock);
 *  - drain under a ChannelData stream, second SIGTERM, --drain-timeout.
 */
#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define CHAN		0x4000
#define STREAM_N	200

static char	 body[TP_BODY_MAX];
static char	 conn[TP_BODY_MAX];

static int
exited_with(const struct tu_relay *r, int code)
{
	return r->exited && WIFEXITED(r->status) &&
	    WEXITSTATUS(r->status) == code;
}

/* the last connection's object in the mock's state */
static int
last_conn(const struct tp_mock *m, char *out, size_t cap)
{
	int	 n;

	if (tp_mock_state(m, body, sizeof(body)) == -1)
		return -1;
	if ((n = tp_json_count(body, "connections")) <= 0)
		return -1;
	return tp_json_elem(body, "connections", n - 1, out, cap);
}

/* a member of the connection's "query" object */
static int
query_str(const char *c, const char *key, char *v, size_t cap)
{
	const char	*q = strstr(c, "\"query\":");

	v[0] = '\0';
	if (q == NULL)
		return -1;
	return tp_json_str(q + 8, key, v, cap);
}

static int
readyz(uint16_t port)
{
	char	 b[256];

	return tp_http_get(port, "/readyz", b, sizeof(b));
}

static int
wait_readyz(uint16_t port, int want, int timeout_ms)
{
	uint64_t	 end = tu_now_ms() + (uint64_t)timeout_ms;
	int		 st;

	do {
		if ((st = readyz(port)) == want)
			return st;
		tu_sleep_ms(20);
	} while (tu_now_ms() < end);
	return st;
}

/* 1 once needle is in at least n log lines after `from` */
static int
wait_log_count(const struct tu_relay *r, off_t from, const char *needle,
    int n, int timeout_ms)
{
	uint64_t	 end = tu_now_ms() + (uint64_t)timeout_ms;

	do {
		if (tu_log_count(r, from, needle) >= n)
			return 1;
		tu_sleep_ms(20);
	} while (tu_now_ms() < end);
	return 0;
}

/* n ChannelData packets c -> peer; returns how many the peer got */
static int
relay_burst(struct tu_client *c, int peer, int n)
{
	uint8_t		 pkt[64], in[256];
	struct taddr	 from;
	int		 i, got = 0;
	long		 len;

	for (i = 0; i < n; i++) {
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = (uint8_t)i;
		if (tu_cdata_send(c, CHAN, pkt, sizeof(pkt)) == -1)
			continue;
		len = tu_recvfrom(peer, in, sizeof(in), 1000, &from);
		if (len == (long)sizeof(pkt) && in[0] == (uint8_t)i)
			got++;
	}
	return got;
}

static int
open_client(struct tu_client *c, const struct tu_relay *r,
    const struct tp_mock *m)
{
	char	 user[128], pass[AUTH_PASS_LEN + 1];

	if (tu_client_open(c, r, ADDR_V4) == -1 ||
	    tp_mock_cred(m, 600, user, sizeof(user), pass) == -1)
		return -1;
	tp_client_cred(c, user, pass);
	return 0;
}

/* ------------------------------------------------------------------ */

struct world {
	struct tp_mock	 m;
	struct tu_relay	 r;
	struct tu_client c1;
	int		 peer;
	struct taddr	 peer_addr;
	uint16_t	 health;
	char		 token[64];
	char		 secret[128];
};

static void
t_join(struct world *w)
{
	struct tp_relay_opts	 o;
	char			 v[256], port[8], user[128];
	char			 pass[AUTH_PASS_LEN + 1];
	long			 n;
	int			 rc;

	memset(&o, 0, sizeof(o));
	snprintf(w->token, sizeof(w->token), "tok-%08x%08x", tu_rand(),
	    tu_rand());
	w->health = tp_tcp_port();
	o.token = w->token;
	o.name = "test relay";
	o.api_url = w->m.url;
	o.health_port = w->health;
	if (!ok(tp_relay_start(&w->r, &o) == 0, "relay with a token starts"))
		return;
	n = tp_mock_wait(&w->m, "joins", 1, 5000);
	ok(n >= 1, "the relay joins the portal (%ld)", n);
	ok(last_conn(&w->m, conn, sizeof(conn)) == 0, "connection recorded");
	tp_json_str(conn, "stamp_secret", w->secret, sizeof(w->secret));
	is_int((long long)strlen(w->secret), 64, "stamp_secret is 64 chars");
	is_int((long long)tp_hexlen(w->secret), 64, "stamp_secret is hex");
	tp_json_str(conn, "path", v, sizeof(v));
	is_str(v, "/relay/websocket", "path");
	query_str(conn, "name", v, sizeof(v));
	is_str(v, "test relay", "query name (URL-decoded)");
	query_str(conn, "ipv4", v, sizeof(v));
	is_str(v, "127.0.0.1", "query ipv4");
	snprintf(port, sizeof(port), "%u", w->r.port);
	query_str(conn, "port", v, sizeof(v));
	is_str(v, port, "query port");
	ok(query_str(conn, "ipv6", v, sizeof(v)) == -1,
	    "no ipv6 parameter without a public IPv6");
	ok(query_str(conn, "token", v, sizeof(v)) == -1,
	    "the token is not in the query string");
	tp_json_str(conn, "user_agent", v, sizeof(v));
	ok(strncmp(v, "turncell/", 9) == 0, "User-Agent %s", v);
	tp_json_int(conn, "token_len", &n);
	is_int(n, (long long)strlen(w->token), "bearer token arrives whole");
	n = tp_mock_wait(&w->m, "heartbeats", 1, 3000);
	ok(n >= 1, "a heartbeat is sent at once (%ld)", n);
	is_int(wait_readyz(w->health, 200, 3000), 200,
	    "/readyz 200 once joined");

	/* credentials minted by the portal from the stamp_secret */
	ok(tu_client_open(&w->c1, &w->r, ADDR_V4) == 0, "client socket");
	rc = tp_mock_cred(&w->m, 600, user, sizeof(user), pass);
	ok(rc == 0, "/credentials answers");
	tp_client_cred(&w->c1, user, pass);
	rc = tu_allocate(&w->c1, 600, 0, 0);
	is_int(rc, 0, "portal credentials: ALLOCATE succeeds");
	is_int(w->c1.ndance > 0 ? w->c1.dance[0] : 0, 401,
	    "after the first 401");
	ok(w->c1.n_relayed >= 1, "relayed address");

	ok(tu_log_count(&w->r, 0, w->token) == 0, "token never logged");
	ok(tu_log_count(&w->r, 0, w->secret) == 0, "secret never logged");
}

/* frames to ignore, an oversized one included, keep the connection */
static int
same_open_conn(struct world *w, int n0)
{
	int	 n1, open = 0;

	tp_mock_state(&w->m, body, sizeof(body));
	n1 = tp_json_count(body, "connections");
	tp_json_elem(body, "connections", n1 - 1, conn, sizeof(conn));
	tp_json_bool(conn, "open", &open);
	return n1 == n0 && open;
}

static void
t_junk(struct world *w)
{
	off_t	 at = tu_log_size(&w->r);
	int	 n0;

	tp_mock_state(&w->m, body, sizeof(body));
	n0 = tp_json_count(body, "connections");
	ok(tp_mock_control(&w->m, "action=junk") == 0, "portal sends junk");
	/* the deeply nested frame is the last one the mock sends */
	ok(tu_log_wait(&w->r, at, "too deeply nested frame ignored", 3000),
	    "junk processed");
	ok(same_open_conn(w, n0), "junk is ignored: same connection");
	ok(tu_log_count(&w->r, at, "binary frame ignored") > 0 &&
	    tu_log_count(&w->r, at, "malformed JSON frame ignored") > 0 &&
	    tu_log_count(&w->r, at, "frame without an event ignored") > 0,
	    "and logged");
	ok(tu_relay_alive(&w->r), "relay alive");
	ok(tp_metric(w->health, "turncell_portal_junk_frames_total") >= 5,
	    "and counted in /metrics");
	ok(tp_mock_control(&w->m, "action=big") == 0, "portal sends 70 kB");
	ok(tu_log_wait(&w->r, at, "oversized frame ignored",
	    3000), "oversized frame ignored and logged");
	ok(same_open_conn(w, n0), "oversized frame: same connection");
	ok(tu_log_count(&w->r, at, "reconnecting") == 0, "no reconnect");
}

static void
t_wrong_cred(struct world *w)
{
	struct tu_client	 c;
	char			 user[128], pass[AUTH_PASS_LEN + 1];

	if (tu_client_open(&c, &w->r, ADDR_V4) == -1 ||
	    tp_mock_cred(&w->m, 600, user, sizeof(user), pass) == -1) {
		ok(0, "client for wrong credentials");
		return;
	}
	pass[0] = pass[0] == 'A' ? 'B' : 'A';
	tp_client_cred(&c, user, pass);
	is_int(tu_allocate(&c, 600, 0, 0), 401,
	    "a tampered password gets 401");
	tu_client_close(&c);
}

static void
t_portal_restart(struct world *w)
{
	char		 v[128];
	long		 n;
	int		 st;
	off_t		 at;

	w->peer = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(w->peer, &w->peer_addr);
	is_int(tu_chanbind(&w->c1, CHAN, &w->peer_addr), 0, "channel bound");
	is_int(relay_burst(&w->c1, w->peer, 5), 5, "relaying");

	at = tu_log_size(&w->r);
	ok(tp_mock_kill(&w->m, SIGKILL) == -1, "portal killed");
	st = wait_readyz(w->health, 503, 3000);
	is_int(st, 503, "/readyz 503 while the portal is away");
	is_int(relay_burst(&w->c1, w->peer, 20), 20,
	    "relaying goes on without the portal");
	is_int(tu_refresh(&w->c1, 600), 0, "REFRESH without the portal");
	/* a few failed attempts: the backoff grows */
	ok(wait_log_count(&w->r, at, "portal: reconnecting\"", 3, 5000),
	    "failed attempts are retried");
	ok(tu_relay_alive(&w->r), "relay still running");

	ok(tp_mock_restart(&w->m) == 0, "portal back on the same port");
	n = tp_mock_wait(&w->m, "joins", 1, 10000);
	ok(n >= 1, "the relay reconnects and joins again (%ld)", n);
	last_conn(&w->m, conn, sizeof(conn));
	tp_json_str(conn, "stamp_secret", v, sizeof(v));
	is_str(v, w->secret, "same secret (same process)");
	is_int(wait_readyz(w->health, 200, 3000), 200, "/readyz 200 again");
	is_int(relay_burst(&w->c1, w->peer, 10), 10, "relaying after it");
	is_int(tu_refresh(&w->c1, 600), 0, "the old allocation refreshes");
	ok(tu_log_count(&w->r, 0, "reconnecting") > 0,
	    "reconnects are logged");
}

static void
t_relay_restart(struct world *w)
{
	struct tp_relay_opts	 o;
	struct tu_relay		 old = w->r;
	char			 s2[128], user[128];
	char			 pass[AUTH_PASS_LEN + 1];
	long			 joins, n;
	int			 rc, i, saw438 = 0;

	tp_mock_state(&w->m, body, sizeof(body));
	tp_json_int(body, "joins", &joins);
	tu_relay_stop(&w->r);
	memset(&o, 0, sizeof(o));
	o.env_token = w->token;		/* FIREZONE_TOKEN this time */
	o.api_url = w->m.url;
	o.health_port = w->health;
	o.ports = &old;
	if (!ok(tp_relay_start(&w->r, &o) == 0, "relay restarted"))
		return;
	n = tp_mock_wait(&w->m, "joins", joins + 1, 5000);
	ok(n > joins, "the new relay joins");
	last_conn(&w->m, conn, sizeof(conn));
	tp_json_str(conn, "stamp_secret", s2, sizeof(s2));
	is_int((long long)tp_hexlen(s2), 64, "new stamp_secret is 64 hex");
	ok(strcmp(s2, w->secret) != 0, "a restarted relay has a new secret");
	ok(query_str(conn, "name", user, sizeof(user)) == -1,
	    "no name parameter without a name");

	/* the old nonce is stale, the old credentials then wrong */
	rc = tu_refresh(&w->c1, 600);
	is_int(rc, 401, "old credentials: 401");
	for (i = 0; i < w->c1.ndance; i++)
		saw438 |= w->c1.dance[i] == 438;
	ok(saw438, "after a fresh nonce (438 first)");
	/* new credentials, but no allocation any more */
	rc = tp_mock_cred(&w->m, 600, user, sizeof(user), pass);
	tp_client_cred(&w->c1, user, pass);
	is_int(tu_refresh(&w->c1, 600), 437, "old allocation: 437");
	snprintf(w->secret, sizeof(w->secret), "%s", s2);
}

static void
t_token_expired(struct world *w)
{
	ok(tp_mock_control(&w->m, "action=disconnect") == 0,
	    "portal sends disconnect token_expired");
	ok(tp_relay_wait_exit(&w->r, 3000), "relay exits");
	ok(exited_with(&w->r, 1), "with status 1 (0x%x)", w->r.status);
	ok(tu_log_count(&w->r, 0, "token_expired") > 0,
	    "the log says token_expired");
}

static void
t_refused(struct world *w, int status)
{
	struct tp_relay_opts	 o;
	struct tu_relay		 r;
	char			 q[64], line[64];

	snprintf(q, sizeof(q), "action=refuse&status=%d", status);
	tp_mock_control(&w->m, q);
	memset(&o, 0, sizeof(o));
	o.token = w->token;
	o.api_url = w->m.url;
	o.no_wait = 1;
	if (!ok(tp_relay_start(&r, &o) == 0, "relay against a portal "
	    "refusing with %d", status))
		return;
	ok(tp_relay_wait_exit(&r, 5000), "relay exits");
	ok(exited_with(&r, 1), "with status 1 (0x%x)", r.status);
	snprintf(line, sizeof(line), "portal refused the connection: HTTP %d",
	    status);
	ok(tu_log_count(&r, 0, line) > 0, "with a clear line");
	if (tap_failed())
		tu_log_dump(&r, 10);
	tu_relay_stop(&r);
	tp_mock_control(&w->m, "action=refuse&status=0");
}

/* a 5xx on the upgrade is transient: retried, never fatal */
static void
t_upgrade_5xx(struct world *w)
{
	struct tp_relay_opts	 o;
	struct tu_relay		 r;

	tp_mock_control(&w->m, "action=refuse&status=503");
	memset(&o, 0, sizeof(o));
	o.token = w->token;
	o.api_url = w->m.url;
	if (!ok(tp_relay_start(&r, &o) == 0, "relay against a portal "
	    "answering 503"))
		return;
	ok(wait_log_count(&r, 0, "portal: reconnecting\"", 2, 5000) &&
	    tu_log_count(&r, 0, "\"code\":503") > 0,
	    "HTTP 503 logged and retried with backoff");
	ok(tu_relay_alive(&r) && tu_log_count(&r, 0, "fatal") == 0,
	    "not fatal");
	tp_mock_control(&w->m, "action=refuse&status=0");
	ok(tu_log_wait(&r, 0, "joined topic relay", 5000),
	    "joins once the portal accepts");
	if (tap_failed())
		tu_log_dump(&r, 10);
	tu_relay_stop(&r);
}

/* a host name that does not resolve: retried with backoff, TURN served */
static void
t_unresolvable(void)
{
	struct tp_relay_opts	 o;
	struct tu_relay		 r;

	memset(&o, 0, sizeof(o));
	o.token = "dns-token";
	o.api_url = "http://portal.invalid:9";
	if (!ok(tp_relay_start(&r, &o) == 0, "relay with an unresolvable "
	    "portal host"))
		return;
	ok(tu_log_wait(&r, 0, "cannot resolve portal.invalid", 5000),
	    "the failed lookup is logged");
	ok(wait_log_count(&r, 0, "portal: reconnecting\"", 2, 5000),
	    "and retried with backoff");
	ok(tu_relay_binding(&r, ADDR_V4), "Binding answered meanwhile");
	ok(tu_relay_alive(&r), "the relay keeps running");
	if (tap_failed())
		tu_log_dump(&r, 10);
	tu_relay_stop(&r);
}

/* ------------------------------------------------------------------ */
/* wss: TLS with the system CA store (OpenSSL honours SSL_CERT_FILE) */

static void
t_tls(void)
{
	struct tp_mock		 m;
	struct tp_relay_opts	 o;
	struct tu_relay		 r;
	char			 dir[] = "/tmp/turncell-tls.XXXXXX";
	char			 cmd[512], cert[64], key[64];
	char			 url[64], env[96];

	if (system("command -v openssl >/dev/null 2>&1") != 0 ||
	    mkdtemp(dir) == NULL) {
		skip(5, "openssl not installed");
		return;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -keyout %s -out %s -days 1 "
	    "-subj /CN=localhost -addext subjectAltName=DNS:localhost "
	    ">/dev/null 2>&1", key, cert);
	if (system(cmd) != 0) {
		skip(5, "openssl cannot make a certificate");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.cert = cert;
	m.key = key;
	if (!ok(tp_mock_start(&m, 0) == 0, "TLS mock portal"))
		return;
	snprintf(url, sizeof(url), "https://localhost:%u", m.port);
	snprintf(env, sizeof(env), "SSL_CERT_FILE=%s", cert);
	memset(&o, 0, sizeof(o));
	o.token = "tls-token";
	o.api_url = url;
	o.env[0] = env;
	if (ok(tp_relay_start(&r, &o) == 0, "relay for wss")) {
		ok(tu_log_wait(&r, 0, "joined topic relay", 5000),
		    "https:// URL: joined over TLS, CA from the system store");
		ok(tp_file_has(m.log_path, "relay joined"),
		    "the TLS portal saw the join");
	}
	tu_relay_stop(&r);
	/* the same without trusting the certificate */
	o.env[0] = NULL;
	if (tp_relay_start(&r, &o) == 0)
		ok(!tu_log_wait(&r, 0, "joined topic relay", 1500) &&
		    tu_log_count(&r, 0, "failed") > 0,
		    "an untrusted certificate is refused");
	else
		ok(0, "relay for untrusted wss");
	tu_relay_stop(&r);
	tp_mock_stop(&m);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* unanswered heartbeats (background) */

struct muted {
	struct tp_mock	 m;
	struct tu_relay	 r;
	int		 up;
};

static void
t_muted_start(struct muted *b)
{
	struct tp_relay_opts	 o;

	memset(b, 0, sizeof(*b));
	if (tp_mock_start(&b->m, 0) == -1 ||
	    tp_mock_control(&b->m, "action=mute") == -1)
		return;
	memset(&o, 0, sizeof(o));
	o.token = "muted-token";
	o.api_url = b->m.url;
	o.no_wait = 1;
	b->up = tp_relay_start(&b->r, &o) == 0;
}

static void
t_muted_check(struct muted *b)
{
	long		 hb, opened, closed;
	int		 open = 1;
	uint64_t	 end = tu_now_ms() + 9000;

	if (!ok(b->up, "relay with a muted portal started"))
		return;
	/* the first connection has to be dropped by the relay */
	while (tu_now_ms() < end) {
		if (tp_mock_state(&b->m, body, sizeof(body)) == 0 &&
		    tp_json_count(body, "connections") >= 2)
			break;
		tu_sleep_ms(50);
	}
	ok(tp_json_count(body, "connections") >= 2,
	    "unanswered heartbeat: the relay reconnects");
	tp_json_elem(body, "connections", 0, conn, sizeof(conn));
	tp_json_int(conn, "heartbeats", &hb);
	tp_json_int(conn, "opened_ms", &opened);
	tp_json_int(conn, "closed_ms", &closed);
	tp_json_bool(conn, "open", &open);
	ok(hb >= 1 && !open, "first connection had a heartbeat, is closed");
	ok(closed - opened >= 4500 && closed - opened <= 8000,
	    "dropped about 5 s after the heartbeat (%ld ms)", closed - opened);
	ok(tu_relay_alive(&b->r), "the relay keeps running");
	tu_relay_stop(&b->r);
	tp_mock_stop(&b->m);
}

/* ------------------------------------------------------------------ */
/* drain */

static void
t_drain(struct tp_mock *m)
{
	struct tp_relay_opts	 o;
	struct tu_relay		 r;
	struct tu_client	 c1, c2;
	struct taddr		 pa, from;
	uint8_t			 pkt[32], in[256], seen[STREAM_N];
	uint16_t		 health = tp_tcp_port(), ch;
	uint64_t		 t0, end;
	long			 len, cf0 = 0, cf;
	int			 peer, i, got = 0, st508 = -1, rz = -1;
	int			 alive = 0, back = 0;

	memset(&o, 0, sizeof(o));
	o.token = "drain-token";
	o.api_url = m->url;
	o.health_port = health;
	tp_mock_state(m, body, sizeof(body));
	tp_json_int(body, "joins", &cf0);
	if (!ok(tp_relay_start(&r, &o) == 0, "drain: relay started"))
		return;
	ok(tp_mock_wait(m, "joins", cf0 + 1, 5000) > cf0, "drain: joined");
	tp_mock_state(m, body, sizeof(body));
	tp_json_int(body, "close_frames", &cf0);
	peer = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(peer, &pa);
	if (open_client(&c1, &r, m) == -1 || open_client(&c2, &r, m) == -1 ||
	    !ok(tu_allocate(&c1, 600, 0, 0) == 0, "drain: allocation") ||
	    !ok(tu_chanbind(&c1, CHAN, &pa) == 0, "drain: channel")) {
		tu_relay_stop(&r);
		return;
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < STREAM_N; i++) {
		memset(pkt, 0xa5, sizeof(pkt));
		pkt[0] = (uint8_t)(i >> 8);
		pkt[1] = (uint8_t)i;
		tu_cdata_send(&c1, CHAN, pkt, sizeof(pkt));
		if (i == 40)
			tu_kill(r.pid, SIGTERM);
		if (i == 80) {
			cf = tp_mock_wait(m, "close_frames", cf0 + 1, 1000);
			ok(cf > cf0, "drain: the portal got a close frame");
			rz = readyz(health);
			st508 = tu_allocate(&c2, 600, 0, 0);
			alive = tu_relay_alive(&r);
		}
		while ((len = tu_recvfrom(peer, in, sizeof(in), i % 10 ? 0 : 2,
		    &from)) > 0)
			if (len == (long)sizeof(pkt) &&
			    (in[0] << 8 | in[1]) < STREAM_N &&
			    !seen[in[0] << 8 | in[1]]++)
				got++;
		tu_sleep_ms(2);
	}
	end = tu_now_ms() + 1000;
	while (got < STREAM_N && tu_now_ms() < end)
		if ((len = tu_recvfrom(peer, in, sizeof(in), 50, &from)) ==
		    (long)sizeof(pkt) && (in[0] << 8 | in[1]) < STREAM_N &&
		    !seen[in[0] << 8 | in[1]]++)
			got++;
	is_int(rz, 503, "drain: /readyz 503");
	is_int(st508, 508, "drain: a new ALLOCATE gets 508");
	ok(alive, "drain: the relay waits for its allocation");
	is_int(got, STREAM_N, "drain: the stream lost nothing");
	/* and the other direction still works */
	memset(pkt, 0x5a, sizeof(pkt));
	tu_sendto(peer, &c1.relayed[0], pkt, sizeof(pkt));
	back = tu_cdata_recv(&c1, &ch, in, sizeof(in), 1000) ==
	    (long)sizeof(pkt);
	ok(back, "drain: peer to client still relayed");
	is_int(tu_refresh(&c1, 600), 0, "drain: REFRESH still works");

	t0 = tu_now_ms();
	is_int(tu_refresh(&c1, 0), 0, "drain: REFRESH 0");
	ok(tp_relay_wait_exit(&r, 1000), "drain: exit within 1 s (%llu ms)",
	    (unsigned long long)(tu_now_ms() - t0));
	ok(exited_with(&r, 0), "drain: status 0 (0x%x)", r.status);
	if (tap_failed())
		tu_log_dump(&r, 20);
	tu_client_close(&c1);
	tu_client_close(&c2);
	close(peer);
	tu_relay_stop(&r);
}

static void
t_second_sigterm(void)
{
	struct tu_relay		 r;
	struct tu_relay_opts	 o;
	struct tu_client	 c;
	uint64_t		 t0;

	memset(&o, 0, sizeof(o));
	if (!ok(tu_relay_start(&r, &o) == 0, "standalone relay"))
		return;
	tu_client_open(&c, &r, ADDR_V4);
	is_int(tu_allocate(&c, 600, 0, 0), 0, "allocation");
	tu_kill(r.pid, SIGTERM);
	ok(tu_log_wait(&r, 0, "Received a signal, draining", 2000) &&
	    tu_relay_alive(&r), "first SIGTERM: still draining");
	t0 = tu_now_ms();
	tu_kill(r.pid, SIGTERM);
	ok(tp_relay_wait_exit(&r, 1000), "second SIGTERM: exits at once "
	    "(%llu ms)", (unsigned long long)(tu_now_ms() - t0));
	ok(exited_with(&r, 0), "with status 0 (0x%x)", r.status);
	tu_client_close(&c);
	tu_relay_stop(&r);
}

static void
t_drain_timeout(void)
{
	struct tu_relay		 r;
	struct tu_relay_opts	 o;
	struct tu_client	 c;
	pid_t			 w[8];
	size_t			 nw, i;
	uint64_t		 t0, dt;
	int			 gone = 1;

	memset(&o, 0, sizeof(o));
	o.extra[0] = "--drain-timeout";
	o.extra[1] = "2";
	if (!ok(tu_relay_start(&r, &o) == 0, "relay with --drain-timeout 2"))
		return;
	tu_client_open(&c, &r, ADDR_V4);
	is_int(tu_allocate(&c, 600, 0, 0), 0, "allocation (600 s)");
	nw = tu_workers(&r, w, 8);
	ok(nw >= 1, "a worker runs (%zu)", nw);
	t0 = tu_now_ms();
	tu_kill(r.pid, SIGTERM);
	ok(tp_relay_wait_exit(&r, 5000), "exits");
	dt = tu_now_ms() - t0;
	ok(dt >= 1500 && dt <= 3500, "after about 2 s (%llu ms)",
	    (unsigned long long)dt);
	ok(exited_with(&r, 0), "with status 0 (0x%x)", r.status);
	for (i = 0; i < nw; i++)
		gone &= tu_wait_gone(w[i], 1, 1000);
	ok(gone, "its workers are gone");
	tu_client_close(&c);
	tu_relay_stop(&r);
}

int
main(void)
{
	static struct world	 w;
	static struct muted	 b;

	tu_init(120);
	tu_need("bin/mock-portal", "bin/turncell", NULL);

	t_muted_start(&b);
	if (!ok(tp_mock_start(&w.m, 0) == 0, "mock portal starts"))
		return done_testing();
	t_join(&w);
	if (w.r.pid > 0 && tu_relay_alive(&w.r)) {
		t_wrong_cred(&w);
		t_junk(&w);
		t_portal_restart(&w);
		t_relay_restart(&w);
		t_token_expired(&w);
	}
	if (tap_failed())
		tu_log_dump(&w.r, 30);
	tu_relay_stop(&w.r);
	t_refused(&w, 401);
	t_refused(&w, 403);
	t_upgrade_5xx(&w);
	t_unresolvable();
	t_drain(&w.m);
	t_second_sigterm();
	t_drain_timeout();
	t_tls();
	t_muted_check(&b);
	tu_client_close(&w.c1);
	if (w.peer > 0)
		close(w.peer);
	ok(tp_mock_kill(&w.m, SIGTERM) == 0, "mock portal exits 0 on SIGTERM");
	tp_mock_stop(&w.m);
	return done_testing();
}
