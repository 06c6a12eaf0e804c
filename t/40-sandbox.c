/*
 * 40-sandbox.c: the worker's seccomp sandbox (worker/wrk_sandbox.c).
 *
 * One forked child per forbidden system call: it applies the real filter
 * and then makes the call; the parent expects death by SIGSYS
 * (attack case 47). One child that stays alive under the filter so the
 * parent can read /proc/<pid>/status (attack case 46). And a happy path:
 * the real worker loop (wrk_loop.c) under the real filter, with a
 * SEQPACKET pair and UDP sockets on 127.0.0.1, relaying both ways,
 * logging, reporting stats, refusing a denied peer at send time
 * (attack case 11) and exiting 0 on EOF; then 4 on a malformed message.
 * This is the test that catches libc or libev drifting (attack case 48).
 * The children start as the worker does: MSG_CONF is the first record
 * on the socketpair, read and checked before the bind and the filter; a
 * bad one, another type first, or end of file stops the worker before
 * it binds; PERM_ADD and SEND are refused unless MSG_CONF enabled them.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg_io.h"
#include "tap.h"
#include "wrk.h"

#define SURVIVED	0x55	/* child exit status: the call returned */
#define NO_SECCOMP	0x4d

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* waitpid with a deadline; on timeout the child is killed (by pid) */
static int
wait_child(pid_t pid, int ms, int *status)
{
	uint64_t	end = now_ms() + (uint64_t)ms;
	pid_t		r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ms() >= end)
			break;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -1;
}

static int
child_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static const char *
describe(int st)
{
	static char	buf[64];

	if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "signal %d", WTERMSIG(st));
	else if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(st));
	else
		snprintf(buf, sizeof(buf), "status %#x", st);
	return buf;
}

/* ------------------------------------------------------------------ */
/* forbidden calls */

static char	exec_page[8192] __attribute__((aligned(4096)));

static void bad_openat(void) { (void)open("/etc/hostname", O_RDONLY); }
static void bad_openat_raw(void) {
	(void)syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY); }
static void bad_socket(void) { (void)socket(AF_INET, SOCK_DGRAM, 0); }
static void bad_socket_unix(void) { (void)socket(AF_UNIX, SOCK_STREAM, 0); }
static void bad_socketpair(void) {
	int sv[2]; (void)socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv); }
static void bad_execve(void) {
	char *argv[] = { "/bin/true", NULL }; (void)execve(argv[0], argv, NULL); }
static void bad_fork(void) {
	if (fork() == 0) _exit(SURVIVED); }
static void bad_fork_raw(void) {
#ifdef SYS_fork
	if (syscall(SYS_fork) == 0) _exit(SURVIVED);
#else
	if (syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) == 0) _exit(SURVIVED);
#endif
}
static void bad_clone3(void) {
#ifdef SYS_clone3
	(void)syscall(SYS_clone3, NULL, 0);
#else
	raise(SIGSYS);
#endif
}
static void bad_ptrace(void) { (void)ptrace(PTRACE_TRACEME, 0, NULL, NULL); }
static void bad_mprotect_exec(void) {
	(void)mprotect(exec_page, 4096, PROT_READ | PROT_EXEC); }
static void bad_mmap_exec(void) {
	(void)mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }
static void bad_mprotect_hi(void) {	/* a bit in the high word of prot */
	(void)syscall(SYS_mprotect, exec_page, 4096UL,
	    (unsigned long)PROT_READ | (1UL << 40)); }
static void bad_connect(void) {
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)connect(0, (struct sockaddr *)&sin, sizeof(sin)); }
static void bad_setsockopt(void) {
	int on = 1; (void)setsockopt(0, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)); }
static void bad_kill(void) { (void)kill(1, 0); }
static void bad_prctl(void) { (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); }
static void bad_madvise(void) {	/* not one of the two advices allowed */
	(void)madvise(exec_page, 4096, MADV_WILLNEED); }
#if defined(__x86_64__)
static void bad_x32(void) { (void)syscall(__X32_SYSCALL_BIT | 39); }
static void bad_int80(void) {
	long ret = 20;	/* i386 getpid */
	__asm__ volatile ("int $0x80" : "+a"(ret) : : "memory"); }
#endif

