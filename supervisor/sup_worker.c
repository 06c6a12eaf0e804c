/*
 * sup_worker.c: one worker process per allocation: its lifecycle, the
 * records the engine sends it, and the records it sends back.
 *
 * Trust: everything a worker sends passes msg_check() (direction, exact
 * size, state, once-only) and the typed getter before any handler runs.
 * A worker that breaks a rule is SIGKILLed and its allocation freed; the
 * supervisor never dies of it. A worker comes from the pool of the
 * spawner (sup_pool.c), which reports its exit, or, without a spawner,
 * is forked by sup_spawn.c and reaped by an ev_child watcher; a worker
 * that was not asked to stop is counted as crashed. Until its process is
 * there (pid 0) a worker has no socketpair; its outgoing queue is
 * sup_wq.c's.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "msg_io.h"
#include "sup.h"
#include "sup_carry.h"
#include "sup_metrics.h"
#include "sup_wq.h"

#define WK_BUCKETS		4096
/*
 * The budget of one worker per loop iteration, so that one worker cannot
 * hold the loop: its io watcher is level triggered, so a worker that used
 * its budget is read again on the next iteration, after every other ready
 * descriptor (clients, other workers) had its turn. The cost of a record
 * is its frames (one send each): a record of the largest size holds some
 * 13,000 one-byte frames, several milliseconds of sends. So frames are
 * counted inside a record, which is cut at a frame boundary when they run
 * out; the rest is kept and comes first on the next iteration
 * (sup_carry.c). 256 frames are about 0.2 ms of sends: a client's Binding
 * waits for at most that per busy worker. Records and bytes bound the
 * reads themselves (checked before each record).
 */
#define WK_BUDGET_RECS		16	/* records per iteration */
#define WK_BUDGET_BYTES		262144	/* bytes of records per iteration */
#define WK_BUDGET_FRAMES	256	/* MSG_DATA frames per iteration */
#define WK_LOG_BURST		20	/* log lines per window */
#define WK_LOG_WINDOW_MS	10000

struct worker {
	struct sup		*sup;
	uint32_t		 alloc_id;
	uint16_t		 port;
	uint8_t			 families;
	pid_t			 pid;		/* 0: none yet, -1: reaped */
	int			 spawned;	/* by the spawner: it reaps */
	int			 state;		/* MSG_ST_STARTING/READY */
	uint32_t		 once;
	int			 stopping;	/* an exit is expected */
	int			 hashed;
	ev_io			 io;
	struct sup_wq		 wq;		/* wq.fd: the socketpair */
	ev_child		 child;
	ev_timer		 ready_timer;
	struct worker		*hnext;
	LIST_ENTRY(worker)	 entry;
	uint64_t		 log_t0;
	unsigned		 log_n, log_dropped;
	struct msg_stats	 stats;
	struct sup_carry	 carry;		/* frames left for later */
	unsigned		 served;	/* ev_iteration() of last read */
};

static struct worker		*wk_hash[WK_BUCKETS];
static LIST_HEAD(, worker)	 wk_all = LIST_HEAD_INITIALIZER(wk_all);
static size_t			 wk_count;

/* one receive buffer: frames handed to the engine point into it until
 * the pump has executed and flushed what they caused (its rule 2) */
static uint8_t			 wk_rbuf[MSG_RECV_BUFLEN];

static void	wk_read_cb(struct ev_loop *, ev_io *, int);
static void	wk_child_cb(struct ev_loop *, ev_child *, int);
static void	wk_ready_cb(struct ev_loop *, ev_timer *, int);
static void	wk_hostile(struct worker *, const char *);
static void	wk_log_suppressed(struct worker *);
static void	wk_wq_fail(struct sup_wq *, const char *);
static void	wk_carry_cb(struct sup_carry *);

void
sup_worker_init(struct sup *s)
{
	sup_wq_pool_init();
	sup_carry_init(s->loop);
}

size_t
sup_worker_count(void)
{
	return wk_count;
}

static struct worker *
wk_find(uint32_t id)
{
	struct worker	*w;

	for (w = wk_hash[id % WK_BUCKETS]; w != NULL; w = w->hnext)
		if (w->alloc_id == id)
			return w;
	return NULL;
}

