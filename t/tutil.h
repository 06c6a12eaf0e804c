/*
 * tutil.h: the library of the end-to-end tests (t/5x-7x) that run the real
 * bin/turncell on loopback, one section per file (t/README.md).
 *
 * Everything here is bounded: every receive has a poll timeout, every
 * wait loop a deadline. Every process a test starts is tracked and
 * killed by PID at exit, on a watchdog alarm and on SIGINT/SIGTERM; the
 * test process is a child subreaper, so workers orphaned by a killed
 * supervisor are reaped here too.
 */
#ifndef TUTIL_H
#define TUTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "auth.h"
#include "stun.h"

#define TU_TIMEOUT_MS	3000	/* default wait for a response */
#define TU_MAX_PROCS	4096
#define TU_MAX_ALLOW	4
#define TU_MAX_ENV	4
#define TU_MAX_EXTRA	16

/* ---- tutil.c: start-up, children, time, waits ---- */

/*
 * Start-up: a watchdog alarm (the whole test is killed after `seconds`),
 * signal handlers and the subreaper flag. Call first in main().
 */
void	 tu_init(int seconds);

/* track/untrack a child PID for the cleanup on exit */
void	 tu_track(pid_t);
void	 tu_untrack(pid_t);
/* SIGKILL every tracked PID and reap it; called at exit too */
void	 tu_cleanup(void);
/* reap re-parented orphans (workers of a killed relay) for up to ms */
void	 tu_reap_orphans(int timeout_ms);

/* monotonic milliseconds */
uint64_t tu_now_ms(void);
void	 tu_sleep_ms(int);
/*
 * The one way to wait: poll cond(arg) until it returns non-zero or
 * timeout_ms pass (polls quickly at first, then every 50 ms). 1 if the
 * condition came true, 0 at the deadline. Tests wait on what they need
 * (a port bound, a log line, a process gone), never for a fixed time.
 */
int	 tu_wait_for(int (*cond)(void *), void *arg, int timeout_ms);
/* a pseudo-random u32 (not for secrets; seeded from pid and clock) */
uint32_t tu_rand(void);
/* n bytes of tu_rand() */
void	 tu_fill(uint8_t *, size_t);
/* skip the whole test unless every program named (below the top of the
 * tree, NULL-terminated) is built and executable */
void	 tu_need(const char *, ...) __attribute__((sentinel));

/*
 * Spawn argv (stdin /dev/null, stdout+stderr to out_path or /dev/null,
 * no other fds, PDEATHSIG SIGKILL), tracked for cleanup. env may be
 * NULL (then an empty environment plus PATH). Returns the PID or -1.
 */
pid_t	 tu_spawn(char *const argv[], char *const env[], const char *out_path);
/* the same with stderr on err_fd when it is above 2 */
pid_t	 tu_spawn_err(char *const argv[], char *const env[],
	    const char *out_path, int err_fd);

/* waitpid with a deadline: pid, 0 timeout, -1 error */
pid_t	 tu_waitpid(pid_t, int *status, int timeout_ms);
/* SIGKILL one PID we know about (a worker or our own child) */
int	 tu_kill(pid_t, int sig);

/* path of a file next to the test binary's tree: "bin/turncell" etc. */
const char *tu_path(const char *rel);
/* 0 under make check-asan (TU_NO_SANDBOX): workers run unfiltered */
int	 tu_sandboxed(void);

/* ---- tutil_relay.c: the relay and its log ---- */

/*
 * A relay under test, started by the one launcher:
 * tu_relay_start() makes a temporary directory with a secret file,
 * reserves a relay port range (outside the ephemeral range, locked against
 * other tests running at the same time, checked bindable on 127.0.0.1
 * and, with v6, on ::1), starts bin/turncell with --listen-port 0 and
 * --port-file, stdout and stderr going to log_path, reads the port the
 * kernel chose, and waits until a Binding request is answered. A relay
 * that exits at start-up is started again on a new range (3 tries).
 */
