/*
 * sup_pump.c: the command pump, the only place the engine is fed and its
 * commands are drained.
 *
 * With --xdp the same commands keep the kernel's channel maps
 * (sup_xdp.c): CHAN_ADD adds, CHAN_DEL, WORKER_STOP and a worker gone
 * remove, so the kernel never relays a channel the engine has let go.
 *
 * The rule (also in supervisor/README.md):
 *  1. Every input reaches the engine through sup_pump(); nothing else
 *     calls a turn_*() input function or turn_next_cmd().
 *  2. After each input every queued command is executed, in order, and
 *     the UDP sends it queued are flushed before the next input. A
 *     command's pointers are valid until the next input (turn.h), so a
 *     send may point into them without a copy. One exception: worker
 *     data fed through sup_pump_data() is not flushed here. Its sends
 *     point into the records' own frames (turn_worker_data), not into
 *     the engine's storage, and the caller (sup_wread.c) keeps those
 *     until it flushes, once per loop iteration, so the frames of many
 *     workers leave in one sendmmsg; any other input flushes them
 *     earlier, in order.
 *  3. An input raised while a drain runs (a worker that could not be
 *     started, a worker stopped because its queue failed) is never fed
 *     in the middle of the drain: it waits in the deferred-input queue
 *     and is fed after the current drain, in arrival order. Only inputs
 *     without pointers can arise there: the ones that carry data come
 *     from I/O callbacks, which libev never runs inside a drain.
 *  4. When no input is left: the MSG_DATA batches to workers are flushed
 *     (which may raise more deferred inputs), the engine timer is
 *     re-armed once, and the end of a drain is checked.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sup.h"
#include "sup_xdp.h"

static int			 pump_busy;
static struct sup_input		*pump_q;	/* deferred inputs */
static size_t			 pump_head, pump_n, pump_cap;
static uint64_t			 timer_at = UINT64_MAX;

static void
pump_defer(const struct sup_input *in)
{
	struct sup_input	*n;
	size_t			 cap;

	if (in->data != NULL) {		/* rule 3: cannot happen */
		log_warnx("Input with data during a drain dropped input=%d",
		    (int)in->type);
		return;
	}
	if (pump_head > 0 && pump_head == pump_n)
		pump_head = pump_n = 0;
	if (pump_n == pump_cap) {
		cap = pump_cap ? 2 * pump_cap : 16;
		if ((n = reallocarray(pump_q, cap, sizeof(*n))) == NULL)
			fatal("reallocarray");
		pump_q = n;
		pump_cap = cap;
	}
	pump_q[pump_n++] = *in;
}

static void
exec_cmd(struct sup *s, const struct turn_cmd *c)
{
	switch (c->type) {
	case TURN_CMD_SEND:
		sup_send(s, &c->addr, c->data, c->len);
		break;
	case TURN_CMD_SEND_FRAMES:
		sup_send_frames(s, &c->addr, c->data, c->len);
		break;
	case TURN_CMD_WORKER_START:
		(void)sup_worker_start(s, c->alloc_id, c->port, c->families);
		break;
	case TURN_CMD_WORKER_CHAN_ADD:
		sup_wsend_chan_add(s, c->alloc_id, c->chan, &c->addr);
		sup_xdp_chan_add(s, c->alloc_id, c->chan, &c->addr);
		break;
	case TURN_CMD_WORKER_CHAN_DEL:
		/* the kernel first: nothing relayed after the engine said no */
		sup_xdp_chan_del(c->alloc_id, c->chan);
		sup_wsend_chan_del(s, c->alloc_id, c->chan);
		break;
	case TURN_CMD_WORKER_DATA:
		sup_wsend_data(s, c->alloc_id, c->chan, &c->addr, c->data,
		    c->len);
		break;
	case TURN_CMD_WORKER_STOP:
		sup_xdp_alloc_gone(c->alloc_id);
		sup_worker_stop(s, c->alloc_id, c->reason);
		break;
	case TURN_CMD_WORKER_PERM_ADD:
	case TURN_CMD_WORKER_PERM_DEL:
		sup_wsend_perm(s, c->alloc_id, &c->addr,
		    c->type == TURN_CMD_WORKER_PERM_ADD);
		break;
	case TURN_CMD_WORKER_SEND:
		sup_wsend_dgram(s, c->alloc_id, &c->addr, c->data, c->len);
		break;
	case TURN_CMD_LOG:
		if (c->text != NULL)
			log_kv(c->level, c->text, (char *)NULL);
		break;
	default:
		break;
	}
}