static void
wk_hash_add(struct worker *w)
{
	struct worker	**b = &wk_hash[w->alloc_id % WK_BUCKETS];

	w->hnext = *b;
	*b = w;
	w->hashed = 1;
}

static void
wk_hash_del(struct worker *w)
{
	struct worker	**pp;

	if (!w->hashed)
		return;
	for (pp = &wk_hash[w->alloc_id % WK_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == w) {
			*pp = w->hnext;
			break;
		}
	}
	w->hashed = 0;
	w->hnext = NULL;
}

/* the queue cannot keep a control record, or the worker stopped reading:
 * stop it (inside a drain the engine hears of it after, through the
 * pump's deferred inputs) */
static void
wk_wq_fail(struct sup_wq *q, const char *why)
{
	struct worker	*w = (struct worker *)(void *)
			    ((char *)q - offsetof(struct worker, wq));

	wk_hostile(w, why);
}

void
sup_worker_flush(struct sup *s)
{
	(void)s;
	sup_wq_flush_all();
}

/* the queue towards worker id: NULL without one, or (ready) when it is
 * not READY or has no socketpair */
struct sup_wq *
sup_worker_wq(uint32_t id, int ready)
{
	struct worker	*w;

	if ((w = wk_find(id)) == NULL)
		return NULL;
	if (ready && (w->wq.fd == -1 || w->state != MSG_ST_READY))
		return NULL;
	return &w->wq;
}

/* ---- lifecycle ----------------------------------------------------- */

/* no more messages in either direction; the process may still run */
static void
wk_detach(struct worker *w)
{
	wk_hash_del(w);
	sup_wq_release(&w->wq);
	sup_carry_drop(&w->carry);
	w->stopping = 1;
	ev_timer_stop(w->sup->loop, &w->ready_timer);
	if (w->wq.fd != -1) {
		ev_io_stop(w->sup->loop, &w->io);
		close(w->wq.fd);
		w->wq.fd = -1;
	}
}

static void
wk_free(struct worker *w)
{
	wk_log_suppressed(w);
	wk_detach(w);
	ev_child_stop(w->sup->loop, &w->child);
	if (w->pid == 0)
		sup_pool_cancel(w->sup, w->alloc_id);
	LIST_REMOVE(w, entry);
	wk_count--;
	free(w);
}

/*
 * Stop a worker; `w` is freed at once when it has no process yet. The
 * pid is not reused before the exit is reported: our child watcher reaps
 * it, or the spawner reaps it and reports that before it can fork again
 * (the pid could come back only after a wrap of the pid space while one
 * record is in flight).
 */
static void
wk_kill(struct worker *w)
{
	wk_detach(w);
	if (w->pid > 0)
		(void)kill(w->pid, SIGKILL);
	else if (w->pid == 0)
		wk_free(w);
}

/* the supervisor found the worker misbehaving: kill, free, count, log */
static void
wk_hostile(struct worker *w, const char *why)
{
	struct sup	*s = w->sup;
	char		 id[16];
	uint32_t	 alloc_id = w->alloc_id;

	if (w->stopping)
		return;
	snprintf(id, sizeof(id), "%u", alloc_id);
	log_kv(LOG_WARN, "Killing misbehaving worker", "alloc_id", id,
	    "reason", why, (char *)NULL);
	sup_metrics.workers_killed++;
	wk_kill(w);
	sup_pump_event(s, SUP_IN_GONE, alloc_id);
}

void
sup_worker_stop(struct sup *s, uint32_t id, int reason)
{
	struct worker	*w;
	char		 ids[16];

	if ((w = wk_find(id)) == NULL)
		return;
	snprintf(ids, sizeof(ids), "%u", id);
	if (reason == TURN_STOP_HOSTILE) {
		sup_metrics.workers_killed++;
		log_kv(LOG_WARN, "Killing worker that relayed data it was not "
		    "given a channel for", "alloc_id", ids, (char *)NULL);
	} else
		log_kv(LOG_DEBUG, "Stopping worker", "alloc_id", ids,
		    (char *)NULL);
	wk_kill(w);
}

