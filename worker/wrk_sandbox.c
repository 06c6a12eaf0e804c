/*
 * wrk_sandbox.c: the worker's seccomp sandbox and resource limits.
 *
 * Written like OpenSSH's sandbox-seccomp-filter.c: one static BPF table,
 * the architecture checked first, then one allowed system call per line
 * with the reason it is needed, and a default that kills the process.
 * Only what the worker does *after* sbx_apply() is allowed: its epoll
 * loop (already created, with its timerfd), the relay socket(s) and the
 * socketpair (already open), and malloc (musl's, or glibc's with
 * WRK_LIBC=glibc: the table is the same). Nothing can open, create or
 * connect a socket, exec, fork, ptrace or map executable memory.
 *
 * Build with -DWRK_SANDBOX_DEBUG to turn the default into SECCOMP_RET_TRAP
 * with a SIGSYS handler that reports "syscall N" to the supervisor as a
 * MSG_LOG and exits: the way to find what a new libc needs.
 *
 * Build with -DWRK_NO_SANDBOX (the ASan/UBSan test build of make
 * check-asan only) to skip the filter, the rlimits and PR_SET_DUMPABLE:
 * ASan maps terabytes of shadow memory and its reports need system calls
 * the filter forbids. The switch refuses to compile without ASan, so a
 * release build can never take it.
 *
 * The worker must not send to denied peers, but seccomp cannot read the
 * sockaddr behind sendto's pointer; that check is relay_to_peer()'s.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wrk.h"

#if defined(__x86_64__)
#define SBX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SBX_ARCH	AUDIT_ARCH_AARCH64
#else
#error "turncell-worker: no seccomp filter for this architecture"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SBX_ARG_LO(n)	(offsetof(struct seccomp_data, args[(n)]))
#define SBX_ARG_HI(n)	(offsetof(struct seccomp_data, args[(n)]) + 4)
#else
#define SBX_ARG_LO(n)	(offsetof(struct seccomp_data, args[(n)]) + 4)
#define SBX_ARG_HI(n)	(offsetof(struct seccomp_data, args[(n)]))
#endif

#if defined(WRK_NO_SANDBOX) && !defined(__SANITIZE_ADDRESS__)
#error "WRK_NO_SANDBOX is for the AddressSanitizer test build only"
#endif

#ifdef WRK_SANDBOX_DEBUG
#define SBX_FAIL	SECCOMP_RET_TRAP
#else
#define SBX_FAIL	SECCOMP_RET_KILL_PROCESS
#endif

#define SBX_NOFILE_MARGIN	2
/*
 * Memory and CPU: a worker needs a few MiB (its receive buffers are the
 * bulk); these bound what a flood or a bug can make it take. CPU time is
 * cumulative over the allocation's life, so its bound is a day of a full
 * core, far above any honest relay, below an endless spin.
 */
#define SBX_DATA_MAX		(64UL << 20)	/* RLIMIT_DATA */
#define SBX_AS_MAX		(256UL << 20)	/* RLIMIT_AS */
#define SBX_CPU_MAX		86400UL		/* s, RLIMIT_CPU */

#define SBX_LOAD_NR \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

/* allow nr */
#define SC_ALLOW(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* fail nr with an errno instead of killing (for harmless libc probes) */
#define SC_DENY(nr, err) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, \
	    SECCOMP_RET_ERRNO | ((err) & SECCOMP_RET_DATA))

/* allow nr if the low word of argument arg is val; else go on (nr is
 * loaded again for the rules that follow) */
#define SC_ALLOW_ARG(nr, arg, val) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 3), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SBX_ARG_LO(arg)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (val), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), \
	SBX_LOAD_NR

/* allow nr if argument arg (all 64 bits) has no bit outside mask, else
 * fail at once */
