/*
 * CPU and memory of a server's whole process tree, read from /proc.
 *
 * How CPU is counted, and why it is exact. The kernel keeps, per thread,
 * sum_exec_runtime in nanoseconds; /proc/PID/task/TID/schedstat shows it
 * as its first field. Summing it over every thread of every live process
 * of the tree counts everything that is still alive. A process of the tree
 * that exits (turncell's workers come and go) takes its threads' counters
 * with it, so a second term is needed: when a parent reaps a child, the
 * kernel adds the child's whole runtime (its utime and stime, scaled so
 * that they sum to its sum_exec_runtime, plus what the child had itself
 * reaped) to the parent's cutime and cstime, kept in nanoseconds. /proc
 * shows cutime and cstime (fields 16 and 17 of /proc/PID/stat) in clock
 * ticks, rounded down ONCE per reader, however many children were reaped.
 * So
 *
 *	T = sum over live members (schedstat of each thread
 *	    + cutime + cstime of the process)
 *
 * only grows, and T(end) - T(start) is the tree's CPU in between, to
 * within one tick per reaping process (turncell: the supervisor only).
 * What per-process utime+stime from /proc/PID/stat would get wrong: each
 * value is rounded down to a tick separately, so a thousand workers that
 * ran 5 ms each read as 0 to 5 ticks each; summed, that undercounts by
 * about half. Two things T misses, neither of which happens in the
 * servers measured: a thread that exits while its process lives on (its
 * time moves to the process's signal struct, visible only in tick-rounded
 * /proc/PID/stat) and a child reaped by a process outside the tree.
 *
 * Membership: a process is in the tree when following PPid from it leads
 * to root. /proc is read once per reading; a process born during the scan
 * may be missed by it and is then counted by the next reading instead.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcload.h"

struct proc_ent {
	pid_t		 pid;
	pid_t		 ppid;
	uint64_t	 self_ticks;	/* utime + stime */
	uint64_t	 child_ticks;	/* cutime + cstime */
};

struct proc_scan {
	struct proc_ent	*ent;
	size_t		 n, cap;
	uint8_t		*mark;		/* by pid: 0 unknown, 1 in, 2 out */
	int		*idx;		/* by pid: index in ent, or -1 */
	size_t		 pid_max;
};

static ssize_t
proc_read(const char *path, char *buf, size_t cap)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static size_t
proc_pid_max(void)
{
	char	buf[32];
	long	v;

	if (proc_read("/proc/sys/kernel/pid_max", buf, sizeof(buf)) <= 0 ||
	    (v = atol(buf)) <= 0 || v > (1L << 22))
		return 1u << 22;
	return (size_t)v + 1;
}

/* ppid, utime + stime and cutime + cstime from /proc/PID/stat; the
 * command name may hold spaces and parentheses, so fields are counted
 * from the last ')' */
static int
proc_stat(pid_t pid, struct proc_ent *e)
{
	char			 path[64], buf[1024], *p;
	int			 f;
	unsigned long long	 v, ut = 0, st = 0, cut = 0, cst = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (proc_read(path, buf, sizeof(buf)) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after ") ": field 3 state, 4 ppid, ..., 14 utime, 15 stime,
	 * 16 cutime, 17 cstime */
	p += 2;
	for (f = 3; f <= 17 && *p != '\0'; f++) {
		char *end;

		if (f == 3) {
			p++;
		} else {
			v = strtoull(p, &end, 10);
			if (end == p)
				return -1;
			p = end;
			if (f == 4)
				e->ppid = (pid_t)v;
			else if (f == 14)
				ut = v;
			else if (f == 15)
				st = v;
			else if (f == 16)
				cut = v;
			else if (f == 17)
				cst = v;
		}
		while (*p == ' ')
			p++;
	}
	if (f <= 17)
		return -1;
	e->self_ticks = ut + st;
	e->child_ticks = cut + cst;
	return 0;
}

static int
proc_scan(struct proc_scan *s)
{
	DIR		*d;
	struct dirent	*de;

	memset(s, 0, sizeof(*s));
	s->pid_max = proc_pid_max();
	if ((s->mark = calloc(s->pid_max, 1)) == NULL ||
	    (s->idx = malloc(s->pid_max * sizeof(*s->idx))) == NULL ||
	    (d = opendir("/proc")) == NULL) {
		free(s->mark);
		free(s->idx);
		return -1;
	}
	memset(s->idx, 0xff, s->pid_max * sizeof(*s->idx));
	while ((de = readdir(d)) != NULL) {
		struct proc_ent	 e;
		long		 pid = atol(de->d_name);

		if (pid <= 0 || (size_t)pid >= s->pid_max)
			continue;
		e.pid = (pid_t)pid;
		if (proc_stat(e.pid, &e) == -1)
			continue;
		if (s->n == s->cap) {
			size_t		 cap = s->cap ? s->cap * 2 : 1024;
			struct proc_ent	*ne = realloc(s->ent, cap * sizeof(*ne));

			if (ne == NULL)
				break;
			s->ent = ne;
			s->cap = cap;
		}
		s->idx[pid] = (int)s->n;
		s->ent[s->n++] = e;
	}
	closedir(d);
	return 0;
}

static void
proc_scan_free(struct proc_scan *s)
{
	free(s->ent);
	free(s->mark);
	free(s->idx);
}

/* 1 if pid descends from root (or is root); walks PPid, memoised */
static int
proc_in_tree(struct proc_scan *s, pid_t root, pid_t pid)
{
	pid_t	chain[64];
	size_t	n = 0, i;
	int	in = 0;

	while (n < sizeof(chain) / sizeof(chain[0])) {
		if (pid <= 0 || (size_t)pid >= s->pid_max || s->idx[pid] < 0)
			break;
		if (pid == root) {
			in = 1;
			break;
		}
		if (s->mark[pid] != 0) {
			in = s->mark[pid] == 1;
			break;
		}
		chain[n++] = pid;
		pid = s->ent[s->idx[pid]].ppid;
	}
	for (i = 0; i < n; i++)
		s->mark[chain[i]] = in ? 1 : 2;
	return in;
}

/* sum of sum_exec_runtime (ns) over the threads of pid */
static uint64_t
proc_threads_ns(pid_t pid)
{
	char		 path[96], buf[128];
	DIR		*d;
	struct dirent	*de;
	uint64_t	 sum = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat",
		    (int)pid, de->d_name);
		if (proc_read(path, buf, sizeof(buf)) > 0)
			sum += strtoull(buf, NULL, 10);
	}
	closedir(d);
	return sum;
}

