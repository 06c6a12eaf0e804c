/*
 * 24-phx.c: the portal protocol core (common/phx.c, common/phx_url.c).
 *
 * Scripted like the engine tests: each step is one input at a given time
 * (start, open, a frame, a failed attempt, a closed connection, leave, a
 * timer tick) followed by the exact commands it must produce, rendered as
 * text ("CONNECT#n", "SEND:<frame>", "CLOSE", "DROP", "W:/I:/D:<log
 * line>", "JOINED", "LOST", "FATAL:<why>", "LEFT") joined by '|', and the
 * next timeout. Time and the RNG are fixed. Every command of every step
 * is also checked for the token (never) and the secret (only in the join
 * frame, which must be marked for wiping).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "phx.h"
#include "tap.h"

#define TOKEN	"tok-3f9a7c-NEVER-LOGGED"
#define SECRET	"00112233445566778899aabbccddeeff" \
		"00112233445566778899aabbccddeeff"
#define URL	"http://portal.test:8081/"
#define HOST	"portal.test:8081"
#define WSPATH	"/relay/websocket?name=relay%20one&ipv4=192.0.2.1&port=3478"
#define NONE	UINT64_MAX
#define ANY	(UINT64_MAX - 1)

#define JOIN	"SEND:{\"topic\":\"relay\",\"event\":\"phx_join\"," \
		"\"payload\":{\"stamp_secret\":\"" SECRET "\"},\"ref\":0}"
#define HB(n)	"SEND:{\"topic\":\"phoenix\",\"event\":\"heartbeat\"," \
		"\"payload\":{},\"ref\":" #n "}"
#define REPLY(topic, ref, st) "{\"event\":\"phx_reply\",\"topic\":\"" \
		topic "\",\"ref\":" #ref ",\"payload\":{\"status\":\"" st \
		"\",\"response\":{}}}"
#define CONNECTING "I:portal: connecting url=ws://" HOST WSPATH
#define CONNECTED "I:portal: connected host=" HOST "|" JOIN "|" HB(1)

enum op { START, OPEN, RX, RXBIN, FAIL, CLOSED, LEAVE, TICK };

struct step {
	enum op		 op;
	uint64_t	 at;
	const char	*data;		/* RX frame, FAIL/CLOSED reason */
	unsigned int	 status;	/* FAIL: HTTP status */
	const char	*want;
	uint64_t	 next;		/* phx_next_timeout() after, or ANY */
};

static uint32_t	 rng_val;
static int	 leaks;		/* token or unmarked secret seen */
static char	 got[1 << 17];

static void
fixed_rng(void *arg, void *out, size_t len)
{
	memcpy(out, &rng_val, len < sizeof(rng_val) ? len : sizeof(rng_val));
}

static struct phx *
mk(void)
{
	struct phx_conf	 c;
	const char	*why;
	struct phx	*p;

	memset(&c, 0, sizeof(c));
	c.api_url = URL;
	c.token = TOKEN;
	c.secret = SECRET;
	c.name = "relay one";
	c.ipv4 = "192.0.2.1";
	c.port = 3478;
	if ((p = phx_new(&c, fixed_rng, NULL, &why)) == NULL)
		diag("phx_new: %s", why);
	return p;
}

static const char *const cmd_name[] = {
	[PHX_CMD_CONNECT] = "CONNECT", [PHX_CMD_SEND] = "SEND",
	[PHX_CMD_CLOSE] = "CLOSE", [PHX_CMD_DROP] = "DROP",
	[PHX_CMD_LOG] = "LOG", [PHX_CMD_JOINED] = "JOINED",
	[PHX_CMD_LOST] = "LOST", [PHX_CMD_FATAL] = "FATAL",
	[PHX_CMD_LEFT] = "LEFT"
};

