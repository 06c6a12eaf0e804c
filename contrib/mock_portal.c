/*
 * mock_portal.c: a stand-in for the Firezone portal, for tests and for
 * trying turncell locally (see the README's portal section).
 *
 *	bin/mock-portal --listen 127.0.0.1:PORT [--secret-log FILE]
 *	    [--tls-cert FILE --tls-key FILE]
 *
 * A real websocket + HTTP server (libwebsockets, its default poll loop,
 * cJSON for every JSON document) on one port:
 *
 *   .../relay/websocket
 *			the relay's Phoenix V1 channel (any base path). The
 *			upgrade needs "X-Authorization: Bearer <non-empty>"
 *			(else 401).
 *			phx_join on "relay" records stamp_secret, is answered
 *			with phx_reply ok and followed by an init push;
 *			heartbeats are answered (unless muted); close frames
 *			are counted.
 *   GET /state		JSON: every connection seen (query parameters,
 *			joins, heartbeats, close frames, open, opened_ms and
 *			closed_ms since the mock started) and totals.
 *   GET /credentials?ttl=S
 *			{"username","password","realm"} minted from the last
 *			joined stamp_secret the way the portal does
 *			(username "<now+ttl>:<salt>", auth_password()).
 *   GET|POST /control?action=A
 *			drop (close every websocket abruptly),
 *			refuse&status=N (refuse upgrades with N, 0 = stop),
 *			mute / unmute (heartbeat replies),
 *			disconnect[&reason=R] (push disconnect, default
 *			token_expired), close (push phx_close),
 *			junk (frames a relay must ignore: binary, bad
 *			JSON, unknown refs and events, deep nesting last),
 *			big (a 70 kB frame, over the relay's 64 KiB bound).
 *
 * With --tls-cert/--tls-key it speaks TLS only (wss, https).
 * Logs to stderr; exits 0 on SIGTERM or SIGINT.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "addr.h"
#include "auth.h"

#define MP_PROTO	"mock-portal"
#define MP_MAX_CONNS	256
#define MP_MAX_FRAME	(64 * 1024)
#define MP_QUEUE	32
#define MP_MAX_SECRET	256

struct mp_frame {
	unsigned char	*buf;		/* LWS_PRE + len */
	size_t		 len;
	int		 binary;
};

struct mp_conn {
	int		 used;
	int		 open;
	struct lws	*wsi;
	cJSON		*query;		/* name -> value */
	char		 user_agent[128];
	char		 path[256];
	int		 token_len;
	int		 joins;
	int		 heartbeats;
	int		 close_frames;
	int		 close_code;
	long		 opened_ms;	/* since start, monotonic */
	long		 closed_ms;	/* -1 while open */
	char		 secret[MP_MAX_SECRET + 1];
	struct mp_frame	 q[MP_QUEUE];
	size_t		 qhead, qlen;
	unsigned char	*rx;
	size_t		 rx_len;
	int		 rx_in;
	int		 rx_over;
};

/* one per wsi: an HTTP response body, or the websocket's connection */
struct mp_pss {
	unsigned char	*body;		/* LWS_PRE + len */
	size_t		 len;
	int		 conn;		/* index + 1, 0 = none */
};

static struct mp_conn	 mp_conns[MP_MAX_CONNS];
static int		 mp_nconns;
static int		 mp_refuse;	/* upgrade status, 0 = off */
static int		 mp_muted;
static long		 mp_joins, mp_heartbeats;
static long		 mp_close_frames, mp_refused;
static char		 mp_last_secret[MP_MAX_SECRET + 1];
static FILE		*mp_secret_log;
static struct lws_context *mp_ctx;
static volatile sig_atomic_t mp_stop;
static struct timespec	 mp_t0;

static int	mp_lws_cb(struct lws *, enum lws_callback_reasons, void *,
		    void *, size_t);

