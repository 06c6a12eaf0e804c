/*
 * tutil.c: the core of the end-to-end test library (see tutil.h): start-up
 * and watchdog, tracking and killing every child by PID, time, the one
 * condition wait, spawning. Sockets are in tutil_net.c, /proc in
 * tutil_proc.c, the STUN client in tutil_client.c, the relay launcher and
 * its log in tutil_relay.c.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define TU_MAX_TRACK	64

static volatile pid_t	tu_tracked[TU_MAX_TRACK];
static uint32_t		tu_rstate;
static char		tu_root[PATH_MAX];
static char		tu_pathbuf[PATH_MAX + 64];

/* glibc 2.36 has no strlcpy */
static void
tu_strlcpy(char *dst, const char *src, size_t cap)
{
	if (cap == 0)
		return;
	snprintf(dst, cap, "%s", src);
}

/*
 * Cleanup and watchdog
 */

static void
tu_sig_kill_all(void)
{
	int	i;

	for (i = 0; i < TU_MAX_TRACK; i++)
		if (tu_tracked[i] > 0)
			kill(tu_tracked[i], SIGKILL);
}

static void
tu_on_signal(int sig)
{
	static const char msg[] = "Bail out! test watchdog or signal\n";
	ssize_t	r;

	tu_sig_kill_all();
	r = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	_exit(sig == SIGALRM ? 254 : 128 + sig);
}

void
tu_reap_orphans(int timeout_ms)
{
	uint64_t	end = tu_now_ms() + (uint64_t)timeout_ms;
	pid_t		p;
	int		st;

	/* workers of a killed supervisor are re-parented to us */
	while (tu_now_ms() < end) {
		p = waitpid(-1, &st, WNOHANG);
		if (p < 0)
			return;		/* ECHILD: nothing left */
		if (p == 0)
			tu_sleep_ms(10);
	}
}

void
tu_cleanup(void)
{
	int	i;
	pid_t	p;

	for (i = 0; i < TU_MAX_TRACK; i++) {
		p = tu_tracked[i];
		if (p <= 0)
			continue;
		kill(p, SIGKILL);
		tu_waitpid(p, NULL, 2000);
		tu_tracked[i] = 0;
	}
	tu_reap_orphans(500);
}

void
tu_track(pid_t p)
{
	int	i;

	for (i = 0; i < TU_MAX_TRACK; i++)
		if (tu_tracked[i] == 0) {
			tu_tracked[i] = p;
			return;
		}
	diag("tutil: too many tracked processes");
	abort();
}

void
tu_untrack(pid_t p)
{
	int	i;

	for (i = 0; i < TU_MAX_TRACK; i++)
		if (tu_tracked[i] == p)
			tu_tracked[i] = 0;
}

void
tu_init(int seconds)
{
	struct sigaction	sa;
	char			exe[PATH_MAX];
	ssize_t			n;
	char			*s;
	int			i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tu_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	atexit(tu_cleanup);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		diag("tutil: PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	alarm((unsigned)seconds);
	tu_rstate = (uint32_t)getpid() * 2654435761u ^ (uint32_t)tu_now_ms();
	if (tu_rstate == 0)
		tu_rstate = 1;

	/* the tree root: <root>/t/NN-name.t */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		tu_strlcpy(tu_root, ".", sizeof(tu_root));
		return;
	}
	exe[n] = '\0';
	for (i = 0; i < 2; i++) {
		s = strrchr(exe, '/');
		if (s == NULL)
			break;
		*s = '\0';
	}
	if (i == 2 && exe[0] != '\0')
		tu_strlcpy(tu_root, exe, sizeof(tu_root));
	else
		tu_strlcpy(tu_root, ".", sizeof(tu_root));
}

const char *
tu_path(const char *rel)
{
	const char	*bin = getenv("TU_BIN_DIR");

	/* make check-asan and check-sbxdebug: the same tests, other builds */
	if (bin != NULL && *bin != '\0' && strncmp(rel, "bin/", 4) == 0)
		snprintf(tu_pathbuf, sizeof(tu_pathbuf), "%s/%s", bin,
		    rel + 4);
	else
		snprintf(tu_pathbuf, sizeof(tu_pathbuf), "%s/%s",
		    tu_root[0] ? tu_root : ".", rel);
	return tu_pathbuf;
}

int
tu_sandboxed(void)
{
	const char	*v = getenv("TU_NO_SANDBOX");

	return v == NULL || *v == '\0' || strcmp(v, "0") == 0;
}

uint64_t
tu_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
tu_sleep_ms(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
tu_wait_for(int (*cond)(void *), void *arg, int timeout_ms)
{
	uint64_t	end = tu_now_ms() + (uint64_t)timeout_ms;
	int		step = 2;

	for (;;) {
		if (cond(arg))
			return 1;
		if (tu_now_ms() >= end)
			return cond(arg) != 0;
		tu_sleep_ms(step);
		if (step < 50)
			step *= 2;	/* quick at first, then gentle */
	}
}

uint32_t
tu_rand(void)
{
	/* xorshift32 */
	tu_rstate ^= tu_rstate << 13;
	tu_rstate ^= tu_rstate >> 17;
	tu_rstate ^= tu_rstate << 5;
	return tu_rstate;
}

void
tu_fill(uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)tu_rand();
}

void
tu_need(const char *bin, ...)
{
	va_list	ap;

	va_start(ap, bin);
	for (; bin != NULL; bin = va_arg(ap, const char *))
		if (access(tu_path(bin), X_OK) == -1)
			skip_all("%s not built", bin);
	va_end(ap);
}

/*
 * Processes
 */

pid_t
tu_waitpid(pid_t pid, int *status, int timeout_ms)
{
	uint64_t	end = tu_now_ms() + (uint64_t)timeout_ms;
	pid_t		r;
	int		st;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (status != NULL)
				*status = st;
			tu_untrack(pid);
			return r;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (tu_now_ms() >= end)
			return 0;
		tu_sleep_ms(5);
	}
}

int
tu_kill(pid_t pid, int sig)
{
	if (pid <= 1)
		return -1;
	return kill(pid, sig);
}

pid_t
tu_spawn(char *const argv[], char *const env[], const char *out_path)
{
	return tu_spawn_err(argv, env, out_path, -1);
}

pid_t
tu_spawn_err(char *const argv[], char *const env[], const char *out_path,
    int err_fd)
{
	static char	*const def_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
			    NULL };
	pid_t		 ppid = getpid(), pid;
	int		 fd, out;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		tu_track(pid);
		return pid;
	}
	/* child: die with the test, no inherited fds but 0-2 */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != ppid)
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	out = open(out_path ? out_path : "/dev/null",
	    O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || out < 0)
		_exit(127);
	dup2(fd, 0);
	dup2(out, 1);
	dup2(err_fd > 2 ? err_fd : out, 2);
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	alarm(0);
	execve(argv[0], argv, env ? env : def_env);
	_exit(127);
}
