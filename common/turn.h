/*
 * turn.h: the sans-IO TURN engine (supervisor side).
 *
 * Bytes and time in, commands out. It owns allocations (keyed by client
 * transport address), channels, nonces, quotas and authentication. It
 * calls no clock, no RNG (randomness comes through turn_rng_fn), no
 * socket and no event loop. The shell feeds one input, then drains
 * turn_next_cmd() until it returns 0, executing each command in order,
 * then re-arms its single timer from turn_next_timeout().
 *
 * Lifecycle of an allocation as seen through commands:
 *   ALLOCATE ok        -> TURN_CMD_WORKER_START(alloc, port, families)
 *   turn_worker_ready  -> TURN_CMD_SEND(success response)
 *   turn_worker_bind_failed -> WORKER_START again on another port, or a
 *                         508 after TURN_BIND_TRIES attempts
 *   CHANNEL-BIND ok    -> TURN_CMD_WORKER_CHAN_ADD, then TURN_CMD_SEND
 *   channel expiry     -> TURN_CMD_WORKER_CHAN_DEL
 *   ChannelData in     -> TURN_CMD_WORKER_DATA (payload points into input)
 *   turn_worker_data   -> TURN_CMD_SEND_FRAMES(the record's frames to the
 *                         client, one command), or, for a channel that
 *                         is not bound on that allocation,
 *                         TURN_CMD_WORKER_STOP (hostile worker)
 *   REFRESH 0 / expiry -> TURN_CMD_WORKER_STOP(alloc), then the response
 *   turn_worker_gone   -> allocation freed (next REFRESH gets 437)
 *
 * With conf.indications (RFC 8656 data path, off by default):
 *   CREATE-PERMISSION / CHANNEL-BIND ok -> TURN_CMD_WORKER_PERM_ADD per new
 *                         peer IP (300 s; refreshes queue nothing)
 *   permission expiry  -> TURN_CMD_WORKER_PERM_DEL
 *   Send indication in -> TURN_CMD_WORKER_SEND (data points into input)
 *   turn_worker_peer_data -> TURN_CMD_SEND(Data indication to the client)
 *
 * Pointers inside a command stay valid until the next call of any
 * turn_*() input function.
 */
#ifndef TURN_H
#define TURN_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "peer.h"
#include "stun.h"

#define TURN_DEFAULT_LIFETIME	600	/* s */
#define TURN_MAX_LIFETIME	3600	/* s */
#define TURN_CHANNEL_LIFETIME	600	/* s */
#define TURN_CHANNEL_COOLDOWN	300	/* s */
#define TURN_BIND_TRIES		8	/* ports tried before 508 */
#define TURN_MAX_CHANNELS	256	/* per allocation; more -> 508 */
#define TURN_PERM_LIFETIME	300	/* s (RFC 8656 §9), --indications */
#define TURN_MAX_PERMS		64	/* peer IPs per allocation; more -> 508 */
#define TURN_LOG_MAX		256

typedef void	turn_rng_fn(void *arg, void *out, size_t len);

