/*
 * sup_health.h: the health and metrics HTTP listener (sup_health.c).
 */
#ifndef SUP_HEALTH_H
#define SUP_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct health_src {
	/* writes Prometheus text into buf, returns length (<= cap) */
	size_t	(*metrics)(void *arg, char *buf, size_t cap);
	/* 1 when ready (serving, not draining, portal connected if token) */
	int	(*ready)(void *arg);
	void	 *arg;
};

/* GET /healthz, /readyz, /metrics on addr "ip:port" or "[ip6]:port"
 * (0.0.0.0 / :: = all addresses; port 0 = one the kernel chooses) on
 * loop; *bound gets the port. -1 (logged) when the address is bad or
 * cannot be bound */
int	health_start(struct ev_loop *, const char *addr,
	    const struct health_src *, uint16_t *bound);

#endif
