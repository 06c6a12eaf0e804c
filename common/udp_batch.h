/*
 * udp_batch.h: the one UDP batch sender (sendmmsg + UDP GSO), used by the
 * supervisor towards clients and by the worker towards peers.
 *
 * Not part of the pure core: it makes system calls. Datagrams are added
 * one at a time and go out with sendmmsg on udp_batch_flush(), or by
 * themselves once UDP_BATCH_MSGS sends, UDP_BATCH_IOVS datagrams or
 * UDP_BATCH_BYTES are pending (one call stays within a default socket
 * buffer). The bytes are not copied: they must stay put until sent.
 * Consecutive datagrams to the same address where the first is at most
 * UDP_BATCH_SEG_MAX bytes and the others are not longer (the last may be
 * shorter) become one UDP GSO send (UDP_SEGMENT), up to UDP_BATCH_SEGS
 * segments and UDP_BATCH_GSO_BYTES bytes.
 *
 * Error policy (counted in struct udp_batch_stats, datagrams, never
 * logged: errors the network produces are expected):
 *  - EINTR: the call is repeated.
 *  - EAGAIN, ENOBUFS: the socket buffer is full; the rest of the batch
 *    is dropped (lost), it will not drain within this call.
 *  - EMSGSIZE, EINVAL or EIO on a GSO send: this route cannot segment
 *    (device MTU below the segment size, no checksum offload); its
 *    datagrams are sent again without GSO (split), GSO stays on for the
 *    other routes.
 *  - anything else (ICMP errors such as ECONNREFUSED, EPERM from a
 *    firewall): that send's datagrams are counted as err, the rest goes.
 *
 * Needs _GNU_SOURCE before the first system header (struct mmsghdr).
 */
#ifndef UDP_BATCH_H
#define UDP_BATCH_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define UDP_BATCH_MSGS		64	/* sends per sendmmsg */
#define UDP_BATCH_IOVS		256	/* datagrams (segments) per batch */
#define UDP_BATCH_SEG_MAX	1200	/* fits any path MTU >= 1280 */
#define UDP_BATCH_SEGS		64	/* segments per GSO send */
#define UDP_BATCH_GSO_BYTES	65000	/* one GSO send before segmentation */
#define UDP_BATCH_BYTES		(128 * 1024)	/* per sendmmsg: below the
						 * default SO_SNDBUF (208 KiB) */

struct udp_batch_stats {
	uint64_t	 pkts, bytes;	/* datagrams sent, their bytes */
	uint64_t	 err;		/* refused by the network or route */
	uint64_t	 lost;		/* socket buffer full */
	uint64_t	 split;		/* GSO sends resent one by one */
};

union udp_batch_ctl {
	char		 buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr	 align;
};

/* what one send needs besides its mmsghdr, kept together so that a
 * send touches one page of it, not five */
struct udp_batch_ent {
	struct sockaddr_storage	 name;
	size_t			 bytes;
	uint16_t		 seg;		/* 0 = one datagram */
	uint8_t			 closed;	/* short last seg */
	union udp_batch_ctl	 ctl;
};

/*
 * The scalars and the counters first, the arrays after: a sender in
 * static storage touches only the pages of the entries it uses.
 */
struct udp_batch {
	int			 fd;		/* -1: every add is an err */
	unsigned		 n, niov;
	size_t			 total;		/* bytes in the batch */
	struct taddr		 last;		/* address of msg[n - 1] */
	struct udp_batch_stats	 st;
	struct mmsghdr		 msg[UDP_BATCH_MSGS];
	struct iovec		 iov[UDP_BATCH_IOVS];
	struct udp_batch_ent	 ent[UDP_BATCH_MSGS];
};

void	udp_batch_init(struct udp_batch *, int fd);
/* one datagram of len bytes at p to `to` (kept by pointer until sent) */
void	udp_batch_add(struct udp_batch *, const struct taddr *to,
	    const uint8_t *p, size_t len);
void	udp_batch_flush(struct udp_batch *);

#endif
