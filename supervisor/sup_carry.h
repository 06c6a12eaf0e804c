/*
 * sup_carry.h: the receive buffers of worker records, and the records a
 * worker's budget of one loop iteration did not cover, kept in those
 * same buffers (no copy) and served first on the next iteration, once per
 * iteration.
 */
#ifndef SUP_CARRY_H
#define SUP_CARRY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "msg.h"
#include "msg_io.h"

/* the reader's receive ring (sup_wread.c); the pool holds as many again,
 * to keep */
#define SUP_CARRY_RING	48

/* one record: received into data, checked (m points into data) */
struct sup_cbuf {
	struct sup_cbuf		*next;
	struct msg		 m;
	size_t			 off;		/* payload bytes served */
	uint8_t			 data[MSG_RECV_BUFLEN];
};

struct sup_carry;
typedef void	sup_carry_fn(struct sup_carry *);

struct sup_carry {
	struct sup_cbuf		*head, *last;	/* kept records, in order */
	sup_carry_fn		*fn;		/* serves them, once per iteration */
	void			*arg;
	LIST_ENTRY(sup_carry)	 entry;
};

void	sup_carry_init(struct ev_loop *);
/* a free buffer from the pool, NULL when it is empty */
struct sup_cbuf *sup_carry_get(void);
size_t	sup_carry_nfree(void);
/* keep a checked record after the others (the buffer is the carry's) */
void	sup_carry_keep(struct sup_carry *, struct sup_cbuf *);
/* the first kept record is done: its buffer back to the pool */
void	sup_carry_done(struct sup_carry *);
/* every kept record back to the pool */
void	sup_carry_drop(struct sup_carry *);
/* bytes of p that hold the first *frames frames of a checked MSG_DATA
 * payload (at least one); *frames is decreased by the frames counted */
size_t	sup_carry_cut(const uint8_t *, size_t, size_t *frames);

#endif
