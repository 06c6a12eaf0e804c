/*
 * peer.c: the peer-address classifier (attack cases 1-11 in t/SECURITY.md).
 *
 * Order of peer_check():
 *   1. port 0, then the relay's own listen ip:port (v4-mapped folded);
 *   2. link-local (169.254/16, fe80::/10, and any IPv6 wrapping of
 *      169.254/16): always denied, no allow range opens it;
 *   3. --allow-peer ranges: a match allows. IPv4 ranges also match the
 *      embedded IPv4 of v4-mapped, v4-compatible and NAT64 forms, never of
 *      the tunnel forms (6to4, Teredo): those open only with an IPv6 range;
 *   3b. an address the host owns (filter.host, IPv4 also when wrapped)
 *      on a port outside the relay range: the relay itself (attack case
 *      7); its own relay ports stay open for hairpin;
 *   4. the deny tables. Wrapped IPv4 is classified as IPv4; 6to4 and
 *      Teredo are denied even when the IPv4 inside is fine (tunnel
 *      amplification, RFC 8656 §21.4, RFC 6156 §9.1).
 *
 * The NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215) is carved into
 * operator prefixes of /48, /56, /64 or /96, and where the IPv4 address
 * sits depends on which (RFC 6052 §2.2): a peer there is checked as every
 * IPv4 address it could carry, and denied if any of them is.
 *
 * All range tests are prefix bitmask compares over the address bytes, so
 * there are no component-wise compare bugs (attack case 8).
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "peer.h"

/* how an IPv4 address sits inside an IPv6 one */
#define PEER_EMB_NONE		0
#define PEER_EMB_DIRECT		1	/* v4-mapped, v4-compatible, NAT64 */
#define PEER_EMB_TUNNEL		2	/* 6to4, Teredo */
#define PEER_EMB_LOCAL		3	/* NAT64 local use: several candidates */

#define PEER_NAT64L_N		4	/* its candidate prefix lengths */

struct peer_range {
	uint8_t		net[16];
	uint8_t		bits;
	uint8_t		reason;
};

/* first match wins, so more specific entries come first */
static const struct peer_range peer_deny_v4[] = {
	{ { 0, 0, 0, 0 }, 8, PEER_DENY_UNSPEC },
	{ { 127, 0, 0, 0 }, 8, PEER_DENY_LOOPBACK },
	{ { 169, 254, 0, 0 }, 16, PEER_DENY_LINKLOCAL },
	{ { 10, 0, 0, 0 }, 8, PEER_DENY_PRIVATE },
	{ { 172, 16, 0, 0 }, 12, PEER_DENY_PRIVATE },
	{ { 192, 168, 0, 0 }, 16, PEER_DENY_PRIVATE },
	{ { 100, 64, 0, 0 }, 10, PEER_DENY_PRIVATE },
	{ { 224, 0, 0, 0 }, 4, PEER_DENY_MULTICAST },
	{ { 255, 255, 255, 255 }, 32, PEER_DENY_BROADCAST },
	{ { 240, 0, 0, 0 }, 4, PEER_DENY_RESERVED },
	{ { 192, 0, 0, 0 }, 24, PEER_DENY_RESERVED },
	{ { 192, 0, 2, 0 }, 24, PEER_DENY_RESERVED },
	{ { 198, 18, 0, 0 }, 15, PEER_DENY_RESERVED },
	{ { 198, 51, 100, 0 }, 24, PEER_DENY_RESERVED },
	{ { 203, 0, 113, 0 }, 24, PEER_DENY_RESERVED },
	{ { 192, 88, 99, 0 }, 24, PEER_DENY_RESERVED },
};

static const struct peer_range peer_deny_v6[] = {
	{ { 0 }, 128, PEER_DENY_UNSPEC },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128,
	    PEER_DENY_LOOPBACK },
	{ { 0xfe, 0x80 }, 10, PEER_DENY_LINKLOCAL },
	{ { 0xfc }, 7, PEER_DENY_PRIVATE },
	{ { 0xfe, 0xc0 }, 10, PEER_DENY_PRIVATE },
	{ { 0xff }, 8, PEER_DENY_MULTICAST },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, PEER_DENY_RESERVED },
	{ { 0x01, 0x00 }, 64, PEER_DENY_RESERVED },
	{ { 0x20, 0x01 }, 23, PEER_DENY_RESERVED },
	/* ::/8 leftovers (e.g. ::ffff:0:a.b.c.d): IETF reserved, unroutable */
	{ { 0 }, 8, PEER_DENY_RESERVED },
	{ { 0x3f, 0xff }, 20, PEER_DENY_RESERVED },	/* documentation */
	{ { 0x5f, 0x00 }, 16, PEER_DENY_RESERVED },	/* SRv6 SIDs */
};

