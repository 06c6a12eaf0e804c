/*
 * sup_portal.c: the portal connection (reference §8, DESIGN §5).
 *
 * A libwebsockets client on the supervisor's libev loop speaking Phoenix
 * channels V1 (JSON objects {topic, event, payload, ref}, built and parsed
 * with cJSON only). After every (re)connect: join "relay" with the
 * stamp_secret, then a heartbeat at once and every 30 s; a heartbeat reply
 * must arrive within 5 s. Transient failures reconnect with jittered
 * exponential backoff; an HTTP 4xx on the upgrade and disconnect
 * token_expired are fatal (reported through on_fatal). TURN never waits
 * for any of this: nothing here blocks, host names are resolved with
 * getaddrinfo_a() polled from a timer.
 *
 * Connections are told apart by a generation number stored as the lws
 * opaque user data: every connect and every abandon bumps it, so late
 * callbacks for a connection we gave up on are ignored.
 *
 * The token and the secret are never logged, and the buffers that held
 * the join frame are wiped after use.
 */
#define _GNU_SOURCE		/* getaddrinfo_a */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ev.h>
#include <libwebsockets.h>

#include "log.h"
#include "sup_lws.h"
#include "sup_portal.h"

#define PORTAL_PROTO		"turncell-portal"
#define PORTAL_MAX_FRAME	(64 * 1024)	/* more: drop, reconnect */
#define PORTAL_MAX_TOKEN	2048	/* fits lws's handshake buffer */
#define PORTAL_HEARTBEAT_S	30.0
#define PORTAL_HB_REPLY_S	5.0
#define PORTAL_CONNECT_S	10.0	/* resolve + connect + handshake */
#define PORTAL_CLOSE_S		3.0	/* close handshake on leave */
#define PORTAL_BACKOFF_MIN	0.5
#define PORTAL_BACKOFF_MUL	1.5
#define PORTAL_BACKOFF_MAX	60.0
#define PORTAL_DNS_POLL_S	0.02
#define PORTAL_QUEUE		8
#define PORTAL_CA_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"

#ifndef TURNCELL_VERSION
#define TURNCELL_VERSION	"0"
#endif

enum portal_state {
	PS_NONE = 0,		/* portal_start not called */
	PS_WAIT,		/* backoff timer running */
	PS_RESOLVING,		/* getaddrinfo_a in flight */
	PS_CONNECTING,		/* TCP/TLS/upgrade in flight */
	PS_OPEN,		/* websocket up, join sent */
	PS_JOINED,		/* join acknowledged */
	PS_CLOSING,		/* portal_leave: close frame requested */
	PS_LEFT,		/* portal_leave done */
	PS_FATAL
};

struct portal_frame {
	unsigned char	*buf;		/* LWS_PRE + len bytes */
	size_t		 len;
	int		 wipe;		/* holds the secret */
};

struct portal {
	enum portal_state state;
	struct portal_cb cb;
	char		*token;
	char		*secret;
	int		 tls;
	int		 port;
	int		 numeric;	/* host is an IP literal */
	char		 host[256];	/* no brackets */
	char		 hosthdr[272];	/* Host: ([v6], :port) */
	char		 path[2048];	/* path and query */
	char		 addr[256];	/* numeric address dialled */
	struct lws_vhost *vh;
	struct lws	*wsi;
	uintptr_t	 gen;
	int		 leaving;
	int		 joined;	/* on_state(1) reported */
	int64_t		 next_ref;
	int64_t		 join_ref;
	int64_t		 hb_ref;	/* heartbeat in flight, -1 */
	double		 backoff;
	double		 hb_interval;

	struct portal_frame q[PORTAL_QUEUE];
	size_t		 qhead, qlen;

	unsigned char	 rx[PORTAL_MAX_FRAME];
	size_t		 rx_len;
	int		 rx_in;		/* inside a message */
	int		 rx_bin;

	ev_timer	 retry_t;
	ev_timer	 conn_t;
	ev_timer	 hb_t;
	ev_timer	 hbwait_t;
	ev_timer	 leave_t;
	ev_timer	 dns_t;

	struct gaicb	 gai;
	struct gaicb	*gai_list[1];
	struct addrinfo	 gai_hints;
	int		 gai_busy;
	unsigned int	 addr_idx;	/* resolved address to dial */
};

static struct portal portal;

