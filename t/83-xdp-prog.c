/*
 * 83-xdp-prog.c: the XDP fast path program (supervisor/bpf/xdp_relay.bpf.c)
 * run by the kernel on hand-built frames (BPF_PROG_TEST_RUN).
 *
 * Both directions, IPv4 and IPv6: the frame that comes out is compared
 * byte for byte with one built here from scratch (addresses, ports,
 * lengths, TTL 64, checksums computed in full by this file), and its
 * checksums are verified once more by summing the output. ChannelData
 * padding (0 to 3 bytes, odd payload lengths) and an Ethernet trailer are
 * cut off. Every pass reason is hit by a frame of its own: the program
 * returns XDP_PASS, the frame is unchanged, and exactly that reason's
 * per-CPU counter moved by one. A channel deleted from the map is passed
 * on the next frame. Root only; skipped with the reason when the object
 * cannot be loaded (no privileges, no BPF).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tap.h"
#include "../supervisor/bpf/xdp_relay.h"

#define OBJ_PATH	"build/bpf/xdp_relay.bpf.o"
#define LISTEN_PORT	3478
#define RELAY_PORT	50000
#define CLIENT_PORT	40000
#define PEER_PORT	45000
#define CHAN		0x4001
#define MTU		1500

struct frame {
	uint8_t	 b[2048];
	size_t	 len;
};

/* what build() writes */
struct hdrs {
	int		 family;
	const uint8_t	*smac, *dmac;
	const uint8_t	*src, *dst;	/* 4 or 16 bytes */
	uint16_t	 sport, dport;
	uint8_t		 ttl;
	int		 no_csum;	/* UDP checksum 0 (IPv4 only) */
};

static const uint8_t mac_relay[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static uint8_t relay4[4] = { 192, 0, 2, 1 };
static uint8_t client4[4] = { 198, 51, 100, 7 };
static uint8_t peer4[4] = { 203, 0, 113, 9 };
static uint8_t relay6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static uint8_t client6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7 };
static uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 9 };

static int	prog_fd, cfg_fd, c2p_fd, p2c_fd, stats_fd;

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t	i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* the UDP checksum of segment u (ulen bytes, checksum field included) */
static uint32_t
udp_sum(int family, const uint8_t *src, const uint8_t *dst,
    const uint8_t *u, size_t ulen)
{
	size_t		alen = family == 4 ? 4 : 16;
	uint32_t	s = 0;

	s = sum16(src, alen, s);
	s = sum16(dst, alen, s);
	s += 17;
	s += (uint32_t)ulen;
	return sum16(u, ulen, s);
}

/* a whole frame: Ethernet, IPv4 (DF, id 0x1234, tos 0x10) or IPv6 (flow
 * label 0x12345), UDP with its checksum computed here, payload */
static void
build(struct frame *f, const struct hdrs *h, const uint8_t *pl, size_t plen)
{
	size_t		 l3 = h->family == 4 ? 20 : 40, alen;
	uint8_t		*ip = f->b + 14, *u = ip + l3;
	uint16_t	 c;

	memset(f, 0, sizeof(*f));
	alen = h->family == 4 ? 4 : 16;
	memcpy(f->b, h->dmac, 6);
	memcpy(f->b + 6, h->smac, 6);
	if (h->family == 4) {
		put16(f->b + 12, 0x0800);
		ip[0] = 0x45;
		ip[1] = 0x10;
		put16(ip + 2, (uint16_t)(20 + 8 + plen));
		put16(ip + 4, 0x1234);
		put16(ip + 6, 0x4000);
		ip[8] = h->ttl;
		ip[9] = 17;
		memcpy(ip + 12, h->src, 4);
		memcpy(ip + 16, h->dst, 4);
		put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	} else {
		put16(f->b + 12, 0x86dd);
		ip[0] = 0x60;
		ip[1] = 0x01;
		ip[2] = 0x23;
		ip[3] = 0x45;
		put16(ip + 4, (uint16_t)(8 + plen));
		ip[6] = 17;
		ip[7] = h->ttl;
		memcpy(ip + 8, h->src, 16);
		memcpy(ip + 24, h->dst, 16);
	}
	put16(u, h->sport);
	put16(u + 2, h->dport);
	put16(u + 4, (uint16_t)(8 + plen));
	memcpy(u + 8, pl, plen);
	if (!h->no_csum) {
		c = (uint16_t)~fold(udp_sum(h->family, h->src, h->dst, u,
		    8 + plen));
		put16(u + 6, c == 0 ? 0xffff : c);
	}
	(void)alen;
	f->len = 14 + l3 + 8 + plen;
}

