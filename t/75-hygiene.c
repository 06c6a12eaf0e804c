/*
 * 75-hygiene.c: process hygiene of the supervisor and the workers (issue
 * 11, item 8): the portal token is gone from /proc/PID/cmdline (with a
 * WARN) or /proc/PID/environ, neither process may dump core, the secret's
 * vault is excluded from dumps, and workers are non-dumpable with memory
 * and CPU limits. The secret a relay joined with is in its memory once,
 * and neither it nor the token is in the worker spawner's memory. A
 * worker's RELRO pages (GOT, .init_array, .data.rel.ro) are read-only
 * (musl's static start-up leaves them writable: worker/wrk_relro.c), and
 * two workers' binaries lie at different addresses (each its own exec).
 * The supervisor raises its soft descriptor limit to the hard one (each
 * allocation holds two or three of its descriptors).
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

/* the whole of /proc/PID/<name> (NULs kept) into buf; length or -1 */
static long
proc_file(pid_t pid, const char *name, char *buf, size_t cap)
{
	char	path[64];
	long	n, got = 0;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)got < cap - 1 &&
	    (n = read(fd, buf + got, cap - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

static int
mem_has(const char *buf, long len, const char *needle)
{
	size_t	n = strlen(needle);
	long	i;

	for (i = 0; i + (long)n <= len; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return 1;
	return 0;
}

/* the limits line of /proc/PID/limits starting with name: soft value */
static long long
limit_of(pid_t pid, const char *name)
{
	static char	buf[8192];
	char		*p;

	if (proc_file(pid, "limits", buf, sizeof(buf)) < 0 ||
	    (p = strstr(buf, name)) == NULL)
		return -2;
	p += strlen(name);
	while (*p == ' ')
		p++;
	if (strncmp(p, "unlimited", 9) == 0)
		return -1;
	return strtoll(p, NULL, 10);
}

/* 1 if an anonymous writable mapping of pid has the "dd" VmFlag */
static int
vault_mapped(pid_t pid)
{
	static char	buf[1 << 20];
	char		*line, *save = NULL;
	int		anon = 0, found = 0;
	unsigned long	lo, hi;
	char		name[256];

	if (proc_file(pid, "smaps", buf, sizeof(buf)) <= 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line != NULL && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		name[0] = '\0';
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &lo, &hi,
		    name) >= 2 && strchr(line, ':') != NULL &&
		    strncmp(line, "VmFlags", 7) != 0) {
			anon = name[0] == '\0';
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) == 0 && anon &&
		    strstr(line, " wr") != NULL && strstr(line, " dd") != NULL)
			found = 1;
	}
	return found;
}

/* the stamp_secret of the mock's last connection, or "" */
static void
joined_secret(const struct tp_mock *m, char *out, size_t cap)
{
	static char	body[65536], conn[16384];
	int		n;

	out[0] = '\0';
	if (tp_mock_state(m, body, sizeof(body)) == -1 ||
	    (n = tp_json_count(body, "connections")) <= 0 ||
	    tp_json_elem(body, "connections", n - 1, conn, sizeof(conn)) == -1)
		return;
	(void)tp_json_str(conn, "stamp_secret", out, cap);
}

/*
 * The secret the relay generated and joined with: once in its memory,
 * the vault. The portal core references it, the join frame's buffers
 * (the core's text and the libwebsockets send buffer) are wiped after the
 * send.
 */
static void
secret_once(const struct tp_mock *m, const struct tu_relay *r,
    const char *what)
{
	char	secret[128];
	long	n;

	joined_secret(m, secret, sizeof(secret));
	if (!ok(tp_hexlen(secret) == 64, "%s: the join's stamp_secret is 64 "
	    "hex", what))
		return;
	if ((n = tu_mem_search(r->pid, secret, strlen(secret))) < 0) {
		skip(1, "cannot read /proc/PID/mem");
		return;
	}
	is_int(n, 1, "%s: the secret is in the relay's memory once (the "
	    "vault)", what);
}

/* the worker spawner, forked before the secret was read and with the
 * token's vault wiped: neither is in its memory */
static void
spawner_clean(const struct tp_mock *m, const struct tu_relay *r,
    const char *token, int env, const char *what)
{
	char	secret[128];
	pid_t	sp = tu_spawner(r);

	joined_secret(m, secret, sizeof(secret));
	if (!ok(sp > 0 && tp_hexlen(secret) == 64, "%s: the spawner runs",
	    what))
		return;
	/* the sanitizer runtime reads the environment into its own buffer
	 * before main(): beyond our reach, and only in make check-asan */
	if (env && !tu_sandboxed())
		skip(1, "%s: ASan build: the sanitizer keeps a copy of the "
		    "environment", what);
	else
		is_int(tu_mem_search(sp, token, strlen(token)), 0,
		    "%s: the token is not in the spawner's memory", what);
	is_int(tu_mem_search(sp, secret, strlen(secret)), 0,
	    "%s: the secret is not in the spawner's memory", what);
}

