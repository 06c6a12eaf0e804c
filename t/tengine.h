/*
 * tengine.h: the engine harness shared by the engine tests (t/2x-*.c).
 *
 * Three parts, all pure (the engine, the test encoder of tstun.h and
 * t/tap.c; no sockets, no processes), so the unit tests may link it:
 *
 * - the command recorder: te_collect() drains turn_next_cmd() into
 *   te_recs[] (data copied, the engine's pointer kept in orig), keeps LOG
 *   commands apart in te_logs[] and counts every LOG that holds one of
 *   the registered secrets (te_secret_add) in te_leaks;
 * - assertions on the recorded commands (one TAP line each): the exact
 *   number of commands, a response checked for its code, transaction id,
 *   signature (SOFTWARE first and MESSAGE-INTEGRITY valid under the
 *   client's key) or minimality (unsigned: no SOFTWARE, no
 *   MESSAGE-INTEGRITY), and for 401/438 the REALM and the fresh nonce;
 * - the scripted runner: a scenario is a list of steps, each one input
 *   (client datagram, worker ready, worker data, tick) and the exact
 *   commands expected in order, then "no further commands", and
 *   optionally the next timeout, channel and allocation counts.
 *
 * Clocks: monotonic ms start at TE_T0; the wall clock is TE_WALL s.
 */
#ifndef TENGINE_H
#define TENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "turn.h"
#include "tstun.h"

#define TE_T0		1000000ULL	/* ms; now_s = 1000 */
#define TE_WALL		1700000000LL	/* wall clock, s */
#define TE_SEC		1000ULL
#define TE_EXPIRY	4102444800ULL	/* 2100-01-01 */
#define TE_SECRET \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define TE_MAXCMD	300
#define TE_DATA_MAX	(65536 + 64)	/* the largest Data indication */

/* ---- the recorder ---- */

struct te_rec {
	struct turn_cmd	 c;		/* c.data points at data[] */
	const uint8_t	*orig;		/* the engine's pointer */
	uint8_t		 data[TE_DATA_MAX];
};

struct te_log {
	int		 level;
	char		 text[TURN_LOG_MAX + 1];
};

struct te_hook {
	unsigned	 calls;
	uint16_t	 method;
	int		 cls, code;
};

extern struct te_rec	te_recs[TE_MAXCMD];
extern size_t		te_nrecs;
extern struct te_log	te_logs[64];
extern size_t		te_nlogs;
extern unsigned		te_leaks;	/* LOGs holding a secret */
extern uint64_t		te_now;		/* ms */
extern struct te_hook	te_hook;	/* the last response hook call */

/* the TE_SECRET credentials: valid (two users), expired, TURN REST */
extern struct ts_cred	te_u, te_u2, te_uexp, te_urest;

/* a string no LOG may contain (up to 16 kept) */
void	 te_secret_add(const char *);
/* the credentials above, their passwords registered as secrets */
void	 te_creds(void);
/* drain the engine's commands (bounded) */
void	 te_collect(struct turn *);
/* a LOG at level <= maxlevel whose text holds sub */
int	 te_log_has(int maxlevel, const char *sub);
/* the most severe level logged (smallest number), 99 if none */
int	 te_log_worst(void);
void	 te_dump_logs(void);
const char *te_cmd_name(int type);
void	 te_dump_cmds(void);

/* ---- engines and addresses ---- */

void	 te_rng_zero(void *, void *, size_t);
/* "192.0.2.1" and a port; bails out on a bad literal */
struct taddr te_addr(const char *ip, uint16_t port);
void	 te_set_ip(struct taddr *, const char *ip, uint16_t port);
int	 te_same_addr(const struct taddr *, const struct taddr *);
void	 te_allow(struct turn_conf *, const char *net, uint8_t bits);
/* dual stack 203.0.113.1 / 2001:db8::1, ports 49152-65535, TE_SECRET,
 * software "turncell/test", documentation ranges allowed as peers */
void	 te_conf_init(struct turn_conf *);
/* an engine with the all-zero RNG at TE_T0, the response hook recording
 * into te_hook; bails out if turn_new fails */
struct turn *te_start(const struct turn_conf *);
struct turn *te_start_rng(const struct turn_conf *, turn_rng_fn *, void *);
/* te_start() on te_conf_init()'s configuration (the engine copies it) */
struct turn *te_new(void);

/* one input at te_now, then te_collect() */
void	 te_input(struct turn *, const struct ts_req *,
	    const struct taddr *);
void	 te_input_raw(struct turn *, const uint8_t *, size_t,
	    const struct taddr *);
void	 te_tick(struct turn *, uint64_t at);

/* ---- assertions on te_recs ---- */

/* the nonce the engine issues to a at now_s (its MAC registered as a
 * secret) */
void	 te_nonce(const struct taddr *, uint64_t now_s,
	    char out[TS_NONCE_LEN + 1]);
