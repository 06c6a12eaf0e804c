/*
 * 14-peer: the peer-address classifier, table-driven over attack cases
 * 1-8 (t/SECURITY.md), with the first, a middle and the last address of
 * every range and every IPv6 wrapping of denied IPv4.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "peer.h"
#include "tap.h"

struct pcase {
	const char	*ip;
	int		 want;
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* builds the address with inet_pton, not with the module under test */
static int
mk(const char *ip, uint16_t port, struct taddr *a)
{
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (inet_pton(AF_INET, ip, a->ip) == 1) {
		a->family = ADDR_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a->ip) == 1) {
		a->family = ADDR_V6;
		return 0;
	}
	return -1;
}

static void
run(const char *what, const struct peer_filter *f, const struct pcase *c,
    size_t n)
{
	struct taddr	a;
	size_t		i;
	int		r;

	for (i = 0; i < n; i++) {
		if (mk(c[i].ip, 5000, &a) == -1) {
			ok(0, "%s: bad test address %s", what, c[i].ip);
			continue;
		}
		r = peer_check(f, &a);
		if (!is_int(r, c[i].want, "%s: %s -> %s", what, c[i].ip,
		    peer_reason(c[i].want)))
			diag("got %s", peer_reason(r));
	}
}

static void
filter_add(struct peer_filter *f, const char *cidr)
{
	if (f->n_allow >= PEER_MAX_ALLOW ||
	    peer_cidr_parse(cidr, &f->allow[f->n_allow]) == -1) {
		ok(0, "filter_add %s", cidr);
		return;
	}
	f->n_allow++;
}

/* attack case 1: loopback and "this network" */
static const struct pcase case1[] = {
	{ "127.0.0.0", PEER_DENY_LOOPBACK },
	{ "127.0.0.1", PEER_DENY_LOOPBACK },
	{ "127.1.2.3", PEER_DENY_LOOPBACK },
	{ "127.255.255.255", PEER_DENY_LOOPBACK },
	{ "0.0.0.0", PEER_DENY_UNSPEC },
	{ "0.1.2.3", PEER_DENY_UNSPEC },
	{ "0.255.255.255", PEER_DENY_UNSPEC },
	{ "::1", PEER_DENY_LOOPBACK },
	{ "::", PEER_DENY_UNSPEC },
	{ "126.255.255.255", PEER_OK },
	{ "128.0.0.0", PEER_OK },
	{ "1.0.0.0", PEER_OK },
};

/* attack case 2: every IPv6 wrapping of denied IPv4 */
static const struct pcase case2[] = {
	/* 127.0.0.1 */
	{ "::ffff:127.0.0.1", PEER_DENY_LOOPBACK },
	{ "::127.0.0.1", PEER_DENY_LOOPBACK },
	{ "64:ff9b::7f00:1", PEER_DENY_LOOPBACK },
	{ "64:ff9b:1::7f00:1", PEER_DENY_LOOPBACK },
	{ "2002:7f00:1::", PEER_DENY_LOOPBACK },
	{ "2002:7f00:1:1234::5", PEER_DENY_LOOPBACK },
	{ "2001:0:4136:e378:8000:63bf:80ff:fffe", PEER_DENY_LOOPBACK },
	/* 10.0.0.5 */
	{ "::ffff:10.0.0.5", PEER_DENY_PRIVATE },
	{ "::10.0.0.5", PEER_DENY_PRIVATE },
	{ "64:ff9b::a00:5", PEER_DENY_PRIVATE },
	{ "64:ff9b:1::a00:5", PEER_DENY_PRIVATE },
	{ "2002:a00:5::", PEER_DENY_PRIVATE },
	{ "2001:0:4136:e378:8000:63bf:f5ff:fffa", PEER_DENY_PRIVATE },
	/* 169.254.169.254 */
	{ "::ffff:169.254.169.254", PEER_DENY_LINKLOCAL },
	{ "::169.254.169.254", PEER_DENY_LINKLOCAL },
	{ "64:ff9b::a9fe:a9fe", PEER_DENY_LINKLOCAL },
	{ "64:ff9b:1::a9fe:a9fe", PEER_DENY_LINKLOCAL },
	{ "2002:a9fe:a9fe::", PEER_DENY_LINKLOCAL },
	{ "2001:0:4136:e378:8000:63bf:5601:5601", PEER_DENY_LINKLOCAL },
	/* others */
	{ "::ffff:0.0.0.0", PEER_DENY_UNSPEC },
	{ "::0.0.0.2", PEER_DENY_UNSPEC },
	{ "::ffff:224.0.0.1", PEER_DENY_MULTICAST },
	{ "::ffff:255.255.255.255", PEER_DENY_BROADCAST },
	{ "64:ff9b::c000:201", PEER_DENY_RESERVED },	/* 192.0.2.1 */
	{ "::ffff:0:127.0.0.1", PEER_DENY_RESERVED },	/* SIIT, ::/8 */
	/* wrappings of a public IPv4: direct forms follow IPv4, tunnels not */
	{ "::ffff:8.8.8.8", PEER_OK },
	{ "::8.8.8.8", PEER_OK },
	{ "64:ff9b::808:808", PEER_OK },
	{ "2002:808:808::1", PEER_DENY_RESERVED },
	{ "2001:0:4136:e378:8000:63bf:f7f7:f7f7", PEER_DENY_RESERVED },
};