/* one command as text; counts leaks of the token and the secret */
static int
render1(const struct phx_cmd *c, char *out, size_t cap)
{
	static char	 frame[1 << 16];
	const char	*name = "?";

	if (c->type >= PHX_CMD_CONNECT && c->type <= PHX_CMD_LEFT)
		name = cmd_name[c->type];
	frame[0] = '\0';
	if (c->type == PHX_CMD_SEND)
		snprintf(frame, sizeof(frame), "%.*s", (int)c->len, c->frame);
	if (strstr(c->text, TOKEN) != NULL || strstr(frame, TOKEN) != NULL ||
	    strstr(c->text, SECRET) != NULL ||
	    (strstr(frame, SECRET) != NULL && !c->secret))
		leaks++;
	switch (c->type) {
	case PHX_CMD_CONNECT:
		return snprintf(out, cap, "%s#%u", name, c->attempt);
	case PHX_CMD_SEND:
		return snprintf(out, cap, "%s:%s", name, frame);
	case PHX_CMD_LOG:
		return snprintf(out, cap, "%c:%s", c->level == LOG_WARN ? 'W' :
		    c->level == LOG_INFO ? 'I' : 'D', c->text);
	case PHX_CMD_FATAL:
		return snprintf(out, cap, "%s:%s", name, c->text);
	default:
		return snprintf(out, cap, "%s", name);
	}
}

/* every queued command, joined by '|' */
static void
render(struct phx *p, char *out, size_t cap)
{
	struct phx_cmd	 c;
	size_t		 n = 0;
	int		 k;

	out[0] = '\0';
	while (phx_next_cmd(p, &c) == 1) {
		k = render1(&c, out + n, cap - n);
		if (k < 0 || (size_t)k >= cap - n - 1)
			break;
		n += (size_t)k;
		out[n++] = '|';
		out[n] = '\0';
	}
	if (n > 0)
		out[n - 1] = '\0';
}

static void
input(struct phx *p, const struct step *s)
{
	switch (s->op) {
	case START:
		phx_start(p, s->at);
		break;
	case OPEN:
		phx_open(p, s->at);
		break;
	case RX:
	case RXBIN:
		phx_rx(p, s->at, s->data, strlen(s->data), PHX_RX_FINAL |
		    (s->op == RXBIN ? PHX_RX_BINARY : 0));
		break;
	case FAIL:
		phx_fail(p, s->at, s->status, s->data);
		break;
	case CLOSED:
		phx_closed(p, s->at, s->data);
		break;
	case LEAVE:
		phx_leave(p, s->at);
		break;
	case TICK:
		phx_timeout(p, s->at);
		break;
	}
}

static void
run(struct phx *p, const char *name, const struct step *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		input(p, &s[i]);
		render(p, got, sizeof(got));
		is_str(got, s[i].want, "%s: step %zu (t=%llu)", name, i,
		    (unsigned long long)s[i].at);
		if (s[i].next != ANY)
			is_int((long long)phx_next_timeout(p),
			    (long long)s[i].next, "%s: step %zu next timeout",
			    name, i);
	}
}

#define RUN(p, name, tab) run(p, name, tab, sizeof(tab) / sizeof(tab[0]))

/* start, connect, open, join: the common prefix */
static const struct step prefix[] = {
	{ START, 0, NULL, 0, "", 0 },
	{ TICK, 0, NULL, 0, CONNECTING "|CONNECT#0", 10000 },
	{ OPEN, 100, NULL, 0, CONNECTED, 5100 },
	{ RX, 150, REPLY("relay", 0, "ok"), 0,
	    "I:portal: joined topic relay|JOINED", 5100 },
};

static struct phx *
joined(void)
{
	struct phx	*p = mk();

	rng_val = 0;
	if (p != NULL)
		RUN(p, "prefix", prefix);
	return p;
}

/* a script on a fresh core, joined first or not */
static void
play(int join, const char *name, const struct step *s, size_t n)
{
	struct phx	*p = join ? joined() : mk();

	if (p == NULL)
		return;
	run(p, name, s, n);
	phx_free(p);
}

#define PLAY(join, name, tab) \
	play(join, name, tab, sizeof(tab) / sizeof(tab[0]))

static void
test_heartbeat(void)
{
	static const struct step s[] = {
		/* a reply at 4.9 s keeps the connection */
		{ TICK, 5000, NULL, 0, "", 5100 },
		{ RX, 5000, REPLY("phoenix", 1, "ok"), 0, "", 30100 },
		{ TICK, 30100, NULL, 0, HB(2), 35100 },
		{ TICK, 35099, NULL, 0, "", 35100 },
		/* none by 5 s: reconnect after 0.25 s (fixed RNG 0) */
		{ TICK, 35100, NULL, 0, "W:portal: heartbeat not answered "
		    "in time, reconnecting seconds=5|DROP|LOST|"
		    "I:portal: reconnecting seconds=0.2", 35350 },
		{ TICK, 35350, NULL, 0, CONNECTING "|CONNECT#1", 45350 },
		/* a connection that never opens is given up after 10 s */
		{ TICK, 45350, NULL, 0, "W:portal: no connection in time "
		    "host=" HOST " seconds=10|DROP|I:portal: reconnecting "
		    "seconds=0.3",
		    45725 },
	};
	struct phx	*p = joined();

	if (p == NULL)
		return;
	RUN(p, "heartbeat", s);
	is_int((long long)phx_stats(p)->hb_missed, 1, "one missed heartbeat");
	phx_free(p);
}