static void
t_token(struct tp_mock *m, int env)
{
	struct tp_relay_opts	 o;
	struct tu_relay		 r;
	static char		 buf[65536];
	char			 token[64], what[16];
	long			 n;

	snprintf(what, sizeof(what), "%s", env ? "environ" : "cmdline");
	snprintf(token, sizeof(token), "tok-hyg-%08x%08x", tu_rand(),
	    tu_rand());
	memset(&o, 0, sizeof(o));
	if (env)
		o.env_token = token;
	else
		o.token = token;
	o.name = "hygiene";
	o.api_url = m->url;
	if (!ok(tp_relay_start(&r, &o) == 0, "%s: relay with a token", what))
		return;
	ok(tp_mock_wait(m, "joins", 1, 5000) >= 1, "%s: it joins the portal "
	    "(the token still works)", what);
	n = proc_file(r.pid, what, buf, sizeof(buf));
	ok(n > 0 && !mem_has(buf, n, token), "%s: /proc/PID/%s holds no "
	    "token", what, what);
	if (env)
		ok(!mem_has(buf, n, "FIREZONE_TOKEN=tok"),
		    "environ: FIREZONE_TOKEN's value wiped");
	else
		ok(tu_log_count(&r, 0, "given on the command line") == 1 &&
		    tu_log_count(&r, 0, "WARN") >= 1,
		    "cmdline: a WARN says the token was on the command line");
	is_int(limit_of(r.pid, "Max core file size"), 0,
	    "%s: supervisor RLIMIT_CORE 0", what);
	ok(vault_mapped(r.pid), "%s: an anonymous writable mapping excluded "
	    "from core dumps (the vault)", what);
	secret_once(m, &r, what);
	spawner_clean(m, &r, token, env, what);
	tu_relay_stop(&r);
}

/* the pages of the PT_GNU_RELRO segment of the ELF file at path that the
 * start-up protects (start and end rounded down to pages), as offsets
 * from the load address: 0, or -1 without one */
static int
relro_pages(const char *path, unsigned long *lo, unsigned long *hi)
{
	Elf64_Ehdr	eh;
	Elf64_Phdr	ph;
	int		fd, i, rv = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(ph))
		goto out;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
		    (Elf64_Off)i * sizeof(ph))) != (ssize_t)sizeof(ph))
			goto out;
		if (ph.p_type == PT_GNU_RELRO) {
			*lo = ph.p_vaddr & ~4095UL;
			*hi = (ph.p_vaddr + ph.p_memsz) & ~4095UL;
			rv = 0;
		}
	}
out:
	close(fd);
	return rv;
}

/*
 * In /proc/PID/maps: the address where the process's own binary (the
 * mapping of /proc/PID/exe at file offset 0) starts, and whether some
 * page of [base + lo, base + hi) is in a writable mapping. 0, or -1 when
 * the maps cannot be read or the binary is not found.
 */
static int
exe_maps(pid_t pid, unsigned long lo, unsigned long hi, unsigned long *base,
    int *writable)
{
	static char	buf[1 << 16];
	char		exe[256], path[64], perm[8], name[256], *line, *save;
	unsigned long	a, b, off, p;
	long		n;
	int		found = 0;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	if (proc_file(pid, "maps", buf, sizeof(buf)) <= 0)
		return -1;
	/* the base first: the maps are in address order, RELRO after it */
	save = NULL;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		name[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &a, &b, perm,
		    &off, name) < 4)
			continue;
		if (!found && off == 0 && strcmp(name, exe) == 0) {
			*base = a;
			*writable = 0;
			found = 1;
		}
		if (!found)
			continue;
		for (p = *base + lo; p < *base + hi; p += 4096)
			if (p >= a && p < b && perm[1] == 'w')
				*writable = 1;
	}
	return found ? 0 : -1;
}

