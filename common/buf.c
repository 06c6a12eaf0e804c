/*
 * buf.c: bounded byte reader and writer with sticky errors.
 *
 * Every access checks the remaining length first; the first failure sets
 * err and every later call fails without touching memory. Values are
 * assembled from single bytes, so the buffers may have any alignment.
 */
#include <string.h>

#include "buf.h"

void
buf_r_init(struct buf_r *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
	r->err = 0;
}

size_t
buf_r_left(const struct buf_r *r)
{
	if (r->err || r->off > r->len)
		return 0;
	return r->len - r->off;
}

/* reserve n bytes of input; NULL (and a sticky error) if they are not there */
static const uint8_t *
buf_r_take(struct buf_r *r, size_t n)
{
	const uint8_t	*p;

	if (r->err || n > buf_r_left(r)) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

int
buf_get_u8(struct buf_r *r, uint8_t *v)
{
	const uint8_t	*p;

	if ((p = buf_r_take(r, 1)) == NULL) {
		*v = 0;
		return -1;
	}
	*v = p[0];
	return 0;
}

int
buf_get_u16(struct buf_r *r, uint16_t *v)
{
	const uint8_t	*p;

	if ((p = buf_r_take(r, 2)) == NULL) {
		*v = 0;
		return -1;
	}
	*v = buf_load16(p);
	return 0;
}

int
buf_get_u32(struct buf_r *r, uint32_t *v)
{
	const uint8_t	*p;

	if ((p = buf_r_take(r, 4)) == NULL) {
		*v = 0;
		return -1;
	}
	*v = buf_load32(p);
	return 0;
}

int
buf_get_u64(struct buf_r *r, uint64_t *v)
{
	const uint8_t	*p;

	if ((p = buf_r_take(r, 8)) == NULL) {
		*v = 0;
		return -1;
	}
	*v = (uint64_t)buf_load32(p) << 32 | buf_load32(p + 4);
	return 0;
}

int
buf_get_bytes(struct buf_r *r, void *out, size_t n)
{
	const uint8_t	*p;

	if ((p = buf_r_take(r, n)) == NULL) {
		if (out != NULL && n > 0)
			memset(out, 0, n);
		return -1;
	}
	if (n > 0)
		memcpy(out, p, n);
	return 0;
}

int
buf_get_ptr(struct buf_r *r, const uint8_t **out, size_t n)
{
	const uint8_t	*p;

	if ((p = buf_r_take(r, n)) == NULL) {
		*out = NULL;
		return -1;
	}
	*out = p;
	return 0;
}

int
buf_skip(struct buf_r *r, size_t n)
{
	return buf_r_take(r, n) == NULL ? -1 : 0;
}

int
buf_r_done(const struct buf_r *r)
{
	if (r->err || r->off != r->len)
		return -1;
	return 0;
}

void
buf_w_init(struct buf_w *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = p != NULL ? cap : 0;
	w->len = 0;
	w->err = 0;
}

/* reserve n bytes of output; NULL (and a sticky error) if they do not fit */
static uint8_t *
buf_w_take(struct buf_w *w, size_t n)
{
	uint8_t		*p;

	if (w->err || w->len > w->cap || n > w->cap - w->len) {
		w->err = 1;
		return NULL;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

static void
buf_store16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
buf_store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
buf_put_u8(struct buf_w *w, uint8_t v)
{
	uint8_t		*p;

	if ((p = buf_w_take(w, 1)) == NULL)
		return -1;
	p[0] = v;
	return 0;
}

int
buf_put_u16(struct buf_w *w, uint16_t v)
{
	uint8_t		*p;

	if ((p = buf_w_take(w, 2)) == NULL)
		return -1;
	buf_store16(p, v);
	return 0;
}

int
buf_put_u32(struct buf_w *w, uint32_t v)
{
	uint8_t		*p;

	if ((p = buf_w_take(w, 4)) == NULL)
		return -1;
	buf_store32(p, v);
	return 0;
}

int
buf_put_u64(struct buf_w *w, uint64_t v)
{
	uint8_t		*p;

	if ((p = buf_w_take(w, 8)) == NULL)
		return -1;
	buf_store32(p, (uint32_t)(v >> 32));
	buf_store32(p + 4, (uint32_t)v);
	return 0;
}

int
buf_put_bytes(struct buf_w *w, const void *src, size_t n)
{
	uint8_t		*p;

	if (n > 0 && src == NULL) {
		w->err = 1;
		return -1;
	}
	if ((p = buf_w_take(w, n)) == NULL)
		return -1;
	if (n > 0)
		memcpy(p, src, n);
	return 0;
}

int
buf_put_zero(struct buf_w *w, size_t n)
{
	uint8_t		*p;

	if ((p = buf_w_take(w, n)) == NULL)
		return -1;
	if (n > 0)
		memset(p, 0, n);
	return 0;
}

int
buf_set_u16(struct buf_w *w, size_t off, uint16_t v)
{
	if (w->err || off > w->len || w->len - off < 2) {
		w->err = 1;
		return -1;
	}
	buf_store16(w->p + off, v);
	return 0;
}

int
buf_set_u32(struct buf_w *w, size_t off, uint32_t v)
{
	if (w->err || off > w->len || w->len - off < 4) {
		w->err = 1;
		return -1;
	}
	buf_store32(w->p + off, v);
	return 0;
}
