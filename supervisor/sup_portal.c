/*
 * sup_portal.c: the portal connection's shell: libwebsockets on the
 * supervisor's libev loop, driving the pure protocol core common/phx.c.
 *
 * Everything the protocol decides (what to send, when to heartbeat,
 * when to give up on a connection, how long to back off, what is fatal)
 * is in phx.c and tested there. This file only turns lws callbacks into
 * phx inputs and phx commands into lws calls, and runs one ev_timer from
 * phx_next_timeout(). Commands are executed by portal_pump() only; an
 * input that arrives while it runs (lws can call back from inside
 * lws_client_connect_via_info) just queues more commands for the same
 * pump, so nothing is drained re-entrantly. The supervisor hears from the
 * portal through one function, cb.on_event.
 *
 * Host names are resolved by sup_dns.c (no polling). Connections are told
 * apart by a generation number stored as the lws opaque user data: every
 * dial and every drop bumps it, so late callbacks for a connection the
 * core gave up on are ignored.
 *
 * The token is only copied into the upgrade request header and wiped
 * after; frames marked as holding the secret are wiped after sending.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <libwebsockets.h>

#include "log.h"
#include "phx.h"
#include "sup.h"
#include "sup_dns.h"
#include "sup_lws.h"
#include "sup_portal.h"

#define PORTAL_PROTO		"turncell-portal"
#define PORTAL_QUEUE		8
#define PORTAL_CA_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"

#ifndef TURNCELL_VERSION
#define TURNCELL_VERSION	"0"
#endif

struct portal_frame {
	unsigned char	*buf;		/* LWS_PRE + len bytes */
	size_t		 len;
	int		 wipe;		/* holds the secret */
};

struct portal {
	struct phx	*phx;
	struct portal_cb cb;
	struct lws_vhost *vh;
	struct sup_dns	*dns;
	ev_timer	 timer;
	int		 started;
	int		 joined;
	int		 left;
	int		 pumping;

	/* the current connection */
	struct lws	*wsi;
	uintptr_t	 gen;
	int		 live;		/* dialling or connected */
	int		 closing;	/* CLOSE: the next write is the close */
	int		 failed;	/* reported to phx while dialling */
	unsigned int	 attempt;	/* picks the next resolved address */
	struct lws	*cb_wsi;	/* inside this wsi's callback */
	int		 cb_drop;	/* ... which must return -1 */
	char		 addr[INET6_ADDRSTRLEN];

	struct portal_frame q[PORTAL_QUEUE];
	size_t		 qhead, qlen;
};

static struct portal portal;

static int	portal_lws_cb(struct lws *, enum lws_callback_reasons, void *,
		    void *, size_t);

static const struct lws_protocols portal_protocols[] = {
	{ PORTAL_PROTO, portal_lws_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void	portal_pump(struct portal *);

/* -------------------------------------------------------------------- */
/* outgoing frames */

static void
portal_frame_free(struct portal_frame *f)
{
	if (f->wipe)
		explicit_bzero(f->buf, LWS_PRE + f->len);
	free(f->buf);
	f->buf = NULL;
}

static void
portal_q_clear(struct portal *p)
{
	while (p->qlen > 0) {
		portal_frame_free(&p->q[p->qhead]);
		p->qhead = (p->qhead + 1) % PORTAL_QUEUE;
		p->qlen--;
	}
	p->qhead = 0;
}

static void
portal_queue(struct portal *p, const struct phx_cmd *c)
{
	struct portal_frame	*f;

	if (p->wsi == NULL || p->qlen == PORTAL_QUEUE) {
		log_debug("portal: frame not sent reason=\"%s\"", p->wsi == NULL ?
		    "not connected" : "queue full");
		return;
	}
	f = &p->q[(p->qhead + p->qlen) % PORTAL_QUEUE];
	if ((f->buf = malloc(LWS_PRE + c->len)) == NULL) {
		log_warn("portal: malloc");
		return;
	}
	memcpy(f->buf + LWS_PRE, c->frame, c->len);
	f->len = c->len;
	f->wipe = c->secret;
	p->qlen++;
	lws_callback_on_writable(p->wsi);
}

static int
portal_on_writeable(struct portal *p, struct lws *wsi)
{
	struct portal_frame	*f;
	int			 n;

	if (p->closing) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL,
		    (unsigned char *)"relay leaving", 13);
		return -1;	/* lws sends the close, awaits the ack */
	}
	if (p->qlen == 0)
		return 0;
	f = &p->q[p->qhead];
	n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
	portal_frame_free(f);
	p->qhead = (p->qhead + 1) % PORTAL_QUEUE;
	p->qlen--;
	if (n < (int)f->len) {
		phx_closed(p->phx, sup_now_ms(), "write failed");
		return -1;
	}
	if (p->qlen > 0)
		lws_callback_on_writable(wsi);
	return 0;
}