/*
 * Attack case 10 (round 2): the NAT64 local-use prefix 64:ff9b:1::/48
 * (RFC 8215) read as every RFC 6052 layout an operator could use, and
 * the newer special-purpose IPv6 blocks
 */
static const struct pcase case2b[] = {
	/* 10.0.0.5 in the /64 layout (bytes 9-12), public in the others */
	{ "64:ff9b:1:808:a:0:508:808", PEER_DENY_PRIVATE },
	/* 127.1.1.1 in the /48 layout (bytes 6-7, 9-10) */
	{ "64:ff9b:1:7f01:1:108:808:808", PEER_DENY_LOOPBACK },
	/* 169.254.1.1 in the /56 layout (bytes 7, 9-11) */
	{ "64:ff9b:1:8a9:fe:101:808:808", PEER_DENY_RESERVED },
	/* 8.8.8.8 in every layout */
	{ "64:ff9b:1:808:8:808:808:808", PEER_OK },
	{ "3fff::1", PEER_DENY_RESERVED },		/* RFC 9637 */
	{ "3fff:fff:ffff::1", PEER_DENY_RESERVED },
	{ "3fff:1000::1", PEER_OK },
	{ "5f00::1", PEER_DENY_RESERVED },		/* RFC 9602 */
	{ "5f00:ffff:ffff::1", PEER_DENY_RESERVED },
	{ "5f01::1", PEER_OK },
};

/* attack case 3: link-local, even when allowed */
static const struct pcase case3[] = {
	{ "169.254.0.0", PEER_DENY_LINKLOCAL },
	{ "169.254.1.1", PEER_DENY_LINKLOCAL },
	{ "169.254.169.254", PEER_DENY_LINKLOCAL },
	{ "169.254.255.255", PEER_DENY_LINKLOCAL },
	{ "fe80::", PEER_DENY_LINKLOCAL },
	{ "fe80::1", PEER_DENY_LINKLOCAL },
	{ "fea0::1", PEER_DENY_LINKLOCAL },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_DENY_LINKLOCAL },
	{ "::ffff:169.254.169.254", PEER_DENY_LINKLOCAL },
	{ "64:ff9b::a9fe:a9fe", PEER_DENY_LINKLOCAL },
	{ "2002:a9fe:101::", PEER_DENY_LINKLOCAL },
};

