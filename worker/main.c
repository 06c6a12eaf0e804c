/*
 * main.c: turncell-worker, one per allocation.
 *
 *   turncell-worker		(no arguments)
 *
 * Started with fork+exec by the supervisor's worker spawner (or by the
 * supervisor, without one; the address space holds none of its
 * secrets), privileges already dropped, its end of the SOCK_SEQPACKET
 * socketpair at fd 3, on which its configuration comes as the first
 * record (MSG_CONF, msg_conf.h): at once, or when an allocation takes
 * this worker from the pool of idle workers. The order below is the point:
 * the configuration is read and checked, and everything that needs a
 * file, a new socket or a signal handler happens, before sbx_apply();
 * after it the worker can only relay.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg_io.h"
#include "wrk.h"

static void __attribute__((noreturn))
usage(const char *why)
{
	fprintf(stderr, "turncell-worker: %s\n", why);
	fprintf(stderr, "usage: turncell-worker\n"
	    "(started by turncell with its socketpair at fd 3, on which it "
	    "reads its configuration)\n");
	exit(WRK_EXIT_USAGE);
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
	static struct msg_conf conf;
	static struct wrk w;	/* large: not on the stack */
	const char	*why = NULL;
	int		 fds[MSG_FDS_MAX];
	unsigned	 nfds = 0;

	(void)argv;
	/* before anything is read: musl's start-up leaves them writable */
	if (wrk_relro() == -1)
		return WRK_EXIT_SANDBOX;
	if (argc > 1)
		usage("takes no arguments");
#ifdef __GLIBC__
	/*
	 * Blocks of 16 KiB and more (the channel table) from fresh mappings,
	 * and no heap grown ahead of need (glibc serves even a large block
	 * from a heap that has room; libc's start-up already grew it by
	 * 128 KiB, given back here): calloc() then clears nothing, and only
	 * the pages written count in the worker's memory, instead of the
	 * whole table cleared on the heap. With musl (the default build)
	 * there is nothing to set: its calloc() writes only a block's last
	 * partial page and reads the rest, clearing only what is not zero
	 * already, so pages never written stay unbacked.
	 */
	(void)mallopt(M_TOP_PAD, 0);
	(void)mallopt(M_MMAP_THRESHOLD, 16 * 1024);
	(void)malloc_trim(0);
#endif

	/* die with the process that started us (spawner or supervisor) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		return WRK_EXIT_PARENT;
	check_ctl(WRK_CTL_FD);
	wrk_log_init(WRK_CTL_FD, LOG_INFO, 1);
	(void)signal(SIGPIPE, SIG_IGN);	/* belt and braces: MSG_NOSIGNAL */
	switch (wrk_conf_read(WRK_CTL_FD, &conf, fds, &nfds, &why)) {
	case 0:
		return WRK_EXIT_PARENT;	/* the supervisor is gone */
	case -1:
		wrk_fatalx(WRK_EXIT_USAGE, "Configuration refused reason=\"%s\"", why);
	}
	/* do not start if that process died before PDEATHSIG was set */
	if (conf.ppid != 0 && getppid() != (pid_t)conf.ppid)
		return WRK_EXIT_PARENT;
	wrk_log_init(WRK_CTL_FD, conf.log_level, 1);

	wrk_init(&w, &conf);
	if ((w.relay = relay_new(&w.conf.filter)) == NULL)
		wrk_fatalx(WRK_EXIT_SANDBOX, "out of memory");
	if (wrk_take_socks(&w, fds, nfds) == -1)
		wrk_fatalx(WRK_EXIT_USAGE, "Configuration refused reason=\"the "
		    "relay sockets are not the ones it asks for\"");

	/* from here on: only the socketpair, the relay socket(s), epoll */
	if (wrk_close_fds(&w) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "cannot close inherited fds");
	wrk_log_stderr(0);
	if (wrk_loop_init(&w) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "cannot create the event loop");
	if (sbx_apply(wrk_fd_top_held(&w)) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "Cannot apply the sandbox "
		    "error=\"%s\"", strerror(errno));
	wrk_hostile_syscall();

	if (wrk_send_ready(&w) == -1)
		wrk_fatalx(WRK_EXIT_SANDBOX, "cannot send READY");
	wrk_hostile_after_ready(&w);
	wrk_log(LOG_DEBUG, "Relaying port=%u", w.conf.port);
	return wrk_run(&w);
}