static const struct lws_protocols mp_protocols[] = {
	{ MP_PROTO, mp_lws_cb, sizeof(struct mp_pss), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void mp_log(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
mp_log(const char *fmt, ...)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[32];
	va_list		 ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld mock-portal: ", t, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long
mp_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)(ts.tv_sec - mp_t0.tv_sec) * 1000 +
	    (ts.tv_nsec - mp_t0.tv_nsec) / 1000000;
}

/* -------------------------------------------------------------------- */
/* websocket side */

static struct mp_conn *
mp_conn_of(struct mp_pss *pss)
{
	if (pss == NULL || pss->conn <= 0 || pss->conn > mp_nconns)
		return NULL;
	return &mp_conns[pss->conn - 1];
}

static void
mp_queue_raw(struct mp_conn *c, const void *data, size_t len, int binary)
{
	struct mp_frame	*f;

	if (!c->open || c->qlen == MP_QUEUE) {
		mp_log("frame not queued");
		return;
	}
	f = &c->q[(c->qhead + c->qlen) % MP_QUEUE];
	if ((f->buf = malloc(LWS_PRE + len)) == NULL)
		return;
	memcpy(f->buf + LWS_PRE, data, len);
	f->len = len;
	f->binary = binary;
	c->qlen++;
	lws_callback_on_writable(c->wsi);
}

static void
mp_queue(struct mp_conn *c, cJSON *o)
{
	char	*txt;

	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt != NULL)
		mp_queue_raw(c, txt, strlen(txt), 0);
	cJSON_free(txt);
}

static cJSON *
mp_msg(const char *topic, const char *event, cJSON *payload, cJSON *ref)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "event", event);
	cJSON_AddItemToObject(o, "payload", payload);
	cJSON_AddItemToObject(o, "ref", ref ? ref : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "topic", topic);
	return o;
}

static cJSON *
mp_reply_payload(const char *status, const char *reason)
{
	cJSON	*pl = cJSON_CreateObject(), *resp = cJSON_CreateObject();

	cJSON_AddStringToObject(pl, "status", status);
	if (reason != NULL)
		cJSON_AddStringToObject(resp, "reason", reason);
	cJSON_AddItemToObject(pl, "response", resp);
	return pl;
}

static void
mp_on_join(struct mp_conn *c, const char *topic, cJSON *payload, cJSON *ref)
{
	cJSON	*sec;

	sec = cJSON_GetObjectItemCaseSensitive(payload, "stamp_secret");
	if (strcmp(topic, "relay") != 0 || !cJSON_IsString(sec) ||
	    strlen(sec->valuestring) == 0 ||
	    strlen(sec->valuestring) > MP_MAX_SECRET) {
		mp_log("join refused (topic %s)", topic);
		mp_queue(c, mp_msg(topic, "phx_reply",
		    mp_reply_payload("error", "unmatched topic"),
		    cJSON_Duplicate(ref, 1)));
		return;
	}
	c->joins++;
	mp_joins++;
	snprintf(c->secret, sizeof(c->secret), "%s", sec->valuestring);
	snprintf(mp_last_secret, sizeof(mp_last_secret), "%s",
	    sec->valuestring);
	if (mp_secret_log != NULL) {
		fprintf(mp_secret_log, "%s\n", sec->valuestring);
		fflush(mp_secret_log);
	}
	mp_log("relay joined (connection %d)", (int)(c - mp_conns));
	mp_queue(c, mp_msg(topic, "phx_reply", mp_reply_payload("ok", NULL),
	    cJSON_Duplicate(ref, 1)));
	mp_queue(c, mp_msg("relay", "init", cJSON_CreateObject(), NULL));
}

