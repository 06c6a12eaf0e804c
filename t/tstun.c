/* tstun.c: see tstun.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/sha2.h>
#include <zlib.h>

#include "tstun.h"

static unsigned	ts_tid_counter;

uint16_t
ts_mtype(uint16_t m, int cls)
{
	return (uint16_t)(((m & 0x0F80) << 2) | ((m & 0x0070) << 1) |
	    (m & 0x000F) | ((cls & 2) << 7) | ((cls & 1) << 4));
}

void
ts_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
ts_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

unsigned
ts_get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

uint32_t
ts_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
ts_req_init(struct ts_req *r, uint16_t method, int cls)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	ts_put16(r->b, ts_mtype(method, cls));
	ts_put32(r->b + 4, 0x2112A442u);
	ts_tid_counter++;
	for (i = 0; i < 12; i++)
		r->b[8 + i] = (uint8_t)(ts_tid_counter * 7 + i * 13 + 1);
	r->len = 20;
}

static void
ts_req_setlen(struct ts_req *r, size_t body)
{
	ts_put16(r->b + 2, (unsigned)body);
}

void
ts_req_attr(struct ts_req *r, uint16_t type, const void *v, size_t vlen)
{
	size_t	pad = (4 - vlen % 4) % 4;

	if (r->len + 4 + vlen + pad > sizeof(r->b))
		abort();
	ts_put16(r->b + r->len, type);
	ts_put16(r->b + r->len + 2, (unsigned)vlen);
	if (vlen > 0)
		memcpy(r->b + r->len + 4, v, vlen);
	memset(r->b + r->len + 4 + vlen, 0, pad);
	r->len += 4 + vlen + pad;
	ts_req_setlen(r, r->len - 20);
}

void
ts_req_str(struct ts_req *r, uint16_t type, const char *s)
{
	ts_req_attr(r, type, s, strlen(s));
}

void
ts_req_u32(struct ts_req *r, uint16_t type, uint32_t v)
{
	uint8_t	b[4];

	ts_put32(b, v);
	ts_req_attr(r, type, b, 4);
}

void
ts_req_byte(struct ts_req *r, uint16_t type, uint8_t v)
{
	uint8_t	b[4] = { v, 0, 0, 0 };

	ts_req_attr(r, type, b, 4);
}

void
ts_req_channel(struct ts_req *r, unsigned chan)
{
	uint8_t	b[4] = { 0, 0, 0, 0 };

	ts_put16(b, chan);
	ts_req_attr(r, A_CHANNEL, b, 4);
}

void
ts_req_xaddr(struct ts_req *r, uint16_t type, const struct taddr *a)
{
	uint8_t	b[20];
	size_t	i;

	b[0] = 0;
	b[1] = a->family == ADDR_V4 ? 1 : 2;
	ts_put16(b + 2, a->port ^ 0x2112);
	if (a->family == ADDR_V4) {
		for (i = 0; i < 4; i++)
			b[4 + i] = a->ip[i] ^ r->b[4 + i];
		ts_req_attr(r, type, b, 8);
	} else {
		for (i = 0; i < 16; i++)	/* cookie then tid */
			b[4 + i] = a->ip[i] ^ r->b[4 + i];
		ts_req_attr(r, type, b, 20);
	}
}

static void
ts_hmac1(const uint8_t *key, size_t klen, const uint8_t *p, size_t len,
    uint8_t out[20])
{
	struct hmac_sha1_ctx	ctx;

	hmac_sha1_set_key(&ctx, klen, key);
	hmac_sha1_update(&ctx, len, p);
	hmac_sha1_digest(&ctx, 20, out);
}

void
ts_req_mi(struct ts_req *r, const uint8_t key[16])
{
	uint8_t	mac[20];

	ts_req_setlen(r, r->len - 20 + 24);
	ts_hmac1(key, 16, r->b, r->len, mac);
	ts_req_attr(r, A_MI, mac, 20);
}

static uint32_t
ts_fp_of(uint8_t *p, size_t len_before_fp)
{
	uLong	crc;

	ts_put16(p + 2, (unsigned)(len_before_fp - 20 + 8));
	crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, p, (uInt)len_before_fp);
	return (uint32_t)crc ^ 0x5354554eu;
}

