/* tutil.c: see tutil.h */
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
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
	snprintf(tu_pathbuf, sizeof(tu_pathbuf), "%s/%s",
	    tu_root[0] ? tu_root : ".", rel);
	return tu_pathbuf;
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

int
tu_proc_read(pid_t pid, struct tu_proc *p)
{
	char	path[64], buf[1024], *lp, *rp;
	int	fd;
	ssize_t	n;
	size_t	clen;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parens */
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (lp == NULL || rp == NULL || rp < lp || rp[1] == '\0')
		return -1;
	clen = (size_t)(rp - lp - 1);
	if (clen >= sizeof(p->comm))
		clen = sizeof(p->comm) - 1;
	memcpy(p->comm, lp + 1, clen);
	p->comm[clen] = '\0';
	p->pid = pid;
	p->ppid = 0;
	if (sscanf(rp + 1, " %c %d", &p->state, &p->ppid) != 2)
		return -1;
	return 0;
}

/*
 * Direct children of pid from /proc/PID/task/TID/children: on a busy
 * machine (thousands of processes from other tests) a scan of all of
 * /proc would be slow and bounded; this reads only our own tree.
 */
static size_t
tu_kids(pid_t pid, pid_t *out, size_t max)
{
	char		 path[96];
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	size_t		 n = 0;
	long		 v;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children",
		    (int)pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (n < max && fscanf(f, "%ld", &v) == 1)
			if (v > 0)
				out[n++] = (pid_t)v;
		fclose(f);
	}
	closedir(d);
	return n;
}

size_t
tu_descendants(pid_t root, const char *prefix, pid_t *out, size_t max)
{
	static pid_t	 q[TU_MAX_PROCS];
	struct tu_proc	 p;
	size_t		 head = 0, tail, found = 0;

	/* breadth first through the children files, bounded by q[] */
	tail = tu_kids(root, q, TU_MAX_PROCS);
	while (head < tail) {
		pid_t	pid = q[head++];

		tail += tu_kids(pid, q + tail, TU_MAX_PROCS - tail);
		if (tu_proc_read(pid, &p) == -1)
			continue;
		if (prefix != NULL && strncmp(p.comm, prefix,
		    strlen(prefix)) != 0)
			continue;
		if (found < max)
			out[found++] = pid;
	}
	return found;
}

size_t
tu_workers(const struct tu_relay *r, pid_t *out, size_t max)
{
	/* comm is truncated to 15 characters: "turncell-worker" */
	return tu_descendants(r->pid, "turncell-worke", out, max);
}

struct tu_new_wait {
	const struct tu_relay	*r;
	const pid_t		*before;
	size_t			 nb;
	pid_t			 found;
};

static int
tu_has_new_worker(void *arg)
{
	struct tu_new_wait	*w = arg;
	pid_t			 pids[64];
	size_t			 n, i, j;

	n = tu_workers(w->r, pids, 64);
	for (i = 0; i < n; i++) {
		for (j = 0; j < w->nb && w->before[j] != pids[i]; j++)
			;
		if (j == w->nb) {
			w->found = pids[i];
			return 1;
		}
	}
	return 0;
}

pid_t
tu_new_worker(const struct tu_relay *r, const pid_t *before, size_t nb,
    int timeout_ms)
{
	struct tu_new_wait	w = { r, before, nb, -1 };

	tu_wait_for(tu_has_new_worker, &w, timeout_ms);
	return w.found;
}

struct tu_count_wait {
	const struct tu_relay	*r;
	pid_t			 pid;
	size_t			 want, n, zombies;
	int			 nfds;
};

static int
tu_workers_are(void *arg)
{
	struct tu_count_wait	*w = arg;
	pid_t			 pids[64];

	w->n = tu_workers(w->r, pids, 64);
	return w->n == w->want;
}

size_t
tu_wait_workers(const struct tu_relay *r, size_t want, int timeout_ms)
{
	struct tu_count_wait	w = { .r = r, .want = want };

	tu_wait_for(tu_workers_are, &w, timeout_ms);
	return w.n;
}

static int
tu_children_are(void *arg)
{
	struct tu_count_wait	*w = arg;

	w->n = tu_children(w->pid, &w->zombies);
	return w->n == w->want;
}