static void
test_reply_matching(void)
{
	static const struct step s[] = {
		/* wrong ref, wrong topic, ref as a string: all ignored */
		{ RX, 200, REPLY("phoenix", 7, "ok"), 0,
		    "D:portal: unmatched reply ignored", 5100 },
		{ RX, 300, REPLY("relay", 1, "ok"), 0,
		    "D:portal: unmatched reply ignored", 5100 },
		{ RX, 400, REPLY("phoenix", "1", "ok"), 0,
		    "D:portal: unmatched reply ignored", 5100 },
		{ RX, 500, REPLY("phoenix", 1e300, "ok"), 0,
		    "D:portal: unmatched reply ignored", 5100 },
		{ RX, 600, REPLY("phoenix", 1.5, "ok"), 0,
		    "D:portal: unmatched reply ignored", 5100 },
		{ RX, 700, REPLY("phoenix", -1, "ok"), 0,
		    "D:portal: unmatched reply ignored", 5100 },
		{ RX, 800, REPLY("relay", 0, "ok"), 0,
		    "D:portal: unmatched reply ignored", 5100 },
		/* so the heartbeat is still unanswered at 5 s */
		{ TICK, 5100, NULL, 0, "W:portal: heartbeat not answered "
		    "in time, reconnecting seconds=5|DROP|LOST|"
		    "I:portal: reconnecting seconds=0.2", 5350 },
	};
	static const struct step refused[] = {
		{ START, 0, NULL, 0, "", 0 },
		{ TICK, 0, NULL, 0, CONNECTING "|CONNECT#0", 10000 },
		{ OPEN, 10, NULL, 0, CONNECTED, 5010 },
		/* an error reply to the heartbeat still answers it */
		{ RX, 20, REPLY("phoenix", 1, "error"), 0,
		    "W:portal: heartbeat answered with an error", 30010 },
		{ RX, 30, "{\"event\":\"phx_reply\",\"topic\":\"relay\","
		    "\"ref\":0,\"payload\":{\"status\":\"error\","
		    "\"response\":{\"reason\":\"bad\\u0007\\nthing\"}}}",
		    0, "W:portal: join refused reason=\"bad??thing\"", 30010 },
		/* the portal echoing the token or the secret: redacted */
		{ RX, 40, "{\"event\":\"phx_reply\",\"topic\":\"relay\","
		    "\"ref\":0,\"payload\":{\"status\":\"error\","
		    "\"response\":{\"reason\":\"x" TOKEN "y\"}}}", 0,
		    "W:portal: join refused reason=\"(redacted)\"", 30010 },
		{ RX, 50, "{\"event\":\"a" SECRET "\"}", 0,
		    "D:portal: event ignored event=\"(redacted)\"", 30010 },
		{ FAIL, 60, "Bearer " TOKEN, 0, "", 30010 },
		{ CLOSED, 70, "Bearer " TOKEN, 0, "I:portal: connection closed "
		    "host=" HOST " reason=\"(redacted)\"|DROP|I:portal: "
		    "reconnecting seconds=0.2", 320 },
	};
	PLAY(1, "replies", s);
	PLAY(0, "join refused", refused);
}

/* the waits of consecutive failures, from the next timeout */
static void
backoff_seq(uint32_t r, uint64_t *d, size_t n, const char *name)
{
	struct phx	*p = mk();
	uint64_t	 now = 0;
	size_t		 i;

	if (p == NULL)
		return;
	rng_val = r;
	phx_start(p, 0);
	for (i = 0; i < n; i++) {
		phx_timeout(p, now);
		phx_fail(p, now, 503, "HTTP 503");
		d[i] = phx_next_timeout(p) - now;
		now += d[i];
		render(p, got, sizeof(got));
	}
	phx_free(p);
	(void)name;
}

