/*
 * sup_spawn.c: start one worker process.
 *
 * socketpair(AF_UNIX, SOCK_SEQPACKET), fork, then in the child the worker
 * end goes to fd 3, everything above is closed, privileges are dropped
 * when root, and the worker binary is exec'd with an EMPTY environment
 * and only its argv: a fresh address space that never held the secret or
 * the portal token (ntpd's start_child).
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
#include "sup.h"

#define WK_FD			3	/* the socketpair in the worker */
#define WK_SOCKBUF		(1 << 20)	/* socketpair buffers */
#define WK_ARGV_MAX		(24 + 2 * PEER_MAX_ALLOW + 2 * PEER_MAX_SELF)

/* argv shared by every worker after the per-allocation part */
static char			*wk_tail[WK_ARGV_MAX];
static size_t			 wk_ntail;
static char			 wk_self[PEER_MAX_SELF][ADDR_STRLEN];
static char			 wk_bind4[ADDR_STRLEN], wk_bind6[ADDR_STRLEN];
static char			 wk_ppid[24];
static char			 wk_level[16];

void
sup_spawn_init(struct sup *s)
{
	const struct sup_conf	*c = s->conf;
	size_t			 i, n = 0;

	if (c->public4.family != 0) {
		addr_fmt_ip(&c->bind4, wk_bind4, sizeof(wk_bind4));
		wk_tail[n++] = "--bind4";
		wk_tail[n++] = wk_bind4;
	}
	if (c->public6.family != 0) {
		addr_fmt_ip(&c->bind6, wk_bind6, sizeof(wk_bind6));
		wk_tail[n++] = "--bind6";
		wk_tail[n++] = wk_bind6;
	}
	for (i = 0; i < c->filter.n_allow; i++) {
		wk_tail[n++] = "--allow-peer";
		wk_tail[n++] = (char *)c->allow[i];
	}
	for (i = 0; i < c->filter.n_self; i++) {
		addr_fmt(&c->filter.self[i], wk_self[i], sizeof(wk_self[i]));
		wk_tail[n++] = "--self";
		wk_tail[n++] = wk_self[i];
	}
	snprintf(wk_level, sizeof(wk_level), "%d", c->log_level); /* LOG_* */
	wk_tail[n++] = "--log-level";
	wk_tail[n++] = wk_level;
	snprintf(wk_ppid, sizeof(wk_ppid), "%ld", (long)s->pid);
	wk_tail[n++] = "--ppid";
	wk_tail[n++] = wk_ppid;
	wk_tail[n] = NULL;
	wk_ntail = n;
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

static void
wk_argv(char **argv, char *id, size_t idcap, char *port, size_t pcap,
    char *fam, size_t fcap, uint32_t alloc_id, uint16_t lport,
    uint8_t families)
{
	size_t	n = 0, i;

	snprintf(id, idcap, "%u", alloc_id);
	snprintf(port, pcap, "%u", lport);
	snprintf(fam, fcap, "%u", families);	/* ADDR_FAM_* mask */
	argv[n++] = "turncell-worker";
	argv[n++] = "--alloc-id";
	argv[n++] = id;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--families";
	argv[n++] = fam;
	for (i = 0; i < wk_ntail; i++)
		argv[n++] = wk_tail[i];
	argv[n] = NULL;
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
	char	*argv[WK_ARGV_MAX + 8];
	char	 id[16], ports[8], fam[8];
	int	 sp[2];

	wk_argv(argv, id, sizeof(id), ports, sizeof(ports), fam, sizeof(fam),
	    alloc_id, port, families);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sp) == -1) {
		log_warn("socketpair for allocation %u", alloc_id);
		return -1;
	}
	wk_sockbufs(sp[0]);
	wk_sockbufs(sp[1]);
	if ((*pid = fork()) == -1) {
		log_warn("fork for allocation %u", alloc_id);
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (*pid == 0)
		wk_child(s, sp[1], argv);
	close(sp[1]);
	*fd = sp[0];
	return 0;
}
