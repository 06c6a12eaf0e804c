/*
 * buf.h: bounded byte reader and writer (the sshbuf/ibuf role).
 *
 * Errors are sticky: after the first failure every further call fails and
 * writes nothing, so a chain of puts or gets can be checked once at the
 * end. Multi-byte values are network byte order and are read with byte
 * shifts, never through casts (misaligned input is fine). Lengths are
 * size_t until the moment they are encoded.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf_r {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 err;
};

struct buf_w {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;
	int		 err;
};

void	buf_r_init(struct buf_r *, const void *, size_t);
size_t	buf_r_left(const struct buf_r *);
int	buf_get_u8(struct buf_r *, uint8_t *);
int	buf_get_u16(struct buf_r *, uint16_t *);
int	buf_get_u32(struct buf_r *, uint32_t *);
int	buf_get_u64(struct buf_r *, uint64_t *);
int	buf_get_bytes(struct buf_r *, void *, size_t);
/* a pointer into the reader's buffer, advanced past n bytes */
int	buf_get_ptr(struct buf_r *, const uint8_t **, size_t);
int	buf_skip(struct buf_r *, size_t);
/* 0 if the reader is error-free and fully consumed, else -1 */
int	buf_r_done(const struct buf_r *);

void	buf_w_init(struct buf_w *, void *, size_t);
int	buf_put_u8(struct buf_w *, uint8_t);
int	buf_put_u16(struct buf_w *, uint16_t);
int	buf_put_u32(struct buf_w *, uint32_t);
int	buf_put_u64(struct buf_w *, uint64_t);
int	buf_put_bytes(struct buf_w *, const void *, size_t);
int	buf_put_zero(struct buf_w *, size_t);
/* overwrite at an earlier offset (must be inside what was written) */
int	buf_set_u16(struct buf_w *, size_t off, uint16_t);
int	buf_set_u32(struct buf_w *, size_t off, uint32_t);

/* big-endian loads from a byte pointer (no alignment assumption) */
static inline uint16_t
buf_load16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
buf_load32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#endif