static int	portal_lws_cb(struct lws *, enum lws_callback_reasons, void *,
		    void *, size_t);

static const struct lws_protocols portal_protocols[] = {
	{ PORTAL_PROTO, portal_lws_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void	portal_connect(struct portal *);
static void	portal_schedule_retry(struct portal *);
static void	portal_finish_leave(struct portal *);

/* -------------------------------------------------------------------- */
/* small helpers */

/* copy a portal-supplied string for logging: printable ASCII, bounded */
static const char *
portal_clean(const char *s, char *out, size_t cap)
{
	size_t	 i;

	if (s == NULL)
		s = "";
	for (i = 0; i + 1 < cap && s[i] != '\0'; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	return out;
}

static size_t
portal_urlenc(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 n = 0;
	unsigned char	 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (n + 1 >= cap)
				return 0;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= cap)
				return 0;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		}
	}
	if (n >= cap)
		return 0;
	out[n] = '\0';
	return n;
}

static int
portal_append_param(char *path, size_t cap, int *first, const char *k,
    const char *v)
{
	char	 enc[1024];
	size_t	 len = strlen(path);
	int	 n;

	if (v == NULL)
		return 0;
	if (portal_urlenc(v, enc, sizeof(enc)) == 0 && *v != '\0')
		return -1;
	if (*v == '\0')
		enc[0] = '\0';
	n = snprintf(path + len, cap - len, "%c%s=%s", *first ? '?' : '&',
	    k, enc);
	if (n < 0 || (size_t)n >= cap - len)
		return -1;
	*first = 0;
	return 0;
}

static double
portal_jitter(double d)
{
	/* uniform in [0.5 d, 1.5 d] */
	return d * (0.5 + (double)arc4random_uniform(1000001) / 1000000.0);
}

/* -------------------------------------------------------------------- */
/* URL */

static int
portal_parse_url(struct portal *p, const char *url, const char **why)
{
	const char	*s, *auth_end, *h, *hend, *portp = NULL, *path, *pend;
	size_t		 hlen, plen, i;
	char		*end;
	unsigned long	 port;
	int		 v6 = 0;

	if (strncasecmp(url, "http://", 7) == 0) {
		p->tls = 0;
		s = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		p->tls = 1;
		s = url + 8;
	} else if (strncasecmp(url, "ws://", 5) == 0) {
		p->tls = 0;
		s = url + 5;
	} else if (strncasecmp(url, "wss://", 6) == 0) {
		p->tls = 1;
		s = url + 6;
	} else {
		*why = "unsupported URL scheme (use http, https, ws or wss)";
		return -1;
	}
	p->port = p->tls ? 443 : 80;
	auth_end = s + strcspn(s, "/?#");
	if (memchr(s, '@', (size_t)(auth_end - s)) != NULL) {
		*why = "user information in the URL is not supported";
		return -1;
	}
	if (*s == '[') {
		h = s + 1;
		hend = memchr(h, ']', (size_t)(auth_end - h));
		if (hend == NULL) {
			*why = "unterminated IPv6 literal";
			return -1;
		}
		if (hend + 1 < auth_end) {
			if (hend[1] != ':') {
				*why = "bad host";
				return -1;
			}
			portp = hend + 2;
		}
		v6 = 1;
	} else {
		h = s;
		hend = memchr(s, ':', (size_t)(auth_end - s));
		if (hend != NULL)
			portp = hend + 1;
		else
			hend = auth_end;
	}
	hlen = (size_t)(hend - h);
	if (hlen == 0 || hlen >= sizeof(p->host)) {
		*why = "missing or overlong host";
		return -1;
	}
	for (i = 0; i < hlen; i++) {
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' &&
		    h[i] != '.' && h[i] != '_' && !(v6 && h[i] == ':')) {
			*why = "bad character in host";
			return -1;
		}
	}
	memcpy(p->host, h, hlen);
	p->host[hlen] = '\0';
	if (portp != NULL) {
		if (portp == auth_end || !isdigit((unsigned char)*portp)) {
			*why = "bad port";
			return -1;
		}
		errno = 0;
		port = strtoul(portp, &end, 10);
		if (errno != 0 || end != auth_end || port == 0 ||
		    port > 65535) {
			*why = "bad port";
			return -1;
		}
		p->port = (int)port;
	}
	snprintf(p->hosthdr, sizeof(p->hosthdr), "%s%s%s%s%.*s",
	    v6 ? "[" : "", p->host, v6 ? "]" : "", portp ? ":" : "",
	    portp ? (int)(auth_end - portp) : 0, portp ? portp : "");

	/* base path without its trailing '/', then /relay/websocket */
	path = auth_end;
	pend = path + strcspn(path, "?#");
	while (pend > path && pend[-1] == '/')
		pend--;
	plen = (size_t)(pend - path);
	for (i = 0; i < plen; i++) {
		if ((unsigned char)path[i] <= 0x20 ||
		    (unsigned char)path[i] >= 0x7f) {
			*why = "bad character in path";
			return -1;
		}
	}
	if (plen + sizeof("/relay/websocket") > sizeof(p->path) / 2) {
		*why = "overlong path";
		return -1;
	}
	memcpy(p->path, path, plen);
	memcpy(p->path + plen, "/relay/websocket",
	    sizeof("/relay/websocket"));
	return 0;
}