size_t
tu_wait_children(pid_t pid, size_t want, size_t *zombies, int timeout_ms)
{
	struct tu_count_wait	w = { .pid = pid, .want = want };

	tu_wait_for(tu_children_are, &w, timeout_ms);
	if (zombies != NULL)
		*zombies = w.zombies;
	return w.n;
}

static int
tu_nfds_are(void *arg)
{
	struct tu_count_wait	*w = arg;

	w->nfds = tu_proc_nfds(w->pid);
	return w->nfds == (int)w->want;
}

int
tu_wait_nfds(pid_t pid, int want, int timeout_ms)
{
	struct tu_count_wait	w = { .pid = pid, .want = (size_t)want };

	tu_wait_for(tu_nfds_are, &w, timeout_ms);
	return w.nfds;
}

int
tu_proc_status(pid_t pid, const char *field, char *out, size_t cap)
{
	char	path[64], line[512], *v;
	FILE	*f;
	size_t	flen = strlen(field), l;
	int	rc = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, flen) != 0 || line[flen] != ':')
			continue;
		v = line + flen + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		l = strcspn(v, "\n");
		v[l] = '\0';
		tu_strlcpy(out, v, cap);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int
tu_proc_gone(pid_t pid, int zombie_ok)
{
	struct tu_proc	p;

	if (tu_proc_read(pid, &p) == -1)
		return 1;
	return zombie_ok && (p.state == 'Z' || p.state == 'X');
}

struct tu_gone_wait {
	pid_t	pid;
	int	zombie_ok;
};

static int
tu_is_gone(void *arg)
{
	const struct tu_gone_wait	*w = arg;

	return tu_proc_gone(w->pid, w->zombie_ok);
}

int
tu_wait_gone(pid_t pid, int zombie_ok, int timeout_ms)
{
	struct tu_gone_wait	w = { pid, zombie_ok };

	return tu_wait_for(tu_is_gone, &w, timeout_ms);
}

int
tu_proc_fds(pid_t pid, char (*targets)[128], int max, int *fdnums)
{
	char		 path[64], lpath[320];
	DIR		*d;
	struct dirent	*de;
	ssize_t		 n;
	int		 count = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && count < max) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(lpath, sizeof(lpath), "%s/%s", path, de->d_name);
		n = readlink(lpath, targets[count], 127);
		if (n < 0)
			continue;
		targets[count][n] = '\0';
		if (fdnums != NULL)
			fdnums[count] = atoi(de->d_name);
		count++;
	}
	closedir(d);
	return count;
}