static void
test_backoff(void)
{
	/* base 0.5 s x1.5 capped at 60 s; wait = base/2 + r * base / 2^32 */
	static const uint64_t	 lo[] = { 250, 375, 562, 843, 1265, 1897,
	    2846, 4269, 6403, 9605, 14407, 21611, 30000, 30000 };
	static const uint64_t	 hi[] = { 750, 1125, 1687, 2530, 3795, 5692,
	    8538, 12807, 19210, 28815, 43222, 60000, 60000, 60000 };
	static const struct step s[] = {
		{ START, 0, NULL, 0, "", 0 },
		{ TICK, 0, NULL, 0, CONNECTING "|CONNECT#0", 10000 },
		{ FAIL, 10, "HTTP 503", 503, "W:portal: connection failed host="
		    HOST " reason=\"HTTP 503\" code=503|DROP|"
		    "I:portal: reconnecting seconds=0.2", 260 },
		{ TICK, 260, NULL, 0, CONNECTING "|CONNECT#1", 10260 },
		{ FAIL, 270, NULL, 0, "W:portal: connection failed host="
		    HOST " reason=\"unknown\"|DROP|I:portal: reconnecting "
		    "seconds=0.3",
		    645 },
		{ TICK, 645, NULL, 0, CONNECTING "|CONNECT#2", 10645 },
		{ OPEN, 700, NULL, 0, CONNECTED, 5700 },
		{ RX, 710, REPLY("relay", 0, "ok"), 0,
		    "I:portal: joined topic relay|JOINED", 5700 },
		/* after a good join: back to 0.5 s, address rotation too */
		{ CLOSED, 800, "EOF", 0, "I:portal: connection closed host="
		    HOST " reason=\"EOF\"|DROP|LOST|I:portal: reconnecting "
		    "seconds=0.2",
		    1050 },
		{ TICK, 1050, NULL, 0, CONNECTING "|CONNECT#1", 11050 },
	};
	uint64_t	 d[14];
	size_t		 i;
	int		 same = 1, capped = 1;
	struct phx	*p;

	backoff_seq(0, d, 14, "low");
	for (i = 0; i < 14; i++)
		same &= d[i] == lo[i];
	ok(same, "backoff, RNG 0: 250 375 562 ... 21611 30000 30000 "
	    "(got %llu .. %llu)", (unsigned long long)d[0],
	    (unsigned long long)d[13]);
	backoff_seq(0xffffffff, d, 14, "high");
	for (i = 0; i < 14; i++) {
		same &= d[i] == hi[i];
		capped &= d[i] <= 60000;
	}
	ok(same, "backoff, RNG max: 750 1125 1687 ... 43222 60000 60000");
	ok(capped, "no wait above 60 s");

	if ((p = mk()) == NULL)
		return;
	rng_val = 0;
	RUN(p, "backoff", s);
	phx_free(p);
}

static void
test_fatal(void)
{
	static const struct step expired[] = {
		{ RX, 300, "{\"event\":\"disconnect\",\"topic\":\"relay\","
		    "\"ref\":null,\"payload\":{\"reason\":\"token_expired\"}}",
		    0, "DROP|LOST|W:portal: fatal reason=\"token_expired\"|"
		    "FATAL:token_expired", NONE },
		/* nothing happens any more */
		{ TICK, 60000, NULL, 0, "", NONE },
		{ RX, 60001, REPLY("phoenix", 1, "ok"), 0, "", NONE },
		{ OPEN, 60002, NULL, 0, "", NONE },
	};
	static const struct step http401[] = {
		{ START, 0, NULL, 0, "", 0 },
		{ TICK, 0, NULL, 0, CONNECTING "|CONNECT#0", 10000 },
		{ FAIL, 20, "HTTP/1.1 401 Unauthorized", 401,
		    "W:portal: connection failed host=" HOST " reason=\"HTTP/1.1 "
		    "401 Unauthorized\" code=401|DROP|W:portal: fatal reason=\""
		    "portal refused the connection: HTTP 401\"|FATAL:portal refused the "
		    "connection: HTTP 401", NONE },
		{ TICK, 100000, NULL, 0, "", NONE },
	};
	static const struct step other[] = {
		{ RX, 300, "{\"event\":\"disconnect\",\"payload\":"
		    "{\"reason\":42}}", 0, "W:portal: disconnected by the "
		    "portal, reconnecting reason=\"no reason\"|DROP|LOST|"
		    "I:portal: reconnecting seconds=0.2", 550 },
		{ TICK, 550, NULL, 0, CONNECTING "|CONNECT#1", 10550 },
		{ OPEN, 560, NULL, 0, CONNECTED, 5560 },
		{ RX, 570, "{\"event\":\"phx_close\",\"topic\":\"relay\"}", 0,
		    "I:portal: channel closed by the portal, reconnecting|"
		    "DROP|I:portal: reconnecting seconds=0.3", 945 },
	};
	struct phx	*p;

	PLAY(1, "token_expired", expired);
	PLAY(0, "HTTP 401", http401);
	if ((p = mk()) != NULL) {
		phx_start(p, 0);
		phx_timeout(p, 0);
		phx_fail(p, 0, 403, "forbidden");
		render(p, got, sizeof(got));
		ok(strstr(got, "FATAL:portal refused the connection: HTTP 403")
		    != NULL, "HTTP 403 is fatal too");
		phx_free(p);
	}
	PLAY(1, "other disconnects", other);
}

