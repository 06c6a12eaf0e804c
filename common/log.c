/*
 * log.c: the logger of log.h, shared by the supervisor and the worker.
 *
 * One line per event on stderr, written with a single write(2) so that
 * lines from several processes sharing the descriptor do not interleave.
 * Two formats: human ("<time> INFO sup: message k=v") and JSON lines
 * ({"time", "severity", "message", "proc", fields...}). Every string is
 * escaped: JSON gets \uXXXX for control characters and U+FFFD for bytes
 * that are not UTF-8; the human format replaces control characters with
 * '?' so that a line can never be forged by the text it carries.
 *
 * Every event text is "Fixed message k=v k=\"v w\"": the human format
 * prints it as it is; JSON makes the part before the first " k=" the
 * message and each pair a member, typed per field name (log_num_keys),
 * so that jq can select on the message and compare numbers.
 *
 * log_nonblock() makes those writes non-blocking for the supervisor, whose
 * event loop must never wait for whoever reads its stderr: a line that
 * does not fit is dropped and counted (log_dropped()). Lines are at most
 * PIPE_BUF bytes, so a pipe takes a line whole or not at all.
 *
 * Never pass secrets, passwords, keys, MESSAGE-INTEGRITY or tokens here.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	4096
#define LOG_TEXT_MAX	1024
#define LOG_FIELDS_MAX	24
#define LOG_TAKEN_MAX	8

_Static_assert(LOG_LINE_MAX <= PIPE_BUF, "a line must be one atomic write");

struct log_line {
	char		 b[LOG_LINE_MAX];
	size_t		 len;
	int		 full;
	/* names of the fields given apart from the text, not to repeat */
	const char	*taken[LOG_TAKEN_MAX];
	size_t		 n_taken;
};

static int	log_fmt = LOG_FMT_HUMAN;
static int	log_sock;	/* stderr is a socket: send(MSG_DONTWAIT) */
static uint64_t	log_drops;
static int	log_lvl = LOG_INFO;
static char	log_proc[32] = "turncell";

static const char *const log_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void
log_init(int fmt, int level)
{
	log_fmt = fmt == LOG_FMT_JSON ? LOG_FMT_JSON : LOG_FMT_HUMAN;
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_lvl = level;
}

/*
 * Make writes to stderr non-blocking without touching the file
 * description we inherited (others may share it): a socket gets
 * MSG_DONTWAIT on every send; a pipe, FIFO or terminal is opened again
 * through /proc, which gives a description of our own, made O_NONBLOCK
 * and put on fd 2. Regular files do not block. 0 done or not needed,
 * -1 stderr stays blocking.
 */
int
log_nonblock(void)
{
	struct stat	st;
	int		fd;

	if (fstat(STDERR_FILENO, &st) == -1)
		return -1;
	if (S_ISSOCK(st.st_mode)) {
		log_sock = 1;
		return 0;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return 0;
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1)
		return -1;
	if (dup2(fd, STDERR_FILENO) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

uint64_t
log_dropped(void)
{
	return log_drops;
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		snprintf(log_proc, sizeof(log_proc), "%s", name);
}

int
log_level(void)
{
	return log_lvl;
}

int
log_format(void)
{
	return log_fmt;
}

const char *
log_level_name(int level)
{
	if (level < LOG_ERR || level > LOG_DEBUG)
		return "INFO";
	return log_names[level];
}

/* append raw bytes; keeps room for the closing '}' and newline */
static void
line_raw(struct log_line *l, const char *s, size_t n)
{
	if (l->full || n > LOG_LINE_MAX - 2 - l->len) {
		l->full = 1;
		return;
	}
	memcpy(l->b + l->len, s, n);
	l->len += n;
}

static void
line_str(struct log_line *l, const char *s)
{
	line_raw(l, s, strlen(s));
}

/* length of a valid UTF-8 sequence at s (1..4), or 0 if invalid */
static size_t
utf8_len(const unsigned char *s, size_t left)
{
	size_t		 n, i;
	unsigned	 c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* overlong 3/4-byte forms, surrogates, > U+10FFFF */
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
		return 0;
	return n;
}

static void
line_json_str(struct log_line *l, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 left = strlen(str), n;
	char			 esc[8];

	line_raw(l, "\"", 1);
	while (left > 0) {
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			line_raw(l, esc, 2);
			n = 1;
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			line_raw(l, esc, 6);
			n = 1;
		} else if ((n = utf8_len(s, left)) == 0) {
			line_str(l, "\\ufffd");
			n = 1;
		} else
			line_raw(l, (const char *)s, n);
		s += n;
		left -= n;
	}
	line_raw(l, "\"", 1);
}

/* human text: control characters become '?' */
static void
line_human_str(struct log_line *l, const char *str, int quote)
{
	const unsigned char	*s;
	char			 c;

	if (quote)
		line_raw(l, "\"", 1);
	for (s = (const unsigned char *)str; *s != '\0'; s++) {
		c = (char)*s;
		if (*s < 0x20 || *s == 0x7f)
			c = '?';
		if (quote && (c == '"' || c == '\\'))
			line_raw(l, "\\", 1);
		line_raw(l, &c, 1);
	}
	if (quote)
		line_raw(l, "\"", 1);
}

static int
needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	return strpbrk(v, " \t\"=\\") != NULL;
}

