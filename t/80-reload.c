/*
 * 80-reload.c: SIGHUP re-reads --secret-file (README.md, "Rotating the
 * secret"): one secret per line, the first mints (`turncell cred`), every
 * one verifies; a bad file keeps the old set and the log says why; a
 * relay with a generated secret logs the SIGHUP and changes nothing.
 * Each secret is in the relay's memory exactly once (its vault), and a
 * secret dropped by a reload not at all (attack case 46).
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "tap.h"
#include "tutil.h"

#define SECRET_B	"second-secret-0123456789abcdef"

static int
write_file(const char *path, const char *text)
{
	char	tmp[200];
	int	fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	if (close(fd) == -1 || !ok)
		return -1;
	return rename(tmp, path);
}

/* an ALLOCATE with credentials minted from `secret`: 0 or the error */
static int
alloc_with(const struct tu_relay *r, const char *secret)
{
	struct tu_relay		rs = *r;
	struct tu_client	c;
	int			rc;

	snprintf(rs.secret, sizeof(rs.secret), "%s", secret);
	if (tu_client_open(&c, &rs, ADDR_V4) == -1)
		return -1;
	rc = tu_allocate(&c, 600, 0, 0);
	tu_client_close(&c);
	return rc;
}

/*
 * 1 if `secret` occurs `want` times in the relay's memory; -1 if
 * /proc/PID/mem cannot be read
 */
static int
mem_count(const struct tu_relay *r, const char *secret, long want,
    const char *what)
{
	long	n = tu_mem_search(r->pid, secret, strlen(secret));

	if (n < 0)
		return -1;
	is_int(n, want, "%s: %ld cop%s in the relay's memory", what, want,
	    want == 1 ? "y" : "ies");
	return n == want;
}

/* SIGHUP, then wait for the next line holding `needle`; 1 if it came */
static int
hup(const struct tu_relay *r, const char *needle)
{
	off_t	off = tu_log_size(r);

	kill(r->pid, SIGHUP);
	return tu_log_wait(r, off, needle, 3000);
}

/*
 * `turncell cred --secret-file F`: 1 if its password is the one of
 * `secret` for the username it printed
 */
static int
cred_mints_with(const char *file, const char *secret)
{
	char		 cmd[400], out[1024], pass[AUTH_PASS_LEN + 1];
	const char	*salt;
	cJSON		*o, *u, *p;
	FILE		*f;
	size_t		 n;
	int		 good = 0;

	snprintf(cmd, sizeof(cmd), "'%s' cred --secret-file '%s'",
	    tu_path("bin/turncell"), file);
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	if ((o = cJSON_Parse(out)) == NULL)
		return 0;
	u = cJSON_GetObjectItem(o, "username");
	p = cJSON_GetObjectItem(o, "password");
	if (cJSON_IsString(u) && cJSON_IsString(p) &&
	    (salt = strchr(u->valuestring, ':')) != NULL) {
		auth_password(strtoull(u->valuestring, NULL, 10), secret,
		    strlen(secret), salt + 1, strlen(salt + 1), pass);
		good = strcmp(pass, p->valuestring) == 0;
	}
	cJSON_Delete(o);
	return good;
}

