/*
 * msg_io.h: record I/O on the supervisor <-> worker socketpair.
 *
 * Shared by both programs; not part of the pure core. The socketpair is
 * AF_UNIX SOCK_SEQPACKET, so one send is one record and one receive gets
 * one whole record or a truncated one (which is refused, never parsed).
 * Both calls are non-blocking whatever the descriptor's mode, and a send
 * to a closed peer returns EPIPE instead of raising SIGPIPE.
 *
 * No record read here may carry descriptors: a worker is not trusted,
 * and nothing the supervisor sends after MSG_CONF has any. A record with
 * SCM_RIGHTS, or with control data other than the arrival time and drop
 * count the reader asked for (SO_TIMESTAMPNS, SO_RXQ_OVFL), is malformed,
 * and every descriptor the receive installed is closed at once, also
 * those of a control buffer cut off (MSG_CTRUNC) and of the records after
 * it in a batch; receives use MSG_CMSG_CLOEXEC besides. The one record
 * meant to carry descriptors, MSG_CONF with the relay sockets, is read
 * with msg_recv_rec_fds(), which takes at most MSG_FDS_MAX.
 */
#ifndef MSG_IO_H
#define MSG_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "msg.h"

/* receive buffers must be one byte larger than the largest record, so
 * that an oversized record shows up as truncated */
#define MSG_RECV_BUFLEN		(MSG_MAX_RECORD + 1)

/* 0 sent; -1 with errno (EAGAIN: the peer's queue is full, nothing sent;
 * EPIPE: the peer is gone; EMSGSIZE: len > MSG_MAX_RECORD) */
int	msg_send_rec(int fd, const void *buf, size_t len);
/* the same with nfd descriptors (1 to MSG_SEND_FDS_MAX) passed along in
 * SCM_RIGHTS, which the readers below refuse: only a record that its own
 * code reads may carry them. -1 with errno as msg_send_rec(), EINVAL for
 * nfd out of range, ETOOMANYREFS while too many are in flight */
#define MSG_SEND_FDS_MAX	64
int	msg_send_rec_fds(int fd, const void *buf, size_t len, const int *fds,
	    size_t nfd);
/* record length (> 0); 0 on end of file; -1 with errno (EAGAIN: nothing
 * queued; EBADMSG: a record larger than MSG_MAX_RECORD, truncated, of
 * zero bytes or with control data (no buffer for it here: nothing is
 * installed), it has been consumed and must be treated as malformed;
 * EINVAL: cap is smaller than MSG_RECV_BUFLEN) */
ssize_t	msg_recv_rec(int fd, void *buf, size_t cap);

/*
 * Up to max (at most MSG_RECS_MAX) records with one recvmmsg, record i
 * into bufs[i] (each MSG_RECV_BUFLEN bytes), its length in lens[i].
 * Returns how many well-formed records came first (lengths 1 to
 * MSG_MAX_RECORD), and in *end what followed them: MSG_RECS_MORE (maybe
 * more: fewer than max came, or max did), MSG_RECS_EOF (end of file or an
 * error on the socket: the peer is gone), MSG_RECS_BAD (a record larger
 * than MSG_MAX_RECORD, truncated, of zero bytes or with descriptors or
 * other unrequested control data; it and anything after it in the batch
 * is consumed and lost, their descriptors closed). -1 with errno EAGAIN: nothing
 * was queued. Fewer than max records with MSG_RECS_MORE means the queue
 * was empty when they were taken: no second call is needed to find out.
 */
#define MSG_RECS_MAX		16
#define MSG_RECS_MORE		0
#define MSG_RECS_EOF		1
#define MSG_RECS_BAD		2
int	msg_recv_recs(int fd, uint8_t *const *bufs, size_t *lens, unsigned max,
	    int *end);
/* the same, with each record's arrival time in ns (CLOCK_REALTIME, 0 if
 * none) in arrived[]: for a socket with SO_TIMESTAMPNS set, which
 * msg_recv_recs() would see as a truncated record */
int	msg_recv_recs_at(int fd, uint8_t *const *bufs, size_t *lens,
	    uint64_t *arrived, unsigned max, int *end);
/* descriptors a MSG_CONF carries: the relay sockets, IPv4 and IPv6 */
#define MSG_FDS_MAX		2
/*
 * msg_recv_rec() that also takes up to max descriptors (close-on-exec)
 * into fds[], their count in *nfds (max 0: msg_recv_rec() itself). Anything else in the control data,
 * more than max descriptors, or a record msg_recv_rec() would refuse:
 * every descriptor that came is closed and -1 with EBADMSG.
 */
ssize_t	msg_recv_rec_fds(int fd, void *buf, size_t cap, int *fds,
	    unsigned max, unsigned *nfds);
/* now on the clock of those stamps (CLOCK_REALTIME, ns); 0 when !on, so
 * that a process without an age limit reads no clock */
uint64_t msg_clock_ns(int on);

#endif
