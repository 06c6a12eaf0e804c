/*
 * sup_loop.c: the libev shell around the engine.
 *
 * Firezone's Eventloop::poll order: feed one input, drain and execute
 * every command, re-arm the single engine timer from turn_next_timeout().
 * Datagrams are read with recvmmsg in bounded batches (then the loop
 * yields to the other watchers); data for workers collected during a
 * batch is flushed once after it, and the engine timer is re-armed once
 * per batch. Sends go out with sendmmsg; consecutive ChannelData frames
 * of one worker record for one client, back to back in the record and
 * of equal size (the last may be shorter), go out as one UDP GSO send
 * (UDP_SEGMENT) straight from the record. Errors the network is expected
 * to produce are counted, not logged ("logging is futile", ntpd).
 */
#define _GNU_SOURCE	/* recvmmsg, sendmmsg, close_range, setresuid */

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sup.h"
#include "sup_metrics.h"
#include "sup_portal.h"

#define RECV_BATCH	32
#define RECV_BUFLEN	65536
#define SEND_BATCH	64
#define SEND_COPY	2048	/* responses are copied (<= STUN_MAX_MSG) */
#define SOCK_BUF	(4 << 20)
#define GSO_SEG_MAX	1200	/* fits any path MTU >= 1280 */
#define GSO_SEGS	64	/* segments per send (kernel limit >= 64) */
#define GSO_BYTES	65000	/* one UDP datagram before segmentation */

union sendq_ctl {
	char		 buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr	 align;
};

struct sendq {
	int			 fd;
	size_t			 n;
	struct taddr		 last;		/* destination of entry n-1 */
	struct mmsghdr		 mh[SEND_BATCH];
	struct iovec		 iov[SEND_BATCH];
	struct sockaddr_storage	 to[SEND_BATCH];
	uint16_t		 seg[SEND_BATCH];	/* GSO size, 0 = none */
	uint8_t			 closed[SEND_BATCH];	/* short last seg */
	union sendq_ctl		 ctl[SEND_BATCH];
	uint8_t			 copy[SEND_BATCH][SEND_COPY];
};

static struct sendq		 sq4, sq6;
static uint8_t			 rbuf[RECV_BATCH][RECV_BUFLEN];
static struct mmsghdr		 rmh[RECV_BATCH];
static struct iovec		 riov[RECV_BATCH];
static struct sockaddr_storage	 rfrom[RECV_BATCH];
static struct sup_input		 rin[RECV_BATCH];

uint64_t
sup_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
sup_wall_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* ---- sending ------------------------------------------------------- */

/*
 * A GSO send was refused (EINVAL: path MTU below the segment size; EIO:
 * no checksum offload on the route): send its segments one by one.
 */
static void
sendq_split(struct sup *s, struct sendq *q, size_t i)
{
	const struct msghdr	*h = &q->mh[i].msg_hdr;
	const uint8_t		*p = q->iov[i].iov_base;
	size_t			 left = q->iov[i].iov_len, n;

	while (left > 0) {
		n = left < q->seg[i] ? left : q->seg[i];
		if (sendto(q->fd, p, n, MSG_DONTWAIT, h->msg_name,
		    h->msg_namelen) == -1)
			s->cnt.send_errors++;
		p += n;
		left -= n;
	}
}

static void
sendq_flush(struct sup *s, struct sendq *q)
{
	size_t	off = 0;
	int	r;

	while (off < q->n) {
		r = sendmmsg(q->fd, q->mh + off, (unsigned)(q->n - off),
		    MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (q->seg[off] != 0 && (errno == EINVAL ||
			    errno == EIO))
				sendq_split(s, q, off);
			else	/* EAGAIN, ENOBUFS, ECONNREFUSED...: drop */
				s->cnt.send_errors++;
			off++;
		} else
			off += (size_t)r;
	}
	q->n = 0;
}

void
sup_send_flush(struct sup *s)
{
	if (sq4.n > 0)
		sendq_flush(s, &sq4);
	if (sq6.n > 0)
		sendq_flush(s, &sq6);
}

/*
 * A large datagram in the engine's storage (a Data indication): send it
 * now, after what is queued, rather than copy it. Never blocks.
 */
static void
send_now(struct sup *s, struct sendq *q, const struct taddr *to,
    const uint8_t *p, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;
	ssize_t			r;

	sendq_flush(s, q);
	sl = (socklen_t)addr_to_sockaddr(to, &ss);
	do
		r = sendto(q->fd, p, len, MSG_DONTWAIT, (struct sockaddr *)&ss,
		    sl);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		s->cnt.send_errors++;
}

