/*
 * sup_loop.c: the libev shell around the engine.
 *
 * Firezone's Eventloop::poll order: feed one input, drain and execute
 * every command, re-arm the single engine timer from turn_next_timeout().
 * Datagrams are read with recvmmsg in bounded batches (then the loop
 * yields to the other watchers); data for workers collected during a
 * batch is flushed once after it, and the engine timer is re-armed once
 * per batch (sup_pump.c). Sending is sup_send.c's job.
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
#include "msg_io.h"
#include "qdelay.h"
#include "sup.h"
#include "sup_metrics.h"
#include "sup_portal.h"
#include "sup_xdp.h"

#define RECV_BATCH	32
#define RECV_BUFLEN	65536
#define SOCK_BUF	(4 << 20)

static uint8_t			 rbuf[RECV_BATCH][RECV_BUFLEN];
static struct mmsghdr		 rmh[RECV_BATCH];
static struct iovec		 riov[RECV_BATCH];
static struct sockaddr_storage	 rfrom[RECV_BATCH];
static struct sup_input		 rin[RECV_BATCH];
static union qd_cbuf		 rctl[RECV_BATCH];
static struct qdelay		 rq4, rq6;	/* per listen socket */

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

void
sup_exit_now(struct sup *s, int status)
{
	s->exit_status = status;
	ev_break(s->loop, EVBREAK_ALL);
}

/* ---- watchers ------------------------------------------------------ */

/*
 * One batch from a listen socket. Each datagram carries its arrival time
 * and the socket's running total of kernel drops (full queue): past
 * capacity a datagram that waited longer than --max-queue-delay is
 * dropped here, before the engine spends anything on it, and both kinds
 * of loss are counted (common/qdelay.h has the rule).
 */
static void
udp_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sup	*s = io->data;
	struct qdelay	*q = io == &s->io6 ? &rq6 : &rq4;
	uint64_t	 now, arrived;
	uint32_t	 ovfl;
	size_t		 k = 0;
	int		 n, i, has;

	(void)loop;
	(void)revents;
	n = recvmmsg(io->fd, rmh, RECV_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			s->cnt.recv_errors++;
		if (n == -1 && errno == EAGAIN)
			qd_empty(q);
		return;
	}
	now = msg_clock_ns(q->max_ns != 0);
	for (i = 0; i < n; i++) {
		qd_cmsg(&rmh[i].msg_hdr, &arrived, &ovfl, &has);
		if (has)
			s->cnt.listen_full += qd_overflow(q, ovfl);
		if ((rmh[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
		    addr_from_sockaddr((struct sockaddr *)&rfrom[i],
		    rmh[i].msg_hdr.msg_namelen, &rin[k].addr) == -1)
			continue;
		if (qd_late(q, now, arrived)) {
			s->cnt.listen_late++;
			continue;
		}
		rin[k].type = SUP_IN_CLIENT;
		rin[k].data = rbuf[i];
		rin[k].len = rmh[i].msg_len;
		k++;
	}
	if (n < RECV_BATCH)
		qd_empty(q);	/* read to the end: caught up */
	sup_pump(s, rin, k);	/* one timer re-arm per batch */
	/* the receive buffers are reused: restore what recvmmsg changed */
	for (i = 0; i < n; i++) {
		rmh[i].msg_hdr.msg_namelen = sizeof(rfrom[i]);
		rmh[i].msg_hdr.msg_controllen = sizeof(rctl[i].buf);
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
	/* what the XDP fast path relayed is relayed too */
	bytes = st.bytes_c2p + st.bytes_p2c + sup_xdp_bytes();
	sup_fmt_throughput((double)(bytes - s->stats_bytes) /
	    SUP_STATS_INTERVAL, tp, sizeof(tp));
	s->stats_bytes = bytes;
	log_msg(LOG_INFO, "Relay statistics allocations=%llu channels=%llu "
	    "throughput=\"%s\"",
	    (unsigned long long)st.allocations,
	    (unsigned long long)st.channels, tp);
}

void
sup_drain_start(struct sup *s, const char *signame)
{
	struct sup_input	in;
	char			n[24];

	if (s->draining) {
		log_msg(LOG_INFO, "Received a signal again, exiting now signal=%s",
		    signame);
		sup_exit_now(s, 0);
		return;
	}
	s->draining = 1;
	sup_metrics.draining = 1;
	snprintf(n, sizeof(n), "%zu", turn_alloc_count(s->turn));
	log_kv(LOG_INFO, "Received a signal, draining", "signal", signame,
	    "allocations", n, (char *)NULL);
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
 * SIGHUP reloads the secrets (sup_reload.c); SIGUSR1 and SIGUSR2 would end
 * the process by default, and every allocation with it: caught and logged.
 */
static void
signal_ignored_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	if (w->signum == SIGHUP) {
		sup_reload(w->data);
		return;
	}
	log_kv(LOG_INFO, "Ignoring a signal (no action bound)", "signal",
	    w->signum == SIGUSR1 ? "SIGUSR1" : "SIGUSR2", (char *)NULL);
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
		s->sigother[i].data = s;
		ev_signal_start(s->loop, &s->sigother[i]);
	}
}

/* ---- set-up -------------------------------------------------------- */

static void
sock_bufs(int fd)
{
	int	v = SOCK_BUF, on = 1;

	/* each datagram's arrival time and the count of those the kernel
	 * dropped at a full queue (udp_read_cb); without them nothing is
	 * dropped for age and the kernel's drops are not counted */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) == -1)
		log_warn("Cannot have arrival times and drop counts");

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
		fatal("Cannot create a socket addr=%s", txt);
	/*
	 * No SO_REUSEADDR: UDP has no TIME_WAIT to skip, and with it a
	 * second relay on the same port would bind too and silently take
	 * over part of the traffic. A port in use is an error at start.
	 */
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("Cannot set IPV6_V6ONLY addr=%s", txt);
	sock_bufs(fd);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		if (soft && errno == EADDRINUSE) {
			close(fd);
			return -1;
		}
		fatal("Cannot bind addr=%s", txt);
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, len, &t) == -1)
		fatal("getsockname failed addr=%s", txt);
	*bound = t.port;
	return fd;
}