static const struct bad_case {
	const char	*name;
	void		(*fn)(void);
} bad_cases[] = {
	{ "open(2) -> openat", bad_openat },
	{ "openat raw", bad_openat_raw },
	{ "socket(AF_INET)", bad_socket },
	{ "socket(AF_UNIX)", bad_socket_unix },
	{ "socketpair", bad_socketpair },
	{ "execve", bad_execve },
	{ "fork(3)", bad_fork },
	{ "fork/clone raw", bad_fork_raw },
	{ "clone3", bad_clone3 },
	{ "ptrace(TRACEME)", bad_ptrace },
	{ "mprotect PROT_EXEC", bad_mprotect_exec },
	{ "mmap PROT_EXEC", bad_mmap_exec },
	{ "mprotect high prot bits", bad_mprotect_hi },
	{ "connect", bad_connect },
	{ "setsockopt(SO_BROADCAST)", bad_setsockopt },
	{ "kill", bad_kill },
	{ "prctl", bad_prctl },
	{ "madvise(WILLNEED)", bad_madvise },
#if defined(__x86_64__)
	{ "x32 syscall", bad_x32 },
#endif
};

/* fork, optionally sandbox, run fn, exit SURVIVED if it returns */
static int
run_child(void (*fn)(void), int sandbox)
{
	pid_t	pid;
	int	st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (sandbox && sbx_apply(wrk_fd_top()) == -1)
			_exit(errno == EINVAL ? NO_SECCOMP : 1);
		fn();
		_exit(SURVIVED);
	}
	if (wait_child(pid, 5000, &st) == -1)
		return -1;
	return st;
}

static void nothing(void) { }

static void
allowed_calls(void)
{
	struct timespec	 ts;
	void		*p, *q;
	char		*big;

	/* what glibc and libev do under the filter */
	(void)getpid();
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
	if ((big = malloc(8 << 20)) == NULL)	/* mmap'd */
		_exit(2);
	memset(big, 1, 8 << 20);
	if ((big = realloc(big, 16 << 20)) == NULL)	/* mremap */
		_exit(3);
	free(big);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, 4096, PROT_READ) == -1 ||
	    madvise(p, 8192, MADV_DONTNEED) == -1 || munmap(p, 8192) == -1)
		_exit(4);
	q = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		_exit(5);
	(void)close(1000);	/* EBADF, but allowed */
}

static void
test_forbidden(void)
{
	size_t	i;
	int	st;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		st = run_child(bad_cases[i].fn, 1);
		ok(st != -1 && child_sigsys(st), "%s: killed by SIGSYS (%s)",
		    bad_cases[i].name, st == -1 ? "timeout" : describe(st));
	}
#if defined(__x86_64__)
	/* i386 ABI: only meaningful if the kernel has ia32 emulation */
	st = run_child(bad_int80, 0);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == SURVIVED) {
		st = run_child(bad_int80, 1);
		ok(st != -1 && child_sigsys(st),
		    "int 0x80 (i386 ABI): killed by SIGSYS (%s)",
		    st == -1 ? "timeout" : describe(st));
	} else
		skip(1, "no ia32 emulation in this kernel");
#endif
	/* the controls: the same calls are fine without the filter */
	st = run_child(bad_openat, 0);
	ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == SURVIVED,
	    "control: openat survives without the sandbox");
	st = run_child(nothing, 1);
	ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == SURVIVED,
	    "control: sandboxed child that does nothing exits normally");
	st = run_child(allowed_calls, 1);
	ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == SURVIVED,
	    "malloc/realloc/mmap RW/mprotect/madvise/clock under the filter "
	    "(%s)", st == -1 ? "timeout" : describe(st));
}

/* ------------------------------------------------------------------ */
/* /proc/<pid>/status of a sandboxed child that waits */

static int
status_has(const char *status, const char *line)
{
	return strstr(status, line) != NULL;
}