static void
mp_on_message(struct mp_conn *c)
{
	cJSON		*o, *ev, *topic, *payload, *ref;

	o = cJSON_ParseWithLength((const char *)c->rx, c->rx_len);
	if (o == NULL || !cJSON_IsObject(o)) {
		mp_log("malformed frame ignored");
		cJSON_Delete(o);
		return;
	}
	ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	topic = cJSON_GetObjectItemCaseSensitive(o, "topic");
	payload = cJSON_GetObjectItemCaseSensitive(o, "payload");
	ref = cJSON_GetObjectItemCaseSensitive(o, "ref");
	if (!cJSON_IsString(ev) || !cJSON_IsString(topic)) {
		mp_log("frame without event/topic ignored");
	} else if (strcmp(ev->valuestring, "phx_join") == 0) {
		mp_on_join(c, topic->valuestring, payload, ref);
	} else if (strcmp(ev->valuestring, "heartbeat") == 0 &&
	    strcmp(topic->valuestring, "phoenix") == 0) {
		c->heartbeats++;
		mp_heartbeats++;
		if (!mp_muted)
			mp_queue(c, mp_msg("phoenix", "phx_reply",
			    mp_reply_payload("ok", NULL),
			    cJSON_Duplicate(ref, 1)));
	} else
		mp_log("event %.40s ignored", ev->valuestring);
	cJSON_Delete(o);
}

static int
mp_on_rx(struct mp_conn *c, struct lws *wsi, const void *in, size_t len)
{
	if (!c->rx_in) {
		c->rx_in = 1;
		c->rx_len = 0;
		c->rx_over = 0;
	}
	if (c->rx == NULL && (c->rx = malloc(MP_MAX_FRAME)) == NULL)
		return -1;
	if (len > MP_MAX_FRAME - c->rx_len)
		c->rx_over = 1;
	else {
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	c->rx_in = 0;
	if (c->rx_over)
		mp_log("oversized frame ignored");
	else if (lws_frame_is_binary(wsi))
		mp_log("binary frame ignored");
	else
		mp_on_message(c);
	return 0;
}

static int
mp_on_writeable(struct mp_conn *c, struct lws *wsi)
{
	struct mp_frame	*f;
	int		 n;

	if (c->qlen == 0)
		return 0;
	f = &c->q[c->qhead];
	n = lws_write(wsi, f->buf + LWS_PRE, f->len,
	    f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	free(f->buf);
	f->buf = NULL;
	c->qhead = (c->qhead + 1) % MP_QUEUE;
	c->qlen--;
	if (n < (int)f->len)
		return -1;
	if (c->qlen > 0)
		lws_callback_on_writable(wsi);
	return 0;
}

static void
mp_conn_closed(struct mp_conn *c)
{
	if (c == NULL || !c->open)
		return;
	c->open = 0;
	c->wsi = NULL;
	c->closed_ms = mp_ms();
	while (c->qlen > 0) {
		free(c->q[c->qhead].buf);
		c->qhead = (c->qhead + 1) % MP_QUEUE;
		c->qlen--;
	}
	free(c->rx);
	c->rx = NULL;
	mp_log("connection %d closed", (int)(c - mp_conns));
}

/* the upgrade request: refuse it or let it through */
static int
mp_confirm_upgrade(struct lws *wsi)
{
	char	 uri[256], auth[4096];
	int	 n;

	if ((n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI)) <
	    16 || strcmp(uri + n - 16, "/relay/websocket") != 0) {
		mp_log("upgrade to an unknown path refused");
		lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
		return 1;
	}
	if (mp_refuse != 0) {
		mp_refused++;
		mp_log("upgrade refused with %d (as told)", mp_refuse);
		lws_return_http_status(wsi, (unsigned int)mp_refuse, NULL);
		return 1;
	}
	n = lws_hdr_custom_copy(wsi, auth, sizeof(auth), "x-authorization:",
	    16);
	if (n <= 7 || strncmp(auth, "Bearer ", 7) != 0) {
		mp_refused++;
		mp_log("upgrade without a bearer token refused with 401");
		lws_return_http_status(wsi, HTTP_STATUS_UNAUTHORIZED, NULL);
		return 1;
	}
	return 0;
}

/* the websocket is about to be accepted: record who it is */
static int
mp_filter(struct lws *wsi, struct mp_pss *pss)
{
	struct mp_conn	*c;
	char		 frag[600], auth[4096], *eq;
	int		 i, n;

	if (mp_nconns == MP_MAX_CONNS) {
		mp_log("too many connections recorded, refusing");
		return -1;
	}
	c = &mp_conns[mp_nconns++];
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->query = cJSON_CreateObject();
	for (i = 0; i < 32; i++) {
		n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag),
		    WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		if ((eq = strchr(frag, '=')) == NULL)
			continue;
		*eq++ = '\0';
		cJSON_DeleteItemFromObjectCaseSensitive(c->query, frag);
		cJSON_AddStringToObject(c->query, frag, eq);
	}
	if (lws_hdr_copy(wsi, c->path, sizeof(c->path), WSI_TOKEN_GET_URI) < 0)
		c->path[0] = '\0';
	if (lws_hdr_copy(wsi, c->user_agent, sizeof(c->user_agent),
	    WSI_TOKEN_HTTP_USER_AGENT) < 0)
		c->user_agent[0] = '\0';
	n = lws_hdr_custom_copy(wsi, auth, sizeof(auth), "x-authorization:",
	    16);
	c->token_len = n > 7 ? n - 7 : 0;
	explicit_bzero(auth, sizeof(auth));
	pss->conn = mp_nconns;
	pss->body = NULL;
	return 0;
}

