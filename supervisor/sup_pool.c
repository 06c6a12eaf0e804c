/*
 * sup_pool.c: the supervisor's end of the spawner (sup_spawner.c) and
 * the pool of idle workers it keeps.
 *
 * An idle worker is a started turncell-worker waiting for its MSG_CONF:
 * exec'd, privileges dropped, holding nothing but its socketpair. An
 * ALLOCATE takes the oldest one and sends it MSG_CONF; it binds, enters
 * its sandbox and answers READY as any worker. With the pool empty (a
 * miss) the allocation waits for the next worker the spawner hands over:
 * one is asked for at once, and workers are given to waiting allocations
 * in order. The pool is refilled in the background, by a timer, at most
 * --worker-pool-rate workers a second: never on the request path.
 *
 * Every process the spawner started is in a table by pid until it
 * reports the exit, idle or handed to a worker: an exit of a handed-out
 * one goes to sup_worker_reaped() with its wait status; an idle one that
 * died is dropped from the pool and replaced, never handed out. An idle
 * worker's death may not be reported yet when it is taken: its MSG_CONF
 * then cannot be sent (the peer is gone), and the next one is taken.
 *
 * When the spawner dies, the workers it started die with it (their
 * PR_SET_PDEATHSIG): each is treated as a crash of its allocation, the
 * error logged, and from then on the supervisor forks workers itself
 * (sup_spawn(), as without a pool), counted in /metrics.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sup.h"
#include "sup_metrics.h"
#include "sup_spawner.h"

#define POOL_BUCKETS	4096
#define POOL_TICK	0.01	/* s between refills while short */
#define POOL_READ_MAX	64	/* records read per callback */

struct pool_ent {
	pid_t			 pid;
	int			 fd;	/* idle: our end; -1 once handed out */
	void			*owner;	/* the worker it went to, or NULL */
	struct pool_ent		*hnext;
	TAILQ_ENTRY(pool_ent)	 idle;
};

static struct pool_ent		*pool_hash[POOL_BUCKETS];
static TAILQ_HEAD(, pool_ent)	 pool_idle = TAILQ_HEAD_INITIALIZER(pool_idle);
static size_t			 pool_nidle;
static size_t			 pool_asked;	/* requested, not answered */
static uint32_t			*pool_wait;	/* allocations waiting */
static size_t			 pool_nwait, pool_capwait;
static double			 pool_credit;	/* refills allowed now */
static ev_tstamp		 pool_hold;	/* no refill before (failed) */
static ev_tstamp		 pool_last;
static ev_io			 pool_io;
static ev_child			 pool_child;
static ev_timer			 pool_timer;

static void	pool_refill(struct sup *);
static void	pool_fail(struct sup *, int);

size_t
sup_pool_idle(void)
{
	return pool_nidle;
}

static struct pool_ent *
pool_find(pid_t pid, struct pool_ent ***pp)
{
	struct pool_ent	**p;

	for (p = &pool_hash[(uint32_t)pid % POOL_BUCKETS]; *p != NULL;
	    p = &(*p)->hnext)
		if ((*p)->pid == pid)
			break;
	if (pp != NULL)
		*pp = p;
	return *p;
}

/* ask the spawner for n workers: 0, or -1 (not sent now) */
static int
pool_ask(struct sup *s, size_t n)
{
	struct spn_rec	q = { SPN_REQ, 0, 0 };

	if (s->spawner_fd == -1 || n == 0)
		return -1;
	if (n > SPN_REQ_MAX)
		n = SPN_REQ_MAX;
	q.arg = (int32_t)n;
	if (send(s->spawner_fd, &q, sizeof(q), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(q))
		return -1;
	pool_asked += n;
	return 0;
}

static void
pool_kick(struct sup *s)
{
	if (!ev_is_active(&pool_timer) && s->spawner_fd != -1) {
		pool_last = ev_now(s->loop);
		ev_timer_again(s->loop, &pool_timer);
	}
}

/* the pool short of its size (and of waiting allocations), by the rate */
static void
pool_refill(struct sup *s)
{
	const struct sup_conf	*c = s->conf;
	size_t			 want, have, n;
	ev_tstamp		 now = ev_now(s->loop);

	want = pool_nwait + (s->draining ? 0 : c->pool_size);
	have = pool_nidle + pool_asked;
	if (want <= have || s->spawner_fd == -1) {
		ev_timer_stop(s->loop, &pool_timer);
		return;
	}
	if (now < pool_hold && pool_nwait == 0)
		return;
	n = want - have;
	pool_credit += (now - pool_last) * c->pool_rate;
	pool_last = now;
	if (pool_credit > (double)want + 1.0)
		pool_credit = (double)want + 1.0;
	if (c->pool_rate != 0 && n > (size_t)pool_credit)
		n = (size_t)pool_credit;
	if (n > 0 && pool_ask(s, n) == 0 && c->pool_rate != 0)
		pool_credit -= (double)n;
}

static void
pool_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	pool_refill(t->data);
}

