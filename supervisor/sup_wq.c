/*
 * sup_wq.c: the queue of records towards one worker, and the pool of
 * record buffers all queues share (see sup_wq.h for the rules).
 */
#include <sys/types.h>

#include <errno.h>
#include <string.h>

#include "msg.h"
#include "msg_io.h"
#include "sup.h"
#include "sup_wq.h"

#define WQ_POOL		64	/* MSG_DATA batches + queued records */

static uint8_t		 wq_pool_mem[WQ_POOL][MSG_MAX_RECORD];
static uint8_t		*wq_pool[WQ_POOL];
static size_t		 wq_pool_n;
static struct sup_wq	*wq_dirty[WQ_POOL];	/* open MSG_DATA batches */
static size_t		 wq_ndirty;

static void	wq_write_cb(struct ev_loop *, ev_io *, int);

void
sup_wq_pool_init(void)
{
	size_t	i;

	for (i = 0; i < WQ_POOL; i++)
		wq_pool[i] = wq_pool_mem[i];
	wq_pool_n = WQ_POOL;
}

void
sup_wq_init(struct sup_wq *q, struct sup *s, int fd, sup_wq_fail_fn *fail)
{
	memset(q, 0, sizeof(*q));
	q->sup = s;
	q->fd = fd;
	q->fail = fail;
	ev_io_init(&q->wio, wq_write_cb, fd, EV_WRITE);
	q->wio.data = q;	/* started only while records wait */
}

static void
wq_undirty(struct sup_wq *q)
{
	size_t	i;

	for (i = 0; i < wq_ndirty; i++) {
		if (wq_dirty[i] == q) {
			wq_dirty[i] = wq_dirty[--wq_ndirty];
			break;
		}
	}
}

static void
wq_batch_release(struct sup_wq *q)
{
	if (q->batch_mem == NULL)
		return;
	q->sup->cnt.worker_drops += q->batch_frames;
	wq_pool[wq_pool_n++] = q->batch_mem;
	q->batch_mem = NULL;
	wq_undirty(q);
}

/* 0 sent, 1 the worker's queue is full (EAGAIN), -1 lost (its frames
 * datagrams counted) */
static int
wq_try(struct sup_wq *q, const void *rec, size_t len, unsigned frames)
{
	if (msg_send_rec(q->fd, rec, len) == 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 1;
	/* EPIPE: EOF and reaping follow */
	q->sup->cnt.worker_drops += frames;
	return -1;
}

/* keep the record in pool buffer p for EV_WRITE, or drop it (its frames
 * datagrams counted): tail drop at SUP_WQ_MAX records */
static void
wq_enqueue(struct sup_wq *q, uint8_t *p, size_t len, unsigned frames)
{
	unsigned	i;

	if (q->qn == SUP_WQ_MAX) {
		wq_pool[wq_pool_n++] = p;
		q->sup->cnt.worker_drops += frames;
		/* a worker that reads nothing for long holds pool buffers
		 * the other allocations need: stop it */
		if (ev_now(q->sup->loop) - q->q_progress > SUP_WQ_STUCK_SECONDS)
			q->fail(q, "worker stopped reading its socketpair");
		return;
	}
	i = (q->qhead + q->qn) % SUP_WQ_MAX;
	q->q[i] = p;
	q->qlen[i] = len;
	q->qframes[i] = frames;
	if (q->qn++ == 0) {
		q->q_progress = ev_now(q->sup->loop);
		ev_io_start(q->sup->loop, &q->wio);
	}
}

/* give back every queued record's buffer (the worker is gone) */
void
sup_wq_drop_queue(struct sup_wq *q)
{
	while (q->qn > 0) {
		q->sup->cnt.worker_drops += q->qframes[q->qhead];
		wq_pool[wq_pool_n++] = q->q[q->qhead];
		q->qhead = (q->qhead + 1) % SUP_WQ_MAX;
		q->qn--;
	}
	ev_io_stop(q->sup->loop, &q->wio);
}

/* the open batch and the queue: no more records to this worker */
void
sup_wq_release(struct sup_wq *q)
{
	wq_batch_release(q);
	sup_wq_drop_queue(q);
}

/* the worker's queue has room again: send what waits, in order */
static void
wq_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sup_wq	*q = io->data;

	(void)revents;
	while (q->qn > 0 && q->fd != -1) {
		if (wq_try(q, q->q[q->qhead], q->qlen[q->qhead],
		    q->qframes[q->qhead]) == 1)
			return;
		q->q_progress = ev_now(loop);
		wq_pool[wq_pool_n++] = q->q[q->qhead];
		q->qhead = (q->qhead + 1) % SUP_WQ_MAX;
		q->qn--;
	}
	ev_io_stop(loop, io);
}

