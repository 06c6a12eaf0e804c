/*
 * sup_health.c: the health and metrics HTTP listener (README.md, "Health
 * and metrics").
 *
 * Its own TCP listener on the supervisor's libev loop, apart from the
 * portal's libwebsockets context, so that connections to it can never
 * take the portal's slots and the portal can never take its own: GET
 * /healthz is 200 while the process runs, GET /readyz is 200 when
 * src->ready() says so and 503 otherwise, GET /metrics is the Prometheus
 * text from src->metrics(). HEAD gets the headers of GET; any other path
 * is 404, any other method on a known path 405. One request per
 * connection (HTTP/1.0 and 1.1, "Connection: close").
 *
 * Held connections cannot starve a probe (attack case 51): at most
 * HEALTH_MAX_CONNS connections and HEALTH_MAX_PER_IP per source address;
 * a new connection over either cap evicts the oldest one (of that source,
 * or of all), so the newest, a probe that sends its request at once, is
 * always served. A request must arrive whole within HEALTH_HDR_TIMEOUT
 * and fit in HEALTH_REQ_MAX bytes; a response must drain within
 * HEALTH_WRITE_TIMEOUT.
 */
#define _GNU_SOURCE		/* accept4 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "addr.h"
#include "log.h"
#include "sup_health.h"

#define HEALTH_MAX_CONNS	64
#define HEALTH_MAX_PER_IP	8
#define HEALTH_HDR_TIMEOUT	2.0	/* s for the whole request */
#define HEALTH_WRITE_TIMEOUT	10.0	/* s for the whole response */
#define HEALTH_REQ_MAX		2048	/* bytes of request line + headers */
#define HEALTH_ACCEPT_BATCH	256	/* accepts per wake-up */
#define HEALTH_PAUSE		0.1	/* s without accepting when out of fds */
#define HEALTH_METRICS_CAP	(256 * 1024)
#define HEALTH_HDR_MAX		256
#define HEALTH_CT_TEXT		"text/plain; charset=utf-8"
#define HEALTH_CT_PROM		"text/plain; version=0.0.4; charset=utf-8"

struct health_conn {
	int		 fd;		/* -1 = free slot */
	ev_io		 io;
	ev_timer	 timer;
	struct taddr	 peer;		/* port 0 */
	uint64_t	 seq;		/* accept order: smaller is older */
	char		 in[HEALTH_REQ_MAX];
	size_t		 in_len;
	char		*out;		/* headers + body, malloc'd */
	size_t		 out_len, out_off;
};

static struct ev_loop		*health_loop;
static struct health_src	 health_src;
static struct health_conn	 health_conns[HEALTH_MAX_CONNS];
static ev_io			 health_listen;
static ev_timer			 health_pause;
static uint64_t			 health_seq;

static void
health_close(struct health_conn *c)
{
	if (c->fd == -1)
		return;
	ev_io_stop(health_loop, &c->io);
	ev_timer_stop(health_loop, &c->timer);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = c->in_len = 0;
}

/* the slot for a new connection from peer: free, or the evicted oldest */
static struct health_conn *
health_slot(const struct taddr *peer)
{
	struct health_conn	*c, *free_c = NULL, *old = NULL, *old_ip = NULL;
	size_t			 i, same = 0;

	for (i = 0; i < HEALTH_MAX_CONNS; i++) {
		c = &health_conns[i];
		if (c->fd == -1) {
			if (free_c == NULL)
				free_c = c;
			continue;
		}
		if (old == NULL || c->seq < old->seq)
			old = c;
		if (addr_ip_eq(&c->peer, peer)) {
			same++;
			if (old_ip == NULL || c->seq < old_ip->seq)
				old_ip = c;
		}
	}
	if (same >= HEALTH_MAX_PER_IP) {
		health_close(old_ip);
		return old_ip;
	}
	if (free_c != NULL)
		return free_c;
	health_close(old);
	return old;
}

static int
health_reply(struct health_conn *c, int status, const char *reason,
    const char *ctype, const char *body, size_t len, int head)
{
	char	hdr[HEALTH_HDR_MAX];
	int	n;

	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
	    status, reason, ctype, len);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -1;
	if (head)
		len = 0;
	if ((c->out = malloc((size_t)n + len)) == NULL)
		return -1;
	memcpy(c->out, hdr, (size_t)n);
	if (len > 0)
		memcpy(c->out + n, body, len);
	c->out_len = (size_t)n + len;
	c->out_off = 0;
	return 0;
}

static int
health_metrics(struct health_conn *c, int head)
{
	char	*buf;
	size_t	 n = 0;
	int	 r;

	if ((buf = malloc(HEALTH_METRICS_CAP)) == NULL)
		return -1;
	if (health_src.metrics != NULL)
		n = health_src.metrics(health_src.arg, buf,
		    HEALTH_METRICS_CAP);
	if (n > HEALTH_METRICS_CAP)
		n = HEALTH_METRICS_CAP;
	if (n == 0) {
		buf[0] = '\n';
		n = 1;
	}
	r = health_reply(c, 200, "OK", HEALTH_CT_PROM, buf, n, head);
	free(buf);
	return r;
}