#define SC_ALLOW_MASK(nr, arg, mask) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 6), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SBX_ARG_LO(arg)), \
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ~(uint32_t)(mask), 2, 0), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SBX_ARG_HI(arg)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), \
	BPF_STMT(BPF_RET | BPF_K, SBX_FAIL), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static const struct sock_filter sbx_filter[] = {
	/* 1. the native ABI only: i386 (int 0x80) and x32 are killed */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SBX_ARCH, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	SBX_LOAD_NR,
#ifdef WRK_X32_BIT
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, WRK_X32_BIT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif

	/*
	 * 2. Non-fatal denies: none. Every probe we know of (locale, NSS,
	 * malloc tunables) happens before the sandbox point; anything
	 * else that touches the file system after it is a bug or an
	 * attack, and t/40-sandbox expects SIGSYS for openat.
	 */

	/* 3. allowed, one per line */
#ifdef __NR_epoll_wait
	SC_ALLOW(__NR_epoll_wait),	/* the loop (wrk_ev.c) */
#endif
#ifdef __NR_epoll_pwait
	SC_ALLOW(__NR_epoll_pwait),	/* epoll_wait in musl, glibc aarch64 */
#endif
#ifdef __NR_epoll_ctl
	SC_ALLOW(__NR_epoll_ctl),	/* pause/resume relay reads */
#endif
#ifdef __NR_read
	SC_ALLOW(__NR_read),		/* the MSG_STATS timerfd */
#endif
#ifdef __NR_write
	SC_ALLOW(__NR_write),		/* debug SIGSYS report */
#endif
#ifdef __NR_recvfrom
	SC_ALLOW(__NR_recvfrom),	/* recv(2) in libc */
#endif
#ifdef __NR_recvmsg
	SC_ALLOW(__NR_recvmsg),		/* socketpair: end-of-file peek */
#endif
#ifdef __NR_recvmmsg
	SC_ALLOW(__NR_recvmmsg),	/* relay socket, socketpair records */
#endif
#ifdef __NR_sendto
	SC_ALLOW(__NR_sendto),		/* socketpair records (send(2)) */
#endif
#ifdef __NR_sendmsg
	SC_ALLOW(__NR_sendmsg),		/* relay socket, single datagram */
#endif
#ifdef __NR_sendmmsg
	SC_ALLOW(__NR_sendmmsg),	/* relay socket, batched */
#endif
#ifdef __NR_clock_gettime
	SC_ALLOW(__NR_clock_gettime),	/* --max-bps, log rate (vDSO fallback) */
#endif
#ifdef __NR_gettimeofday
	SC_ALLOW(__NR_gettimeofday),	/* libc time (vDSO fallback) */
#endif
#ifdef __NR_brk
	SC_ALLOW(__NR_brk),		/* malloc */
#endif
#ifdef __NR_mmap
	/* malloc, but never PROT_EXEC */
	SC_ALLOW_MASK(__NR_mmap, 2, PROT_READ | PROT_WRITE),
#endif
#ifdef __NR_mprotect
	/* malloc (guard pages, glibc arenas), but never PROT_EXEC */
	SC_ALLOW_MASK(__NR_mprotect, 2, PROT_READ | PROT_WRITE),
#endif
#ifdef __NR_munmap
	SC_ALLOW(__NR_munmap),		/* malloc */
#endif
#ifdef __NR_mremap
	SC_ALLOW(__NR_mremap),		/* realloc of large blocks */
#endif
#ifdef __NR_madvise
	SC_ALLOW_ARG(__NR_madvise, 2, MADV_DONTNEED),	/* free, trim */
	SC_ALLOW_ARG(__NR_madvise, 2, MADV_FREE),	/* free */
#endif
#ifdef __NR_rt_sigprocmask
	SC_ALLOW(__NR_rt_sigprocmask),	/* abort */
#endif
#ifdef __NR_rt_sigreturn
	SC_ALLOW(__NR_rt_sigreturn),	/* return from any signal handler */
#endif
#ifdef __NR_close
	SC_ALLOW(__NR_close),		/* exit paths */
#endif
#ifdef __NR_getpid
	SC_ALLOW(__NR_getpid),		/* raise/abort */
#endif
#ifdef __NR_exit
	SC_ALLOW(__NR_exit),		/* thread exit */
#endif
#ifdef __NR_exit_group
	SC_ALLOW(__NR_exit_group),	/* exit(3), _exit(2) */
#endif

	/* 4. everything else */
	BPF_STMT(BPF_RET | BPF_K, SBX_FAIL),
};

