/* tap.c: see tap.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int	tap_planned = -1;
static int	tap_run;
static int	tap_fails;

/*
 * prove(1) shows a test's stderr but not its "# " lines on stdout. So the
 * diagnostics since the last test point are kept (the newest TAP_CTX
 * bytes) and copied to stderr when the next test point fails, and those
 * after a failing one go to stderr as well: a failure in CI logs says why.
 */
#define TAP_CTX		8192
static char	tap_ctx[TAP_CTX];
static size_t	tap_ctx_len;
static int	tap_ctx_cut;	/* older lines were dropped */
static int	tap_echo;	/* the last test point failed */

static void
tap_ctx_add(const char *line, size_t len)
{
	size_t	cut;

	if (len > TAP_CTX)
		return;
	if (tap_ctx_len + len > TAP_CTX) {
		/* drop whole old lines to make room */
		cut = tap_ctx_len + len - TAP_CTX;
		while (cut < tap_ctx_len && tap_ctx[cut - 1] != '\n')
			cut++;
		memmove(tap_ctx, tap_ctx + cut, tap_ctx_len - cut);
		tap_ctx_len -= cut;
		tap_ctx_cut = 1;
	}
	memcpy(tap_ctx + tap_ctx_len, line, len);
	tap_ctx_len += len;
}

/* a test point: a failure copies the kept diagnostics to stderr */
static void
tap_point(int cond, const char *name)
{
	if (!cond) {
		fprintf(stderr, "#   Failed test %d - %s\n", tap_run, name);
		if (tap_ctx_cut)
			fprintf(stderr, "#   (earlier diagnostics: on stdout)\n");
		fwrite(tap_ctx, 1, tap_ctx_len, stderr);
		fflush(stderr);
	}
	tap_ctx_len = 0;
	tap_ctx_cut = 0;
	tap_echo = !cond;
}

void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

void
skip_all(const char *fmt, ...)
{
	va_list	ap;

	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(0);
}

static int
tap_vok(int cond, const char *fmt, va_list ap)
{
	char	name[512];

	tap_run++;
	if (!cond)
		tap_fails++;
	(void)vsnprintf(name, sizeof(name), fmt, ap);
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_run, name);
	fflush(stdout);
	tap_point(cond, name);
	return cond;
}

int
ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list	ap;
	int	cond = got == want;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		diag("  got: %lld", got);
		diag(" want: %lld", want);
	}
	return cond;
}

static void
tap_hexdump(const char *label, const void *p, size_t len)
{
	const unsigned char	*b = p;
	char			 hex[2 * 512 + 1];
	size_t			 i, n = len < 512 ? len : 512;

	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[2 * n] = '\0';
	diag("%6s (%zu): %s%s", label, len, hex, n < len ? "..." : "");
}

int
is_mem(const void *got, size_t glen, const void *want, size_t wlen,
    const char *fmt, ...)
{
	va_list	ap;
	int	cond = glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0);

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		tap_hexdump("got", got, glen);
		tap_hexdump("want", want, wlen);
	}
	return cond;
}

int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list	ap;
	int	cond = got != NULL && want != NULL && strcmp(got, want) == 0;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		diag("  got: '%s'", got ? got : "(null)");
		diag(" want: '%s'", want ? want : "(null)");
	}
	return cond;
}

void
skip(int n, const char *fmt, ...)
{
	va_list	ap;
	int	i;

	for (i = 0; i < n; i++) {
		tap_run++;
		printf("ok %d # skip ", tap_run);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	tap_point(1, "");
}

void
diag(const char *fmt, ...)
{
	va_list	ap;
	char	line[1024];
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line + 2, sizeof(line) - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	line[0] = '#';
	line[1] = ' ';
	n = n > (int)sizeof(line) - 4 ? (int)sizeof(line) - 4 : n;
	line[n + 2] = '\n';
	fwrite(line, 1, (size_t)n + 3, stdout);
	fflush(stdout);
	if (tap_echo) {
		fwrite(line, 1, (size_t)n + 3, stderr);
		fflush(stderr);
	} else
		tap_ctx_add(line, (size_t)n + 3);
}

int
tap_failed(void)
{
	return tap_fails;
}

int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run) {
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
		fflush(stdout);
		return 255;
	}
	fflush(stdout);
	return tap_fails > 254 ? 254 : tap_fails;
}

size_t
tap_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t	n = 0;
	int	hi = -1, v;

	for (; *hex != '\0'; hex++) {
		char c = *hex;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			continue;	/* allow spaces and separators */
		if (hi < 0)
			hi = v;
		else {
			if (n >= cap)
				abort();
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		abort();
	return n;
}