static void
test_proc_status(void)
{
	int		 up[2], down[2], st, n;
	pid_t		 pid;
	char		 path[64], status[4096], c;
	struct rlimit	 rl;
	FILE		*f;
	size_t		 len;

	if (pipe(up) == -1 || pipe(down) == -1) {
		ok(0, "pipes");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(up[0]);
		close(down[1]);
		if (sbx_apply(wrk_fd_top()) == -1)
			_exit(1);
		c = 'r';
		if (write(up[1], &c, 1) != 1)	/* read and write are allowed */
			_exit(2);
		n = (int)read(down[0], &c, 1);
		_exit(n == 1 && c == 'q' ? 0 : 3);
	}
	close(up[1]);
	close(down[0]);
	n = -1;
	{
		struct pollfd pfd = { up[0], POLLIN, 0 };
		if (poll(&pfd, 1, 5000) == 1)
			n = (int)read(up[0], &c, 1);
	}
	ok(n == 1 && c == 'r', "sandboxed child is up and waiting");
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	len = 0;
	if ((f = fopen(path, "r")) != NULL) {
		len = fread(status, 1, sizeof(status) - 1, f);
		fclose(f);
	}
	status[len] = '\0';
	ok(status_has(status, "\nSeccomp:\t2\n"), "/proc status: Seccomp 2");
	ok(status_has(status, "\nNoNewPrivs:\t1\n"), "/proc status: NoNewPrivs 1");
	ok(status_has(status, "\nSeccomp_filters:\t1\n") ||
	    status_has(status, "\nSeccomp_filters:\t2\n"),
	    "/proc status: one filter of ours");
	ok(prlimit(pid, RLIMIT_NPROC, NULL, &rl) == 0 && rl.rlim_cur == 0 &&
	    rl.rlim_max == 0, "RLIMIT_NPROC 0");
	ok(prlimit(pid, RLIMIT_FSIZE, NULL, &rl) == 0 && rl.rlim_cur == 0,
	    "RLIMIT_FSIZE 0");
	memset(&rl, 0xff, sizeof(rl));
	n = prlimit(pid, RLIMIT_NOFILE, NULL, &rl);
	ok(n == 0 && rl.rlim_cur == rl.rlim_max && rl.rlim_cur > 0 &&
	    rl.rlim_cur <= (rlim_t)wrk_fd_top() + 8,
	    "RLIMIT_NOFILE tight (%llu)", (unsigned long long)rl.rlim_cur);
	c = 'q';
	(void)!write(down[1], &c, 1);
	n = wait_child(pid, 5000, &st);
	ok(n == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child exits 0 after the check (%s)", describe(st));
	close(up[0]);
	close(down[1]);
}

/* ------------------------------------------------------------------ */
/* the real worker loop under the filter */

struct sup {
	int		 fd;
	uint8_t		 buf[MSG_RECV_BUFLEN];
	uint32_t	 once;
	int		 state;
	/* what arrived */
	int		 logs;
	int		 log_bound;
	int		 log_conf;	/* "Configuration refused reason=..." */
	int		 log_indic;	/* "Message needs --indications ..." */
	int		 data_frames;
	int		 got_world;
	int		 got_big;
	int		 stats;
	uint64_t	 rx_pkts, tx_pkts, tx_bytes, denied;
	int		 bad;
};

/* receive and digest one record; 1 got one, 0 timeout/EOF */
static int
sup_pump(struct sup *s, int ms)
{
	struct pollfd		 pfd = { s->fd, POLLIN, 0 };
	struct msg		 m;
	struct msg_log		 lg;
	struct msg_stats	 st;
	struct buf_r		 r;
	const uint8_t		*p;
	uint16_t		 chan;
	size_t			 len;
	ssize_t			 n;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	if ((n = msg_recv_rec(s->fd, s->buf, sizeof(s->buf))) <= 0)
		return 0;
	if (msg_check(s->buf, (size_t)n, MSG_W2S, s->state, &s->once,
	    &m) == -1) {
		s->bad++;
		return 1;
	}
	switch (m.type) {
	case MSG_LOG:
		if (msg_get_log(&m, &lg) == -1) {
			s->bad++;
			break;
		}
		s->logs++;
		if (lg.len >= 28 && memcmp(lg.text,
		    "Channel bound channel=0x4000", 28) == 0)
			s->log_bound++;
		if (lg.len >= 29 &&
		    memcmp(lg.text, "Configuration refused reason=", 29) == 0)
			s->log_conf++;
		if (lg.len >= 33 && memcmp(lg.text,
		    "Message needs --indications type=", 33) == 0)
			s->log_indic++;
		break;
	case MSG_STATS:
		if (msg_get_stats(&m, &st) == -1) {
			s->bad++;
			break;
		}
		s->stats++;
		s->rx_pkts += st.rx_pkts;
		s->tx_pkts += st.tx_pkts;
		s->tx_bytes += st.tx_bytes;
		s->denied += st.denied;
		break;
	case MSG_DATA:
		buf_r_init(&r, m.payload, m.len);
		while (msg_data_next(&r, &chan, &p, &len) == 1) {
			s->data_frames++;
			if (chan == 0x4000 && len == 5 && memcmp(p, "world", 5) == 0)
				s->got_world++;
			else if (chan == 0x4000 && len == 60000)
				s->got_big++;
			else
				s->bad++;
		}
		break;
	default:
		s->bad++;
	}
	return 1;
}

static int
udp_socket(struct sockaddr_in *sin)
{
	socklen_t	sl = sizeof(*sin);
	int		fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)sin, &sl) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