struct tu_relay_opts {
	int		 v6;		/* also --bind-ip6-addr ::1 */
	int		 nports;	/* relay port range size (default 16) */
	const char	*allow[TU_MAX_ALLOW];	/* --allow-peer values */
	const char	*worker_path;	/* --worker-path, NULL = default */
	const char	*user;		/* --user; NULL = "nobody" when root */
	const char	*env[TU_MAX_ENV];	/* environment "K=V" */
	const char	*extra[TU_MAX_EXTRA];	/* extra arguments */
	uint16_t	 port;		/* listen port, 0 = ephemeral */
	uint16_t	 lo, hi;	/* relay range, 0 = reserve one */
	int		 no_secret;	/* no --secret-file */
	int		 runtime_dir;	/* RUNTIME_DIRECTORY=dir */
	int		 err_fd;	/* > 2: stderr here, not the log */
	const char	*health;	/* --health-check-addr, NULL = none;
					 * "127.0.0.1:0": r->health_port */
	const char	*log_level;	/* --log-level, NULL = default */
	const char	*api_url;	/* --api-url */
	const char	*token, *name;	/* positional TOKEN and NAME */
	int		 no_wait;	/* no wait for a Binding answer */
	const char	*pool;		/* --worker-pool; NULL = "0", so that
					 * tests count workers exactly */
};

struct tu_relay {
	pid_t		 pid;
	uint16_t	 port;		/* listen port */
	uint16_t	 health_port;	/* o.health's port, as bound */
	uint16_t	 lo, hi;	/* relay port range */
	int		 v6;
	int		 status;	/* wait status once it exited */
	int		 exited;
	char		 dir[64];	/* temp dir: secret, log */
	char		 secret[65];
	char		 secret_path[128];
	char		 log_path[128];
	char		 port_path[128];	/* --port-file */
	struct taddr	 addr4;		/* 127.0.0.1:port */
	struct taddr	 addr6;		/* [::1]:port */
};

int	 tu_relay_start(struct tu_relay *, const struct tu_relay_opts *);
/* 1 if still running (reaps it and sets exited/status if not) */
int	 tu_relay_wait_ready(struct tu_relay *);
int	 tu_relay_alive(struct tu_relay *);
/* SIGKILL, reap, remove the temp dir (kept when TU_KEEP is set or a
 * test failed) */
void	 tu_relay_stop(struct tu_relay *);
/* 1 if a fresh socket gets a Binding answer from the relay */
int	 tu_relay_binding(const struct tu_relay *, int family);
/* a relay on the given listen port and relay range (no free-port check:
 * the caller wants to know whether bin/turncell can bind them, e.g. the
 * ports of a relay that just exited); -1 if it exits at start-up or does
 * not answer a Binding within 5 s */
int	 tu_relay_start_at(struct tu_relay *, const struct tu_relay_opts *,
	    uint16_t port, uint16_t lo, uint16_t hi);

/* the log file */
off_t	 tu_log_size(const struct tu_relay *);
/* 1 if needle appears in the log after offset `from` within timeout */
int	 tu_log_wait(const struct tu_relay *, off_t from, const char *needle,
	    int timeout_ms);
/* number of log lines after `from` containing needle */
int	 tu_log_count(const struct tu_relay *, off_t from, const char *needle);
/* the last `lines` log lines as TAP diagnostics */
void	 tu_log_dump(const struct tu_relay *, int lines);

/* nports (1-64) consecutive UDP ports outside the ephemeral range, free
 * now and reserved against other tests until this one exits; 0 or -1 */
int	 tu_range_reserve(int nports, int v6, uint16_t *lo, uint16_t *hi);

/* ---- tutil_net.c: UDP on loopback, /proc/net figures ---- */

/* UDP sockets (non-blocking not needed: every receive polls first) */
int	 tu_udp_bind(int family, uint16_t port);	/* on 127.0.0.1 or ::1 */
int	 tu_sock_addr(int fd, struct taddr *);
int	 tu_sendto(int fd, const struct taddr *, const void *, size_t);
/* bytes received, or -1 on timeout or error */
long	 tu_recvfrom(int fd, void *, size_t, int timeout_ms, struct taddr *);
/* 1 if the UDP port is free on 127.0.0.1 (and ::1 with v6); a check
 * after the fact, not a way to pick a port (see tu_range_reserve) */
