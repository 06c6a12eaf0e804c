/*
 * sup.h: the supervisor's private header (bin/turncell).
 *
 * One configuration (struct sup_conf, filled once by sup_conf_parse and
 * read-only afterwards), one runtime state (struct sup: the loop, the
 * engine, the listen sockets and watchers). Prototypes are grouped by the
 * file that defines them.
 */
#ifndef SUP_H
#define SUP_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "addr.h"
#include "peer.h"
#include "turn.h"

#define SUP_NAME		"turncell"
#define SUP_SECRET_MAX		4096	/* bytes of a --secret-file */
#define SUP_SECRET_RAND		32	/* random bytes of a generated secret */
#define SUP_READY_TIMEOUT	5.0	/* s a worker has to send MSG_READY */
#define SUP_STATS_INTERVAL	10.0	/* s between stats lines */
#define SUP_EXIT_USAGE		2	/* bad flag or value */
#define SUP_LISTEN_TRIES	16	/* --listen-port 0: pairs tried */
#define SUP_XDP_MAX		8	/* --xdp interfaces */

#define SUP_SIG_IGNORED		3	/* SIGHUP, SIGUSR1, SIGUSR2 */
#define SUP_DRAIN_TIMEOUT	"3600"	/* s, default --drain-timeout */
#define SUP_QDELAY_MS		"10"	/* default --max-queue-delay */
#define SUP_QGRACE_MS		"100"	/* default --queue-delay-grace */

struct sup_wq;

struct sup_conf {
	uint16_t	 listen_port;		/* 0 until bound: ephemeral */
	const char	*port_file;		/* --port-file, NULL = none */
	struct taddr	 bind4, bind6;		/* IP only */
	struct taddr	 public4, public6;	/* family 0 = not configured */
	const char	*bind4_s, *bind6_s;
	const char	*public4_s, *public6_s;
	uint16_t	 lowest_port, highest_port;
	const char	*allow[PEER_MAX_ALLOW];	/* --allow-peer texts */
	struct peer_filter filter;		/* allow ranges + own addresses */
	const char	*secret_file;
	int		 has_seed;
	uint64_t	 rng_seed;
	int		 log_format, log_level;
	const char	*user;
	int		 drop_privs;		/* root: workers run as uid/gid */
	uid_t		 worker_uid;
	gid_t		 worker_gid;
	char		 worker_path[PATH_MAX];
	const char	*health_addr;		/* NULL = none */
	const char	*api_url;
	const char	*token;			/* NULL = standalone; never logged */
	const char	*name;
	unsigned	 drain_timeout;		/* s, 0 = none */
	struct taddr	 alternate;		/* family 0 = none */
	unsigned	 max_allocs, max_allocs_per_ip, max_allocs_per_user;
	unsigned	 starts_per_ip, starts_global;	/* per s */
	unsigned	 unauth_rate, unauth_global;	/* per s */
	unsigned	 binding_rate, binding_global;	/* per s */
	unsigned	 max_cred_ttl;		/* s, 0 = any */
	int		 auth_schemes;		/* AUTH_SCHEME_* */
	const char	*realm;			/* --realm */
	int		 indications;		/* --indications */
	int		 one_per_user;		/* --one-allocation-per-user */
	int		 sched_batch;		/* --sched-batch */
	unsigned	 pool_size;		/* --worker-pool, 0 = none */
	unsigned	 pool_rate;		/* --worker-pool-rate, per s */
	unsigned	 qdelay_ms;		/* --max-queue-delay, 0 = off */
	unsigned	 qgrace_ms;		/* --queue-delay-grace */
	uint32_t	 max_bps;		/* --max-bps, per allocation and
						 * direction; 0 = no limit */
	const char	*xdp[SUP_XDP_MAX];	/* --xdp interfaces */
	size_t		 n_xdp;
	int		 xdp_generic;		/* --xdp-generic */
};

