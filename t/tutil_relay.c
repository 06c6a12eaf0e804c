/*
 * tutil_relay.c: the one relay launcher of the end-to-end tests (see
 * tutil.h): a temporary directory, a secret file, a reserved relay port
 * range, bin/turncell started on an ephemeral listen port that it reports
 * through --port-file, and the waits until it answers.
 *
 * The listen port needs no picking: --listen-port 0 lets the kernel
 * choose it, and the relay writes it to --port-file once both sockets
 * are bound. The relay port range still has to be chosen here. It comes
 * from outside the kernel's ephemeral range (ip_local_port_range), above
 * it when there is room (61000-65535 with the usual 32768-60999), so no
 * ephemeral socket of any test lands in it, and clear of 10000-31999,
 * where make bench runs turncell and coturn. Blocks of TU_BLOCK ports are
 * reserved across processes with an flock on a file per block (held until
 * the test exits), so two tests running at once never pick the same
 * block; and every port of the chosen range is checked bindable. A port
 * another program takes later is survived by the relay itself (a worker
 * that cannot bind retries on another port of the range), and a relay
 * that exits at start-up is started again on a fresh range.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define TU_BLOCK	64	/* ports per reservation */
#define TU_MIN_BLOCKS	16	/* room wanted above the ephemeral range */
#define TU_LOW_SPACE	1024	/* else below it, from here ... */
#define TU_LOW_BENCH	10000	/* ... up to make bench's ranges */
#define TU_LOCK_DIR	"/tmp/turncell-t-ports"
#define TU_STARTS	3	/* relay starts before giving up */
#define TU_READY_MS	5000

/* the first port and the number of blocks outside the ephemeral range */
static int
tu_block_space(int *first)
{
	FILE	*f;
	int	 elo = 32768, ehi = 60999;

	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f != NULL) {
		if (fscanf(f, "%d %d", &elo, &ehi) != 2) {
			elo = 32768;
			ehi = 60999;
		}
		fclose(f);
	}
	if ((65535 - ehi) / TU_BLOCK >= TU_MIN_BLOCKS) {
		*first = ehi + 1;
		return (65535 - ehi) / TU_BLOCK;
	}
	*first = TU_LOW_SPACE;
	return ((elo < TU_LOW_BENCH ? elo : TU_LOW_BENCH) - TU_LOW_SPACE) /
	    TU_BLOCK;
}

int
tu_range_reserve(int nports, int v6, uint16_t *lo, uint16_t *hi)
{
	char		path[64];
	uint16_t	base;
	int		tries, fd, i, ok_range, first, nblocks;

	if (nports < 1 || nports > TU_BLOCK)
		return -1;
	if ((nblocks = tu_block_space(&first)) < 1)
		return -1;
	if (mkdir(TU_LOCK_DIR, 01777) == 0)
		chmod(TU_LOCK_DIR, 01777);	/* despite the umask */
	for (tries = 0; tries < 2 * nblocks; tries++) {
		base = (uint16_t)(first + TU_BLOCK *
		    (int)(tu_rand() % (uint32_t)nblocks));
		snprintf(path, sizeof(path), "%s/%u", TU_LOCK_DIR, base);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (fd == -1)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			close(fd);
			continue;		/* another test holds it */
		}
		for (i = 0, ok_range = 1; i < nports && ok_range; i++)
			ok_range = tu_port_free((uint16_t)(base + i), v6);
		if (!ok_range) {
			close(fd);
			continue;
		}
		/* fd stays open: the lock lasts until this test exits */
		*lo = base;
		*hi = (uint16_t)(base + nports - 1);
		return 0;
	}
	return -1;
}