void
ts_req_fp(struct ts_req *r)
{
	ts_req_u32(r, A_FP, ts_fp_of(r->b, r->len));
}

void
ts_cred_make(struct ts_cred *c, const char *secret, uint64_t expiry,
    const char *salt)
{
	struct sha256_ctx	sctx;
	struct md5_ctx		mctx;
	char			in[256], b64[64];
	uint8_t			d[32];
	int			n;

	n = snprintf(in, sizeof(in), "%llu:%s:%s", (unsigned long long)expiry,
	    secret, salt);
	sha256_init(&sctx);
	sha256_update(&sctx, (size_t)n, (const uint8_t *)in);
	sha256_digest(&sctx, 32, d);
	base64_encode_raw(b64, 32, d);	/* 44 chars, one '=' */
	b64[43] = '\0';
	snprintf(c->pass, sizeof(c->pass), "%s", b64);
	snprintf(c->user, sizeof(c->user), "%llu:%s",
	    (unsigned long long)expiry, salt);
	n = snprintf(in, sizeof(in), "%s:firezone:%s", c->user, c->pass);
	md5_init(&mctx);
	md5_update(&mctx, (size_t)n, (const uint8_t *)in);
	md5_digest(&mctx, 16, c->key);
}

/* key for an arbitrary username/password pair */
void
ts_key_make(const char *user, const char *pass, uint8_t key[16])
{
	struct md5_ctx	mctx;
	char		in[512];
	int		n;

	n = snprintf(in, sizeof(in), "%s:firezone:%s", user, pass);
	md5_init(&mctx);
	md5_update(&mctx, (size_t)n, (const uint8_t *)in);
	md5_digest(&mctx, 16, key);
}

/* TURN REST: password = base64(HMAC-SHA1(secret, username)), padded */
void
ts_rest_make(struct ts_cred *c, const char *secret, const char *user)
{
	struct hmac_sha1_ctx	ctx;
	uint8_t			d[20];

	hmac_sha1_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha1_update(&ctx, strlen(user), (const uint8_t *)user);
	hmac_sha1_digest(&ctx, 20, d);
	base64_encode_raw(c->pass, 20, d);	/* 28 chars */
	c->pass[28] = '\0';
	snprintf(c->user, sizeof(c->user), "%s", user);
	ts_key_make(c->user, c->pass, c->key);
}

/* turncell's nonce (auth.h), with the all-zero nonce key */
void
ts_nonce(const struct taddr *a, uint64_t now_s, char out[TS_NONCE_LEN + 1])
{
	struct hmac_sha256_ctx	ctx;
	uint8_t			key[32], msg[31], mac[32];
	size_t			i;

	memset(key, 0, sizeof(key));
	now_s &= 0xffffffffu;	/* the nonce carries 32 bits of seconds */
	memcpy(msg, "tcn1", 4);
	for (i = 0; i < 8; i++)
		msg[4 + i] = (uint8_t)(now_s >> (56 - 8 * i));
	msg[12] = a->family;
	ts_put16(msg + 13, a->port);
	memcpy(msg + 15, a->ip, 16);
	hmac_sha256_set_key(&ctx, 32, key);
	hmac_sha256_update(&ctx, sizeof(msg), msg);
	hmac_sha256_digest(&ctx, 32, mac);
	snprintf(out, 9, "%08llx", (unsigned long long)now_s);
	for (i = 0; i < 12; i++)
		snprintf(out + 8 + 2 * i, 3, "%02x", mac[i]);
}

/* USERNAME, REALM, NONCE, MESSAGE-INTEGRITY */
void
ts_req_auth(struct ts_req *r, const struct ts_cred *c, const char *nonce)
{
	ts_req_str(r, A_USERNAME, c->user);
	ts_req_str(r, A_REALM, "firezone");
	ts_req_str(r, A_NONCE, nonce);
	ts_req_mi(r, c->key);
}


