/*
 * sup_wq.h: the queue towards one worker and the shared buffer pool.
 *
 * Data for a worker is batched: the frames of one receive batch that go
 * to one worker travel in one MSG_DATA record, built in a buffer from a
 * small shared pool and flushed after the batch. Sends never block: when
 * the worker's socket queue is full (EAGAIN) the record waits in a short
 * per-worker queue (SUP_WQ_MAX records, pool buffers) drained on
 * EV_WRITE; past that, or with the pool empty, the record is dropped
 * (its datagrams counted in cnt.worker_drops, as are those of a worker
 * that is gone). A control record that cannot be queued,
 * or a queue that stays full for SUP_WQ_STUCK_SECONDS, makes the queue
 * call its fail function: the owner stops that worker.
 */
#ifndef SUP_WQ_H
#define SUP_WQ_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "buf.h"

#define SUP_WQ_MAX		16	/* records queued per worker */
#define SUP_WQ_STUCK_SECONDS	5.	/* full queue, no progress: stop it */

struct sup;
struct sup_wq;

typedef void	sup_wq_fail_fn(struct sup_wq *, const char *why);

struct sup_wq {
	struct sup	*sup;
	int		 fd;		/* the socketpair; -1 once closed */
	sup_wq_fail_fn	*fail;
	ev_io		 wio;		/* EV_WRITE while qn > 0 */
	uint8_t		*q[SUP_WQ_MAX];	/* pool buffers, in order */
	size_t		 qlen[SUP_WQ_MAX];
	unsigned	 qframes[SUP_WQ_MAX];	/* datagrams in each */
	unsigned	 qhead, qn;
	ev_tstamp	 q_progress;	/* last time the queue moved */
	uint8_t		*batch_mem;	/* pool buffer, data pending */
	struct buf_w	 batch;
	unsigned	 batch_frames;
};

void	sup_wq_pool_init(void);
void	sup_wq_init(struct sup_wq *, struct sup *, int fd, sup_wq_fail_fn *);
void	sup_wq_send(struct sup_wq *, const void *, size_t, int control);
int	sup_wq_data(struct sup_wq *, uint16_t, const uint8_t *, size_t);
void	sup_wq_flush(struct sup_wq *);
void	sup_wq_flush_all(void);
void	sup_wq_release(struct sup_wq *);
void	sup_wq_drop_queue(struct sup_wq *);

#endif