static int
portal_build_query(struct portal *p, const struct portal_conf *pc)
{
	char	 port[8];
	int	 first = 1;

	snprintf(port, sizeof(port), "%u", (unsigned)pc->port);
	if (portal_append_param(p->path, sizeof(p->path), &first, "name",
	    pc->name) == -1 ||
	    portal_append_param(p->path, sizeof(p->path), &first, "ipv4",
	    pc->ipv4) == -1 ||
	    portal_append_param(p->path, sizeof(p->path), &first, "ipv6",
	    pc->ipv6) == -1 ||
	    portal_append_param(p->path, sizeof(p->path), &first, "port",
	    port) == -1)
		return -1;
	return 0;
}

static int
portal_token_ok(const char *t)
{
	size_t	 i;

	for (i = 0; t[i] != '\0'; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return 0;
	return i > 0 && i <= PORTAL_MAX_TOKEN;
}

/* -------------------------------------------------------------------- */
/* outgoing frames */

static void
portal_q_clear(struct portal *p)
{
	struct portal_frame	*f;

	while (p->qlen > 0) {
		f = &p->q[p->qhead];
		if (f->wipe)
			explicit_bzero(f->buf, LWS_PRE + f->len);
		free(f->buf);
		f->buf = NULL;
		p->qhead = (p->qhead + 1) % PORTAL_QUEUE;
		p->qlen--;
	}
	p->qhead = 0;
}

/* queue {"topic","event","payload","ref"}; payload is consumed */
static int
portal_send(struct portal *p, const char *topic, const char *event,
    cJSON *payload, int64_t ref, int wipe)
{
	struct portal_frame	*f;
	cJSON			*o;
	char			*txt;
	size_t			 len;

	if (p->wsi == NULL || p->qlen == PORTAL_QUEUE) {
		cJSON_Delete(payload);
		return -1;
	}
	if ((o = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(payload);
		return -1;
	}
	cJSON_AddItemToObject(o, "topic", cJSON_CreateStringReference(topic));
	cJSON_AddItemToObject(o, "event", cJSON_CreateStringReference(event));
	cJSON_AddItemToObject(o, "payload", payload);
	cJSON_AddItemToObject(o, "ref", cJSON_CreateNumber((double)ref));
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		return -1;
	len = strlen(txt);
	f = &p->q[(p->qhead + p->qlen) % PORTAL_QUEUE];
	if ((f->buf = malloc(LWS_PRE + len)) == NULL) {
		if (wipe)
			explicit_bzero(txt, len);
		cJSON_free(txt);
		return -1;
	}
	memcpy(f->buf + LWS_PRE, txt, len);
	if (wipe)
		explicit_bzero(txt, len);
	cJSON_free(txt);
	f->len = len;
	f->wipe = wipe;
	p->qlen++;
	lws_callback_on_writable(p->wsi);
	return 0;
}

static void
portal_send_join(struct portal *p)
{
	cJSON	*pl;

	if ((pl = cJSON_CreateObject()) == NULL)
		return;
	/* a reference: the secret is not copied into cJSON's heap */
	cJSON_AddItemToObject(pl, "stamp_secret",
	    cJSON_CreateStringReference(p->secret));
	p->join_ref = p->next_ref++;
	portal_send(p, "relay", "phx_join", pl, p->join_ref, 1);
}

static void
portal_send_heartbeat(struct portal *p)
{
	struct ev_loop	*loop = sup_lws_loop();

	if (p->hb_ref != -1)
		return;		/* one outstanding at a time */
	p->hb_ref = p->next_ref++;
	if (portal_send(p, "phoenix", "heartbeat", cJSON_CreateObject(),
	    p->hb_ref, 0) == -1) {
		p->hb_ref = -1;
		return;
	}
	ev_timer_set(&p->hbwait_t, PORTAL_HB_REPLY_S, 0.);
	ev_timer_start(loop, &p->hbwait_t);
}

/* -------------------------------------------------------------------- */
/* connection life cycle */

static void
portal_stop_timers(struct portal *p)
{
	struct ev_loop	*loop = sup_lws_loop();

	ev_timer_stop(loop, &p->retry_t);
	ev_timer_stop(loop, &p->conn_t);
	ev_timer_stop(loop, &p->hb_t);
	ev_timer_stop(loop, &p->hbwait_t);
	ev_timer_stop(loop, &p->dns_t);
}

static void
portal_set_joined(struct portal *p, int joined)
{
	if (p->joined == joined)
		return;
	p->joined = joined;
	if (p->cb.on_state != NULL)
		p->cb.on_state(p->cb.arg, joined);
}

/*
 * Forget the current connection. From inside one of its own callbacks the
 * caller returns -1 to lws; from anywhere else (timers) it is killed
 * asynchronously. Either way its later callbacks carry a stale generation.
 */
static void
portal_detach(struct portal *p, int in_cb)
{
	struct lws	*wsi = p->wsi;

	p->wsi = NULL;
	p->gen++;
	portal_q_clear(p);
	p->rx_in = 0;
	p->hb_ref = -1;
	portal_stop_timers(p);
	if (wsi != NULL && !in_cb)
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	portal_set_joined(p, 0);
}

/* a transient failure: drop what we have and reconnect later */
static void
portal_lost(struct portal *p, int in_cb)
{
	portal_detach(p, in_cb);
	if (p->leaving) {
		portal_finish_leave(p);
		return;
	}
	portal_schedule_retry(p);
}

static void
portal_fatal(struct portal *p, int in_cb, const char *why)
{
	static char	 msg[160];

	snprintf(msg, sizeof(msg), "%s", why);
	portal_detach(p, in_cb);
	if (p->leaving) {
		portal_finish_leave(p);
		return;
	}
	p->state = PS_FATAL;
	log_warnx("portal: fatal: %s", msg);
	if (p->cb.on_fatal != NULL)
		p->cb.on_fatal(p->cb.arg, msg);
}

static void
portal_schedule_retry(struct portal *p)
{
	struct ev_loop	*loop = sup_lws_loop();
	double		 d;

	d = portal_jitter(p->backoff);
	p->backoff *= PORTAL_BACKOFF_MUL;
	if (p->backoff > PORTAL_BACKOFF_MAX)
		p->backoff = PORTAL_BACKOFF_MAX;
	p->state = PS_WAIT;
	log_info("portal: reconnecting in %.1f s", d);
	ev_timer_set(&p->retry_t, d, 0.);
	ev_timer_start(loop, &p->retry_t);
}

static void
portal_finish_leave(struct portal *p)
{
	struct ev_loop	*loop = sup_lws_loop();

	if (p->state == PS_LEFT)
		return;
	portal_stop_timers(p);
	ev_timer_stop(loop, &p->leave_t);
	p->state = PS_LEFT;
	log_info("portal: left");
	if (p->cb.on_left != NULL)
		p->cb.on_left(p->cb.arg);
}

static void
portal_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	portal_connect(&portal);
}

static void
portal_conn_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct portal	*p = &portal;

	log_warnx("portal: no connection to %s within %.0f s", p->hosthdr,
	    PORTAL_CONNECT_S);
	if (p->state == PS_RESOLVING && gai_cancel(&p->gai) == EAI_CANCELED)
		p->gai_busy = 0;
	p->addr_idx++;
	portal_lost(p, 0);
}