/* attack case 4: private, CGNAT, ULA, site-local */
static const struct pcase case4[] = {
	{ "10.0.0.0", PEER_DENY_PRIVATE },
	{ "10.0.0.5", PEER_DENY_PRIVATE },
	{ "10.128.0.0", PEER_DENY_PRIVATE },
	{ "10.255.255.255", PEER_DENY_PRIVATE },
	{ "172.16.0.0", PEER_DENY_PRIVATE },
	{ "172.16.0.1", PEER_DENY_PRIVATE },
	{ "172.24.0.0", PEER_DENY_PRIVATE },
	{ "172.31.255.255", PEER_DENY_PRIVATE },
	{ "192.168.0.0", PEER_DENY_PRIVATE },
	{ "192.168.1.1", PEER_DENY_PRIVATE },
	{ "192.168.255.255", PEER_DENY_PRIVATE },
	{ "100.64.0.0", PEER_DENY_PRIVATE },
	{ "100.64.0.1", PEER_DENY_PRIVATE },
	{ "100.96.0.0", PEER_DENY_PRIVATE },
	{ "100.127.255.255", PEER_DENY_PRIVATE },
	{ "fc00::", PEER_DENY_PRIVATE },
	{ "fc00::1", PEER_DENY_PRIVATE },
	{ "fd12:3456::99", PEER_DENY_PRIVATE },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_DENY_PRIVATE },
	{ "fec0::", PEER_DENY_PRIVATE },
	{ "fec0::1", PEER_DENY_PRIVATE },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_DENY_PRIVATE },
	/* just outside */
	{ "9.255.255.255", PEER_OK },
	{ "11.0.0.0", PEER_OK },
	{ "172.15.255.255", PEER_OK },
	{ "172.32.0.0", PEER_OK },
	{ "192.167.255.255", PEER_OK },
	{ "192.169.0.0", PEER_OK },
	{ "100.63.255.255", PEER_OK },
	{ "100.128.0.0", PEER_OK },
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_OK },
};

/* attack case 4 positive control: allow 10.0.0.0/8 */
static const struct pcase case4_allow[] = {
	{ "10.0.0.5", PEER_OK },
	{ "10.0.0.0", PEER_OK },
	{ "10.255.255.255", PEER_OK },
	{ "::ffff:10.0.0.5", PEER_OK },
	{ "::10.0.0.5", PEER_OK },
	{ "64:ff9b::a00:5", PEER_OK },
	{ "2002:a00:5::", PEER_DENY_PRIVATE },	/* tunnels need a v6 range */
	{ "2001:0:4136:e378:8000:63bf:f5ff:fffa", PEER_DENY_PRIVATE },
	{ "11.0.0.0", PEER_OK },
	{ "172.16.0.1", PEER_DENY_PRIVATE },
	{ "127.0.0.1", PEER_DENY_LOOPBACK },
	{ "169.254.169.254", PEER_DENY_LINKLOCAL },
};

/* attack case 5: multicast, broadcast, reserved */
static const struct pcase case5[] = {
	{ "224.0.0.0", PEER_DENY_MULTICAST },
	{ "224.0.0.1", PEER_DENY_MULTICAST },
	{ "232.1.2.3", PEER_DENY_MULTICAST },
	{ "239.255.255.250", PEER_DENY_MULTICAST },
	{ "239.255.255.255", PEER_DENY_MULTICAST },
	{ "255.255.255.255", PEER_DENY_BROADCAST },
	{ "240.0.0.0", PEER_DENY_RESERVED },
	{ "240.0.0.1", PEER_DENY_RESERVED },
	{ "248.0.0.0", PEER_DENY_RESERVED },
	{ "255.255.255.254", PEER_DENY_RESERVED },
	{ "ff00::", PEER_DENY_MULTICAST },
	{ "ff02::1", PEER_DENY_MULTICAST },
	{ "ff0e::8000:1", PEER_DENY_MULTICAST },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_DENY_MULTICAST },
	{ "223.255.255.255", PEER_OK },
};

