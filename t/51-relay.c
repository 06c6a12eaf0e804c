/*
 * 51-relay: the real bin/turncell on loopback, over IPv4 and over ::1.
 * Binding, Allocate (401 then success), ChannelBind, ChannelData both
 * ways byte-exact, Refresh, REFRESH 0, the lifetime floor, dual-stack
 * allocation.
 */
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

static struct tu_relay	relay;
static char		passwords[16][AUTH_PASS_LEN + 1];
static size_t		npasswords;

static const char *
fam_name(int fam)
{
	return fam == ADDR_V6 ? "v6" : "v4";
}

/* expect ip to be the relay's public address of that family */
static int
is_public(const struct taddr *a, int fam)
{
	struct taddr	want;

	if (fam == ADDR_V6)
		tu_ip6_loop(&want, a->port);
	else
		tu_ip4(&want, 127, 0, 0, 1, a->port);
	return addr_eq(a, &want);
}

/* allocate and return the worker that appeared for it (-1 if none) */
static pid_t
allocate(struct tu_client *c, int lifetime, uint8_t rf, uint8_t af, int *rc)
{
	pid_t	before[64];
	size_t	nb;

	if (npasswords < 16)
		memcpy(passwords[npasswords++], c->pass, sizeof(c->pass));
	nb = tu_workers(&relay, before, 64);
	*rc = tu_allocate(c, lifetime, rf, af);
	if (*rc != 0)
		return -1;
	return tu_new_worker(&relay, before, nb, 2000);
}

/* payloads of several sizes (odd ones: the relay must not pad out) */
static void
data_both_ways(struct tu_client *c, int pfd, const struct taddr *peer,
    const struct taddr *relayed, uint16_t chan, const char *what)
{
	static const size_t	 sizes[] = { 1, 333, 1200 };
	uint8_t			 out[1500], in[2000];
	struct taddr		 from;
	uint16_t		 got_chan;
	size_t			 i;
	long			 n;
	int			 c2p = 1, p2c = 1, src = 1, framing = 1;

	(void)peer;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tu_fill(out, sizes[i]);
		if (tu_cdata_send(c, chan, out, sizes[i]) == -1)
			c2p = 0;
		n = tu_recvfrom(pfd, in, sizeof(in), 1000, &from);
		if (n != (long)sizes[i] || memcmp(in, out, sizes[i]) != 0) {
			diag("%s: client->peer %zu bytes: got %ld", what,
			    sizes[i], n);
			c2p = 0;
		}
		if (n >= 0 && !addr_eq(&from, relayed)) {
			char	a[ADDR_STRLEN], b[ADDR_STRLEN];

			diag("%s: peer got data from %s, want %s", what,
			    addr_fmt(&from, a, sizeof(a)),
			    addr_fmt(relayed, b, sizeof(b)));
			src = 0;
		}

		tu_fill(out, sizes[i]);
		if (tu_sendto(pfd, relayed, out, sizes[i]) == -1)
			p2c = 0;
		got_chan = 0;
		n = tu_cdata_recv(c, &got_chan, in, sizeof(in), 1000);
		if (n != (long)sizes[i] || memcmp(in, out, sizes[i]) != 0 ||
		    got_chan != chan) {
			diag("%s: peer->client %zu bytes: got %ld on 0x%04x",
			    what, sizes[i], n, got_chan);
			p2c = 0;
		}
		if (n >= 0 && c->cdata_raw_len != CDATA_HDR_LEN + sizes[i]) {
			diag("%s: ChannelData datagram %zu bytes, want %zu",
			    what, c->cdata_raw_len, CDATA_HDR_LEN + sizes[i]);
			framing = 0;
		}
	}
	ok(c2p, "%s: ChannelData client->peer arrives byte-exact", what);
	ok(src, "%s: ... from the relayed address", what);
	ok(p2c, "%s: peer->client arrives as ChannelData on 0x%04x", what,
	    chan);
	ok(framing, "%s: ... header + payload, unpadded", what);
}

