/*
 * 11-addr.c: transport addresses: parse, format, compare, hash and
 * sockaddr round trips for IPv4, IPv6 and v4-mapped IPv6.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "addr.h"
#include "tap.h"

static void
test_parse_fmt(void)
{
	static const struct {
		const char	*in;
		const char	*out;	/* NULL: must fail */
	} hp[] = {
		{ "192.0.2.1:3478", "192.0.2.1:3478" },
		{ "0.0.0.0:0", "0.0.0.0:0" },
		{ "255.255.255.255:65535", "255.255.255.255:65535" },
		{ "[::1]:5", "[::1]:5" },
		{ "[2001:DB8::1]:49152", "[2001:db8::1]:49152" },
		{ "[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1]:80" },
		{ "192.0.2.1", NULL },
		{ "192.0.2.1:", NULL },
		{ "192.0.2.1:65536", NULL },
		{ "192.0.2.1:123456", NULL },
		{ "192.0.2.1:-1", NULL },
		{ "192.0.2.1:8a", NULL },
		{ "192.0.2.256:1", NULL },
		{ "::1:5", NULL },
		{ "[::1]5", NULL },
		{ "[::1]", NULL },
		{ "[192.0.2.1]:5", NULL },
		{ "[]:5", NULL },
		{ ":5", NULL },
		{ "", NULL },
		{ "[2001:db8::1%eth0]:5", NULL },
	};
	struct taddr	 a;
	char		 b[ADDR_STRLEN], small[8];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(hp) / sizeof(hp[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		rc = addr_parse_hostport(hp[i].in, &a);
		if (hp[i].out == NULL)
			ok(rc == -1, "hostport '%s' rejected", hp[i].in);
		else
			ok(rc == 0 && strcmp(addr_fmt(&a, b, sizeof(b)),
			    hp[i].out) == 0, "hostport '%s' -> '%s'", hp[i].in,
			    rc == 0 ? b : "(failed)");
	}

	ok(addr_parse_ip("10.1.2.3", &a) == 0 && a.family == ADDR_V4 &&
	    a.port == 0 && memcmp(a.ip, "\x0a\x01\x02\x03", 4) == 0 &&
	    a.ip[4] == 0 && a.ip[15] == 0, "ip v4: bytes, rest zero");
	ok(addr_parse_ip("2001:db8::2", &a) == 0 && a.family == ADDR_V6 &&
	    a.ip[0] == 0x20 && a.ip[1] == 0x01 && a.ip[15] == 0x02,
	    "ip v6 bytes");
	ok(addr_parse_ip("::ffff:1.2.3.4", &a) == 0 && a.family == ADDR_V6,
	    "v4-mapped stays IPv6 when parsed");
	ok(addr_parse_ip("1.2.3", &a) == -1 && addr_parse_ip("x", &a) == -1 &&
	    addr_parse_ip("1.2.3.4:5", &a) == -1 && addr_parse_ip("", &a) == -1,
	    "bad IP literals rejected");
	addr_parse_ip("2001:db8::2", &a);
	is_str(addr_fmt_ip(&a, b, sizeof(b)), "2001:db8::2", "fmt_ip v6");
	a.port = 7;
	is_str(addr_fmt(&a, small, sizeof(small)), "[2001:d",
	    "truncated, NUL-terminated");
	memset(&a, 0, sizeof(a));
	is_str(addr_fmt(&a, b, sizeof(b)), "-", "unset address formats as -");
	b[0] = 'z';
	ok(addr_fmt(&a, b, 0) == b && b[0] == 'z', "cap 0 writes nothing");

	/* the longest form fits ADDR_STRLEN */
	addr_parse_hostport("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    &a);
	is_str(addr_fmt(&a, b, sizeof(b)),
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "longest v6 form fits");
}

static void
test_eq_hash(void)
{
	struct taddr	 a, b, c;
	uint32_t	 h;
	int		 i, diff = 0;

	addr_parse_hostport("192.0.2.1:1000", &a);
	addr_parse_hostport("192.0.2.1:1000", &b);
	ok(addr_eq(&a, &b) && addr_ip_eq(&a, &b), "equal v4");
	ok(addr_hash(&a, 1) == addr_hash(&b, 1), "equal hash");
	b.port = 1001;
	ok(!addr_eq(&a, &b) && addr_ip_eq(&a, &b), "port differs");
	ok(addr_hash(&a, 1) != addr_hash(&b, 1), "port changes hash");
	addr_parse_hostport("[::ffff:192.0.2.1]:1000", &c);
	ok(!addr_eq(&a, &c) && !addr_ip_eq(&a, &c),
	    "v4 and v4-mapped v6 are different addresses");
	ok(addr_hash(&a, 1) != addr_hash(&a, 2), "seed changes hash");
	addr_parse_hostport("[2001:db8::1]:1", &a);
	addr_parse_hostport("[2001:db8::1]:1", &b);
	ok(addr_eq(&a, &b) && addr_hash(&a, 9) == addr_hash(&b, 9),
	    "equal v6");
	b.ip[15] ^= 1;
	ok(!addr_eq(&a, &b) && addr_hash(&a, 9) != addr_hash(&b, 9),
	    "last v6 byte matters");

	/* consecutive ports spread over the low bits of the hash */
	addr_parse_hostport("198.51.100.7:0", &a);
	h = addr_hash(&a, 0);
	for (i = 1; i < 64; i++) {
		a.port = (uint16_t)i;
		if ((addr_hash(&a, 0) & 0xff) != (h & 0xff))
			diff++;
	}
	ok(diff >= 56, "hash low byte varies with the port (%d/63)", diff);
}

static void
test_sockaddr(void)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct taddr		 a, b, m;
	size_t			 len;
	char			 s[ADDR_STRLEN];

	addr_parse_hostport("203.0.113.9:3478", &a);
	len = addr_to_sockaddr(&a, &ss);
	is_int(len, sizeof(struct sockaddr_in), "v4 sockaddr length");
	memcpy(&sin, &ss, sizeof(sin));
	ok(sin.sin_family == AF_INET && ntohs(sin.sin_port) == 3478 &&
	    sin.sin_addr.s_addr == inet_addr("203.0.113.9"), "v4 fields");
	ok(addr_from_sockaddr((struct sockaddr *)&ss, len, &b) == 0 &&
	    addr_eq(&a, &b), "v4 round trip");
	ok(addr_from_sockaddr((struct sockaddr *)&ss, len - 1, &b) == -1,
	    "short v4 sockaddr rejected");

	addr_parse_hostport("[2001:db8::5]:443", &a);
	len = addr_to_sockaddr(&a, &ss);
	is_int(len, sizeof(struct sockaddr_in6), "v6 sockaddr length");
	memcpy(&sin6, &ss, sizeof(sin6));
	ok(sin6.sin6_family == AF_INET6 && ntohs(sin6.sin6_port) == 443 &&
	    sin6.sin6_scope_id == 0 && sin6.sin6_flowinfo == 0, "v6 fields");
	ok(addr_from_sockaddr((struct sockaddr *)&ss, len, &b) == 0 &&
	    addr_eq(&a, &b), "v6 round trip");

	/* a dual-stack socket reports v4 clients as v4-mapped */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(5000);
	sin6.sin6_scope_id = 3;
	inet_pton(AF_INET6, "::ffff:192.0.2.77", &sin6.sin6_addr);
	ok(addr_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin6), &a) == 0 &&
	    a.family == ADDR_V6, "v4-mapped sockaddr_in6 stays v6");
	is_str(addr_fmt(&a, s, sizeof(s)), "[::ffff:192.0.2.77]:5000",
	    "v4-mapped formatted");
	ok(addr_unmap_v4(&a, &m) == 1 && m.family == ADDR_V4 &&
	    m.port == 5000, "unmap gives v4");
	is_str(addr_fmt(&m, s, sizeof(s)), "192.0.2.77:5000", "unmapped v4");
	ok(m.ip[4] == 0 && m.ip[15] == 0, "unmapped: rest of ip zero");
	ok(addr_unmap_v4(&a, &a) == 1 && addr_eq(&a, &m),
	    "unmap in place");

	addr_parse_hostport("[::192.0.2.77]:1", &a);
	ok(addr_unmap_v4(&a, &m) == 0 && addr_eq(&a, &m),
	    "v4-compatible is not unmapped; out is a copy");
	addr_parse_hostport("192.0.2.77:1", &a);
	ok(addr_unmap_v4(&a, &m) == 0 && addr_eq(&a, &m), "v4 is left alone");

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ok(addr_from_sockaddr((struct sockaddr *)&ss, sizeof(ss), &a) == -1,
	    "AF_UNIX rejected");
	memset(&a, 0, sizeof(a));
	is_int(addr_to_sockaddr(&a, &ss), 0, "unset address: length 0");
}

int
main(void)
{
	test_parse_fmt();
	test_eq_hash();
	test_sockaddr();
	return done_testing();
}
