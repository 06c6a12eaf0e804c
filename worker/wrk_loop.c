/*
 * wrk_loop.c: the worker's data path and control records (the loop
 * itself is wrk_ev.c).
 *
 * Peer -> client: recvmmsg up to WRK_RX_BATCH datagrams into 64 KiB
 * buffers (a truncated datagram is dropped, never relayed in part), look
 * each sender up in the channel table, frame it as ChannelData into one
 * MSG_DATA record and send the record when it is full or the batch ends.
 *
 * Client -> peer: one MSG_DATA record from the supervisor holds several
 * frames; each frame's channel is looked up (relay_to_peer() re-applies
 * the peer filter) and the payloads go out straight from the record
 * through common/udp_batch.c, one sender per address family, flushed at
 * the end of the record. Consecutive payloads for one peer of equal size
 * (the last may be shorter) become one UDP GSO send there.
 *
 * With --indications the supervisor also sends PERM_ADD / PERM_DEL (the
 * permitted peer IPs) and SEND (one datagram for a permitted peer, the
 * filter re-applied here); a peer datagram without a channel whose IP
 * has a permission goes up as one MSG_PEER_DATA record, after the
 * pending MSG_DATA batch so that order is kept.
 *
 * No allocation and no logging above debug on either path; drops are
 * counted and summed up at debug level with the periodic MSG_STATS.
 * Anything malformed from the supervisor is fatal (exit 4): it is a bug
 * there, and a worker must not guess.
 */
#define _GNU_SOURCE		/* recvmmsg, sendmmsg */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg_io.h"
#include "qdelay.h"
#include "udp_batch.h"
#include "wrk.h"

/*
 * 8 x 64 KiB: what a flood of the largest datagrams can make a worker
 * touch is 512 KiB, not 2 MiB (with 32 slots); 32 rounds keep 256
 * datagrams per wake-up
 */
#define WRK_RX_BATCH	8		/* datagrams per recvmmsg */
#define WRK_RX_BUFLEN	65536		/* larger than any UDP payload */
#define WRK_RX_ROUNDS	32		/* recvmmsg calls per wakeup */
/*
 * Records from the supervisor: 4 per recvmmsg, so that the usual wake-up
 * (one or two records) is one system call that also tells the queue is
 * empty; 16 rounds keep 64 records per wake-up at most. Each buffer is
 * touched only as far as records reach.
 */
#define WRK_CTL_BATCH	4
#define WRK_CTL_ROUNDS	16

#define WRK_FAM4	0
#define WRK_FAM6	1

/* one per process: static, so the data path never allocates */
static uint8_t			wrk_rxbuf[WRK_RX_BATCH][WRK_RX_BUFLEN];
static struct iovec		wrk_rxiov[WRK_RX_BATCH];
static struct sockaddr_storage	wrk_rxname[WRK_RX_BATCH];
static struct mmsghdr		wrk_rxmsg[WRK_RX_BATCH];
static union qd_cbuf		wrk_rxctl[WRK_RX_BATCH];
static uint64_t			wrk_rxat[WRK_RX_BATCH];	/* arrival, ns */

/*
 * The age limit of each relay socket's queue (MSG_CONF's qdelay_ms and
 * qgrace_ms, the supervisor's --max-queue-delay and --queue-delay-grace;
 * common/qdelay.h): past capacity, a peer datagram that waited longer is
 * dropped before it is framed, and counted (rx_late), as are the kernel's
 * drops at the full socket (rx_full).
 */
static struct qdelay		wrk_qd[2];	/* per family */
static struct qdelay		*wrk_rx_qd;	/* of the batch being framed */
static uint64_t			 wrk_rx_now;	/* its clock, ns (0: no limit) */

/* the same limit on MSG_DATA records from the supervisor (fd 3): their
 * datagrams are counted as tx_late; control records always apply */
static struct qdelay		 wrk_ctl_qd;
static uint64_t			 wrk_ctl_at[WRK_CTL_BATCH];	/* arrival */
static uint64_t			 wrk_ctl_now, wrk_ctl_arrived;


/* CLOCK_REALTIME (the clock of the arrival stamps) once per batch, and
 * only with a limit */
static void
wrk_rx_clock(void)
{
	wrk_rx_now = msg_clock_ns(wrk_rx_qd->max_ns != 0);
}

