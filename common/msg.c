/*
 * msg.c: the supervisor <-> worker message catalogue (see msg.h).
 *
 * Every record is checked against one line of msg_rules[] before any
 * handler sees it, as OpenSSH's monitor does with its permission table,
 * and every typed getter re-reads the payload field by field and fails
 * with EBADMSG on a bad value or a leftover byte (bgpd's imsg discipline).
 * Nothing here does I/O.
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "cdata.h"
#include "msg.h"
#include "msg_conf.h"
#include "msg_int.h"

/* exact payload sizes */
#define MSG_READY_LEN		4	/* u16 port, u8 families, u8 zero */
#define MSG_CHAN_ADD_LEN	24	/* u16 chan, u8 fam, u8 0, u16 port,
					 * u16 0, ip[16] */
#define MSG_CHAN_DEL_LEN	4	/* u16 chan, u16 zero */
#define MSG_STATS_LEN		88	/* 11 x u64 */
#define MSG_PERM_LEN		20	/* u8 fam, u8 0, u16 0, ip[16] */
#define MSG_PKT_MIN		(MSG_PEER_LEN + 1)	/* peer + payload */

/*
 * One line per type. A zero dir (MSG_NONE) matches no direction, so the
 * unused type is rejected like an unknown one.
 */
const struct msg_rule msg_rules[MSG_MAX] = {
	/* type		  dir, states, flags, min and max payload */
	[MSG_NONE] =	  { 0, 0, 0, 0, 0 },
	[MSG_READY] =	  { MSG_W2S, MSG_ST_STARTING, MSG_F_ONCE,
			      MSG_READY_LEN, MSG_READY_LEN },
	[MSG_UNUSED_2] =  { 0, 0, 0, 0, 0 },
	[MSG_CHAN_ADD] =  { MSG_S2W, MSG_ST_READY, 0,
			      MSG_CHAN_ADD_LEN, MSG_CHAN_ADD_LEN },
	[MSG_CHAN_DEL] =  { MSG_S2W, MSG_ST_READY, 0,
			      MSG_CHAN_DEL_LEN, MSG_CHAN_DEL_LEN },
	[MSG_DATA] =	  { MSG_S2W | MSG_W2S, MSG_ST_READY, 0,
			      CDATA_HDR_LEN, MSG_MAX_PAYLOAD },
	[MSG_LOG] =	  { MSG_W2S, MSG_ST_ANY, 0,
			      2, 1 + MSG_LOG_MAX },
	[MSG_STATS] =	  { MSG_W2S, MSG_ST_READY, 0,
			      MSG_STATS_LEN, MSG_STATS_LEN },
	[MSG_PERM_ADD] =  { MSG_S2W, MSG_ST_READY, 0,
			      MSG_PERM_LEN, MSG_PERM_LEN },
	[MSG_PERM_DEL] =  { MSG_S2W, MSG_ST_READY, 0,
			      MSG_PERM_LEN, MSG_PERM_LEN },
	[MSG_SEND] =	  { MSG_S2W, MSG_ST_READY, 0,
			      MSG_PKT_MIN, MSG_MAX_PAYLOAD },
	[MSG_PEER_DATA] = { MSG_W2S, MSG_ST_READY, 0,
			      MSG_PKT_MIN, MSG_MAX_PAYLOAD },
	[MSG_CONF] =	  { MSG_S2W, MSG_ST_STARTING, MSG_F_ONCE,
			      MSG_CONF_LEN, MSG_CONF_LEN },
};

static const char *const msg_names[MSG_MAX] = {
	[MSG_NONE] = "NONE",
	[MSG_READY] = "READY",
	[MSG_UNUSED_2] = "UNUSED_2",
	[MSG_CHAN_ADD] = "CHAN_ADD",
	[MSG_CHAN_DEL] = "CHAN_DEL",
	[MSG_DATA] = "DATA",
	[MSG_LOG] = "LOG",
	[MSG_STATS] = "STATS",
	[MSG_PERM_ADD] = "PERM_ADD",
	[MSG_PERM_DEL] = "PERM_DEL",
	[MSG_SEND] = "SEND",
	[MSG_PEER_DATA] = "PEER_DATA",
	[MSG_CONF] = "CONF",
};