/*
 * A record in caller storage: after what waits. Control records are
 * never dropped: the worker must see every CHAN_ADD/DEL and PERM_*, or a
 * lost CHAN_DEL would leave a channel bound to the old peer in the worker
 * while the engine rebinds it. One that cannot even be queued makes the
 * owner stop the allocation instead.
 */
void
sup_wq_send(struct sup_wq *q, const void *rec, size_t len, int control)
{
	uint8_t	*p;

	if (q->fd == -1 || len == 0)
		return;
	/* a data record (SEND) is one datagram; a control one none */
	if (q->qn == 0 && wq_try(q, rec, len, control ? 0 : 1) != 1)
		return;
	if (control && (q->qn == SUP_WQ_MAX || wq_pool_n == 0)) {
		q->fail(q, "control message could not be queued");
		return;
	}
	if (wq_pool_n == 0 || len > MSG_MAX_RECORD) {
		q->sup->cnt.worker_drops++;
		return;
	}
	p = wq_pool[--wq_pool_n];
	memcpy(p, rec, len);
	wq_enqueue(q, p, len, control ? 0 : 1);
}

/* send the open MSG_DATA batch, if any (before a control record too, to
 * keep the order of data and control) */
void
sup_wq_flush(struct sup_wq *q)
{
	uint8_t		*p = q->batch_mem;
	size_t		 len;
	unsigned	 frames = q->batch_frames;

	if (p == NULL)
		return;
	len = msg_data_end(&q->batch);
	/* detach the buffer from the batch; it is queued or returned */
	q->batch_mem = NULL;
	wq_undirty(q);
	if (q->fd != -1 && len > 0 &&
	    (q->qn > 0 || wq_try(q, p, len, frames) == 1)) {
		wq_enqueue(q, p, len, frames);
		return;
	}
	if (q->fd == -1)
		q->sup->cnt.worker_drops += frames;
	wq_pool[wq_pool_n++] = p;
}

void
sup_wq_flush_all(void)
{
	while (wq_ndirty > 0)
		sup_wq_flush(wq_dirty[wq_ndirty - 1]);
}

static int
wq_batch_open(struct sup_wq *q)
{
	if (q->batch_mem != NULL)
		return 0;
	if (wq_pool_n == 0)
		sup_wq_flush_all();
	if (wq_pool_n == 0)
		return -1;
	q->batch_mem = wq_pool[--wq_pool_n];
	q->batch_frames = 0;
	wq_dirty[wq_ndirty++] = q;
	buf_w_init(&q->batch, q->batch_mem, MSG_MAX_RECORD);
	msg_data_begin(&q->batch);
	return 0;
}

/* add one frame to the worker's open MSG_DATA batch: 0, or -1 dropped */
int
sup_wq_data(struct sup_wq *q, uint16_t chan, const uint8_t *p, size_t len)
{
	if (wq_batch_open(q) == -1)
		return -1;
	if (msg_data_add(&q->batch, chan, p, len) == 0) {
		q->batch_frames++;
		return 0;
	}
	/* record full: send it and start the next one (unless that
	 * stopped the worker) */
	sup_wq_flush(q);
	if (q->fd == -1 || wq_batch_open(q) == -1 ||
	    msg_data_add(&q->batch, chan, p, len) == -1)
		return -1;
	q->batch_frames++;
	return 0;
}
