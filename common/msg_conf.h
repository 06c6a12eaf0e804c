/*
 * msg_conf.h: MSG_CONF, a worker's whole configuration in one record.
 *
 * The worker's argv is constant; the supervisor writes this record into
 * the socketpair before the worker runs, and the worker reads it before
 * anything else, with the relay socket(s) the supervisor bound attached,
 * checks every field and the sockets against them, enters its sandbox
 * and says READY. The rule (msg.c) makes it s->w, exactly MSG_CONF_LEN bytes,
 * once, and only before READY.
 *
 * Payload, network byte order, MSG_CONF_LEN = 2076 bytes:
 *
 *	  0 u32 alloc_id
 *	  4 u32 ppid		the supervisor's pid; 0 = do not check
 *	  8 u16 port		relay port, the sockets' (a worker refuses 0)
 *	 10 u8  families	ADDR_FAM_V4 | ADDR_FAM_V6, not 0
 *	 11 u8  log_level	LOG_ERR .. LOG_DEBUG
 *	 12 u8  flags		MSG_CONF_F_*; other bits 0
 *	 13 u8  n_allow		0 .. PEER_MAX_ALLOW
 *	 14 u8  n_self		0 .. PEER_MAX_SELF
 *	 15 u8  zero
 *	 16 u32 stats_ms	MSG_STATS period; 0 = the worker's default
 *	 20 addr bind4		the v4 socket's address: family 0 (0.0.0.0)
 *				or v4, port 0
 *	 40 addr bind6		the same for v6: family 0 (::) or v6
 *	 60 cidr allow[32]	{ u8 family, u8 bits, u16 zero, ip[16] }
 *	700 addr self[4]	the relay's own ip:port pairs (port != 0)
 *	780 u16 relay_lo	the relay port range, open on host
 *	782 u16 relay_hi	addresses (hairpin); both 0 = none
 *	784 u8  n_host		0 .. PEER_MAX_HOST
 *	785 u8  zero[3]
 *	788 addr host[64]	every address of the host (port 0)
 *	2068 u32 max_bps	bytes per second per direction; 0 = no limit
 *	2072 u16 qdelay_ms	age limit of the relay socket's queue, 0 = none
 *	2074 u16 qgrace_ms	... once behind this long (common/qdelay.h)
 *
 * addr is { u8 family, u8 zero, u16 port, ip[16] }. The peer filter
 * travels as fixed arrays so the size is exact: PEER_MAX_ALLOW allow
 * ranges, PEER_MAX_SELF own addresses and PEER_MAX_HOST host addresses,
 * the first n used, the rest all
 * zero bytes. Every value has one encoding (an IPv4 address is followed
 * by 12 zero bytes, a range has no host bits), so an accepted record
 * re-encodes to the same bytes.
 */
#ifndef MSG_CONF_H
#define MSG_CONF_H

#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "msg.h"
#include "peer.h"

#define MSG_CONF_F_INDICATIONS	0x01	/* PERM_* and SEND may come */
#define MSG_CONF_F_ALL		MSG_CONF_F_INDICATIONS

#define MSG_CONF_STATS_MIN	100		/* ms, when not 0 */
#define MSG_CONF_STATS_MAX	3600000		/* ms: an hour */

#define MSG_CONF_FIXED		60	/* up to the allow ranges */
#define MSG_CONF_SLOT		20	/* one addr or cidr */
#define MSG_CONF_HOSTHDR	8	/* relay range, n_host, zero */
#define MSG_CONF_TAIL		8	/* max_bps, qdelay_ms, qgrace_ms */
#define MSG_CONF_QDELAY_MAX	60000	/* ms, both */
#define MSG_CONF_LEN		(MSG_CONF_FIXED + \
				 MSG_CONF_SLOT * (PEER_MAX_ALLOW + PEER_MAX_SELF) + \
				 MSG_CONF_HOSTHDR + MSG_CONF_SLOT * PEER_MAX_HOST + \
				 MSG_CONF_TAIL)

struct msg_conf {
	uint32_t		 alloc_id;
	uint32_t		 ppid;
	uint16_t		 port;
	uint8_t			 families;
	uint8_t			 log_level;
	uint8_t			 flags;
	uint32_t		 stats_ms;
	struct taddr		 bind4, bind6;
	struct peer_filter	 filter;
	uint32_t		 max_bps;	/* --max-bps; 0 = no limit */
	uint16_t		 qdelay_ms;	/* --max-queue-delay; 0 = none */
	uint16_t		 qgrace_ms;	/* --queue-delay-grace */
};

/* 1 if every field is in bounds (what put and get both enforce) */
int	msg_conf_ok(const struct msg_conf *);
/* a complete record; -1 EINVAL on a bad field, ENOBUFS on overflow */
int	msg_put_conf(struct buf_w *, const struct msg_conf *);
/* -1 EBADMSG on a bad field, a non-zero reserved byte or unused slot,
 * or a leftover byte */
int	msg_get_conf(const struct msg *, struct msg_conf *);

#endif
