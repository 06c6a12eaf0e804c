/*
 * 61-health.c: /healthz, /readyz and /metrics of a real bin/turncell
 * (README.md, "Health and metrics"), and the systemd unit.
 *
 * A standalone relay (no token: ready as soon as it serves) with its
 * health listener on a free loopback port; the counters of /metrics must
 * move as a client allocates, binds a channel and relays data.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define CHAN	0x4001

static char	 body[TP_BODY_MAX];
static char	 hdrs[4096];

/* value of the sample whose name+labels is exactly `series`; -1 if none */
static long long
metric(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

static long long
scrape(uint16_t port, const char *series)
{
	if (tp_http(port, "GET", "/metrics", NULL, 0, body, sizeof(body),
	    2000) != 200)
		return -1;
	return metric(body, series);
}

static void
t_endpoints(uint16_t port)
{
	int	 st;

	st = tp_http(port, "GET", "/healthz", NULL, 0, body, sizeof(body),
	    2000);
	is_int(st, 200, "/healthz 200");
	is_str(body, "ok\n", "/healthz body");
	is_int(tp_http_get(port, "/readyz", body, sizeof(body)), 200,
	    "/readyz 200 standalone");
	st = tp_http(port, "GET", "/metrics", hdrs, sizeof(hdrs), body,
	    sizeof(body), 2000);
	is_int(st, 200, "/metrics 200");
	ok(strstr(hdrs, "text/plain; version=0.0.4") != NULL,
	    "Prometheus text content type");
	ok(strstr(body, "# TYPE turncell_responses_total counter") != NULL,
	    "TYPE lines");
	is_int(metric(body, "turncell_allocations"), 0, "no allocations yet");
	is_int(metric(body, "turncell_portal_connected"), 0,
	    "portal_connected 0 standalone");
	is_int(metric(body, "turncell_draining"), 0, "not draining");
	is_int(tp_http_get(port, "/nope", body, sizeof(body)), 404,
	    "unknown path 404");
	is_int(tp_http_get(port, "/healthz/x", body, sizeof(body)), 404,
	    "no prefix match");
	is_int(tp_http(port, "POST", "/healthz", NULL, 0, body, sizeof(body),
	    2000), 405, "POST 405");
}

/* bytes that are not HTTP must not hurt the listener */
static void
t_garbage(uint16_t port, struct tu_relay *r)
{
	struct sockaddr_in	 sin;
	static const char	 junk[] =
				    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
				    "\r\n\r\n\0\0GET /healthz\r\n\r\n";
	struct timeval		 tv = { 1, 0 };
	char			 b[256];
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			(void)send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			(void)recv(fd, b, sizeof(b), 0);
		}
		close(fd);
	}
	ok(tu_relay_alive(r), "garbage on the health port: relay alive");
	is_int(tp_http_get(port, "/healthz", b, sizeof(b)), 200,
	    "and /healthz still answers");
}

static void
t_counters(uint16_t port, struct tu_relay *r, struct tu_client *c)
{
	struct taddr	 pa, from;
	uint8_t		 pkt[100], in[256];
	long long	 a401, a200, pk, by, ws;
	int		 peer, i, got = 0;

	a401 = scrape(port, "turncell_responses_total{method=\"allocate\","
	    "class=\"error\",code=\"401\"}");
	ws = scrape(port, "turncell_workers_started_total");
	tu_client_open(c, r, ADDR_V4);
	is_int(tu_allocate(c, 600, 0, 0), 0, "allocation");
	peer = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(peer, &pa);
	is_int(tu_chanbind(c, CHAN, &pa), 0, "channel");
	memset(pkt, 0x42, sizeof(pkt));
	for (i = 0; i < 10; i++) {
		tu_cdata_send(c, CHAN, pkt, sizeof(pkt));
		if (tu_recvfrom(peer, in, sizeof(in), 1000, &from) ==
		    (long)sizeof(pkt))
			got++;
	}
	is_int(got, 10, "10 packets relayed");
	tu_sendto(peer, &c->relayed[0], pkt, 50);
	tu_cdata_recv(c, NULL, in, sizeof(in), 1000);
	close(peer);

	is_int(scrape(port, "turncell_allocations"), 1, "allocations 1");
	is_int(metric(body, "turncell_channels"), 1, "channels 1");
	a200 = metric(body, "turncell_responses_total{method=\"allocate\","
	    "class=\"success\",code=\"200\"}");
	is_int(a200, 1, "allocate success counted");
	ok(metric(body, "turncell_responses_total{method=\"allocate\","
	    "class=\"error\",code=\"401\"}") > (a401 < 0 ? 0 : a401),
	    "allocate 401 counted");
	is_int(metric(body, "turncell_responses_total{method=\"channelbind\","
	    "class=\"success\",code=\"200\"}"), 1, "channelbind counted");
	pk = metric(body,
	    "turncell_relayed_packets_total{direction=\"client_to_peer\"}");
	by = metric(body,
	    "turncell_relayed_bytes_total{direction=\"client_to_peer\"}");
	ok(pk >= 10, "client_to_peer packets %lld", pk);
	ok(by >= 10 * (long long)sizeof(pkt), "client_to_peer bytes %lld", by);
	ok(metric(body, "turncell_relayed_packets_total{direction="
	    "\"peer_to_client\"}") >= 1, "peer_to_client packets");
	ok(metric(body, "turncell_workers_started_total") >
	    (ws < 0 ? 0 : ws), "workers_started_total moved");
}