/* -------------------------------------------------------------------- */
/* HTTP side */

static int
mp_set_body(struct mp_pss *pss, cJSON *o)
{
	char	*txt = cJSON_PrintUnformatted(o);
	size_t	 len;

	cJSON_Delete(o);
	if (txt == NULL)
		return -1;
	len = strlen(txt);
	free(pss->body);
	if ((pss->body = malloc(LWS_PRE + len + 1)) == NULL) {
		cJSON_free(txt);
		return -1;
	}
	memcpy(pss->body + LWS_PRE, txt, len);
	pss->body[LWS_PRE + len] = '\n';
	pss->len = len + 1;
	cJSON_free(txt);
	return 0;
}

static cJSON *
mp_state(void)
{
	cJSON		*o = cJSON_CreateObject(), *arr, *e;
	struct mp_conn	*c;
	int		 i, open = 0;

	arr = cJSON_CreateArray();
	for (i = 0; i < mp_nconns; i++) {
		c = &mp_conns[i];
		open += c->open;
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "query", cJSON_Duplicate(c->query, 1));
		cJSON_AddNumberToObject(e, "joins", c->joins);
		cJSON_AddNumberToObject(e, "heartbeats", c->heartbeats);
		cJSON_AddNumberToObject(e, "close_frames", c->close_frames);
		cJSON_AddNumberToObject(e, "close_code", c->close_code);
		cJSON_AddBoolToObject(e, "open", c->open);
		cJSON_AddNumberToObject(e, "opened_ms", (double)c->opened_ms);
		cJSON_AddNumberToObject(e, "closed_ms", (double)c->closed_ms);
		cJSON_AddStringToObject(e, "stamp_secret", c->secret);
		cJSON_AddStringToObject(e, "path", c->path);
		cJSON_AddStringToObject(e, "user_agent", c->user_agent);
		cJSON_AddNumberToObject(e, "token_len", c->token_len);
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddNumberToObject(o, "connected", open);
	cJSON_AddItemToObject(o, "connections", arr);
	cJSON_AddNumberToObject(o, "joins", (double)mp_joins);
	cJSON_AddNumberToObject(o, "heartbeats", (double)mp_heartbeats);
	cJSON_AddNumberToObject(o, "close_frames", (double)mp_close_frames);
	cJSON_AddNumberToObject(o, "refused", (double)mp_refused);
	cJSON_AddBoolToObject(o, "muted", mp_muted);
	cJSON_AddNumberToObject(o, "refuse_status", mp_refuse);
	cJSON_AddNumberToObject(o, "now_ms", (double)mp_ms());
	return o;
}

