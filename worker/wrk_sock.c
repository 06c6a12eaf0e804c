/*
 * wrk_sock.c: the worker's descriptors before the sandbox.
 *
 * Binds the relay socket(s) the supervisor's core chose a port for,
 * reports a bind failure, and closes every descriptor the worker did not
 * open itself: whatever the exec left open is closed here, before the
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

#define WRK_SOCKBUF	(4 * 1024 * 1024)	/* capped by *mem_max */
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

static int
wrk_bind_one(int family, const struct taddr *ip, uint16_t port,
    uint16_t *bound)
{
	struct sockaddr_storage	 ss;
	struct taddr		 a;
	socklen_t		 sl;
	int			 fd, on = 1, sz = WRK_SOCKBUF, saved;

	a = *ip;
	a.port = port;
	sl = (socklen_t)addr_to_sockaddr(&a, &ss);
	if (sl == 0 || ss.ss_family != family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* a v6 socket never sees or sends v4-mapped traffic */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	/* generous buffers; the kernel caps them, failure is not fatal */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	/* each datagram's arrival time and the kernel's drop count, for
	 * the age limit (wrk_loop.c); without them neither applies */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		goto fail;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, sl, &a) == -1)
		goto fail;
	*bound = a.port;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Bind the families asked for on one port. With port 0 (tests, manual
 * runs) the first socket picks the port and the second uses it.
 */
int
wrk_bind(struct wrk *w)
{
	struct taddr	 any;
	uint16_t	 port = w->conf.port, got = 0;
	int		 saved;

	if ((w->conf.families & (ADDR_FAM_V4 | ADDR_FAM_V6)) == 0 ||
	    (w->conf.families & ~(ADDR_FAM_V4 | ADDR_FAM_V6)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (w->conf.families & ADDR_FAM_V4) {
		any = w->conf.bind4;
		if (any.family == 0) {
			memset(&any, 0, sizeof(any));
			any.family = ADDR_V4;
		}
		if ((w->fd4 = wrk_bind_one(AF_INET, &any, port, &got)) == -1)
			return -1;
		port = got;
	}
	if (w->conf.families & ADDR_FAM_V6) {
		any = w->conf.bind6;
		if (any.family == 0) {
			memset(&any, 0, sizeof(any));
			any.family = ADDR_V6;
		}
		if ((w->fd6 = wrk_bind_one(AF_INET6, &any, port, &got)) == -1) {
			saved = errno;
			if (w->fd4 != -1)
				close(w->fd4);
			w->fd4 = -1;
			errno = saved;
			return -1;
		}
		port = got;
	}
	w->conf.port = port;
	return 0;
}

int
wrk_send_bind_fail(struct wrk *w, int err)
{
	uint8_t			 rec[MSG_HDR_LEN + 4];
	struct buf_w		 b;
	struct msg_bind_fail	 bf;

	bf.port = w->conf.port;
	bf.err = (uint16_t)(err > 0 && err <= 0xffff ? err : EIO);
	buf_w_init(&b, rec, sizeof(rec));
	if (bf.port == 0 || msg_put_bind_fail(&b, &bf) == -1)
		return -1;
	return wrk_send_rec(w->ctl_fd, rec, b.len);
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