/* exactly n commands */
int	 te_ncmds(size_t n, const char *what);
/* te_recs[i] is a SEND to `to` of the response (method, cls, code; 0 for
 * success) to rq, signed with key (unsigned when key is NULL) */
int	 te_check_resp(size_t i, const struct taddr *to,
	    const struct ts_req *rq, uint16_t method, int cls, int code,
	    const uint8_t *key, const char *what);
/* exactly one command: that error response */
int	 te_expect_err(const struct taddr *to, const struct ts_req *rq,
	    uint16_t method, int code, const uint8_t *key, const char *what);
int	 te_expect_none(const char *what);
const uint8_t *te_resp_data(size_t i, size_t *len);
/* LIFETIME of the response in te_recs[i], 0xdeadbeef if none */
uint32_t te_resp_lifetime(size_t i);
int	 te_is_stop(size_t i, uint32_t id, int reason);

/* authenticated requests for `from` at te_now (lifetime < 0: none) */
void	 te_auth_req(struct ts_req *, const struct ts_cred *,
	    const struct taddr *from);
void	 te_alloc_req(struct ts_req *, const struct ts_cred *,
	    const struct taddr *from, int64_t lifetime);
void	 te_refresh_req(struct ts_req *, const struct ts_cred *,
	    const struct taddr *from, int64_t lifetime);
void	 te_chanbind_req(struct ts_req *, const struct ts_cred *,
	    const struct taddr *from, unsigned chan, const struct taddr *peer);
/* ALLOCATE that must start a worker: the alloc id, 0 on failure; with
 * ready also the worker's READY and the signed success (TAP lines) */
uint32_t te_allocate(struct turn *, const struct taddr *from,
	    const struct ts_cred *, int64_t lifetime, int ready,
	    const char *what);

/* ---- the scripted runner ---- */

#define TE_MAX_STEPS	24
#define TE_MAX_EXP	6
#define TE_POOL		(64 * 1024)
#define TE_DONT_CHECK	0	/* step timeout not checked */

enum te_in { TE_IN_CLIENT, TE_IN_READY, TE_IN_WDATA, TE_IN_TICK };

struct te_exp {
	enum turn_cmd_type type;
	uint32_t	 id;
	struct taddr	 addr;
	uint16_t	 port;
	uint8_t		 families;
	uint16_t	 chan;
	int		 reason;
	int		 level;
	const uint8_t	*data;
	size_t		 len;
	const char	*text;		/* LOG: expected prefix */
};

struct te_step {
	const char	*name;
	enum te_in	 kind;
	struct taddr	 from;
	const uint8_t	*in;
	size_t		 in_len;
	uint32_t	 id;
	uint64_t	 now;
	struct te_exp	 exp[TE_MAX_EXP];
	size_t		 n_exp;
	int		 logs;		/* compare LOG commands too */
	uint64_t	 timeout;	/* TE_DONT_CHECK or the value */
	long		 channels;	/* -1 or stats.channels after */
	long		 allocs;	/* -1 or turn_alloc_count() after */
};

struct te_scen {
	struct te_step	 s[TE_MAX_STEPS];
	size_t		 n;
	uint8_t		 pool[TE_POOL];
	size_t		 used;
};

/* steps; the bytes are copied into the scenario */
struct te_step *te_st_client(struct te_scen *, const char *name,
	    const struct taddr *from, const uint8_t *, size_t, uint64_t now);
struct te_step *te_st_ready(struct te_scen *, const char *name, uint32_t id,
	    uint64_t now);
struct te_step *te_st_wdata(struct te_scen *, const char *name, uint32_t id,
	    const uint8_t *, size_t, uint64_t now);
struct te_step *te_st_tick(struct te_scen *, const char *name, uint64_t now);
/* expected commands of a step, in order */
void	 te_ex_send(struct te_scen *, struct te_step *,
	    const struct taddr *, const uint8_t *, size_t);
void	 te_ex_frames(struct te_scen *, struct te_step *,
	    const struct taddr *, const uint8_t *, size_t);
void	 te_ex_start(struct te_step *, uint32_t id, uint16_t port,
	    uint8_t fam);
void	 te_ex_chan_add(struct te_step *, uint32_t id, uint16_t chan,
	    const struct taddr *peer);
void	 te_ex_chan_del(struct te_step *, uint32_t id, uint16_t chan);
void	 te_ex_data(struct te_scen *, struct te_step *, uint32_t id,
	    uint16_t chan, const uint8_t *, size_t);
void	 te_ex_stop(struct te_step *, uint32_t id, int reason);
/* a LOG (level, text prefix); LOGs are then compared for this step */
void	 te_ex_log(struct te_step *, int level, const char *prefix);
/* one TAP line per step; frees t */
void	 te_run(const char *scenario, struct turn *,
	    const struct te_scen *);

#endif
