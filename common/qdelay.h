/*
 * qdelay.h: the age limit of a receive queue (pure: the caller gives the
 * times, in nanoseconds of one clock).
 *
 * A kernel socket queue only drops when it is full, and a queue large
 * enough for a burst holds, past capacity, hundreds of milliseconds of
 * datagrams: latency grows instead of loss. This decides, for each
 * datagram read with its arrival time, whether it waited too long:
 *
 *  - A datagram that waited at most `max` is kept.
 *  - A late one is kept too while the reader has been behind for less
 *    than `grace` (a burst, or a moment without the CPU, drains without
 *    loss); once behind for longer, every late datagram is dropped.
 *  - The reader is behind from its first late datagram until a read
 *    finds the queue empty (qd_empty()); a datagram on time does not end
 *    it, or past capacity the queue would grow again through every
 *    grace period.
 *
 * max 0 turns the limit off.
 *
 * The times come with each datagram (SO_TIMESTAMPNS, the kernel's
 * CLOCK_REALTIME at arrival), and so does the number of datagrams the
 * kernel dropped at the full queue so far (SO_RXQ_OVFL): qd_cmsg() reads
 * both from a received message, qd_overflow() turns the running total
 * into the drops since the last call. The caller enables both options on
 * its socket and gives each message a union qd_cbuf as msg_control.
 */
#ifndef QDELAY_H
#define QDELAY_H

#include <sys/socket.h>

#include <stdint.h>
#include <time.h>

struct qdelay {
	uint64_t	 max_ns;	/* 0: never drop */
	uint64_t	 grace_ns;
	uint64_t	 behind_since;	/* 0: not behind */
	uint32_t	 ovfl;		/* kernel drops seen so far */
};

union qd_cbuf {
	char		 buf[CMSG_SPACE(sizeof(struct timespec)) +
			     CMSG_SPACE(sizeof(uint32_t))];
	struct cmsghdr	 align;
};

void	qd_init(struct qdelay *, uint64_t max_ns, uint64_t grace_ns);
/* 1: drop the datagram that arrived at `arrived` (0: time unknown, kept) */
int	qd_late(struct qdelay *, uint64_t now, uint64_t arrived);
/* a read found the queue empty: caught up */
void	qd_empty(struct qdelay *);
/* arrival time (ns, 0 = none) and the kernel's drop total (*has_ovfl 0 =
 * none) from a received message's control data */
void	qd_cmsg(const struct msghdr *, uint64_t *arrived, uint32_t *ovfl,
	    int *has_ovfl);
/* datagrams the kernel dropped since the last call, from its total */
uint32_t qd_overflow(struct qdelay *, uint32_t total);

#endif
