/*
 * sup_dns.h: host name lookups off the loop and without polling
 * (sup_dns.c), one at a time.
 */
#ifndef SUP_DNS_H
#define SUP_DNS_H

struct addrinfo;
struct ev_loop;
struct sup_dns;

/* err is 0 or an EAI_* code; res is freed by the caller of sup_dns */
typedef void	sup_dns_cb(void *arg, int err, const struct addrinfo *res);

struct sup_dns	*sup_dns_new(struct ev_loop *);
/* 0 started; -1 when a lookup abandoned earlier still runs or
 * getaddrinfo_a refuses (try again later) */
int		 sup_dns_start(struct sup_dns *, const char *host,
		    sup_dns_cb *, void *arg);
/* the callback will not be called for the current lookup */
void		 sup_dns_cancel(struct sup_dns *);

#endif