/*
 * At exit: kill every worker and reap them (bounded: SIGKILL is quick),
 * so that no zombie is left to whoever inherits them.
 */
void
sup_worker_kill_all(struct sup *s)
{
	struct worker	*w, *next;
	uint64_t	 end;
	int		 left = 0;

	for (w = LIST_FIRST(&wk_all); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (w->pid > 0 && !w->spawned)
			left++;
		wk_kill(w);
	}
	sup_pool_kill_all(s);
	end = sup_now_ms() + 1000;
	while (left > 0 && sup_now_ms() < end) {
		pid_t	r = waitpid(-1, NULL, WNOHANG);

		if (r > 0)
			left--;
		else if (r == -1 && errno != EINTR)
			break;
		else if (r == 0)
			usleep(1000);
	}
}

/* ---- starting ------------------------------------------------------ */

static struct worker *
wk_new(struct sup *s, uint32_t id, uint16_t port, uint8_t families)
{
	struct worker	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->sup = s;
	w->alloc_id = id;
	w->port = port;
	w->families = families;
	w->state = MSG_ST_STARTING;
	w->served = UINT_MAX;	/* not read in any iteration yet */
	w->carry.fn = wk_carry_cb;
	w->carry.arg = w;
	sup_wq_init(&w->wq, s, -1, wk_wq_fail);	/* no socketpair yet */
	return w;
}

/* in the table; READY is due within SUP_READY_TIMEOUT from now, the
 * wait for a process included */
static void
wk_track(struct sup *s, struct worker *w)
{
	ev_timer_init(&w->ready_timer, wk_ready_cb, SUP_READY_TIMEOUT, 0.);
	w->ready_timer.data = w;
	ev_timer_start(s->loop, &w->ready_timer);
	LIST_INSERT_HEAD(&wk_all, w, entry);
	wk_count++;
	wk_hash_add(w);
}

/* its process and socketpair (MSG_CONF already sent on it) */
static void
wk_attach(struct sup *s, struct worker *w, pid_t pid, int fd)
{
	w->pid = pid;
	sup_wq_init(&w->wq, s, fd, wk_wq_fail);
	ev_io_init(&w->io, wk_read_cb, fd, EV_READ);
	w->io.data = w;
	ev_io_start(s->loop, &w->io);
	if (!w->spawned) {
		ev_child_init(&w->child, wk_child_cb, pid, 0);
		w->child.data = w;
		ev_child_start(s->loop, &w->child);
		sup_metrics.workers_direct++;
	}
	sup_metrics.workers_started++;
	log_msg(LOG_DEBUG, "Started worker pid=%ld id=%u port=%u",
	    (long)pid, w->alloc_id, w->port);
}

/* without a spawner: fork it here; 0, or -1 with `w` not freed */
static int
wk_fork(struct sup *s, struct worker *w)
{
	pid_t	pid;
	int	fd;

	if (sup_spawn(s, w->alloc_id, w->port, w->families, &pid, &fd) == -1)
		return -1;
	w->spawned = 0;
	wk_attach(s, w, pid, fd);
	return 0;
}

int
sup_worker_start(struct sup *s, uint32_t id, uint16_t port, uint8_t families)
{
	struct worker	*w;
	pid_t		 pid;
	int		 fd, r = -1;

	/* a retry on another port: the last try's worker is done */
	if ((w = wk_find(id)) != NULL)
		wk_kill(w);
	if ((w = wk_new(s, id, port, families)) != NULL) {
		w->spawned = 1;
		r = sup_pool_take(s, w, id, port, families, &pid, &fd);
		if (r == -1 && sup_spawn(s, id, port, families, &pid,
		    &fd) == 0)
			w->spawned = 0;
		else if (r == -1) {
			free(w);
			w = NULL;
		}
	}
	if (w == NULL) {
		/* inside the drain: the pump feeds it after (its rule 3) */
		sup_pump_event(s, SUP_IN_GONE, id);
		return -1;
	}
	wk_track(s, w);
	if (r != 0)
		wk_attach(s, w, pid, fd);
	return 0;
}