static void
test_family(int fam)
{
	struct tu_client	c;
	struct taddr		peer;
	uint8_t			junk[64];
	uint8_t			rf = fam == ADDR_V6 ? STUN_AF_IPV6 : 0;
	const char		*f = fam_name(fam);
	pid_t			w;
	int			pfd, rc;
	long			n;

	if (tu_client_open(&c, &relay, fam) == -1) {
		ok(0, "%s: client socket", f);
		return;
	}
	rc = tu_binding(&c);
	is_int(rc, 0, "%s: Binding answered with success", f);
	ok(rc == 0 && (c.resp.has & STUN_HAS_MAPPED) &&
	    addr_eq(&c.resp.mapped, &c.local),
	    "%s: Binding XOR-MAPPED-ADDRESS is our socket", f);
	ok(rc == 0 && !(c.resp.has & STUN_HAS_MI),
	    "%s: Binding response is not signed", f);

	w = allocate(&c, -1, rf, 0, &rc);
	ok(c.ndance >= 1 && c.dance[0] == STUN_ERR_UNAUTHORIZED,
	    "%s: first Allocate (no credentials) gets 401", f);
	is_int(rc, 0, "%s: Allocate with the nonce succeeds", f);
	ok(rc == 0 && c.signed_ok, "%s: Allocate success is signed", f);
	ok(c.n_relayed == 1 && c.relayed[0].family == fam &&
	    is_public(&c.relayed[0], fam),
	    "%s: one XOR-RELAYED-ADDRESS on the public %s address", f, f);
	ok(c.relayed[0].port >= relay.lo && c.relayed[0].port <= relay.hi,
	    "%s: relayed port %u in [%u, %u]", f, c.relayed[0].port, relay.lo,
	    relay.hi);
	ok(addr_eq(&c.mapped, &c.local), "%s: XOR-MAPPED-ADDRESS = our socket",
	    f);
	ok(c.has_lifetime && c.lifetime == 600, "%s: LIFETIME 600 (got %u)", f,
	    c.lifetime);
	ok(w > 0, "%s: a worker process appeared", f);
	if (rc != 0) {
		ok(0, "%s: the remaining cases need an allocation", f);
		tu_client_close(&c);
		return;
	}

	pfd = tu_udp_bind(fam, 0);
	tu_sock_addr(pfd, &peer);
	rc = tu_chanbind(&c, 0x4000, &peer);
	is_int(rc, 0, "%s: ChannelBind 0x4000 to a local peer", f);
	ok(rc == 0 && c.signed_ok, "%s: ChannelBind success is signed", f);
	data_both_ways(&c, pfd, &peer, &c.relayed[0], 0x4000, f);

	rc = tu_refresh(&c, 600);
	is_int(rc, 0, "%s: Refresh LIFETIME 600", f);
	ok(rc == 0 && c.has_lifetime && c.lifetime == 600 && c.signed_ok,
	    "%s: Refresh response LIFETIME 600, signed", f);

	rc = tu_refresh(&c, 0);
	is_int(rc, 0, "%s: REFRESH 0 succeeds", f);
	ok(rc == 0 && c.has_lifetime && c.lifetime == 0,
	    "%s: REFRESH 0 response LIFETIME 0", f);
	ok(w > 0 && tu_wait_gone(w, 0, 2000),
	    "%s: the worker is gone (and reaped) after REFRESH 0", f);
	tu_fill(junk, sizeof(junk));
	tu_sendto(pfd, &c.relayed[0], junk, sizeof(junk));
	n = tu_cdata_recv(&c, NULL, junk,
	    sizeof(junk), 300);
	ok(n < 0, "%s: peer data after REFRESH 0 does not reach the client",
	    f);
	is_int(tu_refresh(&c, 600), STUN_ERR_ALLOC_MISMATCH,
	    "%s: Refresh after REFRESH 0 gets 437", f);
	close(pfd);
	tu_client_close(&c);
}