/* attack case 6: other special-purpose ranges */
static const struct pcase case6[] = {
	{ "192.0.0.0", PEER_DENY_RESERVED },
	{ "192.0.0.128", PEER_DENY_RESERVED },
	{ "192.0.0.255", PEER_DENY_RESERVED },
	{ "192.0.2.0", PEER_DENY_RESERVED },
	{ "192.0.2.128", PEER_DENY_RESERVED },
	{ "192.0.2.255", PEER_DENY_RESERVED },
	{ "198.18.0.0", PEER_DENY_RESERVED },
	{ "198.19.0.0", PEER_DENY_RESERVED },
	{ "198.19.255.255", PEER_DENY_RESERVED },
	{ "198.51.100.0", PEER_DENY_RESERVED },
	{ "198.51.100.128", PEER_DENY_RESERVED },
	{ "198.51.100.255", PEER_DENY_RESERVED },
	{ "203.0.113.0", PEER_DENY_RESERVED },
	{ "203.0.113.128", PEER_DENY_RESERVED },
	{ "203.0.113.255", PEER_DENY_RESERVED },
	{ "192.88.99.0", PEER_DENY_RESERVED },
	{ "192.88.99.128", PEER_DENY_RESERVED },
	{ "192.88.99.255", PEER_DENY_RESERVED },
	{ "2001:db8::", PEER_DENY_RESERVED },
	{ "2001:db8:8000::1", PEER_DENY_RESERVED },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", PEER_DENY_RESERVED },
	{ "100::", PEER_DENY_RESERVED },
	{ "100::8000:0:0:0", PEER_DENY_RESERVED },
	{ "100::ffff:ffff:ffff:ffff", PEER_DENY_RESERVED },
	/* Teredo, first: the inverted zero IPv4 is 255.255.255.255 */
	{ "2001::", PEER_DENY_BROADCAST },
	{ "2001:0:ffff:ffff:ffff:ffff:f7f7:f7f7", PEER_DENY_RESERVED },
	{ "2001:100::", PEER_DENY_RESERVED },
	{ "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_DENY_RESERVED },
	/* just outside */
	{ "192.0.1.255", PEER_OK },
	{ "192.0.3.0", PEER_OK },
	{ "198.17.255.255", PEER_OK },
	{ "198.20.0.0", PEER_OK },
	{ "198.51.99.255", PEER_OK },
	{ "198.51.101.0", PEER_OK },
	{ "203.0.112.255", PEER_OK },
	{ "203.0.114.0", PEER_OK },
	{ "192.88.98.255", PEER_OK },
	{ "192.88.100.0", PEER_OK },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PEER_OK },
	{ "2001:db9::", PEER_OK },
	{ "2001:200::", PEER_OK },
	{ "100:0:0:1::", PEER_OK },
};

/* public addresses */
static const struct pcase public[] = {
	{ "8.8.8.8", PEER_OK },
	{ "1.1.1.1", PEER_OK },
	{ "2606:4700::1111", PEER_OK },
	{ "2a00:1450:4001::1", PEER_OK },
};

/* attack case 8 adapted to CIDR: allow 2001:db8::100/120 and ::/121 */
static const struct pcase case8[] = {
	{ "2001:db8::100", PEER_OK },
	{ "2001:db8::101", PEER_OK },
	{ "2001:db8::1ff", PEER_OK },
	{ "2001:db8::ff", PEER_DENY_RESERVED },
	{ "2001:db8::200", PEER_DENY_RESERVED },
	{ "2001:db8:1::100", PEER_DENY_RESERVED },
	{ "2001:db8::1:100", PEER_DENY_RESERVED },
	/* 2001:db8:0:1::/65: the lower half of that /64 only */
	{ "2001:db8:0:1:7fff:ffff:ffff:ffff", PEER_OK },
	{ "2001:db8:0:1:8000::", PEER_DENY_RESERVED },
	/* 192.168.4.0/22: .4.0-.7.255 */
	{ "192.168.3.255", PEER_DENY_PRIVATE },
	{ "192.168.4.0", PEER_OK },
	{ "192.168.7.255", PEER_OK },
	{ "192.168.8.0", PEER_DENY_PRIVATE },
};

