/*
 * stun.c: STUN/TURN codec (RFC 8489, RFC 8656), UDP only.
 *
 * The decoder walks the attributes of one datagram with explicit bounds
 * checks, never allocates and never casts into the datagram: every
 * multi-byte field is assembled from bytes. It always walks the whole
 * message, so that a framing problem anywhere (overrun, bad FINGERPRINT)
 * turns the verdict into a silent drop even when an earlier attribute
 * already earned a 400.
 *
 * The encoder writes through a bounded buf_w only, zero-padding every
 * attribute, so responses never carry stale memory (CVE-2020-4067).
 */
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/memops.h>
#include <zlib.h>

#include "stun.h"

#define STUN_ATTR_HDR		4
#define STUN_FAM_V4		0x01	/* address family byte in XOR-*-ADDRESS */
#define STUN_FAM_V6		0x02
#define STUN_MI_SHA256_LEN	32

/* per-datagram decoder state */
struct stun_dec {
	struct stun_msg	*m;
	uint32_t	 seen;		/* rule indices already taken */
	int		 bad;		/* a 400 problem was found */
	int		 after_mi;	/* past MESSAGE-INTEGRITY */
};

typedef int	 stun_attr_fn(struct stun_dec *, const uint8_t *, size_t);

struct stun_rule {
	uint16_t	 type;
	int		 multi;		/* every occurrence is handled */
	stun_attr_fn	*fn;		/* 0 ok, -1 bad value (400) */
};

static uint32_t
stun_crc(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0L, p, (uInt)n) ^ STUN_FP_XOR;
}

static uint16_t
stun_type(uint16_t method, uint8_t cls)
{
	return (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 |
	    (method & 0x0f80) << 2 | (cls & 1) << 4 | (cls & 2) << 7);
}

/*
 * XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS: reserved
 * byte, family, port ^ (cookie >> 16), address ^ cookie (|| tid for IPv6).
 */
static int
stun_get_xaddr(const struct stun_msg *m, const uint8_t *v, size_t len,
    struct taddr *a)
{
	uint8_t		 pad[16];
	size_t		 i, n;

	memset(a, 0, sizeof(*a));
	if (len < 4)
		return -1;
	if (v[1] == STUN_FAM_V4 && len == 8) {
		a->family = ADDR_V4;
		n = 4;
	} else if (v[1] == STUN_FAM_V6 && len == 20) {
		a->family = ADDR_V6;
		n = 16;
	} else
		return -1;
	pad[0] = (uint8_t)(STUN_MAGIC >> 24);
	pad[1] = (uint8_t)(STUN_MAGIC >> 16);
	pad[2] = (uint8_t)(STUN_MAGIC >> 8);
	pad[3] = (uint8_t)STUN_MAGIC;
	memcpy(pad + 4, m->tid, STUN_TID_LEN);
	a->port = buf_load16(v + 2) ^ (uint16_t)(STUN_MAGIC >> 16);
	for (i = 0; i < n; i++)
		a->ip[i] = v[4 + i] ^ pad[i];
	return 0;
}

static int
stun_a_username(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len > STUN_MAX_USERNAME)
		return -1;
	d->m->username = v;
	d->m->username_len = len;
	d->m->has |= STUN_HAS_USERNAME;
	return 0;
}

static int
stun_a_realm(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len > STUN_MAX_REALM)
		return -1;
	d->m->realm = v;
	d->m->realm_len = len;
	d->m->has |= STUN_HAS_REALM;
	return 0;
}

static int
stun_a_nonce(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len > STUN_MAX_NONCE)
		return -1;
	d->m->nonce = v;
	d->m->nonce_len = len;
	d->m->has |= STUN_HAS_NONCE;
	return 0;
}

static int
stun_a_software(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len > STUN_MAX_SOFTWARE)
		return -1;
	d->m->software = v;
	d->m->software_len = len;
	d->m->has |= STUN_HAS_SOFTWARE;
	return 0;
}

static int
stun_a_data(struct stun_dec *d, const uint8_t *v, size_t len)
{
	d->m->data = v;
	d->m->data_len = len;
	d->m->has |= STUN_HAS_DATA;
	return 0;
}

