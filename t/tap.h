/*
 * tap.h: a minimal Test Anything Protocol producer for prove(1).
 *
 * plan(n) or done_testing(); ok()/is_int()/is_mem()/is_str() print one
 * "ok N - name" line each; diagnostics go to stdout as "# " lines, and
 * those around a failing test point to stderr too (prove shows stderr).
 * The exit status is the number of failed tests (capped at 254), or 255
 * when the plan was not met.
 */
#ifndef TAP_H
#define TAP_H

#include <stddef.h>
#include <stdint.h>

void	plan(int n);
void	skip_all(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int	ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	is_int(long long got, long long want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	is_mem(const void *got, size_t glen, const void *want, size_t wlen,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int	is_str(const char *got, const char *want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	skip(int n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	done_testing(void);	/* returns the exit status for main() */
int	tap_failed(void);

/* hex helpers for byte-exact tables */
size_t	tap_unhex(const char *hex, uint8_t *out, size_t cap);

#endif