taddr_of(const struct sockaddr_in *sin, struct taddr *t)
{
	addr_from_sockaddr((const struct sockaddr *)sin, sizeof(*sin), t);
}

/* /proc/<pid>/fd: exactly the socketpair at 3, one socket, one epoll,
 * one timerfd (the MSG_STATS period) */
static int
fd_list_ok(pid_t pid)
{
	char		 path[64], link[128], name[384];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0, sock = 0, epoll = 0, ctl = 0, tfd = 0;
	ssize_t		 l;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < 64) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(name, sizeof(name), "%s/%s", path, de->d_name);
		if ((l = readlink(name, link, sizeof(link) - 1)) < 0)
			continue;
		link[l] = '\0';
		if (strcmp(de->d_name, "3") == 0 &&
		    strncmp(link, "socket:", 7) == 0)
			ctl++;
		else if (strncmp(link, "socket:", 7) == 0)
			sock++;
		else if (strstr(link, "eventpoll") != NULL)
			epoll++;
		else if (strstr(link, "[timerfd]") != NULL)
			tfd++;
		else
			diag("unexpected fd %s -> %s", de->d_name, link);
	}
	closedir(d);
	return n == 4 && ctl == 1 && sock == 1 && epoll == 1 && tfd == 1;
}

/* the child: what worker/main.c does after checking fd 3 */
static void __attribute__((noreturn))
worker_child(int ctl)
{
	static struct wrk	w;
	static struct msg_conf	conf;
	const char		*why = "";
	int			 fds[MSG_FDS_MAX];
	unsigned		 nfds = 0;

	if (dup2(ctl, WRK_CTL_FD) == -1)
		_exit(90);
	if (ctl != WRK_CTL_FD)
		close(ctl);
	wrk_log_init(WRK_CTL_FD, LOG_INFO, 0);
	switch (wrk_conf_read(WRK_CTL_FD, &conf, fds, &nfds, &why)) {
	case 0:
		_exit(WRK_EXIT_PARENT);
	case -1:
		wrk_fatalx(WRK_EXIT_USAGE, "Configuration refused "
		    "reason=\"%s\"", why);
	}
	wrk_log_init(WRK_CTL_FD, conf.log_level, 0);
	wrk_init(&w, &conf);
	if ((w.relay = relay_new(&w.conf.filter)) == NULL)
		_exit(91);
	if (wrk_take_socks(&w, fds, nfds) == -1)
		wrk_fatalx(WRK_EXIT_USAGE, "Configuration refused reason=\"the "
		    "relay sockets are not the ones it asks for\"");
	if (wrk_close_fds(&w) == -1)
		_exit(92);
	if (wrk_loop_init(&w) == -1)
		_exit(93);
	if (sbx_apply(wrk_fd_top()) == -1)
		_exit(94);
	if (wrk_send_ready(&w) == -1)
		_exit(95);
	_exit(wrk_run(&w));
}

/* the port every worker here relays on (127.0.0.1), free at start */
static uint16_t	relay_port;

/* a UDP socket on 127.0.0.1:port, as the supervisor binds them (-1 on
 * failure; port 0: the kernel's choice, written back) */