/*
 * Append a frame of a worker record to the last queued send when it is
 * for the same client, directly follows it in the record and is not
 * longer than its segments: 1 done, 0 not possible.
 */
static int
send_gso_extend(struct sendq *q, const struct taddr *to, const uint8_t *p,
    size_t len)
{
	size_t		 i = q->n - 1, seg;
	struct iovec	*v = &q->iov[i];
	struct cmsghdr	*cm;
	uint16_t	 sz;

	seg = q->seg[i] != 0 ? q->seg[i] : v->iov_len;
	if (q->closed[i] || seg > GSO_SEG_MAX || len > seg || len == 0 ||
	    !sup_worker_owns(v->iov_base) ||
	    (const uint8_t *)v->iov_base + v->iov_len != p ||
	    v->iov_len + len > GSO_BYTES || v->iov_len / seg >= GSO_SEGS ||
	    !addr_eq(to, &q->last))
		return 0;
	if (q->seg[i] == 0) {
		q->seg[i] = (uint16_t)seg;
		sz = (uint16_t)seg;
		memset(&q->ctl[i], 0, sizeof(q->ctl[i]));
		q->mh[i].msg_hdr.msg_control = q->ctl[i].buf;
		q->mh[i].msg_hdr.msg_controllen = sizeof(q->ctl[i].buf);
		cm = CMSG_FIRSTHDR(&q->mh[i].msg_hdr);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(sz));
		memcpy(CMSG_DATA(cm), &sz, sizeof(sz));
	}
	v->iov_len += len;
	if (len < seg)
		q->closed[i] = 1;	/* only the last may be shorter */
	return 1;
}

void
sup_send(struct sup *s, const struct taddr *to, const uint8_t *p, size_t len)
{
	struct sendq	*q = to->family == ADDR_V6 ? &sq6 : &sq4;
	size_t		 i;

	if (q->fd == -1) {
		s->cnt.send_errors++;
		return;
	}
	if (q->n > 0 && sup_worker_owns(p) && send_gso_extend(q, to, p, len))
		return;
	if (q->n == SEND_BATCH)
		sendq_flush(s, q);
	i = q->n;
	/* frames from a worker record stay put until the flush; anything
	 * else is copied so that the batch never depends on the engine's
	 * buffers beyond one command */
	if (!sup_worker_owns(p)) {
		if (len > SEND_COPY) {
			send_now(s, q, to, p, len);
			return;
		}
		memcpy(q->copy[i], p, len);
		p = q->copy[i];
	}
	q->iov[i].iov_base = (void *)(uintptr_t)p;
	q->iov[i].iov_len = len;
	memset(&q->mh[i], 0, sizeof(q->mh[i]));
	q->mh[i].msg_hdr.msg_name = &q->to[i];
	q->mh[i].msg_hdr.msg_namelen = (socklen_t)addr_to_sockaddr(to,
	    &q->to[i]);
	q->mh[i].msg_hdr.msg_iov = &q->iov[i];
	q->mh[i].msg_hdr.msg_iovlen = 1;
	q->seg[i] = 0;
	q->closed[i] = 0;
	q->last = *to;
	q->n++;
}

void
sup_exit_now(struct sup *s, int status)
{
	s->exit_status = status;
	ev_break(s->loop, EVBREAK_ALL);
}

/* ---- watchers ------------------------------------------------------ */

static void
udp_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sup	*s = io->data;
	size_t		 k = 0;
	int		 n, i;

	(void)loop;
	(void)revents;
	n = recvmmsg(io->fd, rmh, RECV_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			s->cnt.recv_errors++;
		return;
	}
	for (i = 0; i < n; i++) {
		if ((rmh[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
		    addr_from_sockaddr((struct sockaddr *)&rfrom[i],
		    rmh[i].msg_hdr.msg_namelen, &rin[k].addr) == -1)
			continue;
		rin[k].type = SUP_IN_CLIENT;
		rin[k].data = rbuf[i];
		rin[k].len = rmh[i].msg_len;
		k++;
	}
	sup_pump(s, rin, k);	/* one timer re-arm per batch */
	/* the receive buffers are reused: restore what recvmmsg changed */
	for (i = 0; i < n; i++) {
		rmh[i].msg_hdr.msg_namelen = sizeof(rfrom[i]);
		rmh[i].msg_hdr.msg_flags = 0;
	}
}

static void
engine_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	sup_pump_event(t->data, SUP_IN_TIMEOUT, 0);
}

