/*
 * wrk_sock.c: the worker's descriptors before the sandbox.
 *
 * Takes the relay socket(s) the supervisor bound and sent with MSG_CONF,
 * and closes every descriptor the worker was not given: whatever the exec left open is closed here, before the
 * sandbox, so that the final list is the socketpair, the relay socket(s)
 * and the loop's epoll fd and timerfd (attack case 46). stdin, stdout and stderr
 * are closed too: nothing in a worker may write there, and a stray write
 * then fails with EBADF instead of reaching a terminal or a log file.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wrk.h"

#define WRK_FD_SCAN	64			/* fds probed by wrk_fd_top */

void
wrk_init(struct wrk *w, const struct msg_conf *c)
{
	memset(w, 0, sizeof(*w));
	w->conf = *c;
	w->ctl_fd = WRK_CTL_FD;
	w->fd4 = -1;
	w->fd6 = -1;
}

/*
 * The socket's family, or -1 unless it is a UDP socket bound to port on
 * the address MSG_CONF names for its family (bind4, bind6; family 0: the
 * unspecified address), as the supervisor binds them.
 */
static int
wrk_sock_family(const struct wrk *w, int fd)
{
	struct sockaddr_storage	 ss;
	struct taddr		 a, want;
	socklen_t		 sl;
	int			 v = 0;

	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &sl) == -1 ||
	    v != SOCK_DGRAM)
		return -1;
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &sl) == -1 ||
	    v != IPPROTO_UDP)
		return -1;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, sl, &a) == -1 ||
	    a.port != w->conf.port || a.port == 0)
		return -1;
	want = a.family == ADDR_V4 ? w->conf.bind4 : w->conf.bind6;
	if (want.family == 0) {
		memset(&want, 0, sizeof(want));
		want.family = a.family;
	}
	if (!addr_ip_eq(&a, &want))
		return -1;
	return ss.ss_family;
}

/*
 * The relay socket(s) that came with MSG_CONF: one per family asked for,
 * each a UDP socket of that family bound to the allocation's port and
 * bind address. The
 * supervisor bound them (supervisor/sup_rsock.c); a worker never creates
 * a socket. 0, or -1 with every descriptor closed.
 */
int
wrk_take_socks(struct wrk *w, const int *fds, unsigned n)
{
	unsigned	 i, want = 0;
	int		 fam;

	if (w->conf.families & ADDR_FAM_V4)
		want++;
	if (w->conf.families & ADDR_FAM_V6)
		want++;
	for (i = 0; i < n && n == want; i++) {
		fam = wrk_sock_family(w, fds[i]);
		if (fam == AF_INET && (w->conf.families & ADDR_FAM_V4) &&
		    w->fd4 == -1)
			w->fd4 = fds[i];
		else if (fam == AF_INET6 && (w->conf.families & ADDR_FAM_V6) &&
		    w->fd6 == -1)
			w->fd6 = fds[i];
		else
			break;
	}
	if (n == want && i == n)
		return 0;
	for (i = 0; i < n; i++)
		close(fds[i]);
	w->fd4 = w->fd6 = -1;
	return -1;
}

static int
wrk_fd_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* the slow way, when close_range(2) is missing: walk /proc/self/fd */
static int
wrk_close_walk(const int *keep, size_t nkeep)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, dfd, n, i, todo[256];
	size_t		 k;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	dfd = dirfd(d);
	n = 0;
	while ((de = readdir(d)) != NULL && n < (int)(sizeof(todo) /
	    sizeof(todo[0]))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd == dfd)
			continue;
		for (k = 0; k < nkeep; k++)
			if (keep[k] == fd)
				break;
		if (k == nkeep)
			todo[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(todo[i]);
	return 0;
}

int
wrk_close_fds(const struct wrk *w)
{
	int		 keep[3], lo;
	size_t		 n = 0, i;

	keep[n++] = w->ctl_fd;
	if (w->fd4 != -1)
		keep[n++] = w->fd4;
	if (w->fd6 != -1)
		keep[n++] = w->fd6;
	qsort(keep, n, sizeof(keep[0]), wrk_fd_cmp);
	lo = 0;
	for (i = 0; i <= n; i++) {
		unsigned int hi = i < n ? (unsigned int)keep[i] - 1 : ~0U;

		if (i < n && keep[i] <= lo) {
			lo = keep[i] + 1;
			continue;
		}
		if (syscall(SYS_close_range, (unsigned int)lo, hi, 0) == -1)
			return wrk_close_walk(keep, n);
		if (i < n)
			lo = keep[i] + 1;
	}
	return 0;
}

/*
 * The same from what the worker holds once wrk_close_fds() closed every
 * other descriptor and the loop is made: no system call (wrk_fd_top()
 * probes 64 descriptors, one fcntl each).
 */
int
wrk_fd_top_held(const struct wrk *w)
{
	int	top = w->ctl_fd;

	if (w->fd4 > top)
		top = w->fd4;
	if (w->fd6 > top)
		top = w->fd6;
	if (w->ep > top)
		top = w->ep;
	if (w->tfd > top)
		top = w->tfd;
	return top + 1;
}

/* highest open descriptor + 1, for RLIMIT_NOFILE */
int
wrk_fd_top(void)
{
	int	fd, top = 0;

	for (fd = 0; fd < WRK_FD_SCAN; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			top = fd + 1;
	return top;
}
