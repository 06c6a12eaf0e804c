/*
 * sup_lws.h: the one libwebsockets context of the supervisor, on its
 * libev loop (sup_lws.c): main.c creates it when a token is configured,
 * sup_portal.c uses it.
 */
#ifndef SUP_LWS_H
#define SUP_LWS_H

struct ev_loop;
struct lws_context;

/* 0 ok, -1 (logged) */
int		 sup_lws_init(struct ev_loop *);
void		 sup_lws_free(void);
struct lws_context *sup_lws_context(void);	/* NULL before sup_lws_init */
struct ev_loop	*sup_lws_loop(void);

#endif