int
msg_bad(void)
{
	errno = EBADMSG;
	return -1;
}

static int
msg_chan_ok(uint16_t chan)
{
	return chan >= CDATA_CHAN_MIN && chan <= CDATA_CHAN_MAX;
}

const char *
msg_type_name(enum msg_type t)
{
	if ((unsigned)t >= MSG_MAX || msg_names[t] == NULL)
		return "UNKNOWN";
	return msg_names[t];
}

/*
 * Walk the frames of a MSG_DATA payload: at least one, each on a valid
 * channel and entirely inside the payload. Run by msg_check() so that a
 * bad batch is refused as a whole before any frame is acted upon. The
 * number of frames, or -1.
 */
static long
msg_data_valid(const uint8_t *p, size_t len)
{
	struct buf_r	 r;
	uint16_t	 chan;
	const uint8_t	*fp;
	size_t		 flen;
	long		 n = 0;
	int		 rv;

	buf_r_init(&r, p, len);
	while ((rv = msg_data_next(&r, &chan, &fp, &flen)) == 1)
		n++;
	return rv == 0 && n > 0 ? n : -1;
}

int
msg_check(const uint8_t *rec, size_t n, int dir, int state, uint32_t *once,
    struct msg *m)
{
	const struct msg_rule	*rule;
	uint16_t		 type;
	uint32_t		 len;
	long			 frames = 0;

	if (rec == NULL || n < MSG_HDR_LEN || n > MSG_MAX_RECORD)
		return msg_bad();
	type = buf_load16(rec);
	len = buf_load32(rec + 4);
	if (buf_load16(rec + 2) != 0 || (size_t)len != n - MSG_HDR_LEN)
		return msg_bad();
	if (type == MSG_NONE || type >= MSG_MAX)
		return msg_bad();
	rule = &msg_rules[type];
	if ((rule->dir & dir) == 0 || dir == (MSG_S2W | MSG_W2S))
		return msg_bad();
	if (len < rule->min_len || len > rule->max_len)
		return msg_bad();
	if ((rule->states & state) == 0 || state == MSG_ST_ANY)
		return msg_bad();
	if ((rule->flags & MSG_F_ONCE) && once != NULL &&
	    (*once & (1u << type)))
		return msg_bad();
	if (type == MSG_DATA &&
	    (frames = msg_data_valid(rec + MSG_HDR_LEN, len)) == -1)
		return msg_bad();
	if ((rule->flags & MSG_F_ONCE) && once != NULL)
		*once |= 1u << type;
	if (m != NULL) {
		m->type = (enum msg_type)type;
		m->payload = rec + MSG_HDR_LEN;
		m->len = len;
		m->frames = (size_t)frames;
	}
	return 0;
}

int
msg_put_hdr(struct buf_w *w, enum msg_type type, size_t payload_len)
{
	if ((unsigned)type == MSG_NONE || (unsigned)type >= MSG_MAX ||
	    payload_len > MSG_MAX_PAYLOAD) {
		errno = EINVAL;
		return -1;
	}
	buf_put_u16(w, (uint16_t)type);
	buf_put_u16(w, 0);
	return buf_put_u32(w, (uint32_t)payload_len);
}

/* the same rules on the sending side: never put a record we would reject */
int
msg_inval(void)
{
	errno = EINVAL;
	return -1;
}