static void
pool_wait_push(uint32_t id)
{
	uint32_t	*p;
	size_t		 cap;

	if (pool_nwait == pool_capwait) {
		cap = pool_capwait == 0 ? 64 : 2 * pool_capwait;
		if ((p = reallocarray(pool_wait, cap, sizeof(*p))) == NULL)
			fatal("pool");
		pool_wait = p;
		pool_capwait = cap;
	}
	pool_wait[pool_nwait++] = id;
}

static uint32_t
pool_wait_pop(void)
{
	uint32_t	id = pool_wait[0];

	memmove(pool_wait, pool_wait + 1, --pool_nwait * sizeof(*pool_wait));
	return id;
}

/* an allocation that waited was freed first */
void
sup_pool_cancel(struct sup *s, uint32_t id)
{
	size_t	i;

	(void)s;
	for (i = 0; i < pool_nwait && pool_wait[i] != id; i++)
		;
	if (i == pool_nwait)
		return;
	memmove(pool_wait + i, pool_wait + i + 1,
	    (pool_nwait - i - 1) * sizeof(*pool_wait));
	pool_nwait--;
}

/* an idle worker that cannot be used: killed, its exit still to come */
static void
pool_discard(struct pool_ent *e)
{
	(void)kill(e->pid, SIGKILL);
	close(e->fd);
	e->fd = -1;
	sup_metrics.pool_lost++;
}

/*
 * A worker for allocation id, owner the supervisor's worker: 1 with an
 * idle one (its MSG_CONF sent), 0 when the allocation waits (the worker
 * comes through sup_worker_spawned()), -1 without a spawner.
 */
int
sup_pool_take(struct sup *s, void *owner, uint32_t id, uint16_t port,
    uint8_t families, const int rfd[2], pid_t *pid, int *fd)
{
	struct pool_ent	*e;

	if (s->spawner_fd == -1)
		return -1;
	while ((e = TAILQ_FIRST(&pool_idle)) != NULL) {
		TAILQ_REMOVE(&pool_idle, e, idle);
		pool_nidle--;
		if (sup_spawn_conf(s, e->fd, id, port, families, rfd,
		    s->spawner_pid) == -1) {
			pool_discard(e);
			continue;
		}
		e->owner = owner;
		*pid = e->pid;
		*fd = e->fd;
		e->fd = -1;
		sup_metrics.pool_taken++;
		pool_kick(s);
		return 1;
	}
	sup_metrics.pool_misses++;
	pool_wait_push(id);
	/* on demand: not by the refill rate (the engine bounds starts) */
	if (pool_asked < pool_nwait)
		(void)pool_ask(s, pool_nwait - pool_asked);
	pool_kick(s);
	return 0;
}