struct turn_conf {
	struct taddr	 public4;	/* family 0 = no IPv4 relaying */
	struct taddr	 public6;	/* family 0 = no IPv6 relaying */
	uint16_t	 lowest_port;	/* inclusive range */
	uint16_t	 highest_port;
	const char	*secret;	/* text, as hashed into passwords;
					 * referenced, not copied: see
					 * turn_set_secrets() */
	size_t		 secret_len;
	const char	*software;	/* "turncell/<version>" */
	/* AUTH_NONCE_KEY_LEN bytes, copied; NULL = drawn from the rng */
	const uint8_t	*nonce_key;
	int		 auth_schemes;	/* AUTH_SCHEME_* */
	const char	*realm;		/* REALM of 401/438 and of REST keys;
					 * NULL = "firezone" (turn_req.c) */
	int64_t		 max_user_ttl_s; /* 0 = any future expiry */
	unsigned	 max_allocs;	/* global; 0 = port range size */
	/* quotas and budgets; 0 = unlimited. A source is an IPv4 address
	 * or an IPv6 /64. */
	unsigned	 max_allocs_per_ip;	/* live, per source: 486 */
	unsigned	 max_allocs_per_user;	/* live, per canonical user: 486 */
	unsigned	 starts_per_ip_per_s;	/* worker starts per source: 486 */
	unsigned	 starts_global_per_s;	/* worker starts in all: 508 */
	unsigned	 unauth_per_ip_per_s;	/* replies before a valid nonce */
	unsigned	 unauth_global_per_s;
	unsigned	 binding_per_ip_per_s;	/* Binding responses */
	unsigned	 binding_global_per_s;
	struct peer_filter filter;
	struct taddr	 alternate;	/* family 0 = none (drain answer 508) */
	int		 indications;	/* RFC 8656 data path: permissions,
					 * Send and Data indications */
	int		 one_per_user;	/* a user's new ALLOCATE from another
					 * 5-tuple frees the old allocation */
};

enum turn_cmd_type {
	TURN_CMD_NONE = 0,
	TURN_CMD_SEND,		/* data -> client addr, from the listen socket */
	TURN_CMD_WORKER_START,	/* alloc_id, port, families */
	TURN_CMD_WORKER_CHAN_ADD, /* alloc_id, chan, peer */
	TURN_CMD_WORKER_CHAN_DEL, /* alloc_id, chan */
	TURN_CMD_WORKER_DATA,	/* alloc_id, chan, addr (the channel's
				 * peer), data (payload only) */
	TURN_CMD_WORKER_STOP,	/* alloc_id, reason */
	TURN_CMD_LOG,		/* level, text */
	/* --indications only (conf.indications): */
	TURN_CMD_WORKER_PERM_ADD, /* alloc_id, addr (peer IP, port 0) */
	TURN_CMD_WORKER_PERM_DEL, /* alloc_id, addr (peer IP, port 0) */
	TURN_CMD_WORKER_SEND,	/* alloc_id, addr (peer), data, len */
	TURN_CMD_SEND_FRAMES	/* data, len: ChannelData frames back to back
				 * (cdata.h) -> client addr, one datagram each */
};

/* reasons for TURN_CMD_WORKER_STOP */
#define TURN_STOP_DELETED	1	/* REFRESH 0 */
#define TURN_STOP_EXPIRED	2
#define TURN_STOP_HOSTILE	3	/* worker broke the protocol */
#define TURN_STOP_DRAIN		4	/* drain deadline reached */
#define TURN_STOP_REPLACED	5	/* one_per_user: the user allocated
					 * again from another 5-tuple */

/* log levels, shared with log.h */
#define TURN_LOG_ERR		0
#define TURN_LOG_WARN		1
#define TURN_LOG_INFO		2
#define TURN_LOG_DEBUG		3

struct turn_cmd {
	enum turn_cmd_type type;
	uint32_t	 alloc_id;
	struct taddr	 addr;		/* SEND: client; CHAN_ADD, PERM_*,
					 * WORKER_SEND, WORKER_DATA: peer */
	uint16_t	 port;		/* WORKER_START */
	uint8_t		 families;	/* WORKER_START: ADDR_FAM_* */
	uint16_t	 chan;
	int		 reason;	/* WORKER_STOP */
	int		 level;		/* LOG */
	const uint8_t	*data;		/* SEND, SEND_FRAMES, WORKER_DATA,
					 * WORKER_SEND */
	size_t		 len;
	const char	*text;		/* LOG, NUL-terminated */
};