static int
stun_a_mi(struct stun_dec *d, const uint8_t *v, size_t len)
{
	const struct stun_msg	*m = d->m;

	if (len != STUN_MI_LEN)
		return -1;
	d->m->mi_off = (size_t)(v - m->raw) - STUN_ATTR_HDR;
	memcpy(d->m->mi, v, STUN_MI_LEN);
	d->m->has |= STUN_HAS_MI;
	d->after_mi = 1;
	return 0;
}

static int
stun_a_mi_sha256(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len != STUN_MI_SHA256_LEN)
		return -1;
	d->m->has |= STUN_HAS_MI_SHA256;
	return 0;
}

static int
stun_a_lifetime(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len != 4)
		return -1;
	d->m->lifetime = buf_load32(v);
	d->m->has |= STUN_HAS_LIFETIME;
	return 0;
}

static int
stun_a_transport(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len != 4)
		return -1;
	d->m->transport = v[0];		/* then 3 bytes RFFU, ignored */
	d->m->has |= STUN_HAS_TRANSPORT;
	return 0;
}

static int
stun_family_ok(const uint8_t *v, size_t len)
{
	return len == 4 && (v[0] == STUN_AF_IPV4 || v[0] == STUN_AF_IPV6);
}

static int
stun_a_req_family(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (!stun_family_ok(v, len))
		return -1;
	d->m->req_family = v[0];
	d->m->has |= STUN_HAS_REQ_FAMILY;
	return 0;
}

static int
stun_a_add_family(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (!stun_family_ok(v, len))
		return -1;
	d->m->add_family = v[0];
	d->m->has |= STUN_HAS_ADD_FAMILY;
	return 0;
}

static int
stun_a_channel(struct stun_dec *d, const uint8_t *v, size_t len)
{
	uint16_t	 ch;

	if (len != 4)
		return -1;
	ch = buf_load16(v);		/* then 2 bytes RFFU, ignored */
	if (ch < STUN_CHAN_MIN || ch > STUN_CHAN_MAX)
		return -1;
	d->m->channel = ch;
	d->m->has |= STUN_HAS_CHANNEL;
	return 0;
}

static int
stun_a_even_port(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len != 1)
		return -1;
	d->m->even_port = v[0] >> 7;
	d->m->has |= STUN_HAS_EVEN_PORT;
	return 0;
}

static int
stun_a_dont_fragment(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len != 0)
		return -1;
	d->m->has |= STUN_HAS_DONT_FRAGMENT;
	return 0;
}

static int
stun_a_res_token(struct stun_dec *d, const uint8_t *v, size_t len)
{
	if (len != 8)
		return -1;
	d->m->has |= STUN_HAS_RES_TOKEN;
	return 0;
}

static int
stun_a_peer(struct stun_dec *d, const uint8_t *v, size_t len)
{
	struct stun_msg	*m = d->m;

	if (m->n_peers >= STUN_MAX_PEERS)
		return -1;
	if (stun_get_xaddr(m, v, len, &m->peers[m->n_peers]) == -1) {
		memset(&m->peers[m->n_peers], 0, sizeof(m->peers[0]));
		return -1;
	}
	m->n_peers++;
	m->has |= STUN_HAS_PEER;
	return 0;
}

static int
stun_a_mapped(struct stun_dec *d, const uint8_t *v, size_t len)
{
	struct taddr	 a;

	if (stun_get_xaddr(d->m, v, len, &a) == -1)
		return -1;
	d->m->mapped = a;
	d->m->has |= STUN_HAS_MAPPED;
	return 0;
}

static int
stun_a_relayed(struct stun_dec *d, const uint8_t *v, size_t len)
{
	struct stun_msg	*m = d->m;
	struct taddr	 a;

	if (stun_get_xaddr(m, v, len, &a) == -1)
		return -1;
	if (m->n_relayed < sizeof(m->relayed) / sizeof(m->relayed[0]))
		m->relayed[m->n_relayed++] = a;
	m->has |= STUN_HAS_RELAYED;
	return 0;
}