static void
stats_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sup		*s = t->data;
	struct turn_stats	 st;
	uint64_t		 bytes;
	char			 tp[32];

	(void)loop;
	(void)revents;
	turn_get_stats(s->turn, &st);
	bytes = st.bytes_c2p + st.bytes_p2c;
	sup_fmt_throughput((double)(bytes - s->stats_bytes) /
	    SUP_STATS_INTERVAL, tp, sizeof(tp));
	s->stats_bytes = bytes;
	log_msg(LOG_INFO, "Allocations = %llu Channels = %llu Throughput = %s",
	    (unsigned long long)st.allocations,
	    (unsigned long long)st.channels, tp);
}

void
sup_drain_start(struct sup *s, const char *signame)
{
	struct sup_input	in;
	char			msg[64], n[24];

	if (s->draining) {
		log_msg(LOG_INFO, "Received %s again, exiting now", signame);
		sup_exit_now(s, 0);
		return;
	}
	s->draining = 1;
	sup_metrics.draining = 1;
	snprintf(msg, sizeof(msg), "Received %s, draining", signame);
	snprintf(n, sizeof(n), "%zu", turn_alloc_count(s->turn));
	log_kv(LOG_INFO, msg, "allocations", n, (char *)NULL);
	memset(&in, 0, sizeof(in));
	in.type = SUP_IN_DRAIN;
	if (s->conf->drain_timeout > 0)
		in.deadline = sup_now_ms() +
		    (uint64_t)s->conf->drain_timeout * 1000;
	sup_pump(s, &in, 1);
	/* may report having left at once, through the pump */
	if (s->conf->token != NULL && !s->portal_gone) {
		log_info("Leaving the portal");
		portal_leave();
	}
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	sup_drain_start(w->data, w->signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/*
 * SIGHUP (reserved for reloading), SIGUSR1 and SIGUSR2 would end the
 * process by default, and every allocation with it: caught and logged.
 */
static void
signal_ignored_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	log_info("Ignoring %s (%s)", w->signum == SIGHUP ? "SIGHUP" :
	    w->signum == SIGUSR1 ? "SIGUSR1" : "SIGUSR2",
	    w->signum == SIGHUP ? "reserved for reloading; nothing to reload" :
	    "no action bound");
}

static void
signals_init(struct sup *s)
{
	static const int	 ignored[] = { SIGHUP, SIGUSR1, SIGUSR2 };
	size_t			 i;

	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&s->sigterm, signal_cb, SIGTERM);
	s->sigterm.data = s;
	ev_signal_start(s->loop, &s->sigterm);
	ev_signal_init(&s->sigint, signal_cb, SIGINT);
	s->sigint.data = s;
	ev_signal_start(s->loop, &s->sigint);
	for (i = 0; i < SUP_SIG_IGNORED; i++) {
		ev_signal_init(&s->sigother[i], signal_ignored_cb,
		    ignored[i]);
		ev_signal_start(s->loop, &s->sigother[i]);
	}
}

/* ---- set-up -------------------------------------------------------- */

static void
sock_bufs(int fd)
{
	int	v = SOCK_BUF;

	/* FORCE works as root; the plain call up to the sysctl limits */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

/*
 * One listen socket on ip:port; port 0 lets the kernel pick one. -1 only
 * when soft and the port is taken (the pair is then tried again), any
 * other failure is fatal. *bound gets the port.
 */
static int
listen_open(const struct taddr *ip, uint16_t port, int soft, uint16_t *bound)
{
	struct sockaddr_storage	ss;
	struct taddr		t = *ip;
	socklen_t		len;
	char			txt[ADDR_STRLEN];
	int			fd, on = 1;

	t.port = port;
	len = (socklen_t)addr_to_sockaddr(&t, &ss);
	addr_fmt(&t, txt, sizeof(txt));
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		fatal("socket for %s", txt);
	/*
	 * No SO_REUSEADDR: UDP has no TIME_WAIT to skip, and with it a
	 * second relay on the same port would bind too and silently take
	 * over part of the traffic. A port in use is an error at start.
	 */
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("IPV6_V6ONLY on %s", txt);
	sock_bufs(fd);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		if (soft && errno == EADDRINUSE) {
			close(fd);
			return -1;
		}
		fatal("bind %s", txt);
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, len, &t) == -1)
		fatal("getsockname for %s", txt);
	*bound = t.port;
	return fd;
}

