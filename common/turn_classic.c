/*
 * turn_classic.c: Binding requests of RFC 3489 clients, which carry no
 * magic cookie (their transaction id is the 16 bytes after the length).
 * As RFC 8489 §12 allows and coturn does, they get a Binding success
 * response with the request's 16 bytes echoed and a plain MAPPED-ADDRESS
 * instead of XOR-MAPPED-ADDRESS; nothing else of RFC 3489 is served.
 *
 * They are charged to the same per-source and global budget as Binding
 * requests. RESPONSE-ADDRESS (send the answer elsewhere: a reflection
 * tool) and CHANGE-REQUEST asking for another address or port (this relay
 * has one of each) get no answer. The answer is 32 bytes for IPv4 and 44
 * for IPv6, from a request of at least 20.
 */
#include <string.h>

#include "buf.h"
#include "turn_int.h"

#define CL_BINDING_REQ		0x0001
#define CL_BINDING_OK		0x0101
#define CL_RESPONSE_ADDRESS	0x0002
#define CL_CHANGE_REQUEST	0x0003
#define CL_CHANGE_IP_PORT	0x00000006	/* change IP (4), port (2) */
#define CL_MAX_ATTRS		32
#define CL_RESP_MAX		(STUN_HDR_LEN + 4 + 20)

/* 1 if the attributes frame the body exactly and ask nothing we refuse */
static int
turn_classic_attrs_ok(const uint8_t *p, size_t len)
{
	struct buf_r	r;
	uint16_t	type, alen;
	uint32_t	flags;
	int		n = 0;

	buf_r_init(&r, p + STUN_HDR_LEN, len - STUN_HDR_LEN);
	while (buf_r_left(&r) > 0) {
		if (++n > CL_MAX_ATTRS || buf_get_u16(&r, &type) == -1 ||
		    buf_get_u16(&r, &alen) == -1 || (alen & 3) != 0 ||
		    buf_r_left(&r) < alen)
			return 0;
		if (type == CL_RESPONSE_ADDRESS)
			return 0;
		if (type == CL_CHANGE_REQUEST) {
			if (alen != 4 || buf_get_u32(&r, &flags) == -1 ||
			    (flags & CL_CHANGE_IP_PORT) != 0)
				return 0;
			continue;
		}
		if (buf_skip(&r, alen) == -1)
			return 0;
	}
	return 1;
}

int
turn_classic_in(struct turn *t, const uint8_t *p, size_t len,
    const struct taddr *from, uint64_t now_ms)
{
	struct turn_qent	*e;
	struct buf_w		 w;
	uint8_t			*out;
	size_t			 off, iplen;

	if (len < STUN_HDR_LEN || buf_load16(p) != CL_BINDING_REQ ||
	    buf_load32(p + 4) == STUN_MAGIC ||
	    (size_t)buf_load16(p + 2) != len - STUN_HDR_LEN ||
	    !turn_classic_attrs_ok(p, len))
		return 0;
	if (turn_rate_check(t, TURN_RC_BINDING, from, now_ms, 1) != 0) {
		t->st.capped_binding++;
		t->st.dropped++;
		return 1;
	}
	if ((out = turn_arena_reserve(t, CL_RESP_MAX, &off)) == NULL) {
		t->st.dropped++;
		return 1;
	}
	iplen = from->family == ADDR_V6 ? 16 : 4;
	buf_w_init(&w, out, CL_RESP_MAX);
	buf_put_u16(&w, CL_BINDING_OK);
	buf_put_u16(&w, (uint16_t)(4 + 4 + iplen));
	buf_put_bytes(&w, p + 4, 16);		/* RFC 3489 transaction id */
	buf_put_u16(&w, STUN_A_MAPPED_ADDRESS);
	buf_put_u16(&w, (uint16_t)(4 + iplen));
	buf_put_u8(&w, 0);
	buf_put_u8(&w, from->family == ADDR_V6 ? STUN_AF_IPV6 : STUN_AF_IPV4);
	buf_put_u16(&w, from->port);
	buf_put_bytes(&w, from->ip, iplen);
	turn_arena_trim(t, off, w.err != 0 ? 0 : w.len);
	if (w.err != 0 || (e = turn_q_push(t, TURN_CMD_SEND)) == NULL) {
		turn_arena_trim(t, off, 0);
		t->st.dropped++;
		return 1;
	}
	e->c.addr = *from;
	e->c.len = w.len;
	e->own = 1;
	e->off = off;
	if (t->hook != NULL)
		t->hook(t->hook_arg, STUN_BINDING, STUN_SUCCESS, 0);
	return 1;
}