/* request line "METHOD SP target SP HTTP/1.x": route it */
static int
health_route(struct health_conn *c)
{
	char	*sp1, *sp2, *q;
	int	 get, head;

	c->in[c->in_len < sizeof(c->in) ? c->in_len : sizeof(c->in) - 1] =
	    '\0';
	c->in[strcspn(c->in, "\r\n")] = '\0';
	if ((sp1 = strchr(c->in, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return health_reply(c, 400, "Bad Request", HEALTH_CT_TEXT,
		    "bad request\n", 12, 0);
	*sp1 = *sp2 = '\0';
	if ((q = strchr(sp1 + 1, '?')) != NULL)
		*q = '\0';
	head = strcmp(c->in, "HEAD") == 0;
	get = head || strcmp(c->in, "GET") == 0;
	if (strcmp(sp1 + 1, "/healthz") != 0 &&
	    strcmp(sp1 + 1, "/readyz") != 0 &&
	    strcmp(sp1 + 1, "/metrics") != 0)
		return health_reply(c, 404, "Not Found", HEALTH_CT_TEXT,
		    "not found\n", 10, head);
	if (!get)
		return health_reply(c, 405, "Method Not Allowed",
		    HEALTH_CT_TEXT, "method not allowed\n", 19, 0);
	if (strcmp(sp1 + 1, "/healthz") == 0)
		return health_reply(c, 200, "OK", HEALTH_CT_TEXT, "ok\n", 3,
		    head);
	if (strcmp(sp1 + 1, "/readyz") == 0) {
		if (health_src.ready != NULL && health_src.ready(health_src.arg))
			return health_reply(c, 200, "OK", HEALTH_CT_TEXT,
			    "ready\n", 6, head);
		return health_reply(c, 503, "Service Unavailable",
		    HEALTH_CT_TEXT, "not ready\n", 10, head);
	}
	return health_metrics(c, head);
}

/* 1 when the request (line and headers) is complete */
static int
health_complete(const struct health_conn *c)
{
	size_t	i;

	for (i = 0; i + 1 < c->in_len; i++) {
		if (c->in[i] == '\n' && c->in[i + 1] == '\n')
			return 1;
		if (i + 3 < c->in_len && memcmp(c->in + i, "\r\n\r\n", 4) == 0)
			return 1;
	}
	return 0;
}

static void
health_write(struct health_conn *c)
{
	ssize_t	n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* wait for EV_WRITE */
		if (n <= 0) {
			health_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	(void)shutdown(c->fd, SHUT_WR);
	health_close(c);
}

static void
health_read(struct health_conn *c)
{
	ssize_t	n;

	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		health_close(c);
		return;
	}
	c->in_len += (size_t)n;
	if (!health_complete(c)) {
		if (c->in_len >= sizeof(c->in) - 1)
			health_close(c);	/* too large: not ours */
		return;
	}
	if (health_route(c) == -1) {
		health_close(c);
		return;
	}
	ev_io_stop(health_loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(health_loop, &c->io);
	ev_timer_stop(health_loop, &c->timer);
	ev_timer_set(&c->timer, HEALTH_WRITE_TIMEOUT, 0.);
	ev_timer_start(health_loop, &c->timer);
	health_write(c);
}

static void
health_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health_conn	*c = w->data;

	(void)loop;
	if (c->out != NULL)
		health_write(c);
	else if (revents & EV_READ)
		health_read(c);
}

static void
health_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	health_close(w->data);
}

static void
health_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sockaddr_storage	 ss;
	struct health_conn	*c;
	struct taddr		 peer;
	socklen_t		 sl;
	int			 fd, i;

	(void)revents;
	for (i = 0; i < HEALTH_ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		fd = accept4(w->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && errno == EINTR)
			continue;
		if (fd == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED) {
			/* out of fds or memory: the listener would stay
			 * readable and spin the loop; look again later */
			ev_io_stop(loop, w);
			ev_timer_start(loop, &health_pause);
			return;
		}
		if (fd == -1)
			return;
		memset(&peer, 0, sizeof(peer));
		if (addr_from_sockaddr((struct sockaddr *)&ss, sl, &peer) == -1)
			peer.family = ADDR_V4;	/* unknown: one bucket */
		peer.port = 0;
		c = health_slot(&peer);
		c->fd = fd;
		c->peer = peer;
		c->seq = ++health_seq;
		ev_io_init(&c->io, health_io_cb, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_init(&c->timer, health_timer_cb, HEALTH_HDR_TIMEOUT,
		    0.);
		c->timer.data = c;
		ev_timer_start(loop, &c->timer);
	}
}

static void
health_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_io_start(loop, &health_listen);
}

static int
health_listen_fd(const struct taddr *ta)
{
	struct sockaddr_storage	ss;
	size_t			sl = addr_to_sockaddr(ta, &ss);
	int			fd, on = 1;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
health_start(struct ev_loop *loop, const char *addr,
    const struct health_src *src, uint16_t *bound)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);
	struct taddr		ta;
	char			txt[ADDR_STRLEN];
	size_t			i;
	int			fd;

	if (health_loop != NULL) {
		log_warnx("health: already started");
		return -1;
	}
	if (addr == NULL || addr_parse_hostport(addr, &ta) == -1) {
		log_kv(LOG_WARN, "health: bad address (want ip:port or "
		    "[ip6]:port)", "addr", addr ? addr : "", (char *)NULL);
		return -1;
	}
	if ((fd = health_listen_fd(&ta)) == -1) {
		log_warn("health: cannot listen addr=%s", addr);
		return -1;
	}
	/* port 0: the kernel chose one; say which */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, sl, &ta) == -1) {
		log_warn("health: getsockname");
		close(fd);
		return -1;
	}
	*bound = ta.port;
	addr_fmt(&ta, txt, sizeof(txt));
	health_loop = loop;
	health_src = *src;
	for (i = 0; i < HEALTH_MAX_CONNS; i++)
		health_conns[i].fd = -1;
	ev_io_init(&health_listen, health_accept_cb, fd, EV_READ);
	ev_io_start(loop, &health_listen);
	ev_timer_init(&health_pause, health_pause_cb, HEALTH_PAUSE, 0.);
	log_kv(LOG_INFO, "health: listening (/healthz /readyz /metrics)",
	    "addr", txt, (char *)NULL);
	return 0;
}