static cJSON *
mp_credentials(struct lws *wsi, unsigned int *status)
{
	cJSON		*o = cJSON_CreateObject();
	uint8_t		 rnd[16];
	char		 salt[32], user[64], arg[32];
	char		 pass[AUTH_PASS_LEN + 1];
	const char	*v;
	char		*end;
	long		 ttl = 3600;
	uint64_t	 expiry;
	size_t		 i, n;

	if ((v = lws_get_urlarg_by_name(wsi, "ttl=", arg, sizeof(arg))) !=
	    NULL) {
		errno = 0;
		ttl = strtol(v, &end, 10);
		if (errno != 0 || *end != '\0' || ttl < -86400 ||
		    ttl > 100000000) {
			*status = HTTP_STATUS_BAD_REQUEST;
			cJSON_AddStringToObject(o, "error", "bad ttl");
			return o;
		}
	}
	if (mp_last_secret[0] == '\0') {
		*status = HTTP_STATUS_SERVICE_UNAVAILABLE;
		cJSON_AddStringToObject(o, "error", "no relay has joined");
		return o;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		*status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
		cJSON_AddStringToObject(o, "error", "getrandom");
		return o;
	}
	n = auth_b64(rnd, sizeof(rnd), salt, sizeof(salt), 0);
	for (i = 0; i < n; i++) {		/* url-safe alphabet */
		if (salt[i] == '+')
			salt[i] = '-';
		else if (salt[i] == '/')
			salt[i] = '_';
	}
	expiry = (uint64_t)((int64_t)time(NULL) + ttl);
	snprintf(user, sizeof(user), "%llu:%s", (unsigned long long)expiry,
	    salt);
	auth_password(expiry, mp_last_secret, strlen(mp_last_secret), salt, n,
	    pass);
	cJSON_AddStringToObject(o, "username", user);
	cJSON_AddStringToObject(o, "password", pass);
	cJSON_AddStringToObject(o, "realm", AUTH_REALM);
	*status = HTTP_STATUS_OK;
	return o;
}

static void
mp_push_all(const char *event, cJSON *payload)
{
	int	 i;

	for (i = 0; i < mp_nconns; i++)
		if (mp_conns[i].open)
			mp_queue(&mp_conns[i], mp_msg("relay", event,
			    cJSON_Duplicate(payload, 1), NULL));
	cJSON_Delete(payload);
}

/* frames a relay must ignore; the deeply nested one comes last */
static const char *const mp_junk[] = {
	"not json {",
	"[1,2,3]",
	"{\"topic\":\"relay\",\"payload\":{}}",
	"{\"event\":\"phx_reply\",\"payload\":{\"status\":\"ok\","
	    "\"response\":{}},\"ref\":99999,\"topic\":\"relay\"}",
	"{\"event\":\"phx_reply\",\"payload\":{\"status\":\"ok\"},"
	    "\"ref\":\"1\",\"topic\":\"relay\"}",
	"{\"event\":\"phx_reply\",\"payload\":null,\"ref\":1.5,"
	    "\"topic\":\"relay\"}",
	"{\"event\":\"phx_error\",\"payload\":{},\"ref\":null,"
	    "\"topic\":\"relay\"}",
	"{\"event\":\"presence_diff\",\"payload\":[],\"ref\":null,"
	    "\"topic\":\"relay\"}",
	"{\"event\":7,\"payload\":{}}",
	"{\"event\":\"init\",\"payload\":{\"deep\":[[[[[[[[[[[[[[[[[[[[[[[["
	    "]]]]]]]]]]]]]]]]]]]]]]]]},\"ref\":null,\"topic\":\"relay\"}",
	NULL
};

static void
mp_junk_all(int big)
{
	static const char	 bin[] = { 0, 1, 2, 3, (char)0xff };
	const char		*head =
				    "{\"event\":\"init\",\"payload\":{\"x\":\"";
	const char		*tail =
				    "\"},\"ref\":null,\"topic\":\"relay\"}";
	char			*b;
	size_t			 n = 70000;
	int			 i, j;

	for (i = 0; i < mp_nconns; i++) {
		if (!mp_conns[i].open)
			continue;
		if (big) {
			if ((b = malloc(n)) == NULL)
				return;
			memset(b, 'a', n);
			memcpy(b, head, strlen(head));
			memcpy(b + n - strlen(tail), tail, strlen(tail));
			mp_queue_raw(&mp_conns[i], b, n, 0);
			free(b);
			continue;
		}
		mp_queue_raw(&mp_conns[i], bin, sizeof(bin), 1);
		for (j = 0; mp_junk[j] != NULL; j++)
			mp_queue_raw(&mp_conns[i], mp_junk[j],
			    strlen(mp_junk[j]), 0);
	}
}

