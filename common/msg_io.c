/*
 * msg_io.c: record I/O on the supervisor <-> worker socketpair (see
 * msg_io.h). The only code here that touches a descriptor; msg.c stays
 * pure.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>

#include "msg_io.h"

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
	if (n == -1)
		return -1;
	if ((size_t)n != len) {		/* cannot happen on SEQPACKET */
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
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
	struct msghdr	mh;
	struct iovec	iov;
	ssize_t		n;

	if (buf == NULL || cap < MSG_RECV_BUFLEN) {
		errno = EINVAL;
		return -1;
	}
	/* one byte more than a record may hold: larger means malformed */
	iov.iov_base = buf;
	iov.iov_len = MSG_RECV_BUFLEN;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	do {
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (size_t)n > MSG_MAX_RECORD || (n == 0 && !msg_eof(fd))) {
		errno = EBADMSG;
		return -1;
	}
	return n;
}