/* the spawner's worker for an allocation that waited: w, or NULL when
 * the allocation does not wait (any more) */
void *
sup_worker_spawned(struct sup *s, uint32_t id, pid_t pid, int fd)
{
	struct worker	*w;

	if ((w = wk_find(id)) == NULL || w->pid != 0)
		return NULL;
	wk_attach(s, w, pid, fd);
	if (sup_spawn_conf(s, fd, id, w->port, w->families,
	    s->spawner_pid) == -1)
		wk_hostile(w, "cannot send the configuration");
	return w;
}

/* the spawner could not start the worker an allocation waited for */
void
sup_worker_spawn_failed(struct sup *s, uint32_t id)
{
	struct worker	*w;

	if ((w = wk_find(id)) == NULL || w->pid != 0)
		return;
	wk_kill(w);
	sup_pump_event(s, SUP_IN_GONE, id);
}

/* the spawner died while an allocation waited: fork its worker here */
void
sup_worker_direct(struct sup *s, uint32_t id)
{
	struct worker	*w;

	if ((w = wk_find(id)) == NULL || w->pid != 0 || wk_fork(s, w) == 0)
		return;
	wk_kill(w);
	sup_pump_event(s, SUP_IN_GONE, id);
}

/* ---- messages from a worker ---------------------------------------- */

/* one line for the lines the rate limit dropped */
static void
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

static void
wk_on_bind_fail(struct worker *w, const struct msg *m)
{
	struct msg_bind_fail	 f;
	struct sup		*s = w->sup;
	uint32_t		 id = w->alloc_id;

	if (msg_get_bind_fail(m, &f) == -1 || f.port != w->port) {
		wk_hostile(w, "bad BIND_FAIL");
		return;
	}
	log_msg(LOG_DEBUG, "Worker cannot bind its port id=%u port=%u error=\"%s\"",
	    id, f.port, strerror(f.err));
	wk_kill(w);		/* it exits by itself; an exit is expected */
	sup_pump_event(s, SUP_IN_BIND_FAILED, id);
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

/* as many frames as *frames allows; the rest is kept for later (or fed
 * too when no carry buffer is free) */
static void
wk_on_data(struct worker *w, const struct msg *m, size_t *frames)
{
	size_t	cut = sup_carry_cut(m->payload, m->len, frames);

	if (cut < m->len && sup_carry_take(&w->carry, m->payload + cut,
	    m->len - cut) == -1)
		cut = m->len;
	wk_feed(w, m->payload, cut);
}

/* the kept frames first, within *frames: 1 if some are still kept */
static int
wk_carry_feed(struct worker *w, size_t *frames)
{
	struct sup_carry	*c = &w->carry;
	const uint8_t		*p = c->buf + c->off;
	size_t			 cut;

	if (c->buf == NULL)
		return 0;
	cut = sup_carry_cut(p, c->len - c->off, frames);
	c->off += cut;
	if (c->off == c->len) {
		/* the pump is done with it when wk_feed() returns */
		wk_feed(w, p, cut);
		sup_carry_drop(c);
		return 0;
	}
	wk_feed(w, p, cut);
	return c->buf != NULL;
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
	w->stats.rx_pkts += st.rx_pkts;
	w->stats.rx_bytes += st.rx_bytes;
	w->stats.tx_pkts += st.tx_pkts;
	w->stats.tx_bytes += st.tx_bytes;
	w->stats.denied += st.denied;
	w->sup->cnt.peer_denied += st.denied;
	w->sup->cnt.throttled_p2c += st.rx_throttled;
	w->sup->cnt.throttled_c2p += st.tx_throttled;
}

static void
wk_dispatch(struct worker *w, const struct msg *m, size_t *frames)
{
	struct msg_log	l;

	switch (m->type) {
	case MSG_READY:
		wk_on_ready(w, m);
		break;
	case MSG_BIND_FAIL:
		wk_on_bind_fail(w, m);
		break;
	case MSG_DATA:
		wk_on_data(w, m, frames);
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

/*
 * Read records within the budget of one iteration (WK_BUDGET_*), kept
 * frames first. Returns 1 when the budget ran out (more may be queued or
 * kept), 0 otherwise; the worker may be detached on return. Once per
 * iteration unless `drain` (a dead worker's last records).
 */
static int
wk_read(struct worker *w, int drain)
{
	struct msg	m;
	ssize_t		n;
	size_t		bytes = 0, frames = WK_BUDGET_FRAMES;
	unsigned	iter = ev_iteration(w->sup->loop);
	int		i;

	if (!drain && w->served == iter)
		return 1;
	w->served = iter;
	if (wk_carry_feed(w, &frames) == 1)
		return 1;
	for (i = 0; i < WK_BUDGET_RECS; i++) {
		if (w->wq.fd == -1)
			return 0;
		if (bytes >= WK_BUDGET_BYTES || frames == 0)
			return 1;
		n = msg_recv_rec(w->wq.fd, wk_rbuf, sizeof(wk_rbuf));
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n == -1 && errno == EBADMSG) {
			wk_hostile(w, "oversized, truncated or empty record");
			return 0;
		}
		if (n <= 0) {
			/* end of file: the child watcher takes it from here */
			sup_wq_drop_queue(&w->wq);
			ev_io_stop(w->sup->loop, &w->io);
			close(w->wq.fd);
			w->wq.fd = -1;
			return 0;
		}
		if (msg_check(wk_rbuf, (size_t)n, MSG_W2S, w->state,
		    &w->once, &m) == -1) {
			wk_hostile(w, "malformed or unexpected message");
			return 0;
		}
		bytes += (size_t)n;
		wk_dispatch(w, &m, &frames);
		if (w->carry.buf != NULL)
			return 1;	/* the rest comes first, next time */
	}
	return 1;
}

static void
wk_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	(void)wk_read(io->data, 0);
}

static void
wk_carry_cb(struct sup_carry *c)
{
	(void)wk_read(c->arg, 0);
}

static void
wk_ready_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker	*w = t->data;

	(void)loop;
	(void)revents;
	wk_hostile(w, "no READY within 5 s");
}

