/*
 * cdata.c: ChannelData framing and the walker of runs of frames.
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cdata.h"

int
cdata_is(const uint8_t *p, size_t n)
{
	return n > 0 && (p[0] & 0xc0) == 0x40;
}

int
cdata_decode(const uint8_t *p, size_t n, uint16_t *chan,
    const uint8_t **payload, size_t *plen)
{
	uint16_t	 ch, len;

	*chan = 0;
	*payload = NULL;
	*plen = 0;
	if (p == NULL || n < CDATA_HDR_LEN)
		return -1;
	ch = buf_load16(p);
	len = buf_load16(p + 2);
	if (ch < CDATA_CHAN_MIN || ch > CDATA_CHAN_MAX)
		return -1;
	if ((size_t)len > n - CDATA_HDR_LEN)
		return -1;
	*chan = ch;
	*payload = p + CDATA_HDR_LEN;
	*plen = len;
	return 0;
}

int
cdata_put_hdr(uint8_t hdr[CDATA_HDR_LEN], uint16_t chan, size_t plen)
{
	if (plen > 0xffff)
		return -1;
	hdr[0] = (uint8_t)(chan >> 8);
	hdr[1] = (uint8_t)chan;
	hdr[2] = (uint8_t)(plen >> 8);
	hdr[3] = (uint8_t)plen;
	return 0;
}

int
cdata_next(const uint8_t *p, size_t len, size_t *off, struct cdata_frame *f)
{
	size_t	o = *off, left;

	if (o > len || (p == NULL && len > 0))
		return -1;
	if (o == len)
		return 0;
	left = len - o;
	if (cdata_decode(p + o, left, &f->chan, &f->payload, &f->plen) == -1)
		return -1;
	f->frame = p + o;
	f->flen = CDATA_HDR_LEN + f->plen;
	*off = o + f->flen;
	return 1;
}