static uint8_t			wrk_batch[MSG_MAX_RECORD];	/* to sup */
static struct buf_w		wrk_bw;
static unsigned			wrk_bw_frames;

static uint8_t			wrk_ctlmem[WRK_CTL_BATCH][MSG_RECV_BUFLEN];
static uint8_t *const		wrk_ctlbuf[WRK_CTL_BATCH] = {	/* from it */
	wrk_ctlmem[0], wrk_ctlmem[1], wrk_ctlmem[2], wrk_ctlmem[3]
};
static uint8_t			wrk_pkt[MSG_MAX_RECORD];	/* PEER_DATA */

static struct udp_batch		wrk_tx[2];	/* to peers, per family */

/* ------------------------------------------------------------------ */
/* peer -> supervisor */

/*
 * Back-pressure: a record the supervisor's queue cannot take now (EAGAIN)
 * is kept, the relay socket(s) stop being read and fd 3 is watched for
 * EPOLLOUT; the datagrams of the last recvmmsg not yet framed stay in
 * the receive buffers. Once the record is out the rest is framed and
 * reading resumes; meanwhile the kernel's UDP buffer absorbs the burst.
 */
static const uint8_t		*wrk_pend;	/* record waiting for fd 3 */
static size_t			 wrk_pend_len;
static unsigned			 wrk_pend_frames;
static int			 wrk_rx_i, wrk_rx_n;	/* not yet framed */

/* epoll_ctl fails only for want of kernel memory: the worker cannot go
 * on relaying without its descriptors watched */
static void
wrk_watch(struct wrk *w, struct wrk_ev *ev, uint32_t events)
{
	if (ev->fd != -1 && wrk_ev_set(w, ev, events) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "Cannot watch a descriptor "
		    "error=\"%s\"", strerror(errno));
}

static void
wrk_rx_pause(struct wrk *w)
{
	wrk_watch(w, &w->ev4, 0);
	wrk_watch(w, &w->ev6, 0);
	wrk_watch(w, &w->ctl_ev, EPOLLIN | EPOLLOUT);
}

static void
wrk_rx_resume(struct wrk *w)
{
	wrk_watch(w, &w->ctl_ev, EPOLLIN);
	wrk_watch(w, &w->ev4, EPOLLIN);
	wrk_watch(w, &w->ev6, EPOLLIN);
}

/* the loop's time in ms, for the --max-bps buckets (read once per
 * wake-up, and only with a limit) */
static uint64_t
wrk_ms(struct wrk *w)
{
	return wrk_ev_now(w);
}

/* send one record to the supervisor: 0 sent or dropped (counted), -1 it
 * is kept until fd 3 is writable (nothing more may be sent before it) */
static int
wrk_out(struct wrk *w, const uint8_t *rec, size_t len, unsigned frames)
{
	if (wrk_send_rec(w->ctl_fd, rec, len) == 0)
		return 0;
	if (errno != EAGAIN && errno != EWOULDBLOCK) {
		w->cnt.rx_lost += frames;	/* EPIPE: EOF comes next */
		return 0;
	}
	wrk_pend = rec;
	wrk_pend_len = len;
	wrk_pend_frames = frames;
	wrk_rx_pause(w);
	return -1;
}

static void
wrk_batch_reset(void)
{
	wrk_bw_frames = 0;
	msg_data_begin(&wrk_bw);
}

/* 0 the batch is empty, -1 a record is waiting for fd 3 */
static int
wrk_batch_flush(struct wrk *w)
{
	size_t	n;

	if (wrk_pend_len > 0)
		return -1;
	if (wrk_bw_frames == 0)
		return 0;
	n = msg_data_end(&wrk_bw);
	if (n > 0 && wrk_out(w, wrk_batch, n, wrk_bw_frames) == -1)
		return -1;
	wrk_batch_reset();
	return 0;
}

/* 0 taken (framed or dropped), -1 blocked: retry it once fd 3 drains */
static int
wrk_frame(struct wrk *w, uint16_t chan, const uint8_t *p, size_t len)
{
	if (msg_data_add(&wrk_bw, chan, p, len) == -1) {
		if (errno == EMSGSIZE || wrk_bw_frames == 0) {
			w->cnt.rx_toobig++;
			return 0;
		}
		if (wrk_batch_flush(w) == -1)
			return -1;
		if (msg_data_add(&wrk_bw, chan, p, len) == -1) {
			w->cnt.rx_toobig++;
			return 0;
		}
	}
	wrk_bw_frames++;
	w->cnt.rx_pkts++;
	w->cnt.rx_bytes += len;
	return 0;
}