static int
tu_write_secret(struct tu_relay *r)
{
	uint8_t	rnd[28];
	int	fd, i;
	char	line[80];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	snprintf(r->secret, sizeof(r->secret), "tcsecret");
	for (i = 0; i < (int)sizeof(rnd); i++)
		snprintf(r->secret + 8 + 2 * i, 3, "%02x", rnd[i]);
	snprintf(r->secret_path, sizeof(r->secret_path), "%s/secret", r->dir);
	fd = open(r->secret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", r->secret);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* a fresh temporary directory with the paths of its files */
static int
tu_relay_prepare(struct tu_relay *r, const struct tu_relay_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->v6 = o->v6;
	snprintf(r->dir, sizeof(r->dir), "/tmp/turncell-t.XXXXXX");
	if (mkdtemp(r->dir) == NULL) {
		diag("mkdtemp: %s", strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	/* workers may exec as an unprivileged user: let them traverse */
	chmod(r->dir, 0711);
	snprintf(r->log_path, sizeof(r->log_path), "%s/log", r->dir);
	snprintf(r->port_path, sizeof(r->port_path), "%s/port", r->dir);
	if (!o->no_secret && tu_write_secret(r) == -1) {
		diag("secret file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
tu_relay_argv(const struct tu_relay *r, const struct tu_relay_opts *o,
    char **av, char *bufs, size_t nav)
{
	size_t	n = 0, i;
	char	*lp = bufs, *lo = bufs + 16, *hi = bufs + 32;

#define ARG(s)	do { \
		if (n + 1 >= nav) \
			return -1; \
		av[n++] = (char *)(s); \
	} while (0)
	snprintf(lp, 16, "%u", o->port);
	snprintf(lo, 16, "%u", r->lo);
	snprintf(hi, 16, "%u", r->hi);
	ARG(strdup(tu_path("bin/turncell")));
	ARG("--listen-port"); ARG(lp);
	ARG("--port-file"); ARG(r->port_path);
	ARG("--bind-ip4-addr"); ARG("127.0.0.1");
	ARG("--public-ip4-addr"); ARG("127.0.0.1");
	if (o->v6) {
		ARG("--bind-ip6-addr"); ARG("::1");
		ARG("--public-ip6-addr"); ARG("::1");
	}
	ARG("--lowest-port"); ARG(lo);
	ARG("--highest-port"); ARG(hi);
	for (i = 0; i < TU_MAX_ALLOW && o->allow[i] != NULL; i++) {
		ARG("--allow-peer"); ARG(o->allow[i]);
	}
	if (!o->no_secret) {
		ARG("--secret-file"); ARG(r->secret_path);
	}
	ARG("--log-format"); ARG("json");
	if (o->log_level != NULL) {
		ARG("--log-level"); ARG(o->log_level);
	}
	ARG("--health-check-addr"); ARG(o->health ? o->health : "none");
	if (o->user != NULL) {
		ARG("--user"); ARG(o->user);
	} else if (geteuid() == 0) {
		ARG("--user"); ARG("nobody");
	}
	if (o->worker_path != NULL) {
		ARG("--worker-path"); ARG(o->worker_path);
	}
	if (o->api_url != NULL) {
		ARG("--api-url"); ARG(o->api_url);
	}
	ARG("--worker-pool"); ARG(o->pool != NULL ? o->pool : "0");
	for (i = 0; i < TU_MAX_EXTRA && o->extra[i] != NULL; i++)
		ARG(o->extra[i]);
	if (o->token != NULL) {
		ARG(o->token);
		if (o->name != NULL)
			ARG(o->name);
	}
#undef ARG
	av[n] = NULL;
	return 0;
}

/* the ports the relay wrote to --port-file: listen, then health if any;
 * the listen port, 0 while there is no file */
static uint16_t
tu_port_file(struct tu_relay *r)
{
	char	buf[16];
	FILE	*f;
	long	v = 0, h = 0;

	if ((f = fopen(r->port_path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL)
		v = strtol(buf, NULL, 10);
	if (fgets(buf, sizeof(buf), f) != NULL)
		h = strtol(buf, NULL, 10);
	fclose(f);
	r->health_port = h > 0 && h < 65536 ? (uint16_t)h : 0;
	return v > 0 && v < 65536 ? (uint16_t)v : 0;
}

/* the relay wrote its port: 1; it exited or said nothing in time: 0 */
static int
tu_port_ready(void *arg)
{
	struct tu_relay	*r = arg;

	if (!tu_relay_alive(r))
		return 1;		/* stop waiting; r->port stays 0 */
	r->port = tu_port_file(r);
	return r->port != 0;
}

static int
tu_relay_launch(struct tu_relay *r, const struct tu_relay_opts *o)
{
	char		*av[64], *env[TU_MAX_ENV + 3];
	char		 nums[48], rundir[96];
	size_t		 i, ne = 0;

	if (tu_relay_argv(r, o, av, nums, 64) == -1)
		return -1;
	env[ne++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	if (o->runtime_dir) {
		/* a generated secret goes to $RUNTIME_DIRECTORY/secret */
		snprintf(rundir, sizeof(rundir), "RUNTIME_DIRECTORY=%s",
		    r->dir);
		env[ne++] = rundir;
	}
	for (i = 0; i < TU_MAX_ENV && o->env[i] != NULL; i++)
		env[ne++] = (char *)o->env[i];
	env[ne] = NULL;
	r->pid = tu_spawn_err(av, env, r->log_path, o->err_fd);
	free(av[0]);
	if (r->pid < 0) {
		diag("fork: %s", strerror(errno));
		return -1;
	}
	if (!tu_wait_for(tu_port_ready, r, TU_READY_MS) || r->port == 0) {
		if (!o->no_wait) {
			diag("relay wrote no --port-file within %d ms "
			    "(status 0x%x)", TU_READY_MS, r->status);
			tu_log_dump(r, 20);
		}
		return o->no_wait ? 0 : -1;
	}
	tu_ip4(&r->addr4, 127, 0, 0, 1, r->port);
	tu_ip6_loop(&r->addr6, r->port);
	return o->no_wait ? 0 : tu_relay_wait_ready(r);
}

static int
tu_binding_ok(void *arg)
{
	struct tu_relay	*r = arg;

	return !tu_relay_alive(r) || tu_relay_binding(r, ADDR_V4);
}

/* 0 when a started relay answers a Binding within 5 s, else -1 (logged) */
int
tu_relay_wait_ready(struct tu_relay *r)
{
	if (tu_wait_for(tu_binding_ok, r, TU_READY_MS) && !r->exited)
		return 0;
	if (r->exited)
		diag("relay exited at start-up (status 0x%x)", r->status);
	else
		diag("relay did not answer a Binding within %d ms",
		    TU_READY_MS);
	tu_log_dump(r, 20);
	return -1;
}

int
tu_relay_start(struct tu_relay *r, const struct tu_relay_opts *o)
{
	static const struct tu_relay_opts	 none;
	int					 n, rc = -1;

	if (o == NULL)
		o = &none;
	for (n = 0; n < TU_STARTS; n++) {
		if (n > 0) {
			diag("relay start %d failed: again on a new range", n);
			tu_relay_stop(r);
		}
		if (tu_relay_prepare(r, o) == -1)
			return -1;
		if (o->lo != 0) {
			r->lo = o->lo;
			r->hi = o->hi;
		} else if (tu_range_reserve(o->nports > 0 ? o->nports : 16,
		    o->v6, &r->lo, &r->hi) == -1) {
			diag("no free relay port range");
			return -1;
		}
		rc = tu_relay_launch(r, o);
		/* only a relay that died at start-up is worth a new range */
		if (rc == 0 || o->lo != 0 || !r->exited)
			break;
	}
	return rc;
}

int
tu_relay_start_at(struct tu_relay *r, const struct tu_relay_opts *o,
    uint16_t port, uint16_t lo, uint16_t hi)
{
	struct tu_relay_opts	 at;

	memset(&at, 0, sizeof(at));
	if (o != NULL)
		at = *o;
	at.port = port;
	at.lo = lo;
	at.hi = hi;
	return tu_relay_start(r, &at);
}

int
tu_relay_alive(struct tu_relay *r)
{
	pid_t	p;
	int	st;

	if (r->exited || r->pid <= 0)
		return 0;
	p = waitpid(r->pid, &st, WNOHANG);
	if (p == r->pid) {
		r->exited = 1;
		r->status = st;
		tu_untrack(r->pid);
		return 0;
	}
	return 1;
}

/*
 * The sandbox debug worker (make check-sbxdebug, TU_SBXDEBUG set) reports
 * a system call
 * its filter does not allow as the worker log line "syscall N" and exits:
 * fail the running test with the call named, whatever it was testing.
 */
static void
tu_relay_trapped(const struct tu_relay *r)
{
	char	 line[512], *p;
	FILE	*f;

	if (getenv("TU_SBXDEBUG") == NULL ||
	    (f = fopen(r->log_path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strstr(line, "\"message\":\"syscall ")) == NULL)
			continue;
		p += strlen("\"message\":\"syscall ");
		ok(0, "sandbox debug: a worker made system call %d, which "
		    "its filter does not allow", atoi(p));
	}
	fclose(f);
}

void
tu_relay_stop(struct tu_relay *r)
{
	if (r->pid > 0 && !r->exited) {
		tu_kill(r->pid, SIGKILL);
		if (tu_waitpid(r->pid, &r->status, 3000) == r->pid)
			r->exited = 1;
	}
	tu_reap_orphans(200);
	if (r->dir[0] == '\0')
		return;
	tu_relay_trapped(r);
	if (getenv("TU_KEEP") != NULL || tap_failed() > 0) {
		diag("relay files kept in %s", r->dir);
		return;
	}
	snprintf(r->secret_path, sizeof(r->secret_path), "%s/secret", r->dir);
	unlink(r->secret_path);		/* ours, or one it generated */
	unlink(r->port_path);
	unlink(r->log_path);
	rmdir(r->dir);
	r->dir[0] = '\0';
}

int
tu_relay_binding(const struct tu_relay *r, int family)
{
	struct tu_client	c;
	int			rc;

	memset(&c, 0, sizeof(c));
	if (tu_client_open(&c, r, family) == -1)
		return 0;
	rc = tu_request(&c, &(struct tu_req){ .method = STUN_BINDING }, 300);
	tu_client_close(&c);
	return rc == 0;
}

/*
 * The log
 */

off_t
tu_log_size(const struct tu_relay *r)
{
	struct stat	st;

	if (stat(r->log_path, &st) == -1)
		return 0;
	return st.st_size;
}

int
tu_log_count(const struct tu_relay *r, off_t from, const char *needle)
{
	FILE	*f;
	char	 line[4096];
	int	 n = 0, i;

	if ((f = fopen(r->log_path, "r")) == NULL)
		return 0;
	if (from > 0)
		fseeko(f, from, SEEK_SET);
	for (i = 0; i < 100000 && fgets(line, sizeof(line), f) != NULL; i++)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

struct tu_log_waiting {
	const struct tu_relay	*r;
	off_t			 from;
	const char		*needle;
};

static int
tu_log_has(void *arg)
{
	const struct tu_log_waiting	*w = arg;

	return tu_log_count(w->r, w->from, w->needle) > 0;
}

int
tu_log_wait(const struct tu_relay *r, off_t from, const char *needle,
    int timeout_ms)
{
	struct tu_log_waiting	w = { r, from, needle };

	return tu_wait_for(tu_log_has, &w, timeout_ms);
}

void
tu_log_dump(const struct tu_relay *r, int lines)
{
	static char	 ring[64][512];
	FILE		*f;
	char		 line[512];
	int		 n = 0, i, first;

	if (lines > 64)
		lines = 64;
	if (getenv("TU_SBXDEBUG") == NULL ||
	    (f = fopen(r->log_path, "r")) == NULL)
		return;
	while (n < 1000000 && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(ring[n % lines], sizeof(ring[0]), "%s", line);
		n++;
	}
	fclose(f);
	first = n > lines ? n - lines : 0;
	diag("--- last %d line(s) of %s ---", n - first, r->log_path);
	for (i = first; i < n; i++)
		diag("  %s", ring[i % lines]);
}