static void
line_time(struct log_line *l)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[64], frac[16];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		t[0] = '\0';
	snprintf(frac, sizeof(frac), ".%09ldZ", (long)ts.tv_nsec);
	line_str(l, t);
	line_str(l, frac);
}

/*
 * Fields whose values are JSON numbers when they read as one (decimal, or
 * 0x hex for channel numbers); every other field is a string. Decided per
 * field so that a jq filter can rely on the type.
 */
static const char *const log_num_keys[] = {
	"alloc_id", "allocations", "burst", "channel", "channels", "code",
	"count", "dropped", "id", "input", "len", "lifetime", "max",
	"max_bps", "ms", "n", "no_channel", "no_peer", "pid", "port",
	"seconds", "secrets", "send_error", "socket_full", "supervisor_busy",
	"suppressed", "too_big", "truncated", "was",
};

/* names the line itself uses; a field of that name is renamed x_<name> */
static const char *const log_reserved[] = {
	"time", "severity", "message", "proc",
};

static int
key_in(const char *k, size_t klen, const char *const *set, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strlen(set[i]) == klen && memcmp(set[i], k, klen) == 0)
			return 1;
	return 0;
}

/* 1 if v is a JSON number (at most 19 integer digits) or 0x hexadecimal */
static int
is_number(const char *v)
{
	const char	*s = v;
	size_t		 n = 0;

	if (s[0] == '0' && s[1] == 'x') {
		for (s += 2; *s != '\0' && strchr("0123456789abcdefABCDEF",
		    *s) != NULL; s++)
			n++;
		return *s == '\0' && n > 0 && n <= 15;
	}
	if (*s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		n++;
	if (n == 0 || n > 19 || (s[-n] == '0' && n > 1))
		return 0;
	if (*s == '.' && s[1] >= '0' && s[1] <= '9')	/* a fraction */
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	return *s == '\0';
}

static void
line_json_key(struct log_line *l, const char *k, size_t klen)
{
	char	key[64];

	if (klen > 32)
		klen = 32;
	if (key_in(k, klen, log_reserved, sizeof(log_reserved) /
	    sizeof(log_reserved[0])) || key_in(k, klen, l->taken, l->n_taken))
		snprintf(key, sizeof(key), "x_%.*s", (int)klen, k);
	else
		snprintf(key, sizeof(key), "%.*s", (int)klen, k);
	line_raw(l, ",", 1);
	line_json_str(l, key);
	line_raw(l, ":", 1);
}

static void
line_json_field(struct log_line *l, const char *k, size_t klen,
    const char *v)
{
	char	num[32];

	line_json_key(l, k, klen);
	if (key_in(k, klen, log_num_keys, sizeof(log_num_keys) /
	    sizeof(log_num_keys[0])) && is_number(v)) {
		if (v[0] == '0' && v[1] == 'x') {
			snprintf(num, sizeof(num), "%llu",
			    strtoull(v + 2, NULL, 16));
			line_str(l, num);
		} else
			line_str(l, v);
	} else
		line_json_str(l, v);
}

static void
line_field(struct log_line *l, const char *k, const char *v)
{
	if (v == NULL)
		v = "(null)";
	if (log_fmt == LOG_FMT_JSON)
		line_json_field(l, k, strlen(k), v);
	else {
		line_raw(l, " ", 1);
		line_human_str(l, k, 0);
		line_raw(l, "=", 1);
		line_human_str(l, v, needs_quotes(v));
	}
}

/* length of a field name [a-z][a-z0-9_]* at s followed by '=', or 0 */
static size_t
key_len(const char *s)
{
	size_t	n = 0;

	if (*s < 'a' || *s > 'z')
		return 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
	    s[n] == '_')
		n++;
	return s[n] == '=' && n <= 32 ? n : 0;
}

