/*
 * sup_spawn.c: start one worker process.
 *
 * socketpair(AF_UNIX, SOCK_SEQPACKET), fork, then in the child the worker
 * end goes to fd 3, everything above is closed, privileges are dropped
 * when root, and the worker binary is exec'd with an EMPTY environment
 * and a constant argv: a fresh address space that never held the secret
 * or the portal token (ntpd's start_child). Nothing that differs per
 * allocation is on its command line; the worker's configuration is the
 * first record on the socketpair (MSG_CONF).
 *
 * The spawner (sup_spawner.c) runs the same child code for every worker
 * it starts; the supervisor itself forks with sup_spawn() only when there
 * is no spawner (it died).
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

/*
 * The signals whose disposition is not the default in the spawner, found
 * once by sup_spawn_sigs() (the spawner never changes them afterwards):
 * only these need a reset in each child, not all 64 (64 system calls per
 * worker). wk_nsigs -1: not known (the supervisor's own forks), every
 * signal is reset.
 */
static int			 wk_sigs[NSIG];
static int			 wk_nsigs = -1;

void
sup_spawn_sigs(void)
{
	struct sigaction	old;
	int			sig;

	wk_nsigs = 0;
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler != SIG_DFL)
			wk_sigs[wk_nsigs++] = sig;
}

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

/*
 * The child between fork (or the spawner's vfork) and exec: system calls
 * only, on its own stack frame, nothing written to shared memory. `parent`
 * is the process that forked it (the supervisor or the spawner): when it
 * is already gone, PR_SET_PDEATHSIG came too late and the child stops.
 */
void
sup_spawn_child(const struct sup_conf *c, int devnull, pid_t parent, int fd)
{
	char *const	 envp[] = { NULL };
	struct sigaction sa;
	sigset_t	 none;
	int		 sig, i;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	if (wk_nsigs < 0)
		for (sig = 1; sig < NSIG; sig++)
			(void)sigaction(sig, &sa, NULL);
	for (i = 0; i < wk_nsigs; i++)
		(void)sigaction(wk_sigs[i], &sa, NULL);
	/*
	 * Workers share our process group: a terminal's Ctrl-C or a
	 * group-wide SIGTERM must start a drain, not kill every allocation.
	 * Ignored dispositions survive execve; workers are stopped with
	 * SIGKILL and die with us (EOF on fd 3, PR_SET_PDEATHSIG).
	 */
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	if (dup2(devnull, STDIN_FILENO) == -1 ||
	    dup2(devnull, STDOUT_FILENO) == -1)
		_exit(126);
	if (fd == WK_FD) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(126);
	} else if (dup2(fd, WK_FD) == -1)
		_exit(126);
	if (close_range(WK_FD + 1, ~0U, 0) == -1)
		_exit(126);
	if (wk_drop_privs(c) == -1)
		_exit(126);
	/* the worker sets this too; setresuid() above cleared any earlier */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	execve(c->worker_path, wk_argv, envp);
	_exit(127);
}

/*
 * The worker's configuration: the first record the worker reads. Built
 * from the current configuration at every start (the own addresses carry
 * the bound listen port); `ppid` is the worker's parent, which it checks.
 * The socketpair is new and empty, so the send cannot meet a full buffer:
 * it fails only when the worker is gone.
 */
int
sup_spawn_conf(const struct sup *s, int fd, uint32_t alloc_id, uint16_t port,
    uint8_t families, const int rfd[2], pid_t ppid)
{
	const struct sup_conf	*c = s->conf;
	static struct msg_conf	 mc;	/* 1 KiB: not on the stack */
	uint8_t			 rec[MSG_HDR_LEN + MSG_CONF_LEN];
	struct buf_w		 b;
	int			 fds[MSG_FDS_MAX];
	size_t			 n = 0;

	memset(&mc, 0, sizeof(mc));
	mc.alloc_id = alloc_id;
	mc.ppid = (uint32_t)ppid;
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
	mc.qdelay_ms = (uint16_t)c->qdelay_ms;
	mc.qgrace_ms = (uint16_t)c->qgrace_ms;
	/* the relay sockets, IPv4 first, as the worker takes them */
	if (rfd[0] != -1)
		fds[n++] = rfd[0];
	if (rfd[1] != -1)
		fds[n++] = rfd[1];
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_conf(&b, &mc) == -1 || n == 0 ||
	    msg_send_rec_fds(fd, rec, b.len, fds, n) == -1)
		return -1;
	return 0;
}

/*
 * Room for bursts on the socketpair: a unix socket's sender is limited by
 * its SO_SNDBUF (charged until the receiver reads). FORCE works with
 * CAP_NET_ADMIN; otherwise the plain call, capped by net.core.*mem_max.
 */
static void
wk_sockbuf(int fd)
{
	int	v = WK_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

/* a worker's socketpair, buffers sized: sp[0] ours, sp[1] the worker's */
int
sup_spawn_pair(int sp[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sp) == -1)
		return -1;
	wk_sockbuf(sp[0]);
	wk_sockbuf(sp[1]);
	return 0;
}

/*
 * Fork and exec the worker of one allocation from the supervisor itself
 * (no spawner): its MSG_CONF queued before the fork, so the worker never
 * waits for a supervisor that is still forking. 0 with its pid and our
 * end of the socketpair, or -1 (logged).
 */
int
sup_spawn(struct sup *s, uint32_t alloc_id, uint16_t port, uint8_t families,
    const int rfd[2], pid_t *pid, int *fd)
{
	int	sp[2];

	if (sup_spawn_pair(sp) == -1) {
		log_warn("Cannot create a socketpair id=%u", alloc_id);
		return -1;
	}
	if (sup_spawn_conf(s, sp[0], alloc_id, port, families, rfd,
	    s->pid) == -1) {
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
		sup_spawn_child(s->conf, s->devnull, s->pid, sp[1]);
	close(sp[1]);
	*fd = sp[0];
	return 0;
}
