/*
 * sup_rsock.c: the relay sockets of allocations, and the client -> peer
 * direction sent on them.
 *
 * The supervisor binds an allocation's relay socket(s) on the port its
 * engine chose (WORKER_START; a port in use is fed back to the engine,
 * which tries another) and hands them to the allocation's worker inside
 * its MSG_CONF (SCM_RIGHTS). The worker reads them: what peers send is
 * its to parse. The supervisor keeps its own reference for one job: the
 * ChannelData a client sends on a bound channel is already checked by the
 * engine, which names the channel's peer, so the payload leaves from
 * here, straight from the client's receive batch, instead of crossing the
 * socketpair and waking the worker for every datagram. It never reads
 * from these sockets.
 *
 * Every send is checked against the peer filter again (as the worker
 * checks its own), uses MSG_DONTWAIT whatever the descriptor's flags (the
 * supervisor ignores SIGPIPE), and is batched: a run of datagrams on one
 * socket is one sendmmsg, equal-sized ones to one peer one UDP GSO send.
 * The batch is flushed when the socket changes and at the end of the
 * pump's inputs (supervisor/README.md, "The command pump"). Drops are
 * counted, never logged.
 *
 * With --max-bps the worker's token bucket must see every datagram, so
 * this direction goes through the worker as before: no reference is kept
 * (sup_rsock_keep).
 *
 * Descriptors: an allocation costs the supervisor its worker's socketpair
 * and, for this path, its relay socket(s). Near the descriptor limit the
 * reference is not kept (sup_rsock_keep): the allocation still works,
 * through its worker, and the limit is reached at one descriptor per
 * allocation rather than two or three.
 */
#define _GNU_SOURCE		/* struct mmsghdr (udp_batch.h) */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <sys/resource.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"
#include "sup.h"
#include "sup_metrics.h"
#include "udp_batch.h"

#define RS_SOCKBUF	(4 * 1024 * 1024)	/* capped by *mem_max */

static struct udp_batch		 rs_batch;	/* fd -1: nothing pending */

void
sup_rsock_init(void)
{
	udp_batch_init(&rs_batch, -1);
}

/*
 * After the worker has its relay socket(s) (MSG_CONF sent): keep our
 * reference for the direct path, or close it when the path is off or a
 * reference would take one of the last eighth of the descriptor limit (at
 * least 16), which stays for allocations (one socketpair each) and
 * everything else.
 */
void
sup_rsock_keep(const struct sup_conf *c, int rfd[2])
{
	static uint64_t	 logged;
	struct rlimit	 rl;
	uint64_t	 now;
	rlim_t		 top, reserve;
	int		 hi;

	if (c->max_bps != 0) {		/* the worker's bucket sees all */
		sup_rsock_close(rfd);
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return;
	reserve = rl.rlim_cur / 8 > 16 ? rl.rlim_cur / 8 : 16;
	top = rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 0;
	hi = rfd[0] > rfd[1] ? rfd[0] : rfd[1];
	if (hi < 0 || (rlim_t)hi < top)
		return;
	sup_rsock_close(rfd);
	sup_metrics.rsock_released++;
	now = sup_now_ms();
	if (logged == 0 || now - logged >= 60000) {
		logged = now;
		log_msg(LOG_WARN, "Near the descriptor limit: client data of new "
		    "allocations goes through their workers limit=%llu",
		    (unsigned long long)rl.rlim_cur);
	}
}

static int
rs_bind_one(int family, const struct taddr *ip, uint16_t port,
    uint16_t *bound)
{
	struct sockaddr_storage	 ss;
	struct taddr		 a;
	socklen_t		 sl;
	int			 fd, on = 1, sz = RS_SOCKBUF, saved;

	a = *ip;
	a.port = port;
	sl = (socklen_t)addr_to_sockaddr(&a, &ss);
	if (sl == 0 || ss.ss_family != family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* a v6 socket never sees or sends v4-mapped traffic */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	/* generous buffers; the kernel caps them, failure is not fatal */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	/* each datagram's arrival time and the kernel's drop count, for
	 * the worker's age limit (worker/wrk_loop.c) */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		goto fail;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, sl, &a) == -1)
		goto fail;
	*bound = a.port;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Bind the families asked for on one port: rfd[0] IPv4, rfd[1] IPv6, -1
 * for a family not asked for. 0, or -1 with errno and nothing open.
 */
int
sup_rsock_bind(const struct sup_conf *c, uint16_t port, uint8_t families,
    int rfd[2])
{
	struct taddr	 any;
	uint16_t	 got = 0;
	int		 saved;

	rfd[0] = rfd[1] = -1;
	if ((families & (ADDR_FAM_V4 | ADDR_FAM_V6)) == 0 ||
	    (families & ~(ADDR_FAM_V4 | ADDR_FAM_V6)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (families & ADDR_FAM_V4) {
		any = c->bind4;
		if (c->public4.family == 0 || any.family == 0) {
			memset(&any, 0, sizeof(any));
			any.family = ADDR_V4;
		}
		if ((rfd[0] = rs_bind_one(AF_INET, &any, port, &got)) == -1)
			return -1;
		port = got;
	}
	if (families & ADDR_FAM_V6) {
		any = c->bind6;
		if (c->public6.family == 0 || any.family == 0) {
			memset(&any, 0, sizeof(any));
			any.family = ADDR_V6;
		}
		if ((rfd[1] = rs_bind_one(AF_INET6, &any, port, &got)) == -1) {
			saved = errno;
			sup_rsock_close(rfd);
			errno = saved;
			return -1;
		}
	}
	return 0;
}

void
sup_rsock_close(int rfd[2])
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (rfd[i] == -1)
			continue;
		/* a pending datagram on it goes first: the batch points to it */
		if (rs_batch.fd == rfd[i])
			udp_batch_flush(&rs_batch);
		(void)close(rfd[i]);
		rfd[i] = -1;
	}
}

void
sup_rsock_flush(struct sup *s)
{
	if (rs_batch.n == 0)
		return;
	udp_batch_flush(&rs_batch);
	s->cnt.send_errors += rs_batch.st.err + rs_batch.st.lost;
	s->cnt.peer_send += rs_batch.st.lost;
	rs_batch.st.err = rs_batch.st.lost = 0;
}

/* one payload to the peer of a bound channel, on the allocation's socket */
void
sup_rsock_send(struct sup *s, int fd, const struct taddr *peer,
    const uint8_t *p, size_t len)
{
	if (peer_check(sup_self_filter(), peer) != PEER_OK) {
		s->cnt.peer_denied++;
		return;
	}
	if (rs_batch.fd != fd) {
		sup_rsock_flush(s);
		rs_batch.fd = fd;
	}
	udp_batch_add(&rs_batch, peer, p, len);
}
