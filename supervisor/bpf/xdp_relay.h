/*
 * xdp_relay.h: the maps of the XDP fast path, shared by the BPF program
 * (xdp_relay.bpf.c) and the supervisor that fills them (sup_xdp.c).
 *
 * Addresses are 16 bytes as in struct taddr (IPv4 in the first four,
 * the rest zero) with family XR_V4 or XR_V6; ports and channel numbers
 * are in network byte order, as they appear in the packet. Keys are
 * zero-padded so that the hash sees no stray bytes.
 */
#ifndef XDP_RELAY_H
#define XDP_RELAY_H

#include <linux/types.h>

#define XR_V4		4		/* ADDR_V4 */
#define XR_V6		6		/* ADDR_V6 */
#define XR_MAX_CHANS	65536		/* entries per direction */
#define XR_CDATA_HDR	4
#define XR_MAX_PAD	3		/* ChannelData padding to 4 bytes */

/* the one entry of xr_cfg */
struct xr_cfg {
	__u16	listen_port;		/* network order; 0 = relay nothing */
	__u16	mtu;			/* largest IP packet sent (host order) */
	__u32	pad;
};

/* client -> peer: ChannelData from client ip:port on channel chan */
struct xr_c2p_key {
	__u8	ip[16];
	__u16	port;
	__u16	chan;
	__u8	family;
	__u8	pad[3];
};

struct xr_c2p_val {
	__u8	peer[16];
	__u16	peer_port;
	__u16	relay_port;
	__u32	pad;
};

/* peer -> client: UDP from peer ip:port to relay port */
struct xr_p2c_key {
	__u8	ip[16];
	__u16	port;
	__u16	relay_port;
	__u8	family;
	__u8	pad[3];
};

struct xr_p2c_val {
	__u8	client[16];
	__u16	client_port;
	__u16	chan;
	__u32	pad;
};

/* per-CPU counters, one array slot each */
enum xr_stat {
	XR_C2P_PACKETS,
	XR_C2P_BYTES,			/* payload bytes, as the engine counts */
	XR_P2C_PACKETS,
	XR_P2C_BYTES,
	XR_PASS_NOT_UDP,		/* not IPv4/IPv6 UDP */
	XR_PASS_FRAGMENT,
	XR_PASS_OPTIONS,		/* IPv4 options, IPv6 extension headers */
	XR_PASS_BAD_LENGTH,		/* lengths that do not add up */
	XR_PASS_STUN,			/* to the listen port, not ChannelData */
	XR_PASS_NO_CHANNEL,		/* ChannelData on no fast-path channel */
	XR_PASS_NO_PEER,		/* other UDP: no fast-path channel */
	XR_PASS_OVERSIZE,		/* would exceed the MTU */
	XR_PASS_CHECKSUM,		/* IPv6 UDP without a checksum, a bad
					 * IPv4 header checksum */
	XR_PASS_ERROR,			/* a helper failed */
	XR_NSTATS
};

#endif