/* the worker's RELRO pages are read-only; w2 lies elsewhere (ASLR) */
static void
relro_aslr(pid_t w, pid_t w2)
{
	char		exe[256], path[64];
	unsigned long	lo = 0, hi = 0, base = 0, base2 = 0;
	long		n;
	int		wr = 1, wr2 = 1;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)w);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0) {
		ok(0, "the worker's binary from /proc/PID/exe");
		return;
	}
	exe[n] = '\0';
	if (!ok(relro_pages(exe, &lo, &hi) == 0 && hi > lo,
	    "the worker binary has a RELRO segment of at least a page"))
		return;
	ok(exe_maps(w, lo, hi, &base, &wr) == 0 && !wr,
	    "a worker's RELRO pages are read-only (%lu pages)",
	    (hi - lo) / 4096);
	ok(exe_maps(w2, lo, hi, &base2, &wr2) == 0 && !wr2,
	    "so are another worker's");
	ok(base != 0 && base2 != 0 && base != base2,
	    "two workers' binaries at different addresses (%#lx, %#lx)",
	    base, base2);
}

/* started with a soft RLIMIT_NOFILE of 256, the supervisor runs with the
 * hard limit it inherited */
static void
t_nofile(void)
{
	struct tu_relay		 r;
	struct tu_client	 c;
	struct rlimit		 rl, low;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_max <= 256 ||
	    rl.rlim_max == RLIM_INFINITY) {
		skip(1, "hard RLIMIT_NOFILE too low to lower the soft one");
		return;
	}
	low = rl;
	low.rlim_cur = 256;
	if (!ok(setrlimit(RLIMIT_NOFILE, &low) == 0, "soft RLIMIT_NOFILE 256 "
	    "for the relay to inherit"))
		return;
	if (tu_relay_client(&r, &c) == -1) {
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		return;
	}
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	is_int(limit_of(r.pid, "Max open files"), (long long)rl.rlim_max,
	    "the supervisor raised its soft RLIMIT_NOFILE to the hard %llu",
	    (unsigned long long)rl.rlim_max);
	tu_client_close(&c);
	tu_relay_stop(&r);
}

static void
t_worker(void)
{
	struct tu_relay		 r;
	struct tu_client	 c, c2;
	struct stat		 st;
	char			 path[64], uid[64];
	pid_t			 w, w2;

	memset(&c2, 0, sizeof(c2));
	c2.fd = -1;
	if (tu_relay_client(&r, &c) == -1)
		return;
	is_int(tu_allocate(&c, -1, 0, 0), 0, "an allocation");
	w = tu_new_worker(&r, NULL, 0, 2000);
	if (!ok(w > 0, "its worker"))
		goto out;
	if (tu_client_open(&c2, &r, ADDR_V4) == 0 &&
	    tu_allocate(&c2, -1, 0, 0) == 0 &&
	    (w2 = tu_new_worker(&r, &w, 1, 2000)) > 0)
		relro_aslr(w, w2);
	else
		ok(0, "a second allocation and its worker");
	if (!tu_sandboxed()) {
		skip(5, "ASan build: workers run without rlimits and filter");
		goto out;
	}
	is_int(limit_of(w, "Max core file size"), 0, "worker RLIMIT_CORE 0");
	is_int(limit_of(w, "Max data size"), 64LL << 20,
	    "worker RLIMIT_DATA 64 MiB");
	is_int(limit_of(w, "Max address space"), 256LL << 20,
	    "worker RLIMIT_AS 256 MiB");
	is_int(limit_of(w, "Max cpu time"), 86400, "worker RLIMIT_CPU 1 day");
	/* a non-dumpable process's /proc/PID/fd belongs to root */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)w);
	if (geteuid() == 0 && tu_proc_status(w, "Uid", uid, sizeof(uid)) == 0 &&
	    atoi(uid) != 0)
		ok(stat(path, &st) == 0 && st.st_uid == 0,
		    "worker (uid %d) is not dumpable: /proc/PID/fd owned by "
		    "root",
		    atoi(uid));
	else
		skip(1, "not root or worker runs as root: dumpable not visible");
out:
	tu_client_close(&c2);
	tu_client_close(&c);
	tu_relay_stop(&r);
}

int
main(void)
{
	struct tp_mock	m;
	struct rlimit	rl;

	tu_init(60);
	/* children inherit our core limit: make it non-zero, so that the
	 * RLIMIT_CORE checks below can fail */
	if (getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_max != 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_CORE, &rl);
	}
	tu_need("bin/turncell", "bin/mock-portal", NULL);
	memset(&m, 0, sizeof(m));
	if (!ok(tp_mock_start(&m, 0) == 0, "mock portal"))
		return done_testing();
	t_token(&m, 0);
	tp_mock_stop(&m);
	memset(&m, 0, sizeof(m));
	if (!ok(tp_mock_start(&m, 0) == 0, "mock portal again"))
		return done_testing();
	t_token(&m, 1);
	tp_mock_stop(&m);
	t_worker();
	t_nofile();
	return done_testing();
}
