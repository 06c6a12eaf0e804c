/*
 * wrk_conf.c: the worker's configuration, read from the socketpair.
 *
 * MSG_CONF is the only record the supervisor may send before READY
 * (msg.c's rules: s->w, exact size, once, starting state), so the first
 * record decides: a MSG_CONF whose every field is in bounds, or the
 * worker stops. The relay socket(s), bound by the supervisor, come with
 * it (SCM_RIGHTS) and nothing else may (msg_recv_rec_fds). This runs
 * before the sandbox because the sandbox's limits depend on the
 * configuration; the record comes from the supervisor, which the worker
 * already trusts with every byte it relays, and no client or peer can
 * reach the worker before it holds its relay socket.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "msg_io.h"
#include "wrk.h"

int
wrk_conf_read(int fd, struct msg_conf *out, int *fds, unsigned *nfds,
    const char **why)
{
	static uint8_t	 rec[MSG_RECV_BUFLEN];	/* pages touched: the record */
	struct pollfd	 pfd;
	struct msg	 m;
	uint32_t	 once = 0;
	ssize_t		 n;

	/* the supervisor queues it before exec; a pooled worker waits */
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			*why = "poll on the socketpair failed";
			return -1;
		}
		n = msg_recv_rec_fds(fd, rec, sizeof(rec), fds, MSG_FDS_MAX,
		    nfds);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		break;
	}
	if (n == 0 || (n == -1 && (errno == ECONNRESET || errno == EPIPE)))
		return 0;
	if (n == -1) {
		*why = errno == EBADMSG ? "oversized first record, or "
		    "unexpected control data" :
		    "cannot read the socketpair";
		return -1;
	}
	if (msg_check(rec, (size_t)n, MSG_S2W, MSG_ST_STARTING, &once,
	    &m) == -1 || m.type != MSG_CONF) {
		*why = "the first record is not a well-formed MSG_CONF";
		goto bad;
	}
	if (msg_get_conf(&m, out) == -1) {
		*why = "a MSG_CONF field is out of bounds";
		goto bad;
	}
	return 1;
bad:
	while (*nfds > 0)
		(void)close(fds[--*nfds]);
	return -1;
}