/* -------------------------------------------------------------------- */
/* connecting */

/* forget the current connection; its later callbacks are stale */
static void
portal_drop(struct portal *p)
{
	struct lws	*wsi = p->wsi;

	if (!p->live)
		return;
	p->live = 0;
	p->wsi = NULL;
	p->gen++;
	p->closing = 0;
	portal_q_clear(p);
	sup_dns_cancel(p->dns);
	if (wsi == NULL)
		return;
	if (wsi == p->cb_wsi)
		p->cb_drop = 1;		/* its callback returns -1 */
	else
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

static void
portal_dial(struct portal *p)
{
	const struct phx_url		*u = phx_url(p->phx);
	struct lws_client_connect_info	 ci;
	struct lws			*wsi;
	uintptr_t			 gen = p->gen;

	memset(&ci, 0, sizeof(ci));
	ci.context = sup_lws_context();
	ci.vhost = p->vh;
	ci.address = p->addr;
	ci.port = u->port;
	ci.path = u->path;
	ci.host = u->hosthdr;
	ci.ssl_connection = u->tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = PORTAL_PROTO;
	ci.ietf_version_or_minus_one = -1;
	ci.opaque_user_data = (void *)gen;
	p->failed = 0;
	wsi = lws_client_connect_via_info(&ci);
	if (p->gen != gen || p->failed)
		return;		/* failed inside the call: reported */
	if (wsi == NULL) {
		phx_fail(p->phx, sup_now_ms(), 0, "cannot start a connection");
		return;
	}
	p->wsi = wsi;
}

static void
portal_resolved(void *arg, int err, const struct addrinfo *res)
{
	struct portal		*p = arg;
	const struct addrinfo	*ai;
	const void		*a;
	unsigned int		 n;
	char			 why[128];

	if (err != 0 || res == NULL) {
		snprintf(why, sizeof(why), "cannot resolve %.60s: %s",
		    phx_url(p->phx)->host, gai_strerror(err));
		phx_fail(p->phx, sup_now_ms(), 0, why);
		portal_pump(p);
		return;
	}
	/* after a failed attempt, the next address of the host */
	for (n = 0, ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	for (ai = res, n = p->attempt % n; n > 0; n--)
		ai = ai->ai_next;
	if (ai->ai_family == AF_INET6)
		a = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
	else
		a = &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
	if (inet_ntop(ai->ai_family, a, p->addr, sizeof(p->addr)) == NULL)
		phx_fail(p->phx, sup_now_ms(), 0, "unusable address");
	else
		portal_dial(p);
	portal_pump(p);
}

static void
portal_connect(struct portal *p, unsigned int attempt)
{
	const struct phx_url	*u = phx_url(p->phx);

	portal_drop(p);
	p->live = 1;
	p->attempt = attempt;
	if (u->numeric) {
		/* an IP literal checked by inet_pton: at most 45 characters */
		snprintf(p->addr, sizeof(p->addr), "%.45s", u->host);
		portal_dial(p);
	} else if (sup_dns_start(p->dns, u->host, portal_resolved, p) == -1)
		phx_fail(p->phx, sup_now_ms(), 0, "cannot start resolving "
		    "(an earlier lookup still runs)");
}

/* -------------------------------------------------------------------- */
/* the pump: the only place phx commands are executed */

static void
portal_event(struct portal *p, enum portal_event ev, const char *why)
{
	if (ev == PORTAL_JOINED || ev == PORTAL_LOST)
		p->joined = ev == PORTAL_JOINED;
	if (ev == PORTAL_LEFT) {
		p->left = 1;
		if (p->phx != NULL)
			portal_drop(p);
	}
	if (p->cb.on_event != NULL)
		p->cb.on_event(p->cb.arg, ev, why);
}

static void
portal_exec(struct portal *p, const struct phx_cmd *c)
{
	switch (c->type) {
	case PHX_CMD_CONNECT:
		portal_connect(p, c->attempt);
		break;
	case PHX_CMD_SEND:
		portal_queue(p, c);
		break;
	case PHX_CMD_CLOSE:
		if (p->wsi != NULL) {
			portal_q_clear(p);
			p->closing = 1;
			lws_callback_on_writable(p->wsi);
		}
		break;
	case PHX_CMD_DROP:
		portal_drop(p);
		break;
	case PHX_CMD_LOG:
		log_msg(c->level, "%s", c->text);
		break;
	case PHX_CMD_JOINED:
		portal_event(p, PORTAL_JOINED, NULL);
		break;
	case PHX_CMD_LOST:
		portal_event(p, PORTAL_LOST, NULL);
		break;
	case PHX_CMD_FATAL:
		portal_event(p, PORTAL_FATAL, c->text);
		break;
	case PHX_CMD_LEFT:
		portal_event(p, PORTAL_LEFT, NULL);
		break;
	}
}

static void
portal_pump(struct portal *p)
{
	struct ev_loop	*loop = sup_lws_loop();
	struct phx_cmd	 c;
	uint64_t	 next, now;

	if (p->pumping)
		return;		/* the running pump takes the new commands */
	p->pumping = 1;
	while (phx_next_cmd(p->phx, &c) == 1)
		portal_exec(p, &c);
	p->pumping = 0;
	ev_timer_stop(loop, &p->timer);
	if ((next = phx_next_timeout(p->phx)) == UINT64_MAX)
		return;
	now = sup_now_ms();
	/* +1 ms: the core counts whole milliseconds */
	ev_timer_set(&p->timer, next > now ?
	    (double)(next - now) / 1000. + 0.001 : 0., 0.);
	ev_timer_start(loop, &p->timer);
}

static void
portal_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	phx_timeout(portal.phx, sup_now_ms());
	portal_pump(&portal);
}

/* -------------------------------------------------------------------- */
/* libwebsockets callbacks */

static int
portal_add_headers(struct portal *p, struct lws *wsi, void *in, size_t len)
{
	unsigned char	**pp = in, *end = *pp + len;
	char		  v[PHX_MAX_TOKEN + 16];
	int		  n, rc;

	if ((n = phx_auth_header(p->phx, v, sizeof(v))) == -1)
		return -1;
	rc = lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"X-Authorization:", (unsigned char *)v, n,
	    pp, end);
	explicit_bzero(v, sizeof(v));
	if (rc != 0)
		return -1;
	n = snprintf(v, sizeof(v), "turncell/%s", TURNCELL_VERSION);
	if (lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"User-Agent:", (unsigned char *)v, n,
	    pp, end) != 0)
		return -1;
	return 0;
}

