/*
 * 15-cdata.c: the ChannelData frame walker (cdata_next), which every
 * reader of a run of frames uses: the MSG_DATA check and iterator, the
 * engine's check of a worker's frames and the supervisor's send code.
 * Runs are copied into buffers of their exact size, so that ASan sees a
 * read one byte past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cdata.h"
#include "msg.h"
#include "tap.h"

/* walk hex; returns what the last call returned, frames in *n */
static int
walk(const char *hex, size_t *n, struct cdata_frame *fr, size_t cap,
    size_t *end)
{
	uint8_t		 tmp[256], *p;
	size_t		 len, off = 0;
	int		 rv;

	len = tap_unhex(hex, tmp, sizeof(tmp));
	p = len > 0 ? malloc(len) : NULL;
	if (len > 0)
		memcpy(p, tmp, len);
	*n = 0;
	while ((rv = cdata_next(p, len, &off, &fr[*n < cap ? *n : cap - 1]))
	    == 1)
		(*n)++;
	*end = off;
	/* the frames point into p: keep only what the caller compares */
	for (len = 0; len < *n && len < cap; len++) {
		fr[len].frame = (const uint8_t *)(fr[len].frame - p);
		fr[len].payload = (const uint8_t *)(fr[len].payload - p);
	}
	free(p);
	return rv;
}

static void
test_good(void)
{
	struct cdata_frame	f[4];
	size_t			n, end;

	is_int(walk("", &n, f, 4, &end), 0, "empty run: end at once");
	is_int(n, 0, "empty run: no frame");
	end = 0;
	is_int(cdata_next(NULL, 0, &end, f), 0,
	    "NULL with length 0 is an empty run");

	is_int(walk("40000002cafe", &n, f, 4, &end), 0, "one frame: end");
	ok(n == 1 && f[0].chan == 0x4000 && f[0].plen == 2 &&
	    f[0].flen == 6 && (size_t)f[0].frame == 0 &&
	    (size_t)f[0].payload == 4 && end == 6,
	    "one frame: channel, lengths, offsets");

	is_int(walk("40000002cafe" "4fff0000" "40010003abcdef", &n, f, 4,
	    &end), 0, "three frames back to back: end");
	ok(n == 3 && f[1].chan == 0x4fff && f[1].plen == 0 &&
	    f[1].flen == CDATA_HDR_LEN && (size_t)f[1].frame == 6 &&
	    f[2].chan == 0x4001 && f[2].plen == 3 && (size_t)f[2].frame == 10 &&
	    end == 17, "zero-length frame in the middle, offsets follow");
}

static void
test_bad(void)
{
	static const struct {
		const char	*hex;
		size_t		 frames;	/* good frames before the error */
		const char	*what;
	} bad[] = {
		{ "40", 0, "header cut to 1 byte" },
		{ "400000", 0, "header cut to 3 bytes" },
		{ "40000005cafe", 0, "payload past the end" },
		{ "4000ffff", 0, "length 65535, nothing follows" },
		{ "40000001ff000000", 1, "padding (3 bytes) after a frame" },
		{ "40000002cafe00000000", 1,
		    "padding (4 zero bytes) is channel 0: refused" },
		{ "3fff0000", 0, "channel 0x3fff" },
		{ "50000000", 0, "channel 0x5000" },
		{ "40000002cafe4000", 1, "second header cut short" },
		{ "40000002cafe40000003abcd", 1, "second payload cut short" },
	};
	struct cdata_frame	f[4];
	size_t			i, n, end;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(walk(bad[i].hex, &n, f, 4, &end), -1, "%s: malformed",
		    bad[i].what);
		is_int(n, bad[i].frames, "%s: %zu good frame(s) first",
		    bad[i].what, bad[i].frames);
	}
	{
		uint8_t	b[6] = { 0x40, 0x00, 0x00, 0x02, 0xca, 0xfe };
		size_t	off = 7;

		is_int(cdata_next(b, sizeof(b), &off, f), -1,
		    "offset past the end: malformed");
		is_int(off, 7, "offset past the end: unchanged");
	}
}

/* the MSG_DATA iterator is the same walker */
static void
test_msg_data(void)
{
	uint8_t		 b[16];
	struct buf_r	 r;
	const uint8_t	*p;
	uint16_t	 chan;
	size_t		 len, n;

	n = tap_unhex("40000002cafe0000", b, sizeof(b));
	buf_r_init(&r, b, n);
	ok(msg_data_next(&r, &chan, &p, &len) == 1 && chan == 0x4000 &&
	    len == 2 && p == b + 4, "msg_data_next: first frame");
	ok(msg_data_next(&r, &chan, &p, &len) == -1,
	    "msg_data_next: padding after it refused");
	n = tap_unhex("40000002cafe" "40010000", b, sizeof(b));
	buf_r_init(&r, b, n);
	ok(msg_data_next(&r, &chan, &p, &len) == 1 &&
	    msg_data_next(&r, &chan, &p, &len) == 1 && chan == 0x4001 &&
	    len == 0 && msg_data_next(&r, &chan, &p, &len) == 0,
	    "msg_data_next: zero-length frame, then the end");
}

int
main(void)
{
	test_good();
	test_bad();
	test_msg_data();
	return done_testing();
}