/* one datagram from a permitted peer without a channel (--indications) */
static int
wrk_peer_data(struct wrk *w, const struct taddr *peer, const uint8_t *p,
    size_t len)
{
	struct buf_w	b;
	struct msg_pkt	k;

	if (len == 0 || len > MSG_PKT_MAX) {	/* cannot be framed */
		w->cnt.rx_toobig++;
		return 0;
	}
	if (wrk_batch_flush(w) == -1)	/* what came before goes first */
		return -1;
	k.peer = *peer;
	k.data = p;
	k.len = len;
	buf_w_init(&b, wrk_pkt, sizeof(wrk_pkt));
	if (msg_put_peer_data(&b, &k) == -1) {
		w->cnt.rx_toobig++;
		return 0;
	}
	w->cnt.rx_pkts++;
	w->cnt.rx_bytes += len;
	(void)wrk_out(w, wrk_pkt, b.len, 1);	/* kept if blocked */
	return 0;
}

/* 0 taken, -1 blocked before it could be taken */
static int
wrk_rx_one(struct wrk *w, const struct mmsghdr *mm)
{
	struct taddr	peer;
	uint16_t	chan;

	/* truncated; or empty: nothing to relay, and the supervisor takes
	 * an empty frame as hostile */
	if ((mm->msg_hdr.msg_flags & MSG_TRUNC) || mm->msg_len == 0) {
		w->cnt.rx_trunc++;
		return 0;
	}
	if (addr_from_sockaddr(mm->msg_hdr.msg_name, mm->msg_hdr.msg_namelen,
	    &peer) == -1) {
		w->cnt.rx_nochan++;
		return 0;
	}
	if ((chan = relay_from_peer(w->relay, &peer)) == 0 &&
	    !relay_perm_has(w->relay, &peer)) {
		w->cnt.rx_nochan++;
		return 0;
	}
	/* waited too long: dropped and counted, before any work is done */
	if (qd_late(wrk_rx_qd, wrk_rx_now, wrk_rxat[mm - wrk_rxmsg])) {
		w->cnt.rx_late++;
		return 0;
	}
	/* over --max-bps: dropped and counted, before any work is done */
	if (!tbucket_take(&w->bucket_rx, mm->msg_len, wrk_ms(w))) {
		w->cnt.rx_throttled++;
		return 0;
	}
	if (chan != 0)
		return wrk_frame(w, chan, mm->msg_hdr.msg_iov->iov_base,
		    mm->msg_len);
	return wrk_peer_data(w, &peer, mm->msg_hdr.msg_iov->iov_base,
	    mm->msg_len);
}

/* frame datagrams wrk_rx_i..wrk_rx_n-1; -1 when blocked on fd 3 */
static int
wrk_rx_run(struct wrk *w)
{
	while (wrk_rx_i < wrk_rx_n) {
		if (wrk_rx_one(w, &wrk_rxmsg[wrk_rx_i]) == -1)
			return -1;
		wrk_rx_i++;
		if (wrk_pend_len > 0)
			return -1;
	}
	return 0;
}

static void
wrk_rx_prepare(void)
{
	int	i;

	for (i = 0; i < WRK_RX_BATCH; i++) {
		wrk_rxiov[i].iov_base = wrk_rxbuf[i];
		wrk_rxiov[i].iov_len = WRK_RX_BUFLEN;
		memset(&wrk_rxmsg[i], 0, sizeof(wrk_rxmsg[i]));
		wrk_rxmsg[i].msg_hdr.msg_iov = &wrk_rxiov[i];
		wrk_rxmsg[i].msg_hdr.msg_iovlen = 1;
		wrk_rxmsg[i].msg_hdr.msg_name = &wrk_rxname[i];
		wrk_rxmsg[i].msg_hdr.msg_namelen = sizeof(wrk_rxname[i]);
		wrk_rxmsg[i].msg_hdr.msg_control = wrk_rxctl[i].buf;
	}
}