static int
relay_socket(uint16_t *port)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	int			fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(*port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* fork a worker with these records queued first, as the supervisor
 * does (nrec 0 and no fd kept: it sees end of file); a MSG_CONF goes
 * with a relay socket on relay_port, as from the supervisor */
static pid_t
start_worker_recs(int *sup_fd, const uint8_t *first, size_t n)
{
	int		sp[2], rfd = -1;
	uint16_t	port = relay_port;
	pid_t		pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	if (n > MSG_HDR_LEN && first[0] == 0 && first[1] == MSG_CONF &&
	    (rfd = relay_socket(&port)) == -1)
		diag("cannot bind 127.0.0.1:%u", relay_port);
	if (n > 0 && (rfd == -1 ? msg_send_rec(sp[0], first, n) :
	    msg_send_rec_fds(sp[0], first, n, &rfd, 1)) == -1) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (rfd != -1)
		close(rfd);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		worker_child(sp[1]);
	}
	close(sp[1]);
	*sup_fd = sp[0];
	return pid;
}

static size_t
conf_rec(uint8_t *rec, size_t cap, const struct msg_conf *conf)
{
	struct buf_w	b;

	buf_w_init(&b, rec, cap);
	return msg_put_conf(&b, conf) == -1 ? 0 : b.len;
}

/* a worker on 127.0.0.1 that may send to loopback, logging everything */
static void
loopback_conf(struct msg_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->alloc_id = 1;
	conf->port = relay_port;
	conf->families = ADDR_FAM_V4;
	addr_parse_ip("127.0.0.1", &conf->bind4);
	peer_cidr_parse("127.0.0.0/8", &conf->filter.allow[0]);
	conf->filter.n_allow = 1;
	conf->log_level = LOG_DEBUG;
}

static pid_t
start_worker(int *sup_fd, const struct msg_conf *conf)
{
	uint8_t	rec[MSG_HDR_LEN + MSG_CONF_LEN];
	size_t	n = conf_rec(rec, sizeof(rec), conf);

	return n == 0 ? -1 : start_worker_recs(sup_fd, rec, n);
}

static int
send_chan_add(int fd, uint16_t chan, const struct taddr *peer)
{
	uint8_t			rec[64];
	struct buf_w		b;
	struct msg_chan_add	ca;

	ca.chan = chan;
	ca.peer = *peer;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_chan_add(&b, &ca) == -1)
		return -1;
	return msg_send_rec(fd, rec, b.len);
}

static int
udp_recv(int fd, char *buf, size_t cap, int ms, struct sockaddr_in *from)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	socklen_t	sl = sizeof(*from);

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	return (int)recvfrom(fd, buf, cap, MSG_DONTWAIT,
	    (struct sockaddr *)from, &sl);
}