/* over ::1 without REQUESTED-ADDRESS-FAMILY: the relayed address is IPv4 */
static void
test_v6_default_family(void)
{
	struct tu_client	c;
	int			rc;

	if (tu_client_open(&c, &relay, ADDR_V6) == -1) {
		ok(0, "v6: client socket");
		return;
	}
	rc = tu_allocate(&c, -1, 0, 0);
	is_int(rc, 0, "v6: Allocate without REQUESTED-ADDRESS-FAMILY");
	ok(rc == 0 && c.n_relayed == 1 && is_public(&c.relayed[0], ADDR_V4),
	    "v6: ... relays on the public IPv4 address");
	ok(rc == 0 && addr_eq(&c.mapped, &c.local),
	    "v6: ... XOR-MAPPED-ADDRESS = our [::1] socket");
	is_int(tu_refresh(&c, 0), 0, "v6: REFRESH 0");
	tu_client_close(&c);
}

static void
test_dual(void)
{
	struct tu_client	c;
	struct taddr		p4, p6;
	pid_t			w;
	int			fd4, fd6, rc;

	if (tu_client_open(&c, &relay, ADDR_V4) == -1) {
		ok(0, "dual: client socket");
		return;
	}
	w = allocate(&c, -1, 0, STUN_AF_IPV6, &rc);
	is_int(rc, 0, "dual: Allocate with ADDITIONAL-ADDRESS-FAMILY IPv6");
	ok(c.n_relayed == 2, "dual: two XOR-RELAYED-ADDRESS (got %zu)",
	    c.n_relayed);
	ok(c.n_relayed == 2 && is_public(&c.relayed[0], ADDR_V4) &&
	    is_public(&c.relayed[1], ADDR_V6),
	    "dual: IPv4 first, IPv6 second, both public addresses");
	ok(c.n_relayed == 2 &&
	    c.relayed[0].port >= relay.lo && c.relayed[0].port <= relay.hi &&
	    c.relayed[1].port >= relay.lo && c.relayed[1].port <= relay.hi,
	    "dual: both relayed ports in range");
	ok(w > 0, "dual: one worker");
	if (rc != 0 || c.n_relayed != 2) {
		ok(0, "dual: the remaining cases need a dual allocation");
		tu_client_close(&c);
		return;
	}
	fd4 = tu_udp_bind(ADDR_V4, 0);
	fd6 = tu_udp_bind(ADDR_V6, 0);
	tu_sock_addr(fd4, &p4);
	tu_sock_addr(fd6, &p6);
	is_int(tu_chanbind(&c, 0x4001, &p4), 0, "dual: ChannelBind to v4 peer");
	is_int(tu_chanbind(&c, 0x4002, &p6), 0, "dual: ChannelBind to v6 peer");
	data_both_ways(&c, fd4, &p4, &c.relayed[0], 0x4001, "dual/v4");
	data_both_ways(&c, fd6, &p6, &c.relayed[1], 0x4002, "dual/v6");
	is_int(tu_refresh(&c, 0), 0, "dual: REFRESH 0");
	ok(w > 0 && tu_wait_gone(w, 0, 2000), "dual: worker gone");
	close(fd4);
	close(fd6);
	tu_client_close(&c);
}

struct expiring {
	struct tu_client	c;
	pid_t			w;
	int			ok;
};

static void
expiry_start(struct expiring *e, int fam)
{
	uint8_t	rf = fam == ADDR_V6 ? STUN_AF_IPV6 : 0;
	int	rc;

	e->ok = 0;
	if (tu_client_open(&e->c, &relay, fam) == -1)
		return;
	e->w = allocate(&e->c, 2, rf, 0, &rc);
	is_int(rc, 0, "%s lifetime: Allocate LIFETIME 2", fam_name(fam));
	/* RFC 8656 §7.2: never below the 600 s default (attack case 28) */
	ok(rc == 0 && e->c.has_lifetime && e->c.lifetime == 600,
	    "%s lifetime: response LIFETIME 600, not 2 (got %u)",
	    fam_name(fam), e->c.lifetime);
	e->ok = rc == 0;
}

