/*
 * sup_wsend.c: records from the engine towards one worker: its data
 * (batched into MSG_DATA by sup_wq.c), channel and permission changes, and
 * single datagrams of Send indications (--indications). Data and
 * datagrams go only to a READY worker and are dropped and counted
 * otherwise; a control record keeps its order behind the pending data
 * batch and is never dropped (sup_wq.c stops the worker instead).
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "msg.h"
#include "sup.h"
#include "sup_wq.h"

/* a client's payload on a bound channel: from the supervisor on the
 * allocation's relay socket (sup_rsock.c), or to the worker */
void
sup_wsend_data(struct sup *s, uint32_t id, uint16_t chan,
    const struct taddr *peer, const uint8_t *p, size_t len)
{
	struct sup_wq	*q;
	int		 fd;

	if ((fd = sup_worker_rfd(id, peer)) != -1) {
		sup_rsock_send(s, fd, peer, p, len);
		return;
	}
	if ((q = sup_worker_wq(id, 1)) == NULL ||
	    sup_wq_data(q, chan, p, len) == -1)
		s->cnt.worker_drops++;
}

/* ---- control messages ---------------------------------------------- */

void
sup_wsend_chan_add(struct sup *s, uint32_t id, uint16_t chan,
    const struct taddr *peer)
{
	struct msg_chan_add	 m;
	struct buf_w		 b;
	uint8_t			 rec[64];
	struct sup_wq		*q;

	if ((q = sup_worker_wq(id, 0)) == NULL)
		return;
	sup_wq_flush(q);	/* keep the order data/control */
	m.chan = chan;
	m.peer = *peer;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_chan_add(&b, &m) == -1) {
		log_warnx("Cannot encode CHAN_ADD id=%u", id);
		return;
	}
	sup_wq_send(q, rec, b.len, 1);
}

void
sup_wsend_chan_del(struct sup *s, uint32_t id, uint16_t chan)
{
	struct msg_chan_del	 m;
	struct buf_w		 b;
	uint8_t			 rec[32];
	struct sup_wq		*q;

	if ((q = sup_worker_wq(id, 0)) == NULL)
		return;
	sup_wq_flush(q);
	m.chan = chan;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_chan_del(&b, &m) == -1) {
		log_warnx("Cannot encode CHAN_DEL id=%u", id);
		return;
	}
	sup_wq_send(q, rec, b.len, 1);
}

/* ---- --indications: permissions and single datagrams ---------------- */

void
sup_wsend_perm(struct sup *s, uint32_t id, const struct taddr *ip, int add)
{
	struct msg_perm	 m;
	struct buf_w	 b;
	uint8_t		 rec[MSG_HDR_LEN + MSG_PEER_LEN];
	struct sup_wq	*q;
	int		 rv;

	if ((q = sup_worker_wq(id, 0)) == NULL)
		return;
	sup_wq_flush(q);	/* keep the order data/control */
	m.ip = *ip;
	buf_w_init(&b, rec, sizeof(rec));
	rv = add ? msg_put_perm_add(&b, &m) : msg_put_perm_del(&b, &m);
	if (rv == -1) {
		log_warnx("Cannot encode a permission op=%s id=%u",
		    add ? "ADD" : "DEL", id);
		return;
	}
	sup_wq_send(q, rec, b.len, 1);
}

/* one record per Send indication, after the pending MSG_DATA batch */
void
sup_wsend_dgram(struct sup *s, uint32_t id, const struct taddr *peer,
    const uint8_t *p, size_t len)
{
	static uint8_t	 rec[MSG_MAX_RECORD];
	struct msg_pkt	 k;
	struct buf_w	 b;
	struct sup_wq	*q;

	if ((q = sup_worker_wq(id, 1)) == NULL) {
		s->cnt.worker_drops++;
		return;
	}
	sup_wq_flush(q);
	k.peer = *peer;
	k.data = p;
	k.len = len;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_send(&b, &k) == -1) {	/* too big to relay */
		s->cnt.worker_drops++;
		return;
	}
	sup_wq_send(q, rec, b.len, 0);
}