/* ERROR-CODE is only read (for clients); a malformed one is ignored */
static int
stun_a_error(struct stun_dec *d, const uint8_t *v, size_t len)
{
	unsigned	 cls, num;

	if (len < 4)
		return 0;
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return 0;
	d->m->error_code = (uint16_t)(cls * 100 + num);
	d->m->reason = v + 4;
	d->m->reason_len = len - 4;
	d->m->has |= STUN_HAS_ERROR;
	return 0;
}

static int
stun_a_ignore(struct stun_dec *d, const uint8_t *v, size_t len)
{
	return 0;
}

/* known attributes; at most 32 (the seen bit mask) */
static const struct stun_rule stun_rules[] = {
	{ STUN_A_USERNAME,			0, stun_a_username },
	{ STUN_A_MESSAGE_INTEGRITY,		0, stun_a_mi },
	{ STUN_A_REALM,				0, stun_a_realm },
	{ STUN_A_NONCE,				0, stun_a_nonce },
	{ STUN_A_SOFTWARE,			0, stun_a_software },
	{ STUN_A_LIFETIME,			0, stun_a_lifetime },
	{ STUN_A_REQUESTED_TRANSPORT,		0, stun_a_transport },
	{ STUN_A_REQUESTED_ADDRESS_FAMILY,	0, stun_a_req_family },
	{ STUN_A_ADDITIONAL_ADDRESS_FAMILY,	0, stun_a_add_family },
	{ STUN_A_CHANNEL_NUMBER,		0, stun_a_channel },
	{ STUN_A_EVEN_PORT,			0, stun_a_even_port },
	{ STUN_A_DONT_FRAGMENT,			0, stun_a_dont_fragment },
	{ STUN_A_RESERVATION_TOKEN,		0, stun_a_res_token },
	{ STUN_A_DATA,				0, stun_a_data },
	{ STUN_A_XOR_PEER_ADDRESS,		1, stun_a_peer },
	{ STUN_A_MESSAGE_INTEGRITY_SHA256,	0, stun_a_mi_sha256 },
	{ STUN_A_USERHASH,			0, stun_a_ignore },
	{ STUN_A_ERROR_CODE,			0, stun_a_error },
	{ STUN_A_XOR_MAPPED_ADDRESS,		0, stun_a_mapped },
	{ STUN_A_XOR_RELAYED_ADDRESS,		1, stun_a_relayed },
	{ STUN_A_UNKNOWN_ATTRIBUTES,		0, stun_a_ignore },
	{ STUN_A_ALTERNATE_SERVER,		0, stun_a_ignore },
	{ STUN_A_MAPPED_ADDRESS,		0, stun_a_ignore },
};

static void
stun_add_unknown(struct stun_msg *m, uint16_t type)
{
	size_t	 i;

	for (i = 0; i < m->n_unknown; i++)
		if (m->unknown[i] == type)
			return;
	if (m->n_unknown < STUN_MAX_UNKNOWN)
		m->unknown[m->n_unknown++] = type;
}

/* one attribute before (or being) MESSAGE-INTEGRITY */
static void
stun_attr(struct stun_dec *d, uint16_t type, const uint8_t *v, size_t len)
{
	const struct stun_rule	*r;
	size_t			 i, n = sizeof(stun_rules) / sizeof(stun_rules[0]);

	for (i = 0; i < n; i++)
		if (stun_rules[i].type == type)
			break;
	if (i == n) {
		if (type < 0x8000)
			stun_add_unknown(d->m, type);
		return;
	}
	r = &stun_rules[i];
	if (d->seen & (1u << i) && !r->multi) {
		/* first occurrence wins; a second transport is ambiguous */
		if (type == STUN_A_REQUESTED_TRANSPORT)
			d->bad = 1;
		return;
	}
	d->seen |= 1u << i;
	if (r->fn(d, v, len) == -1)
		d->bad = 1;
}