static uint64_t
proc_tick_ns(void)
{
	long	hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
}

/*
 * Sum of a per-process value over root and every live descendant; the
 * value function returns -1 to leave a process out.
 */
static int
proc_tree_sum(pid_t root, int64_t (*value)(const struct proc_ent *, int),
    int arg, uint64_t *sum, unsigned *procs)
{
	struct proc_scan	s;
	size_t			i;
	int64_t			v;

	*sum = 0;
	*procs = 0;
	if (proc_scan(&s) == -1)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (!proc_in_tree(&s, root, s.ent[i].pid) ||
		    (v = value(&s.ent[i], arg)) < 0)
			continue;
		*sum += (uint64_t)v;
		(*procs)++;
	}
	proc_scan_free(&s);
	return *procs > 0 ? 0 : -1;
}

/* exact: the method above; else what per-process ticks would say */
static int64_t
proc_cpu_value(const struct proc_ent *e, int exact)
{
	uint64_t tick_ns = proc_tick_ns();

	return (int64_t)((exact ? proc_threads_ns(e->pid) :
	    e->self_ticks * tick_ns) + e->child_ticks * tick_ns);
}

static int64_t
proc_pss_value(const struct proc_ent *e, int unused)
{
	char	path[64], buf[2048], *p;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)e->pid);
	if (proc_read(path, buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "\nPss:")) == NULL)
		return -1;
	return (int64_t)strtoull(p + 5, NULL, 10);
}

int
proc_tree_cpu(pid_t root, uint64_t *ns, unsigned *procs)
{
	return proc_tree_sum(root, proc_cpu_value, 1, ns, procs);
}

int
proc_tree_pss(pid_t root, uint64_t *kib, unsigned *procs)
{
	return proc_tree_sum(root, proc_pss_value, 0, kib, procs);
}

/*
 * CPU (ns) of the kernel's own threads (kthreadd and its children):
 * ksoftirqd runs the softirq work that the sockets and the veth defer,
 * kworkers the rest. Kernel threads reap no children, so their schedstat
 * is all there is.
 */
int
proc_kthreads_cpu(uint64_t *ns)
{
	struct proc_scan	s;
	size_t			i;

	*ns = 0;
	if (proc_scan(&s) == -1)
		return -1;
	for (i = 0; i < s.n; i++)
		if (s.ent[i].pid == 2 || s.ent[i].ppid == 2)
			*ns += proc_threads_ns(s.ent[i].pid);
	proc_scan_free(&s);
	return 0;
}

/*
 * Datagrams the kernel dropped because a socket's receive queue was full,
 * summed over the UDP sockets bound to addr (as in struct in_addr) on a
 * port set in portmap (65536 bits): the "drops" column of /proc/net/udp.
 */
