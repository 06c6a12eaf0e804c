/*
 * msg_io.c: record I/O on the supervisor <-> worker socketpair (see
 * msg_io.h). The only code here that touches a descriptor; msg.c stays
 * pure.
 */
#define _GNU_SOURCE		/* recvmmsg */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg_io.h"
#include "qdelay.h"

/* the result of a send of len bytes: 0, or -1 with errno */
static int
msg_sent(ssize_t n, size_t len)
{
	if (n == -1)
		return -1;
	if ((size_t)n != len) {		/* cannot happen on SEQPACKET */
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
msg_send_rec(int fd, const void *buf, size_t len)
{
	ssize_t	n;

	if (len > MSG_MAX_RECORD) {
		errno = EMSGSIZE;
		return -1;
	}
	do {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	return msg_sent(n, len);
}

int
msg_send_rec_fds(int fd, const void *buf, size_t len, const int *fds,
    size_t nfd)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(MSG_SEND_FDS_MAX * sizeof(int))];
	} cm;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;

	if (len > MSG_MAX_RECORD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (nfd == 0 || nfd > MSG_SEND_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	return msg_sent(n, len);
}

/*
 * The control data of a received record: 0 if it holds nothing but what
 * the reader asked for (an arrival time, a drop count), 1 otherwise.
 * Nothing else is ever sent with a record read here, so anything else is
 * the peer's doing, and a descriptor it passed (SCM_RIGHTS, or a pidfd with
 * SCM_PIDFD) is already installed here: every one is closed at once, all
 * that fitted even when the rest was cut off (MSG_CTRUNC), so that a
 * worker can neither fill the supervisor's descriptor table nor keep its
 * own sockets alive through it.
 */
static int
msg_cmsg_foreign(struct msghdr *h)
{
	struct cmsghdr	*cm;
	size_t		 k, nfd;
	int		 fd, foreign = 0;

	if (h->msg_control == NULL)
		return 0;
	for (cm = CMSG_FIRSTHDR(h); cm != NULL; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    (cm->cmsg_type == SCM_TIMESTAMPNS ||
		    cm->cmsg_type == SO_RXQ_OVFL))
			continue;
		foreign = 1;
		if (cm->cmsg_level != SOL_SOCKET || (cm->cmsg_type != SCM_RIGHTS
#ifdef SCM_PIDFD
		    && cm->cmsg_type != SCM_PIDFD
#endif
		    ) || cm->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < nfd; k++) {
			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(fd));
			if (fd >= 0)
				(void)close(fd);
		}
	}
	return foreign;
}

/*
 * After a receive of 0 bytes: 1 if it was the end of file (which a peek
 * sees again), 0 if the peer sent a record of zero bytes, which the
 * catalogue has no place for (two empty records in a row read as end of
 * file: the peer is dropped either way).
 */
static int
msg_eof(int fd)
{
	struct msghdr	mh;
	struct iovec	iov;
	char		c;
	ssize_t		n;

	iov.iov_base = &c;
	iov.iov_len = 1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	do {
		n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	return n == 0;
}

ssize_t
msg_recv_rec(int fd, void *buf, size_t cap)
{
	unsigned	nfds;

	return msg_recv_rec_fds(fd, buf, cap, NULL, 0, &nfds);
}

uint64_t
msg_clock_ns(int on)
{
	struct timespec	ts;

	if (!on || clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int
msg_recv_recs(int fd, uint8_t *const *bufs, size_t *lens, unsigned max,
    int *end)
{
	return msg_recv_recs_at(fd, bufs, lens, NULL, max, end);
}

int
msg_recv_recs_at(int fd, uint8_t *const *bufs, size_t *lens,
    uint64_t *arrived, unsigned max, int *end)
{
	static struct mmsghdr	mm[MSG_RECS_MAX];
	static struct iovec	iov[MSG_RECS_MAX];
	static union qd_cbuf	ctl[MSG_RECS_MAX];
	unsigned		i, j, bad;
	uint32_t		ovfl;
	int			n, has;

	*end = MSG_RECS_MORE;
	if (max == 0 || max > MSG_RECS_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < max; i++) {
		/* one byte more than a record may hold: larger is malformed */
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = MSG_RECV_BUFLEN;
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		if (arrived != NULL) {
			mm[i].msg_hdr.msg_control = ctl[i].buf;
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
	}
	do {
		n = recvmmsg(fd, mm, max, MSG_DONTWAIT | MSG_CMSG_CLOEXEC,
		    NULL);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		*end = MSG_RECS_EOF;	/* a reset: the peer is gone */
		return 0;
	}
	/* descriptors in any record of the batch are closed, also in those
	 * after a malformed one, which are lost with it */
	for (i = 0, bad = (unsigned)n; i < (unsigned)n; i++)
		if (msg_cmsg_foreign(&mm[i].msg_hdr) && bad == (unsigned)n)
			bad = i;
	for (i = 0; i < (unsigned)n; i++) {
		lens[i] = mm[i].msg_len;
		if (arrived != NULL)
			qd_cmsg(&mm[i].msg_hdr, &arrived[i], &ovfl, &has);
		if ((mm[i].msg_hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
		    mm[i].msg_len > MSG_MAX_RECORD || i == bad) {
			*end = MSG_RECS_BAD;
			return (int)i;
		}
		if (mm[i].msg_len > 0)
			continue;
		/*
		 * Zero bytes: at the end of file every further receive in the
		 * batch gets zero bytes too, so a record after it means it was
		 * a record of zero bytes, which the catalogue has no place
		 * for. Zero bytes to the end of the batch: end of file if a
		 * peek says so (zero-byte records and then the end read as
		 * end of file: the peer is dropped either way).
		 */
		for (j = i + 1; j < (unsigned)n; j++)
			if (mm[j].msg_len > 0)
				break;
		*end = j == (unsigned)n && msg_eof(fd) ? MSG_RECS_EOF :
		    MSG_RECS_BAD;
		return (int)i;
	}
	return n;
}

/* ---- MSG_CONF and its relay sockets (the worker's first read) -------- */

ssize_t
msg_recv_rec_fds(int fd, void *buf, size_t cap, int *fds, unsigned max,
    unsigned *nfds)
{
	union {
		char		 buf[CMSG_SPACE(MSG_FDS_MAX * sizeof(int))];
		struct cmsghdr	 align;
	}			 ctl;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	ssize_t			 n;
	size_t			 k = 0;
	int			 bad = 0;

	*nfds = 0;
	if (buf == NULL || cap < MSG_RECV_BUFLEN || max > MSG_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	iov.iov_base = buf;
	iov.iov_len = MSG_RECV_BUFLEN;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	/* no room for control data when none is wanted: a passed descriptor
	 * is never installed, and the record shows up as cut off */
	if (max > 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
	}
	do {
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	/* one SCM_RIGHTS of at most max descriptors, nothing else */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0) ||
		    k != 0) {
			bad = 1;
			continue;
		}
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > max)
			bad = 1;
		else if (k > 0)
			memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
	}
	if (bad || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (size_t)n > MSG_MAX_RECORD || (n == 0 && (k > 0 || !msg_eof(fd)))) {
		(void)msg_cmsg_foreign(&mh);	/* closes what came */
		errno = EBADMSG;
		return -1;
	}
	*nfds = (unsigned)k;
	return n;
}
