/*
 * 54-peerfilter: peer filtering end to end (attack cases 1-11).
 * A denied peer gets 403 on ChannelBind, and ChannelData sent on the
 * refused channel number reaches no canary socket.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define QUIET_MS	300

static struct tu_relay	relay;
static int		canary4 = -1, canary6 = -1;
static struct taddr	c4addr, c6addr;

/* 1 if no canary received anything within QUIET_MS (drains them) */
static int
canaries_quiet(void)
{
	uint8_t	buf[2048];
	int	quiet = 1;

	if (tu_recvfrom(canary4, buf, sizeof(buf), QUIET_MS, NULL) >= 0)
		quiet = 0;
	if (canary6 >= 0 &&
	    tu_recvfrom(canary6, buf, sizeof(buf), quiet ? 50 : 0, NULL) >= 0)
		quiet = 0;
	/* drain */
	while (tu_recvfrom(canary4, buf, sizeof(buf), 0, NULL) >= 0)
		;
	while (canary6 >= 0 && tu_recvfrom(canary6, buf, sizeof(buf), 0,
	    NULL) >= 0)
		;
	return quiet;
}

static int
on_loopback(const struct taddr *a)
{
	static const uint8_t	zero[12];
	const uint8_t		*v4 = NULL;

	if (a->family == ADDR_V4)
		v4 = a->ip;
	else if (memcmp(a->ip, zero, 10) == 0 &&
	    ((a->ip[10] == 0xff && a->ip[11] == 0xff) ||
	    (a->ip[10] == 0 && a->ip[11] == 0)))
		v4 = a->ip + 12;
	if (v4 == NULL)
		return 0;
	return v4[0] == 127 || (v4[0] | v4[1] | v4[2] | v4[3]) == 0 ||
	    (a->family == ADDR_V6 && memcmp(a->ip, zero, 12) == 0 &&
	    a->ip[12] == 0 && a->ip[13] == 0 && a->ip[14] == 0 &&
	    a->ip[15] == 1);
}

static void
denied(struct tu_client *c, uint16_t chan, const struct taddr *peer,
    const char *what)
{
	char	a[ADDR_STRLEN];
	uint8_t	buf[256];
	int	rc;

	addr_fmt(peer, a, sizeof(a));
	rc = tu_chanbind(c, chan, peer);
	is_int(rc, STUN_ERR_FORBIDDEN, "%s: ChannelBind 0x%04x to %s -> 403",
	    what, chan, a);
	ok(rc == STUN_ERR_FORBIDDEN && c->signed_ok,
	    "%s: ... the 403 is signed", what);
	/* never make the relay send off the machine, even if it failed */
	if (rc != STUN_ERR_FORBIDDEN && !on_loopback(peer)) {
		ok(0, "%s: (no ChannelData sent: the peer is not local)", what);
		ok(0, "%s: (skipped)", what);
		return;
	}
	memset(buf, 0xA5, sizeof(buf));
	tu_cdata_send(c, chan, buf, sizeof(buf));
	tu_cdata_send(c, chan, "canary?", 7);
	ok(canaries_quiet(), "%s: ChannelData on 0x%04x reaches no canary",
	    what, chan);
	ok(tu_cdata_recv(c, NULL, buf, sizeof(buf), 50) < 0,
	    "%s: ... and nothing comes back to the client", what);
}

static int
start(int v6, const char *allow1, const char *allow2)
{
	struct tu_relay_opts	o;

	memset(&o, 0, sizeof(o));
	o.v6 = v6;
	o.allow[0] = allow1;
	o.allow[1] = allow1 != NULL ? allow2 : NULL;
	return tu_relay_start(&relay, &o);
}