static void
listen_log(const struct taddr *ip, uint16_t port)
{
	struct taddr	t = *ip;
	char		txt[ADDR_STRLEN], ps[8];

	t.port = port;
	addr_fmt(&t, txt, sizeof(txt));
	snprintf(ps, sizeof(ps), "%u", port);
	log_kv(LOG_INFO, "Listening for incoming traffic on UDP", "port", ps,
	    "addr", txt, (char *)NULL);
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
		fatalx("No free port for both IPv4 and IPv6 count=%d",
		    SUP_LISTEN_TRIES);
	if (*fd4 != -1)
		listen_log(&c->bind4, got);
	if (*fd6 != -1)
		listen_log(&c->bind6, got);
	return got;
}

static void
listen_watch(struct sup *s, ev_io *io, int fd)
{
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
		log_warn("Cannot set SCHED_BATCH");
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
		rmh[i].msg_hdr.msg_control = rctl[i].buf;
		rmh[i].msg_hdr.msg_controllen = sizeof(rctl[i].buf);
	}
}

void
sup_loop_init(struct sup *s)
{
	const struct sup_conf	*c = s->conf;

	if (c->sched_batch)
		sched_batch();
	recv_init();
	qd_init(&rq4, (uint64_t)c->qdelay_ms * 1000000,
	    (uint64_t)c->qgrace_ms * 1000000);
	rq6 = rq4;
	listen_watch(s, &s->io4, s->fd4);
	listen_watch(s, &s->io6, s->fd6);
	sup_send_init(s->fd4, s->fd6);
	sup_rsock_init();

	ev_init(&s->engine_timer, engine_timer_cb);
	s->engine_timer.data = s;
	ev_timer_init(&s->stats_timer, stats_timer_cb, SUP_STATS_INTERVAL,
	    SUP_STATS_INTERVAL);
	s->stats_timer.data = s;
	ev_timer_start(s->loop, &s->stats_timer);
	signals_init(s);
}
