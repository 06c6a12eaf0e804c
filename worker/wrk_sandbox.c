/*
 * wrk_sandbox.c: the worker's seccomp sandbox and resource limits.
 *
 * Written like OpenSSH's sandbox-seccomp-filter.c: one static table, one
 * allowed system call per line with the reason it is needed, the
 * architecture checked first and a default that kills the process (the
 * table becomes a BPF program at start-up, sbx_build()).
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
#include <stdlib.h>
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

/*
 * The allow-list is a table of rules; sbx_build() turns it into the BPF
 * program at start-up: the header (architecture, x32), then a binary
 * search over the rules sorted by number (JGE nodes, leaves of at most
 * SBX_LEAF rules), and one RET each for allow and fail at the end. A
 * linear list cost every system call the filter does not allow some 70
 * instructions, and the kernel runs the filter for every system call
 * number when it installs it (to find those it may allow without running
 * it: the seccomp cache), with interrupts off: 40 us of a worker's start.
 * The tree decides in about 8. The rules mean what the list meant.
 */
enum sbx_kind {
	SBX_ANY,	/* allow nr */
	SBX_MASK,	/* allow nr if argument arg (all 64 bits) has no bit
			 * outside v1, else fail */
	SBX_ONE_OF	/* allow nr if the low word of argument arg is v1 or
			 * v2, else fail */
};

struct sbx_rule {
	uint32_t	nr;
	uint8_t		kind;		/* enum sbx_kind */
	uint8_t		arg;
	uint32_t	v1, v2;
};

#define SC_ALLOW(nr)			{ (nr), SBX_ANY, 0, 0, 0 }
#define SC_ALLOW_MASK(nr, arg, mask)	{ (nr), SBX_MASK, (arg), (mask), 0 }
#define SC_ALLOW_ONE_OF(nr, arg, a, b)	{ (nr), SBX_ONE_OF, (arg), (a), (b) }

/*
 * Non-fatal denies: none. Every probe we know of (locale, NSS, malloc
 * tunables) happens before the sandbox point; anything else that touches
 * the file system after it is a bug or an attack, and t/40-sandbox
 * expects SIGSYS for openat.
 */
static const struct sbx_rule sbx_rules[] = {
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
	/* free, trim (MADV_DONTNEED); free (MADV_FREE) */
	SC_ALLOW_ONE_OF(__NR_madvise, 2, MADV_DONTNEED, MADV_FREE),
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
};

#define SBX_NRULES	(sizeof(sbx_rules) / sizeof(sbx_rules[0]))
#define SBX_LEAF	2	/* rules tested one by one below a node */
#define SBX_PROG_MAX	256	/* instructions; the table needs some 100 */

/* where a jump of the program goes before sbx_build() resolves it */
#define SBX_TO_NEXT	0	/* the offset is in the instruction */
#define SBX_TO_ALLOW	1
#define SBX_TO_FAIL	2

struct sbx_prog {
	struct sock_filter	f[SBX_PROG_MAX];
	uint8_t			to[SBX_PROG_MAX][2];	/* jt, jf: SBX_TO_* */
	size_t			len;
	int			full;
};

static void
sbx_emit(struct sbx_prog *p, uint16_t code, uint32_t k, uint8_t jt,
    uint8_t jf, uint8_t to_t, uint8_t to_f)
{
	if (p->len == SBX_PROG_MAX) {
		p->full = 1;
		return;
	}
	p->f[p->len].code = code;
	p->f[p->len].k = k;
	p->f[p->len].jt = jt;
	p->f[p->len].jf = jf;
	p->to[p->len][0] = to_t;
	p->to[p->len][1] = to_f;
	p->len++;
}

#define SBX_LD(p, off) \
	sbx_emit((p), BPF_LD | BPF_W | BPF_ABS, (off), 0, 0, 0, 0)
#define SBX_JMP(p, op, k, jt, jf, to_t, to_f) \
	sbx_emit((p), BPF_JMP | (op) | BPF_K, (k), (jt), (jf), (to_t), (to_f))

/* one rule, with nr in the accumulator; a call that is not this rule's
 * goes on after it with nr still loaded */
static void
sbx_rule(struct sbx_prog *p, const struct sbx_rule *r)
{
	switch (r->kind) {
	case SBX_ANY:
		SBX_JMP(p, BPF_JEQ, r->nr, 0, 0, SBX_TO_ALLOW, SBX_TO_NEXT);
		break;
	case SBX_MASK:
		SBX_JMP(p, BPF_JEQ, r->nr, 0, 4, SBX_TO_NEXT, SBX_TO_NEXT);
		SBX_LD(p, SBX_ARG_LO(r->arg));
		SBX_JMP(p, BPF_JSET, ~r->v1, 0, 0, SBX_TO_FAIL, SBX_TO_NEXT);
		SBX_LD(p, SBX_ARG_HI(r->arg));
		SBX_JMP(p, BPF_JEQ, 0, 0, 0, SBX_TO_ALLOW, SBX_TO_FAIL);
		break;
	default:	/* SBX_ONE_OF */
		SBX_JMP(p, BPF_JEQ, r->nr, 0, 3, SBX_TO_NEXT, SBX_TO_NEXT);
		SBX_LD(p, SBX_ARG_LO(r->arg));
		SBX_JMP(p, BPF_JEQ, r->v1, 0, 0, SBX_TO_ALLOW, SBX_TO_NEXT);
		SBX_JMP(p, BPF_JEQ, r->v2, 0, 0, SBX_TO_ALLOW, SBX_TO_FAIL);
		break;
	}
}

