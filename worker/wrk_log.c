/*
 * wrk_log.c: worker logging through the supervisor.
 *
 * A sandboxed worker has no stderr and no syslog, so a log line becomes a
 * MSG_LOG record on the socketpair (OpenSSH's sandboxed child does the
 * same over its log pipe). The supervisor checks level and length, strips
 * control characters and tags the line with the allocation. Lines are
 * rate-limited here too (a token bucket of WRK_LOG_PER_S per second) so
 * that a flood of one kind of event cannot crowd out the data on the
 * socketpair; suppressed lines are counted in the next one that passes.
 * Until the descriptors are closed, a line that cannot be sent goes to
 * stderr instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg_io.h"
#include "wrk.h"

static struct {
	int		 fd;
	int		 level;
	int		 use_stderr;
	uint64_t	 refill_ms;	/* time of the last token refill */
	unsigned	 tokens;
	unsigned long	 suppressed;
} wrk_lg = { WRK_CTL_FD, LOG_INFO, 1, 0, WRK_LOG_PER_S, 0 };

void
wrk_log_init(int fd, int level, int use_stderr)
{
	wrk_lg.fd = fd;
	wrk_lg.level = level;
	wrk_lg.use_stderr = use_stderr;
	wrk_lg.tokens = WRK_LOG_PER_S;
	wrk_lg.suppressed = 0;
}

void
wrk_log_stderr(int on)
{
	wrk_lg.use_stderr = on;
}

int
wrk_send_rec(int fd, const void *p, size_t len)
{
	return msg_send_rec(fd, p, len);
}

static uint64_t
wrk_log_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1 if a line may go out now */
static int
wrk_log_take(void)
{
	uint64_t	now = wrk_log_now_ms(), add;

	if (now > wrk_lg.refill_ms) {
		add = (now - wrk_lg.refill_ms) * WRK_LOG_PER_S / 1000;
		if (add > 0) {
			wrk_lg.tokens = add >= WRK_LOG_PER_S ? WRK_LOG_PER_S :
			    (unsigned)(wrk_lg.tokens + add) > WRK_LOG_PER_S ?
			    WRK_LOG_PER_S : wrk_lg.tokens + (unsigned)add;
			wrk_lg.refill_ms = now;
		}
	}
	if (wrk_lg.tokens == 0) {
		wrk_lg.suppressed++;
		return 0;
	}
	wrk_lg.tokens--;
	return 1;
}

static void
wrk_log_emit(int level, const char *text, size_t len)
{
	uint8_t		rec[MSG_HDR_LEN + 1 + MSG_LOG_MAX];
	struct buf_w	w;
	struct msg_log	lg;

	if (len == 0)
		return;
	if (len > MSG_LOG_MAX)
		len = MSG_LOG_MAX;
	lg.level = (uint8_t)level;
	lg.text = (const uint8_t *)text;
	lg.len = len;
	buf_w_init(&w, rec, sizeof(rec));
	if (msg_put_log(&w, &lg) == 0 &&
	    msg_send_rec(wrk_lg.fd, rec, w.len) == 0)
		return;
	/* no supervisor to tell (run by hand, or it is gone) */
	if (wrk_lg.use_stderr)
		(void)fprintf(stderr, "turncell-worker: %.*s\n", (int)len,
		    text);
}

static void
wrk_vlog(int level, int limited, const char *fmt, va_list ap)
{
	char	text[MSG_LOG_MAX + 1];
	int	n, m;
	int	saved = errno;

	if (level > wrk_lg.level && level != LOG_ERR)
		return;
	if (limited && !wrk_log_take())
		return;
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	if (wrk_lg.suppressed > 0 && (size_t)n < sizeof(text) - 1) {
		m = snprintf(text + n, sizeof(text) - (size_t)n,
		    " suppressed=%lu", wrk_lg.suppressed);
		if (m > 0)
			n = (size_t)(n + m) >= sizeof(text) ?
			    (int)sizeof(text) - 1 : n + m;
		wrk_lg.suppressed = 0;
	}
	wrk_log_emit(level, text, (size_t)n);
	errno = saved;
}

void
wrk_log(int level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	wrk_vlog(level, 1, fmt, ap);
	va_end(ap);
}

void
wrk_fatalx(int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	wrk_vlog(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	_exit(code);
}
