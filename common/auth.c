/*
 * auth.c: credentials and stateless nonces (pure computation, nettle).
 *
 * CONSTANT-TIME RULE: no memcmp/strcmp/strncmp on MACs, passwords or
 * nonce MACs anywhere in this file. Every comparison of secret-derived
 * bytes goes through auth_memeq() (nettle memeql_sec). This grep over
 * this file must come back empty (attack case 23):
 *	grep -nE '(mem|str|strn)cmp[[:space:]]*[(]' common/auth.c
 *
 * Nothing here logs, allocates, reads a clock or draws randomness: the
 * wall clock and the nonce key are parameters.
 */
#include <stdint.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "auth.h"
#include "stun.h"

#define AUTH_USER_MAX		512	/* RFC 8489 §14.3: < 513 bytes */
#define AUTH_U64_DIGITS		20	/* "18446744073709551615" */
#define AUTH_NONCE_TS_HEX	8
#define AUTH_NONCE_MAC_LEN	12	/* truncated HMAC-SHA256 bytes */
#define AUTH_NONCE_TAG		"tcn1"	/* domain separation, version 1 */

static const char auth_hex[] = "0123456789abcdef";

int
auth_memeq(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n) != 0;
}

size_t
auth_b64(const uint8_t *in, size_t len, char *out, size_t cap, int pad)
{
	char	tail[4];
	size_t	whole, rest, n;

	whole = len / 3;
	rest = len % 3;
	if (whole > (SIZE_MAX - 5) / 4)
		goto fail;
	n = whole * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1);
	if (n >= cap)
		goto fail;
	/* whole groups straight into out, the tail via a 4-byte scratch */
	base64_encode_raw(out, whole * 3, in);
	if (rest != 0) {
		base64_encode_raw(tail, rest, in + whole * 3);
		memcpy(out + whole * 4, tail, n - whole * 4);
	}
	out[n] = '\0';
	return n;
fail:
	if (cap > 0)
		out[0] = '\0';
	return 0;
}

