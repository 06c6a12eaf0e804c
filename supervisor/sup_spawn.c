/*
 * sup_spawn.c: start one worker process.
 *
 * socketpair(AF_UNIX, SOCK_SEQPACKET), the worker's MSG_CONF queued on
 * it, fork, then in the child the worker end goes to fd 3, everything
 * above is closed, privileges are dropped when root, and the worker
 * binary is exec'd with an EMPTY environment and a constant argv: a fresh
 * address space that never held the secret or the portal token (ntpd's
 * start_child). Nothing that differs per allocation is on its command
 * line.
 */
#define _GNU_SOURCE	/* close_range, setresuid */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg_conf.h"
#include "msg_io.h"
#include "sup.h"

#define WK_FD			3	/* the socketpair in the worker */
#define WK_SOCKBUF		(1 << 20)	/* socketpair buffers */

/* the same for every worker: no per-allocation argument */
static char *const		 wk_argv[] = { "turncell-worker", NULL };

static int
wk_drop_privs(const struct sup_conf *c)
{
	uid_t	r, e, sv;
	gid_t	rg, eg, sg;

	if (!c->drop_privs)
		return 0;
	if (setgroups(0, NULL) == -1 ||
	    setresgid(c->worker_gid, c->worker_gid, c->worker_gid) == -1 ||
	    setresuid(c->worker_uid, c->worker_uid, c->worker_uid) == -1)
		return -1;
	if (getresuid(&r, &e, &sv) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return -1;
	if (r != c->worker_uid || e != r || sv != r ||
	    rg != c->worker_gid || eg != rg || sg != rg)
		return -1;
	if (setuid(0) != -1)	/* must be impossible now */
		return -1;
	return 0;
}

/* the child between fork and exec: async-signal-safe calls only */
static void __attribute__((noreturn))
wk_child(const struct sup *s, int fd, char *const argv[])
{
	char *const	 envp[] = { NULL };
	struct sigaction sa;
	sigset_t	 none;
	int		 sig;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	/*
	 * Workers share our process group: a terminal's Ctrl-C or a
	 * group-wide SIGTERM must start a drain, not kill every allocation.
	 * Ignored dispositions survive execve; workers are stopped with
	 * SIGKILL and die with us (EOF on fd 3, PR_SET_PDEATHSIG).
	 */
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	if (dup2(s->devnull, STDIN_FILENO) == -1 ||
	    dup2(s->devnull, STDOUT_FILENO) == -1)
		_exit(126);
	if (fd == WK_FD) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(126);
	} else if (dup2(fd, WK_FD) == -1)
		_exit(126);
	if (close_range(WK_FD + 1, ~0U, 0) == -1)
		_exit(126);
	if (wk_drop_privs(s->conf) == -1)
		_exit(126);
	/* the worker sets this too; setresuid() above cleared any earlier */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != s->pid)
		_exit(126);
	execve(s->conf->worker_path, argv, envp);
	_exit(127);
}

/*
 * The worker's configuration, written into the socketpair before the
 * fork: it is the first record the worker reads, and the worker never
 * waits for a supervisor that is still forking. Built from the current
 * configuration at every start (the own addresses carry the bound
 * listen port).
 */
static int
wk_conf_send(const struct sup *s, int fd, uint32_t alloc_id, uint16_t port,
    uint8_t families)
{
	const struct sup_conf	*c = s->conf;
	static struct msg_conf	 mc;	/* 1 KiB: not on the stack */
	uint8_t			 rec[MSG_HDR_LEN + MSG_CONF_LEN];
	struct buf_w		 b;

	memset(&mc, 0, sizeof(mc));
	mc.alloc_id = alloc_id;
	mc.ppid = (uint32_t)s->pid;
	mc.port = port;
	mc.families = families;
	mc.log_level = (uint8_t)c->log_level;
	mc.flags = c->indications ? MSG_CONF_F_INDICATIONS : 0;
	if (c->public4.family != 0)
		mc.bind4 = c->bind4;
	if (c->public6.family != 0)
		mc.bind6 = c->bind6;
	mc.filter = c->filter;
	mc.max_bps = c->max_bps;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_conf(&b, &mc) == -1 || msg_send_rec(fd, rec, b.len) == -1)
		return -1;
	return 0;
}

/*
 * Room for bursts on the socketpair: a unix socket's sender is limited by
 * its SO_SNDBUF (charged until the receiver reads). FORCE works with
 * CAP_NET_ADMIN; otherwise the plain call, capped by net.core.*mem_max.
 */
static void
wk_sockbufs(int fd)
{
	int	v = WK_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

/* fork and exec the worker of one allocation: 0 with its pid and our end
 * of the socketpair, or -1 (logged) */
int
sup_spawn(struct sup *s, uint32_t alloc_id, uint16_t port, uint8_t families,
    pid_t *pid, int *fd)
{
	int	sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sp) == -1) {
		log_warn("Cannot create a socketpair id=%u", alloc_id);
		return -1;
	}
	wk_sockbufs(sp[0]);
	wk_sockbufs(sp[1]);
	if (wk_conf_send(s, sp[0], alloc_id, port, families) == -1) {
		log_warn("Cannot encode a worker configuration id=%u", alloc_id);
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if ((*pid = fork()) == -1) {
		log_warn("Cannot fork a worker id=%u", alloc_id);
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (*pid == 0)
		wk_child(s, sp[1], wk_argv);
	close(sp[1]);
	*fd = sp[0];
	return 0;
}