/*
 * RFC 6052 §2.2: where the four IPv4 bytes sit for a /96, /64, /56 and
 * /48 prefix (byte 8, the "u" octet, is never used); the /96 reading,
 * the common one, first, so it names the reason
 */
static const uint8_t peer_nat64l_pos[PEER_NAT64L_N][4] = {
	{ 12, 13, 14, 15 }, { 9, 10, 11, 12 }, { 7, 9, 10, 11 },
	{ 6, 7, 9, 10 },
};

static int
peer_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned	i, full = bits / 8, rest = bits % 8;
	uint8_t		mask;

	for (i = 0; i < full; i++)
		if (a[i] != b[i])
			return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

static int
peer_range_lookup(const struct peer_range *t, size_t n, const uint8_t *ip)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (peer_prefix_eq(ip, t[i].net, t[i].bits))
			return t[i].reason;
	return PEER_OK;
}

static int
peer_is_zero(const uint8_t *p, size_t n)
{
	uint8_t	acc = 0;
	size_t	i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void
peer_set_v4(struct taddr *out, uint16_t port, const uint8_t v4[4], uint8_t x)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	out->family = ADDR_V4;
	out->port = port;
	for (i = 0; i < 4; i++)
		out->ip[i] = v4[i] ^ x;
}

/* the PEER_EMB_* kind of a, with the embedded IPv4 in out */
static int
peer_embedded(const struct taddr *a, struct taddr *out)
{
	static const uint8_t	mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	static const uint8_t	nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t	nat64l[6] = { 0x00, 0x64, 0xff, 0x9b,
				    0x00, 0x01 };
	const uint8_t		*ip = a->ip;

	if (a->family != ADDR_V6)
		return PEER_EMB_NONE;
	if (memcmp(ip, mapped, 12) == 0) {
		peer_set_v4(out, a->port, ip + 12, 0);
		return PEER_EMB_DIRECT;
	}
	if (peer_is_zero(ip, 12)) {
		/* v4-compatible, but :: and ::1 are IPv6 themselves */
		if (peer_is_zero(ip + 12, 3) && ip[15] <= 1)
			return PEER_EMB_NONE;
		peer_set_v4(out, a->port, ip + 12, 0);
		return PEER_EMB_DIRECT;
	}
	if (memcmp(ip, nat64, 12) == 0) {
		peer_set_v4(out, a->port, ip + 12, 0);
		return PEER_EMB_DIRECT;
	}
	if (memcmp(ip, nat64l, 6) == 0) {
		/* the /96 reading; peer_nat64l() has the others */
		peer_set_v4(out, a->port, ip + 12, 0);
		return PEER_EMB_LOCAL;
	}
	if (ip[0] == 0x20 && ip[1] == 0x02) {			/* 6to4 */
		peer_set_v4(out, a->port, ip + 2, 0);
		return PEER_EMB_TUNNEL;
	}
	if (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0 && ip[3] == 0) {
		/* Teredo: the client's IPv4 is stored inverted */
		peer_set_v4(out, a->port, ip + 12, 0xff);
		return PEER_EMB_TUNNEL;
	}
	return PEER_EMB_NONE;
}

/* candidate i (0 .. PEER_NAT64L_N - 1) of a NAT64 local-use address */
static void
peer_nat64l(const struct taddr *a, size_t i, struct taddr *out)
{
	uint8_t	v4[4];
	size_t	k;

	for (k = 0; k < 4; k++)
		v4[k] = a->ip[peer_nat64l_pos[i][k]];
	peer_set_v4(out, a->port, v4, 0);
}

int
peer_embedded_v4(const struct taddr *a, struct taddr *out)
{
	struct taddr	e;

	if (peer_embedded(a, &e) == PEER_EMB_NONE)
		return 0;
	*out = e;
	return 1;
}