static void
portal_on_conn_error(struct portal *p, struct lws *wsi, const char *in)
{
	unsigned int	 status;

	status = lws_http_client_http_response(wsi);
	/* lws 4.1 reports a refused upgrade without the status */
	if (status == 0 && in != NULL && strstr(in, "unauthorized") != NULL)
		status = 401;
	p->failed = 1;
	phx_fail(p->phx, sup_now_ms(), status, in);
}

static void
portal_on_rx(struct portal *p, struct lws *wsi, const void *in, size_t len)
{
	unsigned int	 flags = 0;

	if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
		flags |= PHX_RX_FINAL;
	if (lws_frame_is_binary(wsi))
		flags |= PHX_RX_BINARY;
	phx_rx(p->phx, sup_now_ms(), in, len, flags);
}

static int
portal_mine(struct portal *p, struct lws *wsi)
{
	return p->live && (uintptr_t)lws_get_opaque_user_data(wsi) == p->gen;
}

static int
portal_dispatch(struct portal *p, struct lws *wsi,
    enum lws_callback_reasons reason, void *in, size_t len)
{
	uint16_t	 code;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return portal_add_headers(p, wsi, in, len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		p->wsi = wsi;
		phx_open(p->phx, sup_now_ms());
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		portal_on_rx(p, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return portal_on_writeable(p, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		code = len >= 2 ? (uint16_t)(((const uint8_t *)in)[0] << 8 |
		    ((const uint8_t *)in)[1]) : 0;
		log_info("portal: the portal closed the connection code=%u",
		    code);
		break;		/* lws answers the close */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		portal_on_conn_error(p, wsi, in);
		return -1;
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		/* lws frees it: never touch it again */
		if (p->wsi == wsi)
			p->wsi = NULL;
		phx_closed(p->phx, sup_now_ms(), "connection closed");
		break;
	default:
		break;
	}
	return 0;
}

static int
portal_lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct portal	*p = &portal;
	struct lws	*outer = p->cb_wsi;
	int		 rc, outer_drop = p->cb_drop;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
	case LWS_CALLBACK_CLIENT_RECEIVE:
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!portal_mine(p, wsi))
			return -1;
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		if (!portal_mine(p, wsi))
			return 0;
		break;
	default:
		return 0;
	}
	p->cb_wsi = wsi;
	p->cb_drop = 0;
	rc = portal_dispatch(p, wsi, reason, in, len);
	portal_pump(p);
	if (p->cb_drop)
		rc = -1;
	p->cb_wsi = outer;
	p->cb_drop = outer_drop;
	return rc;
}