static void
test_worker_loop(void)
{
	static uint8_t		 rec[MSG_MAX_RECORD];
	static char		 big[60000];
	static struct sup	 s;
	struct msg_conf		 conf;
	struct sockaddr_in	 peer_sin, canary_sin, stranger_sin, wsin, from;
	struct taddr		 peer, canary;
	struct msg		 m;
	struct msg_ready	 rd;
	struct buf_w		 b;
	char			 buf[256];
	int			 peer_fd, canary_fd, stranger_fd, st, n, got;
	pid_t			 pid;
	uint64_t		 end;

	peer_fd = udp_socket(&peer_sin);
	canary_fd = udp_socket(&canary_sin);
	stranger_fd = udp_socket(&stranger_sin);
	if (peer_fd == -1 || canary_fd == -1 || stranger_fd == -1) {
		ok(0, "loopback UDP sockets");
		return;
	}
	taddr_of(&peer_sin, &peer);
	taddr_of(&canary_sin, &canary);

	/* loopback allowed (as in the tests), but the canary is "self" */
	loopback_conf(&conf);
	conf.filter.self[0] = canary;
	conf.filter.n_self = 1;
	conf.stats_ms = 200;

	memset(&s, 0, sizeof(s));
	s.state = MSG_ST_STARTING;
	if ((pid = start_worker(&s.fd, &conf)) == -1) {
		ok(0, "fork worker");
		return;
	}

	/* READY */
	n = -1;
	{
		struct pollfd pfd = { s.fd, POLLIN, 0 };
		if (poll(&pfd, 1, 5000) == 1)
			n = (int)msg_recv_rec(s.fd, s.buf, sizeof(s.buf));
	}
	ok(n > 0 && msg_check(s.buf, (size_t)n, MSG_W2S, MSG_ST_STARTING,
	    &s.once, &m) == 0 && m.type == MSG_READY &&
	    msg_get_ready(&m, &rd) == 0 && rd.families == ADDR_FAM_V4,
	    "worker says READY under the filter");
	s.state = MSG_ST_READY;
	ok(fd_list_ok(pid), "worker holds only fd 3, its UDP socket, the "
	    "epoll fd and its timerfd");
	memset(&wsin, 0, sizeof(wsin));
	wsin.sin_family = AF_INET;
	wsin.sin_port = htons(n > 0 ? rd.port : 9);
	wsin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* channels: one to the peer, one to the (denied) canary */
	ok(send_chan_add(s.fd, 0x4000, &peer) == 0 &&
	    send_chan_add(s.fd, 0x4001, &canary) == 0, "CHAN_ADD x2 sent");

	/* client -> peer: one batch, three frames */
	buf_w_init(&b, rec, sizeof(rec));
	msg_data_begin(&b);
	msg_data_add(&b, 0x4000, (const uint8_t *)"hello", 5);
	msg_data_add(&b, 0x4001, (const uint8_t *)"canary", 6);
	msg_data_add(&b, 0x4000, (const uint8_t *)"again", 5);
	ok(msg_send_rec(s.fd, rec, msg_data_end(&b)) == 0, "DATA batch sent");
	n = udp_recv(peer_fd, buf, sizeof(buf), 3000, &from);
	ok(n == 5 && memcmp(buf, "hello", 5) == 0 &&
	    from.sin_port == wsin.sin_port,
	    "peer got frame 1 from the relay port");
	n = udp_recv(peer_fd, buf, sizeof(buf), 3000, &from);
	ok(n == 5 && memcmp(buf, "again", 5) == 0, "peer got frame 3");

	/* peer -> client, and a stranger without a channel first */
	(void)sendto(stranger_fd, "nobody", 6, 0, (struct sockaddr *)&wsin,
	    sizeof(wsin));
	(void)sendto(peer_fd, "world", 5, 0, (struct sockaddr *)&wsin,
	    sizeof(wsin));
	(void)sendto(peer_fd, big, sizeof(big), 0, (struct sockaddr *)&wsin,
	    sizeof(wsin));

	/* collect until stats show everything, bounded by 5 s */
	end = now_ms() + 5000;
	while (now_ms() < end && !(s.got_world && s.got_big && s.log_bound &&
	    s.tx_pkts >= 2 && s.rx_pkts >= 2 && s.denied >= 1))
		(void)sup_pump(&s, 100);
	ok(s.got_world == 1, "MSG_DATA from the peer, framed on 0x4000");
	ok(s.got_big == 1, "60000-byte datagram relayed whole");
	ok(s.log_bound >= 1, "MSG_LOG at debug: channel bound (%d logs)",
	    s.logs);
	ok(s.stats >= 1 && s.tx_pkts == 2 && s.tx_bytes == 10,
	    "MSG_STATS: 2 packets, 10 bytes to peers");
	ok(s.rx_pkts == 2, "MSG_STATS: 2 packets from peers (stranger not)");
	ok(s.denied == 1, "MSG_STATS: the denied peer counted (attack case 11)");
	ok(udp_recv(canary_fd, buf, sizeof(buf), 50, &from) == -1,
	    "canary received nothing");
	is_int(s.bad, 0, "every record from the worker was valid");
	is_int(s.data_frames, 2, "no frame for the stranger");

	/* CHAN_DEL, then data on it goes nowhere */
	{
		struct msg_chan_del cd = { 0x4000 };
		buf_w_init(&b, rec, sizeof(rec));
		msg_put_chan_del(&b, &cd);
		msg_send_rec(s.fd, rec, b.len);
	}
	buf_w_init(&b, rec, sizeof(rec));
	msg_data_begin(&b);
	msg_data_add(&b, 0x4000, (const uint8_t *)"gone", 4);
	msg_send_rec(s.fd, rec, msg_data_end(&b));
	ok(udp_recv(peer_fd, buf, sizeof(buf), 300, &from) == -1,
	    "after CHAN_DEL nothing reaches the peer");

	/* EOF -> exit 0, never SIGSYS */
	close(s.fd);
	got = wait_child(pid, 5000, &st);
	ok(got == 0 && WIFEXITED(st) && WEXITSTATUS(st) == WRK_EXIT_OK,
	    "worker exits 0 on EOF (%s)", describe(st));

	/* a malformed message is fatal: exit 4 after a MSG_LOG */
	memset(&s, 0, sizeof(s));
	s.state = MSG_ST_STARTING;
	if ((pid = start_worker(&s.fd, &conf)) == -1) {
		ok(0, "fork worker 2");
		goto out;
	}
	(void)sup_pump(&s, 5000);	/* READY */
	s.state = MSG_ST_READY;
	memcpy(rec, "\x00\x04\x00\x00\x00\x00\x00\x04\x40\x00\x00\x01", 12);
	msg_send_rec(s.fd, rec, 12);	/* CHAN_DEL, reserved field set */
	got = wait_child(pid, 5000, &st);
	ok(got == 0 && WIFEXITED(st) && WEXITSTATUS(st) == WRK_EXIT_PROTO,
	    "malformed CHAN_DEL: worker exits 4 (%s)", describe(st));
	n = 0;
	while (sup_pump(&s, 100) == 1 && n < 100)
		n++;
	ok(s.logs >= 1, "it said why in a MSG_LOG first");
	close(s.fd);
out:
	close(peer_fd);
	close(canary_fd);
	close(stranger_fd);
}

