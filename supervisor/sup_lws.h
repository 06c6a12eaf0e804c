/*
 * sup_lws.h: private to sup_lws.c and sup_portal.c: the one
 * libwebsockets context of the supervisor, on its libev loop.
 */
#ifndef SUP_LWS_H
#define SUP_LWS_H

struct ev_loop;
struct lws_context;

struct lws_context *sup_lws_context(void);	/* NULL before sup_lws_init */
struct ev_loop	*sup_lws_loop(void);

#endif
