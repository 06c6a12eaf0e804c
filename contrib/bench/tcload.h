/*
 * tcload: a multi-allocation TURN load generator (see tcload.c: options,
 * data phases, output). tcload_stun.c runs the set-up transactions;
 * tcload_proc.c measures the server from /proc: CPU and PSS of a process
 * and all its descendants.
 */
#ifndef TCLOAD_H
#define TCLOAD_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "stun.h"

#define LOAD_STAGE_SECONDS	120	/* one set-up stage at most */
#define LOAD_RTO_MS		500	/* RFC 8489 initial RTO, doubled */
#define LOAD_TRIES		7
#define LOAD_AUTH_ROUNDS	3	/* 401/438 answers per transaction */
#define LOAD_NONCE_MAX		256
#define LOAD_REQ_MAX		640
#define LOAD_BATCH		64
#define LOAD_EVENTS		256
#define LOAD_STALL_MS		100	/* saturated: window reset after */
#define LOAD_DRAIN_MS		500
#define LOAD_MAX_PEERS		64
#define LOAD_MAX_PHASES		16
#define LOAD_STAMP_LEN		16	/* phase, allocation, send time */
#define LOAD_CHANNEL		0x4000

/* RTT histogram: exact below 64 us, then 32 buckets per octave (3 %) */
#define HIST_LINEAR		64
#define HIST_SUB		32
#define HIST_BUCKETS		(HIST_LINEAR + 40 * HIST_SUB)

enum load_stage { ST_ALLOCATE, ST_BIND, ST_FREE };
enum lc_state { LC_IDLE, LC_WAIT, LC_DONE, LC_FAILED };

struct lc {
	int		 fd;
	uint8_t		 state;
	uint8_t		 tries;
	uint8_t		 auth_rounds;
	uint8_t		 authed;	/* the request in flight has MI */
	uint8_t		 allocated;	/* its ALLOCATE succeeded */
	int		 slot;
	uint16_t	 reqlen;
	uint16_t	 nonce_len;
	uint64_t	 t_sent;	/* last transmission */
	uint64_t	 t_auth;	/* first authenticated transmission */
	uint8_t		 tid[STUN_TID_LEN];
	char		 nonce[LOAD_NONCE_MAX];
	uint8_t		 req[LOAD_REQ_MAX];
};

struct phase {
	int		 sat;
	unsigned	 arg;		/* pkt/s, or window */
	unsigned	 size;
	double		 seconds;
};

struct load {
	struct taddr	 server;
	const char	*user, *pass;
	const char	*client_ip;
	const char	*peer_ip;
	uint8_t		 key[16];
	int		 have_key;
	pid_t		 pid;		/* server, 0 = not measured */
	unsigned	 n, k, npeers;
	struct lc	*c;
	int		 peer_fd[LOAD_MAX_PEERS];
	struct taddr	 peer[LOAD_MAX_PEERS];
	int		 ep;
	uint32_t	*lat;		/* set-up latencies, us */
	unsigned	 nlat;
	unsigned	*slots;
	unsigned	 nslots;
	unsigned	 retrans, errors[7];	/* by class 3xx..6xx, other */
	int		 last_error;	/* the last error code, 0 = timeout */
	/* data phases */
	uint32_t	 phase_id;
	uint64_t	 at_peer, delivered, stale;
	uint64_t	 hist[HIST_BUCKETS];
	/* the tool's own sockets, for the drops they cause */
	uint32_t	 client_addr, peer_addr;
	uint8_t		 client_ports[65536 / 8], peer_ports[65536 / 8];
};

/* tcload.c */
void		 load_die(const char *) __attribute__((noreturn));
uint64_t	 now_ns(void);

/* tcload_stun.c: one stage's transaction on every allocation, K in
 * flight, retransmitted (RTO 500 ms, doubled); returns how many succeeded */
unsigned	 stage_run(struct load *, enum load_stage, uint64_t *elapsed);

/* tcload_proc.c */
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
/* receive-queue drops of the UDP sockets on addr (struct in_addr order)
 * whose port is set in portmap (65536 bits), from /proc/net/udp */
int		 proc_udp_drops(uint32_t addr, const uint8_t *portmap,
		    uint64_t *drops);
/* busy CPU (ns) of the whole machine, all CPUs, from /proc/stat */
int		 proc_machine_cpu(uint64_t *ns);
/* CPU (ns) of the kernel threads (ksoftirqd, kworkers) */
int		 proc_kthreads_cpu(uint64_t *ns);
/* clock_gettime in ns: CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, ... */
uint64_t	 clock_ns(clockid_t);

#endif