#ifdef WRK_SANDBOX_DEBUG
/* async-signal-safe: a fixed record built by hand, one write, _exit */
static void
sbx_violation(int sig, siginfo_t *si, void *ctx)
{
	char		 text[32] = "syscall ";
	uint8_t		 rec[MSG_HDR_LEN + 1 + sizeof(text)];
	char		 digits[12];
	int		 nr = si->si_syscall, nd = 0;
	size_t		 len = 8, i;

	if (nr < 0)
		nr = -nr;
	do {
		digits[nd++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr > 0 && nd < (int)sizeof(digits));
	while (nd > 0 && len < sizeof(text))
		text[len++] = digits[--nd];
	rec[0] = 0;
	rec[1] = MSG_LOG;
	rec[2] = 0;
	rec[3] = 0;
	rec[4] = 0;
	rec[5] = 0;
	rec[6] = (uint8_t)((1 + len) >> 8);
	rec[7] = (uint8_t)(1 + len);
	rec[8] = LOG_ERR;
	for (i = 0; i < len; i++)
		rec[9 + i] = (uint8_t)text[i];
	(void)!write(WRK_CTL_FD, rec, 9 + len);
	_exit(WRK_EXIT_VIOLATION);
}

static int
sbx_debug_handler(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sbx_violation;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	return sigprocmask(SIG_UNBLOCK, &set, NULL);
}
#endif

static int
sbx_rlimit(int res, rlim_t v)
{
	struct rlimit	rl;

	if (getrlimit(res, &rl) == -1)
		return -1;
	if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max)
		v = rl.rlim_max;	/* may only go down */
	rl.rlim_cur = v;
	rl.rlim_max = v;
	return setrlimit(res, &rl);
}

/*
 * rlimits, then no_new_privs, then the filter (OpenSSH's
 * ssh_sandbox_child order). nfds is the highest open descriptor + 1;
 * the worker never opens another one, the margin is for libc.
 * 0, or -1 with errno (EINVAL from prctl: no seccomp in this kernel).
 */
int
sbx_apply(int nfds)
{
	struct sock_fprog	prog;

#ifdef WRK_NO_SANDBOX
	/* ASan writes its report to a file: no RLIMIT_FSIZE 0 either */
	(void)prog;
	(void)sbx_filter;
	(void)sbx_rlimit;
	return 0;
#else
	if (nfds < 0)
		nfds = 0;
	if (sbx_rlimit(RLIMIT_FSIZE, 0) == -1 ||
	    sbx_rlimit(RLIMIT_NPROC, 0) == -1 ||
	    sbx_rlimit(RLIMIT_CORE, 0) == -1 ||
	    sbx_rlimit(RLIMIT_DATA, SBX_DATA_MAX) == -1 ||
	    sbx_rlimit(RLIMIT_AS, SBX_AS_MAX) == -1 ||
	    sbx_rlimit(RLIMIT_CPU, SBX_CPU_MAX) == -1 ||
	    sbx_rlimit(RLIMIT_NOFILE, (rlim_t)nfds + SBX_NOFILE_MARGIN) == -1)
		return -1;
	/* no core dump, no ptrace by the workers' own account */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
#ifdef WRK_SANDBOX_DEBUG
	if (sbx_debug_handler() == -1)
		return -1;
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	memset(&prog, 0, sizeof(prog));
	prog.len = (unsigned short)(sizeof(sbx_filter) / sizeof(sbx_filter[0]));
	prog.filter = (struct sock_filter *)(uintptr_t)sbx_filter;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		return -1;
	return 0;
#endif
}
