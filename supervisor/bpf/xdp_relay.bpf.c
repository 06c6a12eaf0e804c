/*
 * xdp_relay.bpf.c: the XDP fast path for bound channels (BPF target;
 * built by make with clang and embedded in bin/turncell).
 *
 * client -> peer: a UDP datagram to the listen port that is ChannelData
 *   (RFC 8656 §12.4) on a channel in xr_c2p for its source ip:port: the
 *   4-byte header and any padding (at most 3 bytes; over UDP it is
 *   optional, the length field is what counts) are cut off, the packet
 *   is readdressed to the peer from the relay port, checksums fixed, and
 *   it leaves on the link it came from with XDP_TX.
 * peer -> client: a UDP datagram to a relay port from a peer in xr_p2c:
 *   the ChannelData header is put in front (no padding), readdressed to
 *   the client from the listen port, checksums fixed, XDP_TX.
 *
 * Both directions keep the family: the maps hold same-family channels
 * only. The source address of what leaves is the destination address of
 * what came in (a relay host with one address per family answers from
 * it). The host is not a router, so no route lookup: the Ethernet
 * addresses are swapped and the frame goes back to the neighbour that
 * sent it.
 *
 * Everything else is passed untouched to the kernel and so to the
 * supervisor and the workers: STUN, ChannelData on an unknown channel or
 * with lengths that do not add up (the engine then decides), fragments,
 * IPv4 options, IPv6 extension headers, anything over the MTU, an IPv4
 * header with a bad checksum. Every
 * decision is counted in xr_stats (per CPU).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp_relay.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xr_cfg);
} xr_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XR_MAX_CHANS);
	__type(key, struct xr_c2p_key);
	__type(value, struct xr_c2p_val);
} xr_c2p SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XR_MAX_CHANS);
	__type(key, struct xr_p2c_key);
	__type(value, struct xr_p2c_val);
} xr_p2c SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XR_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} xr_stats SEC(".maps");

#define TTL		64	/* what a socket of the host would send */
#define ETH_LEN		14
#define UDP_LEN		8

/* what is kept of a packet's headers while they are rewritten */
struct xr_pkt {
	__u8	dmac[ETH_ALEN], smac[ETH_ALEN];
	__u8	family;
	__u8	tos;			/* IPv4 */
	__u16	id, frag;		/* IPv4, network order */
	__u32	vtcfl;			/* IPv6 version, class, flow label */
	__u32	l3;			/* 20 or 40 */
	__u8	saddr[16], daddr[16];
	__u16	sport, dport;		/* network order */
	__u32	ulen;			/* UDP length */
	__u16	csum;			/* UDP checksum as received */
};

static __always_inline void
count(__u32 i, __u64 v)
{
	__u64	*p = bpf_map_lookup_elem(&xr_stats, &i);

	if (p != NULL)
		*p += v;
}

static __always_inline int
pass(__u32 why)
{
	count(why, 1);
	return XDP_PASS;
}

/*
 * Ones'-complement sums (RFC 1624): the UDP checksum is updated, not
 * recomputed, for what changes: ~HC' = ~HC + ~m + m'. Words are taken
 * as they lie in memory, which makes the sum independent of byte order.
 */
static __always_inline __u32
csum_word(__u32 s, __u16 w, int sub)
{
	return s + (sub ? (__u16)~w : w);
}

static __always_inline __u32
csum_addr(__u32 s, const __u8 *a, __u8 family, int sub)
{
	__u16	w;
	int	i;

#pragma unroll
	for (i = 0; i < 16; i += 2) {
		if (family == XR_V4 && i >= 4)
			break;
		__builtin_memcpy(&w, a + i, 2);
		s = csum_word(s, w, sub);
	}
	return s;
}

static __always_inline __u16
csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* the finished UDP checksum; 0 is sent as 0xffff (0 means none) */
static __always_inline __u16
csum_done(__u32 s)
{
	__u16	c = (__u16)~csum_fold(s);

	return c == 0 ? 0xffff : c;
}

/*
 * Write Ethernet (addresses swapped), IP and UDP headers at the start of
 * the frame for a UDP datagram of ulen bytes; the caller has made the
 * frame exactly that long. 0, or -1 if the frame is too short (cannot
 * happen after the adjustments, but the verifier wants the check).
 */