static void
portal_hb_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	portal_send_heartbeat(&portal);
}

static void
portal_hbwait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	log_warnx("portal: heartbeat not answered within %.0f s, "
	    "reconnecting", PORTAL_HB_REPLY_S);
	portal_lost(&portal, 0);
}

static void
portal_leave_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct portal	*p = &portal;

	if (p->wsi != NULL)
		log_warnx("portal: close handshake not finished, dropping");
	portal_detach(p, 0);
	portal_finish_leave(p);
}

static void
portal_dial(struct portal *p)
{
	struct lws_client_connect_info	 ci;
	struct lws			*wsi;
	uintptr_t			 gen;

	memset(&ci, 0, sizeof(ci));
	ci.context = sup_lws_context();
	ci.vhost = p->vh;
	ci.address = p->addr;
	ci.port = p->port;
	ci.path = p->path;
	ci.host = p->hosthdr;
	ci.ssl_connection = p->tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = PORTAL_PROTO;
	ci.ietf_version_or_minus_one = -1;
	gen = ++p->gen;
	ci.opaque_user_data = (void *)gen;
	p->state = PS_CONNECTING;
	p->wsi = NULL;
	log_info("portal: connecting to %s://%s%s", p->tls ? "wss" : "ws",
	    p->hosthdr, p->path);
	wsi = lws_client_connect_via_info(&ci);
	if (p->gen != gen || p->state != PS_CONNECTING)
		return;		/* failed inside the call: handled */
	if (wsi == NULL) {
		log_warnx("portal: cannot start a connection to %s",
		    p->hosthdr);
		portal_lost(p, 1);
		return;
	}
	p->wsi = wsi;
}

