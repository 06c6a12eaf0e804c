/*
 * sup_metrics.c: the supervisor's counters and their Prometheus text
 * (served at /metrics by sup_health.c through the health_src callbacks),
 * the readiness answer for /readyz, and the throughput formatting of the
 * 10 s stats line (README "Health and metrics").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stun.h"
#include "log.h"
#include "sup.h"
#include "sup_metrics.h"
#include "sup_portal.h"
#include "sup_xdp.h"
#include "bpf/xdp_relay.h"

struct sup_metrics	 sup_metrics;
static struct sup	*met_sup;

#define CODE_OTHER	999	/* the last slot when all others are taken */

struct mbuf {
	char	*b;
	size_t	 cap, len;
	int	 full;
};

void
sup_metrics_init(struct sup *s)
{
	met_sup = s;
}

const char *
sup_method_label(enum sup_method m)
{
	static const char *const names[SM_MAX] = { "binding", "allocate",
	    "refresh", "createpermission", "channelbind", "other" };

	if ((int)m < 0 || m >= SM_MAX)
		return "other";
	return names[m];
}

static enum sup_method
method_slot(uint16_t method)
{
	switch (method) {
	case STUN_BINDING:
		return SM_BINDING;
	case STUN_ALLOCATE:
		return SM_ALLOCATE;
	case STUN_REFRESH:
		return SM_REFRESH;
	case STUN_CREATE_PERMISSION:
		return SM_CREATE_PERMISSION;
	case STUN_CHANNEL_BIND:
		return SM_CHANNEL_BIND;
	default:
		return SM_OTHER;
	}
}

void
sup_metrics_response(uint16_t method, int cls, int code)
{
	struct sup_code_count	*row;
	size_t			 i;

	row = sup_metrics.responses[method_slot(method)];
	if (cls == STUN_SUCCESS)
		code = 200;
	else if (code <= 0 || code > 699)
		code = 500;
	for (i = 0; i < SUP_MAX_CODES - 1; i++) {
		if (row[i].code == 0)
			row[i].code = code;
		if (row[i].code == code) {
			row[i].count++;
			return;
		}
	}
	row[SUP_MAX_CODES - 1].code = CODE_OTHER;
	row[SUP_MAX_CODES - 1].count++;
}

void
sup_metrics_hook(void *arg, uint16_t method, int cls, int code)
{
	(void)arg;
	sup_metrics_response(method, cls, code);
}