/*
 * An event text is "Fixed message k=v k=\"quoted v\" ...". In JSON the
 * message is the text before the first " k=" and every pair a member;
 * whatever does not parse as pairs goes whole into "detail", so no text,
 * whoever wrote it (a worker's line too), can add or break members.
 * Returns the length of the message part.
 */
static size_t
text_msg_len(const char *text)
{
	const char	*p;

	for (p = text; (p = strchr(p, ' ')) != NULL; p++)
		if (key_len(p + 1) > 0)
			return (size_t)(p - text);
	return strlen(text);
}

static void
line_json_pairs(struct log_line *l, const char *p)
{
	char		 v[LOG_TEXT_MAX];
	const char	*k;
	size_t		 klen, n, nf = 0;

	while (*p == ' ')
		p++;
	while (*p != '\0') {
		if ((klen = key_len(p)) == 0 || ++nf > LOG_FIELDS_MAX)
			break;
		k = p;
		p += klen + 1;
		n = 0;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (n < sizeof(v) - 1)
					v[n++] = *p;
			}
			if (*p != '"')
				break;
			p++;
		} else
			for (; *p != '\0' && *p != ' '; p++)
				if (n < sizeof(v) - 1)
					v[n++] = *p;
		v[n] = '\0';
		line_json_field(l, k, klen, v);
		while (*p == ' ')
			p++;
	}
	if (*p != '\0')
		line_json_field(l, "detail", 6, p);
}

static void
line_begin(struct log_line *l, int level, const char *msg)
{
	char	head[LOG_TEXT_MAX];

	l->len = 0;
	l->full = 0;
	if (log_fmt == LOG_FMT_JSON) {
		line_str(l, "{\"time\":\"");
		line_time(l);
		line_str(l, "\",\"severity\":\"");
		line_str(l, log_level_name(level));
		line_str(l, "\",\"message\":");
		snprintf(head, sizeof(head), "%.*s", (int)text_msg_len(msg),
		    msg);
		line_json_str(l, head);
		line_str(l, ",\"proc\":");
		line_json_str(l, log_proc);
	} else {
		line_time(l);
		line_raw(l, " ", 1);
		line_str(l, log_level_name(level));
		line_raw(l, " ", 1);
		line_human_str(l, log_proc, 0);
		line_str(l, ": ");
		line_human_str(l, msg, 0);
	}
}

static void
line_end(struct log_line *l)
{
	const char	*p;
	size_t		 left;
	ssize_t		 n;

	if (log_fmt == LOG_FMT_JSON)
		l->b[l->len++] = '}';
	l->b[l->len++] = '\n';
	p = l->b;
	left = l->len;
	while (left > 0) {
		if (log_sock)
			n = send(STDERR_FILENO, p, left, MSG_DONTWAIT |
			    MSG_NOSIGNAL);
		else
			n = write(STDERR_FILENO, p, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* full (EAGAIN) or gone: the line is lost */
			log_drops++;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
}

static void
log_vkv(int level, const char *msg, va_list ap)
{
	static struct log_line	 l;
	const char		*k, *v;
	int			 saved = errno;

	if (level > log_lvl)
		return;
	line_begin(&l, level, msg);
	l.n_taken = 0;
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		line_field(&l, k, v);
		if (l.n_taken < LOG_TAKEN_MAX)
			l.taken[l.n_taken++] = k;
	}
	/* then the text's own pairs, which cannot replace those */
	if (log_fmt == LOG_FMT_JSON)
		line_json_pairs(&l, msg + text_msg_len(msg));
	if (l.full) {
		/* a shortened message, no fields: still one valid line */
		char	short_msg[512];

		snprintf(short_msg, sizeof(short_msg), "%.*s",
		    (int)text_msg_len(msg), msg);
		line_begin(&l, level, short_msg);
		l.n_taken = 0;
		line_field(&l, "truncated", "true");
	}
	line_end(&l);
	errno = saved;
}

void
log_kv(int level, const char *msg, ...)
{
	va_list	ap;

	va_start(ap, msg);
	log_vkv(level, msg, ap);
	va_end(ap);
}

/* message only; a helper so that va_list users need no field list */
static void
log_text(int level, const char *text)
{
	log_kv(level, text, (char *)NULL);
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char	text[LOG_TEXT_MAX];

	if (level > log_lvl)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	log_text(level, text);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* the message plus error=<strerror(err)>, as OpenBSD's log_warn and fatal */
static void
log_verrno(int level, int err, const char *fmt, va_list ap)
{
	char	text[LOG_TEXT_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	log_kv(level, text, "error", strerror(err), (char *)NULL);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_verrno(LOG_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARN, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_verrno(LOG_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
