/*
 * sup_spawner.c: the spawner, a small process that starts workers.
 *
 * The supervisor forks it at start-up, after the portal token was moved
 * into the vault and before any secret is read, the nonce key made or a
 * socket bound; the spawner wipes and unmaps the vault first thing, so it
 * never holds the token, the secret or a listen socket. It runs as root
 * (it drops privileges in each child, like the supervisor did) and does
 * one thing: on SPN_REQ it starts workers with the supervisor's own child
 * code (sup_spawn_child(): fork, fd 3, empty environment, constant argv,
 * privileges dropped, exec), and hands the supervisor its end of each
 * worker's socketpair with SCM_RIGHTS, with the pid (SPN_NEW). The
 * workers are its children: it reaps them and reports every exit with its
 * wait status (SPN_EXIT), which is how the supervisor still tells a crash
 * or a sandbox violation (SIGSYS) from a stop it asked for.
 *
 * Records go out in order on one socket: a worker's SPN_NEW always comes
 * before its SPN_EXIT, and a pid is reported reaped before the spawner can
 * fork again and get it back, so the supervisor matches exits by pid
 * exactly. Workers set PR_SET_PDEATHSIG against the spawner, so they die
 * with it; the spawner dies with the supervisor (PR_SET_PDEATHSIG, and
 * end of file on the control socket).
 */
#define _GNU_SOURCE	/* close_range */

#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sup.h"
#include "sup_spawner.h"

#define SPN_REAP_EVERY	16	/* forks between two looks for exits */

static int			 spn_ctl = -1;
static pid_t			 spn_self;
static const struct sup_conf	*spn_conf;
static int			 spn_devnull;

/* one record, with fd attached unless -1; a blocking send: the spawner
 * has nothing else to do, and the supervisor never blocks on us */
static void
spn_send(uint32_t type, pid_t pid, int32_t arg, int fd)
{
	struct spn_rec	 r = { type, (uint32_t)pid, arg };
	struct iovec	 iov = { &r, sizeof(r) };
	struct msghdr	 mh;
	struct cmsghdr	*c;
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int))];
	} cm;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(spn_ctl, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(r))
		if (errno != EINTR)
			_exit(0);	/* the supervisor is gone */
}

/*
 * One worker: SPN_NEW with its socketpair end, or SPN_FAIL. vfork(): no
 * page tables copied (a third of the spawner's CPU per worker with fork);
 * the child only makes system calls on its own stack frame, descriptor
 * table, signal dispositions and mask, then execs or _exits, and this
 * process is single-threaded and waits meanwhile.
 */
static void
spn_one(void)
{
	int	sp[2], err;
	pid_t	pid;

	if (sup_spawn_pair(sp) == -1) {
		spn_send(SPN_FAIL, 0, errno, -1);
		return;
	}
	if ((pid = vfork()) == -1) {
		err = errno;
		close(sp[0]);
		close(sp[1]);
		spn_send(SPN_FAIL, 0, err, -1);
		return;
	}
	if (pid == 0)
		sup_spawn_child(spn_conf, spn_devnull, spn_self, sp[1]);
	close(sp[1]);
	spn_send(SPN_NEW, pid, 0, sp[0]);
	close(sp[0]);
}

/*
 * Every exited child, reported with its wait status; nothing at all
 * unless a SIGCHLD came. waitpid() looks at every child of the spawner,
 * idle and busy workers alike: at 10,000 of them each call cost some
 * 200 us, and a burst called it every SPN_REAP_EVERY starts. SIGCHLD is
 * blocked and read here, so an exit is never missed: one that comes after
 * the read leaves it pending for the next call.
 */
static void
spn_reap(int sfd)
{
	struct signalfd_siginfo	si;
	pid_t			pid;
	int			st, got = 0;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		got = 1;
	if (!got)
		return;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		spn_send(SPN_EXIT, pid, st, -1);
}

static void __attribute__((noreturn))
spn_loop(int sfd)
{
	struct pollfd	pfd[2];
	struct spn_rec	q;
	ssize_t		n;
	uint32_t	i;

	for (;;) {
		pfd[0].fd = spn_ctl;
		pfd[0].events = POLLIN;
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			_exit(1);
		if (pfd[1].revents != 0)
			spn_reap(sfd);
		if (pfd[0].revents == 0)
			continue;
		n = recv(spn_ctl, &q, sizeof(q), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			_exit(0);	/* the supervisor closed: we are done */
		if (n != (ssize_t)sizeof(q) || q.type != SPN_REQ ||
		    q.arg <= 0 || q.arg > SPN_REQ_MAX) {
			log_warnx("spawner: bad request from the supervisor");
			_exit(1);
		}
		for (i = 0; i < (uint32_t)q.arg; i++) {
			spn_one();
			if (i % SPN_REAP_EVERY == SPN_REAP_EVERY - 1)
				spn_reap(sfd);
		}
	}
}

/* close every descriptor but stderr, the control socket and /dev/null */
static void
spn_close_fds(int a, int b)
{
	int	lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		(void)close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		(void)close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	(void)close_range((unsigned)hi + 1, ~0U, 0);
}

static void __attribute__((noreturn))
spn_main(const struct sup_conf *c, int devnull, pid_t parent, int ctl)
{
	static const int ign[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2,
	    SIGPIPE };
	struct sigaction sa;
	sigset_t	 set;
	size_t		 i;
	int		 sfd;

	/* no secret here, ever: the token's vault goes first */
	sup_secure_forget();
	(void)prctl(PR_SET_NAME, "turncell-spawn", 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(0);
	log_procinit("spawner");
	/* a drain must not kill the spawner, nor a reload reach it */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		(void)sigaction(ign[i], &sa, NULL);
	sup_spawn_sigs();	/* final: the children reset only these */
	spn_close_fds(ctl, devnull);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_warn("spawner: signalfd");
		_exit(1);
	}
	spn_ctl = ctl;
	spn_self = getpid();
	spn_conf = c;
	spn_devnull = devnull;
	spn_send(SPN_HELLO, spn_self, 0, -1);
	spn_loop(sfd);
}

/*
 * Its first record: the spawner is set up (vault wiped, named, signals
 * and descriptors done) before the supervisor goes on, so that nobody
 * ever sees a half-made spawner; 0, or -1 after SPN_HELLO_MS.
 */
static int
spn_hello(int fd, pid_t pid)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	struct spn_rec	r;
	int		rv;

	while ((rv = poll(&pfd, 1, SPN_HELLO_MS)) == -1 && errno == EINTR)
		;
	if (rv != 1 || recv(fd, &r, sizeof(r), MSG_DONTWAIT) !=
	    (ssize_t)sizeof(r) || r.type != SPN_HELLO || r.pid != (uint32_t)pid)
		return -1;
	return 0;
}

/*
 * Fork the spawner: its pid, and our end of the control socket in *fd
 * (non-blocking); -1 if it cannot be started (the supervisor then starts
 * workers itself).
 */
pid_t
spn_start(const struct sup_conf *c, int devnull, int *fd)
{
	pid_t	pid, parent = getpid();
	int	sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		spn_main(c, devnull, parent, sp[1]);
	}
	close(sp[1]);
	if (spn_hello(sp[0], pid) == -1 ||
	    fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1) {
		close(sp[0]);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return -1;
	}
	*fd = sp[0];
	return pid;
}
