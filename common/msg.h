/*
 * msg.h: the whole protocol between the supervisor and a worker.
 *
 * One SOCK_SEQPACKET record is one message: an 8-byte header
 * { u16 type, u16 zero, u32 len } (network byte order) followed by exactly
 * len payload bytes. Every type has one rule in msg_rules[] (direction,
 * exact or bounded size, once-only, states in which it is allowed), and
 * msg_check() applies it before any handler runs. Typed put/get pairs
 * copy fields out one at a time (never a cast) and reject trailing bytes.
 *
 * Data messages are batches: MSG_DATA carries ChannelData frames
 * { u16 chan, u16 len, len bytes } back to back, no padding, at least one.
 * s->w: payloads the client sent on those channels (to the bound peer).
 * w->s: payloads peers sent, already framed for the client.
 *
 * The RFC 8656 data path (--indications) adds four types: PERM_ADD and
 * PERM_DEL { u8 family, u8 zero, u16 zero, ip[16] } keep the worker's
 * permission set (peer IPs), and SEND (s->w) / PEER_DATA (w->s) carry one
 * datagram { u8 family, u8 zero, u16 port, ip[16], 1.. payload bytes } for
 * a peer without a channel. The supervisor sends PERM_* only with the
 * option on; a worker that has no permission never sends PEER_DATA.
 *
 * A worker starts with a constant argv: everything that differs per
 * allocation arrives in MSG_CONF (s->w, exact size, once, only before
 * READY), the first record on the socketpair; see msg_conf.h.
 */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"

#define MSG_HDR_LEN		8
#define MSG_MAX_PAYLOAD		65528	/* header + payload <= 64 KiB */
#define MSG_MAX_RECORD		(MSG_HDR_LEN + MSG_MAX_PAYLOAD)
#define MSG_LOG_MAX		512
#define MSG_PEER_LEN		20	/* family, zero, port, ip[16] */
#define MSG_PKT_MAX		(MSG_MAX_PAYLOAD - MSG_PEER_LEN)

enum msg_type {
	MSG_NONE = 0,
	MSG_READY,		/* w->s  relay socket(s) bound: port, families; once */
	MSG_UNUSED_2,		/* was BIND_FAIL: the supervisor binds relay
				 * sockets now; rejected like MSG_NONE */
	MSG_CHAN_ADD,		/* s->w  channel number + peer address */
	MSG_CHAN_DEL,		/* s->w  channel number */
	MSG_DATA,		/* both  ChannelData frames */
	MSG_LOG,		/* w->s  level + text (1..512 bytes) */
	MSG_STATS,		/* w->s  counters */
	MSG_PERM_ADD,		/* s->w  permission for a peer IP */
	MSG_PERM_DEL,		/* s->w  permission expired */
	MSG_SEND,		/* s->w  one datagram for a permitted peer */
	MSG_PEER_DATA,		/* w->s  one datagram from a permitted peer */
	MSG_CONF,		/* s->w  the worker's configuration; once, first */
	MSG_MAX
};

/* directions */
#define MSG_S2W		0x1
#define MSG_W2S		0x2

/* worker states as seen by the receiver of a message */
#define MSG_ST_STARTING	0x1	/* before MSG_READY */
#define MSG_ST_READY	0x2
#define MSG_ST_ANY	(MSG_ST_STARTING | MSG_ST_READY)

/* rule flags */
#define MSG_F_ONCE	0x1

struct msg_rule {
	uint8_t		dir;
	uint8_t		states;
	uint8_t		flags;
	uint32_t	min_len;
	uint32_t	max_len;
};

extern const struct msg_rule msg_rules[MSG_MAX];

struct msg {
	enum msg_type	 type;
	const uint8_t	*payload;	/* points into the record */
	size_t		 len;
	size_t		 frames;	/* MSG_DATA: ChannelData frames, else 0 */
};

/*
 * Check one received record against the rules. dir is the direction it
 * travelled (MSG_W2S when the supervisor receives), state the receiver's
 * view of the worker, *once a bitmask of MSG_F_ONCE types already seen
 * (updated). 0 with m filled, or -1 (errno EBADMSG) on: short header,
 * non-zero reserved field, len != n - 8, unknown type, wrong direction,
 * size outside the rule, not allowed in this state, a second once-only.
 */
