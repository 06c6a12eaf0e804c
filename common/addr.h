/*
 * addr.h: the transport address used throughout the core.
 *
 * A compact, comparable value (no sockaddr padding, no scope ids) so that
 * allocations, channels and nonces can be keyed and hashed byte-exactly.
 * Conversions to and from struct sockaddr are pure struct copies and live
 * here too; nothing in this module does I/O.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct sockaddr_storage;

#define ADDR_V4		4
#define ADDR_V6		6

#define ADDR_FAM_V4	0x01	/* family bit masks (worker families) */
#define ADDR_FAM_V6	0x02

#define ADDR_STRLEN	64	/* "[ffff:...:ffff]:65535" fits */

struct taddr {
	uint8_t		family;		/* ADDR_V4 or ADDR_V6, 0 = unset */
	uint16_t	port;		/* host byte order */
	uint8_t		ip[16];		/* v4 uses ip[0..3], rest zero */
};

int	 addr_eq(const struct taddr *, const struct taddr *);
int	 addr_ip_eq(const struct taddr *, const struct taddr *);
uint32_t addr_hash(const struct taddr *, uint32_t seed);
/* "1.2.3.4:5" or "[::1]:5"; always NUL-terminated; returns buf */
char	*addr_fmt(const struct taddr *, char *buf, size_t cap);
/* IP only, no port */
char	*addr_fmt_ip(const struct taddr *, char *buf, size_t cap);
/* parse an IP literal (no port); 0 ok, -1 bad */
int	 addr_parse_ip(const char *, struct taddr *);
/* parse "ip:port" / "[ip6]:port"; 0 ok, -1 bad */
int	 addr_parse_hostport(const char *, struct taddr *);
/* sockaddr conversions; from: -1 on unsupported family; to: returns len */
int	 addr_from_sockaddr(const struct sockaddr *, size_t, struct taddr *);
size_t	 addr_to_sockaddr(const struct taddr *, struct sockaddr_storage *);
/* 1 if the address is an IPv4-mapped IPv6 address, which is then unmapped
 * into out (used on dual-stack sockets) */
int	 addr_unmap_v4(const struct taddr *, struct taddr *out);

#endif
