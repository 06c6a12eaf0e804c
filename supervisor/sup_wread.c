/*
 * sup_wread.c: the records a worker sends, read within its budget of one
 * loop iteration, checked and handed to their handlers.
 *
 * Trust: everything a worker sends passes msg_check() (direction, exact
 * size, state, once-only) and the typed getter before any handler runs;
 * a worker that breaks a rule is stopped as hostile (sup_worker.c).
 */
#include <sys/queue.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "msg_io.h"
#include "sup.h"
#include "sup_carry.h"
#include "sup_metrics.h"
#include "sup_wk.h"
#include "sup_wq.h"

/*
 * The budget of one worker per loop iteration, so that one worker cannot
 * hold the loop: its io watcher is level triggered, so a worker that used
 * its budget is read again on the next iteration, after every other ready
 * descriptor (clients, other workers) had its turn. The cost of a record
 * is its frames (one send each): a record of the largest size holds some
 * 13,000 one-byte frames, several milliseconds of sends. So frames are
 * counted inside a record, which is cut at a frame boundary when they run
 * out; the rest, and every record read after it, is kept and comes
 * first on the next iteration (sup_carry.c). 256 frames are about 0.2 ms
 * of sends: a client's Binding waits for at most that per busy worker.
 * Records and bytes bound the reads themselves: records are read in
 * batches (one recvmmsg), each asking for no more than the records left
 * and the bytes left allow (one record of the largest size past the byte
 * budget at most, as when records were read one at a time).
 */
#define WK_BUDGET_RECS		16	/* records per iteration */
#define WK_BUDGET_BYTES		262144	/* bytes of records per iteration */
#define WK_BUDGET_FRAMES	256	/* MSG_DATA frames per iteration */
#define WK_LOG_BURST		20	/* log lines per window */
#define WK_LOG_WINDOW_MS	10000

/*
 * The receive buffers (from the carry pool), used as a ring: frames
 * handed to the engine point into them, and the sends to clients they
 * cause are flushed once per loop iteration (wk_prepare_cb), or earlier
 * by any other input; until then the next batches, of this worker or
 * others, go to the following slots. With nothing left to send the ring
 * starts over; a batch that does not fit flushes first. A buffer whose
 * record is kept moves to the worker's carry and its slot gets a fresh
 * one.
 */
#define WK_RING			SUP_CARRY_RING
static struct sup_cbuf		*wk_slot[WK_RING];
static uint8_t			*wk_rbuf[WK_RING];
static unsigned			 wk_ring_next;
static ev_prepare		 wk_prepare;
static uint64_t			 wk_rat[WK_BUDGET_RECS];	/* arrival, ns */

static void	wk_dispatch(struct worker *, const struct msg *);

/* before the loop sleeps: the sends of this iteration's worker data */
static void
wk_prepare_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
	(void)loop;
	(void)revents;
	sup_send_flush(p->data);
	wk_ring_next = 0;
}

void
wk_read_init(struct sup *s)
{
	size_t	i;

	for (i = 0; i < WK_RING; i++) {
		/* the pool is sized for the ring and as many to keep */
		if ((wk_slot[i] = sup_carry_get()) == NULL)
			fatalx("the carry pool is smaller than the ring");
		wk_rbuf[i] = wk_slot[i]->data;
	}
	ev_prepare_init(&wk_prepare, wk_prepare_cb);
	wk_prepare.data = s;
	ev_prepare_start(s->loop, &wk_prepare);
}

/* the first of max free slots of the ring, flushing what is held */
static unsigned
wk_ring_take(struct sup *s, unsigned max)
{
	if (!sup_send_pending())
		wk_ring_next = 0;	/* nothing points into the ring */
	if (WK_RING - wk_ring_next < max) {
		sup_send_flush(s);
		wk_ring_next = 0;
	}
	return wk_ring_next;
}