int	 tu_port_free(uint16_t port, int v6);
int	 tu_have_ipv6(void);
void	 tu_ip4(struct taddr *, uint8_t, uint8_t, uint8_t, uint8_t, uint16_t);
void	 tu_ip6_loop(struct taddr *, uint16_t);	/* [::1]:port */
void	 tu_ip6_mapped(struct taddr *, const struct taddr *v4);
/* a UDP socket bound to the given loopback address (e.g. 127.0.0.2:0) */
int	 tu_udp_bind_addr(const struct taddr *);
/* SO_RCVBUFFORCE (root), else SO_RCVBUF; the kernel's value (doubled) or
 * -1 */
int	 tu_rcvbuf(int fd, int bytes);
/* receive-buffer drops of every UDP socket bound to local port `port`
 * (IPv4 and IPv6), from /proc/net/udp{,6}; -1 if unreadable */
long	 tu_udp_drops(uint16_t port);
/* TCP sockets on local port `port` that are not listening (connections,
 * closing ones included), from /proc/net/tcp{,6}; -1 if unreadable */
long	 tu_tcp_conns(uint16_t port);

/* ---- tutil_client.c: the STUN/TURN client ---- */

/* credentials from a secret: username "<now+ttl>:<salt>", password */
void	 tu_cred(const char *secret, long ttl, char *user, size_t ucap,
	    char pass[AUTH_PASS_LEN + 1]);

/*
 * A STUN/TURN client on one UDP socket. The nonce dance is done by
 * tu_transact(): without a nonce it sends the request unauthenticated,
 * takes REALM/NONCE from the 401 and resends signed; a 438 takes the
 * new nonce and resends once. dance[] records every error code seen.
 */
struct tu_client {
	int		 fd;
	struct taddr	 local;
	struct taddr	 server;
	char		 user[128];
	char		 pass[AUTH_PASS_LEN + 1];
	uint8_t		 key[16];
	uint8_t		 nonce[800];
	size_t		 nonce_len;
	uint8_t		 tid[STUN_TID_LEN];	/* of the last request */
	uint8_t		 buf[2048];		/* last response */
	size_t		 len;
	struct stun_msg	 resp;			/* points into buf */
	int		 signed_ok;	/* last response: MI present, valid */
	int		 dance[4];
	int		 ndance;
	/* copied out of the last success */
	struct taddr	 relayed[2];
	size_t		 n_relayed;
	struct taddr	 mapped;
	uint32_t	 lifetime;
	int		 has_lifetime;
	size_t		 cdata_raw_len;	/* datagram size of the last cdata */
};

/* request attributes (zero = absent, except where noted) */
struct tu_req {
	uint16_t		 method;
	int			 lifetime;	/* used if has_lifetime */
	int			 has_lifetime;
	uint8_t			 transport;	/* ALLOCATE: 0 means 17 */
	uint8_t			 req_family;	/* STUN_AF_* */
	uint8_t			 add_family;
	int			 even_port;
	uint16_t		 chan;
	const struct taddr	*peer;
	int			 fingerprint;
	int			 no_auth;	/* never sign */
};

/* socket on 127.0.0.1 (family ADDR_V4) or ::1 (ADDR_V6) to the relay,
 * credentials minted from the relay's secret; 0 or -1 */
int	 tu_client_open(struct tu_client *, const struct tu_relay *,
	    int family);
void	 tu_client_close(struct tu_client *);
/* a relay with the defaults but loopback peers allowed (127.0.0.0/8) and
 * an IPv4 client of it; 0, or a failed test point and -1 */
int	 tu_relay_client(struct tu_relay *, struct tu_client *);
/* 0 success, > 0 the error code of the final response, -1 no answer */
int	 tu_transact(struct tu_client *, const struct tu_req *);
/* one request, no nonce dance; same results */
int	 tu_request(struct tu_client *, const struct tu_req *, int timeout_ms);
int	 tu_binding(struct tu_client *);
int	 tu_allocate(struct tu_client *, int lifetime, uint8_t req_family,
	    uint8_t add_family);	/* lifetime < 0: absent */