/* the checksums of an IPv4/IPv6 UDP frame hold (summing gives 0xffff) */
static int
csums_ok(const struct frame *f)
{
	const uint8_t	*ip = f->b + 14, *u;
	size_t		 ulen;

	if (f->len < 14 + 20 + 8)
		return 0;
	if (f->b[12] == 0x08) {
		u = ip + 20;
		ulen = (size_t)(u[4] << 8 | u[5]);
		if (fold(sum16(ip, 20, 0)) != 0xffff || 14 + 20 + ulen != f->len)
			return 0;
		if (u[6] == 0 && u[7] == 0)
			return 1;	/* none, allowed in IPv4 */
		return fold(udp_sum(4, ip + 12, ip + 16, u, ulen)) == 0xffff;
	}
	u = ip + 40;
	ulen = (size_t)(u[4] << 8 | u[5]);
	if (14 + 40 + ulen != f->len)
		return 0;
	return fold(udp_sum(6, ip + 8, ip + 24, u, ulen)) == 0xffff;
}

static uint64_t
stat(int i)
{
	int		 n = libbpf_num_possible_cpus(), c;
	uint64_t	*v, sum = 0;
	uint32_t	 key = (uint32_t)i;

	if (n <= 0 || (v = calloc((size_t)n, sizeof(*v))) == NULL)
		return 0;
	if (bpf_map_lookup_elem(stats_fd, &key, v) == 0)
		for (c = 0; c < n; c++)
			sum += v[c];
	free(v);
	return sum;
}

/* run the program on in; the verdict, out filled */
static int
run(const struct frame *in, struct frame *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
	    .data_in = in->b,
	    .data_size_in = (__u32)in->len,
	    .data_out = out->b,
	    .data_size_out = sizeof(out->b),
	    .repeat = 1);
	int	err;

	memset(out, 0, sizeof(*out));
	if ((err = bpf_prog_test_run_opts(prog_fd, &o)) != 0) {
		diag("test run: %s", strerror(-err));
		return -1;
	}
	out->len = o.data_size_out;
	return (int)o.retval;
}

static void
set_cfg(uint16_t mtu)
{
	struct xr_cfg	c = { .listen_port = htons(LISTEN_PORT), .mtu = mtu };
	uint32_t	zero = 0;

	if (bpf_map_update_elem(cfg_fd, &zero, &c, BPF_ANY) != 0)
		diag("cfg: %s", strerror(errno));
}

/* the channel CHAN between client:CLIENT_PORT and peer:PEER_PORT */
static int
bind_chan(int family, const uint8_t *client, const uint8_t *peer)
{
	struct xr_c2p_key	ck;
	struct xr_c2p_val	cv;
	struct xr_p2c_key	pk;
	struct xr_p2c_val	pv;
	size_t			alen = family == 4 ? 4 : 16;

	memset(&ck, 0, sizeof(ck));
	memset(&cv, 0, sizeof(cv));
	memset(&pk, 0, sizeof(pk));
	memset(&pv, 0, sizeof(pv));
	memcpy(ck.ip, client, alen);
	ck.port = htons(CLIENT_PORT);
	ck.chan = htons(CHAN);
	ck.family = (uint8_t)family;
	memcpy(cv.peer, peer, alen);
	cv.peer_port = htons(PEER_PORT);
	cv.relay_port = htons(RELAY_PORT);
	memcpy(pk.ip, peer, alen);
	pk.port = htons(PEER_PORT);
	pk.relay_port = htons(RELAY_PORT);
	pk.family = (uint8_t)family;
	memcpy(pv.client, client, alen);
	pv.client_port = htons(CLIENT_PORT);
	pv.chan = htons(CHAN);
	if (bpf_map_update_elem(c2p_fd, &ck, &cv, BPF_ANY) != 0 ||
	    bpf_map_update_elem(p2c_fd, &pk, &pv, BPF_ANY) != 0)
		return -1;
	return 0;
}

