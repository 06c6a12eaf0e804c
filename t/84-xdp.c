/*
 * 84-xdp.c: the XDP fast path (--xdp) end to end. The test moves into a
 * network namespace of its own (the relay's) and makes a second one (the
 * clients' and peers'), joined by a veth pair: the relay's end xr0 gets
 * --xdp, the far end xc0 the pass-everything program build/test/xdp-pass
 * (a veth delivers XDP_TX frames only to a peer with a program) and no tx
 * checksum offload (the program updates checksums, it does not finish
 * them). Both namespaces go away when the test exits.
 *
 * Checked: channel traffic both ways, IPv4 and IPv6, byte-exact (payload,
 * source address, ChannelData header without padding, padded ChannelData
 * from the client); the XDP counters move by exactly the packets sent
 * while turncell_relayed_* (what the workers relay) stay at 0; STUN,
 * ChannelData on an unbound channel and a peer without a channel still
 * reach userspace; REFRESH 0 and a worker killed mid-stream take the
 * channel out of the maps before the next packet; no worker holds a BPF
 * descriptor; a channel between two allocations of the relay (hairpin)
 * stays in userspace and works; /readyz says ready; SIGTERM drains with
 * the fast path on, and the program is gone from xr0 when the relay has
 * exited; a relay with --xdp-generic relays the same way, and its 10 s
 * stats line counts what XDP relayed; with --max-bps the program is not
 * attached and the workers relay. Skipped, with the reason, when not
 * root or when the relay logs that BPF cannot be loaded here. Channel
 * expiry (600 s) is not waited for here.
 */
#define _GNU_SOURCE		/* unshare, setns */
#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define CHAN		0x4000
#define N		40		/* datagrams each way and family */
#define WAIT_MS		5000

#define M_XC2P	"turncell_xdp_packets_total{direction=\"client_to_peer\"}"
#define M_XP2C	"turncell_xdp_packets_total{direction=\"peer_to_client\"}"
#define M_XB2P	"turncell_xdp_bytes_total{direction=\"client_to_peer\"}"
#define M_RC2P	"turncell_relayed_packets_total{direction=\"client_to_peer\"}"
#define M_RP2C	"turncell_relayed_packets_total{direction=\"peer_to_client\"}"
#define M_CHANS	"turncell_xdp_channels"
#define M_STUN	"turncell_xdp_passed_total{reason=\"stun\"}"
#define M_NOCH	"turncell_xdp_passed_total{reason=\"no_channel\"}"
#define M_NOPEER "turncell_xdp_passed_total{reason=\"no_peer\"}"
#define M_DROP	"turncell_dropped_datagrams_total"
#define M_CRASH	"turncell_workers_crashed_total"

static int		 ns_relay = -1, ns_far = -1;
static struct tu_relay	 relay;

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char	cmd[1024];
	va_list	ap;
	int	st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((st = system(cmd)) != 0)
		diag("'%s' failed: status %d", cmd, st);
	return st == 0 ? 0 : -1;
}

static int
far(void)
{
	return setns(ns_far, CLONE_NEWNET);
}

static int
near(void)
{
	return setns(ns_relay, CLONE_NEWNET);
}