/* one line for the lines the rate limit dropped */
void
wk_log_suppressed(struct worker *w)
{
	char	ids[16], n[16];

	if (w->log_dropped == 0)
		return;
	snprintf(ids, sizeof(ids), "%u", w->alloc_id);
	snprintf(n, sizeof(n), "%u", w->log_dropped);
	log_kv(LOG_WARN, "Worker log lines suppressed", "alloc_id", ids,
	    "suppressed", n, (char *)NULL);
	w->log_dropped = 0;
}

static int
wk_log_allowed(struct worker *w)
{
	uint64_t	now = sup_now_ms();

	if (now - w->log_t0 >= WK_LOG_WINDOW_MS) {
		wk_log_suppressed(w);
		w->log_t0 = now;
		w->log_n = 0;
		w->log_dropped = 0;
	}
	if (w->log_n >= WK_LOG_BURST) {
		w->log_dropped++;
		w->sup->cnt.log_suppressed++;
		return 0;
	}
	w->log_n++;
	return 1;
}

static void
wk_on_log(struct worker *w, const struct msg_log *l)
{
	char	text[MSG_LOG_MAX + 1], ids[16];
	size_t	i;

	if (l->level > LOG_DEBUG || (int)l->level > log_level() ||
	    !wk_log_allowed(w))
		return;
	/*
	 * Printable ASCII only: a worker cannot forge lines. Its k=v pairs
	 * become JSON members in log.c, escaped, bounded in number, and
	 * unable to take the names of the line's own members or of the
	 * alloc_id and src given here.
	 */
	for (i = 0; i < l->len && i < MSG_LOG_MAX; i++)
		text[i] = l->text[i] >= 0x20 && l->text[i] < 0x7f ?
		    (char)l->text[i] : '?';
	text[i] = '\0';
	snprintf(ids, sizeof(ids), "%u", w->alloc_id);
	log_kv(l->level, text, "alloc_id", ids, "src", "worker",
	    (char *)NULL);
}

static void
wk_on_ready(struct worker *w, const struct msg *m)
{
	struct msg_ready	r;

	if (msg_get_ready(m, &r) == -1 || r.port != w->port ||
	    r.families != w->families) {
		wk_hostile(w, "bad READY");
		return;
	}
	w->state = MSG_ST_READY;
	ev_timer_stop(w->sup->loop, &w->ready_timer);
	sup_pump_event(w->sup, SUP_IN_READY, w->alloc_id);
}

/* frames of a checked MSG_DATA to the engine; the worker may be stopped */
static void
wk_feed(struct worker *w, const uint8_t *p, size_t len)
{
	struct sup_input	in;

	memset(&in, 0, sizeof(in));
	in.type = SUP_IN_DATA;
	in.alloc_id = w->alloc_id;
	in.data = p;
	in.len = len;
	sup_pump(w->sup, &in, 1);
}

/*
 * Keep the record of slot i for the next iteration, served from byte off
 * of its payload: its buffer moves to the worker's carry and the slot
 * gets a fresh one. -1 when the pool is empty (the caller hands it over
 * whole instead).
 */
static int
wk_keep(struct worker *w, int i, const struct msg *m, size_t off)
{
	struct sup_cbuf	*b = wk_slot[i], *fresh;

	if ((fresh = sup_carry_get()) == NULL)
		return -1;
	b->m = *m;
	b->off = off;
	sup_carry_keep(&w->carry, b);
	wk_slot[i] = fresh;
	wk_rbuf[i] = fresh->data;
	return 0;
}

/* the kept records first, within *frames: 1 if some are still kept */
static int
wk_carry_feed(struct worker *w, size_t *frames)
{
	struct sup_cbuf	*b;
	const uint8_t	*p;
	size_t		 cut;

	while ((b = w->carry.head) != NULL) {
		if (b->m.type == MSG_DATA) {
			if (*frames == 0)
				return 1;
			p = b->m.payload + b->off;
			cut = sup_carry_cut(p, b->m.len - b->off, frames);
			b->off += cut;
			/* the pump is done with p when wk_feed() returns */
			wk_feed(w, p, cut);
			if (w->stopping)
				return 0;	/* detached: the carry is gone */
			if (b->off < b->m.len)
				return 1;
		} else {
			wk_dispatch(w, &b->m);
			if (w->stopping)
				return 0;
		}
		sup_carry_done(&w->carry);
	}
	return 0;
}