static void
unbind_chan(int family, const uint8_t *client)
{
	struct xr_c2p_key	ck;

	memset(&ck, 0, sizeof(ck));
	memcpy(ck.ip, client, family == 4 ? 4 : 16);
	ck.port = htons(CLIENT_PORT);
	ck.chan = htons(CHAN);
	ck.family = (uint8_t)family;
	(void)bpf_map_delete_elem(c2p_fd, &ck);
}

/* ChannelData: header, payload of plen bytes, npad padding bytes */
static size_t
cdata(uint8_t *out, uint16_t chan, const uint8_t *pl, size_t plen,
    size_t npad)
{
	put16(out, chan);
	put16(out + 2, (uint16_t)plen);
	memcpy(out + 4, pl, plen);
	memset(out + 4 + plen, 0xa5, npad);	/* non-zero: must not count */
	return 4 + plen + npad;
}

static const uint8_t *
relay_ip(int f)
{
	return f == 4 ? relay4 : relay6;
}

static const uint8_t *
client_ip(int f)
{
	return f == 4 ? client4 : client6;
}

static const uint8_t *
peer_ip(int f)
{
	return f == 4 ? peer4 : peer6;
}

/*
 * One datagram through the fast path: plen payload bytes, from the client
 * as ChannelData with npad padding bytes (c2p) or from the peer (p2c),
 * with trailer bytes of Ethernet trailer. The output must be the datagram
 * built here for the other side, and the direction's counters must move
 * by one packet and plen bytes.
 */
static void
t_relay(int c2p, int f, size_t plen, size_t npad, size_t trailer,
    int no_csum)
{
	struct frame	in, out, want;
	uint8_t		pl[1400], cd[1500];
	size_t		i, n;
	int		sp = c2p ? XR_C2P_PACKETS : XR_P2C_PACKETS;
	int		sb = c2p ? XR_C2P_BYTES : XR_P2C_BYTES;
	uint64_t	p0 = stat(sp), b0 = stat(sb);
	const char	*d = c2p ? "c2p" : "p2c";
	struct hdrs	cl = { f, mac_gw, mac_relay, client_ip(f), relay_ip(f),
			    CLIENT_PORT, LISTEN_PORT, 57, no_csum };
	struct hdrs	pe = { f, mac_relay, mac_gw, relay_ip(f), peer_ip(f),
			    RELAY_PORT, PEER_PORT, 64, no_csum };

	for (i = 0; i < plen; i++)
		pl[i] = (uint8_t)(i * 7 + plen);
	n = cdata(cd, CHAN, pl, plen, c2p ? npad : 0);
	if (!c2p) {
		/* the peer's datagram in, ChannelData to the client out */
		pe.smac = mac_gw, pe.dmac = mac_relay;
		pe.src = peer_ip(f), pe.dst = relay_ip(f);
		pe.sport = PEER_PORT, pe.dport = RELAY_PORT, pe.ttl = 50;
		cl.smac = mac_relay, cl.dmac = mac_gw;
		cl.src = relay_ip(f), cl.dst = client_ip(f);
		cl.sport = LISTEN_PORT, cl.dport = CLIENT_PORT, cl.ttl = 64;
		build(&in, &pe, pl, plen);
		build(&want, &cl, cd, n);
	} else {
		build(&in, &cl, cd, n);
		build(&want, &pe, pl, plen);
	}
	memset(in.b + in.len, 0, trailer);
	in.len += trailer;
	is_int(run(&in, &out), XDP_TX, "v%d %s %zu+%zu pad, %zu trailer%s: "
	    "XDP_TX", f, d, plen, npad, trailer, no_csum ? ", no csum" : "");
	is_mem(out.b, out.len, want.b, want.len, "v%d %s %zu+%zu: byte-exact",
	    f, d, plen, npad);
	ok(csums_ok(&out), "v%d %s %zu+%zu: checksums hold", f, d, plen, npad);
	ok(stat(sp) == p0 + 1 && stat(sb) == b0 + plen,
	    "v%d %s: counted 1 packet, %zu bytes", f, d, plen);
}

