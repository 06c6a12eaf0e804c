/*
 * sup_send.c: datagrams to clients, from the listen sockets.
 *
 * One common/udp_batch.c sender per listen socket. Nothing is copied:
 * the command pump flushes after every drain, before the next input, and
 * a command's bytes (a response in the engine's storage, a worker's
 * frames in its receive buffer) stay valid until then. The frames of one
 * worker record for one client go out as consecutive datagrams, which
 * the sender turns into UDP GSO sends.
 */
#define _GNU_SOURCE	/* struct mmsghdr in udp_batch.h */

#include <stddef.h>
#include <stdint.h>

#include "cdata.h"
#include "sup.h"
#include "udp_batch.h"

static struct udp_batch	send4, send6;

void
sup_send_init(int fd4, int fd6)
{
	udp_batch_init(&send4, fd4);
	udp_batch_init(&send6, fd6);
}

static struct udp_batch *
send_batch(const struct taddr *to)
{
	return to->family == ADDR_V6 ? &send6 : &send4;
}

void
sup_send(struct sup *s, const struct taddr *to, const uint8_t *p, size_t len)
{
	(void)s;
	udp_batch_add(send_batch(to), to, p, len);
}

/* ChannelData frames back to back, checked by the engine: one datagram
 * each */
void
sup_send_frames(struct sup *s, const struct taddr *to, const uint8_t *p,
    size_t len)
{
	struct udp_batch	*b = send_batch(to);
	struct cdata_frame	 f;
	size_t			 off = 0;

	(void)s;
	while (cdata_next(p, len, &off, &f) == 1)
		udp_batch_add(b, to, f.frame, f.flen);
}

static void
send_flush(struct sup *s, struct udp_batch *b)
{
	udp_batch_flush(b);
	s->cnt.send_errors += b->st.err + b->st.lost;
	s->cnt.send_lost += b->st.lost;
	b->st.err = b->st.lost = 0;
}

void
sup_send_flush(struct sup *s)
{
	send_flush(s, &send4);
	send_flush(s, &send6);
}

int
sup_send_pending(void)
{
	return send4.n > 0 || send6.n > 0;
}