static int
tu_sock_udp(const char *file, unsigned long inode, uint16_t *port)
{
	FILE		*f;
	char		 line[512];
	unsigned int	 lport;
	unsigned long	 ino;
	int		 found = 0;

	if ((f = fopen(file, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %*x "
		    "%*x:%*x %*x:%*x %*x %*u %*u %lu", &lport, &ino) != 2)
			continue;
		if (ino == inode) {
			*port = (uint16_t)lport;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

int
tu_sock_kind(unsigned long inode, uint16_t *port, int *unix_type)
{
	FILE		*f;
	char		 line[512];
	unsigned int	 type;
	unsigned long	 ino;
	int		 kind = 0;

	if (tu_sock_udp("/proc/net/udp", inode, port) ||
	    tu_sock_udp("/proc/net/udp6", inode, port))
		return 'u';
	if ((f = fopen("/proc/net/unix", "r")) == NULL)
		return 0;
	while (kind == 0 && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*[0-9A-Fa-f]: %*x %*x %*x %x %*x %lu",
		    &type, &ino) != 2)
			continue;
		if (ino == inode) {
			if (unix_type != NULL)
				*unix_type = (int)type;
			kind = 'x';
		}
	}
	fclose(f);
	return kind;
}

static long
tu_count_in(const uint8_t *hay, size_t n, const uint8_t *needle, size_t nl)
{
	long	hits = 0;
	size_t	i;

	if (n < nl)
		return 0;
	for (i = 0; i + nl <= n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0)
			hits++;
	return hits;
}

long
tu_mem_search(pid_t pid, const void *needle, size_t nl)
{
	enum { CHUNK = 1 << 20 };
	static uint8_t	 buf[CHUNK];
	char		 path[64], line[512];
	FILE		*maps;
	int		 mem;
	unsigned long	 lo, hi, a, total = 0;
	char		 perms[8];
	long		 hits = 0, regions = 0;
	ssize_t		 n;
	size_t		 want;

	if (nl == 0 || nl > 4096)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((maps = fopen(path, "r")) == NULL)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((mem = open(path, O_RDONLY)) < 0) {
		fclose(maps);
		return -1;
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		if (perms[0] != 'r' || strstr(line, "[vsyscall]") != NULL ||
		    strstr(line, "[vvar") != NULL)
			continue;
		/* overlapping chunks so a needle across a boundary counts */
		for (a = lo; a < hi && total < (1UL << 30); ) {
			want = hi - a < CHUNK ? hi - a : CHUNK;
			n = pread(mem, buf, want, (off_t)a);
			if (n <= 0)
				break;
			hits += tu_count_in(buf, (size_t)n, needle, nl);
			total += (unsigned long)n;
			if ((size_t)n < want || a + (unsigned long)n >= hi)
				break;
			a += (unsigned long)n - (nl - 1);
		}
		regions++;
	}
	close(mem);
	fclose(maps);
	if (regions == 0 || total == 0)
		return -1;
	return hits;
}

/*
 * Sockets
 */

void
tu_ip4(struct taddr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3,
    uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V4;
	a->port = port;
	a->ip[0] = b0;
	a->ip[1] = b1;
	a->ip[2] = b2;
	a->ip[3] = b3;
}

void
tu_ip6_loop(struct taddr *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V6;
	a->port = port;
	a->ip[15] = 1;
}

void
tu_ip6_mapped(struct taddr *a, const struct taddr *v4)
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V6;
	a->port = v4->port;
	a->ip[10] = 0xff;
	a->ip[11] = 0xff;
	memcpy(a->ip + 12, v4->ip, 4);
}

int
tu_udp_bind(int family, uint16_t port)
{
	struct taddr		a;
	struct sockaddr_storage	ss;
	size_t			sl;
	int			fd, one = 1;

	if (family == ADDR_V6)
		tu_ip6_loop(&a, port);
	else
		tu_ip4(&a, 127, 0, 0, 1, port);
	sl = addr_to_sockaddr(&a, &ss);
	fd = socket(family == ADDR_V6 ? AF_INET6 : AF_INET,
	    SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (family == ADDR_V6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tu_sock_addr(int fd, struct taddr *a)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	return addr_from_sockaddr((struct sockaddr *)&ss, sl, a);
}

int
tu_sendto(int fd, const struct taddr *to, const void *p, size_t n)
{
	struct sockaddr_storage	ss;
	size_t			sl;

	sl = addr_to_sockaddr(to, &ss);
	if (sendto(fd, p, n, 0, (struct sockaddr *)&ss, (socklen_t)sl) !=
	    (ssize_t)n)
		return -1;
	return 0;
}

long
tu_recvfrom(int fd, void *p, size_t cap, int timeout_ms, struct taddr *from)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;
	struct pollfd		pfd;
	uint64_t		end = tu_now_ms() + (uint64_t)timeout_ms;
	int64_t			left;
	ssize_t			n;
	int			r;

	for (;;) {
		left = (int64_t)end - (int64_t)tu_now_ms();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		sl = sizeof(ss);
		n = recvfrom(fd, p, cap, MSG_DONTWAIT, (struct sockaddr *)&ss,
		    &sl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNREFUSED)
				continue;
			return -1;
		}
		if (from != NULL &&
		    addr_from_sockaddr((struct sockaddr *)&ss, sl, from) == -1)
			memset(from, 0, sizeof(*from));
		return (long)n;
	}
}

int
tu_port_free(uint16_t port, int v6)
{
	int	fd;

	if ((fd = tu_udp_bind(ADDR_V4, port)) < 0)
		return 0;
	close(fd);
	if (v6) {
		if ((fd = tu_udp_bind(ADDR_V6, port)) < 0)
			return 0;
		close(fd);
	}
	return 1;
}