/* first attribute of a type; NULL if absent or the message is broken */
const uint8_t *
ts_attr(const uint8_t *p, size_t len, uint16_t type, size_t *vlen)
{
	size_t	off = 20, alen;
	int	i;

	if (len < 20 || ts_get16(p + 2) + 20 != len)
		return NULL;
	for (i = 0; i < 64 && off + 4 <= len; i++) {
		alen = ts_get16(p + off + 2);
		if (off + 4 + alen > len)
			return NULL;
		if (ts_get16(p + off) == type) {
			if (vlen != NULL)
				*vlen = alen;
			return p + off + 4;
		}
		off += 4 + ((alen + 3) & ~(size_t)3);
	}
	return NULL;
}

/* the type of the attribute at index i (0 = first), 0 if none */
unsigned
ts_attr_at(const uint8_t *p, size_t len, int idx)
{
	size_t	off = 20, alen;
	int	i;

	for (i = 0; i < 64 && off + 4 <= len; i++) {
		if (i == idx)
			return ts_get16(p + off);
		alen = ts_get16(p + off + 2);
		off += 4 + ((alen + 3) & ~(size_t)3);
	}
	return 0;
}

/* number of attributes; -1 if the lengths do not add up exactly */
int
ts_nattrs(const uint8_t *p, size_t len)
{
	size_t	off = 20, alen;
	int	n = 0;

	if (len < 20 || ts_get16(p + 2) + 20 != len)
		return -1;
	while (off < len && n < 64) {
		size_t	k;

		if (off + 4 > len)
			return -1;
		alen = ts_get16(p + off + 2);
		if (off + 4 + ((alen + 3) & ~(size_t)3) > len)
			return -1;
		for (k = alen; k % 4 != 0; k++)	/* padding is zero */
			if (p[off + 4 + k] != 0)
				return -1;
		off += 4 + ((alen + 3) & ~(size_t)3);
		n++;
	}
	return off == len ? n : -1;
}

int
ts_code(const uint8_t *p, size_t len)
{
	const uint8_t	*v;
	size_t		 vlen;

	if ((v = ts_attr(p, len, A_ERROR, &vlen)) == NULL || vlen < 4)
		return 0;
	return (v[2] & 7) * 100 + v[3];
}

/* 1 valid MI under key, 0 no MI, -1 wrong */
int
ts_mi(const uint8_t *p, size_t len, const uint8_t key[16])
{
	const uint8_t	*v;
	uint8_t		 copy[2048], mac[20];
	size_t		 vlen, off;

	if ((v = ts_attr(p, len, A_MI, &vlen)) == NULL)
		return 0;
	if (vlen != 20 || len > sizeof(copy))
		return -1;
	off = (size_t)(v - 4 - p);
	memcpy(copy, p, off);
	ts_put16(copy + 2, (unsigned)(off - 20 + 24));
	ts_hmac1(key, 16, copy, off, mac);
	return memcmp(mac, v, 20) == 0 ? 1 : -1;
}

/* 1 FINGERPRINT present, last and correct; 0 absent; -1 wrong */
int
ts_fp(const uint8_t *p, size_t len)
{
	uint8_t		 copy[2048];
	const uint8_t	*v;
	size_t		 vlen;

	if ((v = ts_attr(p, len, A_FP, &vlen)) == NULL)
		return 0;
	if (vlen != 4 || v + 4 != p + len || len > sizeof(copy))
		return -1;
	memcpy(copy, p, len);
	return ts_fp_of(copy, len - 8) == ts_get32(v) ? 1 : -1;
}

/* decode an XOR address from a response */
int
ts_xaddr(const uint8_t *p, const uint8_t *v, size_t vlen, struct taddr *a)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	if (vlen == 8 && v[1] == 1) {
		a->family = ADDR_V4;
		for (i = 0; i < 4; i++)
			a->ip[i] = v[4 + i] ^ p[4 + i];
	} else if (vlen == 20 && v[1] == 2) {
		a->family = ADDR_V6;
		for (i = 0; i < 16; i++)
			a->ip[i] = v[4 + i] ^ p[4 + i];
	} else
		return -1;
	a->port = (uint16_t)(ts_get16(v + 2) ^ 0x2112);
	return 0;
}
