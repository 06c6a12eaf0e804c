/*
 * turn_worker.c: events from workers (ready, bind failure, gone, peer
 * data), the timer and draining.
 */
#include <string.h>

#include "cdata.h"
#include "turn_int.h"

static const char *
turn_stop_reason(int reason)
{
	switch (reason) {
	case TURN_STOP_DELETED:
		return "deleted";
	case TURN_STOP_EXPIRED:
		return "expired";
	case TURN_STOP_HOSTILE:
		return "hostile worker";
	case TURN_STOP_DRAIN:
		return "drain deadline";
	case TURN_STOP_REPLACED:
		return "replaced by the user's new allocation";
	default:
		return "gone";
	}
}

static void
turn_alloc_log(struct turn *t, int level, const char *what,
    const struct turn_alloc *a, const char *why)
{
	char	ab[ADDR_STRLEN];

	turn_log(t, level, "%s id=%u client=%s port=%u reason=\"%s\"", what,
	    a->id,
	    addr_fmt(&a->client, ab, sizeof(ab)), a->port, why);
}

/* WORKER_STOP, LOG, free (channels go with it) */
void
turn_alloc_stop(struct turn *t, struct turn_alloc *a, int reason)
{
	struct turn_qent	*e;

	if ((e = turn_q_push(t, TURN_CMD_WORKER_STOP)) != NULL) {
		e->c.alloc_id = a->id;
		e->c.reason = reason;
	}
	turn_alloc_log(t, reason == TURN_STOP_HOSTILE ? TURN_LOG_WARN :
	    TURN_LOG_INFO, "Deleted allocation", a, turn_stop_reason(reason));
	turn_alloc_free(t, a);
}

/* a pending ALLOCATE that cannot complete: 508 (signed), then free */
static void
turn_alloc_abort(struct turn *t, struct turn_alloc *a, uint64_t now_ms,
    const char *why)
{
	struct turn_rctx	x;

	turn_rctx_alloc(a, &x);
	turn_resp_error(t, &x, STUN_ERR_INSUFFICIENT_CAPACITY, now_ms, NULL, 0);
	turn_alloc_log(t, TURN_LOG_WARN, "Allocation failed", a, why);
	turn_alloc_free(t, a);
}

void
turn_worker_ready(struct turn *t, uint32_t alloc_id, uint64_t now_ms)
{
	struct turn_alloc	*a;
	char			 ab[ADDR_STRLEN];

	turn_q_reset(t);
	a = turn_alloc_by_id(t, alloc_id);
	if (a == NULL || a->state != TURN_ST_STARTING)
		return;
	a->state = TURN_ST_READY;
	turn_resp_alloc_ok(t, a);
	turn_log(t, TURN_LOG_INFO,
	    "Created new allocation id=%u client=%s port=%u lifetime=%u",
	    a->id, addr_fmt(&a->client, ab, sizeof(ab)), a->port,
	    a->lifetime_s);
}

void
turn_worker_bind_failed(struct turn *t, uint32_t alloc_id, uint64_t now_ms)
{
	struct turn_alloc	*a;
	struct turn_qent	*e;

	turn_q_reset(t);
	a = turn_alloc_by_id(t, alloc_id);
	if (a == NULL || a->state != TURN_ST_STARTING)
		return;
	/* probing upward, range tries have visited every port once */
	if (a->tries >= TURN_BIND_TRIES || a->tries >= (unsigned)
	    t->conf.highest_port - t->conf.lowest_port + 1 ||
	    turn_port_next(t, a) == -1 ||
	    (e = turn_q_push(t, TURN_CMD_WORKER_START)) == NULL) {
		turn_alloc_abort(t, a, now_ms, "no port could be bound");
		return;
	}
	a->tries++;
	e->c.alloc_id = a->id;
	e->c.port = a->port;
	e->c.families = a->families;
}

void
turn_worker_gone(struct turn *t, uint32_t alloc_id, uint64_t now_ms)
{
	struct turn_alloc	*a;

	turn_q_reset(t);
	if ((a = turn_alloc_by_id(t, alloc_id)) == NULL)
		return;
	if (a->state == TURN_ST_STARTING) {
		turn_alloc_abort(t, a, now_ms, "worker gone while starting");
		return;
	}
	turn_alloc_log(t, TURN_LOG_INFO, "Deleted allocation", a,
	    "worker gone");
	turn_alloc_free(t, a);
}

