/*
 * sup_portal.h: the portal connection (Phoenix channels V1 over a
 * websocket, libwebsockets on the supervisor's libev loop, cJSON). The
 * health listener is apart, in sup_health.h.
 *
 * The supervisor calls sup_lws_init() (sup_lws.h) once after creating its
 * loop (only when a token is configured), then portal_start().
 * Nothing here ever blocks, and nothing here is fatal except an HTTP 4xx
 * on the upgrade and a "disconnect" with reason token_expired, which are
 * reported as PORTAL_FATAL; the supervisor then exits 1. The protocol
 * itself is the pure core common/phx.c.
 */
#ifndef SUP_PORTAL_H
#define SUP_PORTAL_H

#include <stdint.h>

#include "phx.h"

enum portal_event {
	PORTAL_JOINED = 1,	/* joined topic relay: ready */
	PORTAL_LOST,		/* no longer joined (reconnecting or leaving) */
	PORTAL_FATAL,		/* why: give up, exit 1 */
	PORTAL_LEFT		/* after portal_leave(): gone for good */
};

/* the supervisor hears from the portal through this one function: from
 * the loop, never from inside portal_start(), and PORTAL_LEFT never from
 * inside portal_leave() (PORTAL_LOST may be) */
struct portal_cb {
	void	(*on_event)(void *arg, enum portal_event, const char *why);
	void	 *arg;
};

/* the portal's URL, token, secret and query parameters (phx.h); 0 ok,
 * -1 (logged) */
int	portal_start(const struct phx_conf *, const struct portal_cb *);
/* drain: clean websocket close; PORTAL_LEFT comes when the connection
 * is gone (at once if it was not connected: from the loop's next
 * iteration; at most 3 s after the call); no reconnect afterwards */
void	portal_leave(void);
int	portal_connected(void);
/* frames from the portal ignored as junk, 0 without a portal */
uint64_t portal_junk_frames(void);

#endif