static void
test_self(void)
{
	struct peer_filter	f;
	struct taddr		a;

	memset(&f, 0, sizeof(f));
	mk("1.2.3.4", 3478, &f.self[0]);
	mk("2606:4700::1", 3478, &f.self[1]);
	mk("10.0.0.1", 3478, &f.self[2]);
	mk("::ffff:5.6.7.8", 3478, &f.self[3]);
	f.n_self = 4;

	mk("1.2.3.4", 3478, &a);
	is_int(peer_check(&f, &a), PEER_DENY_SELF, "self: 1.2.3.4:3478");
	mk("1.2.3.4", 3479, &a);
	is_int(peer_check(&f, &a), PEER_OK, "self: 1.2.3.4:3479 public ok");
	mk("::ffff:1.2.3.4", 3478, &a);
	is_int(peer_check(&f, &a), PEER_DENY_SELF, "self: [::ffff:1.2.3.4]:3478");
	mk("2606:4700::1", 3478, &a);
	is_int(peer_check(&f, &a), PEER_DENY_SELF, "self: [2606:4700::1]:3478");
	mk("2606:4700::1", 50000, &a);
	is_int(peer_check(&f, &a), PEER_OK, "self: [2606:4700::1]:50000 ok");
	mk("2606:4700::2", 3478, &a);
	is_int(peer_check(&f, &a), PEER_OK, "self: other v6 ip, same port ok");
	mk("5.6.7.8", 3478, &a);
	is_int(peer_check(&f, &a), PEER_DENY_SELF,
	    "self: mapped self entry matches native v4");
	mk("10.0.0.1", 3478, &a);
	is_int(peer_check(&f, &a), PEER_DENY_SELF, "self: 10.0.0.1:3478");
	mk("10.0.0.1", 4000, &a);
	is_int(peer_check(&f, &a), PEER_DENY_PRIVATE,
	    "self: 10.0.0.1:4000 still private");
	filter_add(&f, "10.0.0.0/8");
	is_int(peer_check(&f, &a), PEER_OK, "self: 10.0.0.1:4000 allowed");
	mk("10.0.0.1", 3478, &a);
	is_int(peer_check(&f, &a), PEER_DENY_SELF,
	    "self: allow range does not open self");
	mk("8.8.8.8", 0, &a);
	is_int(peer_check(&f, &a), PEER_DENY_PORT0, "port 0");
	mk("::ffff:8.8.8.8", 0, &a);
	is_int(peer_check(&f, &a), PEER_DENY_PORT0, "port 0 v6");
	is_int(peer_check(NULL, &a), PEER_DENY_PORT0, "NULL filter, port 0");
	mk("8.8.8.8", 1, &a);
	is_int(peer_check(NULL, &a), PEER_OK, "NULL filter, public");
	memset(&a, 0, sizeof(a));
	a.port = 1;
	ok(peer_check(NULL, &a) != PEER_OK, "unset family denied");
	a.family = 5;
	ok(peer_check(NULL, &a) != PEER_OK, "bogus family denied");
}

/*
 * attack case 7 (round 2): every address the host owns is the relay on
 * every port outside its relay range; its relay ports stay open
 * (hairpin); an allow range containing the address opens it
 */
static void
test_host(void)
{
	static const struct {
		const char	*ip;
		uint16_t	 port;
		int		 want;
	} tab[] = {
		{ "1.2.3.4", 5353, PEER_DENY_SELF },
		{ "1.2.3.4", 3478, PEER_DENY_SELF },
		{ "1.2.3.4", 49151, PEER_DENY_SELF },
		{ "1.2.3.4", 49152, PEER_OK },		/* hairpin */
		{ "1.2.3.4", 65535, PEER_OK },
		{ "::ffff:1.2.3.4", 22, PEER_DENY_SELF },
		{ "::1.2.3.4", 22, PEER_DENY_SELF },
		{ "64:ff9b::102:304", 22, PEER_DENY_SELF },
		{ "2001:4860::7", 22, PEER_DENY_SELF },
		{ "2001:4860::7", 50000, PEER_OK },
		{ "1.2.3.5", 5353, PEER_OK },		/* not the host's */
		{ "2001:4860::8", 22, PEER_OK },
	};
	struct peer_filter	f;
	struct taddr		a;
	size_t			i;

	memset(&f, 0, sizeof(f));
	mk("1.2.3.4", 0, &f.host[0]);
	mk("2001:4860::7", 0, &f.host[1]);
	f.n_host = 2;
	f.relay_lo = 49152;
	f.relay_hi = 65535;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		mk(tab[i].ip, tab[i].port, &a);
		is_int(peer_check(&f, &a), tab[i].want, "host: %s port %u -> %s",
		    tab[i].ip, tab[i].port, peer_reason(tab[i].want));
	}
	filter_add(&f, "1.2.3.0/24");
	mk("1.2.3.4", 5353, &a);
	is_int(peer_check(&f, &a), PEER_OK,
	    "host: an allow range containing it opens it");
	f.relay_lo = f.relay_hi = 0;
	f.n_allow = 0;
	mk("1.2.3.4", 50000, &a);
	is_int(peer_check(&f, &a), PEER_DENY_SELF,
	    "host: no relay range known: every port refused");
}