/* ---- peer data from a worker ---- */

/*
 * Check the whole batch before anything is queued: exact framing, at
 * least one frame, none empty, every channel known on this allocation. A channel
 * that is cooling down is not a protocol violation (the worker may have
 * sent the frame before it read our CHAN_DEL); its frames are dropped.
 */
static int
turn_frames_valid(struct turn_alloc *a, const uint8_t *p, size_t len)
{
	struct cdata_frame	f;
	size_t			off = 0;
	int			rv, n = 0;

	while ((rv = cdata_next(p, len, &off, &f)) == 1) {
		/* an empty frame relays nothing and costs a send: a worker
		 * never makes one (it drops empty peer datagrams) */
		if (f.plen == 0 || turn_chan_by_num(a, f.chan) == NULL)
			return -1;
		n++;
	}
	return rv == 0 && n > 0 ? 0 : -1;
}

/* one SEND_FRAMES for a run of frames on bound channels */
static void
turn_frames_run(struct turn *t, struct turn_alloc *a, const uint8_t *p,
    size_t len, uint64_t frames, uint64_t bytes)
{
	struct turn_qent	*e;

	if (frames == 0)
		return;
	if ((e = turn_q_push(t, TURN_CMD_SEND_FRAMES)) == NULL) {
		t->st.dropped += frames;
		return;
	}
	e->c.addr = a->client;
	e->c.data = p;
	e->c.len = len;
	t->st.packets_p2c += frames;
	t->st.bytes_p2c += bytes;
}

/* the record's frames as one command; a frame on a cooling channel is
 * dropped and splits the run in two */
static void
turn_frames_send(struct turn *t, struct turn_alloc *a, const uint8_t *p,
    size_t len)
{
	struct turn_chan	*c;
	struct cdata_frame	 f;
	const uint8_t		*run = p;
	size_t			 off = 0, runlen = 0;
	uint64_t		 frames = 0, bytes = 0;

	while (cdata_next(p, len, &off, &f) == 1) {
		c = turn_chan_by_num(a, f.chan);
		if (c != NULL && c->bound) {
			runlen += f.flen;
			frames++;
			bytes += f.plen;
			continue;
		}
		t->st.dropped++;
		turn_frames_run(t, a, run, runlen, frames, bytes);
		run = p + off;
		runlen = 0;
		frames = bytes = 0;
	}
	turn_frames_run(t, a, run, runlen, frames, bytes);
}

int
turn_worker_data(struct turn *t, uint32_t alloc_id, const uint8_t *frames,
    size_t len, uint64_t now_ms)
{
	struct turn_alloc	*a;

	turn_q_reset(t);
	if ((a = turn_alloc_by_id(t, alloc_id)) == NULL) {
		t->st.dropped++;	/* raced with teardown */
		return 0;
	}
	if (a->state != TURN_ST_READY || frames == NULL ||
	    turn_frames_valid(a, frames, len) == -1) {
		t->st.hostile_workers++;
		turn_alloc_stop(t, a, TURN_STOP_HOSTILE);
		return -1;
	}
	turn_frames_send(t, a, frames, len);
	return 0;
}

/* ---- timer ---- */

/* take every allocation due at now off the heap, as a list */
static struct turn_alloc *
turn_due_collect(struct turn *t, uint64_t now_ms)
{
	struct turn_alloc	*a, *due = NULL, **tail = &due;

	while ((a = turn_heap_top(t)) != NULL && a->wake_ms <= now_ms) {
		turn_heap_remove(t, a);
		a->next_due = NULL;
		*tail = a;
		tail = &a->next_due;
	}
	return due;
}

/* an expiry that the drain deadline set is a drain stop */
static int
turn_expiry_reason(const struct turn *t, const struct turn_alloc *a,
    uint64_t now_ms)
{
	if (t->draining && t->drain_deadline != 0 &&
	    now_ms >= t->drain_deadline && a->expiry_ms >= t->drain_deadline)
		return TURN_STOP_DRAIN;
	return TURN_STOP_EXPIRED;
}

/* phase 1: delete the expired allocations; returns the survivors */
static struct turn_alloc *
turn_due_expire(struct turn *t, struct turn_alloc *due, uint64_t now_ms)
{
	struct turn_alloc	*a, *next, *keep = NULL, **tail = &keep;

	for (a = due; a != NULL; a = next) {
		next = a->next_due;
		if (a->expiry_ms <= now_ms) {
			turn_alloc_stop(t, a, turn_expiry_reason(t, a, now_ms));
			continue;
		}
		a->next_due = NULL;
		*tail = a;
		tail = &a->next_due;
	}
	return keep;
}