/* one datagram from a peer without a channel (--indications) */
static void
wk_on_peer_data(struct worker *w, const struct msg *m)
{
	struct sup_input	in;
	struct msg_pkt		k;

	if (msg_get_peer_data(m, &k) == -1) {
		wk_hostile(w, "bad PEER_DATA");
		return;
	}
	/* no --indications, or impossible data: the engine stops it */
	memset(&in, 0, sizeof(in));
	in.type = SUP_IN_PEER_DATA;
	in.alloc_id = w->alloc_id;
	in.addr = k.peer;
	in.data = k.data;
	in.len = k.len;
	sup_pump(w->sup, &in, 1);
}

/* counters since the last MSG_STATS (deltas) */
static void
wk_on_stats(struct worker *w, const struct msg *m)
{
	struct msg_stats	st;

	if (msg_get_stats(m, &st) == -1) {
		wk_hostile(w, "bad STATS");
		return;
	}
	w->sup->cnt.peer_denied += st.denied;
	w->sup->cnt.throttled_p2c += st.rx_throttled;
	w->sup->cnt.throttled_c2p += st.tx_throttled;
	w->sup->cnt.peer_late += st.rx_late;
	w->sup->cnt.peer_full += st.rx_full;
	w->sup->cnt.peer_send += st.tx_full;
	w->sup->cnt.worker_late += st.tx_late;
}

/* a checked record other than MSG_DATA */
static void
wk_dispatch(struct worker *w, const struct msg *m)
{
	struct msg_log	l;

	switch (m->type) {
	case MSG_READY:
		wk_on_ready(w, m);
		break;
	case MSG_LOG:
		if (msg_get_log(m, &l) == -1)
			wk_hostile(w, "bad LOG");
		else
			wk_on_log(w, &l);
		break;
	case MSG_STATS:
		wk_on_stats(w, m);
		break;
	case MSG_PEER_DATA:
		wk_on_peer_data(w, m);
		break;
	default:
		wk_hostile(w, "unexpected message type");
		break;
	}
}

/* the MSG_DATA records of a batch taken so far, to the engine at once:
 * their sends go out in one flush (the pump's rule for consecutive data
 * inputs); 0, or -1 when the worker was stopped by one of them */
static int
wk_pump_data(struct worker *w, struct sup_input *in, size_t *nin)
{
	if (*nin == 0)
		return 0;
	sup_pump_data(w->sup, in, *nin);
	*nin = 0;
	return w->stopping ? -1 : 0;
}

/*
 * One checked record of the batch, in slot i: a MSG_DATA record within
 * the frame budget joins in[] (cut at a frame boundary when the budget
 * runs out, the rest kept); once records are kept, or the budget is out,
 * it is kept whole, after them; any other record is handled at once,
 * after the data before it. -1 when the worker was stopped.
 */
static int
wk_take(struct worker *w, int i, const struct msg *m, size_t *frames,
    struct sup_input *in, size_t *nin)
{
	size_t	cut;

	if (m->type == MSG_DATA && w->carry.head == NULL && *frames > 0) {
		if (m->frames <= *frames) {	/* the whole record fits */
			*frames -= m->frames;
			cut = m->len;
		} else
			cut = sup_carry_cut(m->payload, m->len, frames);
		if (cut < m->len && wk_keep(w, i, m, cut) == -1)
			cut = m->len;	/* the pool is empty: whole */
		memset(&in[*nin], 0, sizeof(in[*nin]));
		in[*nin].type = SUP_IN_DATA;
		in[*nin].alloc_id = w->alloc_id;
		in[*nin].data = m->payload;
		in[*nin].len = cut;
		(*nin)++;
		return 0;
	}
	if ((m->type == MSG_DATA || w->carry.head != NULL) &&
	    wk_keep(w, i, m, 0) == 0)
		return 0;
	/* the pool is empty: cannot be (a batch asks for no more records
	 * than it can keep), but a record is never lost */
	if (wk_pump_data(w, in, nin) == -1)
		return -1;
	if (m->type == MSG_DATA) {
		wk_feed(w, m->payload, m->len);
		return w->stopping ? -1 : 0;
	}
	wk_dispatch(w, m);
	return w->stopping ? -1 : 0;
}