static void
test_cidr_parse(void)
{
	static const struct {
		const char	*in, *net;
		int		 bits;
	} good[] = {
		{ "10.0.0.0/8", "10.0.0.0", 8 },
		{ "10.1.2.3/8", "10.0.0.0", 8 },
		{ "127.0.0.1", "127.0.0.1", 32 },
		{ "0.0.0.0/0", "0.0.0.0", 0 },
		{ "192.168.7.255/22", "192.168.4.0", 22 },
		{ "255.255.255.255/31", "255.255.255.254", 31 },
		{ "::1", "::1", 128 },
		{ "::/0", "::", 0 },
		{ "2001:db8::1ff/120", "2001:db8::100", 120 },
		{ "2001:db8:0:1:ffff::/65", "2001:db8:0:1:8000::", 65 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1", "8000::", 1 },
		{ "::ffff:1.2.3.4/128", "::ffff:1.2.3.4", 128 },
	};
	static const char *bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8/9", "10.0.0/8",
		"10.0.0.0.0", "fe80::1%eth0", "10.0.0.0 /8", " 10.0.0.0",
		"10.0.0.0/8 ", "010.0.0.0", "1.2.3.256", "::1::2", "host",
		"10.0.0.0/1000", "10.0.0.0/4294967304", ":::/8",
		"0123456789012345678901234567890123456789012345678/8",
	};
	struct peer_cidr	c;
	struct taddr		want;
	size_t			i;

	for (i = 0; i < N(good); i++) {
		mk(good[i].net, 0, &want);
		memset(&c, 0xa5, sizeof(c));
		if (!is_int(peer_cidr_parse(good[i].in, &c), 0, "parse %s",
		    good[i].in))
			continue;
		ok(c.net.family == want.family && c.bits == good[i].bits &&
		    c.net.port == 0 && memcmp(c.net.ip, want.ip, 16) == 0,
		    "parse %s = %s/%d", good[i].in, good[i].net, good[i].bits);
	}
	for (i = 0; i < N(bad); i++)
		is_int(peer_cidr_parse(bad[i], &c), -1, "reject \"%s\"", bad[i]);
	is_int(peer_cidr_parse(NULL, &c), -1, "reject NULL");

	/* match: family must agree, bits compare */
	peer_cidr_parse("10.0.0.0/8", &c);
	mk("10.9.9.9", 1, &want);
	ok(peer_cidr_match(&c, &want), "match 10.9.9.9 in 10/8");
	mk("11.0.0.0", 1, &want);
	ok(!peer_cidr_match(&c, &want), "no match 11.0.0.0 in 10/8");
	mk("::ffff:10.9.9.9", 1, &want);
	ok(!peer_cidr_match(&c, &want), "match is per family");
	peer_cidr_parse("::/0", &c);
	ok(peer_cidr_match(&c, &want), "::/0 matches any v6");
}

