/*
 * phx.c: the portal protocol state machine (see phx.h for the contract).
 *
 * States: INIT (before phx_start), WAIT (backoff running), CONNECTING
 * (the shell dials), OPEN (join sent), JOINED, CLOSING (leaving: close
 * frame requested), LEFT and FATAL (both final). Every deadline is an
 * absolute time in ms; phx_next_timeout() is the earliest one that
 * applies to the current state.
 *
 * Outgoing frames are built here with cJSON; incoming ones are taken
 * apart in phx_rx.c.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "phx.h"
#include "phx_int.h"

/* -------------------------------------------------------------------- */
/* the command queue */

static void
phx_wipe_free(char *buf, size_t len, int secret)
{
	if (buf == NULL)
		return;
	if (secret)
		explicit_bzero(buf, len);
	cJSON_free(buf);
}

struct phx_qent *
phx_push(struct phx *p, enum phx_cmd_type type)
{
	struct phx_qent	*e;

	if (p->qlen == PHX_QUEUE) {
		p->st.dropped_cmds++;
		return NULL;
	}
	e = &p->q[(p->qhead + p->qlen++) % PHX_QUEUE];
	memset(e, 0, sizeof(*e));
	e->c.type = type;
	return e;
}

void
phx_cmd(struct phx *p, enum phx_cmd_type type)
{
	phx_push(p, type);
}

void
phx_log(struct phx *p, int level, const char *fmt, ...)
{
	struct phx_qent	*e;
	va_list		 ap;

	if ((e = phx_push(p, PHX_CMD_LOG)) == NULL)
		return;
	e->c.level = level;
	va_start(ap, fmt);
	vsnprintf(e->c.text, sizeof(e->c.text), fmt, ap);
	va_end(ap);
}

int
phx_next_cmd(struct phx *p, struct phx_cmd *c)
{
	struct phx_qent	*e;

	phx_wipe_free(p->out_buf, p->out_len, p->out_secret);
	p->out_buf = NULL;
	if (p->qlen == 0)
		return 0;
	e = &p->q[p->qhead];
	p->qhead = (p->qhead + 1) % PHX_QUEUE;
	p->qlen--;
	*c = e->c;
	p->out_buf = e->buf;
	p->out_len = e->c.len;
	p->out_secret = e->c.secret;
	e->buf = NULL;
	return 1;
}

/*
 * A string from the portal or the network library made safe for a log
 * line: printable ASCII, bounded, and "(redacted)" when it holds the
 * token or the secret (a portal echoing them must not put them in logs).
 */
const char *
phx_clean(const struct phx *p, const char *s, char *out, size_t cap)
{
	size_t	 i;

	if (s == NULL)
		s = "";
	if (strstr(s, p->token) != NULL || strstr(s, p->secret) != NULL)
		s = "(redacted)";
	for (i = 0; i + 1 < cap && s[i] != '\0'; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] :
		    '?';
	out[i] = '\0';
	return out;
}

/* -------------------------------------------------------------------- */
/* outgoing frames */

/*
 * The text of a frame holding the secret (slen bytes), in one buffer of
 * ours: cJSON_PrintUnformatted() grows and shrinks its buffer with
 * realloc, and an allocator that moves it (ASan's does) leaves a copy of
 * the secret in freed memory that nobody wipes. The room covers every
 * byte of the secret escaped as \uXXXX plus the rest of a join.
 */
static char *
phx_print_secret(cJSON *o, size_t slen)
{
	size_t	 cap = 6 * slen + 512;
	char	*txt;

	if (cap > INT_MAX || (txt = cJSON_malloc(cap)) == NULL)
		return NULL;
	if (!cJSON_PrintPreallocated(o, txt, (int)cap, 0)) {
		phx_wipe_free(txt, cap, 1);
		return NULL;
	}
	return txt;
}