/* phase 2: bound channels past their expiry become unbound */
static void
turn_due_unbind(struct turn *t, struct turn_alloc *a, uint64_t now_ms)
{
	struct turn_chan	*c;
	struct turn_qent	*e;
	size_t			 i;

	for (i = 0; i < a->n_chans; i++) {
		c = &a->chans[i];
		if (!c->bound || c->expiry_ms > now_ms)
			continue;
		c->bound = 0;
		t->st.channels--;
		if ((e = turn_q_push(t, TURN_CMD_WORKER_CHAN_DEL)) != NULL) {
			e->c.alloc_id = a->id;
			e->c.chan = c->num;
		}
		turn_log(t, TURN_LOG_INFO, "Channel is now expired id=%u "
		    "channel=0x%04x", a->id, c->num);
	}
}

/* phase 3: unbound channels past their cool-down are deleted */
static void
turn_due_reap(struct turn *t, struct turn_alloc *a, uint64_t now_ms)
{
	struct turn_chan	*c;
	size_t			 i = 0;

	while (i < a->n_chans) {
		c = &a->chans[i];
		if (c->bound || c->expiry_ms +
		    TURN_CHANNEL_COOLDOWN * TURN_MS > now_ms) {
			i++;
			continue;
		}
		turn_log(t, TURN_LOG_INFO, "Channel binding is now deleted "
		    "(and can be rebound) id=%u channel=0x%04x", a->id, c->num);
		turn_chan_del(a, c);
	}
}

/* at the drain deadline every remaining worker is stopped */
static void
turn_drain_expire(struct turn *t, uint64_t now_ms)
{
	if (!t->draining || t->drain_deadline == 0 || t->drain_done ||
	    now_ms < t->drain_deadline)
		return;
	while (t->heap_n > 0)
		turn_alloc_stop(t, t->heap[t->heap_n - 1], TURN_STOP_DRAIN);
	t->drain_done = 1;
}

void
turn_timeout(struct turn *t, uint64_t now_ms)
{
	struct turn_alloc	*due, *a, *next;

	turn_q_reset(t);
	due = turn_due_expire(t, turn_due_collect(t, now_ms), now_ms);
	for (a = due; a != NULL; a = a->next_due)
		turn_due_unbind(t, a, now_ms);
	for (a = due; a != NULL; a = a->next_due)
		turn_due_reap(t, a, now_ms);
	for (a = due; a != NULL; a = a->next_due)
		turn_due_perms(t, a, now_ms);
	for (a = due; a != NULL; a = next) {
		next = a->next_due;
		a->next_due = NULL;
		turn_alloc_rewake(t, a);
		if (turn_heap_insert(t, a) == -1)	/* cannot happen: */
			turn_alloc_stop(t, a, TURN_STOP_EXPIRED); /* shrank */
	}
	turn_drain_expire(t, now_ms);
}

void
turn_drain(struct turn *t, uint64_t now_ms, uint64_t deadline_ms)
{
	size_t	i;

	turn_q_reset(t);
	t->draining = 1;
	t->drain_deadline = deadline_ms;
	t->drain_done = 0;
	if (deadline_ms != 0) {
		for (i = 0; i < t->heap_n; i++)
			if (t->heap[i]->expiry_ms > deadline_ms)
				t->heap[i]->expiry_ms = deadline_ms;
		turn_heap_rebuild(t);
	}
	if (deadline_ms == 0)
		turn_log(t, TURN_LOG_INFO, "Draining, no deadline "
		    "allocations=%zu", t->n_allocs);
	else
		turn_log(t, TURN_LOG_INFO, "Draining with a deadline "
		    "allocations=%zu ms=%llu", t->n_allocs, (unsigned long long)
		    (deadline_ms > now_ms ? deadline_ms - now_ms : 0));
}

uint64_t
turn_next_timeout(const struct turn *t)
{
	const struct turn_alloc	*a = turn_heap_top(t);
	uint64_t		 w = a != NULL ? a->wake_ms : UINT64_MAX;

	if (t->draining && t->drain_deadline != 0 && !t->drain_done &&
	    t->drain_deadline < w)
		w = t->drain_deadline;
	return w;
}