int
peer_cidr_match(const struct peer_cidr *c, const struct taddr *a)
{
	unsigned	max;

	if (c->net.family != a->family)
		return 0;
	max = a->family == ADDR_V4 ? 32 : a->family == ADDR_V6 ? 128 : 0;
	if (max == 0 || c->bits > max)
		return 0;
	return peer_prefix_eq(a->ip, c->net.ip, c->bits);
}

/* "0".."128": digits only, no leading zeros, no sign */
static int
peer_parse_bits(const char *s, unsigned max, uint8_t *bits)
{
	unsigned	v = 0;
	size_t		i, n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*bits = (uint8_t)v;
	return 0;
}

int
peer_cidr_parse(const char *s, struct peer_cidr *c)
{
	char		 ipbuf[INET6_ADDRSTRLEN];
	const char	*slash;
	size_t		 iplen, i;
	unsigned	 max;
	uint8_t		 bits;

	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	iplen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (iplen == 0 || iplen >= sizeof(ipbuf))
		return -1;
	memcpy(ipbuf, s, iplen);
	ipbuf[iplen] = '\0';

	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, ipbuf, c->net.ip) == 1) {
		c->net.family = ADDR_V4;
		max = 32;
	} else if (inet_pton(AF_INET6, ipbuf, c->net.ip) == 1) {
		c->net.family = ADDR_V6;
		max = 128;
	} else {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	bits = (uint8_t)max;
	if (slash != NULL && peer_parse_bits(slash + 1, max, &bits) == -1) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	c->bits = bits;
	/* host bits set ("10.1.2.3/8") are accepted and masked off */
	for (i = 0; i < 16; i++) {
		if (i * 8 >= bits)
			c->net.ip[i] = 0;
		else if (i * 8 + 8 > bits)
			c->net.ip[i] &= (uint8_t)(0xff << (8 - (bits - i * 8)));
	}
	return 0;
}

/* fold ::ffff:a.b.c.d to a.b.c.d (port kept); other addresses unchanged */
static void
peer_unmap(const struct taddr *a, struct taddr *out)
{
	struct taddr	e;

	*out = *a;
	if (a->family == ADDR_V4)
		memset(out->ip + 4, 0, 12);
	if (a->family == ADDR_V6 && a->ip[10] == 0xff && a->ip[11] == 0xff &&
	    peer_is_zero(a->ip, 10)) {
		peer_set_v4(&e, a->port, a->ip + 12, 0);
		*out = e;
	}
}

static int
peer_is_self(const struct peer_filter *f, const struct taddr *a)
{
	struct taddr	ca, cs;
	size_t		i, n;

	peer_unmap(a, &ca);
	n = f->n_self < PEER_MAX_SELF ? f->n_self : PEER_MAX_SELF;
	for (i = 0; i < n; i++) {
		peer_unmap(&f->self[i], &cs);
		if (cs.family == ca.family && cs.port == ca.port &&
		    memcmp(cs.ip, ca.ip, 16) == 0)
			return 1;
	}
	return 0;
}

/* a (or the IPv4 it wraps directly) is the host's, off the relay ports */
static int
peer_is_host(const struct peer_filter *f, const struct taddr *a,
    const struct taddr *e, int emb)
{
	struct taddr	ca, ch;
	size_t		i, n;

	if (a->port >= f->relay_lo && a->port <= f->relay_hi &&
	    f->relay_lo != 0)
		return 0;
	peer_unmap(a, &ca);
	n = f->n_host < PEER_MAX_HOST ? f->n_host : PEER_MAX_HOST;
	for (i = 0; i < n; i++) {
		peer_unmap(&f->host[i], &ch);
		if (addr_ip_eq(&ch, &ca))
			return 1;
		if ((emb == PEER_EMB_DIRECT || emb == PEER_EMB_LOCAL) &&
		    addr_ip_eq(&ch, e))
			return 1;
	}
	return 0;
}

static int
peer_is_linklocal(const struct taddr *a, const struct taddr *e, int emb)
{
	static const uint8_t	ll4[4] = { 169, 254 };
	static const uint8_t	ll6[2] = { 0xfe, 0x80 };

	if (a->family == ADDR_V4)
		return peer_prefix_eq(a->ip, ll4, 16);
	if (peer_prefix_eq(a->ip, ll6, 10))
		return 1;
	return emb != PEER_EMB_NONE && peer_prefix_eq(e->ip, ll4, 16);
}