int	 tu_refresh(struct tu_client *, int lifetime);	/* < 0: absent */
int	 tu_chanbind(struct tu_client *, uint16_t chan, const struct taddr *);
/* ChannelData: send; receive (skips STUN) -> payload length or -1 */
int	 tu_cdata_send(struct tu_client *, uint16_t chan, const void *, size_t);
long	 tu_cdata_recv(struct tu_client *, uint16_t *chan, void *, size_t,
	    int timeout_ms);
/* tu_client_open() from a socket bound to `local` */
int	 tu_client_open_from(struct tu_client *, const struct tu_relay *,
	    const struct taddr *local);
/* tu_transact() with retransmission (a client under a flood): each
 * request is sent up to `tries` times, rto_ms apart, until a response
 * comes; every send is a new transaction id. *sends (may be NULL) gets
 * the number of datagrams sent. Returns like tu_transact(). */
int	 tu_transact_rtx(struct tu_client *, const struct tu_req *, int tries,
	    int rto_ms, int *sends);

/* ---- tutil_proc.c: processes, through /proc ---- */

/*
 * Processes (all through /proc). tu_descendants() lists every process
 * below root (any depth) whose comm starts with prefix (NULL = any).
 */
struct tu_proc {
	pid_t	pid;
	pid_t	ppid;
	char	state;
	char	comm[32];
};

int	 tu_proc_read(pid_t, struct tu_proc *);		/* 0 or -1 (gone) */
size_t	 tu_descendants(pid_t root, const char *prefix, pid_t *, size_t);
size_t	 tu_workers(const struct tu_relay *, pid_t *, size_t);
/* the first worker not in before[] (waits for it); -1 if none came */
pid_t	 tu_new_worker(const struct tu_relay *, const pid_t *before, size_t nb,
	    int timeout_ms);
/* wait until exactly `want` workers exist; returns the last count */
size_t	 tu_wait_workers(const struct tu_relay *, size_t want, int timeout_ms);
/* wait until PID has exactly `want` children (tu_children; *zombies: how many
 * of the last count are zombies); returns the last count */
size_t	 tu_wait_children(pid_t, size_t want, size_t *zombies,
	    int timeout_ms);
/* wait until PID has exactly `want` open fds; returns the last count */
int	 tu_wait_nfds(pid_t, int want, int timeout_ms);
/* "Seccomp" -> "2" (value with leading blanks stripped); 0 or -1 */
int	 tu_proc_status(pid_t, const char *field, char *, size_t);
/* 1 if /proc/PID no longer exists (zombie_ok: a zombie counts as gone) */
int	 tu_proc_gone(pid_t, int zombie_ok);
/* wait until gone; 1 gone, 0 still there at the deadline */
int	 tu_wait_gone(pid_t, int zombie_ok, int timeout_ms);
/* readlink of every /proc/PID/fd entry; count or -1 */
int	 tu_proc_fds(pid_t, char (*)[128], int max, int *fdnums);
/* socket:[INODE]: 'u' UDP (*port set), 'x' AF_UNIX, 0 unknown */
int	 tu_sock_kind(unsigned long inode, uint16_t *port, int *unix_type);
/* occurrences of needle in the readable mappings of PID, -1 on error */
long	 tu_mem_search(pid_t, const void *, size_t);
/* VmRSS of PID in kB, -1 if gone */
long	 tu_proc_rss_kb(pid_t);
/* anonymous memory of PID in kB (smaps_rollup): its own pages, copies of
 * its data included, not the code it shares (Private_Dirty also counts a
 * freshly built binary's page cache not yet written back); -1 if gone */
long	 tu_proc_anon_kb(pid_t);
/* number of open fds of PID, -1 if gone */
int	 tu_proc_nfds(pid_t);
/*
 * The children of PID: all of them, and the zombies. A relay's worker
 * spawner (comm "turncell-spawn") is not counted, its children are: the
 * workers and their zombies, whichever of the two started them.
 */
size_t	 tu_children(pid_t, size_t *zombies);
/* the relay's worker spawner, -1 if there is none */
pid_t	 tu_spawner(const struct tu_relay *);

#endif