static void
test_leave(void)
{
	static const struct step clean[] = {
		{ LEAVE, 1000, NULL, 0, "I:portal: leaving (clean websocket "
		    "close)|LOST|CLOSE", 4000 },
		{ RX, 1001, REPLY("phoenix", 1, "ok"), 0, "", 4000 },
		{ CLOSED, 1200, "closed", 0, "I:portal: left|LEFT", NONE },
		{ TICK, 9000, NULL, 0, "", NONE },
	};
	static const struct step stuck[] = {
		{ LEAVE, 1000, NULL, 0, "I:portal: leaving (clean websocket "
		    "close)|LOST|CLOSE", 4000 },
		{ TICK, 4000, NULL, 0, "W:portal: close handshake not "
		    "finished, dropping|DROP|I:portal: left|LEFT", NONE },
	};
	static const struct step waiting[] = {
		{ START, 0, NULL, 0, "", 0 },
		{ TICK, 0, NULL, 0, CONNECTING "|CONNECT#0", 10000 },
		{ FAIL, 5, "refused", 0, "W:portal: connection failed host="
		    HOST " reason=\"refused\"|DROP|I:portal: reconnecting "
		    "seconds=0.2",
		    255 },
		/* LEFT from the next timeout, never from inside the call */
		{ LEAVE, 100, NULL, 0, "I:portal: leaving (not connected)",
		    100 },
		{ TICK, 100, NULL, 0, "I:portal: left|LEFT", NONE },
		{ TICK, 255, NULL, 0, "", NONE },
		{ LEAVE, 300, NULL, 0, "", NONE },
	};
	static const struct step connecting[] = {
		{ START, 0, NULL, 0, "", 0 },
		{ TICK, 0, NULL, 0, CONNECTING "|CONNECT#0", 10000 },
		{ LEAVE, 50, NULL, 0, "DROP|I:portal: leaving (not connected)",
		    50 },
		{ OPEN, 60, NULL, 0, "", 50 },
		{ TICK, 60, NULL, 0, "I:portal: left|LEFT", NONE },
	};

	PLAY(1, "leave", clean);
	PLAY(1, "leave, no close ack", stuck);
	PLAY(0, "leave while waiting", waiting);
	PLAY(0, "leave while connecting", connecting);
}

/* one message, its commands compared with want */
static void
feed(struct phx *p, const char *d, size_t len, const char *want,
    const char *name)
{
	phx_rx(p, 1000, d, len, PHX_RX_FINAL);
	render(p, got, sizeof(got));
	is_str(got, want, "%s", name);
}

