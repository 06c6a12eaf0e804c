/*
 * peer.h: which peer addresses a relay may send to.
 *
 * Denied by default: loopback, unspecified/"this network", link-local
 * (always, not even --allow-peer opens 169.254/16 or fe80::/10),
 * multicast, broadcast, reserved and documentation ranges, private ranges
 * (RFC 1918, CGNAT, ULA, site-local), and every IPv6 wrapping of a denied
 * IPv4 address (v4-mapped, v4-compatible, 6to4, NAT64, Teredo), plus the
 * relay's own listen addresses. Allow ranges (CIDR, bitmask compare) open
 * denied ranges except link-local. The classifier is pure and table-tested.
 */
#ifndef PEER_H
#define PEER_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PEER_MAX_ALLOW		32
#define PEER_MAX_SELF		4
#define PEER_MAX_HOST		64	/* addresses of the host */

struct peer_cidr {
	struct taddr	net;	/* port ignored */
	uint8_t		bits;	/* prefix length */
};

struct peer_filter {
	struct peer_cidr allow[PEER_MAX_ALLOW];
	size_t		 n_allow;
	struct taddr	 self[PEER_MAX_SELF];	/* listen ip:port pairs to refuse */
	size_t		 n_self;
	/*
	 * Every address the host owns (IP only): refused on every port
	 * outside relay_lo..relay_hi (the relay's own ports stay open for
	 * hairpin) unless an allow range contains the address.
	 */
	struct taddr	 host[PEER_MAX_HOST];
	size_t		 n_host;
	uint16_t	 relay_lo, relay_hi;
};

/* reasons a peer is denied (0 = allowed) */
#define PEER_OK			0
#define PEER_DENY_LOOPBACK	1
#define PEER_DENY_UNSPEC	2
#define PEER_DENY_LINKLOCAL	3
#define PEER_DENY_MULTICAST	4
#define PEER_DENY_BROADCAST	5
#define PEER_DENY_PRIVATE	6
#define PEER_DENY_RESERVED	7	/* reserved, documentation, benchmarking, ... */
#define PEER_DENY_SELF		8
#define PEER_DENY_PORT0		9

/* "10.0.0.0/8", "::1/128", "127.0.0.1" (= /32); 0 ok, -1 bad */
int	 peer_cidr_parse(const char *, struct peer_cidr *);
int	 peer_cidr_match(const struct peer_cidr *, const struct taddr *);
/* reduce v4-mapped/compatible/6to4/NAT64/Teredo to the embedded IPv4;
 * returns 1 if out was set */
int	 peer_embedded_v4(const struct taddr *, struct taddr *out);
/* PEER_OK or a PEER_DENY_* reason */
int	 peer_check(const struct peer_filter *, const struct taddr *);
const char *peer_reason(int);

#endif