static void
portal_dns_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct portal	*p = &portal;
	struct addrinfo	*ai;
	const void	*a;
	unsigned int	 n;
	int		 rc;

	if ((rc = gai_error(&p->gai)) == EAI_INPROGRESS)
		return;
	ev_timer_stop(loop, &p->dns_t);
	p->gai_busy = 0;
	if (p->state != PS_RESOLVING) {
		if (rc == 0 && p->gai.ar_result != NULL)
			freeaddrinfo(p->gai.ar_result);
		p->gai.ar_result = NULL;
		return;
	}
	if (rc != 0 || p->gai.ar_result == NULL) {
		log_warnx("portal: cannot resolve %s: %s", p->host,
		    gai_strerror(rc));
		portal_lost(p, 1);
		return;
	}
	/* after a failed attempt, the next address of the host */
	for (n = 0, ai = p->gai.ar_result; ai != NULL; ai = ai->ai_next)
		n++;
	for (ai = p->gai.ar_result, n = p->addr_idx % n; n > 0; n--)
		ai = ai->ai_next;
	if (ai->ai_family == AF_INET6)
		a = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
	else
		a = &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
	if (inet_ntop(ai->ai_family, a, p->addr, sizeof(p->addr)) == NULL) {
		freeaddrinfo(p->gai.ar_result);
		p->gai.ar_result = NULL;
		portal_lost(p, 1);
		return;
	}
	freeaddrinfo(p->gai.ar_result);
	p->gai.ar_result = NULL;
	portal_dial(p);
}

static void
portal_connect(struct portal *p)
{
	struct ev_loop	*loop = sup_lws_loop();

	if (p->leaving || p->state == PS_FATAL)
		return;
	ev_timer_set(&p->conn_t, PORTAL_CONNECT_S, 0.);
	ev_timer_start(loop, &p->conn_t);
	if (p->numeric) {
		snprintf(p->addr, sizeof(p->addr), "%s", p->host);
		portal_dial(p);
		return;
	}
	if (p->gai_busy && gai_error(&p->gai) != EAI_INPROGRESS) {
		/* an abandoned lookup has finished meanwhile */
		if (p->gai.ar_result != NULL)
			freeaddrinfo(p->gai.ar_result);
		p->gai_busy = 0;
	}
	if (p->gai_busy) {
		/* an abandoned lookup still runs: try again later */
		portal_lost(p, 1);
		return;
	}
	memset(&p->gai, 0, sizeof(p->gai));
	memset(&p->gai_hints, 0, sizeof(p->gai_hints));
	p->gai_hints.ai_family = AF_UNSPEC;
	p->gai_hints.ai_socktype = SOCK_STREAM;
	p->gai.ar_name = p->host;
	p->gai.ar_request = &p->gai_hints;
	p->gai_list[0] = &p->gai;
	if (getaddrinfo_a(GAI_NOWAIT, p->gai_list, 1, NULL) != 0) {
		log_warnx("portal: cannot start resolving %s", p->host);
		portal_lost(p, 1);
		return;
	}
	p->gai_busy = 1;
	p->state = PS_RESOLVING;
	ev_timer_set(&p->dns_t, PORTAL_DNS_POLL_S, PORTAL_DNS_POLL_S);
	ev_timer_start(loop, &p->dns_t);
}

