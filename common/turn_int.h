/*
 * turn_int.h: private to the TURN engine (common/turn*.c).
 *
 *   turn.c		life cycle, datagram demultiplexing, ChannelData in
 *   turn_q.c		command FIFO, per-command storage (arena), LOG
 *   turn_alloc.c	allocation tables: client/id hashes, ports, per-IP
 *			counts, the wake-up heap, channels
 *   turn_req.c		STUN requests: authentication, one function per method
 *   turn_resp.c	response builders (signed and unsigned)
 *   turn_rate.c	token buckets: unauthenticated replies, worker starts
 *   turn_quota.c	live allocations per source and per user
 *   turn_worker.c	worker events, timer, drain
 *   turn_perm.c	--indications: permissions, Send and Data indications
 */
#ifndef TURN_INT_H
#define TURN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "stun.h"
#include "turn.h"

#define TURN_ST_STARTING	1
#define TURN_ST_READY		2

#define TURN_PORTS		65536
#define TURN_RATE_SLOTS		4096	/* power of two */
#define TURN_Q_INIT		64	/* initial command slots */
#define TURN_ARENA_INIT		4096	/* initial per-command storage */
#define TURN_KEY_LEN		16	/* long-term credential key (MD5) */
#define TURN_KEY_CANDS		3	/* FIREZONE (two realms), REST */
#define TURN_MAX_KEYS		(TURN_KEY_CANDS * TURN_SECRETS_MAX)
#define TURN_MS			1000ULL

struct turn_chan {
	uint16_t	 num;
	uint8_t		 bound;		/* 0 = cooling down */
	struct taddr	 peer;
	uint64_t	 expiry_ms;	/* binding expiry (cool-down after) */
};

struct turn_perm {
	struct taddr	 ip;		/* canonical, port 0 */
	uint64_t	 expiry_ms;
};

struct turn_alloc {
	struct turn_alloc *next_client;	/* hash chains */
	struct turn_alloc *next_id;
	struct turn_alloc *next_due;	/* turn_timeout work list */
	size_t		 hidx;		/* index in the wake-up heap */
	uint64_t	 wake_ms;	/* min(expiry, channel deadlines) */
	uint64_t	 expiry_ms;
	uint32_t	 id;
	int		 state;		/* TURN_ST_* */
	struct taddr	 client;
	uint16_t	 port;
	uint8_t		 families;	/* ADDR_FAM_* */
	uint8_t		 even;		/* EVEN-PORT was requested */
	uint8_t		 fp;		/* the ALLOCATE carried FINGERPRINT */
	unsigned	 tries;		/* ports tried so far */
	uint32_t	 lifetime_s;	/* granted by the ALLOCATE */
	uint8_t		 tid[STUN_TID_LEN];	/* of the creating ALLOCATE */
	uint8_t		 key[TURN_KEY_LEN];	/* signs deferred answers */
	struct turn_chan *chans;
	size_t		 n_chans;
	size_t		 cap_chans;
	struct turn_perm *perms;	/* --indications only */
	size_t		 n_perms;
	size_t		 cap_perms;
	size_t		 user_len;
	uint8_t		 user[];	/* USERNAME of the ALLOCATE (441) */
};

struct turn_ipcnt {
	struct turn_ipcnt *next;
	struct taddr	 ip;		/* turn_src_key() */
	unsigned	 n;
};

/* a canonical username: expiry as a number, then the bytes after it */
struct turn_usercnt {
	struct turn_usercnt *next;
	uint64_t	 expiry;
	unsigned	 n;
	size_t		 len;
	uint8_t		 rest[];
};

struct turn_qent {
	struct turn_cmd	 c;
	size_t		 off;		/* arena offset of data or text */
	int		 own;		/* 1: data/text lives in the arena */
};

/* token bucket (turn_rate.c) */
struct turn_tb {
	uint64_t	 last_ms;	/* 0 = never used (full) */
	uint64_t	 milli;		/* thousandths of a token */
};

enum turn_rc {
	TURN_RC_BINDING,		/* Binding responses */
	TURN_RC_UNAUTH,			/* replies before a valid nonce */
	TURN_RC_PROVEN,			/* failures after a valid nonce */
	TURN_RC_START,			/* worker starts */
	TURN_RC_MAX
};

#define TURN_LIMIT_SOURCE	1
#define TURN_LIMIT_GLOBAL	2

struct turn {
	struct turn_conf conf;		/* secret/software point to copies */
	/* every secret verifies, secrets[0] (= conf.secret) signs 401/438 */
	const char	*secrets[TURN_SECRETS_MAX];	/* the caller's */
	size_t		 secret_lens[TURN_SECRETS_MAX];
	size_t		 n_secrets;
	char		*software;
	size_t		 software_len;
	char		 realm[AUTH_REALM_MAX + 1];
	uint8_t		 nkey[AUTH_NONCE_KEY_LEN];
	uint32_t	 seed;		/* hash seed derived from nkey */
	turn_rng_fn	*rng;
	void		*rng_arg;
	turn_response_fn *hook;
	void		*hook_arg;

	/* allocation tables (turn_alloc.c) */
	struct turn_alloc **by_client;
	struct turn_alloc **by_id;
	struct turn_ipcnt **by_ip;
	struct turn_usercnt **by_user;
	uint32_t	 mask;		/* buckets - 1 */
	uint8_t		 ports[TURN_PORTS / 8];
	struct turn_alloc **heap;
	size_t		 heap_n;
	size_t		 heap_cap;
	size_t		 n_allocs;
	unsigned	 max_allocs;
	uint32_t	 next_id;