static void
mp_drop_all(void)
{
	int	 i, fd;

	for (i = 0; i < mp_nconns; i++) {
		if (!mp_conns[i].open || mp_conns[i].wsi == NULL)
			continue;
		/* no close frame: the TCP connection just goes */
		fd = lws_get_socket_fd(mp_conns[i].wsi);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		lws_set_timeout(mp_conns[i].wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	}
}

static cJSON *
mp_control(struct lws *wsi, unsigned int *status)
{
	cJSON		*o = cJSON_CreateObject(), *pl;
	char		 abuf[64], sbuf[32], rbuf[128];
	const char	*a, *s, *r;

	*status = HTTP_STATUS_OK;
	a = lws_get_urlarg_by_name(wsi, "action=", abuf, sizeof(abuf));
	if (a == NULL)
		a = "";
	if (strcmp(a, "drop") == 0) {
		mp_drop_all();
	} else if (strcmp(a, "refuse") == 0) {
		s = lws_get_urlarg_by_name(wsi, "status=", sbuf, sizeof(sbuf));
		mp_refuse = s ? atoi(s) : 401;
		if (mp_refuse != 0 && (mp_refuse < 200 || mp_refuse > 599))
			mp_refuse = 401;
	} else if (strcmp(a, "mute") == 0) {
		mp_muted = 1;
	} else if (strcmp(a, "unmute") == 0) {
		mp_muted = 0;
	} else if (strcmp(a, "disconnect") == 0) {
		r = lws_get_urlarg_by_name(wsi, "reason=", rbuf, sizeof(rbuf));
		pl = cJSON_CreateObject();
		cJSON_AddStringToObject(pl, "reason", r ? r : "token_expired");
		mp_push_all("disconnect", pl);
	} else if (strcmp(a, "close") == 0) {
		mp_push_all("phx_close", cJSON_CreateObject());
	} else if (strcmp(a, "junk") == 0) {
		mp_junk_all(0);
	} else if (strcmp(a, "big") == 0) {
		mp_junk_all(1);
	} else {
		*status = HTTP_STATUS_BAD_REQUEST;
		cJSON_AddStringToObject(o, "error", "unknown action");
		return o;
	}
	mp_log("control: %s", a);
	cJSON_AddStringToObject(o, "ok", a);
	return o;
}

static int
mp_on_http(struct lws *wsi, struct mp_pss *pss, const char *path)
{
	unsigned char	 hdr[LWS_PRE + 512];
	unsigned char	*start = &hdr[LWS_PRE], *p = start;
	unsigned char	*end = &hdr[sizeof(hdr) - 1];
	unsigned int	 status = HTTP_STATUS_OK;
	cJSON		*o;
	int		 get, post;

	get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
	post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
	if (path == NULL)
		path = "";
	if (get && strcmp(path, "/state") == 0)
		o = mp_state();
	else if (get && strcmp(path, "/credentials") == 0)
		o = mp_credentials(wsi, &status);
	else if ((get || post) && strcmp(path, "/control") == 0)
		o = mp_control(wsi, &status);
	else {
		status = HTTP_STATUS_NOT_FOUND;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "error", "not found");
	}
	if (mp_set_body(pss, o) == -1)
		return -1;
	if (lws_add_http_common_headers(wsi, status, "application/json",
	    pss->len, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
mp_on_http_writeable(struct lws *wsi, struct mp_pss *pss)
{
	int	 n;

	if (pss->body == NULL)
		return 0;
	n = lws_write(wsi, pss->body + LWS_PRE, pss->len,
	    LWS_WRITE_HTTP_FINAL);
	free(pss->body);
	pss->body = NULL;
	if (n < 0 || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/* -------------------------------------------------------------------- */

static int
mp_lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct mp_pss	*pss = user;
	struct mp_conn	*c;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return mp_on_http(wsi, pss, in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return mp_on_http_writeable(wsi, pss);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss != NULL) {
			free(pss->body);
			pss->body = NULL;
		}
		break;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return mp_confirm_upgrade(wsi);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return mp_filter(wsi, pss);
	case LWS_CALLBACK_ESTABLISHED:
		if ((c = mp_conn_of(pss)) == NULL)
			return -1;
		c->open = 1;
		c->wsi = wsi;
		c->opened_ms = mp_ms();
		c->closed_ms = -1;
		mp_log("relay connected (connection %d)", pss->conn - 1);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if ((c = mp_conn_of(pss)) == NULL || !c->open)
			return -1;
		return mp_on_rx(c, wsi, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if ((c = mp_conn_of(pss)) == NULL || !c->open)
			return 0;
		return mp_on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if ((c = mp_conn_of(pss)) == NULL)
			return 0;
		c->close_frames++;
		mp_close_frames++;
		c->close_code = len >= 2 ? ((const uint8_t *)in)[0] << 8 |
		    ((const uint8_t *)in)[1] : 0;
		mp_log("close frame received (code %d)", c->close_code);
		return 0;
	case LWS_CALLBACK_CLOSED:
		mp_conn_closed(mp_conn_of(pss));
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void
mp_on_signal(int sig)
{
	mp_stop = 1;
	if (mp_ctx != NULL)
		lws_cancel_service(mp_ctx);
}

static void
mp_usage(void)
{
	fprintf(stderr, "usage: mock-portal --listen IP:PORT "
	    "[--secret-log FILE] [--tls-cert FILE --tls-key FILE]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct lws_context_creation_info info;
	struct sigaction sa;
	struct taddr	 ta;
	const char	*listen = NULL, *slog = NULL;
	const char	*cert = NULL, *key = NULL;
	char		 ip[ADDR_STRLEN], bound[ADDR_STRLEN];
	static const uint8_t zero[16];
	struct lws_vhost *vh;
	int		 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(argv[i], "--secret-log") == 0 && i + 1 < argc)
			slog = argv[++i];
		else if (strcmp(argv[i], "--tls-cert") == 0 && i + 1 < argc)
			cert = argv[++i];
		else if (strcmp(argv[i], "--tls-key") == 0 && i + 1 < argc)
			key = argv[++i];
		else
			mp_usage();
	}
	if (listen == NULL || addr_parse_hostport(listen, &ta) == -1 ||
	    (cert == NULL) != (key == NULL))
		mp_usage();
	if (slog != NULL && (mp_secret_log = fopen(slog, "a")) == NULL) {
		fprintf(stderr, "mock-portal: %s: %s\n", slog, strerror(errno));
		return 1;
	}
	addr_fmt_ip(&ta, ip, sizeof(ip));
	clock_gettime(CLOCK_MONOTONIC, &mp_t0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mp_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	info.port = ta.port;
	info.protocols = mp_protocols;
	info.gid = -1;
	info.uid = -1;
	info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (ta.family == ADDR_V4)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (memcmp(ta.ip, zero, ta.family == ADDR_V4 ? 4 : 16) != 0)
		info.iface = ip;
	info.server_string = "mock-portal";
	info.max_http_header_data = 8192;
	if (cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = key;
	}
	if ((mp_ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "mock-portal: cannot listen on %s\n", listen);
		return 1;
	}
	/* port 0: the kernel chose one; the log line says which */
	if ((vh = lws_get_vhost_by_name(mp_ctx, "default")) != NULL &&
	    lws_get_vhost_listen_port(vh) > 0)
		ta.port = (uint16_t)lws_get_vhost_listen_port(vh);
	addr_fmt(&ta, bound, sizeof(bound));
	mp_log("listening on %s%s", bound, cert ? " (TLS)" : "");
	while (!mp_stop)
		if (lws_service(mp_ctx, 0) < 0)
			break;
	mp_log("exiting");
	lws_context_destroy(mp_ctx);
	for (i = 0; i < mp_nconns; i++)
		cJSON_Delete(mp_conns[i].query);
	if (mp_secret_log != NULL)
		fclose(mp_secret_log);
	return 0;
}
