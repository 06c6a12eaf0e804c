/*
 * sup_carry.h: the frames of a worker's MSG_DATA record left over when
 * its budget of one loop iteration ran out, and the list of workers
 * holding such a rest, served once per iteration.
 */
#ifndef SUP_CARRY_H
#define SUP_CARRY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct sup_carry;
typedef void	sup_carry_fn(struct sup_carry *);

struct sup_carry {
	uint8_t			*buf;		/* pool buffer, NULL = none */
	size_t			 len, off;	/* frames at buf[off..len) */
	sup_carry_fn		*fn;		/* serves it, once per iteration */
	void			*arg;
	LIST_ENTRY(sup_carry)	 entry;
};

void	sup_carry_init(struct ev_loop *);
/* keep len bytes of frames; 0, or -1 when the pool is empty */
int	sup_carry_take(struct sup_carry *, const uint8_t *, size_t);
void	sup_carry_drop(struct sup_carry *);
/* bytes of p that hold the first *frames frames of a checked MSG_DATA
 * payload (at least one); *frames is decreased by the frames counted */
size_t	sup_carry_cut(const uint8_t *, size_t, size_t *frames);

#endif