/* the fixed header; STUN_DROP unless it frames exactly this datagram */
static int
stun_header(const uint8_t *p, size_t n, struct stun_msg *m)
{
	uint16_t	 type, len;

	if (n < STUN_HDR_LEN || (p[0] & 0xc0) != 0)
		return STUN_DROP;
	if (buf_load32(p + 4) != STUN_MAGIC)
		return STUN_DROP;
	len = buf_load16(p + 2);
	if ((len & 3) != 0 || (size_t)len != n - STUN_HDR_LEN)
		return STUN_DROP;
	type = buf_load16(p);
	m->method = (uint16_t)((type & 0x000f) | (type & 0x00e0) >> 1 |
	    (type & 0x3e00) >> 2);
	m->cls = (uint8_t)((type & 0x0010) >> 4 | (type & 0x0100) >> 7);
	memcpy(m->tid, p + 8, STUN_TID_LEN);
	m->raw = p;
	m->raw_len = n;
	return STUN_OK;
}

int
stun_decode(const uint8_t *p, size_t n, struct stun_msg *m, int *code)
{
	struct stun_dec	 d;
	size_t		 off, left, alen, padded;
	uint16_t	 type;

	memset(m, 0, sizeof(*m));
	*code = 0;
	if (p == NULL || stun_header(p, n, m) == STUN_DROP)
		return STUN_DROP;
	memset(&d, 0, sizeof(d));
	d.m = m;
	for (off = STUN_HDR_LEN; off < n; off += STUN_ATTR_HDR + padded) {
		left = n - off;
		if (left < STUN_ATTR_HDR)
			return STUN_DROP;
		type = buf_load16(p + off);
		alen = buf_load16(p + off + 2);
		padded = (alen + 3) & ~(size_t)3;
		if (padded > left - STUN_ATTR_HDR)
			return STUN_DROP;
		if (type == STUN_A_FINGERPRINT) {
			if (alen != 4 || off + STUN_ATTR_HDR + 4 != n ||
			    stun_crc(p, off) != buf_load32(p + off + 4))
				return STUN_DROP;
			m->has |= STUN_HAS_FINGERPRINT;
		} else if (!d.after_mi)
			stun_attr(&d, type, p + off + STUN_ATTR_HDR, alen);
	}
	if (d.bad) {
		*code = STUN_ERR_BAD_REQUEST;
		return STUN_REPLY;
	}
	if (m->n_unknown > 0) {
		*code = STUN_ERR_UNKNOWN_ATTRIBUTE;
		return STUN_REPLY;
	}
	return STUN_OK;
}

int
stun_check_mi_key(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	struct hmac_sha1_ctx	 ctx;
	uint8_t			 hlen[2], mac[STUN_MI_LEN];
	size_t			 len;
	int			 ok;

	if (!(m->has & STUN_HAS_MI) || m->raw == NULL ||
	    m->mi_off < STUN_HDR_LEN ||
	    m->mi_off + STUN_ATTR_HDR + STUN_MI_LEN > m->raw_len)
		return 0;
	/* the length field as if MESSAGE-INTEGRITY were the last attribute */
	len = m->mi_off - STUN_HDR_LEN + STUN_ATTR_HDR + STUN_MI_LEN;
	hlen[0] = (uint8_t)(len >> 8);
	hlen[1] = (uint8_t)len;
	hmac_sha1_set_key(&ctx, keylen, key);
	hmac_sha1_update(&ctx, 2, m->raw);
	hmac_sha1_update(&ctx, 2, hlen);
	hmac_sha1_update(&ctx, m->mi_off - 4, m->raw + 4);
	hmac_sha1_digest(&ctx, sizeof(mac), mac);
	ok = memeql_sec(mac, m->mi, STUN_MI_LEN);
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(mac, sizeof(mac));
	return ok ? 1 : 0;
}

int
stun_check_mi(const struct stun_msg *m, const uint8_t key[16])
{
	return stun_check_mi_key(m, key, 16);
}