int	msg_check(const uint8_t *rec, size_t n, int dir, int state,
	    uint32_t *once, struct msg *m);

/* header; the payload follows through the typed puts */
int	msg_put_hdr(struct buf_w *, enum msg_type, size_t payload_len);

struct msg_ready	{ uint16_t port; uint8_t families; };
struct msg_chan_add	{ uint16_t chan; struct taddr peer; };
struct msg_chan_del	{ uint16_t chan; };
struct msg_log		{ uint8_t level; const uint8_t *text; size_t len; };
/* STATS: counts since the previous MSG_STATS (deltas), sent every 10 s
 * even when idle. rx = peer datagrams framed for the client, tx =
 * datagrams sent to peers, denied = sends refused by the worker's peer
 * filter (relay_to_peer), rx/tx_throttled = datagrams dropped by the
 * --max-bps bucket of that direction, rx_late = peer datagrams dropped
 * for waiting longer than the age limit of MSG_CONF, rx_full = those
 * the kernel dropped at the full relay socket, tx_full = datagrams to
 * peers refused with a full send buffer, tx_late = datagrams of MSG_DATA
 * records that waited longer than the age limit on the socketpair.
 * 11 x u64. */
struct msg_stats	{ uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, denied,
			    rx_throttled, tx_throttled, rx_late, rx_full,
			    tx_full, tx_late; };
/* PERM_ADD, PERM_DEL: ip.port is 0 */
struct msg_perm		{ struct taddr ip; };
/* SEND, PEER_DATA: len 1..MSG_PKT_MAX, data points into the record */
struct msg_pkt		{ struct taddr peer; const uint8_t *data; size_t len; };

/* put: a complete record (header + payload); -1 on overflow */
int	msg_put_ready(struct buf_w *, const struct msg_ready *);
int	msg_put_chan_add(struct buf_w *, const struct msg_chan_add *);
int	msg_put_chan_del(struct buf_w *, const struct msg_chan_del *);
int	msg_put_log(struct buf_w *, const struct msg_log *);
int	msg_put_stats(struct buf_w *, const struct msg_stats *);
int	msg_put_perm_add(struct buf_w *, const struct msg_perm *);
int	msg_put_perm_del(struct buf_w *, const struct msg_perm *);
int	msg_put_send(struct buf_w *, const struct msg_pkt *);
int	msg_put_peer_data(struct buf_w *, const struct msg_pkt *);

/* get: validate fields (family, port != 0 for peers, channel range,
 * families mask, log level); -1 EBADMSG on any bad field or leftover */
int	msg_get_ready(const struct msg *, struct msg_ready *);
int	msg_get_chan_add(const struct msg *, struct msg_chan_add *);
int	msg_get_chan_del(const struct msg *, struct msg_chan_del *);
int	msg_get_log(const struct msg *, struct msg_log *);
int	msg_get_stats(const struct msg *, struct msg_stats *);
int	msg_get_perm_add(const struct msg *, struct msg_perm *);
int	msg_get_perm_del(const struct msg *, struct msg_perm *);
int	msg_get_send(const struct msg *, struct msg_pkt *);
int	msg_get_peer_data(const struct msg *, struct msg_pkt *);

/*
 * MSG_DATA batches. A batch is built in place: msg_data_begin() reserves
 * the header, msg_data_add() appends one frame if it fits (returns 0, or
 * -1 when the record is full: send it and begin again), msg_data_end()
 * patches the length and returns the record size (0 if no frame).
 * The record always starts at offset 0 of the writer. msg_data_add()
 * errno: ENOBUFS = full, EMSGSIZE = this frame can never be sent (bad
 * channel, or longer than MSG_MAX_PAYLOAD - 4): drop it. msg_check()
 * walks every frame of a MSG_DATA, so a batch is refused as a whole.
 */
void	msg_data_begin(struct buf_w *);
int	msg_data_add(struct buf_w *, uint16_t chan, const uint8_t *, size_t);
size_t	msg_data_end(struct buf_w *);
/* iterate frames of a checked MSG_DATA: 1 got one, 0 end, -1 malformed */
int	msg_data_next(struct buf_r *, uint16_t *chan, const uint8_t **p,
	    size_t *len);

const char *msg_type_name(enum msg_type);

#endif
