/*
 * main.c: turncell-worker, one per allocation.
 *
 *   turncell-worker --alloc-id N --port P --families F [--bind4 IP]
 *       [--bind6 IP] [--allow-peer CIDR]... [--self IP:PORT]...
 *       [--log-level L] [--ppid PID]
 *
 * Started by the supervisor with fork+exec (so the address space holds
 * none of its secrets), privileges already dropped, its end of the
 * SOCK_SEQPACKET socketpair at fd 3. The order below is the point:
 * everything that needs a file, a new socket or a signal handler happens
 * before sbx_apply(); after it the worker can only relay.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wrk.h"

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "turncell-worker: %s\n", why);
	fprintf(stderr, "usage: turncell-worker --alloc-id N --port P "
	    "--families F [--bind4 IP] [--bind6 IP]\n"
	    "\t[--allow-peer CIDR]... [--self IP:PORT]... [--log-level L] "
	    "[--ppid PID]\n"
	    "(started by turncell with its socketpair at fd 3)\n");
	exit(WRK_EXIT_USAGE);
}

/* a decimal number in [0, max], nothing else */
static unsigned long
num(const char *s, unsigned long max, const char *what)
{
	char		*end;
	unsigned long	 v;

	if (s[0] < '0' || s[0] > '9')
		usage(what);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		usage(what);
	return v;
}

static void
parse_args(int argc, char **argv, struct wrk_conf *c)
{
	static const struct option opts[] = {
		{ "alloc-id",	required_argument, NULL, 'a' },
		{ "port",	required_argument, NULL, 'p' },
		{ "families",	required_argument, NULL, 'f' },
		{ "bind4",	required_argument, NULL, '4' },
		{ "bind6",	required_argument, NULL, '6' },
		{ "allow-peer",	required_argument, NULL, 'A' },
		{ "self",	required_argument, NULL, 's' },
		{ "log-level",	required_argument, NULL, 'l' },
		{ "ppid",	required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, have = 0;

	memset(c, 0, sizeof(*c));
	c->log_level = LOG_INFO;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			c->alloc_id = (uint32_t)num(optarg, UINT32_MAX,
			    "bad --alloc-id");
			have |= 1;
			break;
		case 'p':
			c->port = (uint16_t)num(optarg, 65535, "bad --port");
			have |= 2;
			break;
		case 'f':
			c->families = (uint8_t)num(optarg, 3, "bad --families");
			if (c->families == 0)
				usage("bad --families");
			have |= 4;
			break;
		case '4':
			if (addr_parse_ip(optarg, &c->bind4) == -1 ||
			    c->bind4.family != ADDR_V4)
				usage("bad --bind4");
			break;
		case '6':
			if (addr_parse_ip(optarg, &c->bind6) == -1 ||
			    c->bind6.family != ADDR_V6)
				usage("bad --bind6");
			break;
		case 'A':
			if (c->filter.n_allow >= PEER_MAX_ALLOW ||
			    peer_cidr_parse(optarg,
			    &c->filter.allow[c->filter.n_allow]) == -1)
				usage("bad or too many --allow-peer");
			c->filter.n_allow++;
			break;
		case 's':
			if (c->filter.n_self >= PEER_MAX_SELF ||
			    addr_parse_hostport(optarg,
			    &c->filter.self[c->filter.n_self]) == -1)
				usage("bad or too many --self");
			c->filter.n_self++;
			break;
		case 'l':
			c->log_level = (int)num(optarg, LOG_DEBUG,
			    "bad --log-level");
			break;
		case 'P':
			c->ppid = (pid_t)num(optarg, INT32_MAX, "bad --ppid");
			break;
		default:
			usage(NULL);
		}
	}
	if (optind != argc)
		usage("unexpected argument");
	if (have != 7)
		usage("--alloc-id, --port and --families are required");
}

/* fd 3 must be our end of a SOCK_SEQPACKET pair; make it non-blocking */
static void
check_ctl(int fd)
{
	int		type = 0, fl;
	socklen_t	sl = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1 ||
	    type != SOCK_SEQPACKET)
		usage("fd 3 is not a SOCK_SEQPACKET socket");
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		usage("fd 3: fcntl failed");
}

int
main(int argc, char **argv)
{
	struct wrk_conf	 conf;
	static struct wrk w;	/* large: not on the stack */
	int		 saved;

	parse_args(argc, argv, &conf);

	/* die with the supervisor, and do not start if it is already gone */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		return WRK_EXIT_PARENT;
	if (conf.ppid != 0 && getppid() != conf.ppid)
		return WRK_EXIT_PARENT;
	check_ctl(WRK_CTL_FD);
	wrk_log_init(WRK_CTL_FD, conf.log_level, 1);
	(void)signal(SIGPIPE, SIG_IGN);	/* belt and braces: MSG_NOSIGNAL */

	wrk_init(&w, &conf);
	if ((w.relay = relay_new(&w.conf.filter)) == NULL)
		wrk_fatalx(WRK_EXIT_SANDBOX, "out of memory");
	if (wrk_bind(&w) == -1) {
		saved = errno;
		wrk_log(LOG_WARN, "port %u: bind: %s", conf.port,
		    strerror(saved));
		(void)wrk_send_bind_fail(&w, saved);
		return WRK_EXIT_BIND;
	}

	/* from here on: only the socketpair, the relay socket(s), epoll */
	if (wrk_close_fds(&w) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "cannot close inherited fds");
	wrk_log_stderr(0);
	if (wrk_loop_init(&w) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "cannot create the event loop");
	if (sbx_apply(wrk_fd_top()) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "sandbox: %s", strerror(errno));
	wrk_hostile_syscall();

	if (wrk_send_ready(&w) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "cannot send READY");
	wrk_hostile_after_ready(&w);
	wrk_log(LOG_DEBUG, "relaying on port %u", w.conf.port);
	return wrk_run(&w);
}