int
tu_have_ipv6(void)
{
	int	fd;

	if ((fd = tu_udp_bind(ADDR_V6, 0)) < 0)
		return 0;
	close(fd);
	return 1;
}

/*
 * Credentials
 */

void
tu_cred(const char *secret, long ttl, char *user, size_t ucap,
    char pass[AUTH_PASS_LEN + 1])
{
	static const char	 al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
				    "KLMNOPQRSTUVWXYZ0123456789";
	char			 salt[17];
	uint64_t		 expiry;
	size_t			 i;

	for (i = 0; i < sizeof(salt) - 1; i++)
		salt[i] = al[tu_rand() % (sizeof(al) - 1)];
	salt[sizeof(salt) - 1] = '\0';
	expiry = (uint64_t)time(NULL) + (uint64_t)ttl;
	snprintf(user, ucap, "%llu:%s", (unsigned long long)expiry, salt);
	auth_password(expiry, secret, strlen(secret), salt, strlen(salt),
	    pass);
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
	if ((f = fopen(r->log_path, "r")) == NULL)
		return;
	while (n < 1000000 && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		tu_strlcpy(ring[n % lines], line, sizeof(ring[0]));
		n++;
	}
	fclose(f);
	first = n > lines ? n - lines : 0;
	diag("--- last %d line(s) of %s ---", n - first, r->log_path);
	for (i = first; i < n; i++)
		diag("  %s", ring[i % lines]);
}

/*
 * The client
 */

