/*
 * phx_rx.c: frames from the portal: reassembly, bounds, parsing and
 * dispatch (replies matched by ref and topic, disconnect, phx_close,
 * pushes).
 *
 * Frames are parsed with cJSON after two bounds of our own: the message
 * size (PHX_MAX_FRAME, checked while fragments arrive; a bigger message
 * is discarded whole) and the nesting depth (PHX_MAX_DEPTH, checked by a
 * scan before parsing, so cJSON never recurses deeply on portal input).
 * Anything that does not fit is junk: counted, logged (the first
 * PHX_JUNK_LOGGED per connection as warnings) and ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "phx.h"
#include "phx_int.h"

static void phx_junk(struct phx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
phx_junk(struct phx *p, const char *fmt, ...)
{
	struct phx_qent	*e;
	va_list		 ap;

	p->st.junk++;
	if ((e = phx_push(p, PHX_CMD_LOG)) == NULL)
		return;
	e->c.level = p->junk_conn++ < PHX_JUNK_LOGGED ? LOG_WARN : LOG_DEBUG;
	va_start(ap, fmt);
	vsnprintf(e->c.text, sizeof(e->c.text), fmt, ap);
	va_end(ap);
}

/* 1 when no array or object nests deeper than PHX_MAX_DEPTH */
static int
phx_depth_ok(const unsigned char *s, size_t len)
{
	size_t	 i, depth = 0;
	int	 in_str = 0;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '{' || s[i] == '[') {
			if (++depth > PHX_MAX_DEPTH)
				return 0;
		} else if ((s[i] == '}' || s[i] == ']') && depth > 0)
			depth--;
	}
	return 1;
}

/* a JSON number that is an exact ref we could have sent, else -1 */
static int64_t
phx_ref(const cJSON *ref)
{
	double	 d;

	if (!cJSON_IsNumber(ref))
		return -1;
	d = ref->valuedouble;
	/* range first: casting an out-of-range double is undefined */
	if (!(d >= 0 && d < 9007199254740992.0) || (double)(int64_t)d != d)
		return -1;
	return (int64_t)d;
}

static int
phx_is(const cJSON *s, const char *want)
{
	return cJSON_IsString(s) && s->valuestring != NULL &&
	    strcmp(s->valuestring, want) == 0;
}

static void
phx_on_reply(struct phx *p, const cJSON *topic, const cJSON *ref,
    const cJSON *payload)
{
	const cJSON	*resp, *reason;
	char		 buf[96];
	int64_t		 r = phx_ref(ref);
	int		 ok;

	ok = phx_is(cJSON_GetObjectItemCaseSensitive(payload, "status"), "ok");
	if (r != -1 && r == p->hb_ref && phx_is(topic, "phoenix")) {
		p->hb_ref = -1;
		if (!ok)
			phx_log(p, LOG_WARN, "portal: heartbeat answered with "
			    "an error");
		return;
	}
	if (r == -1 || r != p->join_ref || !phx_is(topic, "relay") ||
	    p->state != PHX_S_OPEN) {
		p->st.replies_unmatched++;
		phx_log(p, LOG_DEBUG, "portal: unmatched reply ignored");
		return;
	}
	if (ok) {
		phx_log(p, LOG_INFO, "portal: joined topic relay");
		p->state = PHX_S_JOINED;
		p->backoff_ms = PHX_BACKOFF_MIN_MS;
		p->failures = 0;
		p->st.joins++;
		phx_cmd(p, PHX_CMD_JOINED);
		return;
	}
	resp = cJSON_GetObjectItemCaseSensitive(payload, "response");
	reason = cJSON_GetObjectItemCaseSensitive(resp, "reason");
	phx_log(p, LOG_WARN, "portal: join refused reason=\"%s\"", phx_clean(p,
	    cJSON_IsString(reason) ? reason->valuestring : "unknown", buf,
	    sizeof(buf)));
}

static void
phx_on_disconnect(struct phx *p, uint64_t now, const cJSON *payload)
{
	const cJSON	*reason;
	char		 buf[96];

	reason = cJSON_GetObjectItemCaseSensitive(payload, "reason");
	if (phx_is(reason, "token_expired")) {
		phx_fatal(p, "token_expired");
		return;
	}
	phx_log(p, LOG_WARN, "portal: disconnected by the portal, "
	    "reconnecting reason=\"%s\"", phx_clean(p, cJSON_IsString(reason) ?
	    reason->valuestring : "no reason", buf, sizeof(buf)));
	phx_lost(p, now);
}

static void
phx_message(struct phx *p, uint64_t now, const unsigned char *s, size_t len)
{
	cJSON		*o;
	const cJSON	*ev, *topic, *payload;
	const char	*e;
	char		 buf[64];

	if (!phx_depth_ok(s, len)) {
		phx_junk(p, "portal: too deeply nested frame ignored");
		return;
	}
	if ((o = cJSON_ParseWithLength((const char *)s, len)) == NULL ||
	    !cJSON_IsObject(o)) {
		phx_junk(p, "portal: malformed JSON frame ignored");
		cJSON_Delete(o);
		return;
	}
	ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	topic = cJSON_GetObjectItemCaseSensitive(o, "topic");
	payload = cJSON_GetObjectItemCaseSensitive(o, "payload");
	if (!cJSON_IsString(ev) || ev->valuestring == NULL) {
		phx_junk(p, "portal: frame without an event ignored");
		goto done;
	}
	e = ev->valuestring;
	if (strcmp(e, "phx_reply") == 0)
		phx_on_reply(p, topic,
		    cJSON_GetObjectItemCaseSensitive(o, "ref"), payload);
	else if (strcmp(e, "disconnect") == 0)
		phx_on_disconnect(p, now, payload);
	else if (strcmp(e, "phx_close") == 0) {
		phx_log(p, LOG_INFO, "portal: channel closed by the portal, "
		    "reconnecting");
		phx_lost(p, now);
	} else {
		/* init, phx_error and any other push: nothing to do */
		p->st.pushes++;
		phx_log(p, LOG_DEBUG, "portal: event ignored event=\"%s\"",
		    phx_clean(p, e, buf, sizeof(buf)));
	}
done:
	cJSON_Delete(o);
}

void
phx_rx(struct phx *p, uint64_t now, const void *data, size_t len,
    unsigned int flags)
{
	if (p->state != PHX_S_OPEN && p->state != PHX_S_JOINED)
		return;
	if (!p->rx_in) {
		p->rx_in = 1;
		p->rx_len = 0;
		p->rx_over = 0;
		p->rx_bin = (flags & PHX_RX_BINARY) != 0;
	}
	if (!p->rx_over && len > PHX_MAX_FRAME - p->rx_len)
		p->rx_over = 1;
	if (!p->rx_over && len > 0) {
		memcpy(p->rx + p->rx_len, data, len);
		p->rx_len += len;
	}
	if (!(flags & PHX_RX_FINAL))
		return;
	p->rx_in = 0;
	if (p->rx_over)
		phx_junk(p, "portal: oversized frame ignored max=%d",
		    PHX_MAX_FRAME);
	else if (p->rx_bin)
		phx_junk(p, "portal: binary frame ignored");
	else
		phx_message(p, now, p->rx, p->rx_len);
}
