/*
 * fuzz_msg.c: libFuzzer harness for the supervisor <-> worker messages
 * (attack cases 39(d), 49): msg_check() in both directions and states,
 * MSG_CONF included (a seed in contrib/fuzz/seeds/fuzz_msg),
 * the typed getters and the MSG_DATA iterator on what it accepts, and
 * two properties that abort on failure:
 *   - an accepted fixed-format message re-encodes to the same bytes
 *     (the encoding is canonical: reserved bytes are zero, no slack);
 *   - a batch built with msg_data_*() from the input always passes
 *     msg_check() and iterates back to the same frames.
 *
 *   make build/fuzz/fuzz_msg && build/fuzz/fuzz_msg -max_total_time=60
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "msg_conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	fz_out[MSG_MAX_RECORD];

/* re-encode a checked message; -1 if the type has no fixed encoding */
static int
fz_reencode(const struct msg *m, struct buf_w *w)
{
	struct msg_ready	rd;
	struct msg_chan_add	ca;
	struct msg_chan_del	cd;
	struct msg_log		lg;
	struct msg_stats	st;
	struct msg_perm		pm;
	struct msg_pkt		pk;
	static struct msg_conf	cf;

	switch (m->type) {
	case MSG_CONF:
		return msg_get_conf(m, &cf) == 0 ? msg_put_conf(w, &cf) : -2;
	case MSG_READY:
		return msg_get_ready(m, &rd) == 0 ? msg_put_ready(w, &rd) : -2;
	case MSG_CHAN_ADD:
		return msg_get_chan_add(m, &ca) == 0 ?
		    msg_put_chan_add(w, &ca) : -2;
	case MSG_CHAN_DEL:
		return msg_get_chan_del(m, &cd) == 0 ?
		    msg_put_chan_del(w, &cd) : -2;
	case MSG_LOG:
		return msg_get_log(m, &lg) == 0 ? msg_put_log(w, &lg) : -2;
	case MSG_STATS:
		return msg_get_stats(m, &st) == 0 ? msg_put_stats(w, &st) : -2;
	case MSG_PERM_ADD:
		return msg_get_perm_add(m, &pm) == 0 ?
		    msg_put_perm_add(w, &pm) : -2;
	case MSG_PERM_DEL:
		return msg_get_perm_del(m, &pm) == 0 ?
		    msg_put_perm_del(w, &pm) : -2;
	case MSG_SEND:
		return msg_get_send(m, &pk) == 0 ? msg_put_send(w, &pk) : -2;
	case MSG_PEER_DATA:
		return msg_get_peer_data(m, &pk) == 0 ?
		    msg_put_peer_data(w, &pk) : -2;
	default:
		return -1;
	}
}

static void
fz_iterate(const struct msg *m)
{
	struct buf_r	 r;
	const uint8_t	*p;
	uint16_t	 chan;
	size_t		 len, total = 0;
	int		 rv, n = 0;

	buf_r_init(&r, m->payload, m->len);
	while ((rv = msg_data_next(&r, &chan, &p, &len)) == 1) {
		if (chan < 0x4000 || chan > 0x4fff ||
		    p < m->payload || p + len > m->payload + m->len)
			abort();
		total += 4 + len;
		n++;
	}
	/* msg_check() accepted it: the whole payload is frames */
	if (rv != 0 || n == 0 || total != m->len)
		abort();
}

static void
fz_check(const uint8_t *data, size_t size)
{
	static const int dirs[] = { MSG_S2W, MSG_W2S };
	static const int states[] = { MSG_ST_STARTING, MSG_ST_READY };
	struct msg	 m;
	struct buf_w	 w;
	uint32_t	 once;
	size_t		 i, j;
	int		 rv;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			once = 0;
			if (msg_check(data, size, dirs[i], states[j], &once,
			    &m) == -1)
				continue;
			if (m.type == MSG_DATA) {
				fz_iterate(&m);
				continue;
			}
			buf_w_init(&w, fz_out, sizeof(fz_out));
			rv = fz_reencode(&m, &w);
			if (rv == 0 && (w.len != size ||
			    memcmp(fz_out, data, size) != 0))
				abort();	/* accepted but not canonical */
		}
}

/* the getters on raw payloads, without msg_check in front */
static void
fz_getters(const uint8_t *data, size_t size)
{
	struct msg	m;
	struct buf_w	w;

	if (size == 0)
		return;
	m.type = (enum msg_type)(data[0] % MSG_MAX);
	m.payload = data + 1;
	m.len = size - 1;
	buf_w_init(&w, fz_out, sizeof(fz_out));
	if (m.type == MSG_DATA) {
		struct buf_r	 r;
		const uint8_t	*p;
		uint16_t	 chan;
		size_t		 len;
		int		 n = 0;

		buf_r_init(&r, m.payload, m.len);
		while (msg_data_next(&r, &chan, &p, &len) == 1 && n++ < 70000)
			;
		return;
	}
	(void)fz_reencode(&m, &w);
}

/* build a batch from the input: [u16 chan][u8 len] chunks */
static void
fz_build(const uint8_t *data, size_t size)
{
	static uint8_t	 rec[MSG_MAX_RECORD];
	struct buf_w	 w;
	struct buf_r	 r;
	struct msg	 m;
	const uint8_t	*p;
	uint16_t	 chan, want_chan[1024];
	size_t		 off = 0, len, n, nf = 0, i;

	buf_w_init(&w, rec, sizeof(rec));
	msg_data_begin(&w);
	while (off + 3 <= size && nf < 1024) {
		chan = (uint16_t)(0x4000 | ((data[off] << 8 | data[off + 1]) &
		    0x0fff));
		len = data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if (msg_data_add(&w, chan, data + off, len) == -1) {
			if (errno == ENOBUFS && nf > 0)
				break;	/* full: check what we have */
			abort();	/* a small frame fits an empty record */
		}
		want_chan[nf++] = chan;
		off += len;
	}
	n = msg_data_end(&w);
	if (nf == 0) {
		if (n != 0)
			abort();
		return;
	}
	if (msg_check(rec, n, MSG_W2S, MSG_ST_READY, NULL, &m) == -1 ||
	    msg_check(rec, n, MSG_S2W, MSG_ST_READY, NULL, &m) == -1)
		abort();
	buf_r_init(&r, m.payload, m.len);
	for (i = 0; i < nf; i++)
		if (msg_data_next(&r, &chan, &p, &len) != 1 ||
		    chan != want_chan[i])
			abort();
	if (msg_data_next(&r, &chan, &p, &len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_check(data, size);
	fz_getters(data, size);
	fz_build(data, size);
	return 0;
}
