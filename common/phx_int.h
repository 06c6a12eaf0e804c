/*
 * phx_int.h: private to phx.c and phx_rx.c: the state of the portal
 * protocol core and the helpers both halves use.
 */
#ifndef PHX_INT_H
#define PHX_INT_H

#include <stdint.h>

#include "phx.h"

enum phx_state {
	PHX_S_INIT = 0,
	PHX_S_WAIT,
	PHX_S_CONNECTING,
	PHX_S_OPEN,
	PHX_S_JOINED,
	PHX_S_CLOSING,
	PHX_S_LEFT,
	PHX_S_FATAL
};

struct phx_qent {
	struct phx_cmd	 c;
	char		*buf;		/* SEND: owned frame */
};

struct phx {
	enum phx_state	 state;
	struct phx_url	 url;
	char		*token;
	const char	*secret;	/* the caller's, not a copy */
	phx_rng_fn	*rng;
	void		*rng_arg;

	int		 leaving;
	int		 left_due;	/* report LEFT at the next timeout */
	uint32_t	 backoff_ms;	/* base of the next wait */
	unsigned int	 failures;	/* since the last good join */
	uint64_t	 at;		/* WAIT, CONNECTING, CLOSING deadline */
	uint64_t	 hb_next;	/* OPEN, JOINED: next heartbeat */
	uint64_t	 hb_due;	/* reply deadline, if hb_ref >= 0 */
	int64_t		 next_ref;
	int64_t		 join_ref;
	int64_t		 hb_ref;
	unsigned int	 junk_conn;	/* junk frames on this connection */

	unsigned char	*rx;		/* PHX_MAX_FRAME bytes */
	size_t		 rx_len;
	int		 rx_in;		/* inside a message */
	int		 rx_bin;
	int		 rx_over;	/* too big: discarding the rest */

	struct phx_qent	 q[PHX_QUEUE];
	size_t		 qhead, qlen;
	char		*out_buf;	/* the frame last handed out */
	size_t		 out_len;
	int		 out_secret;

	struct phx_stats st;
};

/* phx.c */
struct phx_qent	*phx_push(struct phx *, enum phx_cmd_type);
void		 phx_cmd(struct phx *, enum phx_cmd_type);
void		 phx_log(struct phx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
const char	*phx_clean(const struct phx *, const char *, char *, size_t);
void		 phx_lost(struct phx *, uint64_t now);
void		 phx_fatal(struct phx *, const char *why);

#endif
