/*
 * sup_xdp.h: the XDP fast path's supervisor side (sup_xdp.c). Every
 * function is a no-op, and sup_xdp_stats() says -1, unless the program
 * is attached to at least one interface.
 */
#ifndef SUP_XDP_H
#define SUP_XDP_H

#include <stdint.h>

#include "bpf/xdp_relay.h"	/* XR_NSTATS */

struct sup;
struct sup_conf;
struct taddr;

struct sup_xdp_stats {
	uint64_t	 v[XR_NSTATS];	/* enum xr_stat, summed over CPUs */
	uint64_t	 channels;		/* in the maps now */
	uint64_t	 full;			/* refused: maps full */
};

/* load and attach to every --xdp interface; failures are logged and
 * leave the userspace path alone */
void	 sup_xdp_start(const struct sup_conf *);
/* detach and unload */
void	 sup_xdp_stop(void);
int	 sup_xdp_active(void);
/* the pump's commands (sup_pump.c) */
void	 sup_xdp_chan_add(struct sup *, uint32_t alloc_id, uint16_t chan,
	    const struct taddr *peer);
void	 sup_xdp_chan_del(uint32_t alloc_id, uint16_t chan);
void	 sup_xdp_alloc_gone(uint32_t alloc_id);
int	 sup_xdp_stats(struct sup_xdp_stats *);
/* payload bytes relayed both ways (the 10 s stats line) */
uint64_t sup_xdp_bytes(void);

#endif