/* the two namespaces and the veth pair between them */
static int
net_setup(void)
{
	if (unshare(CLONE_NEWNET) == -1 ||
	    (ns_relay = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (unshare(CLONE_NEWNET) == -1 ||
	    (ns_far = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1 ||
	    near() == -1)
		return -1;
	if (sh("ip link set lo up && ip link add xr0 type veth peer name xc0 "
	    "netns /proc/%d/fd/%d && ip addr add 10.99.0.1/24 dev xr0 && "
	    "ip -6 addr add fd99::1/64 dev xr0 nodad && ip link set xr0 up",
	    (int)getpid(), ns_far) == -1)
		return -1;
	if (far() == -1)
		return -1;
	if (sh("ip link set lo up && ip link set xc0 up && "
	    "ip addr add 10.99.0.2/24 dev xc0 && "
	    "ip addr add 10.99.0.3/24 dev xc0 && "
	    "ip -6 addr add fd99::2/64 dev xc0 nodad && "
	    "ip -6 addr add fd99::3/64 dev xc0 nodad && "
	    "ethtool -K xc0 tx off >/dev/null && %s xc0",
	    tu_path("build/test/xdp-pass")) == -1) {
		(void)near();
		return -1;
	}
	return near();
}

static long long
metric(const char *name)
{
	return tp_metric(relay.health_port, name);
}

/* the metric once it reached min (within WAIT_MS), or what it is then */
static long long
metric_at_least(const char *name, long long min)
{
	return tp_metric_least(relay.health_port, name, min, WAIT_MS);
}

static void
ip(struct taddr *a, int family, int last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	a->port = port;
	if (family == ADDR_V4) {
		a->ip[0] = 10, a->ip[1] = 99, a->ip[3] = (uint8_t)last;
	} else {
		a->ip[0] = 0xfd, a->ip[1] = 0x99, a->ip[15] = (uint8_t)last;
	}
}

/* a client of the relay from the far side: allocated, its channel CHAN
 * bound to a peer socket there; 0 or -1 */
static int
client_far(struct tu_client *c, int family, int *pfd, struct taddr *peer)
{
	struct taddr	local;
	int		rc;

	ip(&local, family, 2, 0);
	ip(peer, family, 3, 0);
	if (far() == -1)
		return -1;
	rc = tu_client_open_from(c, &relay, &local);
	*pfd = tu_udp_bind_addr(peer);
	if (near() == -1 || rc == -1 || *pfd == -1 ||
	    tu_sock_addr(*pfd, peer) == -1)
		return -1;
	ip(&c->server, family, 1, relay.port);
	if (tu_allocate(c, -1, family == ADDR_V6 ? STUN_AF_IPV6 :
	    STUN_AF_IPV4, 0) != 0 || c->n_relayed != 1)
		return -1;
	return tu_chanbind(c, CHAN, peer) == 0 ? 0 : -1;
}

/* one datagram of n bytes (pattern k) client -> peer, padded with pad
 * bytes: arrives whole, from the relayed address */
static int
one_c2p(struct tu_client *c, int pfd, size_t n, size_t pad, int k)
{
	uint8_t		out[1300], in[1500];
	struct taddr	from;
	size_t		i;
	long		got;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(k * 31 + i);
	if (pad == 0) {
		if (tu_cdata_send(c, CHAN, out, n) == -1)
			return -1;
	} else {
		in[0] = CHAN >> 8, in[1] = CHAN & 0xff;
		in[2] = (uint8_t)(n >> 8), in[3] = (uint8_t)n;
		memcpy(in + 4, out, n);
		memset(in + 4 + n, 0, pad);
		if (tu_sendto(c->fd, &c->server, in, 4 + n + pad) == -1)
			return -1;
	}
	got = tu_recvfrom(pfd, in, sizeof(in), WAIT_MS, &from);
	if (got != (long)n || memcmp(in, out, n) != 0 ||
	    !addr_eq(&from, &c->relayed[0])) {
		diag("c2p %zu bytes: got %ld", n, got);
		return -1;
	}
	return 0;
}

static int
one_p2c(struct tu_client *c, int pfd, size_t n, int k)
{
	uint8_t		out[1300], in[1500];
	uint16_t	chan = 0;
	size_t		i;
	long		got;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(k * 17 + i);
	if (tu_sendto(pfd, &c->relayed[0], out, n) == -1)
		return -1;
	got = tu_cdata_recv(c, &chan, in, sizeof(in), WAIT_MS);
	if (got != (long)n || chan != CHAN || memcmp(in, out, n) != 0 ||
	    c->cdata_raw_len != 4 + n) {
		diag("p2c %zu bytes: got %ld chan %04x raw %zu", n, got, chan,
		    c->cdata_raw_len);
		return -1;
	}
	return 0;
}

/* N each way, sizes 1..1203, every fourth client datagram of a length
 * that is not a multiple of 4 and padded to one (1 to 3 bytes) */
static void
t_both_ways(struct tu_client *c, int pfd, const char *fam)
{
	long long	x0 = metric(M_XC2P), y0 = metric(M_XP2C);
	long long	b0 = metric(M_XB2P), bytes = 0;
	int		k, bad_c = 0, bad_p = 0;
	size_t		n;

	for (k = 0; k < N; k++) {
		n = 1 + (size_t)(k * 37) % 1200;
		if (k % 4 == 3)
			n += 1 + (size_t)(k / 4) % 3;
		bytes += (long long)n;
		bad_c += one_c2p(c, pfd, n, k % 4 == 3 && n % 4 ? 4 - n % 4 : 0,
		    k) != 0;
		bad_p += one_p2c(c, pfd, n, k) != 0;
	}
	is_int(bad_c, 0, "%s: %d datagrams client -> peer, byte-exact, from "
	    "the relayed address (padded ones too)", fam, N);
	is_int(bad_p, 0, "%s: %d datagrams peer -> client as ChannelData on "
	    "the channel, byte-exact, no padding", fam, N);
	is_int(metric(M_XC2P) - x0, N, "%s: XDP counted %d client -> peer",
	    fam, N);
	is_int(metric(M_XP2C) - y0, N, "%s: XDP counted %d peer -> client",
	    fam, N);
	is_int(metric(M_XB2P) - b0, bytes, "%s: XDP counted the payload "
	    "bytes", fam);
	ok(metric(M_RC2P) == 0 && metric(M_RP2C) == 0, "%s: the workers "
	    "relayed nothing (turncell_relayed_packets_total 0 both ways)",
	    fam);
}

/* a ChannelData on CHAN now goes to userspace, which drops it, and the
 * peer gets nothing */
static void
t_gone(struct tu_client *c, int pfd, const char *what)
{
	long long	nc = metric(M_NOCH), d = metric(M_DROP);
	uint8_t		buf[64];
	struct taddr	from;

	memset(buf, 0x5a, sizeof(buf));
	is_int(metric(M_CHANS), 0, "%s: no channel left in the XDP maps",
	    what);
	ok(tu_cdata_send(c, CHAN, buf, sizeof(buf)) == 0, "%s: ChannelData "
	    "sent", what);
	is_int(metric_at_least(M_DROP, d + 1), d + 1, "%s: userspace "
	    "dropped it", what);
	is_int(metric(M_NOCH) - nc, 1, "%s: the XDP program passed it "
	    "(no_channel)", what);
	ok(tu_recvfrom(pfd, buf, sizeof(buf), 300, &from) < 0,
	    "%s: the peer got nothing", what);
}

/* no descriptor of a worker is a BPF object; the supervisor has some
 * (so that the check can fail) */
static int
bpf_fds(pid_t pid)
{
	char		 path[64], lnk[PATH_MAX], tgt[256];
	struct dirent	*de;
	DIR		*d;
	ssize_t		 n;
	int		 cnt = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(lnk, sizeof(lnk), "%s/%s", path, de->d_name);
		if ((n = readlink(lnk, tgt, sizeof(tgt) - 1)) <= 0)
			continue;
		tgt[n] = '\0';
		if (strstr(tgt, "bpf") != NULL)
			cnt++;
	}
	closedir(d);
	return cnt;
}

static int
xdp_on_xr0(void)
{
	FILE	*p;
	char	 line[512];
	int	 found = 0;

	if ((p = popen("ip link show dev xr0", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL)
		if (strstr(line, "prog/xdp") != NULL || strstr(line, " xdp ")
		    != NULL)
			found = 1;
	pclose(p);
	return found;
}

static void
t_hairpin(struct tu_client *c4)
{
	struct tu_client	ch;
	struct taddr		local;
	long long		chans = metric(M_CHANS), r0 = metric(M_RC2P);
	uint8_t			out[100], in[200];
	uint16_t		chan = 0;
	int			rc;

	ip(&local, ADDR_V4, 2, 0);
	memset(out, 0x77, sizeof(out));
	if (far() == -1)
		return;
	rc = tu_client_open_from(&ch, &relay, &local);
	if (near() == -1 || !ok(rc == 0, "hairpin: a second v4 client"))
		return;
	ip(&ch.server, ADDR_V4, 1, relay.port);
	ok(tu_allocate(&ch, -1, STUN_AF_IPV4, 0) == 0 &&
	    tu_chanbind(&ch, CHAN + 2, &c4->relayed[0]) == 0 &&
	    tu_chanbind(c4, CHAN + 2, &ch.relayed[0]) == 0,
	    "hairpin: channels between the two relayed addresses");
	is_int(metric(M_CHANS), chans, "hairpin: not in the XDP maps");
	ok(tu_cdata_send(&ch, CHAN + 2, out, sizeof(out)) == 0 &&
	    tu_cdata_recv(c4, &chan, in, sizeof(in), WAIT_MS) ==
	    (long)sizeof(out) && chan == CHAN + 2 &&
	    memcmp(in, out, sizeof(out)) == 0,
	    "hairpin: relayed from one client to the other");
	is_int(metric_at_least(M_RC2P, r0 + 1) - r0, 1, "hairpin: by the "
	    "workers");
	is_int(tu_refresh(&ch, 0), 0, "hairpin: second client freed");
	tu_client_close(&ch);
}

/* --xdp-generic: the same relaying, and the 10 s stats line counts it */
static void
t_generic(struct tu_relay_opts *o)
{
	struct tu_client	c;
	struct taddr		p;
	long long		v;
	off_t			off, off2;
	int			pfd, k, bad = 0;

	o->extra[12] = "--xdp-generic";
	if (!ok(tu_relay_start(&relay, o) == 0 &&
	    tu_log_wait(&relay, 0, "\"mode\":\"generic\"", 3000),
	    "--xdp-generic: attached in generic mode"))
		return;
	off = tu_log_size(&relay);
	if (!ok(client_far(&c, ADDR_V4, &pfd, &p) == 0,
	    "--xdp-generic: a client with a channel"))
		return;
	v = metric(M_XC2P) + metric(M_XP2C);
	for (k = 0; k < 10; k++)
		bad += one_c2p(&c, pfd, 1000, 0, k) != 0 ||
		    one_p2c(&c, pfd, 1000, k) != 0;
	is_int(bad, 0, "--xdp-generic: 10 datagrams each way, byte-exact");
	is_int(metric(M_XC2P) + metric(M_XP2C) - v, 20, "--xdp-generic: by "
	    "XDP");
	/* every byte relayed so far is in a stats line written after now */
	off2 = tu_log_size(&relay);
	ok(tu_log_wait(&relay, off2, "Relay statistics", 15000),
	    "a stats line after the traffic");
	ok(tu_log_count(&relay, off, "Relay statistics") >
	    tu_log_count(&relay, off, "\"throughput\":\"0.00 B/s\""),
	    "its throughput counts what XDP relayed");
}

/* --max-bps: no fast path (the buckets are the workers'), all relayed and
 * limited in userspace */
static void
t_maxbps(struct tu_relay_opts *o)
{
	struct tu_client	c;
	struct taddr		p;
	int			pfd;

	o->extra[12] = "--max-bps";
	o->extra[13] = "1000000";
	if (!ok(tu_relay_start(&relay, o) == 0 &&
	    tu_log_wait(&relay, 0, "XDP fast path off", 3000),
	    "--max-bps with --xdp: the fast path is off, logged"))
		return;
	is_int(xdp_on_xr0(), 0, "--max-bps: no program on xr0");
	if (!ok(client_far(&c, ADDR_V4, &pfd, &p) == 0,
	    "--max-bps: a client with a channel"))
		return;
	ok(one_c2p(&c, pfd, 500, 0, 1) == 0 && one_p2c(&c, pfd, 500, 1) == 0,
	    "--max-bps: relayed both ways");
	ok(metric(M_RC2P) == 1 && metric(M_RP2C) == 1,
	    "--max-bps: by the workers");
}

static int
relay_gone(void *arg)
{
	(void)arg;
	return !tu_relay_alive(&relay);
}

int
main(void)
{
	struct tu_relay_opts	 o;
	struct tu_client	 c4, c6, ck, cd;
	struct taddr		 p4, p6, pk, pd, other;
	pid_t			 w[8];
	size_t			 nw, i;
	long long		 v, want;
	char			 body[64];
	int			 pfd4, pfd6, pfdk, pfdd, ofd, bad;
	uint8_t			 buf[64];

	tu_init(120);
	if (geteuid() != 0)
		skip_all("needs root (network namespaces, BPF)");
	if (net_setup() == -1)
		skip_all("cannot make the namespaces and the veth pair");

	memset(&o, 0, sizeof(o));
	o.allow[0] = "10.99.0.0/24";
	o.allow[1] = "fd99::/64";
	o.health = "127.0.0.1:0";
	o.extra[0] = "--bind-ip4-addr", o.extra[1] = "0.0.0.0";
	o.extra[2] = "--public-ip4-addr", o.extra[3] = "10.99.0.1";
	o.extra[4] = "--bind-ip6-addr", o.extra[5] = "::";
	o.extra[6] = "--public-ip6-addr", o.extra[7] = "fd99::1";
	o.extra[8] = "--xdp", o.extra[9] = "xr0";
	o.extra[10] = "--drain-timeout", o.extra[11] = "2";
	if (tu_relay_start(&relay, &o) == -1)
		skip_all("the relay did not start");
	if (!tu_log_wait(&relay, 0, "XDP fast path attached", 3000)) {
		if (tu_log_count(&relay, 0, "XDP program not loaded") > 0) {
			tu_log_dump(&relay, 5);
			tu_relay_stop(&relay);
			skip_all("BPF cannot be loaded here (see the relay's "
			    "log above)");
		}
		ok(0, "the relay attached XDP to xr0");
		tu_log_dump(&relay, 20);
		tu_relay_stop(&relay);
		return done_testing();
	}
	ok(1, "the relay attached XDP to xr0 in native mode");
	ok(xdp_on_xr0() == 1, "ip link shows a program on xr0");
	is_int(tp_http_get(relay.health_port, "/readyz", body, sizeof(body)),
	    200, "/readyz: ready with --xdp");

	/* IPv4 */
	if (!ok(client_far(&c4, ADDR_V4, &pfd4, &p4) == 0,
	    "v4 client allocated and bound a channel from the far side"))
		goto out;
	is_int(metric(M_CHANS), 1, "one channel in the XDP maps");
	t_both_ways(&c4, pfd4, "v4");

	/* userspace keeps the rest */
	v = metric(M_STUN);
	is_int(tu_binding(&c4), 0, "STUN Binding answered through XDP_PASS");
	ok(metric(M_STUN) > v, "counted as passed (stun)");
	v = metric(M_NOCH);
	want = metric(M_DROP) + 1;
	memset(buf, 1, sizeof(buf));
	ok(tu_cdata_send(&c4, CHAN + 1, buf, sizeof(buf)) == 0,
	    "ChannelData on an unbound channel sent");
	is_int(metric_at_least(M_DROP, want), want, "userspace dropped it");
	is_int(metric(M_NOCH) - v, 1, "XDP passed it (no_channel)");
	v = metric(M_NOPEER);
	if (far() == 0) {
		ip(&other, ADDR_V4, 3, 0);
		ofd = tu_udp_bind_addr(&other);
		(void)near();
	} else
		ofd = -1;
	ok(ofd >= 0 && tu_sendto(ofd, &c4.relayed[0], buf, 10) == 0,
	    "a peer without a channel sent to the relayed address");
	is_int(metric_at_least(M_NOPEER, v + 1) - v, 1, "XDP passed it "
	    "(no_peer)");
	ok(tu_cdata_recv(&c4, NULL, buf, sizeof(buf), 300) < 0,
	    "and the client got nothing (no permission for it)");
	if (ofd >= 0)
		close(ofd);

	/* no BPF descriptor in any worker */
	nw = tu_workers(&relay, w, 8);
	bad = 0;
	for (i = 0; i < nw; i++)
		bad += bpf_fds(w[i]) != 0;
	ok(nw >= 1 && bad == 0, "no worker holds a BPF descriptor (%zu "
	    "checked)", nw);
	ok(bpf_fds(relay.pid) > 0, "the supervisor does");

	/* IPv6 */
	if (ok(client_far(&c6, ADDR_V6, &pfd6, &p6) == 0,
	    "v6 client allocated and bound a channel from the far side")) {
		is_int(metric(M_CHANS), 2, "two channels in the XDP maps");
		t_both_ways(&c6, pfd6, "v6");
		is_int(tu_refresh(&c6, 0), 0, "v6 REFRESH 0");
		is_int(metric(M_CHANS), 1, "its channel left the maps with "
		    "the answer");
	}

	/* hairpin: channels between two allocations of this relay stay in
	 * userspace (XDP_TX cannot deliver locally) and still work */
	t_hairpin(&c4);

	/* REFRESH 0 */
	is_int(tu_refresh(&c4, 0), 0, "v4 REFRESH 0");
	t_gone(&c4, pfd4, "after REFRESH 0");

	/* a worker killed mid-stream */
	if (ok(client_far(&ck, ADDR_V4, &pfdk, &pk) == 0,
	    "another client with a channel")) {
		for (i = 0, bad = 0; i < 10; i++)
			bad += one_c2p(&ck, pfdk, 100, 0, (int)i) != 0;
		is_int(bad, 0, "its stream goes through");
		nw = tu_workers(&relay, w, 8);
		is_int((long long)nw, 1, "one worker");
		want = metric(M_CRASH) + 1;
		ok(nw == 1 && tu_kill(w[0], SIGKILL) == 0, "worker killed");
		is_int(metric_at_least(M_CRASH, want), want, "the relay saw "
		    "it die");
		t_gone(&ck, pfdk, "after the worker died");
	}

	/* SIGTERM: drain with the fast path on, then detached */
	if (ok(client_far(&cd, ADDR_V4, &pfdd, &pd) == 0,
	    "a client with a channel before SIGTERM")) {
		ok(tu_kill(relay.pid, SIGTERM) == 0, "SIGTERM");
		ok(tu_log_wait(&relay, 0, "draining", WAIT_MS),
		    "the relay is draining");
		v = metric(M_XC2P);
		ok(one_c2p(&cd, pfdd, 200, 0, 1) == 0 &&
		    one_p2c(&cd, pfdd, 200, 1) == 0, "still relayed while "
		    "draining");
		is_int(metric(M_XC2P) - v, 1, "by XDP");
		ok(tu_wait_for(relay_gone, NULL, 15000), "the relay exited "
		    "after the drain deadline");
		ok(WIFEXITED(relay.status) && WEXITSTATUS(relay.status) == 0,
		    "with status 0");
		is_int(xdp_on_xr0(), 0, "no program left on xr0");
	}
	tu_relay_stop(&relay);
	t_generic(&o);
	tu_relay_stop(&relay);
	t_maxbps(&o);
out:
	tu_relay_stop(&relay);
	return done_testing();
}
