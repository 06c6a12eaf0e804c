/*
 * sup_wk.h: the supervisor's record of one worker, shared by the two
 * files of the worker module: sup_worker.c (table, lifecycle, records
 * to the worker) and sup_wread.c (records from it). Not for anyone else.
 */
#ifndef SUP_WK_H
#define SUP_WK_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <ev.h>

#include "msg.h"
#include "qdelay.h"
#include "sup.h"
#include "sup_carry.h"
#include "sup_wq.h"

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
	int			 rfd[2];	/* relay sockets v4, v6 (-1:
						 * none), sup_rsock.c */
	ev_child		 child;
	ev_timer		 ready_timer;
	struct worker		*hnext;
	LIST_ENTRY(worker)	 entry;
	uint64_t		 log_t0;
	unsigned		 log_n, log_dropped;
	struct sup_carry	 carry;		/* frames left for later */
	unsigned		 served;	/* ev_iteration() of last read */
	struct qdelay		 qd;		/* age limit of its records */
};

/* sup_worker.c */
void	wk_kill(struct worker *);
void	wk_hostile(struct worker *, const char *);

/* sup_wread.c */
void	wk_read_init(struct sup *);
int	wk_read(struct worker *, int drain);
void	wk_read_cb(struct ev_loop *, ev_io *, int);
void	wk_carry_cb(struct sup_carry *);
void	wk_log_suppressed(struct worker *);

#endif