/* -------------------------------------------------------------------- */
/* incoming frames */

static void
portal_on_reply(struct portal *p, cJSON *ref, cJSON *payload)
{
	cJSON		*st, *resp, *reason;
	char		 buf[128];
	int		 ok;
	int64_t		 r;

	if (!cJSON_IsNumber(ref)) {
		log_debug("portal: reply without a numeric ref ignored");
		return;
	}
	r = (int64_t)ref->valuedouble;
	if ((double)r != ref->valuedouble)
		return;
	st = cJSON_GetObjectItemCaseSensitive(payload, "status");
	ok = cJSON_IsString(st) && strcmp(st->valuestring, "ok") == 0;
	if (r == p->hb_ref) {
		p->hb_ref = -1;
		ev_timer_stop(sup_lws_loop(), &p->hbwait_t);
		if (!ok)
			log_warnx("portal: heartbeat answered with an error");
		return;
	}
	if (r != p->join_ref) {
		log_debug("portal: reply to unknown ref %lld ignored",
		    (long long)r);
		return;
	}
	if (ok) {
		log_info("portal: joined topic relay");
		p->state = PS_JOINED;
		p->backoff = PORTAL_BACKOFF_MIN;
		portal_set_joined(p, 1);
		return;
	}
	resp = cJSON_GetObjectItemCaseSensitive(payload, "response");
	reason = cJSON_GetObjectItemCaseSensitive(resp, "reason");
	log_warnx("portal: join refused: %s", portal_clean(
	    cJSON_IsString(reason) ? reason->valuestring : "unknown",
	    buf, sizeof(buf)));
}

/* returns -1 when the connection must go (already handled) */
static int
portal_on_message(struct portal *p)
{
	cJSON		*o, *ev, *payload, *reason;
	const char	*e;
	char		 buf[128];
	int		 rc = 0;

	if ((o = cJSON_ParseWithLength((const char *)p->rx, p->rx_len)) ==
	    NULL || !cJSON_IsObject(o)) {
		log_warnx("portal: malformed JSON frame ignored");
		cJSON_Delete(o);
		return 0;
	}
	ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	payload = cJSON_GetObjectItemCaseSensitive(o, "payload");
	if (!cJSON_IsString(ev)) {
		log_warnx("portal: frame without an event ignored");
		goto done;
	}
	e = ev->valuestring;
	if (strcmp(e, "phx_reply") == 0) {
		portal_on_reply(p, cJSON_GetObjectItemCaseSensitive(o, "ref"),
		    payload);
	} else if (strcmp(e, "init") == 0) {
		log_debug("portal: init received");
	} else if (strcmp(e, "phx_error") == 0) {
		log_debug("portal: phx_error received");
	} else if (strcmp(e, "phx_close") == 0) {
		log_info("portal: channel closed by the portal, reconnecting");
		portal_lost(p, 1);
		rc = -1;
	} else if (strcmp(e, "disconnect") == 0) {
		reason = cJSON_GetObjectItemCaseSensitive(payload, "reason");
		if (cJSON_IsString(reason) &&
		    strcmp(reason->valuestring, "token_expired") == 0) {
			portal_fatal(p, 1, "token_expired");
		} else {
			log_warnx("portal: disconnected by the portal (%s), "
			    "reconnecting", portal_clean(cJSON_IsString(reason)
			    ? reason->valuestring : "no reason", buf,
			    sizeof(buf)));
			portal_lost(p, 1);
		}
		rc = -1;
	} else {
		log_debug("portal: event %s ignored",
		    portal_clean(e, buf, sizeof(buf)));
	}
done:
	cJSON_Delete(o);
	return rc;
}

static int
portal_on_rx(struct portal *p, struct lws *wsi, const void *in, size_t len)
{
	if (!p->rx_in) {
		p->rx_in = 1;
		p->rx_len = 0;
		p->rx_bin = lws_frame_is_binary(wsi);
	}
	if (len > sizeof(p->rx) - p->rx_len) {
		log_warnx("portal: frame larger than %d bytes, reconnecting",
		    PORTAL_MAX_FRAME);
		portal_lost(p, 1);
		return -1;
	}
	memcpy(p->rx + p->rx_len, in, len);
	p->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	p->rx_in = 0;
	if (p->rx_bin) {
		log_warnx("portal: binary frame ignored");
		return 0;
	}
	return portal_on_message(p);
}