/* /readyz says 503: the relay is draining */
static int
not_ready(void *arg)
{
	return tp_http_get(*(uint16_t *)arg, "/readyz", body,
	    sizeof(body)) == 503;
}

static void
t_drain(uint16_t port, struct tu_relay *r, struct tu_client *c)
{
	tu_kill(r->pid, SIGTERM);
	tu_wait_for(not_ready, &port, 2000);
	is_int(tp_http_get(port, "/readyz", body, sizeof(body)), 503,
	    "draining: /readyz 503");
	ok(tu_relay_alive(r), "draining: still running");
	is_int(tp_http_get(port, "/healthz", body, sizeof(body)), 200,
	    "draining: /healthz still 200");
	is_int(scrape(port, "turncell_draining"), 1, "draining gauge 1");
	is_int(tu_refresh(c, 0), 0, "REFRESH 0");
	ok(tp_relay_wait_exit(r, 2000), "relay exits after the last "
	    "allocation");
	ok(r->exited && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
	    "status 0 (0x%x)", r->status);
}

static void
t_bind_failure(void)
{
	struct tu_relay		 r;
	struct tp_relay_opts	 o;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	char			 addr[32];
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		ok(0, "a busy TCP port");
		return;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	memset(&o, 0, sizeof(o));
	o.health_port = ntohs(sin.sin_port);
	o.no_wait = 1;
	if (!ok(tp_relay_start(&r, &o) == 0, "relay with a busy health port"))
		return;
	ok(tp_relay_wait_exit(&r, 3000), "does not start");
	ok(r.exited && WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0,
	    "it exits with an error (0x%x)", r.status);
	ok(tu_log_count(&r, 0, addr) > 0, "the log names the address");
	tu_relay_stop(&r);
	close(fd);
}

static void
t_unit(void)
{
	char	 cmd[3 * PATH_MAX], dir[] = "/tmp/turncell-unit.XXXXXX";
	char	 unit[PATH_MAX], bin[PATH_MAX];
	int	 rc;

	if (system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
		skip(1, "systemd-analyze not installed");
		return;
	}
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	/* verify wants the ExecStart binary to exist: use ours */
	snprintf(unit, sizeof(unit), "%s", tu_path("contrib/turncell.service"));
	snprintf(bin, sizeof(bin), "%s", tu_path("bin/turncell"));
	snprintf(cmd, sizeof(cmd), "sed 's|/usr/local/bin/turncell|%s|' '%s' "
	    "> %s/turncell.service && systemd-analyze verify "
	    "%s/turncell.service 2>&1 | sed 's/^/# /'; "
	    "exit $(systemd-analyze verify %s/turncell.service >/dev/null "
	    "2>&1; echo $?)", bin, unit, dir, dir, dir);
	rc = system(cmd);
	ok(rc == 0, "systemd-analyze verify contrib/turncell.service");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
}

int
main(void)
{
	struct tu_relay		 r;
	struct tu_relay_opts	 o;
	struct tu_client	 c;
	uint16_t		 port;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	t_unit();
	memset(&o, 0, sizeof(o));
	o.health = "127.0.0.1:0";	/* the kernel's choice, via --port-file */
	o.allow[0] = "127.0.0.0/8";
	if (!ok(tu_relay_start(&r, &o) == 0 && r.health_port != 0,
	    "relay with a health listener on 127.0.0.1:%u", r.health_port))
		return done_testing();
	port = r.health_port;
	t_endpoints(port);
	t_garbage(port, &r);
	t_counters(port, &r, &c);
	t_drain(port, &r, &c);
	if (tap_failed())
		tu_log_dump(&r, 20);
	tu_client_close(&c);
	tu_relay_stop(&r);
	t_bind_failure();
	return done_testing();
}