/* in must come back XDP_PASS, unchanged, with reason counted once and
 * no other counter moved */
static void
t_pass(const struct frame *in, int reason, const char *what)
{
	struct frame	out;
	uint64_t	before[XR_NSTATS];
	int		i, others = 0;

	for (i = 0; i < XR_NSTATS; i++)
		before[i] = stat(i);
	is_int(run(in, &out), XDP_PASS, "%s: XDP_PASS", what);
	is_mem(out.b, out.len, in->b, in->len, "%s: frame untouched", what);
	for (i = 0; i < XR_NSTATS; i++)
		if (i != reason && stat(i) != before[i])
			others++;
	ok(stat(reason) == before[reason] + 1 && others == 0,
	    "%s: counted as reason %d only", what, reason);
}

/* the IPv4 header checksum of a frame whose header was changed */
static void
ip4_fix(struct frame *f)
{
	uint8_t	*ip = f->b + 14;

	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
}

static void
t_passf(const struct frame *in, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
t_passf(const struct frame *in, int reason, const char *fmt, ...)
{
	char	what[96];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	t_pass(in, reason, what);
}

static void
t_passes(int f)
{
	struct frame	fr;
	uint8_t		pl[64], cd[128];
	size_t		n, l3 = f == 4 ? 20 : 40;
	struct hdrs	c = { f, mac_gw, mac_relay, client_ip(f), relay_ip(f),
			    CLIENT_PORT, LISTEN_PORT, 64, 0 };
	struct hdrs	p = { f, mac_gw, mac_relay, peer_ip(f), relay_ip(f),
			    PEER_PORT, RELAY_PORT, 64, 0 };

	memset(pl, 0x33, sizeof(pl));
	/* a Binding request header to the listen port */
	memset(cd, 0, 20);
	cd[1] = 0x01;
	cd[4] = 0x21, cd[5] = 0x12, cd[6] = 0xa4, cd[7] = 0x42;
	build(&fr, &c, cd, 20);
	t_passf(&fr, XR_PASS_STUN, "v%d STUN to the listen port", f);
	/* ChannelData on a channel not in the map */
	n = cdata(cd, CHAN + 1, pl, 20, 0);
	build(&fr, &c, cd, n);
	t_passf(&fr, XR_PASS_NO_CHANNEL, "v%d ChannelData, unknown channel", f);
	/* the right channel from another client port */
	c.sport = CLIENT_PORT + 1;
	n = cdata(cd, CHAN, pl, 20, 0);
	build(&fr, &c, cd, n);
	t_passf(&fr, XR_PASS_NO_CHANNEL, "v%d ChannelData, other client port", f);
	c.sport = CLIENT_PORT;
	/* length field past the datagram */
	n = cdata(cd, CHAN, pl, 20, 0);
	put16(cd + 2, 21);
	build(&fr, &c, cd, n);
	t_passf(&fr, XR_PASS_BAD_LENGTH, "v%d ChannelData longer than datagram", f);
	/* four bytes after the payload: not padding */
	n = cdata(cd, CHAN, pl, 20, 4);
	build(&fr, &c, cd, n);
	t_passf(&fr, XR_PASS_BAD_LENGTH, "v%d ChannelData with 4 bytes after", f);
	/* a datagram shorter than the ChannelData header */
	build(&fr, &c, cd, 3);
	t_passf(&fr, XR_PASS_STUN, "v%d 3-byte datagram to listen port", f);
	/* UDP length disagrees with the IP length */
	n = cdata(cd, CHAN, pl, 20, 0);
	build(&fr, &c, cd, n);
	put16(fr.b + 14 + l3 + 4, (uint16_t)(8 + n - 2));
	t_passf(&fr, XR_PASS_BAD_LENGTH, "v%d UDP length short of IP length", f);
	/* IP length past the frame */
	build(&fr, &c, cd, n);
	fr.len -= 2;
	t_passf(&fr, XR_PASS_BAD_LENGTH, "v%d IP length past the frame", f);
	/* from a peer with no channel, and from the peer's other port */
	p.src = f == 4 ? client4 : client6;
	build(&fr, &p, pl, 30);
	t_passf(&fr, XR_PASS_NO_PEER, "v%d UDP from a peer without channel", f);
	p.src = peer_ip(f);
	p.sport = PEER_PORT + 1;
	build(&fr, &p, pl, 30);
	t_passf(&fr, XR_PASS_NO_PEER, "v%d UDP from the peer's other port", f);
	p.sport = PEER_PORT;
	/* to another relay port */
	p.dport = RELAY_PORT + 1;
	build(&fr, &p, pl, 30);
	t_passf(&fr, XR_PASS_NO_PEER, "v%d UDP to another relay port", f);
	p.dport = RELAY_PORT;
	/* over the MTU once the header is added */
	set_cfg((uint16_t)(l3 + 8 + 30 + 3));
	build(&fr, &p, pl, 30);
	t_passf(&fr, XR_PASS_OVERSIZE, "v%d peer datagram over the MTU", f);
	set_cfg(MTU);
	/* fragments and options / extension headers */
	n = cdata(cd, CHAN, pl, 20, 0);
	build(&fr, &c, cd, n);
	if (f == 4) {
		fr.b[14 + 6] |= 0x20;		/* MF */
		ip4_fix(&fr);
		t_pass(&fr, XR_PASS_FRAGMENT, "v4 first fragment (MF)");
		build(&fr, &c, cd, n);
		fr.b[14 + 7] = 0x10;		/* an offset */
		ip4_fix(&fr);
		t_pass(&fr, XR_PASS_FRAGMENT, "v4 later fragment");
		build(&fr, &c, cd, n);
		fr.b[14] = 0x46;		/* one word of options */
		t_pass(&fr, XR_PASS_OPTIONS, "v4 with IP options");
		build(&fr, &c, cd, n);
		fr.b[14 + 9] = 6;		/* TCP */
		ip4_fix(&fr);
		t_pass(&fr, XR_PASS_NOT_UDP, "v4 TCP");
		build(&fr, &c, cd, n);
		fr.b[14 + 8] ^= 0x01;		/* TTL, checksum not fixed */
		t_pass(&fr, XR_PASS_CHECKSUM, "v4 header checksum wrong");
	} else {
		fr.b[14 + 6] = 44;
		t_pass(&fr, XR_PASS_FRAGMENT, "v6 fragment header");
		build(&fr, &c, cd, n);
		fr.b[14 + 6] = 0;
		t_pass(&fr, XR_PASS_OPTIONS, "v6 hop-by-hop header");
		build(&fr, &c, cd, n);
		fr.b[14 + 6] = 60;
		t_pass(&fr, XR_PASS_OPTIONS, "v6 destination options");
		build(&fr, &c, cd, n);
		fr.b[14 + 6] = 58;
		t_pass(&fr, XR_PASS_NOT_UDP, "v6 ICMPv6");
		/* a peer datagram without a checksum: not valid in IPv6 */
		p.no_csum = 1;
		build(&fr, &p, pl, 30);
		t_pass(&fr, XR_PASS_CHECKSUM, "v6 UDP without checksum");
		p.no_csum = 0;
	}
}

int
main(void)
{
	struct bpf_object	*obj;
	struct bpf_program	*prog;
	struct frame		 fr;
	uint8_t			 arp[42], cd[64], pl[32];
	size_t			 n;
	int			 err, f;

	if (geteuid() != 0)
		skip_all("needs root to load BPF");
	libbpf_set_print(NULL);
	if ((obj = bpf_object__open_file(OBJ_PATH, NULL)) == NULL)
		skip_all("cannot open %s: %s", OBJ_PATH, strerror(errno));
	if ((err = bpf_object__load(obj)) != 0)
		skip_all("BPF cannot be loaded here: %s", strerror(-err));
	prog = bpf_object__find_program_by_name(obj, "xdp_relay");
	prog_fd = prog != NULL ? bpf_program__fd(prog) : -1;
	cfg_fd = bpf_object__find_map_fd_by_name(obj, "xr_cfg");
	c2p_fd = bpf_object__find_map_fd_by_name(obj, "xr_c2p");
	p2c_fd = bpf_object__find_map_fd_by_name(obj, "xr_p2c");
	stats_fd = bpf_object__find_map_fd_by_name(obj, "xr_stats");
	if (!ok(prog_fd >= 0 && cfg_fd >= 0 && c2p_fd >= 0 && p2c_fd >= 0 &&
	    stats_fd >= 0, "program and maps found"))
		return done_testing();
	set_cfg(MTU);

	for (f = 4; f <= 6; f += 2) {
		ok(bind_chan(f, client_ip(f), peer_ip(f)) == 0,
		    "v%d channel in the maps", f);
		t_relay(1, f, 100, 0, 0, 0);
		t_relay(1, f, 1, 3, 0, 0);
		t_relay(1, f, 5, 3, 0, 0);
		t_relay(1, f, 6, 2, 0, 0);
		t_relay(1, f, 7, 1, 0, 0);
		t_relay(1, f, 0, 0, 0, 0);
		t_relay(1, f, 1400, 0, 0, 0);
		t_relay(1, f, 3, 1, 16, 0);		/* Ethernet trailer */
		t_relay(0, f, 100, 0, 0, 0);
		t_relay(0, f, 1, 0, 0, 0);
		t_relay(0, f, 0, 0, 0, 0);
		t_relay(0, f, 1400, 0, 0, 0);
		t_relay(0, f, 3, 0, 16, 0);
		if (f == 4) {
			t_relay(1, f, 33, 3, 0, 1);	/* no UDP checksum */
			t_relay(0, f, 33, 0, 0, 1);
		}
		t_passes(f);
		/* the channel unbound: the next frame is passed */
		unbind_chan(f, client_ip(f));
		for (n = 0; n < sizeof(pl); n++)
			pl[n] = (uint8_t)n;
		{
			struct hdrs h = { f, mac_gw, mac_relay, client_ip(f),
			    relay_ip(f), CLIENT_PORT, LISTEN_PORT, 64, 0 };

			n = cdata(cd, CHAN, pl, sizeof(pl), 0);
			build(&fr, &h, cd, n);
		}
		t_pass(&fr, XR_PASS_NO_CHANNEL, f == 4 ?
		    "v4 after unbind: passed" : "v6 after unbind: passed");
	}

	memset(arp, 0, sizeof(arp));
	memcpy(arp, mac_relay, 6);
	memcpy(arp + 6, mac_gw, 6);
	arp[12] = 0x08, arp[13] = 0x06;
	memcpy(fr.b, arp, sizeof(arp));
	fr.len = sizeof(arp);
	t_pass(&fr, XR_PASS_NOT_UDP, "ARP");
	/* IPv4 and IPv6 ethertypes with the IP header cut short */
	fr.b[12] = 0x08, fr.b[13] = 0x00;
	fr.len = 14 + 19;
	t_pass(&fr, XR_PASS_BAD_LENGTH, "IPv4 header cut short");
	fr.b[12] = 0x86, fr.b[13] = 0xdd;
	fr.len = 14 + 39;
	t_pass(&fr, XR_PASS_BAD_LENGTH, "IPv6 header cut short");

	bpf_object__close(obj);
	return done_testing();
}