int
tu_client_open(struct tu_client *c, const struct tu_relay *r, int family)
{
	memset(c, 0, sizeof(*c));
	c->fd = tu_udp_bind(family, 0);
	if (c->fd < 0)
		return -1;
	if (tu_sock_addr(c->fd, &c->local) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->server = family == ADDR_V6 ? r->addr6 : r->addr4;
	tu_cred(r->secret, 3600, c->user, sizeof(c->user), c->pass);
	stun_lt_key((const uint8_t *)c->user, strlen(c->user), AUTH_REALM,
	    c->pass, strlen(c->pass), c->key);
	return 0;
}

void
tu_client_close(struct tu_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static long
tu_build(struct tu_client *c, const struct tu_req *q, int auth, uint8_t *out,
    size_t cap)
{
	struct stun_enc	e;
	uint8_t		v[4];
	size_t		i;

	for (i = 0; i < STUN_TID_LEN; i++)
		c->tid[i] = (uint8_t)tu_rand();
	stun_enc_init(&e, out, cap, q->method, STUN_REQUEST, c->tid);
	if (q->method == STUN_ALLOCATE) {
		memset(v, 0, sizeof(v));
		v[0] = q->transport ? q->transport : 17;
		stun_put_attr(&e, STUN_A_REQUESTED_TRANSPORT, v, 4);
	}
	if (q->req_family) {
		memset(v, 0, sizeof(v));
		v[0] = q->req_family;
		stun_put_attr(&e, STUN_A_REQUESTED_ADDRESS_FAMILY, v, 4);
	}
	if (q->add_family) {
		memset(v, 0, sizeof(v));
		v[0] = q->add_family;
		stun_put_attr(&e, STUN_A_ADDITIONAL_ADDRESS_FAMILY, v, 4);
	}
	if (q->even_port) {
		v[0] = 0;
		stun_put_attr(&e, STUN_A_EVEN_PORT, v, 1);
	}
	if (q->has_lifetime)
		stun_put_u32(&e, STUN_A_LIFETIME, (uint32_t)q->lifetime);
	if (q->chan) {
		v[0] = (uint8_t)(q->chan >> 8);
		v[1] = (uint8_t)q->chan;
		v[2] = v[3] = 0;
		stun_put_attr(&e, STUN_A_CHANNEL_NUMBER, v, 4);
	}
	if (q->peer != NULL)
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, q->peer);
	if (auth) {
		stun_put_attr(&e, STUN_A_USERNAME, c->user, strlen(c->user));
		stun_put_attr(&e, STUN_A_REALM, AUTH_REALM,
		    strlen(AUTH_REALM));
		stun_put_attr(&e, STUN_A_NONCE, c->nonce, c->nonce_len);
		stun_put_mi(&e, c->key);
	}
	if (q->fingerprint)
		stun_put_fingerprint(&e);
	return stun_enc_finish(&e);
}

/* wait for the response to c->tid; 0, error code, or -1 */
static int
tu_response(struct tu_client *c, int timeout_ms)
{
	uint64_t	end = tu_now_ms() + (uint64_t)timeout_ms;
	struct taddr	from;
	long		n;
	int		code, rc;
	int64_t		left;

	for (;;) {
		left = (int64_t)end - (int64_t)tu_now_ms();
		if (left <= 0)
			return -1;
		n = tu_recvfrom(c->fd, c->buf, sizeof(c->buf), (int)left,
		    &from);
		if (n < 0)
			return -1;
		if (!addr_eq(&from, &c->server) || n < STUN_HDR_LEN ||
		    c->buf[0] > 0x03)
			continue;	/* ChannelData or a stranger */
		c->len = (size_t)n;
		rc = stun_decode(c->buf, c->len, &c->resp, &code);
		if (rc != STUN_OK) {
			diag("tutil: undecodable response (%d)", rc);
			continue;
		}
		if (memcmp(c->resp.tid, c->tid, STUN_TID_LEN) != 0 ||
		    (c->resp.cls != STUN_SUCCESS && c->resp.cls != STUN_ERROR))
			continue;
		c->signed_ok = (c->resp.has & STUN_HAS_MI) &&
		    stun_check_mi(&c->resp, c->key);
		if (c->resp.cls == STUN_SUCCESS)
			return 0;
		if (!(c->resp.has & STUN_HAS_ERROR)) {
			diag("tutil: error response without ERROR-CODE");
			return -1;
		}
		return c->resp.error_code;
	}
}

int
tu_request(struct tu_client *c, const struct tu_req *q, int timeout_ms)
{
	uint8_t	out[1500];
	long	n;
	int	rc;

	c->n_relayed = 0;
	memset(&c->mapped, 0, sizeof(c->mapped));
	c->has_lifetime = 0;
	c->lifetime = 0;
	c->signed_ok = 0;
	n = tu_build(c, q, !q->no_auth && c->nonce_len > 0, out, sizeof(out));
	if (n < 0) {
		diag("tutil: request does not fit");
		return -1;
	}
	if (tu_sendto(c->fd, &c->server, out, (size_t)n) == -1)
		return -1;
	rc = tu_response(c, timeout_ms);
	if (rc == 0 && c->resp.cls == STUN_SUCCESS) {
		c->n_relayed = c->resp.n_relayed;
		if (c->n_relayed > 0)
			memcpy(c->relayed, c->resp.relayed,
			    c->n_relayed * sizeof(c->relayed[0]));
		if (c->resp.has & STUN_HAS_MAPPED)
			c->mapped = c->resp.mapped;
		c->has_lifetime = (c->resp.has & STUN_HAS_LIFETIME) != 0;
		c->lifetime = c->resp.lifetime;
	}
	return rc;
}

int
tu_transact(struct tu_client *c, const struct tu_req *q)
{
	int	i, rc = -1, authed;

	c->ndance = 0;
	for (i = 0; i < 3; i++) {
		authed = !q->no_auth && c->nonce_len > 0;
		rc = tu_request(c, q, TU_TIMEOUT_MS);
		if (c->ndance < (int)(sizeof(c->dance) / sizeof(c->dance[0])))
			c->dance[c->ndance++] = rc;
		if (q->no_auth || !(rc == STUN_ERR_UNAUTHORIZED ||
		    rc == STUN_ERR_STALE_NONCE))
			return rc;
		/* a 401 after a signed request is final */
		if (rc == STUN_ERR_UNAUTHORIZED && authed)
			return rc;
		if (!(c->resp.has & STUN_HAS_NONCE) ||
		    c->resp.nonce_len > sizeof(c->nonce))
			return rc;
		memcpy(c->nonce, c->resp.nonce, c->resp.nonce_len);
		c->nonce_len = c->resp.nonce_len;
	}
	return rc;
}

int
tu_binding(struct tu_client *c)
{
	return tu_request(c, &(struct tu_req){ .method = STUN_BINDING },
	    TU_TIMEOUT_MS);
}

int
tu_allocate(struct tu_client *c, int lifetime, uint8_t req_family,
    uint8_t add_family)
{
	struct tu_req	q;

	memset(&q, 0, sizeof(q));
	q.method = STUN_ALLOCATE;
	q.transport = 17;
	q.has_lifetime = lifetime >= 0;
	q.lifetime = lifetime;
	q.req_family = req_family;
	q.add_family = add_family;
	return tu_transact(c, &q);
}

int
tu_refresh(struct tu_client *c, int lifetime)
{
	struct tu_req	q;

	memset(&q, 0, sizeof(q));
	q.method = STUN_REFRESH;
	q.has_lifetime = lifetime >= 0;
	q.lifetime = lifetime;
	return tu_transact(c, &q);
}

int
tu_chanbind(struct tu_client *c, uint16_t chan, const struct taddr *peer)
{
	struct tu_req	q;

	memset(&q, 0, sizeof(q));
	q.method = STUN_CHANNEL_BIND;
	q.chan = chan;
	q.peer = peer;
	return tu_transact(c, &q);
}

int
tu_cdata_send(struct tu_client *c, uint16_t chan, const void *p, size_t n)
{
	uint8_t	out[CDATA_HDR_LEN + 65535];

	if (cdata_put_hdr(out, chan, n) == -1)
		return -1;
	memcpy(out + CDATA_HDR_LEN, p, n);
	return tu_sendto(c->fd, &c->server, out, CDATA_HDR_LEN + n);
}

long
tu_cdata_recv(struct tu_client *c, uint16_t *chan, void *p, size_t cap,
    int timeout_ms)
{
	static uint8_t	 in[65536];
	uint64_t	 end = tu_now_ms() + (uint64_t)timeout_ms;
	struct taddr	 from;
	const uint8_t	*pl;
	size_t		 plen;
	long		 n;
	int64_t		 left;
	uint16_t	 dummy;

	if (chan == NULL)
		chan = &dummy;
	for (;;) {
		left = (int64_t)end - (int64_t)tu_now_ms();
		if (left <= 0)
			return -1;
		n = tu_recvfrom(c->fd, in, sizeof(in), (int)left, &from);
		if (n < 0)
			return -1;
		if (!addr_eq(&from, &c->server) || !cdata_is(in, (size_t)n))
			continue;
		if (cdata_decode(in, (size_t)n, chan, &pl, &plen) == -1) {
			diag("tutil: bad ChannelData from the relay");
			continue;
		}
		c->cdata_raw_len = (size_t)n;
		if (plen > cap)
			plen = cap;
		memcpy(p, pl, plen);
		return (long)plen;
	}
}

/*
 * Added for t/56-churn.c and t/57-flood.c
 */

int
tu_udp_bind_addr(const struct taddr *a)
{
	struct sockaddr_storage	ss;
	size_t			sl;
	int			fd, one = 1;

	sl = addr_to_sockaddr(a, &ss);
	fd = socket(a->family == ADDR_V6 ? AF_INET6 : AF_INET,
	    SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (a->family == ADDR_V6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tu_client_open_from(struct tu_client *c, const struct tu_relay *r,
    const struct taddr *local)
{
	memset(c, 0, sizeof(*c));
	c->fd = tu_udp_bind_addr(local);
	if (c->fd < 0)
		return -1;
	if (tu_sock_addr(c->fd, &c->local) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->server = local->family == ADDR_V6 ? r->addr6 : r->addr4;
	tu_cred(r->secret, 3600, c->user, sizeof(c->user), c->pass);
	stun_lt_key((const uint8_t *)c->user, strlen(c->user), AUTH_REALM,
	    c->pass, strlen(c->pass), c->key);
	return 0;
}

long
tu_proc_rss_kb(pid_t pid)
{
	char	v[64];

	if (tu_proc_status(pid, "VmRSS", v, sizeof(v)) == -1)
		return -1;
	return strtol(v, NULL, 10);
}

int
tu_proc_nfds(pid_t pid)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && n < 1000000)
		if (isdigit((unsigned char)de->d_name[0]))
			n++;
	closedir(d);
	return n;
}

size_t
tu_children(pid_t pid, size_t *zombies)
{
	static pid_t	kids[TU_MAX_PROCS];
	struct tu_proc	p;
	size_t		n, i, z = 0;

	n = tu_kids(pid, kids, TU_MAX_PROCS);
	for (i = 0; i < n; i++)
		if (tu_proc_read(kids[i], &p) == 0 && p.state == 'Z')
			z++;
	if (zombies != NULL)
		*zombies = z;
	return n;
}

int
tu_transact_rtx(struct tu_client *c, const struct tu_req *q, int tries,
    int rto_ms, int *sends)
{
	int	i, k, rc = -1, authed, n = 0;

	c->ndance = 0;
	for (i = 0; i < 3; i++) {
		authed = !q->no_auth && c->nonce_len > 0;
		for (k = 0; k < tries; k++) {
			n++;
			rc = tu_request(c, q, rto_ms);
			if (rc != -1)
				break;
		}
		if (c->ndance < (int)(sizeof(c->dance) / sizeof(c->dance[0])))
			c->dance[c->ndance++] = rc;
		if (q->no_auth || !(rc == STUN_ERR_UNAUTHORIZED ||
		    rc == STUN_ERR_STALE_NONCE))
			break;
		if (rc == STUN_ERR_UNAUTHORIZED && authed)
			break;
		if (!(c->resp.has & STUN_HAS_NONCE) ||
		    c->resp.nonce_len > sizeof(c->nonce))
			break;
		memcpy(c->nonce, c->resp.nonce, c->resp.nonce_len);
		c->nonce_len = c->resp.nonce_len;
	}
	if (sends != NULL)
		*sends = n;
	return rc;
}

/*
 * Added for t/58-burst.c
 */

int
tu_rcvbuf(int fd, int bytes)
{
	int		v = bytes;
	socklen_t	sl = sizeof(v);

	/* FORCE passes net.core.rmem_max but needs CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl) == -1)
		return -1;
	return v;
}

/* one /proc/net/udp{,6} table: sl local rem st tx:rx tr:when retr uid
 * timeout inode ref pointer drops */
static long
tu_udp_drops_in(const char *path, uint16_t port)
{
	FILE		*f;
	char		 line[512], local[64];
	unsigned	 lport;
	unsigned long	 drops;
	long		 sum = 0;
	char		*colon, *p;
	int		 field;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {	/* header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*s %63s", local) != 1 ||
		    (colon = strrchr(local, ':')) == NULL ||
		    sscanf(colon + 1, "%x", &lport) != 1 || lport != port)
			continue;
		/* drops is the last field */
		p = line + strlen(line);
		while (p > line && isspace((unsigned char)p[-1]))
			p--;
		while (p > line && !isspace((unsigned char)p[-1]))
			p--;
		field = sscanf(p, "%lu", &drops);
		if (field == 1)
			sum += (long)drops;
	}
	fclose(f);
	return sum;
}

static long
tu_tcp_conns_in(const char *path, uint16_t port)
{
	FILE		*f;
	char		 line[512];
	unsigned	 lport, st;
	long		 n = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
		    &lport, &st) == 2 && lport == port && st != 0x0A)
			n++;
	fclose(f);
	return n;
}

/* one figure summed over the IPv4 and IPv6 table; -1 if neither reads */
static long
tu_both_tables(long (*fn)(const char *, uint16_t), const char *v4,
    const char *v6, uint16_t port)
{
	long	a = fn(v4, port), b = fn(v6, port);

	if (a < 0 && b < 0)
		return -1;
	return (a > 0 ? a : 0) + (b > 0 ? b : 0);
}

long
tu_tcp_conns(uint16_t port)
{
	return tu_both_tables(tu_tcp_conns_in, "/proc/net/tcp",
	    "/proc/net/tcp6", port);
}

long
tu_udp_drops(uint16_t port)
{
	return tu_both_tables(tu_udp_drops_in, "/proc/net/udp",
	    "/proc/net/udp6", port);
}
