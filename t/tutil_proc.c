/*
 * tutil_proc.c: /proc readers of the end-to-end tests (see tutil.h):
 * a relay's process tree and workers, their status, fds, sockets and
 * memory, and the waits on them.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

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

pid_t
tu_spawner(const struct tu_relay *r)
{
	pid_t	pid;

	return tu_descendants(r->pid, "turncell-spawn", &pid, 1) == 1 ?
	    pid : -1;
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
		snprintf(out, cap, "%s", v);
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
		/* ASan's shadow (terabytes, untouched): it would only spend
		 * the read budget before the heap is reached */
		if (hi - lo > (4UL << 30))
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

long
tu_proc_rss_kb(pid_t pid)
{
	char	v[64];

	if (tu_proc_status(pid, "VmRSS", v, sizeof(v)) == -1)
		return -1;
	return strtol(v, NULL, 10);
}

long
tu_proc_anon_kb(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Anonymous:", 10) == 0) {
			kb = strtol(line + 10, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
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
	size_t		n, i, z = 0, c = 0;

	n = tu_kids(pid, kids, TU_MAX_PROCS);
	for (i = 0; i < n; i++) {
		if (tu_proc_read(kids[i], &p) == -1)
			continue;
		/* the spawner's children are the relay's workers */
		if (p.ppid == pid && p.state != 'Z' &&
		    strcmp(p.comm, "turncell-spawn") == 0) {
			n += tu_kids(kids[i], kids + n, TU_MAX_PROCS - n);
			continue;
		}
		c++;
		if (p.state == 'Z')
			z++;
	}
	if (zombies != NULL)
		*zombies = z;
	return c;
}