static void
t_rotate(void)
{
	struct tu_relay		r;
	struct tu_relay_opts	o;
	struct tu_client	c;
	char			a[80], text[256];

	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	if (tu_relay_start(&r, &o) == -1 || tu_client_open(&c, &r,
	    ADDR_V4) == -1) {
		ok(0, "relay and client");
		return;
	}
	snprintf(a, sizeof(a), "%s", r.secret);
	is_int(tu_allocate(&c, 600, 0, 0), 0, "secret A: A's credentials");
	if (mem_count(&r, a, 1, "A at start") == -1)
		skip(1, "cannot read /proc/PID/mem (need root or ptrace "
		    "rights)");
	is_int(alloc_with(&r, SECRET_B), 401, "secret A: B's get 401");
	ok(cred_mints_with(r.secret_path, a), "cred mints with A");

	snprintf(text, sizeof(text), SECRET_B "\n%s\n", a);
	write_file(r.secret_path, text);
	ok(hup(&r, "\"Reloaded the secrets\"") &&
	    tu_log_count(&r, 0, "\"secrets\":2") == 1,
	    "\"B\\nA\": SIGHUP reloads 2 secrets");
	is_int(alloc_with(&r, a), 0, "B, A: A's credentials work");
	is_int(alloc_with(&r, SECRET_B), 0, "B, A: B's credentials work");
	is_int(tu_refresh(&c, 600), 0, "B, A: A's allocation refreshes");
	ok(cred_mints_with(r.secret_path, SECRET_B) &&
	    !cred_mints_with(r.secret_path, a), "cred mints with B now");
	/* the file's text "B\nA" is one string in the vault */
	if (mem_count(&r, a, 1, "B, A: A") != -1)
		(void)mem_count(&r, SECRET_B, 1, "B, A: B");

	write_file(r.secret_path, SECRET_B "\n");
	ok(hup(&r, "\"secrets\":1"), "\"B\": SIGHUP reloads 1 secret");
	is_int(alloc_with(&r, a), 401, "B: A's credentials get 401");
	is_int(alloc_with(&r, SECRET_B), 0, "B: B's credentials work");
	/* the old slot wiped: A is gone from the relay's memory */
	if (mem_count(&r, a, 0, "B: A") != -1)
		(void)mem_count(&r, SECRET_B, 1, "B: B");

	write_file(r.secret_path, "");
	ok(hup(&r, "\"reason\":\"empty\""),
	    "empty file: not reloaded, the log says why");
	write_file(r.secret_path, SECRET_B "\n\nanother\n");
	ok(hup(&r, "\"reason\":\"an empty line\""),
	    "an empty line: not reloaded, the log says why");
	write_file(r.secret_path, "1\n2\n3\n4\n5\n6\n7\n8\n9\n");
	ok(hup(&r, "\"reason\":\"more than 8 secrets\""),
	    "nine secrets: not reloaded, the log says why");
	unlink(r.secret_path);
	ok(hup(&r, "\"reason\":\"No such file or directory\""),
	    "file gone: not reloaded, the log says why");
	is_int(tu_log_count(&r, 0, "\"Secret file not reloaded, the old "
	    "secrets stay\""), 4, "four WARNs");
	is_int(alloc_with(&r, SECRET_B), 0, "after them B still works");
	is_int(alloc_with(&r, a), 401, "and A still gets 401");
	/* a refused file's text was wiped from the vault's free slot */
	if (mem_count(&r, SECRET_B, 1, "after the refusals: B") != -1)
		(void)mem_count(&r, a, 0, "after the refusals: A");
	ok(tu_relay_alive(&r), "the relay runs on");
	tu_client_close(&c);
	tu_relay_stop(&r);
}

static void
t_generated(void)
{
	struct tu_relay		r;
	struct tu_relay_opts	o;
	struct tu_client	c;
	char			path[128];
	FILE			*f;

	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.no_secret = 1;
	o.runtime_dir = 1;
	if (tu_relay_start(&r, &o) == -1) {
		ok(0, "relay");
		return;
	}
	ok(hup(&r, "\"Nothing to reload on SIGHUP\"") &&
	    tu_log_count(&r, 0, "no --secret-file") == 1,
	    "generated secret: SIGHUP logged, nothing reloaded");
	ok(tu_relay_alive(&r) && tu_relay_binding(&r, ADDR_V4),
	    "the relay still answers");
	/* the generated secret, from the runtime file the relay wrote */
	snprintf(path, sizeof(path), "%s/secret", r.dir);
	r.secret[0] = '\0';
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(r.secret, sizeof(r.secret), f) == NULL)
			r.secret[0] = '\0';
		r.secret[strcspn(r.secret, "\n")] = '\0';
		fclose(f);
	}
	if (r.secret[0] != '\0' && tu_client_open(&c, &r, ADDR_V4) == 0) {
		is_int(tu_allocate(&c, 600, 0, 0), 0,
		    "the generated secret still verifies");
		tu_client_close(&c);
	} else
		skip(1, "generated secret not readable here");
	tu_relay_stop(&r);
}

int
main(void)
{
	tu_init(90);
	t_rotate();
	t_generated();
	return done_testing();
}
