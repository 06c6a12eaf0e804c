/*
 * sup_carry.c: the receive buffers of worker records and what a worker's
 * budget of one loop iteration did not cover (see sup_worker.c,
 * WK_BUDGET_*).
 *
 * A record of the largest size may hold some 13,000 frames, one send
 * each: handed to the engine at once it holds the loop for milliseconds.
 * So a record is cut at a frame boundary, and the rest, with every record
 * read after it in the same batch, is kept: the buffers they were
 * received into move to the worker's list (nothing is copied) and the
 * reader takes fresh ones from the pool. The worker is put on a list
 * served by an ev_check watcher once per iteration (after the poll, with
 * every other ready descriptor). An ev_idle watcher keeps the poll from
 * blocking while the list is not empty. A reader asks for no more records
 * at once than the pool could keep; with the pool empty it reads one and
 * hands it over whole, as it was without the cut: the pool bounds memory,
 * not correctness.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "sup_carry.h"

/*
 * 96 buffers of 64 KiB: the reader's ring of 48 and 48 to keep (6 MiB of
 * address space; a buffer's pages are touched only as far as records
 * reach).
 */
#define CARRY_BUFS	(2 * SUP_CARRY_RING)

static struct sup_cbuf	 carry_mem[CARRY_BUFS];
static struct sup_cbuf	*carry_free;
static size_t		 carry_nfree;
static LIST_HEAD(, sup_carry) carry_list = LIST_HEAD_INITIALIZER(carry_list);
static struct ev_loop	*carry_loop;
static ev_check		 carry_check;
static ev_idle		 carry_idle;

/* serve every listed worker once; fn may drop any of them */
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
		if (next != NULL && next->head == NULL)
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
	carry_free = NULL;
	for (i = 0; i < CARRY_BUFS; i++) {
		carry_mem[i].next = carry_free;
		carry_free = &carry_mem[i];
	}
	carry_nfree = CARRY_BUFS;
	ev_check_init(&carry_check, carry_check_cb);
	ev_idle_init(&carry_idle, carry_idle_cb);
}

struct sup_cbuf *
sup_carry_get(void)
{
	struct sup_cbuf	*b;

	if ((b = carry_free) == NULL)
		return NULL;
	carry_free = b->next;
	carry_nfree--;
	b->next = NULL;
	b->off = 0;
	return b;
}

size_t
sup_carry_nfree(void)
{
	return carry_nfree;
}

static void
carry_put(struct sup_cbuf *b)
{
	b->next = carry_free;
	carry_free = b;
	carry_nfree++;
}

void
sup_carry_keep(struct sup_carry *c, struct sup_cbuf *b)
{
	b->next = NULL;
	if (c->head == NULL) {
		if (LIST_EMPTY(&carry_list)) {
			ev_check_start(carry_loop, &carry_check);
			ev_idle_start(carry_loop, &carry_idle);
		}
		LIST_INSERT_HEAD(&carry_list, c, entry);
		c->head = b;
	} else
		c->last->next = b;
	c->last = b;
}

void
sup_carry_done(struct sup_carry *c)
{
	struct sup_cbuf	*b;

	if ((b = c->head) == NULL)
		return;
	c->head = b->next;
	carry_put(b);
	if (c->head != NULL)
		return;
	c->last = NULL;
	LIST_REMOVE(c, entry);
	if (LIST_EMPTY(&carry_list)) {
		ev_check_stop(carry_loop, &carry_check);
		ev_idle_stop(carry_loop, &carry_idle);
	}
}

void
sup_carry_drop(struct sup_carry *c)
{
	while (c->head != NULL)
		sup_carry_done(c);
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
