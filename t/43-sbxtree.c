/*
 * 43-sbxtree.c: the worker's seccomp program as sbx_build() makes it
 * from the allow-list (worker/wrk_sandbox.c), run by a small classic BPF
 * interpreter here on every system call number 0-1023 with argument
 * values around the rules (mmap/mprotect protections, madvise advice,
 * bits in the high word): it allows exactly what the table allows
 * (sbx_rules_allow(), the table read without BPF) and fails everything
 * else with the filter's default; another architecture and x32 numbers
 * are killed. Every jump lands inside the program, every path ends in a
 * RET, and every call is decided within SBX_STEPS_MAX instructions (a
 * search, not a walk down the list: the kernel runs the program for every
 * call number when the worker installs it).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "wrk.h"

#if defined(__x86_64__)
#define NATIVE		AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE		AUDIT_ARCH_AARCH64
#endif

#ifdef WRK_SANDBOX_DEBUG
#define FAIL		SECCOMP_RET_TRAP
#else
#define FAIL		SECCOMP_RET_KILL_PROCESS
#endif

#define NR_MAX		1024
#define SBX_STEPS_MAX	16

/* run prog on sd: the RET value, or 0xffffffff on a bad program (with
 * *why); *steps: instructions executed */
static uint32_t
run(const struct sock_fprog *p, const struct seccomp_data *sd, int *steps,
    const char **why)
{
	const struct sock_filter	*f;
	uint32_t			 acc = 0, w;
	size_t				 pc = 0;

	*steps = 0;
	for (;;) {
		if (pc >= p->len) {
			*why = "ran off the end";
			return 0xffffffff;
		}
		f = &p->filter[pc];
		(*steps)++;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k % 4 != 0 || f->k + 4 > sizeof(*sd)) {
				*why = "load outside seccomp_data";
				return 0xffffffff;
			}
			memcpy(&w, (const char *)sd + f->k, 4);
			acc = w;
			pc++;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += 1 + (acc == f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += 1 + (acc >= f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += 1 + ((acc & f->k) != 0 ? f->jt : f->jf);
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			*why = "an instruction this test does not know";
			return 0xffffffff;
		}
	}
}

static const uint64_t	arg_vals[] = {
	0, PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE, PROT_EXEC,
	PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	MADV_DONTNEED, MADV_FREE, MADV_WILLNEED, MADV_DONTFORK,
	(1ULL << 32), (1ULL << 32) | PROT_READ, (1ULL << 32) | MADV_DONTNEED,
	0xffffffffULL, ~0ULL,
};
#define NVALS	(sizeof(arg_vals) / sizeof(arg_vals[0]))

int
main(void)
{
	struct sock_fprog	p;
	struct seccomp_data	sd;
	const char		*why = NULL;
	uint32_t		 got, want;
	unsigned		 nr, v, a;
	int			 steps, worst = 0, bad = 0, allowed = 0, seen;

	if (!ok(sbx_build(&p) == 0 && p.len > 0 && p.len <= BPF_MAXINSNS,
	    "sbx_build() makes a program of at most %d instructions",
	    BPF_MAXINSNS))
		return done_testing();
	diag("%u instructions", p.len);

	for (nr = 0; nr < NR_MAX && !bad; nr++) {
		seen = 0;
		for (v = 0; v < NVALS && !bad; v++)
			for (a = 0; a < 6 && !bad; a++) {
				memset(&sd, 0, sizeof(sd));
				sd.arch = NATIVE;
				sd.nr = (int)nr;
				sd.args[a] = arg_vals[v];
				want = sbx_rules_allow(&sd) ? SECCOMP_RET_ALLOW :
				    FAIL;
				got = run(&p, &sd, &steps, &why);
				if (steps > worst)
					worst = steps;
				if (got != want) {
					diag("nr %u arg%u=%#llx: %#x, the "
					    "table says %#x (%s)", nr, a,
					    (unsigned long long)arg_vals[v],
					    got, want, why ? why : "");
					bad = 1;
				}
				if (got == SECCOMP_RET_ALLOW)
					seen = 1;
			}
		allowed += seen;
	}
	ok(!bad, "calls 0-%d with %zu values in each argument: the program "
	    "allows what the table allows, the rest fails", NR_MAX - 1,
	    NVALS);
	ok(allowed >= 20 && allowed <= 40, "%d call numbers allowed for "
	    "some argument (the table has some 25)", allowed);

	/* the arguments decide mmap: never executable */
	memset(&sd, 0, sizeof(sd));
	sd.arch = NATIVE;
#ifdef __NR_mmap
	sd.nr = __NR_mmap;
	sd.args[2] = PROT_READ | PROT_WRITE;
	is_int(run(&p, &sd, &steps, &why), SECCOMP_RET_ALLOW,
	    "mmap PROT_READ|PROT_WRITE allowed");
	sd.args[2] = PROT_READ | PROT_EXEC;
	is_int(run(&p, &sd, &steps, &why), FAIL, "mmap PROT_EXEC fails");
#else
	skip(2, "no mmap on this architecture");
#endif
	/* another ABI is killed whatever the call */
	for (nr = 0, bad = 0; nr < NR_MAX; nr++) {
		memset(&sd, 0, sizeof(sd));
		sd.arch = AUDIT_ARCH_I386;
		sd.nr = (int)nr;
		if (run(&p, &sd, &steps, &why) != SECCOMP_RET_KILL_PROCESS)
			bad = 1;
#ifdef WRK_X32_BIT
		sd.arch = NATIVE;
		sd.nr = (int)(WRK_X32_BIT | nr);
		if (run(&p, &sd, &steps, &why) != SECCOMP_RET_KILL_PROCESS)
			bad = 1;
#endif
	}
	ok(!bad, "i386 (and x32) call numbers are killed");
	ok(worst <= SBX_STEPS_MAX, "every call decided within %d "
	    "instructions (the worst took %d)", SBX_STEPS_MAX, worst);
	return done_testing();
}
