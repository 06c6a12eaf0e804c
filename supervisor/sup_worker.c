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
 * sup_wq.c's, reading what it sends sup_wread.c's.
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
#include "sup_wk.h"
#include "sup_wq.h"

#define WK_BUCKETS		4096

static struct worker		*wk_hash[WK_BUCKETS];
static LIST_HEAD(, worker)	 wk_all = LIST_HEAD_INITIALIZER(wk_all);
static size_t			 wk_count;

static void	wk_child_cb(struct ev_loop *, ev_child *, int);
static void	wk_ready_cb(struct ev_loop *, ev_timer *, int);
static void	wk_wq_fail(struct sup_wq *, const char *);

void
sup_worker_init(struct sup *s)
{
	sup_wq_pool_init();
	sup_carry_init(s->loop);
	wk_read_init(s);
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
	sup_rsock_flush(s);
	sup_wq_flush_all();
}

/*
 * The relay socket of READY worker id for a peer of that family, to send
 * its client's data from (sup_rsock.c): -1 when the supervisor kept none
 * (--max-bps, the descriptor limit: sup_rsock_keep), and the data goes
 * through the worker.
 */
int
sup_worker_rfd(uint32_t id, const struct taddr *peer)
{
	struct worker	*w;

	if ((w = wk_find(id)) == NULL || w->state != MSG_ST_READY)
		return -1;
	return w->rfd[peer->family == ADDR_V6];
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
	sup_rsock_close(w->rfd);
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
void
wk_kill(struct worker *w)
{
	wk_detach(w);
	if (w->pid > 0)
		(void)kill(w->pid, SIGKILL);
	else if (w->pid == 0)
		wk_free(w);
}

/* the supervisor found the worker misbehaving: kill, free, count, log */
void
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
	w->rfd[0] = w->rfd[1] = -1;
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
	/* the arrival time of its records, for the age limit (sup_wread.c):
	 * past capacity, peer data that waited too long is dropped there */
	qd_init(&w->qd, (uint64_t)s->conf->qdelay_ms * 1000000,
	    (uint64_t)s->conf->qgrace_ms * 1000000);
	if (s->conf->qdelay_ms != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 },
		    sizeof(int));
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

	if (sup_spawn(s, w->alloc_id, w->port, w->families, w->rfd, &pid,
	    &fd) == -1)
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
	int		 fd, r = -1, rfd[2];

	/* a retry on another port: the last try's worker is done */
	if ((w = wk_find(id)) != NULL)
		wk_kill(w);
	/* the port first: taken, the engine tries another (its rule);
	 * no socket at all (out of descriptors, say), the start failed */
	if (sup_rsock_bind(s->conf, port, families, rfd) == -1) {
		if (errno == EADDRINUSE || errno == EACCES) {
			log_msg(LOG_WARN, "Cannot bind port=%u error=\"%s\"",
			    port, strerror(errno));
			sup_pump_event(s, SUP_IN_BIND_FAILED, id);
		} else {
			log_msg(LOG_WARN, "Cannot create a relay socket "
			    "port=%u error=\"%s\"", port, strerror(errno));
			sup_pump_event(s, SUP_IN_GONE, id);
		}
		return -1;
	}
	if ((w = wk_new(s, id, port, families)) != NULL) {
		w->rfd[0] = rfd[0];
		w->rfd[1] = rfd[1];
		w->spawned = 1;
		r = sup_pool_take(s, w, id, port, families, rfd, &pid, &fd);
		if (r == -1 && sup_spawn(s, id, port, families, rfd, &pid,
		    &fd) == 0)
			w->spawned = 0;
		else if (r == -1) {
			free(w);
			w = NULL;
		}
	}
	if (w == NULL) {
		sup_rsock_close(rfd);
		/* inside the drain: the pump feeds it after (its rule 3) */
		sup_pump_event(s, SUP_IN_GONE, id);
		return -1;
	}
	wk_track(s, w);
	if (r != 0) {
		wk_attach(s, w, pid, fd);
		sup_rsock_keep(s->conf, w->rfd);	/* MSG_CONF went */
	}
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
	/*
	 * A failed send means the worker is gone already (it could not
	 * exec, say): its exit status follows from the spawner and says why
	 * (wk_crashed); nothing here to blame it for.
	 */
	(void)sup_spawn_conf(s, fd, id, w->port, w->families, w->rfd,
	    s->spawner_pid);
	sup_rsock_keep(s->conf, w->rfd);
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