/* -------------------------------------------------------------------- */
/* API */

static int
portal_make_vhost(struct portal *p)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = portal_protocols;
	info.vhost_name = "portal";
	info.timeout_secs = PHX_CONNECT_MS / 1000;
	info.connect_timeout_secs = PHX_CONNECT_MS / 1000;
	if (phx_url(p->phx)->tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		/* the OS default paths are loaded too; the bundle avoids
		 * lws's compiled-in CA directory */
		if (access(PORTAL_CA_BUNDLE, R_OK) == 0)
			info.client_ssl_ca_filepath = PORTAL_CA_BUNDLE;
	}
	if ((p->vh = lws_create_vhost(sup_lws_context(), &info)) == NULL)
		return -1;
	return 0;
}

int
portal_start(const struct phx_conf *pc, const struct portal_cb *cb)
{
	struct portal	*p = &portal;
	struct ev_loop	*loop = sup_lws_loop();
	const char	*why;

	if (loop == NULL || sup_lws_context() == NULL) {
		log_warnx("portal: sup_lws_init() was not called");
		return -1;
	}
	if (p->started) {
		log_warnx("portal: already started");
		return -1;
	}
	if ((p->phx = phx_new(pc, sup_rng, NULL, &why)) == NULL) {
		log_kv(LOG_WARN, "portal: cannot start", "reason", why,
		    (char *)NULL);
		return -1;
	}
	if ((p->dns = sup_dns_new(loop)) == NULL ||
	    portal_make_vhost(p) == -1) {
		log_warnx("portal: cannot create the client vhost");
		return -1;
	}
	p->started = 1;
	p->cb = *cb;
	p->gen = 1;
	ev_init(&p->timer, portal_timer_cb);
	log_info("portal: starting url=%s://%s%s",
	    phx_url(p->phx)->tls ? "wss" : "ws", phx_url(p->phx)->hosthdr,
	    phx_url(p->phx)->path);
	/* the first attempt from the loop, never from inside portal_start */
	phx_start(p->phx, sup_now_ms());
	portal_pump(p);
	return 0;
}

void
portal_leave(void)
{
	struct portal	*p = &portal;

	if (!p->started) {
		if (!p->left)
			portal_event(p, PORTAL_LEFT, NULL);
		return;
	}
	phx_leave(p->phx, sup_now_ms());
	portal_pump(p);
}

int
portal_connected(void)
{
	return portal.joined;
}

uint64_t
portal_junk_frames(void)
{
	return portal.phx != NULL ? phx_stats(portal.phx)->junk : 0;
}