/* ------------------------------------------------------------------ */
/* MSG_CONF: the first record decides, before any bind */

/*
 * Start a worker with first (n bytes, none if 0) queued; when after is
 * set, wait for READY and send it. Expect exit status want; s collects
 * what the worker said (MSG_LOG lines).
 */
static void
conf_case(struct sup *s, const char *name, const uint8_t *first, size_t n,
    const uint8_t *after, size_t an, int want)
{
	pid_t	pid;
	int	st, got, i;

	memset(s, 0, sizeof(*s));
	s->state = MSG_ST_STARTING;
	if ((pid = start_worker_recs(&s->fd, first, n)) == -1) {
		ok(0, "%s: fork worker", name);
		return;
	}
	if (n == 0) {
		close(s->fd);	/* the supervisor is gone */
		s->fd = -1;
	}
	if (after != NULL) {
		(void)sup_pump(s, 5000);	/* READY */
		s->state = MSG_ST_READY;
		(void)msg_send_rec(s->fd, after, an);
	}
	if (want == WRK_EXIT_OK && s->fd != -1) {
		/* what it says to after, then end of file */
		for (i = 0; i < 100 && sup_pump(s, 200) == 1; i++)
			;
		close(s->fd);
		s->fd = -1;
	}
	got = wait_child(pid, 5000, &st);
	ok(got == 0 && WIFEXITED(st) && WEXITSTATUS(st) == want,
	    "%s: worker exits %d (%s)", name, want, describe(st));
	for (i = 0; s->fd != -1 && i < 100 && sup_pump(s, 100) == 1; i++)
		;
	if (s->fd != -1)
		close(s->fd);
}