static void
pool_new(struct sup *s, pid_t pid, int fd)
{
	struct pool_ent	*e, **pp;

	if (pool_asked > 0)
		pool_asked--;
	if (pid <= 0 || pool_find(pid, &pp) != NULL) {
		log_warnx("The spawner reported an impossible worker pid=%ld",
		    (long)pid);
		close(fd);
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("pool");
	e->pid = pid;
	e->fd = fd;
	*pp = e;
	while (pool_nwait > 0) {
		if ((e->owner = sup_worker_spawned(s, pool_wait_pop(), pid,
		    fd)) != NULL) {
			e->fd = -1;
			return;
		}
	}
	TAILQ_INSERT_TAIL(&pool_idle, e, idle);
	pool_nidle++;
}

/*
 * A worker whose socketpair end could not be received: killed (its pid is
 * the spawner's child until its exit is reported, so this is the right
 * process), its exit expected, and its start failed.
 */
static void
pool_lost(struct sup *s, pid_t pid)
{
	struct pool_ent	*e, **pp;

	if (pid > 0 && pool_find(pid, &pp) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			fatal("pool");
		e->pid = pid;
		e->fd = -1;
		*pp = e;
		(void)kill(pid, SIGKILL);
	}
	if (pool_nwait > 0)
		log_warnx("Cannot receive a worker's socketpair from the "
		    "spawner (out of descriptors?)");
	pool_fail(s, EMFILE);
}

static void
pool_fail(struct sup *s, int err)
{
	if (pool_asked > 0)
		pool_asked--;
	if (pool_nwait == 0) {
		/* a refill: the timer tries again in a second */
		pool_hold = ev_now(s->loop) + 1.0;
		pool_kick(s);
		return;
	}
	errno = err;
	log_warn("The spawner cannot start a worker");
	sup_worker_spawn_failed(s, pool_wait_pop());
}

/*
 * An idle worker that exited 127 or 126 never ran: the worker binary
 * cannot be executed as the --user account (or the set-up before exec
 * failed). Every replacement would fail the same way, so refills pause
 * for a second and the cause is logged once per pause, instead of the
 * pool starting and losing --worker-pool-rate workers a second.
 */
static void
pool_exec_failed(struct sup *s, int status)
{
	ev_tstamp	now = ev_now(s->loop);

	if (now >= pool_hold)
		log_warnx("Idle workers cannot start (%s); refills pause "
		    "for a second path=%s", WEXITSTATUS(status) == 127 ?
		    "cannot execute the worker as the --user account" :
		    "set-up before exec failed", s->conf->worker_path);
	pool_hold = now + 1.0;
}

static void
pool_exit(struct sup *s, pid_t pid, int status)
{
	struct pool_ent	*e, **pp;

	if ((e = pool_find(pid, &pp)) == NULL)
		return;		/* not a worker: cannot happen */
	*pp = e->hnext;
	if (e->owner == NULL && WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126))
		pool_exec_failed(s, status);
	if (e->owner != NULL)
		sup_worker_reaped(e->owner, status, NULL);
	else if (e->fd != -1) {
		/* died idle: never handed out, replaced */
		TAILQ_REMOVE(&pool_idle, e, idle);
		pool_nidle--;
		close(e->fd);
		sup_metrics.pool_lost++;
		pool_kick(s);
	}
	free(e);
}

/* one record: 1, or 0 when there is none now, -1 at end of file */
static int
pool_read_one(struct sup *s)
{
	struct spn_rec	 r;
	struct iovec	 iov = { &r, sizeof(r) };
	struct msghdr	 mh;
	struct cmsghdr	*c;
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	int		 fds[4], nfd = 0, i;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	n = recvmsg(s->spawner_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t	k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; CMSG_LEN((k + 1) * sizeof(int)) <= c->cmsg_len &&
		    nfd < 4; k++)
			memcpy(&fds[nfd++], CMSG_DATA(c) + k * sizeof(int),
			    sizeof(int));
	}
	if (n == (ssize_t)sizeof(r) && r.type == SPN_NEW && nfd == 0 &&
	    (mh.msg_flags & MSG_CTRUNC)) {
		/* no room for its descriptor here (EMFILE): stop it */
		pool_lost(s, (pid_t)r.pid);
		return 1;
	}
	if (n == (ssize_t)sizeof(r) && !(mh.msg_flags & (MSG_TRUNC |
	    MSG_CTRUNC))) {
		if (r.type == SPN_NEW && nfd == 1) {
			pool_new(s, (pid_t)r.pid, fds[0]);
			return 1;
		}
		if (r.type == SPN_FAIL && nfd == 0) {
			pool_fail(s, r.arg);
			return 1;
		}
		if (r.type == SPN_EXIT && nfd == 0) {
			pool_exit(s, (pid_t)r.pid, r.arg);
			return 1;
		}
	}
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	log_warnx("Malformed record from the spawner");
	return 1;
}