struct turn_stats {
	uint64_t	 allocations;	/* live (including starting) */
	uint64_t	 channels;	/* bound */
	uint64_t	 packets_c2p, bytes_c2p;	/* client -> peer */
	uint64_t	 packets_p2c, bytes_p2c;	/* peer -> client */
	uint64_t	 hostile_workers;
	uint64_t	 dropped;	/* datagrams dropped on input */
	/* replies suppressed by a budget: Binding, before a valid nonce,
	 * failures after a valid nonce */
	uint64_t	 capped_binding, capped_unauth, capped_proven;
	/* ALLOCATEs refused by a quota or a start budget */
	uint64_t	 denied_ip, denied_user, denied_start_src;
	uint64_t	 denied_start_global;
	uint64_t	 replaced;	/* freed by one_per_user */
};

/* responses counter: index by method slot, class and code */
typedef void	turn_response_fn(void *arg, uint16_t method, int cls, int code);

struct turn;

struct turn	*turn_new(const struct turn_conf *, turn_rng_fn *, void *rng_arg);
void		 turn_free(struct turn *);
/* called for every response sent (for metrics); may be NULL */
void		 turn_set_response_hook(struct turn *, turn_response_fn *, void *);
/* replace the peer filter (the host's addresses changed) */
void		 turn_set_filter(struct turn *, const struct peer_filter *);
/*
 * Replace the secrets credentials are checked against (1 to
 * TURN_SECRETS_MAX; the first signs unauthenticated replies). Nonces do
 * not depend on them. 0, or -1 with the old set kept.
 *
 * Ownership: the engine keeps pointers, never copies (so that a secret
 * exists once in the process, in the caller's locked, undumpable
 * storage). The caller keeps the secrets (and conf.secret given to
 * turn_new) alive and unchanged until the next turn_set_secrets() or
 * turn_free(); only then may it wipe and release them. The array of
 * pointers and the lengths are copied.
 */
#define TURN_SECRETS_MAX	8
int		 turn_set_secrets(struct turn *, const char *const *secrets,
		    const size_t *lens, size_t n);

/* a datagram that arrived on the listen port */
void		 turn_client_input(struct turn *, const uint8_t *, size_t,
		    const struct taddr *from, uint64_t now_ms, int64_t wall_s);
/* worker events */
void		 turn_worker_ready(struct turn *, uint32_t alloc_id, uint64_t now_ms);
void		 turn_worker_bind_failed(struct turn *, uint32_t alloc_id,
		    uint64_t now_ms);
/* frames: ChannelData frames back to back (exact lengths); 0 ok, -1 the
 * worker was found hostile (a WORKER_STOP was queued) */
int		 turn_worker_data(struct turn *, uint32_t alloc_id,
		    const uint8_t *frames, size_t len, uint64_t now_ms);
/* one datagram from a peer with no channel whose IP has a permission
 * (--indications): 0 ok or dropped (permission gone: a race), -1 the
 * worker was found hostile (a WORKER_STOP was queued) */
int		 turn_worker_peer_data(struct turn *, uint32_t alloc_id,
		    const struct taddr *peer, const uint8_t *, size_t,
		    uint64_t now_ms);
void		 turn_worker_gone(struct turn *, uint32_t alloc_id, uint64_t now_ms);
void		 turn_timeout(struct turn *, uint64_t now_ms);
/* start draining: new ALLOCATEs refused; lifetimes clamped to deadline
 * (0 = none); at the deadline all workers are stopped */
void		 turn_drain(struct turn *, uint64_t now_ms, uint64_t deadline_ms);

uint64_t	 turn_next_timeout(const struct turn *);	/* UINT64_MAX = none */
int		 turn_next_cmd(struct turn *, struct turn_cmd *);	/* 1 got one */
void		 turn_get_stats(const struct turn *, struct turn_stats *);
size_t		 turn_alloc_count(const struct turn *);
/* an allocation's client address and relay port (for the kernel fast
 * path of bound channels); 0, or -1 if there is no such allocation */
int		 turn_alloc_addrs(const struct turn *, uint32_t alloc_id,
		    struct taddr *client, uint16_t *port);

#endif