static int
portal_on_writeable(struct portal *p, struct lws *wsi)
{
	struct portal_frame	*f;
	int			 n;

	if (p->state == PS_CLOSING) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL,
		    (unsigned char *)"relay leaving", 13);
		return -1;	/* lws sends the close, awaits the ack */
	}
	if (p->qlen == 0)
		return 0;
	f = &p->q[p->qhead];
	n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
	if (f->wipe)
		explicit_bzero(f->buf, LWS_PRE + f->len);
	free(f->buf);
	f->buf = NULL;
	p->qhead = (p->qhead + 1) % PORTAL_QUEUE;
	p->qlen--;
	if (n < (int)f->len) {
		log_warnx("portal: write failed, reconnecting");
		portal_lost(p, 1);
		return -1;
	}
	if (p->qlen > 0)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
portal_add_headers(struct portal *p, struct lws *wsi, void *in, size_t len)
{
	unsigned char	**pp = in, *end = *pp + len;
	char		  v[PORTAL_MAX_TOKEN + 16];
	int		  n, rc;

	n = snprintf(v, sizeof(v), "Bearer %s", p->token);
	if (n < 0 || (size_t)n >= sizeof(v))
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
portal_on_established(struct portal *p, struct lws *wsi)
{
	struct ev_loop	*loop = sup_lws_loop();

	ev_timer_stop(loop, &p->conn_t);
	p->wsi = wsi;
	p->state = PS_OPEN;
	p->next_ref = 0;
	p->join_ref = -1;
	p->hb_ref = -1;
	p->rx_in = 0;
	log_info("portal: connected to %s", p->hosthdr);
	portal_send_join(p);
	portal_send_heartbeat(p);
	ev_timer_set(&p->hb_t, p->hb_interval, p->hb_interval);
	ev_timer_start(loop, &p->hb_t);
}

static int
portal_on_conn_error(struct portal *p, struct lws *wsi, const char *in)
{
	char		 buf[128], why[64];
	unsigned int	 status;

	status = lws_http_client_http_response(wsi);
	if (status == 0 && in != NULL && strstr(in, "unauthorized") != NULL)
		status = 401;
	if (status != 0)
		log_warnx("portal: connection to %s failed: %s (HTTP %u)",
		    p->hosthdr, portal_clean(in ? in : "unknown", buf,
		    sizeof(buf)), status);
	else
		log_warnx("portal: connection to %s failed: %s", p->hosthdr,
		    portal_clean(in ? in : "unknown", buf, sizeof(buf)));
	p->addr_idx++;
	if (status >= 400 && status <= 499) {
		snprintf(why, sizeof(why),
		    "portal refused the connection: HTTP %u", status);
		portal_fatal(p, 1, why);
	} else
		portal_lost(p, 1);
	return -1;
}

static int
portal_mine(struct portal *p, struct lws *wsi)
{
	return (uintptr_t)lws_get_opaque_user_data(wsi) == p->gen &&
	    (p->state == PS_CONNECTING || p->state == PS_OPEN ||
	    p->state == PS_JOINED || p->state == PS_CLOSING);
}

static int
portal_lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct portal	*p = &portal;
	uint16_t	 code;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (!portal_mine(p, wsi))
			return -1;
		return portal_add_headers(p, wsi, in, len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!portal_mine(p, wsi))
			return -1;
		portal_on_established(p, wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!portal_mine(p, wsi))
			return -1;
		return portal_on_rx(p, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!portal_mine(p, wsi))
			return -1;
		return portal_on_writeable(p, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (!portal_mine(p, wsi))
			break;
		code = len >= 2 ? (uint16_t)(((const uint8_t *)in)[0] << 8 |
		    ((const uint8_t *)in)[1]) : 0;
		log_info("portal: the portal closed the connection (code %u)",
		    code);
		break;		/* lws answers the close */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (!portal_mine(p, wsi))
			break;
		return portal_on_conn_error(p, wsi, in);
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		if (!portal_mine(p, wsi))
			break;
		if (p->state == PS_CLOSING) {
			portal_detach(p, 1);
			portal_finish_leave(p);
			break;
		}
		log_info("portal: connection to %s closed", p->hosthdr);
		portal_lost(p, 1);
		break;
	default:
		break;
	}
	return 0;
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
	info.timeout_secs = (unsigned int)PORTAL_CONNECT_S;
	info.connect_timeout_secs = (unsigned int)PORTAL_CONNECT_S;
	if (p->tls) {
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
portal_start(const struct portal_conf *pc, const struct portal_cb *cb)
{
	struct portal	*p = &portal;
	struct ev_loop	*loop = sup_lws_loop();
	struct in6_addr	 a6;
	const char	*why = NULL;

	if (loop == NULL || sup_lws_context() == NULL) {
		log_warnx("portal: sup_lws_init() was not called");
		return -1;
	}
	if (p->state != PS_NONE) {
		log_warnx("portal: already started");
		return -1;
	}
	if (pc->api_url == NULL || portal_parse_url(p, pc->api_url, &why)) {
		log_warnx("portal: bad --api-url: %s",
		    why ? why : "missing");
		return -1;
	}
	if (pc->token == NULL || !portal_token_ok(pc->token)) {
		log_warnx("portal: the token is empty, too long or contains "
		    "characters not allowed in an HTTP header");
		return -1;
	}
	if (pc->secret == NULL || *pc->secret == '\0') {
		log_warnx("portal: no stamp secret");
		return -1;
	}
	if (portal_build_query(p, pc) == -1) {
		log_warnx("portal: name or addresses too long for the URL");
		return -1;
	}
	if ((p->token = strdup(pc->token)) == NULL ||
	    (p->secret = strdup(pc->secret)) == NULL) {
		log_warn("portal: strdup");
		return -1;
	}
	if (portal_make_vhost(p) == -1) {
		log_warnx("portal: cannot create the client vhost");
		return -1;
	}
	p->numeric = inet_pton(AF_INET, p->host, &a6) == 1 ||
	    inet_pton(AF_INET6, p->host, &a6) == 1;
	p->cb = *cb;
	p->gen = 1;
	p->hb_ref = -1;
	p->join_ref = -1;
	p->backoff = PORTAL_BACKOFF_MIN;
	p->hb_interval = PORTAL_HEARTBEAT_S;
	ev_init(&p->retry_t, portal_retry_cb);
	ev_init(&p->conn_t, portal_conn_timeout_cb);
	ev_init(&p->hb_t, portal_hb_cb);
	ev_init(&p->hbwait_t, portal_hbwait_cb);
	ev_init(&p->leave_t, portal_leave_cb);
	ev_init(&p->dns_t, portal_dns_cb);
	log_info("portal: %s://%s%s", p->tls ? "wss" : "ws", p->hosthdr,
	    p->path);
	/* first attempt from the loop, never from inside portal_start */
	p->state = PS_WAIT;
	ev_timer_set(&p->retry_t, 0., 0.);
	ev_timer_start(loop, &p->retry_t);
	return 0;
}

void
portal_leave(void)
{
	struct portal	*p = &portal;
	struct ev_loop	*loop = sup_lws_loop();

	if (p->leaving)
		return;
	p->leaving = 1;
	if (p->state == PS_NONE || loop == NULL) {
		p->state = PS_LEFT;
		if (p->cb.on_left != NULL)
			p->cb.on_left(p->cb.arg);
		return;
	}
	if ((p->state == PS_OPEN || p->state == PS_JOINED) && p->wsi != NULL) {
		log_info("portal: leaving (clean websocket close)");
		portal_stop_timers(p);
		portal_q_clear(p);
		p->state = PS_CLOSING;
		lws_callback_on_writable(p->wsi);
		ev_timer_set(&p->leave_t, PORTAL_CLOSE_S, 0.);
		ev_timer_start(loop, &p->leave_t);
		return;
	}
	/* not connected: drop any attempt, report from the loop at once */
	log_info("portal: leaving (not connected)");
	if (p->state == PS_RESOLVING && gai_cancel(&p->gai) == EAI_CANCELED)
		p->gai_busy = 0;
	if (p->state != PS_LEFT && p->state != PS_FATAL)
		portal_detach(p, 0);
	ev_timer_set(&p->leave_t, 0., 0.);
	ev_timer_start(loop, &p->leave_t);
}

int
portal_connected(void)
{
	return portal.joined;
}