static void
expiry_check(struct expiring *e, int fam)
{
	if (!e->ok) {
		skip(5, "%s lifetime: no allocation", fam_name(fam));
		return;
	}
	ok(e->w > 0 && kill(e->w, 0) == 0,
	    "%s lifetime: the worker still runs after 3 s", fam_name(fam));
	is_int(tu_refresh(&e->c, 1), 0,
	    "%s lifetime: REFRESH LIFETIME 1 after 3 s succeeds",
	    fam_name(fam));
	ok(e->c.has_lifetime && e->c.lifetime == 600,
	    "%s lifetime: and is granted 600 (got %u)", fam_name(fam),
	    e->c.lifetime);
	is_int(tu_refresh(&e->c, 0), 0, "%s lifetime: REFRESH 0",
	    fam_name(fam));
	ok(e->w > 0 && tu_wait_gone(e->w, 0, 2000),
	    "%s lifetime: the worker is gone", fam_name(fam));
	tu_client_close(&e->c);
}

/* the launcher passed --listen-port 0 and read --port-file */
static void
listen_port_checks(int v6)
{
	char	line[80];
	FILE	*f;
	int	lo = 0;

	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f == NULL || fscanf(f, "%d", &lo) != 1)
		lo = 1024;
	if (f != NULL)
		fclose(f);
	ok(relay.port >= lo, "--listen-port 0: an ephemeral port (%u >= %d)",
	    relay.port, lo);
	snprintf(line, sizeof(line), "Listening for incoming traffic on UDP\","
	    "\"proc\":\"sup\",\"port\":%u,", relay.port);
	is_int(tu_log_count(&relay, 0, line), v6 ? 2 : 1,
	    "the log names the bound port once per family%s",
	    v6 ? " (IPv4 and IPv6 on the same port)" : "");
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct expiring		e4, e6;
	uint64_t		t0;
	int			v6;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	v6 = tu_have_ipv6();
	memset(&o, 0, sizeof(o));
	o.v6 = v6;
	o.allow[0] = "127.0.0.0/8";
	o.allow[1] = v6 ? "::1/128" : NULL;
	if (tu_relay_start(&relay, &o) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	ok(1, "relay started on 127.0.0.1:%u%s, relay ports %u-%u", relay.port,
	    v6 ? " and [::1]" : "", relay.lo, relay.hi);
	listen_port_checks(v6);

	/* the short lifetimes run while the other cases do */
	t0 = tu_now_ms();
	expiry_start(&e4, ADDR_V4);
	if (v6)
		expiry_start(&e6, ADDR_V6);

	test_family(ADDR_V4);
	if (v6) {
		test_family(ADDR_V6);
		test_v6_default_family();
		test_dual();
	} else
		skip(1, "::1 not usable: no IPv6 cases");

	/* not a wait for something: the 2 s asked for must pass unnoticed */
	while (tu_now_ms() < t0 + 3200)
		tu_sleep_ms(50);
	expiry_check(&e4, ADDR_V4);
	if (v6)
		expiry_check(&e6, ADDR_V6);

	ok(tu_relay_alive(&relay), "the supervisor is still running");
	is_int(tu_log_count(&relay, 0, "killed by its sandbox"), 0,
	    "no worker died of its sandbox (SIGSYS) in normal operation");
	is_int(tu_log_count(&relay, 0, "Worker died") +
	    tu_log_count(&relay, 0, "Killing"), 0,
	    "no worker crashed or was killed");
	{
		size_t	i;
		int	leaks = tu_log_count(&relay, 0, relay.secret);

		for (i = 0; i < npasswords; i++)
			leaks += tu_log_count(&relay, 0, passwords[i]);
		is_int(leaks, 0, "neither the secret nor a password (%zu) is "
		    "in the log", npasswords);
	}
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_relay_stop(&relay);
	return done_testing();
}