static void
wrk_peer_cb(struct wrk *w, struct wrk_ev *ev, uint32_t revents)
{
	struct qdelay	*q = &wrk_qd[ev == &w->ev6 ? WRK_FAM6 : WRK_FAM4];
	uint32_t	 ovfl;
	int		 i, n, round, has;

	if (wrk_pend_len > 0)	/* cannot be: reading is paused */
		return;
	for (round = 0; round < WRK_RX_ROUNDS; round++) {
		for (i = 0; i < WRK_RX_BATCH; i++) {	/* value-result */
			wrk_rxmsg[i].msg_hdr.msg_namelen =
			    sizeof(wrk_rxname[i]);
			wrk_rxmsg[i].msg_hdr.msg_controllen =
			    sizeof(wrk_rxctl[i].buf);
			wrk_rxmsg[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(ev->fd, wrk_rxmsg, WRK_RX_BATCH, MSG_DONTWAIT,
		    NULL);
		if (n <= 0) {
			qd_empty(q);	/* EAGAIN: read to the end */
			break;	/* or an ICMP error: nothing to do */
		}
		for (i = 0; i < n; i++) {
			qd_cmsg(&wrk_rxmsg[i].msg_hdr, &wrk_rxat[i], &ovfl,
			    &has);
			if (has)
				w->cnt.rx_full += qd_overflow(q, ovfl);
		}
		if (n < WRK_RX_BATCH)
			qd_empty(q);
		wrk_rx_qd = q;
		wrk_rx_clock();
		wrk_rx_i = 0;
		wrk_rx_n = n;
		if (wrk_rx_run(w) == -1)
			return;		/* paused; wrk_resume_cb goes on */
		if (n < WRK_RX_BATCH)
			break;
	}
	(void)wrk_batch_flush(w);
}

/* fd 3 is writable again: the kept record, the rest of the batch, then
 * reading resumes (unless the supervisor's queue fills up again) */
static void
wrk_resume(struct wrk *w)
{
	if (wrk_pend_len > 0) {
		if (wrk_send_rec(w->ctl_fd, wrk_pend, wrk_pend_len) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			w->cnt.rx_lost += wrk_pend_frames;
		}
		if (wrk_pend == wrk_batch)
			wrk_batch_reset();
		wrk_pend = NULL;
		wrk_pend_len = 0;
	}
	wrk_rx_clock();		/* the rest waited: its age from now */
	if (wrk_rx_run(w) == -1 || wrk_batch_flush(w) == -1)
		return;		/* still paused: no epoll_ctl spent */
	wrk_rx_resume(w);
}

/* ------------------------------------------------------------------ */
/* supervisor -> peer */

static void
wrk_tx_flush(struct wrk *w, int fam)
{
	struct udp_batch	*b = &wrk_tx[fam];

	udp_batch_flush(b);
	w->cnt.tx_pkts += b->st.pkts;
	w->cnt.tx_bytes += b->st.bytes;
	w->cnt.tx_err += b->st.err;
	w->cnt.tx_lost += b->st.lost;
	memset(&b->st, 0, sizeof(b->st));
}

static void
wrk_tx_add(struct wrk *w, const struct taddr *peer, const uint8_t *p,
    size_t len)
{
	int	fam = peer->family == ADDR_V4 ? WRK_FAM4 : WRK_FAM6;

	if (wrk_tx[fam].fd == -1) {	/* family not relayed here */
		w->cnt.tx_nopeer++;
		return;
	}
	if (!tbucket_take(&w->bucket_tx, len, wrk_ms(w))) {
		w->cnt.tx_throttled++;
		return;
	}
	udp_batch_add(&wrk_tx[fam], peer, p, len);
}

/* frames were validated by msg_check(); payloads stay in wrk_ctlmem */
static void
wrk_to_peers(struct wrk *w, const struct msg *m)
{
	struct buf_r		 r;
	const struct taddr	*peer;
	const uint8_t		*p;
	uint16_t		 chan;
	size_t			 len;

	buf_r_init(&r, m->payload, m->len);
	while (msg_data_next(&r, &chan, &p, &len) == 1) {
		if ((peer = relay_to_peer(w->relay, chan)) == NULL) {
			w->cnt.tx_nopeer++;
			continue;
		}
		wrk_tx_add(w, peer, p, len);
	}
	wrk_tx_flush(w, WRK_FAM4);
	wrk_tx_flush(w, WRK_FAM6);
}

/* one datagram for a permitted peer (--indications) */
static void
wrk_send_one(struct wrk *w, const struct msg *m)
{
	struct msg_pkt	k;
	int		fam;

	if (msg_get_send(m, &k) == -1)
		wrk_fatalx(WRK_EXIT_PROTO, "Malformed message type=SEND");
	if (relay_perm_send(w->relay, &k.peer) == -1) {
		w->cnt.tx_nopeer++;
		return;
	}
	wrk_tx_add(w, &k.peer, k.data, k.len);
	fam = k.peer.family == ADDR_V4 ? WRK_FAM4 : WRK_FAM6;
	wrk_tx_flush(w, fam);
}

/* ------------------------------------------------------------------ */
/* control messages */

static void
wrk_perm(struct wrk *w, const struct msg *m)
{
	struct msg_perm	p;
	char		buf[ADDR_STRLEN];
	int		add = m->type == MSG_PERM_ADD;

	if ((add ? msg_get_perm_add(m, &p) : msg_get_perm_del(m, &p)) == -1)
		wrk_fatalx(WRK_EXIT_PROTO, "Malformed message type=%s",
		    msg_type_name(m->type));
	addr_fmt_ip(&p.ip, buf, sizeof(buf));
	/* a full table or an unknown IP is a supervisor bug, not fatal */
	if ((add ? relay_perm_add(w->relay, &p.ip) :
	    relay_perm_del(w->relay, &p.ip)) == -1)
		wrk_log(LOG_WARN, "Permission refused peer=%s op=%s reason=\"%s\"", buf,
		    add ? "add" : "delete",
		    errno == ENOSPC ? "table full" : "unknown");
	else
		wrk_log(LOG_DEBUG, "Permission changed peer=%s op=%s", buf,
		    add ? "added" : "deleted");
}

static void
wrk_chan_add(struct wrk *w, const struct msg *m)
{
	struct msg_chan_add	ca;
	char			buf[ADDR_STRLEN];

	if (msg_get_chan_add(m, &ca) == -1)
		wrk_fatalx(WRK_EXIT_PROTO, "Malformed message type=CHAN_ADD");
	/* a conflict is a supervisor bug, but not worth dying for */
	if (relay_chan_add(w->relay, ca.chan, &ca.peer) == -1) {
		wrk_log(LOG_WARN, "Channel refused channel=0x%04x peer=%s "
		    "reason=\"%s\"", ca.chan,
		    addr_fmt(&ca.peer, buf, sizeof(buf)),
		    errno == ENOSPC ? "table full" : "number or peer bound");
		return;
	}
	wrk_log(LOG_DEBUG, "Channel bound channel=0x%04x peer=%s", ca.chan,
	    addr_fmt(&ca.peer, buf, sizeof(buf)));
}

static void
wrk_chan_del(struct wrk *w, const struct msg *m)
{
	struct msg_chan_del	cd;

	if (msg_get_chan_del(m, &cd) == -1)
		wrk_fatalx(WRK_EXIT_PROTO, "Malformed message type=CHAN_DEL");
	if (relay_chan_del(w->relay, cd.chan) == -1)
		wrk_log(LOG_WARN, "Channel not bound channel=0x%04x", cd.chan);
	else
		wrk_log(LOG_DEBUG, "Channel deleted channel=0x%04x", cd.chan);
}

static void
wrk_ctl_msg(struct wrk *w, const uint8_t *rec, size_t n)
{
	struct msg	m;

	if (msg_check(rec, n, MSG_S2W, MSG_ST_READY, &w->once, &m) == -1)
		wrk_fatalx(WRK_EXIT_PROTO, "Malformed message from the "
		    "supervisor type=%u len=%zu",
		    n >= 2 ? (unsigned)buf_load16(rec) : 0, n);
	/* the RFC 8656 data path exists only when it was configured */
	if ((m.type == MSG_PERM_ADD || m.type == MSG_PERM_DEL ||
	    m.type == MSG_SEND) &&
	    (w->conf.flags & MSG_CONF_F_INDICATIONS) == 0)
		wrk_fatalx(WRK_EXIT_PROTO, "Message needs --indications type=%s",
		    msg_type_name(m.type));
	switch (m.type) {
	case MSG_CHAN_ADD:
		wrk_chan_add(w, &m);
		break;
	case MSG_CHAN_DEL:
		wrk_chan_del(w, &m);
		break;
	case MSG_DATA:
		if (qd_late(&wrk_ctl_qd, wrk_ctl_now, wrk_ctl_arrived))
			w->cnt.tx_late += m.frames;	/* none sent */
		else
			wrk_to_peers(w, &m);
		break;
	case MSG_PERM_ADD:
	case MSG_PERM_DEL:
		wrk_perm(w, &m);
		break;
	case MSG_SEND:
		wrk_send_one(w, &m);
		break;
	default:	/* msg_check() let through a w->s type: cannot be */
		wrk_fatalx(WRK_EXIT_PROTO, "Unexpected message type=%s",
		    msg_type_name(m.type));
	}
}

static void
wrk_ctl_read(struct wrk *w)
{
	size_t		 lens[WRK_CTL_BATCH];
	int		 i, n, r, end;

	for (r = 0; r < WRK_CTL_ROUNDS; r++) {
		n = msg_recv_recs_at(w->ctl_fd, wrk_ctlbuf, lens, wrk_ctl_at,
		    WRK_CTL_BATCH, &end);
		if (n == -1) {
			qd_empty(&wrk_ctl_qd);
			return;		/* EAGAIN: nothing queued */
		}
		if (n < WRK_CTL_BATCH)
			qd_empty(&wrk_ctl_qd);	/* read to the end */
		wrk_ctl_now = msg_clock_ns(wrk_ctl_qd.max_ns != 0);
		for (i = 0; i < n; i++) {
			wrk_ctl_arrived = wrk_ctl_at[i];
			wrk_ctl_msg(w, wrk_ctlbuf[i], lens[i]);
		}
		if (end == MSG_RECS_BAD)
			wrk_fatalx(WRK_EXIT_PROTO, "Oversized, truncated or "
			    "empty message from the supervisor");
		if (end == MSG_RECS_EOF) {	/* the supervisor is gone */
			w->exit_code = WRK_EXIT_OK;
			w->running = 0;
			return;
		}
		if (n < WRK_CTL_BATCH)
			return;		/* the queue was empty */
	}
}

/* records first (their order against peer datagrams matters), then a
 * record kept for fd 3 */
static void
wrk_ctl_cb(struct wrk *w, struct wrk_ev *ev, uint32_t revents)
{
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		wrk_ctl_read(w);
	if (w->running && (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR)) &&
	    (ev->events & EPOLLOUT))
		wrk_resume(w);
}

/* ------------------------------------------------------------------ */
/* stats */

void
wrk_send_stats(struct wrk *w)
{
	uint8_t			 rec[MSG_HDR_LEN + 11 * 8];
	struct buf_w		 b;
	struct msg_stats	 st;
	const struct wrk_counters *c = &w->cnt, *l = &w->last;
	uint64_t		 denied = relay_denied(w->relay);

	/* nothing new: an idle worker sends nothing */
	if (memcmp(c, l, sizeof(*c)) == 0 && denied == w->last_denied)
		return;
	st.rx_pkts = c->rx_pkts - l->rx_pkts;
	st.rx_bytes = c->rx_bytes - l->rx_bytes;
	st.tx_pkts = c->tx_pkts - l->tx_pkts;
	st.tx_bytes = c->tx_bytes - l->tx_bytes;
	st.denied = denied - w->last_denied;
	st.rx_throttled = c->rx_throttled - l->rx_throttled;
	st.tx_throttled = c->tx_throttled - l->tx_throttled;
	st.rx_late = c->rx_late - l->rx_late;
	st.rx_full = c->rx_full - l->rx_full;
	st.tx_full = c->tx_lost - l->tx_lost;
	st.tx_late = c->tx_late - l->tx_late;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_stats(&b, &st) == -1 ||
	    wrk_send_rec(w->ctl_fd, rec, b.len) == -1)
		return;		/* try again with the sum next time */
	if (c->rx_trunc != l->rx_trunc || c->rx_nochan != l->rx_nochan ||
	    c->rx_toobig != l->rx_toobig || c->rx_lost != l->rx_lost ||
	    c->tx_nopeer != l->tx_nopeer || c->tx_err != l->tx_err ||
	    c->tx_lost != l->tx_lost)
		wrk_log(LOG_DEBUG, "Datagrams dropped truncated=%llu no_channel=%llu "
		    "too_big=%llu supervisor_busy=%llu no_peer=%llu "
		    "send_error=%llu socket_full=%llu",
		    (unsigned long long)c->rx_trunc,
		    (unsigned long long)c->rx_nochan,
		    (unsigned long long)c->rx_toobig,
		    (unsigned long long)c->rx_lost,
		    (unsigned long long)c->tx_nopeer,
		    (unsigned long long)c->tx_err,
		    (unsigned long long)c->tx_lost);
	w->last = *c;
	w->last_denied = denied;
}

