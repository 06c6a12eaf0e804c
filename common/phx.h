/*
 * phx.h: the portal protocol as a pure state machine: Phoenix channels V1
 * (JSON text frames {topic, event, payload, ref}) over a websocket the
 * shell owns.
 *
 * Time, frames and connection news go in; commands come out (connect,
 * send a frame, close, drop, log a line, and the events joined, lost,
 * fatal and left). No I/O, no clock, no randomness of its own: the shell
 * passes the monotonic time in milliseconds and an RNG for the jitter,
 * drains phx_next_cmd() after every input and re-arms one timer from
 * phx_next_timeout(). supervisor/sup_portal.c is that shell.
 *
 * The protocol, after every (re)connect: join topic "relay" with the
 * stamp_secret (ref 0), a heartbeat at once and every 30 s on topic
 * "phoenix"; each heartbeat must be answered within 5 s. Replies are
 * matched by ref and topic. Transient failures reconnect after a
 * jittered exponential backoff (0.5 s, x1.5, never more than 60 s; reset
 * by a successful join). An HTTP 4xx on the upgrade and "disconnect"
 * with reason token_expired are fatal: the supervisor exits 1. Junk
 * frames (binary, not JSON, wrong types, too big, too deep) are counted,
 * logged and ignored; nothing a portal sends is fatal except those two.
 *
 * The token never leaves this module except through phx_auth_header();
 * the secret only in the join frame (marked, so the shell wipes its
 * copies). Neither is ever put into a LOG command.
 */
#ifndef PHX_H
#define PHX_H

#include <stddef.h>
#include <stdint.h>

#define PHX_HEARTBEAT_MS	30000
#define PHX_REPLY_MS		5000
#define PHX_CONNECT_MS		10000	/* resolve + connect + upgrade */
#define PHX_CLOSE_MS		3000	/* close handshake when leaving */
#define PHX_BACKOFF_MIN_MS	500
#define PHX_BACKOFF_MAX_MS	60000
#define PHX_MAX_FRAME		(64 * 1024)	/* more: ignored */
#define PHX_MAX_DEPTH		16	/* JSON nesting; deeper: ignored */
#define PHX_MAX_TOKEN		2048	/* fits lws's handshake buffer */
#define PHX_MAX_URL		1024
#define PHX_JUNK_LOGGED		10	/* per connection, then debug */
#define PHX_LOG_MAX		200
#define PHX_QUEUE		32

/* where to connect: from --api-url plus the query parameters */
struct phx_url {
	int		 tls;		/* wss */
	uint16_t	 port;
	int		 numeric;	/* host is an IP literal */
	char		 host[256];	/* IPv6 without brackets */
	char		 hosthdr[272];	/* Host: header, [v6], :port */
	char		 path[2048];	/* path and query */
};

struct phx_conf {
	const char	*api_url;	/* http, https, ws or wss */
	const char	*token;		/* bearer token */
	const char	*secret;	/* stamp_secret; referenced, not copied:
					 * alive until phx_free() */
	const char	*name;		/* query parameters, NULL = omitted */
	const char	*ipv4;
	const char	*ipv6;
	uint16_t	 port;		/* listen port, always sent */
};

enum phx_cmd_type {
	PHX_CMD_CONNECT = 1,	/* resolve phx_url(), connect, upgrade */
	PHX_CMD_SEND,		/* a text frame */
	PHX_CMD_CLOSE,		/* clean websocket close (1000) */
	PHX_CMD_DROP,		/* abandon the connection at once */
	PHX_CMD_LOG,		/* a line for the log */
	PHX_CMD_JOINED,		/* event: joined, ready */
	PHX_CMD_LOST,		/* event: no longer joined */
	PHX_CMD_FATAL,		/* event: give up, exit 1 (text says why) */
	PHX_CMD_LEFT		/* event: after phx_leave(), gone for good */
};
/* FATAL and LEFT are final: no command follows either */

struct phx_cmd {
	enum phx_cmd_type type;
	int		 level;		/* LOG: LOG_WARN, LOG_INFO, LOG_DEBUG */
	unsigned int	 attempt;	/* CONNECT: failures since the last
					 * join (picks the next address) */
	int		 secret;	/* SEND: holds the secret, wipe copies */
	const char	*frame;		/* SEND: valid until the next call */
	size_t		 len;
	char		 text[PHX_LOG_MAX];	/* LOG, FATAL */
};

struct phx_stats {
	uint64_t	 connects;
	uint64_t	 joins;
	uint64_t	 heartbeats;
	uint64_t	 hb_missed;
	uint64_t	 pushes;	/* init and other events */
	uint64_t	 junk;		/* frames ignored as malformed */
	uint64_t	 replies_unmatched;
	uint64_t	 dropped_cmds;	/* queue full: never in practice */
};

/* flags for phx_rx */
#define PHX_RX_FINAL	0x1	/* last fragment of the message */
#define PHX_RX_BINARY	0x2	/* the message is binary */

typedef void	phx_rng_fn(void *arg, void *out, size_t len);

/* NULL with *why set (a static string) when the configuration is bad */
struct phx	*phx_new(const struct phx_conf *, phx_rng_fn *, void *rng_arg,
		    const char **why);
void		 phx_free(struct phx *);
const struct phx_url *phx_url(const struct phx *);
/* "Bearer <token>" into buf; length, or -1 if it does not fit */
int		 phx_auth_header(const struct phx *, char *buf, size_t cap);

/* inputs */
void		 phx_start(struct phx *, uint64_t now);	/* connect at now */
void		 phx_open(struct phx *, uint64_t now);	/* upgrade done */
void		 phx_rx(struct phx *, uint64_t now, const void *, size_t,
		    unsigned int flags);
/* the attempt failed before the upgrade; http_status 0 if none */
void		 phx_fail(struct phx *, uint64_t now, unsigned int http_status,
		    const char *why);
/* an open connection is gone (closed, write error) */
void		 phx_closed(struct phx *, uint64_t now, const char *why);
void		 phx_leave(struct phx *, uint64_t now);	/* drain */
void		 phx_timeout(struct phx *, uint64_t now);
uint64_t	 phx_next_timeout(const struct phx *);	/* UINT64_MAX none */

/* outputs: 1 and *cmd filled, or 0 when empty */
int		 phx_next_cmd(struct phx *, struct phx_cmd *);
int		 phx_joined(const struct phx *);
const struct phx_stats *phx_stats(const struct phx *);

/* phx_url.c: URL mapping and the query string */
int		 phx_url_parse(struct phx_url *, const char *url,
		    const char **why);
int		 phx_url_query(struct phx_url *, const struct phx_conf *);
size_t		 phx_urlenc(const char *, char *out, size_t cap);

#endif