int
proc_udp_drops(uint32_t addr, const uint8_t *portmap, uint64_t *drops)
{
	FILE		*f;
	char		 line[512], *p, *end;
	unsigned long	 a, port;
	size_t		 n;

	*drops = 0;
	if ((f = fopen("/proc/net/udp", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "sl: ADDR:PORT REMOTE ... drops", drops the last field */
		if ((p = strchr(line, ':')) == NULL)
			continue;
		a = strtoul(p + 1, &end, 16);
		if (*end != ':' || (uint32_t)a != addr)
			continue;
		port = strtoul(end + 1, NULL, 16);
		if (port > 65535 || !(portmap[port / 8] & (1u << (port % 8))))
			continue;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\n'))
			line[--n] = '\0';
		if ((p = strrchr(line, ' ')) != NULL)
			*drops += strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	return 0;
}

/*
 * CPU the whole machine spent (ns) since boot, all CPUs: user, nice,
 * system, irq and softirq from the first line of /proc/stat. Work done in
 * interrupt context (an XDP program, the receive path of a veth) is
 * charged to no process; this is where it shows up. Ticks, so only a
 * difference over seconds means anything.
 */
int
proc_machine_cpu(uint64_t *ns)
{
	char			buf[512];
	unsigned long long	v[7];

	*ns = 0;
	if (proc_read("/proc/stat", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
	    &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
		return -1;
	/* v[3] idle and v[4] iowait are not work */
	*ns = (v[0] + v[1] + v[2] + v[5] + v[6]) * proc_tick_ns();
	return 0;
}

uint64_t
clock_ns(clockid_t clk)
{
	struct timespec	ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
burn(uint64_t ns)
{
	uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

	while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0 < ns)
		;
}

/*
 * The test root of proc_selftest: on a byte from go, it starts
 * CHECK_REAPED children that burn CHECK_BURN_NS of CPU each and exit, and
 * reaps them; then CHECK_LIVE children that burn as much and stay. Each
 * live child, and the root once it has reaped the others, write one byte
 * to ready.
 */
#define CHECK_REAPED	300
#define CHECK_LIVE	100
#define CHECK_BURN_NS	4000000ull

static void __attribute__((noreturn))
selftest_root(int go, int ready)
{
	char	c;
	int	i;

	/* the test tree never outlives tcload, however tcload ends */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	if (read(go, &c, 1) != 1)
		_exit(1);
	for (i = 0; i < CHECK_REAPED; i++) {
		pid_t p = fork();

		if (p == 0) {
			burn(CHECK_BURN_NS);
			_exit(0);
		}
		if (p == -1)
			_exit(1);
	}
	for (i = 0; i < CHECK_REAPED; i++)
		if (wait(NULL) == -1)
			_exit(1);
	for (i = 0; i < CHECK_LIVE; i++) {
		pid_t p = fork();

		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			burn(CHECK_BURN_NS);
			(void)write(ready, "l", 1);
			for (;;)
				pause();
		}
		if (p == -1)
			_exit(1);
	}
	(void)write(ready, "r", 1);
	for (;;)
		pause();
}

int
proc_selftest(void)
{
	struct pollfd	pfd;
	int		go[2], ready[2], got = 0, ok;
	uint64_t	e0, e1, n0, n1, want;
	unsigned	procs;
	pid_t		root;
	char		buf[64];
	ssize_t		n;

	if (pipe(go) == -1 || pipe(ready) == -1)
		return -1;
	if ((root = fork()) == -1)
		return -1;
	if (root == 0) {
		close(go[1]);
		close(ready[0]);
		selftest_root(go[0], ready[1]);
	}
	close(go[0]);
	close(ready[1]);
	setpgid(root, root);
	if (proc_tree_sum(root, proc_cpu_value, 1, &e0, &procs) == -1 ||
	    proc_tree_sum(root, proc_cpu_value, 0, &n0, &procs) == -1 ||
	    write(go[1], "g", 1) != 1)
		goto fail;
	pfd.fd = ready[0];
	pfd.events = POLLIN;
	while (got < CHECK_LIVE + 1 && poll(&pfd, 1, 30000) == 1 &&
	    (n = read(ready[0], buf, sizeof(buf))) > 0)
		got += (int)n;
	if (got < CHECK_LIVE + 1 ||
	    proc_tree_sum(root, proc_cpu_value, 1, &e1, &procs) == -1 ||
	    proc_tree_sum(root, proc_cpu_value, 0, &n1, &procs) == -1)
		goto fail;
	kill(-root, SIGKILL);
	waitpid(root, NULL, 0);
	close(go[1]);
	close(ready[0]);
	/* the children burn exactly this much; fork, exit and the root's
	 * own work add a little, so the reading must be at least this and
	 * not much more */
	want = (CHECK_REAPED + CHECK_LIVE) * CHECK_BURN_NS;
	ok = e1 - e0 >= want && e1 - e0 <= want + want / 4 + proc_tick_ns();
	printf("selftest processes=%u burned_s=%.3f tree_cpu_s=%.3f "
	    "stat_ticks_s=%.3f result=%s\n", CHECK_REAPED + CHECK_LIVE,
	    (double)want / 1e9, (double)(e1 - e0) / 1e9,
	    (double)(n1 - n0) / 1e9, ok ? "ok" : "FAIL");
	return ok ? 0 : -1;
fail:
	kill(-root, SIGKILL);
	waitpid(root, NULL, 0);
	return -1;
}
