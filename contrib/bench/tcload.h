/*
 * tcload: a multi-allocation TURN load generator (see tcload.c).
 * tcload_proc.c measures the server from /proc: CPU and PSS of a process
 * and all its descendants.
 */
#ifndef TCLOAD_H
#define TCLOAD_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

/*
 * Exact CPU time (ns) consumed so far by root and every descendant:
 * per-thread schedstat of every live process of the tree plus the
 * children's time its members have reaped. Differences of two readings
 * are the tree's CPU between them; see tcload_proc.c for why it is exact.
 */
int		 proc_tree_cpu(pid_t root, uint64_t *ns, unsigned *procs);
/* PSS (KiB) summed over root and every live descendant */
int		 proc_tree_pss(pid_t root, uint64_t *kib, unsigned *procs);
/*
 * Checks proc_tree_cpu on this machine: a test tree whose processes burn a
 * known amount of CPU, most of them exiting and reaped before the reading.
 * Prints one line; 0 if the reading is right.
 */
int		 proc_selftest(void);
/* clock_gettime in ns: CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, ... */
uint64_t	 clock_ns(clockid_t);

#endif