	struct turn_tb	 rate[TURN_RC_MAX][TURN_RATE_SLOTS];
	struct turn_tb	 rate_glob[TURN_RC_MAX];

	/* command FIFO (turn_q.c) */
	struct turn_qent *q;
	size_t		 q_head;
	size_t		 q_n;
	size_t		 q_cap;
	uint8_t		*arena;
	size_t		 arena_len;
	size_t		 arena_cap;

	struct turn_stats st;
	int		 draining;
	uint64_t	 drain_deadline;	/* 0 = none */
	int		 drain_done;
};

/* one STUN request being answered */
struct turn_req {
	struct turn		*t;
	const struct stun_msg	*m;
	const struct taddr	*from;
	uint64_t		 now_ms;
	int64_t			 wall_s;
	const uint8_t		*key;		/* sign with it; NULL = unsigned */
	int			 authed;	/* passed authentication */
	int			 proven;	/* carried a valid nonce */
	int			 charged;	/* its reply budget is charged */
	size_t			 len;		/* of the request datagram */
	const uint16_t		*unknown;	/* for a 420 */
	size_t			 n_unknown;
	uint8_t			 keys[TURN_MAX_KEYS][TURN_KEY_LEN];
	size_t			 n_keys;
};

/* where and how a response goes */
struct turn_rctx {
	const uint8_t		*tid;
	const struct taddr	*to;
	const uint8_t		*key;		/* NULL = unsigned */
	int			 fp;
	uint16_t		 method;
	size_t			 max_len;	/* 0 = any; else drop above */
};

/* turn_q.c */
struct turn_qent *turn_q_push(struct turn *, enum turn_cmd_type);
void		 turn_q_reset(struct turn *);
uint8_t		*turn_arena_reserve(struct turn *, size_t, size_t *off);
void		 turn_arena_trim(struct turn *, size_t off, size_t used);
void		 turn_log(struct turn *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 turn_q_free(struct turn *);

/* turn_alloc.c */
int		 turn_tables_init(struct turn *);
void		 turn_tables_free(struct turn *);
struct turn_alloc *turn_alloc_find(const struct turn *, const struct taddr *);
struct turn_alloc *turn_alloc_by_id(const struct turn *, uint32_t);
int		 turn_port_pick(struct turn *, int even, uint16_t *);
int		 turn_port_next(struct turn *, struct turn_alloc *);
struct turn_alloc *turn_alloc_new(struct turn *, const struct turn_req *,
		    uint8_t families, uint16_t port, uint32_t lifetime_s);
void		 turn_alloc_free(struct turn *, struct turn_alloc *);
void		 turn_alloc_rewake(struct turn *, struct turn_alloc *);
void		 turn_heap_rebuild(struct turn *);
struct turn_alloc *turn_heap_top(const struct turn *);
void		 turn_heap_remove(struct turn *, struct turn_alloc *);
int		 turn_heap_insert(struct turn *, struct turn_alloc *);
struct turn_chan *turn_chan_by_num(struct turn_alloc *, uint16_t);
struct turn_chan *turn_chan_by_peer(struct turn_alloc *, const struct taddr *);
struct turn_chan *turn_chan_add(struct turn_alloc *, uint16_t,
		    const struct taddr *, uint64_t expiry_ms);
void		 turn_chan_del(struct turn_alloc *, struct turn_chan *);

/* turn_req.c */
void		 turn_req_dispatch(struct turn_req *);
int		 turn_req_fail(struct turn_req *, int code);
int		 turn_peer_code(const struct turn *, const struct turn_alloc *,
		    const struct taddr *);

/* turn_resp.c */
void		 turn_rctx_req(const struct turn_req *, struct turn_rctx *);
void		 turn_rctx_alloc(const struct turn_alloc *, struct turn_rctx *);
void		 turn_resp_error(struct turn *, const struct turn_rctx *, int,
		    uint64_t now_ms, const uint16_t *unknown, size_t);
void		 turn_resp_binding(struct turn *, const struct turn_rctx *);
void		 turn_resp_alloc_ok(struct turn *, const struct turn_alloc *);
void		 turn_resp_lifetime(struct turn *, const struct turn_rctx *,
		    uint32_t);
void		 turn_resp_empty(struct turn *, const struct turn_rctx *);

/* turn_rate.c */
void		 turn_src_key(const struct taddr *, struct taddr *);
int		 turn_rate_check(struct turn *, enum turn_rc,
		    const struct taddr *, uint64_t now_ms, int take);

/* turn_classic.c: 1 if p was an RFC 3489 Binding request (answered,
 * or dropped over budget), 0 if it is for turn_stun_in */
int		 turn_classic_in(struct turn *, const uint8_t *, size_t,
		    const struct taddr *, uint64_t now_ms);

/* turn_quota.c */
int		 turn_quota_admit(struct turn *, const struct turn_req *);
int		 turn_quota_inc(struct turn *, const struct turn_alloc *);
void		 turn_quota_dec(struct turn *, const struct turn_alloc *);
void		 turn_quota_replace(struct turn *, const struct turn_req *);
void		 turn_quota_free(struct turn *);

/* turn_worker.c */
void		 turn_alloc_stop(struct turn *, struct turn_alloc *, int reason);

/* turn_perm.c */
uint64_t	 turn_perm_deadline(const struct turn_alloc *);
int		 turn_perm_grant(struct turn_req *, struct turn_alloc *);
void		 turn_perm_install(struct turn *, struct turn_alloc *,
		    const struct taddr *, uint64_t now_ms);
void		 turn_due_perms(struct turn *, struct turn_alloc *, uint64_t);
void		 turn_send_in(struct turn *, const struct stun_msg *,
		    const struct taddr *from, uint64_t now_ms);

#endif
