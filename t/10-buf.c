/*
 * 10-buf.c: the bounded reader and writer: bounds, sticky errors,
 * byte order and misaligned access.
 */
#include <string.h>

#include "buf.h"
#include "tap.h"

static void
test_reader(void)
{
	static const uint8_t	 src[] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
		0x11
	};
	struct buf_r	 r;
	uint8_t		 u8, bytes[4];
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;
	const uint8_t	*p;

	buf_r_init(&r, src, sizeof(src));
	is_int(buf_r_left(&r), 17, "fresh reader: 17 left");
	ok(buf_get_u8(&r, &u8) == 0 && u8 == 0x01, "u8");
	ok(buf_get_u16(&r, &u16) == 0 && u16 == 0x0203, "u16 big-endian");
	ok(buf_get_u32(&r, &u32) == 0 && u32 == 0x04050607, "u32 big-endian");
	ok(buf_get_u64(&r, &u64) == 0 && u64 == 0x08090a0b0c0d0e0fULL,
	    "u64 big-endian");
	is_int(buf_r_left(&r), 2, "2 left");
	is_int(buf_r_done(&r), -1, "not done with bytes left");
	ok(buf_get_u32(&r, &u32) == -1 && u32 == 0, "u32 past the end fails");
	ok(r.err != 0, "error is set");
	ok(buf_get_u8(&r, &u8) == -1 && u8 == 0,
	    "sticky: a u8 that would fit fails too");
	is_int(buf_r_left(&r), 0, "left is 0 after an error");
	is_int(buf_r_done(&r), -1, "done fails after an error");

	buf_r_init(&r, src, sizeof(src));
	ok(buf_get_ptr(&r, &p, 16) == 0 && p == src, "ptr into the buffer");
	ok(buf_get_bytes(&r, bytes, 1) == 0 && bytes[0] == 0x11, "last byte");
	is_int(buf_r_done(&r), 0, "fully consumed: done");
	ok(buf_get_ptr(&r, &p, 1) == -1 && p == NULL, "ptr past end: NULL");
	ok(buf_skip(&r, 0) == -1, "sticky: skip 0 after error fails");

	buf_r_init(&r, src, 3);
	ok(buf_skip(&r, 3) == 0 && buf_r_done(&r) == 0, "skip exactly all");
	buf_r_init(&r, src, 3);
	memset(bytes, 0x55, sizeof(bytes));
	ok(buf_get_bytes(&r, bytes, 4) == -1 && bytes[0] == 0 &&
	    bytes[3] == 0, "short get_bytes fails and zeroes output");
	buf_r_init(&r, src, 3);
	ok(buf_skip(&r, (size_t)-1) == -1, "huge skip fails (no wrap)");
	buf_r_init(&r, src, 3);
	ok(buf_get_ptr(&r, &p, 2) == 0 && buf_get_ptr(&r, &p, (size_t)-1) == -1,
	    "huge ptr after progress fails (no wrap)");
	buf_r_init(&r, NULL, 10);
	ok(buf_r_left(&r) == 0 && buf_get_u8(&r, &u8) == -1,
	    "NULL buffer reads nothing");
	buf_r_init(&r, src, 0);
	is_int(buf_r_done(&r), 0, "empty reader is done");
	ok(buf_get_bytes(&r, NULL, 0) == 0, "get 0 bytes from empty is fine");
}

static void
test_writer(void)
{
	uint8_t		 out[16];
	struct buf_w	 w;

	memset(out, 0xaa, sizeof(out));
	buf_w_init(&w, out, 15);
	ok(buf_put_u8(&w, 0x01) == 0 && buf_put_u16(&w, 0x0203) == 0 &&
	    buf_put_u32(&w, 0x04050607) == 0 &&
	    buf_put_u64(&w, 0x08090a0b0c0d0e0fULL) == 0, "puts fit");
	is_mem(out, w.len, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"
	    "\x0c\x0d\x0e\x0f", 15, "big-endian layout");
	ok(buf_put_u8(&w, 0x10) == -1 && w.err, "one byte too many fails");
	is_int(w.len, 15, "length unchanged by the failed put");
	is_int(out[15], 0xaa, "nothing written past cap");
	ok(buf_set_u16(&w, 0, 0xbeef) == -1, "sticky: set fails after error");

	memset(out, 0xaa, sizeof(out));
	buf_w_init(&w, out, sizeof(out));
	ok(buf_put_bytes(&w, "abc", 3) == 0 && buf_put_zero(&w, 5) == 0,
	    "bytes and zero");
	is_mem(out, w.len, "abc\0\0\0\0\0", 8, "zero fill");
	ok(buf_set_u16(&w, 6, 0x1234) == 0 && out[6] == 0x12 &&
	    out[7] == 0x34, "set_u16 inside written part");
	ok(buf_set_u32(&w, 4, 0xdeadbeef) == 0 && out[4] == 0xde &&
	    out[7] == 0xef, "set_u32 ending at len");
	ok(buf_set_u32(&w, 5, 0) == -1 && w.err, "set_u32 past len fails");
	ok(buf_put_u8(&w, 1) == -1, "sticky after a bad set");
	is_int(out[8], 0xaa, "nothing written after the error");

	memset(out, 0xaa, sizeof(out));
	buf_w_init(&w, out, sizeof(out));
	ok(buf_put_zero(&w, 17) == -1 && w.len == 0 && out[0] == 0xaa,
	    "oversized zero writes nothing");
	buf_w_init(&w, out, sizeof(out));
	ok(buf_put_bytes(&w, "x", (size_t)-1) == -1, "huge put fails (no wrap)");
	buf_w_init(&w, out, sizeof(out));
	ok(buf_put_bytes(&w, NULL, 1) == -1, "NULL source with length fails");
	buf_w_init(&w, out, sizeof(out));
	ok(buf_put_bytes(&w, NULL, 0) == 0 && buf_put_zero(&w, 16) == 0 &&
	    w.len == 16, "exactly full");
	ok(buf_set_u16(&w, (size_t)-1, 0) == -1, "set at huge offset fails");
	buf_w_init(&w, NULL, 8);
	ok(buf_put_u8(&w, 0) == -1, "NULL writer takes nothing");
}

/* misaligned reads and writes at offsets 0..7 (UBSan checks alignment) */
static void
test_misaligned(void)
{
	static uint64_t	 store[8];
	uint8_t		*p;
	struct buf_r	 r;
	struct buf_w	 w;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;
	size_t		 off;
	int		 good = 1;

	for (off = 0; off < 8; off++) {
		p = (uint8_t *)store + off;
		buf_w_init(&w, p, 14);
		buf_put_u16(&w, 0xa1b2);
		buf_put_u32(&w, 0xc3d4e5f6);
		buf_put_u64(&w, 0x0102030405060708ULL);
		buf_set_u32(&w, 2, 0xc3d4e5f7);
		buf_r_init(&r, p, w.len);
		buf_get_u16(&r, &u16);
		buf_get_u32(&r, &u32);
		buf_get_u64(&r, &u64);
		if (w.err || u16 != 0xa1b2 || u32 != 0xc3d4e5f7 ||
		    u64 != 0x0102030405060708ULL || buf_r_done(&r) != 0 ||
		    buf_load16(p) != 0xa1b2 || buf_load32(p + 2) != 0xc3d4e5f7)
			good = 0;
	}
	ok(good, "round trip at offsets 0-7");
}

int
main(void)
{
	test_reader();
	test_writer();
	test_misaligned();
	return done_testing();
}