/* frames that must change nothing but a counter and one log line */
static void
test_junk(void)
{
	static const struct {
		const char	*frame;
		const char	*log;
	} junk[] = {
		{ "not json", "W:portal: malformed JSON frame ignored" },
		{ "", "W:portal: malformed JSON frame ignored" },
		{ "{\"event\":\"phx_reply\"", "W:portal: malformed JSON frame "
		    "ignored" },
		{ "[1,2,3]", "W:portal: malformed JSON frame ignored" },
		{ "42", "W:portal: malformed JSON frame ignored" },
		{ "null", "W:portal: malformed JSON frame ignored" },
		{ "{\"event\":42}", "W:portal: frame without an event ignored" },
		{ "{\"event\":null}", "W:portal: frame without an event "
		    "ignored" },
		{ "{\"topic\":\"relay\"}", "W:portal: frame without an event "
		    "ignored" },
		{ "{\"event\":[\"phx_reply\"]}", "W:portal: frame without an "
		    "event ignored" },
		{ "{\"event\":\"init\",\"payload\":{},\"ref\":null,"
		    "\"topic\":\"relay\"}", "D:portal: event ignored event=\"init\"" },
		{ "{\"event\":\"phx_error\"}",
		    "D:portal: event ignored event=\"phx_error\"" },
		{ "{\"event\":\"\\u0001x\\u00ff\"}",
		    "D:portal: event ignored event=\"?x??\"" },
		{ "{\"event\":\"phx_reply\",\"payload\":\"ok\",\"ref\":0}",
		    "D:portal: unmatched reply ignored" },
		{ "{\"event\":\"disconnect\",\"payload\":null}",
		    "W:portal: disconnected by the portal, "
		    "reconnecting reason=\"no reason\"" },
	};
	char		*big, *deep;
	struct phx	*p;
	size_t		 i, n;
	uint64_t	 junk0;
	int		 kept = 1;

	if ((p = joined()) == NULL)
		return;
	/* all but the last keep the connection */
	n = sizeof(junk) / sizeof(junk[0]);
	for (i = 0; i < n; i++) {
		phx_rx(p, 1000 + i, junk[i].frame, strlen(junk[i].frame),
		    PHX_RX_FINAL);
		render(p, got, sizeof(got));
		if (i + 1 < n) {
			is_str(got, junk[i].log, "junk %zu ignored", i);
			kept &= phx_joined(p);
		} else
			ok(strncmp(got, junk[i].log, strlen(junk[i].log)) ==
			    0 && !phx_joined(p), "disconnect with a null "
			    "payload: reconnect, not fatal");
	}
	ok(kept, "still joined after every junk frame");
	phx_free(p);

	if ((p = joined()) == NULL)
		return;
	junk0 = phx_stats(p)->junk;
	phx_rx(p, 1000, "{\"event\":", 9, PHX_RX_BINARY);
	phx_rx(p, 1000, "\"x\"}", 4, PHX_RX_FINAL);
	render(p, got, sizeof(got));
	is_str(got, "W:portal: binary frame ignored", "binary frame ignored");

	/* 70 kB in fragments: ignored whole, the next frame parsed */
	big = malloc(70000);
	memset(big, ' ', 70000);
	memcpy(big, "{\"event\":\"disconnect\",\"payload\":{\"reason\":"
	    "\"token_expired\"}}", 59);
	phx_rx(p, 1001, big, 40000, 0);
	phx_rx(p, 1001, big + 40000, 30000, PHX_RX_FINAL);
	render(p, got, sizeof(got));
	is_str(got, "W:portal: oversized frame ignored max=65536",
	    "70 kB frame ignored, not even its start is acted upon");
	ok(phx_joined(p), "still joined");
	/* 60 kB is within bounds: a push with a long string */
	memcpy(big, "{\"event\":\"init\",\"payload\":{\"x\":\"", 33);
	memset(big + 33, 'a', 60000);
	memcpy(big + 60033, "\"}}", 3);
	feed(p, big, 60036, "D:portal: event ignored event=\"init\"",
	    "60 kB push parsed");
	free(big);

	/* deeply nested: refused before cJSON sees it */
	deep = malloc(20001);
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	feed(p, deep, 20000, "W:portal: too deeply nested frame ignored",
	    "10000 levels of nesting ignored");
	snprintf(deep, 20001, "{\"event\":\"init\",\"payload\":"
	    "%.16s%.16s}", "[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]");
	feed(p, deep, strlen(deep), "W:portal: too deeply nested frame ignored",
	    "17 levels ignored");
	snprintf(deep, 20001, "{\"event\":\"init\",\"payload\":"
	    "%.15s\"[[[[{{{{\"%.15s}", "[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]");
	feed(p, deep, strlen(deep), "D:portal: event ignored event=\"init\"",
	    "16 levels, brackets inside strings not counted");
	free(deep);
	is_int((long long)(phx_stats(p)->junk - junk0), 4,
	    "junk frames counted");
	ok(phx_joined(p), "still joined");

	/* the first PHX_JUNK_LOGGED per connection are warnings */
	for (i = 0; i < PHX_JUNK_LOGGED + 2; i++) {
		phx_rx(p, 2000, "x", 1, PHX_RX_FINAL);
		render(p, got, sizeof(got));
	}
	is_str(got, "D:portal: malformed JSON frame ignored",
	    "junk beyond the first ten is logged at debug level");
	phx_free(p);
}