static void
test_embedded(void)
{
	static const struct {
		const char	*in, *v4;
	} v[] = {
		{ "::ffff:1.2.3.4", "1.2.3.4" },
		{ "::1.2.3.4", "1.2.3.4" },
		{ "64:ff9b::102:304", "1.2.3.4" },
		{ "64:ff9b:1:abcd::102:304", "1.2.3.4" },
		{ "2002:102:304::", "1.2.3.4" },
		{ "2001:0:1:2:3:4:fefd:fcfb", "1.2.3.4" },
	};
	static const char *none[] = {
		"::", "::1", "2001:db8::1", "1.2.3.4", "64:ff9b:2::1",
		"2001:1::1", "fe80::ffff:1.2.3.4",
	};
	struct taddr	a, out, want;
	size_t		i;

	for (i = 0; i < N(v); i++) {
		mk(v[i].in, 7, &a);
		mk(v[i].v4, 7, &want);
		memset(&out, 0xa5, sizeof(out));
		if (is_int(peer_embedded_v4(&a, &out), 1, "embedded %s",
		    v[i].in))
			ok(out.family == ADDR_V4 && out.port == 7 &&
			    memcmp(out.ip, want.ip, 16) == 0,
			    "embedded %s = %s", v[i].in, v[i].v4);
	}
	for (i = 0; i < N(none); i++) {
		mk(none[i], 7, &a);
		is_int(peer_embedded_v4(&a, &out), 0, "no embedded v4 in %s",
		    none[i]);
	}
}

int
main(void)
{
	struct peer_filter	f;
	int			i;

	memset(&f, 0, sizeof(f));
	run("case 1", &f, case1, N(case1));
	run("case 2", &f, case2, N(case2));
	run("case 2b", &f, case2b, N(case2b));
	run("case 3", &f, case3, N(case3));
	run("case 4", &f, case4, N(case4));
	run("case 5", &f, case5, N(case5));
	run("case 6", &f, case6, N(case6));
	run("public", &f, public, N(public));
	run("NULL filter", NULL, case2, N(case2));
	{
		/* an IPv4 allow range opens a NAT64 local-use peer only if
		 * every reading it allows is otherwise fine */
		static const struct pcase t[] = {
			{ "64:ff9b:1:808:a:0:508:808", PEER_OK },
			{ "64:ff9b:1:7f01:1:108:808:808",
			    PEER_DENY_LOOPBACK },
		};
		struct peer_filter	g;

		memset(&g, 0, sizeof(g));
		filter_add(&g, "10.0.0.0/8");
		run("case 2b allow 10/8", &g, t, N(t));
	}

	/* case 3 with every allow range that could cover link-local */
	filter_add(&f, "169.254.0.0/16");
	filter_add(&f, "fe80::/10");
	filter_add(&f, "::ffff:0:0/96");
	filter_add(&f, "64:ff9b::/96");
	filter_add(&f, "2002::/16");
	filter_add(&f, "0.0.0.0/0");
	filter_add(&f, "::/0");
	run("case 3 allow-all", &f, case3, N(case3));
	/* allow-all opens everything else */
	{
		static const struct pcase t[] = {
			{ "127.0.0.1", PEER_OK },
			{ "0.0.0.0", PEER_OK },
			{ "::1", PEER_OK },
			{ "10.0.0.5", PEER_OK },
			{ "::ffff:127.0.0.1", PEER_OK },
			{ "2002:7f00:1::", PEER_OK },
			{ "ff02::1", PEER_OK },
		};
		run("allow-all", &f, t, N(t));
	}

	memset(&f, 0, sizeof(f));
	filter_add(&f, "10.0.0.0/8");
	run("case 4 allow 10/8", &f, case4_allow, N(case4_allow));

	memset(&f, 0, sizeof(f));
	filter_add(&f, "2002::/16");
	{
		static const struct pcase t[] = {
			{ "2002:808:808::1", PEER_OK },
			{ "2002:a00:5::", PEER_OK },
			{ "2002:a9fe:a9fe::", PEER_DENY_LINKLOCAL },
		};
		run("allow 2002::/16", &f, t, N(t));
	}

	memset(&f, 0, sizeof(f));
	filter_add(&f, "2001:db8::100/120");
	filter_add(&f, "2001:db8:0:1::/65");
	filter_add(&f, "192.168.4.0/22");
	run("case 8", &f, case8, N(case8));

	test_self();
	test_host();
	test_cidr_parse();
	test_embedded();

	for (i = PEER_OK; i <= PEER_DENY_PORT0; i++)
		ok(peer_reason(i) != NULL && strcmp(peer_reason(i), "unknown"),
		    "reason %d named", i);
	is_str(peer_reason(99), "unknown", "reason 99 unknown");
	return done_testing();
}