static void
test_conf(void)
{
	static uint8_t		rec[MSG_HDR_LEN + MSG_CONF_LEN + 8];
	static uint8_t		rec2[MSG_HDR_LEN + MSG_CONF_LEN];
	static struct sup	s;
	struct msg_conf		conf;
	struct msg_chan_add	ca;
	struct msg_perm		pm;
	struct msg_pkt		pk;
	struct buf_w		b;
	uint8_t			perm[64], send[64];
	size_t			n, pn, sn;

	loopback_conf(&conf);
	n = conf_rec(rec, sizeof(rec), &conf);
	ok(n == MSG_HDR_LEN + MSG_CONF_LEN, "MSG_CONF encoded (%zu bytes)", n);

	/* a field out of bounds: families 0 (payload offset 10) */
	rec[MSG_HDR_LEN + 10] = 0;
	conf_case(&s, "families 0", rec, n, NULL, 0, WRK_EXIT_USAGE);
	ok(s.log_conf == 1, "families 0: it said why in a MSG_LOG");
	rec[MSG_HDR_LEN + 10] = ADDR_FAM_V4;
	/* more allow ranges than there are slots (offset 13) */
	rec[MSG_HDR_LEN + 13] = PEER_MAX_ALLOW + 1;
	conf_case(&s, "n_allow 33", rec, n, NULL, 0, WRK_EXIT_USAGE);
	ok(s.log_conf == 1, "n_allow 33: it said why");
	rec[MSG_HDR_LEN + 13] = 1;
	/* one byte more than the header says */
	rec[n] = 0;
	conf_case(&s, "trailing byte", rec, n + 1, NULL, 0, WRK_EXIT_USAGE);
	/* another type first */
	memset(&ca, 0, sizeof(ca));
	ca.chan = 0x4000;
	addr_parse_hostport("127.0.0.1:9", &ca.peer);
	buf_w_init(&b, rec2, sizeof(rec2));
	(void)msg_put_chan_add(&b, &ca);
	conf_case(&s, "CHAN_ADD first", rec2, b.len, NULL, 0, WRK_EXIT_USAGE);
	ok(s.log_conf == 1, "CHAN_ADD first: it said why");
	/* nothing, and the supervisor gone */
	conf_case(&s, "end of file first", NULL, 0, NULL, 0, WRK_EXIT_PARENT);

	/* a second MSG_CONF after READY is a protocol error */
	conf_case(&s, "second MSG_CONF", rec, n, rec, n, WRK_EXIT_PROTO);

	/* the RFC 8656 path only when configured */
	memset(&pm, 0, sizeof(pm));
	addr_parse_ip("127.0.0.1", &pm.ip);
	buf_w_init(&b, perm, sizeof(perm));
	(void)msg_put_perm_add(&b, &pm);
	pn = b.len;
	memset(&pk, 0, sizeof(pk));
	addr_parse_hostport("127.0.0.1:9", &pk.peer);
	pk.data = (const uint8_t *)"x";
	pk.len = 1;
	buf_w_init(&b, send, sizeof(send));
	(void)msg_put_send(&b, &pk);
	sn = b.len;
	conf_case(&s, "PERM_ADD without indications", rec, n, perm, pn,
	    WRK_EXIT_PROTO);
	ok(s.log_indic == 1, "PERM_ADD without indications: logged");
	conf_case(&s, "SEND without indications", rec, n, send, sn,
	    WRK_EXIT_PROTO);
	ok(s.log_indic == 1, "SEND without indications: logged");
	conf.flags = MSG_CONF_F_INDICATIONS;
	n = conf_rec(rec, sizeof(rec), &conf);
	conf_case(&s, "PERM_ADD with indications, then EOF", rec, n, perm, pn,
	    WRK_EXIT_OK);
	ok(s.log_indic == 0 && s.log_conf == 0 && s.logs >= 1,
	    "PERM_ADD with indications: taken (%d log lines)", s.logs);

	/* the relay socket that comes with it (on 127.0.0.1:relay_port)
	 * is not the one MSG_CONF names: another port, another address */
	loopback_conf(&conf);
	conf.port = (uint16_t)(relay_port == 65535 ? 1 : relay_port + 1);
	n = conf_rec(rec, sizeof(rec), &conf);
	conf_case(&s, "relay socket on another port", rec, n, NULL, 0,
	    WRK_EXIT_USAGE);
	ok(s.log_conf == 1, "relay socket on another port: it said why");
	loopback_conf(&conf);
	addr_parse_ip("127.0.0.2", &conf.bind4);
	n = conf_rec(rec, sizeof(rec), &conf);
	conf_case(&s, "relay socket not on bind4", rec, n, NULL, 0,
	    WRK_EXIT_USAGE);
	ok(s.log_conf == 1, "relay socket not on bind4: it said why");
}

static void
probe_seccomp(void)
{
	int	st = run_child(nothing, 1);

	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == NO_SECCOMP)
		skip_all("no seccomp in this kernel");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	probe_seccomp();
	{
		int fd = relay_socket(&relay_port);

		if (!ok(fd != -1, "a free UDP port on 127.0.0.1"))
			return done_testing();
		close(fd);
	}
	test_forbidden();
	test_proc_status();
	test_worker_loop();
	test_conf();
	return done_testing();
}