/* one input, then its drain (rule 2) */
static void
pump_one(struct sup *s, const struct sup_input *in, uint64_t now,
    int64_t wall)
{
	struct turn_cmd	c;

	switch (in->type) {
	case SUP_IN_CLIENT:
		turn_client_input(s->turn, in->data, in->len, &in->addr, now,
		    wall);
		break;
	case SUP_IN_TIMEOUT:
		timer_at = 0;	/* fired: any next deadline re-arms */
		turn_timeout(s->turn, now);
		break;
	case SUP_IN_DRAIN:
		turn_drain(s->turn, now, in->deadline);
		break;
	case SUP_IN_READY:
		turn_worker_ready(s->turn, in->alloc_id, now);
		break;
	case SUP_IN_BIND_FAILED:
		turn_worker_bind_failed(s->turn, in->alloc_id, now);
		break;
	case SUP_IN_GONE:
		sup_xdp_alloc_gone(in->alloc_id);	/* died unasked */
		turn_worker_gone(s->turn, in->alloc_id, now);
		break;
	case SUP_IN_DATA:
		/* -1: a frame for a channel this allocation does not have;
		 * the engine queued WORKER_STOP(HOSTILE), executed below */
		(void)turn_worker_data(s->turn, in->alloc_id, in->data,
		    in->len, now);
		break;
	case SUP_IN_PEER_DATA:
		(void)turn_worker_peer_data(s->turn, in->alloc_id, &in->addr,
		    in->data, in->len, now);
		break;
	case SUP_IN_NONE:
		break;
	}
	while (turn_next_cmd(s->turn, &c) == 1)
		exec_cmd(s, &c);
}

static void
timer_rearm(struct sup *s)
{
	uint64_t	next = turn_next_timeout(s->turn), now;
	double		delay = 0.;

	if (next == timer_at)
		return;
	ev_timer_stop(s->loop, &s->engine_timer);
	timer_at = next;
	if (next == UINT64_MAX)
		return;
	now = sup_now_ms();
	/* +1 ms: the engine counts whole milliseconds */
	if (next > now)
		delay = (double)(next - now) / 1000. + 0.001;
	ev_timer_set(&s->engine_timer, delay, 0.);
	ev_timer_start(s->loop, &s->engine_timer);
}

static void
check_exit(struct sup *s)
{
	if (s->draining && s->portal_gone && turn_alloc_count(s->turn) == 0 &&
	    s->exit_status == -1) {
		log_info("Draining done: no allocations left");
		sup_exit_now(s, 0);
	}
}

/* the inputs in order, then the deferred ones (rules 2-4); hold: leave
 * the sends for the caller to flush (sup_pump_data) */
static void
pump_run(struct sup *s, const struct sup_input *in, size_t n, int hold)
{
	struct sup_input	d;
	uint64_t		now;
	int64_t			wall;
	size_t			i;

	if (pump_busy) {
		for (i = 0; i < n; i++)
			pump_defer(&in[i]);
		return;
	}
	pump_busy = 1;
	now = sup_now_ms();
	wall = sup_wall_s();
	for (i = 0; i < n; i++) {
		pump_one(s, &in[i], now, wall);
		if (!hold)
			sup_send_flush(s);	/* rule 2 */
	}
	for (;;) {
		sup_worker_flush(s);
		if (pump_head == pump_n)
			break;
		d = pump_q[pump_head++];
		pump_one(s, &d, sup_now_ms(), sup_wall_s());
		sup_send_flush(s);
	}
	pump_head = pump_n = 0;
	pump_busy = 0;
	timer_rearm(s);
	check_exit(s);
}

/* feed n inputs (a receive batch, or one event), each followed by its
 * drain; inside a drain, queue them for after it (rule 3) */
void
sup_pump(struct sup *s, const struct sup_input *in, size_t n)
{
	pump_run(s, in, n, 0);
}

/*
 * Worker data (SUP_IN_DATA only) whose frames stay put until the next
 * sup_send_flush(): their sends are left queued for the caller to flush
 * (rule 2's exception).
 */
void
sup_pump_data(struct sup *s, const struct sup_input *in, size_t n)
{
	pump_run(s, in, n, 1);
}

/* an input that is only an event about one allocation */
void
sup_pump_event(struct sup *s, enum sup_in_type type, uint32_t alloc_id)
{
	struct sup_input	in;

	memset(&in, 0, sizeof(in));
	in.type = type;
	in.alloc_id = alloc_id;
	sup_pump(s, &in, 1);
}