/* input when there is no connection changes nothing */
static void
test_stale(void)
{
	static const struct step s[] = {
		{ RX, 0, REPLY("relay", 0, "ok"), 0, "", NONE },
		{ OPEN, 0, NULL, 0, "", NONE },
		{ FAIL, 0, "x", 401, "", NONE },
		{ CLOSED, 0, "x", 0, "", NONE },
		{ TICK, 0, NULL, 0, "", NONE },
		{ START, 10, NULL, 0, "", 10 },
		{ START, 20, NULL, 0, "", 10 },
		{ RX, 10, REPLY("relay", 0, "ok"), 0, "", 10 },
		{ OPEN, 10, NULL, 0, "", 10 },
		{ TICK, 9, NULL, 0, "", 10 },
	};
	PLAY(0, "stale input", s);
}

static void
test_setup(void)
{
	struct phx_conf	 c;
	const char	*why = NULL;
	struct phx	*p;
	char		 h[64], longtok[PHX_MAX_TOKEN + 2];

	memset(&c, 0, sizeof(c));
	c.api_url = URL;
	c.token = TOKEN;
	c.secret = SECRET;
	if ((p = phx_new(&c, fixed_rng, NULL, &why)) != NULL) {
		is_int(phx_auth_header(p, h, sizeof(h)), 7 + strlen(TOKEN),
		    "auth header length");
		is_str(h, "Bearer " TOKEN, "auth header");
		is_int(phx_auth_header(p, h, 10), -1, "auth header too long");
		is_str(phx_url(p)->path, "/relay/websocket?port=0",
		    "only port without name and addresses");
		phx_free(p);
	} else
		ok(0, "phx_new: %s", why);
	c.token = "has space";
	ok(phx_new(&c, fixed_rng, NULL, &why) == NULL && why != NULL,
	    "token with a space refused");
	memset(longtok, 'a', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	c.token = longtok;
	ok(phx_new(&c, fixed_rng, NULL, &why) == NULL, "overlong token");
	c.token = "";
	ok(phx_new(&c, fixed_rng, NULL, &why) == NULL, "empty token");
	c.token = TOKEN;
	c.secret = "";
	ok(phx_new(&c, fixed_rng, NULL, &why) == NULL, "empty secret");
	c.secret = SECRET;
	c.api_url = "gopher://x";
	ok(phx_new(&c, fixed_rng, NULL, &why) == NULL &&
	    strstr(why, "scheme") != NULL, "bad URL refused: %s", why);
}

static void
test_url(void)
{
	static const struct {
		const char	*url;
		int		 tls;
		unsigned int	 port;
		int		 numeric;
		const char	*host, *hosthdr, *path;	/* NULL: error */
	} t[] = {
		{ "http://portal.test", 0, 80, 0, "portal.test",
		    "portal.test", "/relay/websocket" },
		{ "https://api.firezone.dev/", 1, 443, 0, "api.firezone.dev",
		    "api.firezone.dev", "/relay/websocket" },
		{ "ws://127.0.0.1:8081", 0, 8081, 1, "127.0.0.1",
		    "127.0.0.1:8081", "/relay/websocket" },
		{ "wss://[2001:db8::1]:8443/base/", 1, 8443, 1, "2001:db8::1",
		    "[2001:db8::1]:8443", "/base/relay/websocket" },
		{ "http://[::1]", 0, 80, 1, "::1", "[::1]",
		    "/relay/websocket" },
		{ "HTTPS://Portal.Test:443/x//?q=1#f", 1, 443, 0,
		    "Portal.Test", "Portal.Test", "/x/relay/websocket" },
		{ "http://h:0080", 0, 80, 0, "h", "h", "/relay/websocket" },
		{ "wss://h:80", 1, 80, 0, "h", "h:80", "/relay/websocket" },
		{ "http://h?a=b", 0, 80, 0, "h", "h", "/relay/websocket" },
		{ "http://h#frag/x", 0, 80, 0, "h", "h", "/relay/websocket" },
		{ "http://h/a%20b/", 0, 80, 0, "h", "h",
		    "/a%20b/relay/websocket" },
		{ "api.firezone.dev", 0, 0, 0, NULL, NULL, NULL },
		{ "//api.firezone.dev", 0, 0, 0, NULL, NULL, NULL },
		{ "ftp://x", 0, 0, 0, NULL, NULL, NULL },
		{ "", 0, 0, 0, NULL, NULL, NULL },
		{ "http://", 0, 0, 0, NULL, NULL, NULL },
		{ "http:///path", 0, 0, 0, NULL, NULL, NULL },
		{ "http://:80", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h:", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h:0", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h:65536", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h:99999999999999999999", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h:80x", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h:-1", 0, 0, 0, NULL, NULL, NULL },
		{ "http://user:pw@h", 0, 0, 0, NULL, NULL, NULL },
		{ "http://[::1", 0, 0, 0, NULL, NULL, NULL },
		{ "http://[::1]x", 0, 0, 0, NULL, NULL, NULL },
		{ "http://[zz::1]", 0, 0, 0, NULL, NULL, NULL },
		{ "http://[fe80::1%25eth0]", 0, 0, 0, NULL, NULL, NULL },
		{ "http://[]", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h x", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h/a b", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h/\xc3\xa9", 0, 0, 0, NULL, NULL, NULL },
		{ "http://h\r\nX-Evil: 1", 0, 0, 0, NULL, NULL, NULL },
	};
	struct phx_url	 u;
	const char	*why;
	char		 huge[PHX_MAX_URL + 16];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why = NULL;
		rc = phx_url_parse(&u, t[i].url, &why);
		if (t[i].path == NULL) {
			ok(rc == -1 && why != NULL, "URL %zu refused: %s",
			    i, why ? why : "(accepted)");
			continue;
		}
		ok(rc == 0 && u.tls == t[i].tls && u.port == t[i].port &&
		    u.numeric == t[i].numeric &&
		    strcmp(u.host, t[i].host) == 0 &&
		    strcmp(u.hosthdr, t[i].hosthdr) == 0 &&
		    strcmp(u.path, t[i].path) == 0,
		    "URL '%s' -> %s://%s%s (port %u, host %s%s)", t[i].url,
		    u.tls ? "wss" : "ws", u.hosthdr, u.path, u.port, u.host,
		    rc == 0 ? "" : ": refused");
	}
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "http://h/", 9);
	ok(phx_url_parse(&u, huge, &why) == -1, "overlong URL refused");
	memset(huge, 'a', sizeof(huge) - 1);
	memcpy(huge, "http://", 7);
	huge[300] = '\0';
	ok(phx_url_parse(&u, huge, &why) == -1, "300-char host refused");
}

