/*
 * wrk.h: the worker program (one per allocation).
 *
 * The worker is started by fork+exec from the supervisor with its end of
 * a SOCK_SEQPACKET socketpair at fd 3 (WRK_CTL_FD) and no arguments. It
 * reads its configuration (MSG_CONF) from there, binds the relay
 * socket(s), closes every other descriptor, creates its epoll loop,
 * enters the seccomp sandbox, says MSG_READY and then only relays:
 * peer datagrams -> MSG_DATA batches -> supervisor, and MSG_DATA from the
 * supervisor -> peers, through the channel table of common/relay.c.
 *
 * Everything but main() lives outside main.c so that t/40-sandbox can
 * run the real start-up and loop under the real filter.
 */
#ifndef WRK_H
#define WRK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "msg.h"
#include "msg_conf.h"
#include "peer.h"
#include "relay.h"
#include "tbucket.h"

#define WRK_CTL_FD		3	/* the socketpair, by contract */
#define WRK_STATS_MS		10000	/* MSG_STATS period */
#define WRK_LOG_PER_S		10	/* MSG_LOG rate limit */

/* exit codes */
#define WRK_EXIT_OK		0	/* EOF on the socketpair */
#define WRK_EXIT_PARENT		1	/* parent gone before we started */
#define WRK_EXIT_USAGE		2	/* arguments, bad MSG_CONF, fd 3 */
#define WRK_EXIT_PROTO		4	/* malformed message from supervisor */
#define WRK_EXIT_SANDBOX	5	/* no loop or no sandbox */
#define WRK_EXIT_VIOLATION	6	/* debug build: syscall trapped */

/* counters; the relayed ones go to the supervisor as MSG_STATS deltas */
struct wrk_counters {
	uint64_t	 rx_pkts, rx_bytes;	/* peer -> supervisor, framed */
	uint64_t	 tx_pkts, tx_bytes;	/* supervisor -> peer, sent */
	uint64_t	 rx_trunc;		/* larger than 64 KiB */
	uint64_t	 rx_nochan;		/* peer without a channel */
	uint64_t	 rx_toobig;		/* too big for a frame */
	uint64_t	 rx_lost;		/* supervisor queue full */
	uint64_t	 tx_nopeer;		/* unbound or denied channel */
	uint64_t	 tx_err;		/* error on one datagram */
	uint64_t	 tx_lost;		/* socket buffer full */
	uint64_t	 rx_throttled;		/* over --max-bps, peer side */
	uint64_t	 tx_throttled;		/* over --max-bps, client side */
	uint64_t	 rx_late;		/* waited past the age limit */
	uint64_t	 rx_full;		/* the kernel's, full relay socket */
	uint64_t	 tx_late;		/* MSG_DATA past the age limit */
};

struct wrk;
/* one watched descriptor of the loop (wrk_ev.c) */
struct wrk_ev {
	int		 fd;
	uint32_t	 events;	/* EPOLLIN...; 0 = not watched */
	void		(*fn)(struct wrk *, struct wrk_ev *, uint32_t);
};

struct wrk {
	struct msg_conf		 conf;		/* from MSG_CONF */
	int			 ctl_fd;
	int			 fd4, fd6;	/* relay sockets, -1 = none */
	int			 ep;		/* epoll */
	int			 tfd;		/* timerfd: MSG_STATS */
	int			 running;	/* 0 ends wrk_ev_run() */
	struct wrk_ev		 ctl_ev, ev4, ev6, tev;
	uint64_t		 now_ms;	/* at the last wake-up */
	/* test-only (wrk_hostile.c): called after every wake-up, and at
	 * least every tick_ms */
	void			(*tick_fn)(struct wrk *);
	unsigned		 tick_ms;
	struct relay		*relay;
	uint32_t		 once;		/* once-only types seen */
	int			 exit_code;
	struct wrk_counters	 cnt;
	struct wrk_counters	 last;		/* at the last MSG_STATS */
	uint64_t		 last_denied;
	/* --max-bps, one bucket per direction (rate 0: no limit) */
	struct tbucket		 bucket_rx;	/* peer -> client */
	struct tbucket		 bucket_tx;	/* client -> peer */
};

/* wrk_conf.c: 1 with the checked MSG_CONF and the descriptors that came
 * with it (at most MSG_FDS_MAX), 0 on end of file, -1 with *why on
 * anything else (waits without a timeout) */
int	wrk_conf_read(int fd, struct msg_conf *, int *fds, unsigned *nfds,
	    const char **why);

/* wrk_sock.c */
void	wrk_init(struct wrk *, const struct msg_conf *);
int	wrk_take_socks(struct wrk *, const int *, unsigned);
int	wrk_close_fds(const struct wrk *);	/* keep ctl + relay sockets */
int	wrk_fd_top(void);		/* highest open fd + 1 */
int	wrk_fd_top_held(const struct wrk *);	/* the same, no probing */

/* wrk_ev.c: the epoll loop; wrk_ev_set(.., 0) stops watching */
int	wrk_ev_init(struct wrk *, unsigned period_ms);
int	wrk_ev_set(struct wrk *, struct wrk_ev *, uint32_t events);
int	wrk_ev_run(struct wrk *);
uint64_t wrk_ev_now(struct wrk *);	/* ms, --max-bps and ticks only */

/* wrk_loop.c */
int	wrk_loop_init(struct wrk *);	/* the loop and its descriptors */
int	wrk_send_ready(struct wrk *);
int	wrk_run(struct wrk *);		/* returns the exit code */
void	wrk_send_stats(struct wrk *);

/* wrk_log.c */
void	wrk_log_init(int fd, int level, int use_stderr);
void	wrk_log_stderr(int);		/* 0 once stderr is closed */
void	wrk_log(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	wrk_fatalx(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
int	wrk_send_rec(int fd, const void *, size_t);

/* wrk_sandbox.c: sbx_build() makes the filter sbx_apply() installs */
struct sock_fprog;
struct seccomp_data;
int	sbx_apply(int nfds);
int	sbx_build(struct sock_fprog *);
int	sbx_rules_allow(const struct seccomp_data *);	/* 1 allowed */
#if defined(__x86_64__)
/* the x32 ABI's flag in a system call number: <asm/unistd.h>'s
 * __X32_SYSCALL_BIT, which musl's headers do not define */
#define WRK_X32_BIT	0x40000000
#endif

/* wrk_relro.c: 0, or -1 (errno) */
int	wrk_relro(void);

/* wrk_hostile.c: no-ops unless built with -DWRK_HOSTILE */
void	wrk_hostile_syscall(void);
void	wrk_hostile_after_ready(struct wrk *);

#endif
