/*
 * log.h: OpenBSD-style logger shared by supervisor and worker (not part
 * of the pure core: it writes to stderr and reads the clock).
 *
 * Formats: LOG_FMT_HUMAN ("2026-11-23T11:00:00.123Z INFO sup: message k=v")
 * and LOG_FMT_JSON (one object per line: time (RFC 3339 UTC, ns),
 * severity, message, proc, plus fields). A text passed here is a fixed
 * message followed by " key=value" pairs (values with spaces quoted);
 * JSON turns the pairs into members. Never pass secrets, passwords,
 * keys, MESSAGE-INTEGRITY or tokens to it.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdint.h>

#define LOG_ERR		0
#define LOG_WARN	1
#define LOG_INFO	2
#define LOG_DEBUG	3

#define LOG_FMT_HUMAN	0
#define LOG_FMT_JSON	1

void	log_init(int fmt, int level);
void	log_procinit(const char *);
/* writes to stderr never block from now on (lines dropped, counted) */
int	log_nonblock(void);
uint64_t log_dropped(void);
int	log_level(void);
int	log_format(void);
/* message plus optional key/value string pairs, terminated by NULL */
void	log_kv(int level, const char *msg, ...) __attribute__((sentinel));
void	log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	log_vmsg(int level, const char *fmt, va_list);
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* + errno */
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
const char *log_level_name(int);

#endif