/* counters of the shell itself (the engine counts protocol events) */
struct sup_counters {
	uint64_t	 send_errors;		/* UDP sends refused (not logged) */
	uint64_t	 send_lost;		/* of those: send buffer full */
	uint64_t	 recv_errors;
	uint64_t	 worker_drops;		/* datagrams not given to a worker */
	uint64_t	 listen_late;		/* over --max-queue-delay */
	uint64_t	 listen_full;		/* the kernel's, full listen queue */
	uint64_t	 peer_late;		/* MSG_STATS: the same two at */
	uint64_t	 peer_full;		/* the workers' relay sockets */
	uint64_t	 peer_send;		/* MSG_STATS: to peers, buffer full */
	uint64_t	 worker_late;		/* MSG_STATS: records to workers */
	uint64_t	 from_worker_late;	/* records from workers, too old */
	uint64_t	 log_suppressed;	/* worker log lines rate-limited */
	uint64_t	 peer_denied;		/* MSG_STATS: sends a worker refused */
	uint64_t	 throttled_c2p;		/* MSG_STATS: over --max-bps */
	uint64_t	 throttled_p2c;
};

struct sup {
	struct ev_loop		*loop;
	const struct sup_conf	*conf;
	struct turn		*turn;
	pid_t			 pid;
	int			 devnull;	/* stdin/stdout of workers */
	pid_t			 spawner_pid;	/* -1: none (died) */
	int			 spawner_fd;	/* its control socket, -1 = none */
	int			 fd4, fd6;	/* listen sockets, -1 = none */
	ev_io			 io4, io6;
	ev_timer		 engine_timer;	/* turn_next_timeout */
	ev_timer		 stats_timer;
	ev_signal		 sigterm, sigint;
	ev_signal		 sigother[SUP_SIG_IGNORED]; /* HUP, USR1, USR2 */
	int			 draining;
	int			 portal_gone;	/* 1: no token, or left */
	int			 exit_status;	/* -1 = keep running */
	uint64_t		 stats_bytes;	/* relayed bytes at last line */
	char			*secret;	/* the secrets' text (vault), the
						 * one copy engine and portal use */
	size_t			 secret_len;
	struct sup_counters	 cnt;
};

/* sup_conf.c */
void		 sup_conf_parse(struct sup_conf *, int, char **);
void		 sup_conf_engine(const struct sup_conf *, struct turn_conf *);
void		 sup_usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
int		 sup_parse_uint(const char *, unsigned long long,
		    unsigned long long, unsigned long long *);
void		 sup_conf_port(struct sup_conf *, uint16_t);

/* sup_cred.c */
int		 sup_cred_main(int, char **);
int		 sup_secret_read(const char *, char **, size_t *, const char **);
int		 sup_secrets_split(const char *, size_t, const char **,
		    size_t *, const char **);
/* sup_reload.c */
void		 sup_reload(struct sup *);
char		*sup_secret_make(const struct sup_conf *, size_t *);

/* sup_self.c */
int		 sup_self_scan(const struct sup_conf *, struct peer_filter *);
void		 sup_self_warn(const struct sup_conf *);
void		 sup_self_start(struct sup *);
int		 sup_self_is_host(const struct taddr *);
const struct peer_filter *sup_self_filter(void);

/* sup_secure.c */
void		 sup_secure_early(void);
void		 sup_secure_token(struct sup_conf *, int, char **);
char		*sup_secure_secret(char *, size_t);
void		 sup_secure_release(char *, size_t);
void		 sup_secure_forget(void);

/* sup_rng.c */
void		 sup_rng_init(int seeded, uint64_t seed);
void		 sup_rng(void *, void *, size_t);	/* turn_rng_fn */
void		 sup_rng_key(void *, size_t);	/* never seeded */

/* inputs to the engine, fed only by the pump */
enum sup_in_type {
	SUP_IN_NONE = 0,	/* nothing: re-check the end of a drain */
	SUP_IN_CLIENT,		/* addr, data, len: datagram on the listen port */
	SUP_IN_TIMEOUT,		/* the engine timer fired */
	SUP_IN_DRAIN,		/* deadline: ms, 0 = none */
	SUP_IN_READY,		/* alloc_id: worker sent READY */
	SUP_IN_BIND_FAILED,	/* alloc_id: its relay port is taken */
	SUP_IN_GONE,		/* alloc_id: worker dead, killed or not started */
	SUP_IN_DATA,		/* alloc_id, data, len: frames of a MSG_DATA */
	SUP_IN_PEER_DATA	/* alloc_id, addr (peer), data, len */
};

struct sup_input {
	enum sup_in_type	 type;
	uint32_t		 alloc_id;
	struct taddr		 addr;
	const uint8_t		*data;
	size_t			 len;
	uint64_t		 deadline;
};