static int
peer_is_allowed(const struct peer_filter *f, const struct taddr *a,
    const struct taddr *e, int emb)
{
	size_t	i, n;

	n = f->n_allow < PEER_MAX_ALLOW ? f->n_allow : PEER_MAX_ALLOW;
	for (i = 0; i < n; i++) {
		if (peer_cidr_match(&f->allow[i], a))
			return 1;
		if ((emb == PEER_EMB_DIRECT || emb == PEER_EMB_LOCAL) &&
		    peer_cidr_match(&f->allow[i], e))
			return 1;
	}
	return 0;
}

/* the wrapped IPv4 e as if it were the peer (steps 2-4) */
static int
peer_check_v4(const struct peer_filter *f, const struct taddr *a,
    const struct taddr *e, int emb)
{
	int	r;

	if (peer_is_linklocal(e, e, PEER_EMB_NONE))
		return PEER_DENY_LINKLOCAL;
	if (f != NULL && peer_is_allowed(f, a, e, emb))
		return PEER_OK;
	if (f != NULL && peer_is_host(f, a, e, emb))
		return PEER_DENY_SELF;
	r = peer_range_lookup(peer_deny_v4,
	    sizeof(peer_deny_v4) / sizeof(peer_deny_v4[0]), e->ip);
	if (r == PEER_OK && emb == PEER_EMB_TUNNEL)
		r = PEER_DENY_RESERVED;
	return r;
}

/* NAT64 local use: denied if any candidate IPv4 is */
static int
peer_check_nat64l(const struct peer_filter *f, const struct taddr *a)
{
	struct taddr	e;
	size_t		i;
	int		r;

	for (i = 0; i < PEER_NAT64L_N; i++) {
		peer_nat64l(a, i, &e);
		if ((r = peer_check_v4(f, a, &e, PEER_EMB_LOCAL)) != PEER_OK)
			return r;
	}
	return PEER_OK;
}

int
peer_check(const struct peer_filter *f, const struct taddr *a)
{
	struct taddr	e;
	int		emb;

	if (a->family != ADDR_V4 && a->family != ADDR_V6)
		return PEER_DENY_UNSPEC;
	if (a->port == 0)
		return PEER_DENY_PORT0;
	if (f != NULL && peer_is_self(f, a))
		return PEER_DENY_SELF;
	memset(&e, 0, sizeof(e));
	emb = peer_embedded(a, &e);
	if (emb == PEER_EMB_LOCAL)
		return peer_check_nat64l(f, a);
	if (peer_is_linklocal(a, &e, emb))
		return PEER_DENY_LINKLOCAL;
	if (f != NULL && peer_is_allowed(f, a, &e, emb))
		return PEER_OK;
	if (f != NULL && peer_is_host(f, a, &e, emb))
		return PEER_DENY_SELF;
	if (a->family == ADDR_V4)
		return peer_range_lookup(peer_deny_v4,
		    sizeof(peer_deny_v4) / sizeof(peer_deny_v4[0]), a->ip);
	if (emb != PEER_EMB_NONE)
		return peer_check_v4(f, a, &e, emb);
	return peer_range_lookup(peer_deny_v6,
	    sizeof(peer_deny_v6) / sizeof(peer_deny_v6[0]), a->ip);
}

const char *
peer_reason(int r)
{
	switch (r) {
	case PEER_OK:
		return "allowed";
	case PEER_DENY_LOOPBACK:
		return "loopback";
	case PEER_DENY_UNSPEC:
		return "unspecified";
	case PEER_DENY_LINKLOCAL:
		return "link-local";
	case PEER_DENY_MULTICAST:
		return "multicast";
	case PEER_DENY_BROADCAST:
		return "broadcast";
	case PEER_DENY_PRIVATE:
		return "private";
	case PEER_DENY_RESERVED:
		return "reserved";
	case PEER_DENY_SELF:
		return "relay's own address";
	case PEER_DENY_PORT0:
		return "port 0";
	default:
		return "unknown";
	}
}