/* end of file: the child watcher takes it from here */
static void
wk_eof(struct worker *w)
{
	sup_wq_drop_queue(&w->wq);
	ev_io_stop(w->sup->loop, &w->io);
	close(w->wq.fd);
	w->wq.fd = -1;
}

/* records to ask for at once: what the record and byte budgets leave
 * (see WK_BUDGET_*) and what the pool could keep; at least one */
static unsigned
wk_batch_max(unsigned recs, size_t bytes)
{
	size_t	max = WK_BUDGET_RECS - recs, by, pool = sup_carry_nfree();

	by = 1 + (WK_BUDGET_BYTES - bytes) / MSG_MAX_RECORD;
	if (by < max)
		max = by;
	if (pool < max)
		max = pool > 0 ? pool : 1;
	return (unsigned)max;
}

/*
 * Read records within the budget of one iteration (WK_BUDGET_*), kept
 * records first. Returns 1 when the budget ran out (more may be queued or
 * kept), 0 otherwise; the worker may be detached on return. Once per
 * iteration unless `drain` (a dead worker's last records).
 */
int
wk_read(struct worker *w, int drain)
{
	struct sup_input in[WK_BUDGET_RECS];
	struct msg	m;
	size_t		lens[WK_BUDGET_RECS], nin, bytes = 0;
	size_t		frames = WK_BUDGET_FRAMES;
	unsigned	iter = ev_iteration(w->sup->loop), recs = 0, max, at;
	uint64_t	now;
	int		i, n, end;

	if (!drain && w->served == iter)
		return 1;
	w->served = iter;
	if (wk_carry_feed(w, &frames) == 1)
		return 1;
	while (recs < WK_BUDGET_RECS) {
		if (w->wq.fd == -1 || w->stopping)
			return 0;
		if (bytes >= WK_BUDGET_BYTES || frames == 0)
			return 1;
		max = wk_batch_max(recs, bytes);
		at = wk_ring_take(w->sup, max);
		if ((n = msg_recv_recs_at(w->wq.fd, &wk_rbuf[at], lens, wk_rat,
		    max, &end)) == -1) {
			qd_empty(&w->qd);
			return 0;	/* EAGAIN: nothing queued */
		}
		if ((unsigned)n < max)
			qd_empty(&w->qd);	/* read to the end */
		now = msg_clock_ns(w->qd.max_ns != 0);
		recs += (unsigned)n;
		wk_ring_next = at + (unsigned)n;
		for (i = 0, nin = 0; i < n; i++) {
			if (msg_check(wk_rbuf[at + i], lens[i], MSG_W2S,
			    w->state, &w->once, &m) == -1) {
				if (wk_pump_data(w, in, &nin) == 0)
					wk_hostile(w, "malformed or "
					    "unexpected message");
				return 0;
			}
			bytes += lens[i];
			if (m.type == MSG_DATA && qd_late(&w->qd, now,
			    wk_rat[i])) {
				w->sup->cnt.from_worker_late += m.frames;
				continue;
			}
			if (wk_take(w, (int)(at + i), &m, &frames, in,
			    &nin) == -1)
				return 0;
		}
		if (wk_pump_data(w, in, &nin) == -1)
			return 0;
		if (end == MSG_RECS_BAD) {
			wk_hostile(w, "oversized, truncated or empty record, "
			    "or one with descriptors");
			return 0;
		}
		if (end == MSG_RECS_EOF) {
			wk_eof(w);
			return 0;
		}
		if (w->carry.head != NULL)
			return 1;	/* the rest comes first, next time */
		if ((unsigned)n < max)
			return 0;	/* the queue was empty */
	}
	return 1;
}

void
wk_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	(void)wk_read(io->data, 0);
}

void
wk_carry_cb(struct sup_carry *c)
{
	(void)wk_read(c->arg, 0);
}
