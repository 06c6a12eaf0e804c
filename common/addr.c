/*
 * addr.c: compact transport addresses, their text forms and sockaddr
 * conversions. Pure: inet_pton/inet_ntop and struct copies only.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"

static size_t
addr_iplen(const struct taddr *a)
{
	switch (a->family) {
	case ADDR_V4:
		return 4;
	case ADDR_V6:
		return 16;
	default:
		return 0;
	}
}

int
addr_ip_eq(const struct taddr *a, const struct taddr *b)
{
	if (a->family != b->family)
		return 0;
	return memcmp(a->ip, b->ip, addr_iplen(a)) == 0;
}

int
addr_eq(const struct taddr *a, const struct taddr *b)
{
	return a->port == b->port && addr_ip_eq(a, b);
}

/* FNV-1a over the significant bytes, then the murmur3 finaliser */
uint32_t
addr_hash(const struct taddr *a, uint32_t seed)
{
	uint32_t	 h = 2166136261u ^ seed;
	size_t		 i, n = addr_iplen(a);

#define ADDR_MIX(b)	do { h ^= (uint8_t)(b); h *= 16777619u; } while (0)
	ADDR_MIX(seed >> 24);
	ADDR_MIX(seed >> 16);
	ADDR_MIX(seed >> 8);
	ADDR_MIX(seed);
	ADDR_MIX(a->family);
	ADDR_MIX(a->port >> 8);
	ADDR_MIX(a->port);
	for (i = 0; i < n; i++)
		ADDR_MIX(a->ip[i]);
#undef ADDR_MIX
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

char *
addr_fmt_ip(const struct taddr *a, char *buf, size_t cap)
{
	char	 tmp[INET6_ADDRSTRLEN];

	if (cap == 0)
		return buf;
	switch (a->family) {
	case ADDR_V4:
		if (inet_ntop(AF_INET, a->ip, tmp, sizeof(tmp)) == NULL)
			snprintf(tmp, sizeof(tmp), "%s", "?");
		break;
	case ADDR_V6:
		if (inet_ntop(AF_INET6, a->ip, tmp, sizeof(tmp)) == NULL)
			snprintf(tmp, sizeof(tmp), "%s", "?");
		break;
	default:
		snprintf(tmp, sizeof(tmp), "%s", "-");
		break;
	}
	snprintf(buf, cap, "%s", tmp);
	return buf;
}

char *
addr_fmt(const struct taddr *a, char *buf, size_t cap)
{
	char	 ip[INET6_ADDRSTRLEN];

	if (cap == 0)
		return buf;
	addr_fmt_ip(a, ip, sizeof(ip));
	if (a->family == ADDR_V6)
		snprintf(buf, cap, "[%s]:%u", ip, (unsigned)a->port);
	else if (a->family == ADDR_V4)
		snprintf(buf, cap, "%s:%u", ip, (unsigned)a->port);
	else
		snprintf(buf, cap, "%s", ip);
	return buf;
}

int
addr_parse_ip(const char *s, struct taddr *a)
{
	struct taddr	 t;

	memset(&t, 0, sizeof(t));
	if (s == NULL)
		return -1;
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, t.ip) != 1)
			return -1;
		t.family = ADDR_V6;
	} else {
		if (inet_pton(AF_INET, s, t.ip) != 1)
			return -1;
		t.family = ADDR_V4;
	}
	*a = t;
	return 0;
}

/* decimal 0-65535, digits only, at most 5 of them */
static int
addr_parse_port(const char *s, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
addr_parse_hostport(const char *s, struct taddr *a)
{
	char		 host[INET6_ADDRSTRLEN + 2];
	const char	*colon, *end;
	size_t		 hlen;
	struct taddr	 t;
	uint16_t	 port;

	if (s == NULL)
		return -1;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		hlen = (size_t)(end - (s + 1));
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (strchr(host, ':') == NULL)
			return -1;	/* brackets only around IPv6 */
		colon = end + 1;
	} else {
		if ((colon = strchr(s, ':')) == NULL ||
		    strchr(colon + 1, ':') != NULL)
			return -1;	/* bare IPv6 needs brackets */
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (addr_parse_ip(host, &t) == -1 ||
	    addr_parse_port(colon + 1, &port) == -1)
		return -1;
	t.port = port;
	*a = t;
	return 0;
}

int
addr_from_sockaddr(const struct sockaddr *sa, size_t len, struct taddr *a)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;

	if (sa == NULL || len < sizeof(sa->sa_family))
		return -1;
	memset(a, 0, sizeof(*a));
	switch (sa->sa_family) {
	case AF_INET:
		if (len < sizeof(sin))
			return -1;
		memcpy(&sin, sa, sizeof(sin));
		a->family = ADDR_V4;
		a->port = ntohs(sin.sin_port);
		memcpy(a->ip, &sin.sin_addr, 4);
		return 0;
	case AF_INET6:
		if (len < sizeof(sin6))
			return -1;
		memcpy(&sin6, sa, sizeof(sin6));
		a->family = ADDR_V6;
		a->port = ntohs(sin6.sin6_port);
		memcpy(a->ip, &sin6.sin6_addr, 16);
		return 0;
	default:
		return -1;
	}
}

size_t
addr_to_sockaddr(const struct taddr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;

	memset(ss, 0, sizeof(*ss));
	switch (a->family) {
	case ADDR_V4:
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(a->port);
		memcpy(&sin.sin_addr, a->ip, 4);
		memcpy(ss, &sin, sizeof(sin));
		return sizeof(sin);
	case ADDR_V6:
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(a->port);
		memcpy(&sin6.sin6_addr, a->ip, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		return sizeof(sin6);
	default:
		return 0;
	}
}

int
addr_unmap_v4(const struct taddr *a, struct taddr *out)
{
	static const uint8_t	 prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct taddr		 t;

	if (a->family != ADDR_V6 || memcmp(a->ip, prefix, 12) != 0) {
		t = *a;
		*out = t;
		return 0;
	}
	memset(&t, 0, sizeof(t));
	t.family = ADDR_V4;
	t.port = a->port;
	memcpy(t.ip, a->ip + 12, 4);
	*out = t;
	return 1;
}