/* the rules r[lo, hi) (sorted by nr), nr in the accumulator */
static void
sbx_tree(struct sbx_prog *p, const struct sbx_rule *r, size_t lo, size_t hi)
{
	size_t	mid, at, i;

	if (hi - lo <= SBX_LEAF) {
		for (i = lo; i < hi; i++)
			sbx_rule(p, &r[i]);
		sbx_emit(p, BPF_RET | BPF_K, SBX_FAIL, 0, 0, 0, 0);
		return;
	}
	mid = lo + (hi - lo) / 2;
	at = p->len;
	/* nr >= r[mid].nr: the right half, after the left one */
	SBX_JMP(p, BPF_JGE, r[mid].nr, 0, 0, SBX_TO_NEXT, SBX_TO_NEXT);
	sbx_tree(p, r, lo, mid);
	if (p->len - at - 1 > 255)
		p->full = 1;
	else if (!p->full)
		p->f[at].jt = (uint8_t)(p->len - at - 1);
	sbx_tree(p, r, mid, hi);
}

/*
 * What the table allows, read directly rather than through the program:
 * 1 if a call of the native ABI is allowed, 0 if it fails. t/43 runs
 * sbx_build()'s program on every call number against it.
 */
int
sbx_rules_allow(const struct seccomp_data *sd)
{
	const struct sbx_rule	*r;
	uint64_t		 a;
	size_t			 i;

	for (i = 0; i < SBX_NRULES; i++) {
		r = &sbx_rules[i];
		if ((uint32_t)sd->nr != r->nr)
			continue;
		a = sd->args[r->arg];
		switch (r->kind) {
		case SBX_ANY:
			return 1;
		case SBX_MASK:
			return (a & ~(uint64_t)r->v1) == 0;
		default:
			return (uint32_t)a == r->v1 || (uint32_t)a == r->v2;
		}
	}
	return 0;
}

static int
sbx_rule_cmp(const void *a, const void *b)
{
	const struct sbx_rule	*x = a, *y = b;

	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

/*
 * The program from the table: 0, or -1 if it does not fit (a bug: the
 * table grew past SBX_PROG_MAX or a jump past 255 instructions).
 */
int
sbx_build(struct sock_fprog *out)
{
	static struct sbx_prog	p;
	static struct sbx_rule	r[SBX_NRULES];
	size_t			i, allow, fail, to, d;
	int			j;

	memset(&p, 0, sizeof(p));
	memcpy(r, sbx_rules, sizeof(r));
	qsort(r, SBX_NRULES, sizeof(r[0]), sbx_rule_cmp);
	for (i = 1; i < SBX_NRULES; i++)
		if (r[i].nr == r[i - 1].nr)
			return -1;	/* one rule per call */
	/* 1. the native ABI only: i386 (int 0x80) and x32 are killed */
	SBX_LD(&p, offsetof(struct seccomp_data, arch));
	SBX_JMP(&p, BPF_JEQ, SBX_ARCH, 1, 0, SBX_TO_NEXT, SBX_TO_NEXT);
	sbx_emit(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0, 0, 0);
	SBX_LD(&p, offsetof(struct seccomp_data, nr));
#ifdef WRK_X32_BIT
	SBX_JMP(&p, BPF_JGE, WRK_X32_BIT, 0, 1, SBX_TO_NEXT, SBX_TO_NEXT);
	sbx_emit(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0, 0, 0);
#endif
	/* 2. the allowed calls; 3. everything else fails */
	sbx_tree(&p, r, 0, SBX_NRULES);
	allow = p.len;
	sbx_emit(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0, 0, 0);
	fail = p.len;
	sbx_emit(&p, BPF_RET | BPF_K, SBX_FAIL, 0, 0, 0, 0);
	if (p.full)
		return -1;
	for (i = 0; i < p.len; i++)
		for (j = 0; j < 2; j++) {
			if (p.to[i][j] == SBX_TO_NEXT)
				continue;
			to = p.to[i][j] == SBX_TO_ALLOW ? allow : fail;
			if ((d = to - i - 1) > 255)
				return -1;
			if (j == 0)
				p.f[i].jt = (uint8_t)d;
			else
				p.f[i].jf = (uint8_t)d;
		}
	out->len = (unsigned short)p.len;
	out->filter = p.f;
	return 0;
}

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
	(void)sbx_rlimit;
	return 0;
#else
	if (nfds < 0)
		nfds = 0;
	memset(&prog, 0, sizeof(prog));
	if (sbx_build(&prog) == -1) {
		errno = E2BIG;
		return -1;
	}
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
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		return -1;
	return 0;
#endif
}