/* sup_pump.c */
void		 sup_pump(struct sup *, const struct sup_input *, size_t);
void		 sup_pump_data(struct sup *, const struct sup_input *, size_t);
void		 sup_pump_event(struct sup *, enum sup_in_type, uint32_t);

/* sup_loop.c */
uint16_t	 sup_listen_bind(const struct sup_conf *, int *, int *);
void		 sup_loop_init(struct sup *);
void		 sup_drain_start(struct sup *, const char *why);
void		 sup_exit_now(struct sup *, int status);
uint64_t	 sup_now_ms(void);
int64_t		 sup_wall_s(void);

/* sup_send.c */
void		 sup_send_init(int, int);
void		 sup_send(struct sup *, const struct taddr *, const uint8_t *,
		    size_t);
void		 sup_send_frames(struct sup *, const struct taddr *,
		    const uint8_t *, size_t);
void		 sup_send_flush(struct sup *);
int		 sup_send_pending(void);	/* sends not yet flushed */

/* sup_rsock.c: relay sockets, client -> peer sends */
void		 sup_rsock_init(void);
int		 sup_rsock_bind(const struct sup_conf *, uint16_t, uint8_t,
		    int [2]);
void		 sup_rsock_close(int [2]);
void		 sup_rsock_keep(const struct sup_conf *, int [2]);
void		 sup_rsock_send(struct sup *, int, const struct taddr *,
		    const uint8_t *, size_t);
void		 sup_rsock_flush(struct sup *);

/* sup_spawn.c */
int		 sup_spawn(struct sup *, uint32_t, uint16_t, uint8_t,
		    const int [2], pid_t *, int *);
int		 sup_spawn_pair(int [2]);
int		 sup_spawn_conf(const struct sup *, int, uint32_t, uint16_t,
		    uint8_t, const int [2], pid_t);
void		 sup_spawn_child(const struct sup_conf *, int, pid_t, int)
		    __attribute__((noreturn));
void		 sup_spawn_sigs(void);

/* sup_spawner.c: the spawner process */
pid_t		 spn_start(const struct sup_conf *, int devnull, int *);

/* sup_pool.c: the spawner's other end, the pool of idle workers */
void		 sup_pool_init(struct sup *);
int		 sup_pool_take(struct sup *, void *, uint32_t, uint16_t,
		    uint8_t, const int [2], pid_t *, int *);
size_t		 sup_pool_idle(void);
void		 sup_pool_cancel(struct sup *, uint32_t);
void		 sup_pool_kill_all(struct sup *);

/* sup_worker.c */
void		 sup_worker_init(struct sup *);
int		 sup_worker_start(struct sup *, uint32_t, uint16_t, uint8_t);
struct sup_wq	*sup_worker_wq(uint32_t, int);
int		 sup_worker_rfd(uint32_t, const struct taddr *);
void		 sup_worker_flush(struct sup *);
void		 sup_worker_stop(struct sup *, uint32_t, int reason);
void		 sup_worker_kill_all(struct sup *);
size_t		 sup_worker_count(void);
void		*sup_worker_spawned(struct sup *, uint32_t, pid_t, int);
void		 sup_worker_spawn_failed(struct sup *, uint32_t);
void		 sup_worker_reaped(void *, int, const char *);
void		 sup_worker_direct(struct sup *, uint32_t);

/* sup_wsend.c */
void		 sup_wsend_chan_add(struct sup *, uint32_t, uint16_t,
		    const struct taddr *);
void		 sup_wsend_chan_del(struct sup *, uint32_t, uint16_t);
void		 sup_wsend_data(struct sup *, uint32_t, uint16_t,
		    const struct taddr *, const uint8_t *, size_t);
void		 sup_wsend_perm(struct sup *, uint32_t, const struct taddr *,
		    int add);
void		 sup_wsend_dgram(struct sup *, uint32_t, const struct taddr *,
		    const uint8_t *, size_t);

/* sup_metrics.c */
void		 sup_metrics_init(struct sup *);
void		 sup_metrics_hook(void *, uint16_t, int, int);	/* turn_response_fn */
size_t		 sup_metrics_format(char *, size_t);
size_t		 sup_metrics_cb(void *, char *, size_t);	/* health_src */
int		 sup_ready_cb(void *);
void		 sup_fmt_throughput(double, char *, size_t);

#endif