const char *
stun_reason(int code)
{
	switch (code) {
	case STUN_ERR_TRY_ALTERNATE:
		return "Try Alternate";
	case STUN_ERR_BAD_REQUEST:
		return "Bad Request";
	case STUN_ERR_UNAUTHORIZED:
		return "Unauthorized";
	case STUN_ERR_FORBIDDEN:
		return "Forbidden";
	case STUN_ERR_UNKNOWN_ATTRIBUTE:
		return "Unknown Attribute";
	case STUN_ERR_ALLOC_MISMATCH:
		return "Allocation Mismatch";
	case STUN_ERR_STALE_NONCE:
		return "Stale Nonce";
	case STUN_ERR_AF_NOT_SUPPORTED:
		return "Address Family not Supported";
	case STUN_ERR_WRONG_CREDENTIALS:
		return "Wrong Credentials";
	case STUN_ERR_UNSUPPORTED_TRANSPORT:
		return "Unsupported Transport Protocol";
	case STUN_ERR_PEER_AF_MISMATCH:
		return "Peer Address Family Mismatch";
	case STUN_ERR_ALLOC_QUOTA:
		return "Allocation Quota Reached";
	case STUN_ERR_SERVER_ERROR:
		return "Server Error";
	case STUN_ERR_INSUFFICIENT_CAPACITY:
		return "Insufficient Capacity";
	default:
		return "";
	}
}

const char *
stun_method_name(uint16_t method)
{
	switch (method) {
	case STUN_BINDING:
		return "binding";
	case STUN_ALLOCATE:
		return "allocate";
	case STUN_REFRESH:
		return "refresh";
	case STUN_SEND:
		return "send";
	case STUN_DATA:
		return "data";
	case STUN_CREATE_PERMISSION:
		return "createpermission";
	case STUN_CHANNEL_BIND:
		return "channelbind";
	default:
		return "unknown";
	}
}

const char *
stun_strerror(int rc)
{
	switch (rc) {
	case STUN_OK:
		return "ok";
	case STUN_REPLY:
		return "invalid attributes (error reply)";
	case STUN_DROP:
		return "not a STUN message (dropped)";
	default:
		return "unknown decode result";
	}
}

void
stun_lt_key(const uint8_t *user, size_t ulen, const char *realm,
    const char *pass, size_t plen, uint8_t key[16])
{
	struct md5_ctx	 ctx;

	md5_init(&ctx);
	md5_update(&ctx, ulen, user);
	md5_update(&ctx, 1, (const uint8_t *)":");
	md5_update(&ctx, strlen(realm), (const uint8_t *)realm);
	md5_update(&ctx, 1, (const uint8_t *)":");
	md5_update(&ctx, plen, (const uint8_t *)pass);
	md5_digest(&ctx, 16, key);
	explicit_bzero(&ctx, sizeof(ctx));
}

/* encoder */

/* set the header length to cover everything written plus extra bytes */
static void
stun_enc_setlen(struct stun_enc *e, size_t extra)
{
	size_t	 len;

	if (e->w.err)
		return;
	if (e->w.len < STUN_HDR_LEN) {
		e->w.err = 1;
		return;
	}
	len = e->w.len - STUN_HDR_LEN + extra;
	if (len > 0xffff) {
		e->w.err = 1;
		return;
	}
	buf_set_u16(&e->w, 2, (uint16_t)len);
}

/* are there n more bytes of room? (sets the sticky error if not) */
static int
stun_enc_room(struct stun_enc *e, size_t n)
{
	if (e->w.err || e->w.len > e->w.cap || e->w.cap - e->w.len < n) {
		e->w.err = 1;
		return 0;
	}
	return 1;
}

static void
stun_attr_begin(struct stun_enc *e, uint16_t type, size_t len)
{
	if (len > 0xffff) {
		e->w.err = 1;
		return;
	}
	buf_put_u16(&e->w, type);
	buf_put_u16(&e->w, (uint16_t)len);
}

static void
stun_attr_end(struct stun_enc *e, size_t len)
{
	buf_put_zero(&e->w, (4 - (len & 3)) & 3);
	stun_enc_setlen(e, 0);
}

void
stun_enc_init(struct stun_enc *e, void *buf, size_t cap, uint16_t method,
    uint8_t cls, const uint8_t tid[STUN_TID_LEN])
{
	buf_w_init(&e->w, buf, cap);
	memcpy(e->tid, tid, STUN_TID_LEN);
	buf_put_u16(&e->w, stun_type(method, cls));
	buf_put_u16(&e->w, 0);
	buf_put_u32(&e->w, STUN_MAGIC);
	buf_put_bytes(&e->w, tid, STUN_TID_LEN);
}

void
stun_put_attr(struct stun_enc *e, uint16_t type, const void *v, size_t len)
{
	stun_attr_begin(e, type, len);
	buf_put_bytes(&e->w, v, len);
	stun_attr_end(e, len);
}

