/*
 * udp_batch.c: batched UDP sends with GSO (see udp_batch.h for the
 * coalescing rule and the error policy).
 */
#define _GNU_SOURCE	/* sendmmsg */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <string.h>

#include "udp_batch.h"

/*
 * Only the scalars: every entry of the arrays is written by
 * udp_batch_add() before a flush reads it, so a sender in static storage
 * (each worker has two) keeps its untouched pages out of memory (some
 * 37 KiB per worker when the whole struct was cleared).
 */
void
udp_batch_init(struct udp_batch *b, int fd)
{
	b->fd = fd;
	b->n = b->niov = 0;
	b->total = 0;
	memset(&b->last, 0, sizeof(b->last));
	memset(&b->st, 0, sizeof(b->st));
}

/*
 * GSO refused for this route: its segments as separate datagrams, still
 * in one sendmmsg (a route that never takes GSO costs one failed call
 * per send, not one call per datagram).
 */
static void
ub_split(struct udp_batch *b, unsigned i)
{
	const struct msghdr	*h = &b->msg[i].msg_hdr;
	struct mmsghdr		 mm[UDP_BATCH_SEGS];
	unsigned		 n = (unsigned)h->msg_iovlen, k, off = 0;
	int			 r;

	b->st.split++;
	memset(mm, 0, sizeof(mm));
	for (k = 0; k < n; k++) {
		mm[k].msg_hdr.msg_name = h->msg_name;
		mm[k].msg_hdr.msg_namelen = h->msg_namelen;
		mm[k].msg_hdr.msg_iov = &h->msg_iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	while (off < n) {
		r = sendmmsg(b->fd, mm + off, n - off, MSG_DONTWAIT);
		if (r > 0) {
			for (k = off; k < off + (unsigned)r; k++) {
				b->st.pkts++;
				b->st.bytes += h->msg_iov[k].iov_len;
			}
			off += (unsigned)r;
		} else if (r == -1 && errno == EINTR) {
			continue;
		} else if (r == -1 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK || errno == ENOBUFS)) {
			b->st.lost += n - off;
			return;
		} else {
			b->st.err++;
			off++;
		}
	}
}

void
udp_batch_flush(struct udp_batch *b)
{
	unsigned	off = 0, i;
	int		r;

	while (off < b->n) {
		r = sendmmsg(b->fd, b->msg + off, b->n - off, MSG_DONTWAIT);
		if (r > 0) {
			for (i = off; i < off + (unsigned)r; i++) {
				b->st.pkts += b->msg[i].msg_hdr.msg_iovlen;
				b->st.bytes += b->ent[i].bytes;
			}
			off += (unsigned)r;
		} else if (r == -1 && errno == EINTR) {
			continue;
		} else if (r == -1 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK || errno == ENOBUFS)) {
			for (i = off; i < b->n; i++)
				b->st.lost += b->msg[i].msg_hdr.msg_iovlen;
			break;
		} else {
			if (b->ent[off].seg != 0 && (errno == EMSGSIZE ||
			    errno == EINVAL || errno == EIO))
				ub_split(b, off);
			else
				b->st.err += b->msg[off].msg_hdr.msg_iovlen;
			off++;
		}
	}
	b->n = 0;
	b->niov = 0;
	b->total = 0;
}

/* one more segment on the last send: 1 done, 0 not possible */
static int
ub_extend(struct udp_batch *b, const struct taddr *to, const uint8_t *p,
    size_t len)
{
	unsigned	 i = b->n - 1;
	struct msghdr	*h = &b->msg[i].msg_hdr;
	struct cmsghdr	*cm;
	size_t		 seg;
	uint16_t	 sz;

	seg = b->ent[i].seg != 0 ? b->ent[i].seg : b->ent[i].bytes;
	if (b->ent[i].closed || seg > UDP_BATCH_SEG_MAX || len > seg ||
	    len == 0 || h->msg_iovlen >= UDP_BATCH_SEGS ||
	    b->ent[i].bytes + len > UDP_BATCH_GSO_BYTES || !addr_eq(to, &b->last))
		return 0;
	if (b->ent[i].seg == 0) {
		b->ent[i].seg = sz = (uint16_t)seg;
		memset(&b->ent[i].ctl, 0, sizeof(b->ent[i].ctl));
		h->msg_control = b->ent[i].ctl.buf;
		h->msg_controllen = sizeof(b->ent[i].ctl.buf);
		cm = CMSG_FIRSTHDR(h);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(sz));
		memcpy(CMSG_DATA(cm), &sz, sizeof(sz));
	}
	/* the iovecs of one send are consecutive: it is the last one */
	b->iov[b->niov].iov_base = (void *)(uintptr_t)p;
	b->iov[b->niov].iov_len = len;
	b->niov++;
	h->msg_iovlen++;
	b->ent[i].bytes += len;
	if (len < seg)
		b->ent[i].closed = 1;	/* only the last may be shorter */
	return 1;
}

void
udp_batch_add(struct udp_batch *b, const struct taddr *to, const uint8_t *p,
    size_t len)
{
	struct msghdr	*h;
	size_t		 sl;

	if (b->fd == -1) {
		b->st.err++;
		return;
	}
	if (b->n > 0 && ub_extend(b, to, p, len))
		goto added;
	if ((sl = addr_to_sockaddr(to, &b->ent[b->n].name)) == 0) {
		b->st.err++;
		return;
	}
	h = &b->msg[b->n].msg_hdr;
	memset(&b->msg[b->n], 0, sizeof(b->msg[b->n]));
	h->msg_name = &b->ent[b->n].name;
	h->msg_namelen = (socklen_t)sl;
	h->msg_iov = &b->iov[b->niov];
	h->msg_iovlen = 1;
	b->iov[b->niov].iov_base = (void *)(uintptr_t)p;
	b->iov[b->niov].iov_len = len;
	b->niov++;
	b->ent[b->n].seg = 0;
	b->ent[b->n].closed = 0;
	b->ent[b->n].bytes = len;
	b->last = *to;
	b->n++;
added:
	b->total += len;
	if (b->n == UDP_BATCH_MSGS || b->niov == UDP_BATCH_IOVS ||
	    b->total >= UDP_BATCH_BYTES)
		udp_batch_flush(b);
}
