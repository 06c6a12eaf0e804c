/*
 * turn_q.c: the engine's command FIFO and the storage behind it.
 *
 * Commands are queued in order and copied out by turn_next_cmd(). Bytes
 * the engine produces (encoded responses, log text) live in one arena
 * that is reset only when the FIFO is empty at the start of the next
 * input, so a command's pointers stay valid until then; the arena holds
 * offsets while it is being filled (it may move when it grows). Data
 * commands (WORKER_DATA, the SENDs of turn_worker_data) point into the
 * caller's input and use no arena. Both buffers only grow, so once they
 * have reached their high-water mark the data path allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "turn_int.h"

static int
turn_q_grow(struct turn *t)
{
	struct turn_qent	*v;
	size_t			 cap;

	if (t->q_n < t->q_cap)
		return 0;
	cap = t->q_cap == 0 ? TURN_Q_INIT : t->q_cap * 2;
	if (cap > SIZE_MAX / sizeof(*v))
		return -1;
	if ((v = realloc(t->q, cap * sizeof(*v))) == NULL)
		return -1;
	t->q = v;
	t->q_cap = cap;
	return 0;
}

/* a zeroed command of this type at the tail, or NULL (out of memory) */
struct turn_qent *
turn_q_push(struct turn *t, enum turn_cmd_type type)
{
	struct turn_qent	*e;

	if (turn_q_grow(t) == -1)
		return NULL;
	e = &t->q[t->q_n++];
	memset(e, 0, sizeof(*e));
	e->c.type = type;
	return e;
}

/* called at the start of every input: forget what was fully drained */
void
turn_q_reset(struct turn *t)
{
	if (t->q_head < t->q_n)
		return;
	t->q_head = t->q_n = 0;
	t->arena_len = 0;
}

/*
 * n writable bytes at *off, valid until the next reserve (the arena may
 * move). turn_arena_trim() gives back what was not used.
 */
uint8_t *
turn_arena_reserve(struct turn *t, size_t n, size_t *off)
{
	uint8_t	*p;
	size_t	 cap;

	if (n > SIZE_MAX / 2 - t->arena_len)
		return NULL;
	if (t->arena_len + n > t->arena_cap) {
		cap = t->arena_cap == 0 ? TURN_ARENA_INIT : t->arena_cap;
		while (cap < t->arena_len + n)
			cap *= 2;
		if ((p = realloc(t->arena, cap)) == NULL)
			return NULL;
		t->arena = p;
		t->arena_cap = cap;
	}
	*off = t->arena_len;
	t->arena_len += n;
	return t->arena + *off;
}

void
turn_arena_trim(struct turn *t, size_t off, size_t used)
{
	t->arena_len = off + used;
}

/* a LOG command; the text is cut at TURN_LOG_MAX - 1 bytes */
void
turn_log(struct turn *t, int level, const char *fmt, ...)
{
	struct turn_qent	*e;
	va_list			 ap;
	char			*p;
	size_t			 off;
	int			 n;

	if ((p = (char *)turn_arena_reserve(t, TURN_LOG_MAX, &off)) == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p, TURN_LOG_MAX, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto fail;
	if (n >= TURN_LOG_MAX)
		n = TURN_LOG_MAX - 1;
	turn_arena_trim(t, off, (size_t)n + 1);
	if ((e = turn_q_push(t, TURN_CMD_LOG)) == NULL)
		goto fail;
	e->c.level = level;
	e->own = 1;
	e->off = off;
	return;
fail:
	turn_arena_trim(t, off, 0);
}

int
turn_next_cmd(struct turn *t, struct turn_cmd *out)
{
	const struct turn_qent	*e;

	if (t->q_head >= t->q_n) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	e = &t->q[t->q_head++];
	*out = e->c;
	if (e->own && e->c.type == TURN_CMD_LOG)
		out->text = (const char *)t->arena + e->off;
	else if (e->own)
		out->data = t->arena + e->off;
	return 1;
}

void
turn_q_free(struct turn *t)
{
	free(t->q);
	free(t->arena);
	t->q = NULL;
	t->arena = NULL;
	t->q_n = t->q_head = t->q_cap = 0;
	t->arena_len = t->arena_cap = 0;
}