void
stun_put_u32(struct stun_enc *e, uint16_t type, uint32_t v)
{
	stun_attr_begin(e, type, 4);
	buf_put_u32(&e->w, v);
	stun_attr_end(e, 4);
}

void
stun_put_xaddr(struct stun_enc *e, uint16_t type, const struct taddr *a)
{
	uint8_t		 pad[16];
	size_t		 i, n;

	if (a->family == ADDR_V4)
		n = 4;
	else if (a->family == ADDR_V6)
		n = 16;
	else {
		e->w.err = 1;
		return;
	}
	pad[0] = (uint8_t)(STUN_MAGIC >> 24);
	pad[1] = (uint8_t)(STUN_MAGIC >> 16);
	pad[2] = (uint8_t)(STUN_MAGIC >> 8);
	pad[3] = (uint8_t)STUN_MAGIC;
	memcpy(pad + 4, e->tid, STUN_TID_LEN);
	stun_attr_begin(e, type, 4 + n);
	buf_put_u8(&e->w, 0);
	buf_put_u8(&e->w, n == 4 ? STUN_FAM_V4 : STUN_FAM_V6);
	buf_put_u16(&e->w, a->port ^ (uint16_t)(STUN_MAGIC >> 16));
	for (i = 0; i < n; i++)
		buf_put_u8(&e->w, a->ip[i] ^ pad[i]);
	stun_attr_end(e, 4 + n);
}

void
stun_put_error(struct stun_enc *e, int code)
{
	const char	*reason = stun_reason(code);
	size_t		 rlen = strlen(reason);

	if (code < 300 || code > 699) {
		e->w.err = 1;
		return;
	}
	stun_attr_begin(e, STUN_A_ERROR_CODE, 4 + rlen);
	buf_put_u16(&e->w, 0);
	buf_put_u8(&e->w, (uint8_t)(code / 100));
	buf_put_u8(&e->w, (uint8_t)(code % 100));
	buf_put_bytes(&e->w, reason, rlen);
	stun_attr_end(e, 4 + rlen);
}

void
stun_put_unknown(struct stun_enc *e, const uint16_t *types, size_t n)
{
	size_t	 i;

	if (n > 0xffff / 2) {
		e->w.err = 1;
		return;
	}
	stun_attr_begin(e, STUN_A_UNKNOWN_ATTRIBUTES, 2 * n);
	for (i = 0; i < n; i++)
		buf_put_u16(&e->w, types[i]);
	stun_attr_end(e, 2 * n);
}

void
stun_put_mi_key(struct stun_enc *e, const uint8_t *key, size_t keylen)
{
	struct hmac_sha1_ctx	 ctx;
	uint8_t			 mac[STUN_MI_LEN];

	if (!stun_enc_room(e, STUN_ATTR_HDR + STUN_MI_LEN))
		return;
	stun_enc_setlen(e, STUN_ATTR_HDR + STUN_MI_LEN);
	if (e->w.err)
		return;
	hmac_sha1_set_key(&ctx, keylen, key);
	hmac_sha1_update(&ctx, e->w.len, e->w.p);
	hmac_sha1_digest(&ctx, sizeof(mac), mac);
	stun_put_attr(e, STUN_A_MESSAGE_INTEGRITY, mac, sizeof(mac));
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(mac, sizeof(mac));
}

void
stun_put_mi(struct stun_enc *e, const uint8_t key[16])
{
	stun_put_mi_key(e, key, 16);
}

void
stun_put_fingerprint(struct stun_enc *e)
{
	uint32_t	 crc;

	if (!stun_enc_room(e, STUN_ATTR_HDR + 4))
		return;
	stun_enc_setlen(e, STUN_ATTR_HDR + 4);
	if (e->w.err)
		return;
	crc = stun_crc(e->w.p, e->w.len);
	stun_put_u32(e, STUN_A_FINGERPRINT, crc);
}

long
stun_enc_finish(struct stun_enc *e)
{
	if (e->w.err || e->w.len < STUN_HDR_LEN)
		return -1;
	return (long)e->w.len;
}