static void
wk_crashed(struct worker *w, int status, const char *why)
{
	struct sup	*s = w->sup;
	char		 ids[16], how[PATH_MAX + 64];
	uint32_t	 id = w->alloc_id;

	sup_metrics.workers_crashed++;
	if (why != NULL)
		snprintf(how, sizeof(how), "%s", why);
	else if (WIFSIGNALED(status)) {
		snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
		if (WTERMSIG(status) == SIGSYS)
			sup_metrics.sandbox_violations++;
	} else if (WEXITSTATUS(status) == 127)
		snprintf(how, sizeof(how), "cannot execute %s as the --user "
		    "account", s->conf->worker_path);
	else if (WEXITSTATUS(status) == 126)
		snprintf(how, sizeof(how), "set-up before exec failed");
	else
		snprintf(how, sizeof(how), "exit status %d",
		    WEXITSTATUS(status));
	snprintf(ids, sizeof(ids), "%u", id);
	log_kv(LOG_WARN, why == NULL && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGSYS ?
	    "Worker killed by its sandbox" : "Worker died", "alloc_id", ids,
	    "how", how, (char *)NULL);
	wk_detach(w);
	sup_pump_event(s, SUP_IN_GONE, id);
}

/*
 * The worker's process exited with wait status `status` (reaped by our
 * child watcher or reported by the spawner); `why` overrides the status
 * in the log. Frees the worker.
 */
void
sup_worker_reaped(void *owner, int status, const char *why)
{
	struct worker	*w = owner;
	int		 i;

	w->pid = -1;		/* reaped: never signal it again */
	/* what it sent before dying comes first (e.g. BIND_FAIL); the
	 * queue of a dead process is finite, the loop bounded anyway */
	for (i = 0; i < 64 && !w->stopping && wk_read(w, 1) == 1; i++)
		;
	if (!w->stopping)
		wk_crashed(w, status, why);
	wk_free(w);
}

static void
wk_child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	(void)loop;
	(void)revents;
	sup_worker_reaped(c->data, c->rstatus, NULL);
}
