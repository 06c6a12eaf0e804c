/*
 * msg_int.h: helpers shared by the catalogue's own files (msg.c,
 * msg_conf.c); not for users of the catalogue.
 */
#ifndef MSG_INT_H
#define MSG_INT_H

#include "addr.h"
#include "buf.h"

int	msg_bad(void);			/* -1 with errno EBADMSG */
int	msg_inval(void);		/* -1 with errno EINVAL */
int	msg_put_done(struct buf_w *);	/* 0, or -1 ENOBUFS if w failed */
/* v4 or v6, port != 0, nothing after an IPv4 address */
int	msg_peer_ok(const struct taddr *);
/* an address as { u8 family, u8 zero, u16 port, ip[16] }; the getter
 * checks the zero byte only */
void	msg_put_addr(struct buf_w *, const struct taddr *);
int	msg_get_addr(struct buf_r *, struct taddr *);

#endif