static void
test_query(void)
{
	struct phx_conf	 c;
	struct phx_url	 u;
	const char	*why;
	char		 name[1000], enc[8];

	memset(&c, 0, sizeof(c));
	c.name = "a b&c=d/\xc3\xa9~";
	c.ipv4 = "192.0.2.1";
	c.ipv6 = "2001:db8::1";
	c.port = 65535;
	phx_url_parse(&u, "https://portal.test/api", &why);
	is_int(phx_url_query(&u, &c), 0, "query built");
	is_str(u.path, "/api/relay/websocket?name=a%20b%26c%3Dd%2F%C3%A9~"
	    "&ipv4=192.0.2.1&ipv6=2001%3Adb8%3A%3A1&port=65535",
	    "query: order, percent-encoding");
	c.name = "";
	c.ipv4 = NULL;
	c.ipv6 = NULL;
	c.port = 3478;
	phx_url_parse(&u, "https://portal.test/api", &why);
	phx_url_query(&u, &c);
	is_str(u.path, "/api/relay/websocket?name=&port=3478",
	    "empty name kept, unset addresses omitted");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	c.name = name;
	phx_url_parse(&u, "https://portal.test/api", &why);
	is_int(phx_url_query(&u, &c), -1, "overlong name refused");
	is_int((long long)phx_urlenc("\x01", enc, 4), 3, "%%01 fits 4");
	is_int((long long)phx_urlenc("\x01", enc, 3), 0, "%%01 not 3");
}

int
main(void)
{
	test_url();
	test_query();
	test_setup();
	test_heartbeat();
	test_reply_matching();
	test_backoff();
	test_fatal();
	test_leave();
	test_junk();
	test_stale();
	is_int(leaks, 0, "the token never appears in a command; the secret "
	    "only in frames marked for wiping");
	return done_testing();
}