/* decimal digits of v into buf (no NUL); returns the length */
static size_t
auth_fmt_u64(uint64_t v, char buf[AUTH_U64_DIGITS])
{
	char	tmp[AUTH_U64_DIGITS];
	size_t	n = 0, i;

	do {
		tmp[n++] = '0' + (char)(v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof(tmp));
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* strict unsigned decimal: digits only, non-empty, no overflow */
static int
auth_parse_u64(const uint8_t *p, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;
	unsigned	d;

	if (len == 0 || len > AUTH_U64_DIGITS)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = p[i] - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
auth_is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

void
auth_password(uint64_t expiry, const char *secret, size_t secret_len,
    const char *salt, size_t salt_len, char out[AUTH_PASS_LEN + 1])
{
	struct sha256_ctx	ctx;
	uint8_t			digest[SHA256_DIGEST_SIZE];
	char			num[AUTH_U64_DIGITS];
	size_t			nlen;

	nlen = auth_fmt_u64(expiry, num);
	sha256_init(&ctx);
	sha256_update(&ctx, nlen, (const uint8_t *)num);
	sha256_update(&ctx, 1, (const uint8_t *)":");
	sha256_update(&ctx, secret_len, (const uint8_t *)secret);
	sha256_update(&ctx, 1, (const uint8_t *)":");
	sha256_update(&ctx, salt_len, (const uint8_t *)salt);
	sha256_digest(&ctx, sizeof(digest), digest);
	(void)auth_b64(digest, sizeof(digest), out, AUTH_PASS_LEN + 1, 0);
	explicit_bzero(digest, sizeof(digest));
	/* its block buffer may still hold bytes of the secret */
	explicit_bzero(&ctx, sizeof(ctx));
}

void
auth_rest_password(const char *secret, size_t secret_len,
    const uint8_t *user, size_t ulen, char out[AUTH_REST_PASS_LEN + 1])
{
	struct hmac_sha1_ctx	ctx;
	uint8_t			mac[SHA1_DIGEST_SIZE];

	hmac_sha1_set_key(&ctx, secret_len, (const uint8_t *)secret);
	hmac_sha1_update(&ctx, ulen, user);
	hmac_sha1_digest(&ctx, sizeof(mac), mac);
	(void)auth_b64(mac, sizeof(mac), out, AUTH_REST_PASS_LEN + 1, 1);
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(&ctx, sizeof(ctx));
}

int
auth_parse_username(const uint8_t *u, size_t len, uint64_t *expiry,
    const uint8_t **salt, size_t *salt_len)
{
	const uint8_t	*colon;
	size_t		 i, elen;

	if (u == NULL || len == 0 || len > AUTH_USER_MAX)
		return AUTH_BAD_USERNAME;
	colon = memchr(u, ':', len);
	if (colon == NULL)
		return AUTH_BAD_USERNAME;
	elen = (size_t)(colon - u);
	if (auth_parse_u64(u, elen, expiry) == -1)
		return AUTH_BAD_USERNAME;
	if (elen + 1 >= len)		/* empty salt */
		return AUTH_BAD_USERNAME;
	for (i = elen + 1; i < len; i++)
		if (u[i] == ':' || auth_is_ctl(u[i]))
			return AUTH_BAD_USERNAME;
	*salt = colon + 1;
	*salt_len = len - elen - 1;
	return AUTH_OK;
}

/* REST username: "<expiry>" or "<expiry>:<anything without controls>" */
static int
auth_parse_rest_username(const uint8_t *u, size_t len, uint64_t *expiry)
{
	const uint8_t	*colon;
	size_t		 i, elen;

	if (u == NULL || len == 0 || len > AUTH_USER_MAX)
		return AUTH_BAD_USERNAME;
	colon = memchr(u, ':', len);
	elen = colon != NULL ? (size_t)(colon - u) : len;
	if (auth_parse_u64(u, elen, expiry) == -1)
		return AUTH_BAD_USERNAME;
	for (i = elen; i < len; i++)
		if (auth_is_ctl(u[i]))
			return AUTH_BAD_USERNAME;
	return AUTH_OK;
}

/* AUTH_OK, or AUTH_EXPIRED when expired or beyond the max TTL policy */
static int
auth_expiry_check(uint64_t expiry, int64_t wall_s, int64_t max_ttl_s)
{
	uint64_t	w = wall_s < 0 ? 0 : (uint64_t)wall_s;

	if (expiry < w)
		return AUTH_EXPIRED;
	if (max_ttl_s > 0 && expiry - w > (uint64_t)max_ttl_s)
		return AUTH_EXPIRED;
	return AUTH_OK;
}

static int
auth_key_firezone(const char *realm, const char *secret, size_t secret_len,
    const uint8_t *user, size_t ulen, int64_t wall_s, int64_t max_ttl_s,
    uint8_t key[16])
{
	char		 pass[AUTH_PASS_LEN + 1];
	const uint8_t	*salt;
	size_t		 salt_len;
	uint64_t	 expiry;
	int		 r;

	if (auth_parse_username(user, ulen, &expiry, &salt, &salt_len) != 0)
		return AUTH_BAD_USERNAME;
	r = auth_expiry_check(expiry, wall_s, max_ttl_s);
	/* the password hashes the re-formatted expiry (leading zeros go) */
	auth_password(expiry, secret, secret_len, (const char *)salt,
	    salt_len, pass);
	/* the key uses the USERNAME bytes as sent, as the client does */
	stun_lt_key(user, ulen, realm, pass, AUTH_PASS_LEN, key);
	explicit_bzero(pass, sizeof(pass));
	return r;
}

static int
auth_key_rest(const char *realm, const char *secret, size_t secret_len,
    const uint8_t *user, size_t ulen, int64_t wall_s, int64_t max_ttl_s,
    uint8_t key[16])
{
	char		pass[AUTH_REST_PASS_LEN + 1];
	uint64_t	expiry;
	int		r;

	if (auth_parse_rest_username(user, ulen, &expiry) != 0)
		return AUTH_BAD_USERNAME;
	r = auth_expiry_check(expiry, wall_s, max_ttl_s);
	auth_rest_password(secret, secret_len, user, ulen, pass);
	stun_lt_key(user, ulen, realm, pass, AUTH_REST_PASS_LEN, key);
	explicit_bzero(pass, sizeof(pass));
	return r;
}

int
auth_user_key_realm(int scheme, const char *realm, const char *secret,
    size_t secret_len, const uint8_t *user, size_t ulen, int64_t wall_s,
    int64_t max_ttl_s, uint8_t key[16])
{
	switch (scheme) {
	case AUTH_SCHEME_FIREZONE:
		return auth_key_firezone(realm, secret, secret_len, user, ulen,
		    wall_s, max_ttl_s, key);
	case AUTH_SCHEME_REST:
		return auth_key_rest(realm, secret, secret_len, user, ulen,
		    wall_s, max_ttl_s, key);
	default:
		return AUTH_BAD_USERNAME;
	}
}

int
auth_user_key_scheme(int scheme, const char *secret, size_t secret_len,
    const uint8_t *user, size_t ulen, int64_t wall_s, int64_t max_ttl_s,
    uint8_t key[16])
{
	return auth_user_key_realm(scheme, AUTH_REALM, secret, secret_len,
	    user, ulen, wall_s, max_ttl_s, key);
}

/*
 * Both schemes accept "<u64>:<salt>", so with both enabled the username
 * alone cannot tell which one the client used. This returns the result
 * for the first enabled scheme (FIREZONE, then REST) whose format the
 * username matches; the engine, when both are enabled and the MI does not
 * verify with this key, retries with auth_user_key_scheme(REST, ...).
 */
int
auth_user_key(int schemes, const char *secret, size_t secret_len,
    const uint8_t *user, size_t ulen, int64_t wall_s, int64_t max_ttl_s,
    uint8_t key[16])
{
	int	r = AUTH_BAD_USERNAME;

	if (schemes & AUTH_SCHEME_FIREZONE) {
		r = auth_key_firezone(AUTH_REALM, secret, secret_len, user,
		    ulen, wall_s, max_ttl_s, key);
		if (r != AUTH_BAD_USERNAME)
			return r;
	}
	if (schemes & AUTH_SCHEME_REST)
		r = auth_key_rest(AUTH_REALM, secret, secret_len, user, ulen,
		    wall_s, max_ttl_s, key);
	return r;
}

/* HMAC-SHA256(key, "tcn1" || ts BE64 || family || port BE16 || ip[16]) */
static void
auth_nonce_mac(const uint8_t key[AUTH_NONCE_KEY_LEN],
    const struct taddr *client, uint64_t ts, uint8_t mac[AUTH_NONCE_MAC_LEN])
{
	struct hmac_sha256_ctx	ctx;
	uint8_t			in[4 + 8 + 1 + 2 + 16];
	uint8_t			full[SHA256_DIGEST_SIZE];
	size_t			i;

	memset(in, 0, sizeof(in));
	memcpy(in, AUTH_NONCE_TAG, 4);
	for (i = 0; i < 8; i++)
		in[4 + i] = (uint8_t)(ts >> (56 - 8 * i));
	in[12] = client->family;
	in[13] = (uint8_t)(client->port >> 8);
	in[14] = (uint8_t)client->port;
	/* v4 only ever contributes ip[0..3]: stray bytes cannot matter */
	memcpy(in + 15, client->ip, client->family == ADDR_V4 ? 4 : 16);
	hmac_sha256_set_key(&ctx, AUTH_NONCE_KEY_LEN, key);
	hmac_sha256_update(&ctx, sizeof(in), in);
	hmac_sha256_digest(&ctx, sizeof(full), full);
	memcpy(mac, full, AUTH_NONCE_MAC_LEN);
	explicit_bzero(full, sizeof(full));
	explicit_bzero(&ctx, sizeof(ctx));
}

static void
auth_hex_put(const uint8_t *in, size_t len, char *out)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		out[2 * i] = auth_hex[in[i] >> 4];
		out[2 * i + 1] = auth_hex[in[i] & 0xf];
	}
}

void
auth_nonce_mint(const uint8_t key[AUTH_NONCE_KEY_LEN],
    const struct taddr *client, uint64_t now_s, char out[AUTH_NONCE_LEN + 1])
{
	uint32_t	ts32 = (uint32_t)now_s;	/* monotonic seconds, mod 2^32 */
	uint8_t		ts[4], mac[AUTH_NONCE_MAC_LEN];
	size_t		i;

	for (i = 0; i < 4; i++)
		ts[i] = (uint8_t)(ts32 >> (24 - 8 * i));
	auth_nonce_mac(key, client, ts32, mac);
	auth_hex_put(ts, sizeof(ts), out);
	auth_hex_put(mac, sizeof(mac), out + AUTH_NONCE_TS_HEX);
	out[AUTH_NONCE_LEN] = '\0';
}

static int
auth_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;		/* upper case is not ours: reject */
}

int
auth_nonce_check(const uint8_t key[AUTH_NONCE_KEY_LEN],
    const struct taddr *client, uint64_t now_s,
    const uint8_t *nonce, size_t len)
{
	char		want[AUTH_NONCE_LEN + 1];
	uint64_t	ts = 0;
	size_t		i;
	int		v, eq;

	if (nonce == NULL || len != AUTH_NONCE_LEN)
		return -1;
	for (i = 0; i < AUTH_NONCE_LEN; i++) {
		if ((v = auth_hexval(nonce[i])) < 0)
			return -1;
		if (i < AUTH_NONCE_TS_HEX)
			ts = ts << 4 | (uint64_t)v;
	}
	/* re-mint for the claimed ts and compare in constant time */
	auth_nonce_mint(key, client, ts, want);
	eq = auth_memeq(want, nonce, AUTH_NONCE_LEN);
	explicit_bzero(want, sizeof(want));
	if (!eq)
		return -1;
	/* age modulo 2^32: a nonce "from the future" is very old */
	if ((uint32_t)((uint32_t)now_s - (uint32_t)ts) >= AUTH_NONCE_TTL_S)
		return -1;
	return 0;
}