/* queue {"topic","event","payload","ref"}; payload is consumed */
static int
phx_send(struct phx *p, const char *topic, const char *event,
    cJSON *payload, int64_t ref, int secret)
{
	struct phx_qent	*e;
	cJSON		*o;
	char		*txt;

	if ((o = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(payload);
		return -1;
	}
	cJSON_AddItemToObject(o, "topic", cJSON_CreateStringReference(topic));
	cJSON_AddItemToObject(o, "event", cJSON_CreateStringReference(event));
	cJSON_AddItemToObject(o, "payload", payload);
	cJSON_AddItemToObject(o, "ref", cJSON_CreateNumber((double)ref));
	if (secret)
		txt = phx_print_secret(o, strlen(p->secret));
	else
		txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		return -1;
	if ((e = phx_push(p, PHX_CMD_SEND)) == NULL) {
		phx_wipe_free(txt, strlen(txt), secret);
		return -1;
	}
	e->buf = txt;
	e->c.frame = txt;
	e->c.len = strlen(txt);
	e->c.secret = secret;
	return 0;
}

static void
phx_send_join(struct phx *p)
{
	cJSON	*pl;

	if ((pl = cJSON_CreateObject()) == NULL)
		return;
	/* a reference: the secret is not copied into cJSON's heap */
	cJSON_AddItemToObject(pl, "stamp_secret",
	    cJSON_CreateStringReference(p->secret));
	p->join_ref = p->next_ref++;
	phx_send(p, "relay", "phx_join", pl, p->join_ref, 1);
}

static void
phx_send_heartbeat(struct phx *p, uint64_t now)
{
	p->hb_next = now + PHX_HEARTBEAT_MS;
	if (p->hb_ref != -1)
		return;		/* one outstanding at a time */
	p->hb_ref = p->next_ref++;
	p->hb_due = now + PHX_REPLY_MS;
	p->st.heartbeats++;
	phx_send(p, "phoenix", "heartbeat", cJSON_CreateObject(), p->hb_ref,
	    0);
}

/* -------------------------------------------------------------------- */
/* connection life cycle */

static void
phx_reset_conn(struct phx *p)
{
	p->rx_in = 0;
	p->rx_len = 0;
	p->next_ref = 0;
	p->join_ref = -1;
	p->hb_ref = -1;
	p->junk_conn = 0;
}

static void
phx_set_left(struct phx *p)
{
	p->state = PHX_S_LEFT;
	p->left_due = 0;
	phx_log(p, LOG_INFO, "portal: left");
	phx_cmd(p, PHX_CMD_LEFT);
}

/* forget the connection; LOST if it had joined */
static void
phx_detach(struct phx *p)
{
	int	 was_joined = p->state == PHX_S_JOINED;

	phx_cmd(p, PHX_CMD_DROP);
	phx_reset_conn(p);
	if (was_joined)
		phx_cmd(p, PHX_CMD_LOST);
}

/* uniform in [d/2, 3d/2], never above the cap */
static uint32_t
phx_jitter(struct phx *p, uint32_t d)
{
	uint32_t	 r = 0, v;

	p->rng(p->rng_arg, &r, sizeof(r));
	/* r scaled to [0, d]: no modulo bias, monotonic in r */
	v = d / 2 + (uint32_t)(((uint64_t)r * (d + 1)) >> 32);
	return v > PHX_BACKOFF_MAX_MS ? PHX_BACKOFF_MAX_MS : v;
}

static void
phx_retry(struct phx *p, uint64_t now)
{
	uint32_t	 d;

	d = phx_jitter(p, p->backoff_ms);
	p->backoff_ms = p->backoff_ms + p->backoff_ms / 2;
	if (p->backoff_ms > PHX_BACKOFF_MAX_MS)
		p->backoff_ms = PHX_BACKOFF_MAX_MS;
	p->failures++;
	p->state = PHX_S_WAIT;
	p->at = now + d;
	phx_log(p, LOG_INFO, "portal: reconnecting seconds=%u.%u", d / 1000,
	    d % 1000 / 100);
}

/* a transient failure: drop what we have and reconnect later */
void
phx_lost(struct phx *p, uint64_t now)
{
	phx_detach(p);
	if (p->leaving) {
		phx_set_left(p);
		return;
	}
	phx_retry(p, now);
}

void
phx_fatal(struct phx *p, const char *why)
{
	struct phx_qent	*e;

	phx_detach(p);
	if (p->leaving) {
		phx_set_left(p);
		return;
	}
	p->state = PHX_S_FATAL;
	phx_log(p, LOG_WARN, "portal: fatal reason=\"%s\"", why);
	if ((e = phx_push(p, PHX_CMD_FATAL)) != NULL)
		snprintf(e->c.text, sizeof(e->c.text), "%s", why);
}

static void
phx_connect(struct phx *p, uint64_t now)
{
	struct phx_qent	*e;

	p->state = PHX_S_CONNECTING;
	p->at = now + PHX_CONNECT_MS;
	p->st.connects++;
	phx_log(p, LOG_INFO, "portal: connecting url=%s://%s%s",
	    p->url.tls ? "wss" : "ws", p->url.hosthdr, p->url.path);
	if ((e = phx_push(p, PHX_CMD_CONNECT)) != NULL)
		e->c.attempt = p->failures;
}

void
phx_start(struct phx *p, uint64_t now)
{
	if (p->state != PHX_S_INIT || p->leaving)
		return;
	p->state = PHX_S_WAIT;
	p->at = now;
}

void
phx_open(struct phx *p, uint64_t now)
{
	if (p->state != PHX_S_CONNECTING)
		return;
	p->state = PHX_S_OPEN;
	phx_reset_conn(p);
	phx_log(p, LOG_INFO, "portal: connected host=%s", p->url.hosthdr);
	phx_send_join(p);
	phx_send_heartbeat(p, now);
}

void
phx_fail(struct phx *p, uint64_t now, unsigned int status, const char *why)
{
	char	 buf[96], msg[64];

	if (p->state != PHX_S_CONNECTING)
		return;
	phx_clean(p, why != NULL ? why : "unknown", buf, sizeof(buf));
	if (status != 0)
		phx_log(p, LOG_WARN, "portal: connection failed host=%s "
		    "reason=\"%s\" code=%u", p->url.hosthdr, buf, status);
	else
		phx_log(p, LOG_WARN, "portal: connection failed host=%s "
		    "reason=\"%s\"",
		    p->url.hosthdr, buf);
	if (status >= 400 && status <= 499) {
		snprintf(msg, sizeof(msg), "portal refused the connection: "
		    "HTTP %u", status);
		phx_fatal(p, msg);
	} else
		phx_lost(p, now);
}

void
phx_closed(struct phx *p, uint64_t now, const char *why)
{
	char	 buf[96];

	switch (p->state) {
	case PHX_S_CLOSING:
		phx_reset_conn(p);
		phx_set_left(p);
		break;
	case PHX_S_CONNECTING:
		phx_fail(p, now, 0, why);
		break;
	case PHX_S_OPEN:
	case PHX_S_JOINED:
		phx_log(p, LOG_INFO, "portal: connection closed host=%s "
		    "reason=\"%s\"",
		    p->url.hosthdr, phx_clean(p, why, buf, sizeof(buf)));
		phx_lost(p, now);
		break;
	default:
		break;
	}
}

void
phx_leave(struct phx *p, uint64_t now)
{
	if (p->leaving)
		return;
	p->leaving = 1;
	switch (p->state) {
	case PHX_S_OPEN:
	case PHX_S_JOINED:
		phx_log(p, LOG_INFO, "portal: leaving (clean websocket close)");
		if (p->state == PHX_S_JOINED)
			phx_cmd(p, PHX_CMD_LOST);
		p->state = PHX_S_CLOSING;
		p->at = now + PHX_CLOSE_MS;
		phx_cmd(p, PHX_CMD_CLOSE);
		break;
	case PHX_S_CONNECTING:
		phx_cmd(p, PHX_CMD_DROP);
		/* FALLTHROUGH */
	case PHX_S_INIT:
	case PHX_S_WAIT:
		/* reported from the next timeout, never from inside the call */
		phx_log(p, LOG_INFO, "portal: leaving (not connected)");
		p->state = PHX_S_CLOSING;
		p->left_due = 1;
		p->at = now;
		break;
	default:
		break;
	}
}

void
phx_timeout(struct phx *p, uint64_t now)
{
	switch (p->state) {
	case PHX_S_WAIT:
		if (now >= p->at)
			phx_connect(p, now);
		break;
	case PHX_S_CONNECTING:
		if (now < p->at)
			break;
		phx_log(p, LOG_WARN, "portal: no connection in time host=%s "
		    "seconds=%u",
		    p->url.hosthdr, PHX_CONNECT_MS / 1000);
		phx_lost(p, now);
		break;
	case PHX_S_OPEN:
	case PHX_S_JOINED:
		if (p->hb_ref != -1 && now >= p->hb_due) {
			p->st.hb_missed++;
			phx_log(p, LOG_WARN, "portal: heartbeat not answered "
			    "in time, reconnecting seconds=%u",
			    PHX_REPLY_MS / 1000);
			phx_lost(p, now);
		} else if (now >= p->hb_next)
			phx_send_heartbeat(p, now);
		break;
	case PHX_S_CLOSING:
		if (now < p->at)
			break;
		if (!p->left_due) {
			phx_log(p, LOG_WARN, "portal: close handshake not "
			    "finished, dropping");
			phx_cmd(p, PHX_CMD_DROP);
			phx_reset_conn(p);
		}
		phx_set_left(p);
		break;
	default:
		break;
	}
}

uint64_t
phx_next_timeout(const struct phx *p)
{
	uint64_t	 t;

	switch (p->state) {
	case PHX_S_WAIT:
	case PHX_S_CONNECTING:
	case PHX_S_CLOSING:
		return p->at;
	case PHX_S_OPEN:
	case PHX_S_JOINED:
		t = p->hb_next;
		if (p->hb_ref != -1 && p->hb_due < t)
			t = p->hb_due;
		return t;
	default:
		return UINT64_MAX;
	}
}

/* -------------------------------------------------------------------- */
/* set-up */

static int
phx_token_ok(const char *t)
{
	size_t	 i;

	for (i = 0; t[i] != '\0' && i <= PHX_MAX_TOKEN; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return 0;
	return i > 0 && i <= PHX_MAX_TOKEN;
}

struct phx *
phx_new(const struct phx_conf *c, phx_rng_fn *rng, void *rng_arg,
    const char **why)
{
	struct phx	*p;

	*why = "out of memory";
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (c->api_url == NULL) {
		*why = "no portal URL";
		goto fail;
	}
	if (phx_url_parse(&p->url, c->api_url, why) == -1)
		goto fail;
	if (phx_url_query(&p->url, c) == -1) {
		*why = "name or addresses too long for the URL";
		goto fail;
	}
	if (c->token == NULL || !phx_token_ok(c->token)) {
		*why = "the token is empty, too long or contains characters "
		    "not allowed in an HTTP header";
		goto fail;
	}
	if (c->secret == NULL || *c->secret == '\0') {
		*why = "no stamp secret";
		goto fail;
	}
	*why = "out of memory";
	/* the secret is referenced: it stays in one copy, the caller's */
	p->secret = c->secret;
	if ((p->token = strdup(c->token)) == NULL ||
	    (p->rx = malloc(PHX_MAX_FRAME)) == NULL)
		goto fail;
	p->rng = rng;
	p->rng_arg = rng_arg;
	p->backoff_ms = PHX_BACKOFF_MIN_MS;
	p->join_ref = -1;
	p->hb_ref = -1;
	*why = NULL;
	return p;
fail:
	phx_free(p);
	return NULL;
}

void
phx_free(struct phx *p)
{
	struct phx_cmd	 c;

	if (p == NULL)
		return;
	while (phx_next_cmd(p, &c) == 1)
		;
	if (p->token != NULL) {
		explicit_bzero(p->token, strlen(p->token));
		free(p->token);
	}
	free(p->rx);
	free(p);
}

const struct phx_url *
phx_url(const struct phx *p)
{
	return &p->url;
}

int
phx_auth_header(const struct phx *p, char *buf, size_t cap)
{
	int	 n;

	n = snprintf(buf, cap, "Bearer %s", p->token);
	if (n < 0 || (size_t)n >= cap) {
		explicit_bzero(buf, cap);
		return -1;
	}
	return n;
}

int
phx_joined(const struct phx *p)
{
	return p->state == PHX_S_JOINED;
}

const struct phx_stats *
phx_stats(const struct phx *p)
{
	return &p->st;
}