/* --allow-peer 127.0.0.0/8: loopback opens, the listen port does not */
static void
test_allow_loopback(int v6)
{
	struct tu_client	c;
	struct taddr		self, meta;
	uint8_t			buf[64], in[128];
	long			n;
	int			rc;

	if (start(v6, "127.0.0.0/8", v6 ? "::1/128" : NULL) == -1) {
		ok(0, "relay with --allow-peer 127.0.0.0/8 started");
		return;
	}
	tu_client_open(&c, &relay, ADDR_V4);
	rc = tu_allocate(&c, -1, 0, 0);
	is_int(rc, 0, "allow: Allocate");

	/* positive control: the canary can receive */
	is_int(tu_chanbind(&c, 0x4000, &c4addr), 0,
	    "allow: ChannelBind 0x4000 to the 127.0.0.1 canary succeeds");
	memset(buf, 0x5A, sizeof(buf));
	tu_cdata_send(&c, 0x4000, buf, sizeof(buf));
	n = tu_recvfrom(canary4, in, sizeof(in), 1000, NULL);
	ok(n == (long)sizeof(buf) && memcmp(in, buf, sizeof(buf)) == 0,
	    "allow: control: the canary receives relayed data");

	tu_ip4(&self, 127, 0, 0, 1, relay.port);
	denied(&c, 0x4001, &self, "allow: the relay's own listen address");
	tu_ip4(&meta, 169, 254, 169, 254, 80);
	denied(&c, 0x4002, &meta, "allow: link-local metadata");
	tu_refresh(&c, 0);
	tu_client_close(&c);

	if (v6) {
		tu_client_open(&c, &relay, ADDR_V6);
		rc = tu_allocate(&c, -1, STUN_AF_IPV6, 0);
		is_int(rc, 0, "allow: IPv6 Allocate");
		tu_ip6_loop(&self, relay.port);
		denied(&c, 0x4001, &self, "allow: the relay's [::1] listen port");
		tu_refresh(&c, 0);
		tu_client_close(&c);
	}
	ok(tu_relay_alive(&relay), "allow: the supervisor is still running");
	if (tap_failed())
		tu_log_dump(&relay, 20);
	tu_relay_stop(&relay);
}

/* no allow ranges: the hardened default */
static void
test_default(int v6)
{
	struct tu_client	c;
	struct taddr		p;
	int			rc;

	if (start(v6, NULL, NULL) == -1) {
		ok(0, "relay without allow ranges started");
		return;
	}
	tu_client_open(&c, &relay, ADDR_V4);
	rc = tu_allocate(&c, -1, 0, 0);
	is_int(rc, 0, "default: Allocate");
	denied(&c, 0x4000, &c4addr, "default: the 127.0.0.1 canary");
	tu_ip4(&p, 127, 1, 2, 3, c4addr.port);
	denied(&c, 0x4001, &p, "default: 127.1.2.3");
	tu_ip4(&p, 0, 0, 0, 0, c4addr.port);
	denied(&c, 0x4002, &p, "default: 0.0.0.0");
	tu_ip4(&p, 10, 0, 0, 5, c4addr.port);
	denied(&c, 0x4003, &p, "default: 10.0.0.5");
	tu_ip4(&p, 169, 254, 169, 254, 80);
	denied(&c, 0x4004, &p, "default: 169.254.169.254");
	tu_refresh(&c, 0);
	tu_client_close(&c);

	if (!v6) {
		skip(13, "::1 not usable: no IPv6 allocation");
	} else {
		tu_client_open(&c, &relay, ADDR_V4);
		rc = tu_allocate(&c, -1, STUN_AF_IPV6, 0);
		is_int(rc, 0, "default: IPv6 Allocate");
		tu_ip6_mapped(&p, &c4addr);
		denied(&c, 0x4000, &p, "default: ::ffff:127.0.0.1 (v4-mapped)");
		denied(&c, 0x4001, &c6addr, "default: the [::1] canary");
		tu_ip6_mapped(&p, &c4addr);
		memset(p.ip, 0, 12);	/* ::127.0.0.1, v4-compatible */
		denied(&c, 0x4002, &p, "default: ::127.0.0.1");
		tu_refresh(&c, 0);
		tu_client_close(&c);
	}
	ok(tu_relay_alive(&relay), "default: the supervisor is still running");
	if (tap_failed())
		tu_log_dump(&relay, 20);
	tu_relay_stop(&relay);
}

/* link-local stays denied even inside an allow range */
static void
test_linklocal_allowed(void)
{
	struct tu_client	c;
	struct taddr		p;

	if (start(0, "169.254.0.0/16", NULL) == -1) {
		ok(1, "--allow-peer 169.254.0.0/16 refused at start-up");
		return;
	}
	tu_client_open(&c, &relay, ADDR_V4);
	is_int(tu_allocate(&c, -1, 0, 0), 0, "link-local: Allocate");
	tu_ip4(&p, 169, 254, 169, 254, 80);
	denied(&c, 0x4000, &p, "link-local allowed: 169.254.169.254");
	tu_refresh(&c, 0);
	tu_client_close(&c);
	tu_relay_stop(&relay);
}

int
main(void)
{
	int	v6;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	v6 = tu_have_ipv6();
	canary4 = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(canary4, &c4addr);
	if (v6) {
		canary6 = tu_udp_bind(ADDR_V6, 0);
		tu_sock_addr(canary6, &c6addr);
	}
	ok(canary4 >= 0, "canary bound on 127.0.0.1:%u", c4addr.port);

	test_allow_loopback(v6);
	test_default(v6);
	test_linklocal_allowed();
	return done_testing();
}
