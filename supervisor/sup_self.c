/*
 * sup_self.c: every address the host owns is the relay, for the peer
 * filter (attack case 7; README.md, "Security model").
 *
 * Without this only the listen ip:port was refused: a client could make
 * the relay send to a service on any of the host's addresses (a DNS
 * resolver on the public address, port 5353) or bind a channel to the
 * relay's listen port on another local address and nest allocations. The
 * host's addresses (getifaddrs(3), plus the bind and public addresses)
 * go into peer_filter.host with the relay port range, so that only the
 * relay's own relay ports stay reachable (hairpin). The list is read at
 * start (workers get it in their MSG_CONF) and again every
 * SUP_SELF_REFRESH seconds for the supervisor's own check, which every
 * channel and permission must pass first, and for the XDP fast path,
 * which leaves channels to a host address to the workers.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sup.h"

#define SUP_SELF_REFRESH	30.0	/* s between rescans */

static ev_timer			sup_self_timer;
static struct peer_filter	sup_self_f;	/* of the last scan */

static void
sup_self_add(struct peer_filter *f, const struct taddr *a)
{
	struct taddr	ip = *a;
	size_t		i;

	if (ip.family != ADDR_V4 && ip.family != ADDR_V6)
		return;
	ip.port = 0;
	for (i = 0; i < f->n_host; i++)
		if (addr_ip_eq(&f->host[i], &ip))
			return;
	if (f->n_host < PEER_MAX_HOST)
		f->host[f->n_host++] = ip;
}

/* f->host and the relay range from the interfaces and the configuration;
 * the number of addresses, -1 if the interfaces could not be read */
int
sup_self_scan(const struct sup_conf *c, struct peer_filter *f)
{
	struct ifaddrs	*ifa, *i;
	struct taddr	 a;
	int		 r = 0;

	f->n_host = 0;
	f->relay_lo = c->lowest_port;
	f->relay_hi = c->highest_port;
	if (c->public4.family != 0) {
		sup_self_add(f, &c->public4);
		sup_self_add(f, &c->bind4);	/* 0.0.0.0 is denied anyway */
	}
	if (c->public6.family != 0) {
		sup_self_add(f, &c->public6);
		sup_self_add(f, &c->bind6);
	}
	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		if (addr_from_sockaddr(i->ifa_addr,
		    i->ifa_addr->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    &a) == 0)
			sup_self_add(f, &a);
	}
	freeifaddrs(ifa);
	if (f->n_host >= PEER_MAX_HOST)
		r = -1;
	return r == -1 ? -1 : (int)f->n_host;
}

/* a WARN naming the host addresses an --allow-peer range exposes */
void
sup_self_warn(const struct sup_conf *c)
{
	const struct peer_filter	*f = &c->filter;
	char				 list[512], ip[ADDR_STRLEN];
	size_t				 i, j, len = 0;

	list[0] = '\0';
	for (i = 0; i < f->n_host; i++)
		for (j = 0; j < f->n_allow; j++) {
			if (!peer_cidr_match(&f->allow[j], &f->host[i]))
				continue;
			addr_fmt_ip(&f->host[i], ip, sizeof(ip));
			if (len + strlen(ip) + 2 < sizeof(list))
				len += (size_t)snprintf(list + len,
				    sizeof(list) - len, "%s%s",
				    len > 0 ? " " : "", ip);
			break;
		}
	if (len > 0)
		log_kv(LOG_WARN, "--allow-peer exposes addresses of this "
		    "host to clients on every port", "addresses", list,
		    (char *)NULL);
}

static void
sup_self_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sup		*s = w->data;
	struct peer_filter	 f = s->conf->filter;

	(void)loop;
	(void)revents;
	if (sup_self_scan(s->conf, &f) == -1 && f.n_host == 0)
		return;
	if (f.n_host != sup_self_f.n_host)
		log_msg(LOG_INFO, "Host addresses changed n=%zu was=%zu", f.n_host,
		    sup_self_f.n_host);
	sup_self_f = f;
	turn_set_filter(s->turn, &f);
}

/* the peer filter with the host's addresses of the last scan: the
 * engine's, and the supervisor's own sends to peers (sup_rsock.c) */
const struct peer_filter *
sup_self_filter(void)
{
	return &sup_self_f;
}

/* 1 when ip is one of the host's addresses at the last scan */
int
sup_self_is_host(const struct taddr *ip)
{
	size_t	i;

	for (i = 0; i < sup_self_f.n_host; i++)
		if (addr_ip_eq(&sup_self_f.host[i], ip))
			return 1;
	return 0;
}

void
sup_self_start(struct sup *s)
{
	sup_self_f = s->conf->filter;
	ev_timer_init(&sup_self_timer, sup_self_timer_cb, SUP_SELF_REFRESH,
	    SUP_SELF_REFRESH);
	sup_self_timer.data = s;
	ev_timer_start(s->loop, &sup_self_timer);
}
