/*
 * cdata.h: ChannelData framing (RFC 8656 §12.4), and the one walker of
 * frames packed back to back.
 *
 * A run of frames is what a MSG_DATA record carries between supervisor
 * and worker and what the engine hands to the send code for one client:
 * each frame a 4-byte header (channel, payload length) and its payload,
 * the next frame right after it. Over UDP the RFC needs no padding and
 * none is written, so a run has none: bytes after a frame are the next
 * frame's header.
 */
#ifndef CDATA_H
#define CDATA_H

#include <stddef.h>
#include <stdint.h>

#define CDATA_HDR_LEN	4
#define CDATA_CHAN_MIN	0x4000	/* channel numbers (RFC 8656 §12) */
#define CDATA_CHAN_MAX	0x4FFF

/* 1 if the first byte says ChannelData framing (top bits 01: 0x40-0x7F);
 * cdata_decode() then accepts only channels 0x4000-0x4FFF */
int	 cdata_is(const uint8_t *, size_t);
/* 0 ok (payload points into p; trailing padding ignored), -1 drop */
int	 cdata_decode(const uint8_t *, size_t, uint16_t *chan,
	    const uint8_t **payload, size_t *plen);
/* write the 4-byte header for a payload of plen bytes; -1 if plen > 65535 */
int	 cdata_put_hdr(uint8_t hdr[CDATA_HDR_LEN], uint16_t chan, size_t plen);

struct cdata_frame {
	uint16_t	 chan;
	const uint8_t	*frame;		/* header included */
	size_t		 flen;		/* CDATA_HDR_LEN + plen */
	const uint8_t	*payload;
	size_t		 plen;		/* may be 0 */
};

/*
 * The frame of run p[0..len) at *off: 1 got one (*off moves past it),
 * 0 the run ends exactly at *off, -1 malformed: a header cut short, a
 * payload past the end, or a channel outside 0x4000-0x4FFF. Never reads
 * outside p[0..len).
 */
int	 cdata_next(const uint8_t *p, size_t len, size_t *off,
	    struct cdata_frame *);

#endif
