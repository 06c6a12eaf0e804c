/*
 * sup_carry.c: the rest of a worker's MSG_DATA record that its budget of
 * one loop iteration did not cover (see sup_worker.c, WK_BUDGET_*).
 *
 * A record of the largest size may hold some 13,000 frames, one send
 * each: handed to the engine at once it holds the loop for milliseconds.
 * So a record is cut at a frame boundary, the rest copied into one of a
 * few pool buffers, and the worker put on a list served by an ev_check
 * watcher once per iteration (after the poll, with every other ready
 * descriptor). An ev_idle watcher keeps the poll from blocking while the
 * list is not empty. With the pool empty the record is handed over whole,
 * as it was without the cut: the pool bounds memory, not correctness.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "sup_carry.h"

#define CARRY_BUFS	16	/* workers over budget at once; 1 MiB */

static uint8_t		 carry_mem[CARRY_BUFS][MSG_MAX_PAYLOAD];
static uint8_t		*carry_free[CARRY_BUFS];
static size_t		 carry_nfree;
static LIST_HEAD(, sup_carry) carry_list = LIST_HEAD_INITIALIZER(carry_list);
static struct ev_loop	*carry_loop;
static ev_check		 carry_check;
static ev_idle		 carry_idle;

/* serve every listed rest once; fn may drop any of them */
static void
carry_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct sup_carry	*c, *next;

	(void)loop;
	(void)w;
	(void)revents;
	for (c = LIST_FIRST(&carry_list); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		c->fn(c);
		/* fn may have dropped the next one (a worker stopped by a
		 * frame of this one cannot be, but keep the walk safe) */
		if (next != NULL && next->buf == NULL)
			break;
	}
}

static void
carry_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

void
sup_carry_init(struct ev_loop *loop)
{
	size_t	i;

	carry_loop = loop;
	for (i = 0; i < CARRY_BUFS; i++)
		carry_free[i] = carry_mem[i];
	carry_nfree = CARRY_BUFS;
	ev_check_init(&carry_check, carry_check_cb);
	ev_idle_init(&carry_idle, carry_idle_cb);
}

int
sup_carry_take(struct sup_carry *c, const uint8_t *p, size_t len)
{
	if (c->buf != NULL || carry_nfree == 0 || len > MSG_MAX_PAYLOAD)
		return -1;
	c->buf = carry_free[--carry_nfree];
	memcpy(c->buf, p, len);
	c->len = len;
	c->off = 0;
	if (LIST_EMPTY(&carry_list)) {
		ev_check_start(carry_loop, &carry_check);
		ev_idle_start(carry_loop, &carry_idle);
	}
	LIST_INSERT_HEAD(&carry_list, c, entry);
	return 0;
}

void
sup_carry_drop(struct sup_carry *c)
{
	if (c->buf == NULL)
		return;
	LIST_REMOVE(c, entry);
	carry_free[carry_nfree++] = c->buf;
	c->buf = NULL;
	c->len = c->off = 0;
	if (LIST_EMPTY(&carry_list)) {
		ev_check_stop(carry_loop, &carry_check);
		ev_idle_stop(carry_loop, &carry_idle);
	}
}

size_t
sup_carry_cut(const uint8_t *p, size_t len, size_t *frames)
{
	struct buf_r	 r;
	const uint8_t	*fp;
	size_t		 flen, cut = 0;
	uint16_t	 chan;

	buf_r_init(&r, p, len);
	do {
		if (msg_data_next(&r, &chan, &fp, &flen) != 1)
			break;
		cut = r.off;
		if (*frames > 0)
			(*frames)--;
	} while (*frames > 0);
	return cut == 0 ? len : cut;
}