int
msg_put_done(struct buf_w *w)
{
	if (w->err) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

int
msg_put_ready(struct buf_w *w, const struct msg_ready *r)
{
	if (r->port == 0 || r->families == 0 ||
	    (r->families & ~(ADDR_FAM_V4 | ADDR_FAM_V6)) != 0)
		return msg_inval();
	msg_put_hdr(w, MSG_READY, MSG_READY_LEN);
	buf_put_u16(w, r->port);
	buf_put_u8(w, r->families);
	buf_put_u8(w, 0);
	return msg_put_done(w);
}


/* a peer as the worker may be asked to send to: v4 or v6, port != 0,
 * and no stray bytes after an IPv4 address */
int
msg_peer_ok(const struct taddr *a)
{
	size_t	i;

	if (a->port == 0)
		return 0;
	if (a->family == ADDR_V6)
		return 1;
	if (a->family != ADDR_V4)
		return 0;
	for (i = 4; i < sizeof(a->ip); i++)
		if (a->ip[i] != 0)
			return 0;
	return 1;
}

int
msg_put_chan_add(struct buf_w *w, const struct msg_chan_add *c)
{
	if (!msg_chan_ok(c->chan) || !msg_peer_ok(&c->peer))
		return msg_inval();
	msg_put_hdr(w, MSG_CHAN_ADD, MSG_CHAN_ADD_LEN);
	buf_put_u16(w, c->chan);
	buf_put_u8(w, c->peer.family);
	buf_put_u8(w, 0);
	buf_put_u16(w, c->peer.port);
	buf_put_u16(w, 0);
	buf_put_bytes(w, c->peer.ip, sizeof(c->peer.ip));
	return msg_put_done(w);
}

int
msg_put_chan_del(struct buf_w *w, const struct msg_chan_del *c)
{
	if (!msg_chan_ok(c->chan))
		return msg_inval();
	msg_put_hdr(w, MSG_CHAN_DEL, MSG_CHAN_DEL_LEN);
	buf_put_u16(w, c->chan);
	buf_put_u16(w, 0);
	return msg_put_done(w);
}

int
msg_put_log(struct buf_w *w, const struct msg_log *l)
{
	if (l->level > 3 || l->len == 0 || l->len > MSG_LOG_MAX ||
	    l->text == NULL)
		return msg_inval();
	msg_put_hdr(w, MSG_LOG, 1 + l->len);
	buf_put_u8(w, l->level);
	buf_put_bytes(w, l->text, l->len);
	return msg_put_done(w);
}

int
msg_put_stats(struct buf_w *w, const struct msg_stats *s)
{
	msg_put_hdr(w, MSG_STATS, MSG_STATS_LEN);
	buf_put_u64(w, s->rx_pkts);
	buf_put_u64(w, s->rx_bytes);
	buf_put_u64(w, s->tx_pkts);
	buf_put_u64(w, s->tx_bytes);
	buf_put_u64(w, s->denied);
	buf_put_u64(w, s->rx_throttled);
	buf_put_u64(w, s->tx_throttled);
	buf_put_u64(w, s->rx_late);
	buf_put_u64(w, s->rx_full);
	buf_put_u64(w, s->tx_full);
	buf_put_u64(w, s->tx_late);
	return msg_put_done(w);
}

/* start reading a message of the expected type */
static int
msg_get_begin(const struct msg *m, enum msg_type type, struct buf_r *r)
{
	if (m == NULL || m->type != type || m->payload == NULL)
		return -1;
	buf_r_init(r, m->payload, m->len);
	return 0;
}

int
msg_get_ready(const struct msg *m, struct msg_ready *out)
{
	struct buf_r	r;
	uint8_t		zero = 0xff;

	if (msg_get_begin(m, MSG_READY, &r) == -1)
		return msg_bad();
	buf_get_u16(&r, &out->port);
	buf_get_u8(&r, &out->families);
	buf_get_u8(&r, &zero);
	if (buf_r_done(&r) == -1 || zero != 0 || out->port == 0 ||
	    out->families == 0 ||
	    (out->families & ~(ADDR_FAM_V4 | ADDR_FAM_V6)) != 0)
		return msg_bad();
	return 0;
}


int
msg_get_chan_add(const struct msg *m, struct msg_chan_add *out)
{
	struct buf_r	r;
	uint8_t		zero8 = 0xff;
	uint16_t	zero16 = 0xffff;

	if (msg_get_begin(m, MSG_CHAN_ADD, &r) == -1)
		return msg_bad();
	memset(&out->peer, 0, sizeof(out->peer));
	buf_get_u16(&r, &out->chan);
	buf_get_u8(&r, &out->peer.family);
	buf_get_u8(&r, &zero8);
	buf_get_u16(&r, &out->peer.port);
	buf_get_u16(&r, &zero16);
	buf_get_bytes(&r, out->peer.ip, sizeof(out->peer.ip));
	if (buf_r_done(&r) == -1 || zero8 != 0 || zero16 != 0 ||
	    !msg_chan_ok(out->chan) || !msg_peer_ok(&out->peer))
		return msg_bad();
	return 0;
}

int
msg_get_chan_del(const struct msg *m, struct msg_chan_del *out)
{
	struct buf_r	r;
	uint16_t	zero = 0xffff;

	if (msg_get_begin(m, MSG_CHAN_DEL, &r) == -1)
		return msg_bad();
	buf_get_u16(&r, &out->chan);
	buf_get_u16(&r, &zero);
	if (buf_r_done(&r) == -1 || zero != 0 || !msg_chan_ok(out->chan))
		return msg_bad();
	return 0;
}

int
msg_get_log(const struct msg *m, struct msg_log *out)
{
	struct buf_r	r;
	size_t		len;

	if (msg_get_begin(m, MSG_LOG, &r) == -1 || m->len < 2 ||
	    m->len > 1 + MSG_LOG_MAX)
		return msg_bad();
	len = m->len - 1;
	buf_get_u8(&r, &out->level);
	buf_get_ptr(&r, &out->text, len);
	if (buf_r_done(&r) == -1 || out->level > 3)
		return msg_bad();
	out->len = len;
	return 0;
}

int
msg_get_stats(const struct msg *m, struct msg_stats *out)
{
	struct buf_r	r;

	if (msg_get_begin(m, MSG_STATS, &r) == -1)
		return msg_bad();
	buf_get_u64(&r, &out->rx_pkts);
	buf_get_u64(&r, &out->rx_bytes);
	buf_get_u64(&r, &out->tx_pkts);
	buf_get_u64(&r, &out->tx_bytes);
	buf_get_u64(&r, &out->denied);
	buf_get_u64(&r, &out->rx_throttled);
	buf_get_u64(&r, &out->tx_throttled);
	buf_get_u64(&r, &out->rx_late);
	buf_get_u64(&r, &out->rx_full);
	buf_get_u64(&r, &out->tx_full);
	buf_get_u64(&r, &out->tx_late);
	if (buf_r_done(&r) == -1)
		return msg_bad();
	return 0;
}

/* ---- --indications: permissions and single datagrams ---- */

/* a permission key: v4 or v6, port 0, no stray bytes after IPv4 */
static int
msg_ip_ok(const struct taddr *a)
{
	struct taddr	p = *a;

	if (a->port != 0)
		return 0;
	p.port = 1;
	return msg_peer_ok(&p);
}

static int
msg_put_perm(struct buf_w *w, enum msg_type type, const struct msg_perm *p)
{
	if (!msg_ip_ok(&p->ip))
		return msg_inval();
	msg_put_hdr(w, type, MSG_PERM_LEN);
	msg_put_addr(w, &p->ip);	/* port 0, checked above */
	return msg_put_done(w);
}

int
msg_put_perm_add(struct buf_w *w, const struct msg_perm *p)
{
	return msg_put_perm(w, MSG_PERM_ADD, p);
}

int
msg_put_perm_del(struct buf_w *w, const struct msg_perm *p)
{
	return msg_put_perm(w, MSG_PERM_DEL, p);
}

static int
msg_put_pkt(struct buf_w *w, enum msg_type type, const struct msg_pkt *k)
{
	if (!msg_peer_ok(&k->peer) || k->len == 0 || k->len > MSG_PKT_MAX ||
	    k->data == NULL)
		return msg_inval();
	msg_put_hdr(w, type, MSG_PEER_LEN + k->len);
	msg_put_addr(w, &k->peer);
	buf_put_bytes(w, k->data, k->len);
	return msg_put_done(w);
}

int
msg_put_send(struct buf_w *w, const struct msg_pkt *k)
{
	return msg_put_pkt(w, MSG_SEND, k);
}

int
msg_put_peer_data(struct buf_w *w, const struct msg_pkt *k)
{
	return msg_put_pkt(w, MSG_PEER_DATA, k);
}

void
msg_put_addr(struct buf_w *w, const struct taddr *a)
{
	buf_put_u8(w, a->family);
	buf_put_u8(w, 0);
	buf_put_u16(w, a->port);
	buf_put_bytes(w, a->ip, sizeof(a->ip));
}

/* u8 family, u8 zero, u16 port, ip[16]; the zero byte is checked */
int
msg_get_addr(struct buf_r *r, struct taddr *a)
{
	uint8_t	zero = 0xff;

	memset(a, 0, sizeof(*a));
	buf_get_u8(r, &a->family);
	buf_get_u8(r, &zero);
	buf_get_u16(r, &a->port);
	buf_get_bytes(r, a->ip, sizeof(a->ip));
	return r->err || zero != 0 ? -1 : 0;
}

static int
msg_get_perm(const struct msg *m, enum msg_type type, struct msg_perm *out)
{
	struct buf_r	r;

	if (msg_get_begin(m, type, &r) == -1 ||
	    msg_get_addr(&r, &out->ip) == -1 || buf_r_done(&r) == -1 ||
	    !msg_ip_ok(&out->ip))
		return msg_bad();
	return 0;
}

int
msg_get_perm_add(const struct msg *m, struct msg_perm *out)
{
	return msg_get_perm(m, MSG_PERM_ADD, out);
}

int
msg_get_perm_del(const struct msg *m, struct msg_perm *out)
{
	return msg_get_perm(m, MSG_PERM_DEL, out);
}

static int
msg_get_pkt(const struct msg *m, enum msg_type type, struct msg_pkt *out)
{
	struct buf_r	r;
	size_t		len;

	if (msg_get_begin(m, type, &r) == -1 || m->len < MSG_PKT_MIN ||
	    m->len > MSG_MAX_PAYLOAD)
		return msg_bad();
	len = m->len - MSG_PEER_LEN;
	if (msg_get_addr(&r, &out->peer) == -1 ||
	    buf_get_ptr(&r, &out->data, len) == -1 || buf_r_done(&r) == -1 ||
	    !msg_peer_ok(&out->peer))
		return msg_bad();
	out->len = len;
	return 0;
}

int
msg_get_send(const struct msg *m, struct msg_pkt *out)
{
	return msg_get_pkt(m, MSG_SEND, out);
}

int
msg_get_peer_data(const struct msg *m, struct msg_pkt *out)
{
	return msg_get_pkt(m, MSG_PEER_DATA, out);
}

/*
 * MSG_DATA batches. The record starts at offset 0 of the writer: begin
 * resets it and writes a header with length 0, add appends whole frames
 * only, end patches the length.
 */
void
msg_data_begin(struct buf_w *w)
{
	w->len = 0;
	w->err = 0;
	msg_put_hdr(w, MSG_DATA, 0);
}

int
msg_data_add(struct buf_w *w, uint16_t chan, const uint8_t *p, size_t len)
{
	size_t	room;

	if (!msg_chan_ok(chan) || (len > 0 && p == NULL) ||
	    len > MSG_MAX_PAYLOAD - CDATA_HDR_LEN) {
		errno = EMSGSIZE;	/* can never fit: drop it */
		return -1;
	}
	room = w->cap < MSG_MAX_RECORD ? w->cap : MSG_MAX_RECORD;
	if (w->err || w->len < MSG_HDR_LEN || w->len > room ||
	    room - w->len < CDATA_HDR_LEN + len) {
		errno = ENOBUFS;	/* full: send and begin again */
		return -1;
	}
	buf_put_u16(w, chan);
	buf_put_u16(w, (uint16_t)len);
	buf_put_bytes(w, p, len);
	return w->err ? -1 : 0;
}

size_t
msg_data_end(struct buf_w *w)
{
	if (w->err || w->len <= MSG_HDR_LEN)
		return 0;
	if (buf_set_u32(w, 4, (uint32_t)(w->len - MSG_HDR_LEN)) == -1)
		return 0;
	return w->len;
}

int
msg_data_next(struct buf_r *r, uint16_t *chan, const uint8_t **p,
    size_t *len)
{
	struct cdata_frame	f;
	int			rv;

	if (r->err)
		return -1;
	if ((rv = cdata_next(r->p, r->len, &r->off, &f)) == 1) {
		*chan = f.chan;
		*p = f.payload;
		*len = f.plen;
	}
	return rv;
}