static void
pool_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sup	*s = io->data;
	int		 i;

	(void)loop;
	(void)revents;
	for (i = 0; i < POOL_READ_MAX && s->spawner_fd != -1; i++) {
		switch (pool_read_one(s)) {
		case 0:
			return;
		case -1:
			/* its end is closed: pool_child_cb() takes over (a
			 * SIGCHLD before our handler existed is not lost) */
			ev_io_stop(s->loop, &pool_io);
			ev_feed_signal_event(s->loop, SIGCHLD);
			return;
		}
	}
}

/*
 * The spawner is gone: what it sent before is read first, then its
 * workers count as crashed (they died with it), the idle ones are
 * dropped, and waiting allocations get workers the supervisor forks.
 */
static void
pool_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct sup	*s = w->data;
	struct pool_ent	*e, *next;
	uint32_t	*wait;
	size_t		 nwait, i;
	char		 how[32];

	(void)loop;
	(void)revents;
	ev_child_stop(s->loop, &pool_child);
	while (pool_read_one(s) == 1)
		;
	if (WIFSIGNALED(w->rstatus))
		snprintf(how, sizeof(how), "signal %d", WTERMSIG(w->rstatus));
	else
		snprintf(how, sizeof(how), "exit status %d",
		    WEXITSTATUS(w->rstatus));
	log_kv(LOG_ERR, "The worker spawner died; its workers died with it, "
	    "and the supervisor starts workers itself from now on", "how", how,
	    (char *)NULL);
	ev_io_stop(s->loop, &pool_io);
	ev_timer_stop(s->loop, &pool_timer);
	close(s->spawner_fd);
	s->spawner_fd = -1;
	s->spawner_pid = -1;
	sup_metrics.spawner_up = 0;
	wait = pool_wait;
	nwait = pool_nwait;
	pool_wait = NULL;
	pool_nwait = pool_capwait = 0;
	for (i = 0; i < POOL_BUCKETS; i++) {
		for (e = pool_hash[i]; e != NULL; e = next) {
			next = e->hnext;
			if (e->owner != NULL)
				sup_worker_reaped(e->owner, SIGKILL,
				    "its spawner died");
			else if (e->fd != -1)
				close(e->fd);
			free(e);
		}
		pool_hash[i] = NULL;
	}
	TAILQ_INIT(&pool_idle);
	pool_nidle = pool_asked = 0;
	for (i = 0; i < nwait; i++)
		sup_worker_direct(s, wait[i]);
	free(wait);
}

void
sup_pool_init(struct sup *s)
{
	if (s->spawner_fd == -1)
		return;
	sup_metrics.spawner_up = 1;
	ev_io_init(&pool_io, pool_read_cb, s->spawner_fd, EV_READ);
	pool_io.data = s;
	ev_io_start(s->loop, &pool_io);
	ev_child_init(&pool_child, pool_child_cb, s->spawner_pid, 0);
	pool_child.data = s;
	ev_child_start(s->loop, &pool_child);
	ev_init(&pool_timer, pool_timer_cb);
	pool_timer.repeat = POOL_TICK;
	pool_timer.data = s;
	pool_kick(s);
}

/*
 * At exit: the idle workers and the spawner are killed (the workers it
 * started die with it, and with end of file on their socketpairs), the
 * spawner reaped (bounded: SIGKILL is quick).
 */
void
sup_pool_kill_all(struct sup *s)
{
	struct pool_ent	*e;
	int		 i;

	TAILQ_FOREACH(e, &pool_idle, idle)
		(void)kill(e->pid, SIGKILL);
	if (s->spawner_pid <= 0)
		return;
	(void)kill(s->spawner_pid, SIGKILL);
	for (i = 0; i < 1000; i++) {
		if (waitpid(s->spawner_pid, NULL, WNOHANG) != 0)
			break;
		usleep(1000);
	}
}