static void
listen_log(const struct taddr *ip, uint16_t port)
{
	struct taddr	t = *ip;
	char		txt[ADDR_STRLEN], msg[64];

	t.port = port;
	addr_fmt(&t, txt, sizeof(txt));
	snprintf(msg, sizeof(msg), "Listening for incoming traffic on UDP "
	    "port %u", port);
	log_kv(LOG_INFO, msg, "addr", txt, (char *)NULL);
}

/*
 * The listen sockets, before the engine exists (it needs the port for
 * the relay's own addresses). --listen-port 0: the first socket gets an
 * ephemeral port from the kernel and the second binds the same one; if
 * that port is taken in the other family, both are closed and the pair
 * is tried again. Returns the bound port.
 */
uint16_t
sup_listen_bind(const struct sup_conf *c, int *fd4, int *fd6)
{
	uint16_t	port = c->listen_port, got = 0;
	int		try, dual = c->public4.family != 0 &&
			    c->public6.family != 0;

	*fd4 = *fd6 = -1;
	for (try = 0; try < SUP_LISTEN_TRIES; try++) {
		if (c->public4.family != 0)
			*fd4 = listen_open(&c->bind4, port, 0, &got);
		if (c->public6.family != 0)
			*fd6 = listen_open(&c->bind6, dual ? got : port,
			    port == 0 && dual, &got);
		if (*fd6 != -1 || !dual)
			break;
		close(*fd4);
		*fd4 = -1;
	}
	if (*fd4 == -1 && *fd6 == -1)
		fatalx("no free port for both IPv4 and IPv6 after %d tries",
		    SUP_LISTEN_TRIES);
	if (*fd4 != -1)
		listen_log(&c->bind4, got);
	if (*fd6 != -1)
		listen_log(&c->bind6, got);
	return got;
}

static void
listen_watch(struct sup *s, ev_io *io, int fd, struct sendq *q)
{
	q->fd = fd;
	if (fd == -1)
		return;
	ev_io_init(io, udp_read_cb, fd, EV_READ);
	io->data = s;
	ev_io_start(s->loop, io);
}

/*
 * SCHED_BATCH (no privilege needed; workers inherit it through fork and
 * exec): a woken relay process does not preempt the one running on that
 * CPU, so a burst is read in a few large batches instead of many small
 * ones; each hop (client, supervisor, worker, peer) costs one wake-up
 * per batch, not per packet. On an idle CPU nothing changes; under CPU
 * contention a wake-up may wait for the running task's slice, which a
 * media relay should not risk by default: opt-in with --sched-batch.
 * Measured with make bench: about 25% less relay CPU per packet.
 */
static void
sched_batch(void)
{
	struct sched_param	sp;

	memset(&sp, 0, sizeof(sp));
	if (sched_setscheduler(0, SCHED_BATCH, &sp) == -1)
		log_debug("SCHED_BATCH: %s", strerror(errno));
}

static void
recv_init(void)
{
	int	i;

	for (i = 0; i < RECV_BATCH; i++) {
		riov[i].iov_base = rbuf[i];
		riov[i].iov_len = sizeof(rbuf[i]);
		memset(&rmh[i], 0, sizeof(rmh[i]));
		rmh[i].msg_hdr.msg_name = &rfrom[i];
		rmh[i].msg_hdr.msg_namelen = sizeof(rfrom[i]);
		rmh[i].msg_hdr.msg_iov = &riov[i];
		rmh[i].msg_hdr.msg_iovlen = 1;
	}
}

void
sup_loop_init(struct sup *s)
{
	const struct sup_conf	*c = s->conf;

	if (c->sched_batch)
		sched_batch();
	recv_init();
	listen_watch(s, &s->io4, s->fd4, &sq4);
	listen_watch(s, &s->io6, s->fd6, &sq6);

	ev_init(&s->engine_timer, engine_timer_cb);
	s->engine_timer.data = s;
	ev_timer_init(&s->stats_timer, stats_timer_cb, SUP_STATS_INTERVAL,
	    SUP_STATS_INTERVAL);
	s->stats_timer.data = s;
	ev_timer_start(s->loop, &s->stats_timer);
	signals_init(s);
}
