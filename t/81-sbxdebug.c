/*
 * 81-sbxdebug: the sandbox debug build and the production filter side by
 * side (attack cases 46, 47).
 *
 * build/test/turncell-worker-hostile-sbxdebug is the hostile test worker
 * of t/53 built with -DWRK_SANDBOX_DEBUG: its filter traps instead of
 * killing, and the SIGSYS handler sends "syscall N" to the supervisor as
 * a MSG_LOG record and exits with status 6. For each forbidden call
 * (socket, execve, and mprotect with PROT_EXEC, the masked-argument rule)
 * the test checks that the supervisor logs the call's number and the
 * exit status, and, as the control, that the same call in the worker
 * built without the switch (build/test/turncell-worker-hostile, the
 * release flags) is still a SIGSYS kill with no such line. Last, the
 * release worker bin/turncell-worker has no trap handler compiled in.
 *
 * TURNCELL_SYSCALL reaches the worker through a /bin/sh wrapper (the
 * supervisor execs workers with an empty environment), as in t/53.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define DEBUG_BIN	"build/test/turncell-worker-hostile-sbxdebug"
#define PROD_BIN	"build/test/turncell-worker-hostile"

static char	bindir[64];

static int
wrapper(const char *bin, const char *mode, char *out, size_t cap)
{
	FILE	*f;

	snprintf(out, cap, "%s/w-%s-%s.sh", bindir, mode,
	    strstr(bin, "sbxdebug") ? "debug" : "prod");
	if ((f = fopen(out, "w")) == NULL)
		return -1;
	fprintf(f, "#!/bin/sh\nTURNCELL_SYSCALL='%s'; export TURNCELL_SYSCALL\n"
	    "exec '%s' \"$@\"\n", mode, tu_path(bin));
	if (fclose(f) != 0)
		return -1;
	return chmod(out, 0755);
}

/* one relay whose workers make the forbidden call `mode` */
static void
run(const char *bin, const char *mode, int nr)
{
	struct tu_relay_opts	 o;
	struct tu_relay		 r;
	struct tu_client	 c;
	char			 path[200], line[64];
	int			 debug = strstr(bin, "sbxdebug") != NULL, rc;

	if (wrapper(bin, mode, path, sizeof(path)) == -1) {
		ok(0, "%s: wrapper (%s)", mode, strerror(errno));
		return;
	}
	memset(&o, 0, sizeof(o));
	o.worker_path = path;
	if (tu_relay_start(&r, &o) == -1 ||
	    tu_client_open(&c, &r, ADDR_V4) == -1) {
		ok(0, "%s: relay and client", mode);
		tu_relay_stop(&r);
		return;
	}
	rc = tu_allocate(&c, -1, 0, 0);
	is_int(rc, STUN_ERR_INSUFFICIENT_CAPACITY,
	    "%s %s: ALLOCATE gets 508 (the worker died starting)",
	    debug ? "debug" : "release", mode);
	snprintf(line, sizeof(line), "\"message\":\"syscall %d\"", nr);
	if (debug) {
		ok(tu_log_wait(&r, 0, line, 3000),
		    "debug %s: the supervisor logs the worker's \"syscall %d\"",
		    mode, nr);
		ok(tu_log_wait(&r, 0, "exit status 6", 2000),
		    "debug %s: the worker exited with status 6", mode);
	} else {
		ok(tu_log_wait(&r, 0, "killed by its sandbox", 3000) &&
		    tu_log_count(&r, 0, "signal 31") > 0,
		    "release %s: the worker is killed by SIGSYS", mode);
		is_int(tu_log_count(&r, 0, "\"message\":\"syscall "), 0,
		    "release %s: no trap handler reported anything", mode);
	}
	ok(tu_relay_alive(&r) && tu_relay_binding(&r, ADDR_V4),
	    "%s: the supervisor lives on and answers Binding", mode);
	tu_client_close(&c);
	tu_relay_stop(&r);
}

/* n > 0 when the file holds the string (its symbol table, with -g) */
static int
file_has(const char *path, const char *needle)
{
	static char	buf[1 << 16];
	size_t		nl = strlen(needle), keep = 0, i;
	ssize_t		n;
	int		fd, hit = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (!hit && (n = read(fd, buf + keep, sizeof(buf) - keep)) > 0) {
		n += (ssize_t)keep;
		for (i = 0; i + nl <= (size_t)n && !hit; i++)
			hit = memcmp(buf + i, needle, nl) == 0;
		keep = (size_t)n < nl ? (size_t)n : nl - 1;
		memmove(buf, buf + n - keep, keep);
	}
	close(fd);
	return hit;
}

int
main(void)
{
	static const struct { const char *mode; int nr; } calls[] = {
		{ "socket", __NR_socket },
		{ "exec", __NR_execve },
		{ "mprotect", __NR_mprotect },	/* PROT_EXEC: the mask rule */
	};
	char	prod[PATH_MAX];
	size_t	i;

	tu_init(90);
	/* this test makes trapped calls on purpose: not a failure here */
	unsetenv("TU_SBXDEBUG");
	tu_need("bin/turncell", DEBUG_BIN, PROD_BIN, NULL);
	snprintf(bindir, sizeof(bindir), "/tmp/turncell-sd.XXXXXX");
	if (mkdtemp(bindir) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	chmod(bindir, 0711);	/* workers exec as nobody when root */
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		run(DEBUG_BIN, calls[i].mode, calls[i].nr);
		run(PROD_BIN, calls[i].mode, calls[i].nr);
	}
	/* "./bin/": the release worker, whatever TU_BIN_DIR points at */
	snprintf(prod, sizeof(prod), "%s", tu_path("./bin/turncell-worker"));
	is_int(file_has(tu_path(DEBUG_BIN), "sbx_violation"), 1,
	    "control: the debug worker has the trap handler (sbx_violation)");
	is_int(file_has(prod, "sbx_violation"), 0,
	    "bin/turncell-worker has no trap handler: its filter kills");
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		char	p[200];

		snprintf(p, sizeof(p), "%s/w-%s-debug.sh", bindir,
		    calls[i].mode);
		unlink(p);
		snprintf(p, sizeof(p), "%s/w-%s-prod.sh", bindir,
		    calls[i].mode);
		unlink(p);
	}
	rmdir(bindir);
	return done_testing();
}