static void
wrk_stats_cb(struct wrk *w, struct wrk_ev *ev, uint32_t revents)
{
	uint64_t	expired;

	/* nonblocking: nothing to read (cannot be) is no error */
	if (read(ev->fd, &expired, sizeof(expired)) != sizeof(expired))
		return;
	wrk_send_stats(w);
}

/* ------------------------------------------------------------------ */

/*
 * Create the loop and watch every descriptor before the sandbox (which
 * allows epoll_ctl later, for the back-pressure pause). No signal
 * handling: supervisor death shows up as EOF on the socketpair, and
 * PR_SET_PDEATHSIG covers the rest.
 */
int
wrk_loop_init(struct wrk *w)
{
	unsigned	period;

	period = w->conf.stats_ms ? w->conf.stats_ms : WRK_STATS_MS;
	if (wrk_ev_init(w, period) == -1)
		return -1;
	wrk_rx_prepare();
	udp_batch_init(&wrk_tx[WRK_FAM4], w->fd4);
	udp_batch_init(&wrk_tx[WRK_FAM6], w->fd6);
	buf_w_init(&wrk_bw, wrk_batch, sizeof(wrk_batch));
	msg_data_begin(&wrk_bw);
	wrk_bw_frames = 0;
	tbucket_init(&w->bucket_rx, w->conf.max_bps, wrk_ms(w));
	tbucket_init(&w->bucket_tx, w->conf.max_bps, wrk_ms(w));
	qd_init(&wrk_qd[WRK_FAM4], (uint64_t)w->conf.qdelay_ms * 1000000,
	    (uint64_t)w->conf.qgrace_ms * 1000000);
	wrk_qd[WRK_FAM6] = wrk_qd[WRK_FAM4];
	wrk_rx_qd = &wrk_qd[WRK_FAM4];
	wrk_ctl_qd = wrk_qd[WRK_FAM4];
	/* arrival times of the supervisor's records (records read from now
	 * on have them; msg_recv_recs_at() takes them) */
	if (w->conf.qdelay_ms != 0)
		(void)setsockopt(w->ctl_fd, SOL_SOCKET, SO_TIMESTAMPNS,
		    &(int){ 1 }, sizeof(int));

	w->ctl_ev.fd = w->ctl_fd;
	w->ctl_ev.fn = wrk_ctl_cb;
	w->ev4.fd = w->fd4;
	w->ev4.fn = wrk_peer_cb;
	w->ev6.fd = w->fd6;
	w->ev6.fn = wrk_peer_cb;
	w->tev.fd = w->tfd;
	w->tev.fn = wrk_stats_cb;
	if (wrk_ev_set(w, &w->ctl_ev, EPOLLIN) == -1 ||
	    wrk_ev_set(w, &w->tev, EPOLLIN) == -1 ||
	    (w->fd4 != -1 && wrk_ev_set(w, &w->ev4, EPOLLIN) == -1) ||
	    (w->fd6 != -1 && wrk_ev_set(w, &w->ev6, EPOLLIN) == -1))
		return -1;
	return 0;
}

int
wrk_send_ready(struct wrk *w)
{
	uint8_t			rec[MSG_HDR_LEN + 4];
	struct buf_w		b;
	struct msg_ready	rd;

	rd.port = w->conf.port;
	rd.families = (uint8_t)((w->fd4 != -1 ? ADDR_FAM_V4 : 0) |
	    (w->fd6 != -1 ? ADDR_FAM_V6 : 0));
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_ready(&b, &rd) == -1)
		return -1;
	return wrk_send_rec(w->ctl_fd, rec, b.len);
}

int
wrk_run(struct wrk *w)
{
	w->exit_code = WRK_EXIT_OK;
	if (wrk_ev_run(w) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "Cannot wait for events "
		    "error=\"%s\"", strerror(errno));
	return w->exit_code;
}