static __always_inline int
put_headers(struct xdp_md *ctx, const struct xr_pkt *k, const __u8 *src,
    const __u8 *dst, __u16 sport, __u16 dport, __u32 ulen, __u16 csum)
{
	__u8		*data = (void *)(long)ctx->data;
	__u8		*end = (void *)(long)ctx->data_end;
	struct ethhdr	*eth = (void *)data;
	struct udphdr	*uh;
	__u32		 s = 0;
	__u16		*w;
	int		 i;

	if (data + ETH_LEN + sizeof(struct ipv6hdr) + UDP_LEN > end &&
	    k->family == XR_V6)
		return -1;
	if (data + ETH_LEN + sizeof(struct iphdr) + UDP_LEN > end)
		return -1;
	__builtin_memcpy(eth->h_dest, k->smac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, k->dmac, ETH_ALEN);
	if (k->family == XR_V4) {
		struct iphdr	*ip = (void *)(data + ETH_LEN);

		eth->h_proto = bpf_htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = k->tos;
		ip->tot_len = bpf_htons((__u16)(sizeof(*ip) + ulen));
		ip->id = k->id;
		ip->frag_off = k->frag;
		ip->ttl = TTL;
		ip->protocol = IPPROTO_UDP;
		ip->check = 0;
		__builtin_memcpy(&ip->saddr, src, 4);
		__builtin_memcpy(&ip->daddr, dst, 4);
		w = (__u16 *)ip;
#pragma unroll
		for (i = 0; i < 10; i++)
			s += w[i];
		ip->check = (__u16)~csum_fold(s);
		uh = (void *)(ip + 1);
	} else {
		struct ipv6hdr	*ip6 = (void *)(data + ETH_LEN);

		if ((__u8 *)(ip6 + 1) + UDP_LEN > end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		__builtin_memcpy(ip6, &k->vtcfl, 4);
		ip6->payload_len = bpf_htons((__u16)ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = TTL;
		__builtin_memcpy(&ip6->saddr, src, 16);
		__builtin_memcpy(&ip6->daddr, dst, 16);
		uh = (void *)(ip6 + 1);
	}
	uh->source = sport;
	uh->dest = dport;
	uh->len = bpf_htons((__u16)ulen);
	uh->check = csum;
	return 0;
}

/* the old addresses, ports and lengths out of a checksum sum */
static __always_inline __u32
csum_old(const struct xr_pkt *k)
{
	__u32	s = (__u16)~k->csum;
	__u16	ulen = bpf_htons((__u16)k->ulen);

	s = csum_addr(s, k->saddr, k->family, 1);
	s = csum_addr(s, k->daddr, k->family, 1);
	s = csum_word(s, ulen, 1);	/* pseudo-header */
	s = csum_word(s, ulen, 1);	/* UDP header */
	s = csum_word(s, k->sport, 1);
	return csum_word(s, k->dport, 1);
}

/* the new ones in */
static __always_inline __u32
csum_new(__u32 s, const struct xr_pkt *k, const __u8 *dst, __u16 sport,
    __u16 dport, __u32 ulen)
{
	__u16	l = bpf_htons((__u16)ulen);

	s = csum_addr(s, k->daddr, k->family, 0);	/* the new source */
	s = csum_addr(s, dst, k->family, 0);
	s = csum_word(s, l, 0);
	s = csum_word(s, l, 0);
	s = csum_word(s, sport, 0);
	return csum_word(s, dport, 0);
}

/* cut the frame to end at offset len (an Ethernet trailer, padding) */
static __always_inline int
trim_to(struct xdp_md *ctx, __u32 len)
{
	__u32	have = ctx->data_end - ctx->data;

	if (have < len)
		return -1;
	if (have > len && bpf_xdp_adjust_tail(ctx, -(int)(have - len)) != 0)
		return -1;
	return 0;
}

static __always_inline int
client_to_peer(struct xdp_md *ctx, const struct xr_pkt *k)
{
	struct xr_c2p_key	 key;
	struct xr_c2p_val	*v;
	__u8			*data = (void *)(long)ctx->data;
	__u8			*end = (void *)(long)ctx->data_end;
	__u8			*cd = data + ETH_LEN + k->l3 + UDP_LEN, b;
	__u32			 upl = k->ulen - UDP_LEN, clen, npad, i, s, off;
	__u32			 ulen;
	__u16			 chan, lw, w;

	if ((__u8 *)(cd + XR_CDATA_HDR) > end || upl < XR_CDATA_HDR)
		return pass(XR_PASS_STUN);
	if ((cd[0] & 0xc0) != 0x40)
		return pass(XR_PASS_STUN);
	__builtin_memcpy(&chan, cd, 2);
	__builtin_memcpy(&lw, cd + 2, 2);
	clen = bpf_ntohs(lw);
	if (clen + XR_CDATA_HDR > upl ||
	    upl - XR_CDATA_HDR - clen > XR_MAX_PAD)
		return pass(XR_PASS_BAD_LENGTH);
	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memcpy(key.ip, k->saddr, 16);
	key.port = k->sport;
	key.chan = chan;
	key.family = k->family;
	if ((v = bpf_map_lookup_elem(&xr_c2p, &key)) == NULL)
		return pass(XR_PASS_NO_CHANNEL);
	npad = upl - XR_CDATA_HDR - clen;
	ulen = UDP_LEN + clen;

	s = csum_old(k);
	s = csum_word(s, chan, 1);
	s = csum_word(s, lw, 1);
	/* padding: each byte is the high or low half of a word by the
	 * parity of its offset from the UDP header */
	for (i = 0; i < XR_MAX_PAD; i++) {
		if (i >= npad)
			break;
		off = ETH_LEN + k->l3 + UDP_LEN + XR_CDATA_HDR + clen + i;
		if (bpf_xdp_load_bytes(ctx, off, &b, 1) != 0)
			return pass(XR_PASS_ERROR);
		w = ((clen + i) & 1) ? bpf_htons(b) :
		    bpf_htons((__u16)(b << 8));
		s = csum_word(s, w, 1);
	}
	s = csum_new(s, k, v->peer, v->relay_port, v->peer_port, ulen);

	if (trim_to(ctx, ETH_LEN + k->l3 + k->ulen - npad) != 0 ||
	    bpf_xdp_adjust_head(ctx, XR_CDATA_HDR) != 0)
		return pass(XR_PASS_ERROR);
	if (put_headers(ctx, k, k->daddr, v->peer, v->relay_port,
	    v->peer_port, ulen, k->csum == 0 ? 0 : csum_done(s)) != 0)
		return XDP_DROP;	/* the headers are half moved */
	count(XR_C2P_PACKETS, 1);
	count(XR_C2P_BYTES, clen);
	return XDP_TX;
}

static __always_inline int
peer_to_client(struct xdp_md *ctx, const struct xr_pkt *k,
    const struct xr_cfg *cfg)
{
	struct xr_p2c_key	 key;
	struct xr_p2c_val	*v;
	__u32			 plen = k->ulen - UDP_LEN, ulen, s;
	__u16			 lw;
	__u8			*cd;
	__u8			*data, *end;

	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memcpy(key.ip, k->saddr, 16);
	key.port = k->sport;
	key.relay_port = k->dport;
	key.family = k->family;
	if ((v = bpf_map_lookup_elem(&xr_p2c, &key)) == NULL)
		return pass(XR_PASS_NO_PEER);
	if (k->l3 + k->ulen + XR_CDATA_HDR > cfg->mtu)
		return pass(XR_PASS_OVERSIZE);
	if (k->csum == 0 && k->family == XR_V6)
		return pass(XR_PASS_CHECKSUM);
	ulen = k->ulen + XR_CDATA_HDR;
	lw = bpf_htons((__u16)plen);

	s = csum_old(k);
	s = csum_new(s, k, v->client, cfg->listen_port, v->client_port,
	    ulen);
	s = csum_word(s, v->chan, 0);
	s = csum_word(s, lw, 0);

	if (trim_to(ctx, ETH_LEN + k->l3 + k->ulen) != 0 ||
	    bpf_xdp_adjust_head(ctx, -XR_CDATA_HDR) != 0)
		return pass(XR_PASS_ERROR);
	if (put_headers(ctx, k, k->daddr, v->client, cfg->listen_port,
	    v->client_port, ulen, k->csum == 0 ? 0 : csum_done(s)) != 0)
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	cd = data + ETH_LEN + k->l3 + UDP_LEN;
	if ((__u8 *)(cd + XR_CDATA_HDR) > end)
		return XDP_DROP;
	__builtin_memcpy(cd, &v->chan, 2);
	__builtin_memcpy(cd + 2, &lw, 2);
	count(XR_P2C_PACKETS, 1);
	count(XR_P2C_BYTES, plen);
	return XDP_TX;
}

/* IPv4 header: 0 and k filled, or a pass reason */
static __always_inline int
parse_v4(__u8 *l3, __u8 *end, struct xr_pkt *k)
{
	struct iphdr	*ip = (void *)l3;
	const __u16	*w;
	__u32		 tot, s = 0;
	int		 i;

	if ((__u8 *)(ip + 1) > end)
		return XR_PASS_BAD_LENGTH;
	if (ip->version != 4 || ip->ihl < 5)
		return XR_PASS_BAD_LENGTH;
	if (ip->ihl != 5)
		return XR_PASS_OPTIONS;
	if (ip->frag_off & bpf_htons(0x3fff))	/* MF or an offset */
		return XR_PASS_FRAGMENT;
	if (ip->protocol != IPPROTO_UDP)
		return XR_PASS_NOT_UDP;
	/* the header is written anew on the way out: a damaged one must not
	 * come out with a good checksum */
	w = (const __u16 *)ip;
#pragma unroll
	for (i = 0; i < 10; i++)
		s += w[i];
	if (csum_fold(s) != 0xffff)
		return XR_PASS_CHECKSUM;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < sizeof(*ip) + UDP_LEN || l3 + tot > end)
		return XR_PASS_BAD_LENGTH;
	k->family = XR_V4;
	k->l3 = sizeof(*ip);
	k->tos = ip->tos;
	k->id = ip->id;
	k->frag = ip->frag_off;
	__builtin_memset(k->saddr, 0, 16);
	__builtin_memset(k->daddr, 0, 16);
	__builtin_memcpy(k->saddr, &ip->saddr, 4);
	__builtin_memcpy(k->daddr, &ip->daddr, 4);
	k->ulen = tot - sizeof(*ip);
	return 0;
}

static __always_inline int
parse_v6(__u8 *l3, __u8 *end, struct xr_pkt *k)
{
	struct ipv6hdr	*ip6 = (void *)l3;
	__u32		 plen;

	if ((__u8 *)(ip6 + 1) > end || ip6->version != 6)
		return XR_PASS_BAD_LENGTH;
	switch (ip6->nexthdr) {
	case IPPROTO_UDP:
		break;
	case IPPROTO_FRAGMENT:
		return XR_PASS_FRAGMENT;
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_ESP:
	case 135:	/* mobility */
	case 139:	/* HIP */
	case 140:	/* shim6 */
		return XR_PASS_OPTIONS;
	default:
		return XR_PASS_NOT_UDP;
	}
	plen = bpf_ntohs(ip6->payload_len);
	if (plen < UDP_LEN || (__u8 *)(ip6 + 1) + plen > end)
		return XR_PASS_BAD_LENGTH;
	k->family = XR_V6;
	k->l3 = sizeof(*ip6);
	__builtin_memcpy(&k->vtcfl, ip6, 4);
	__builtin_memcpy(k->saddr, &ip6->saddr, 16);
	__builtin_memcpy(k->daddr, &ip6->daddr, 16);
	k->ulen = plen;
	return 0;
}

int	xdp_relay(struct xdp_md *);

SEC("xdp")
int
xdp_relay(struct xdp_md *ctx)
{
	__u8		*data = (void *)(long)ctx->data;
	__u8		*end = (void *)(long)ctx->data_end;
	struct ethhdr	*eth = (void *)data;
	struct udphdr	*uh;
	struct xr_cfg	*cfg;
	struct xr_pkt	 k;
	__u32		 zero = 0;
	int		 why;

	if ((__u8 *)(eth + 1) > end)
		return pass(XR_PASS_NOT_UDP);
	__builtin_memset(&k, 0, sizeof(k));
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		why = parse_v4((__u8 *)(eth + 1), end, &k);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		why = parse_v6((__u8 *)(eth + 1), end, &k);
	else
		why = XR_PASS_NOT_UDP;
	if (why != 0)
		return pass(why);
	/* k.l3 is 20 or 40: say so to the verifier */
	if (k.l3 != sizeof(struct iphdr) && k.l3 != sizeof(struct ipv6hdr))
		return pass(XR_PASS_ERROR);
	uh = (void *)(data + ETH_LEN + k.l3);
	if ((__u8 *)(uh + 1) > end)
		return pass(XR_PASS_BAD_LENGTH);
	if (bpf_ntohs(uh->len) != k.ulen)
		return pass(XR_PASS_BAD_LENGTH);
	__builtin_memcpy(k.dmac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(k.smac, eth->h_source, ETH_ALEN);
	k.sport = uh->source;
	k.dport = uh->dest;
	k.csum = uh->check;
	if ((cfg = bpf_map_lookup_elem(&xr_cfg, &zero)) == NULL ||
	    cfg->listen_port == 0)
		return pass(XR_PASS_NO_PEER);
	if (k.dport == cfg->listen_port)
		return client_to_peer(ctx, &k);
	return peer_to_client(ctx, &k, cfg);
}

/* the project's licence; no GPL-only helper is used */
char _license[] SEC("license") = "ISC";