static void
mput(struct mbuf *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
mput(struct mbuf *m, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (m->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->b + m->len, m->cap - m->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= m->cap - m->len) {
		m->full = 1;
		m->b[m->len] = '\0';
		return;
	}
	m->len += (size_t)n;
}

static void
mhead(struct mbuf *m, const char *name, const char *type, const char *help)
{
	mput(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
mone(struct mbuf *m, const char *name, const char *type, const char *help,
    unsigned long long v)
{
	mhead(m, name, type, help);
	mput(m, "%s %llu\n", name, v);
}

static void
mresponses(struct mbuf *m)
{
	const struct sup_code_count	*c;
	int				 i, j;

	mhead(m, "turncell_responses_total", "counter",
	    "STUN/TURN responses sent, by method, class and code.");
	for (i = 0; i < SM_MAX; i++) {
		for (j = 0; j < SUP_MAX_CODES; j++) {
			c = &sup_metrics.responses[i][j];
			if (c->code == 0)
				continue;
			mput(m, "turncell_responses_total{method=\"%s\","
			    "class=\"%s\",code=\"%d\"} %llu\n",
			    sup_method_label((enum sup_method)i),
			    c->code == 200 ? "success" : "error", c->code,
			    (unsigned long long)c->count);
		}
	}
}

/* a counter with one line per direction */
static void
mdirs(struct mbuf *m, const char *name, const char *help, uint64_t c2p,
    uint64_t p2c)
{
	mhead(m, name, "counter", help);
	mput(m, "%s{direction=\"client_to_peer\"} %llu\n", name,
	    (unsigned long long)c2p);
	mput(m, "%s{direction=\"peer_to_client\"} %llu\n", name,
	    (unsigned long long)p2c);
}

static void
mrelayed(struct mbuf *m, const struct turn_stats *st)
{
	mdirs(m, "turncell_relayed_packets_total",
	    "Packets relayed, by direction.", st->packets_c2p,
	    st->packets_p2c);
	mdirs(m, "turncell_relayed_bytes_total",
	    "Payload bytes relayed (ChannelData header excluded).",
	    st->bytes_c2p, st->bytes_p2c);
}

/* one labelled line per (label, value) pair */
static void
mlabels(struct mbuf *m, const char *name, const char *label,
    const char *const *vals, const uint64_t *counts, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		mput(m, "%s{%s=\"%s\"} %llu\n", name, label, vals[i],
		    (unsigned long long)counts[i]);
}

/* what the budgets and quotas refused (README.md, "Quotas and budgets") */
static void
mlimits(struct mbuf *m, const struct turn_stats *st)
{
	static const char *const classes[] = { "binding", "unauthenticated",
	    "failed_auth" };
	static const char *const reasons[] = { "source_quota", "user_quota",
	    "source_start_rate", "global_start_rate" };
	uint64_t	c[] = { st->capped_binding, st->capped_unauth,
			    st->capped_proven };
	uint64_t	d[] = { st->denied_ip, st->denied_user,
			    st->denied_start_src, st->denied_start_global };

	mhead(m, "turncell_replies_suppressed_total", "counter",
	    "Replies not sent: over a budget or the 3x size bound.");
	mlabels(m, "turncell_replies_suppressed_total", "class", classes, c,
	    3);
	mhead(m, "turncell_allocations_denied_total", "counter",
	    "ALLOCATEs refused by a quota or a start budget (486/508).");
	mlabels(m, "turncell_allocations_denied_total", "reason", reasons, d,
	    4);
	mone(m, "turncell_allocations_replaced_total", "counter",
	    "Allocations freed because their user allocated again from "
	    "another address (--one-allocation-per-user).", st->replaced);
}

static void
mworkers(struct mbuf *m)
{
	mone(m, "turncell_workers", "gauge", "Worker processes alive.",
	    sup_worker_count());
	mone(m, "turncell_workers_started_total", "counter",
	    "Worker processes started.", sup_metrics.workers_started);
	mone(m, "turncell_workers_crashed_total", "counter",
	    "Workers that died without being asked to.",
	    sup_metrics.workers_crashed);
	mone(m, "turncell_workers_killed_total", "counter",
	    "Workers killed for breaking the protocol or not starting.",
	    sup_metrics.workers_killed);
	mone(m, "turncell_sandbox_violations_total", "counter",
	    "Workers killed by the seccomp filter (SIGSYS).",
	    sup_metrics.sandbox_violations);
	mone(m, "turncell_spawner_up", "gauge",
	    "1 while the worker spawner runs; 0: the supervisor forks "
	    "workers itself.", (unsigned long long)sup_metrics.spawner_up);
	mone(m, "turncell_workers_direct_total", "counter",
	    "Workers the supervisor forked itself (no spawner).",
	    sup_metrics.workers_direct);
	mone(m, "turncell_relay_sockets_released_total", "counter",
	    "Allocations whose client data goes through their worker: the "
	    "supervisor's descriptor limit was near when they started.",
	    sup_metrics.rsock_released);
	mone(m, "turncell_worker_pool_size", "gauge",
	    "Idle workers the pool keeps (--worker-pool).",
	    met_sup->conf->pool_size);
	mone(m, "turncell_worker_pool_idle", "gauge",
	    "Idle workers ready now.", sup_pool_idle());
	mone(m, "turncell_worker_pool_taken_total", "counter",
	    "Allocations given an idle worker from the pool.",
	    sup_metrics.pool_taken);
	mone(m, "turncell_worker_pool_misses_total", "counter",
	    "Allocations that found the pool empty and waited for a worker "
	    "started for them.", sup_metrics.pool_misses);
	mone(m, "turncell_worker_pool_lost_total", "counter",
	    "Idle workers that died or could not be configured (replaced, "
	    "never handed out).", sup_metrics.pool_lost);
}

/* the bounded queues of the data path: what each dropped (README.md,
 * "Overload") */
static void
mqueues(struct mbuf *m, const struct sup_counters *c)
{
	static const char *const queues[] = { "listen_late", "listen_full",
	    "to_worker", "to_client", "relay_late", "relay_full", "to_peer",
	    "worker_late", "from_worker_late" };
	uint64_t	n[] = { c->listen_late, c->listen_full, c->worker_drops,
			    c->send_lost, c->peer_late, c->peer_full,
			    c->peer_send, c->worker_late,
			    c->from_worker_late };

	mhead(m, "turncell_queue_drops_total", "counter",
	    "Drops at the bounded queues of the data path, by queue.");
	mlabels(m, "turncell_queue_drops_total", "queue", queues, n, 9);
}

static void
mshell(struct mbuf *m, const struct turn_stats *st)
{
	const struct sup_counters	*c = &met_sup->cnt;

	mone(m, "turncell_dropped_datagrams_total", "counter",
	    "Datagrams dropped on input by the engine.", st->dropped);
	mone(m, "turncell_send_errors_total", "counter",
	    "UDP sends refused by the kernel.", c->send_errors);
	mone(m, "turncell_worker_drops_total", "counter",
	    "Datagrams to workers dropped (queue full, worker gone).",
	    c->worker_drops);
	mqueues(m, c);
	mone(m, "turncell_worker_log_suppressed_total", "counter",
	    "Worker log lines dropped by the rate limit.",
	    c->log_suppressed);
	mone(m, "turncell_log_dropped_total", "counter",
	    "Log lines dropped because stderr was full.",
	    (unsigned long long)log_dropped());
	mone(m, "turncell_peer_denied_total", "counter",
	    "Sends to peers refused by a worker's own peer filter.",
	    c->peer_denied);
	mdirs(m, "turncell_throttled_packets_total",
	    "Datagrams dropped over --max-bps, by direction.",
	    c->throttled_c2p, c->throttled_p2c);
}

/* the XDP fast path (--xdp), when it is attached: its own counters, not
 * in turncell_relayed_*, which count what the workers relay */
static void
mxdp(struct mbuf *m)
{
	static const char *const reasons[] = { "not_udp", "fragment",
	    "options", "bad_length", "stun", "no_channel", "no_peer",
	    "oversize", "checksum", "error" };
	struct sup_xdp_stats	st;

	if (sup_xdp_stats(&st) == -1)
		return;
	mone(m, "turncell_xdp_channels", "gauge",
	    "Channels relayed by the XDP fast path.", st.channels);
	mone(m, "turncell_xdp_channels_refused_total", "counter",
	    "Channels left to the workers: the XDP maps were full.",
	    st.full);
	mdirs(m, "turncell_xdp_packets_total",
	    "Packets relayed by the XDP fast path, by direction.",
	    st.v[XR_C2P_PACKETS], st.v[XR_P2C_PACKETS]);
	mdirs(m, "turncell_xdp_bytes_total",
	    "Payload bytes relayed by the XDP fast path, by direction.",
	    st.v[XR_C2P_BYTES], st.v[XR_P2C_BYTES]);
	mhead(m, "turncell_xdp_passed_total", "counter",
	    "Packets the XDP program left to the kernel and userspace, "
	    "by reason.");
	mlabels(m, "turncell_xdp_passed_total", "reason", reasons,
	    &st.v[XR_PASS_NOT_UDP], sizeof(reasons) / sizeof(reasons[0]));
}

size_t
sup_metrics_format(char *buf, size_t cap)
{
	struct mbuf		m = { buf, cap, 0, 0 };
	struct turn_stats	st;
	char			*nl;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	memset(&st, 0, sizeof(st));
	if (met_sup != NULL && met_sup->turn != NULL)
		turn_get_stats(met_sup->turn, &st);
	mone(&m, "turncell_allocations", "gauge", "Live allocations.",
	    st.allocations);
	mone(&m, "turncell_channels", "gauge", "Bound channels.",
	    st.channels);
	mresponses(&m);
	mrelayed(&m, &st);
	mlimits(&m, &st);
	mworkers(&m);
	if (met_sup != NULL)
		mshell(&m, &st);
	mxdp(&m);
	mone(&m, "turncell_portal_connected", "gauge",
	    "1 while connected to the portal.",
	    (unsigned long long)sup_metrics.portal_connected);
	mone(&m, "turncell_portal_junk_frames_total", "counter",
	    "Frames from the portal ignored as junk (binary, not JSON, "
	    "over 64 KiB, too deep, without an event).",
	    (unsigned long long)portal_junk_frames());
	mone(&m, "turncell_draining", "gauge",
	    "1 after SIGTERM: new allocations are refused.",
	    (unsigned long long)sup_metrics.draining);
	/* a truncated text ends at its last complete line */
	if (m.full && (nl = strrchr(buf, '\n')) != NULL) {
		nl[1] = '\0';
		m.len = (size_t)(nl + 1 - buf);
	}
	return m.len;
}

size_t
sup_metrics_cb(void *arg, char *buf, size_t cap)
{
	(void)arg;
	return sup_metrics_format(buf, cap);
}

int
sup_ready_cb(void *arg)
{
	const struct sup	*s = arg;

	if (sup_metrics.draining)
		return 0;
	return s->conf->token == NULL || portal_connected();
}

/* as the Firezone relay logs it: two decimals, B/s, kB/s, ... TB/s (x1000) */
void
sup_fmt_throughput(double bps, char *out, size_t cap)
{
	static const char *const units[] = { "B/s", "kB/s", "MB/s", "GB/s",
	    "TB/s" };
	size_t	u = 0;

	if (bps < 0)
		bps = 0;
	while (bps >= 1000.0 && u < sizeof(units) / sizeof(units[0]) - 1) {
		bps /= 1000.0;
		u++;
	}
	snprintf(out, cap, "%.2f %s", bps, units[u]);
}
