/*
 * auth.h: credentials and nonces (pure computation, nettle).
 *
 * Firezone scheme (as the Firezone portal mints it): username
 * "<expiry>:<salt>", password = unpadded base64 of
 * SHA-256("<expiry>:<secret>:<salt>"), realm "firezone".
 * Optional TURN REST scheme (--auth rest): username "<expiry>[:<user>]",
 * password = base64 HMAC-SHA1(secret, username).
 *
 * Nonces are stateless: 8 hex of the monotonic second (mod 2^32) + 24 hex
 * of a truncated HMAC-SHA256 over (ts, client address) under a
 * per-process random key, so memory stays bounded however
 * many 401s are sent, a nonce only works from the address it was issued
 * to, and every nonce dies with the process (clients detect a relay
 * reboot by the 438 to their old nonce).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define AUTH_REALM		"firezone"
#define AUTH_PASS_LEN		43	/* unpadded base64 of 32 bytes */
#define AUTH_REST_PASS_LEN	28	/* padded base64 of 20 bytes */
#define AUTH_NONCE_KEY_LEN	32
#define AUTH_NONCE_LEN		32	/* fixed length of our nonces */
#define AUTH_NONCE_TTL_S	3600	/* a nonce is stale after this */

/* which credential scheme(s) the relay accepts */
#define AUTH_SCHEME_FIREZONE	0x1
#define AUTH_SCHEME_REST	0x2

/* results of auth_check_username / auth_password_for */
#define AUTH_OK			0
#define AUTH_BAD_USERNAME	(-1)	/* not "<u64>:<salt>" */
#define AUTH_EXPIRED		(-2)	/* expiry < now */

/*
 * Firezone password for (expiry, secret, salt); out gets AUTH_PASS_LEN
 * characters plus a NUL.
 */
void	auth_password(uint64_t expiry, const char *secret, size_t secret_len,
	    const char *salt, size_t salt_len, char out[AUTH_PASS_LEN + 1]);

/* TURN REST password: base64(HMAC-SHA1(secret, username)), NUL-terminated */
void	auth_rest_password(const char *secret, size_t secret_len,
	    const uint8_t *user, size_t ulen, char out[AUTH_REST_PASS_LEN + 1]);

/*
 * Parse "<expiry>:<salt>": expiry is a plain decimal u64 (no sign, no
 * overflow), salt is non-empty and contains no ':' and no control
 * characters. 0 on success, AUTH_BAD_USERNAME otherwise.
 */
int	auth_parse_username(const uint8_t *u, size_t len, uint64_t *expiry,
	    const uint8_t **salt, size_t *salt_len);

/*
 * Derive the long-term key for a request's USERNAME under the given
 * scheme(s), checking the format and expiry against wall_s. On AUTH_OK or
 * AUTH_EXPIRED the key is filled (so an error response can still be
 * signed); on AUTH_BAD_USERNAME it is not. max_ttl_s > 0 additionally
 * rejects expiries further than that in the future (AUTH_EXPIRED).
 */
int	auth_user_key(int schemes, const char *secret, size_t secret_len,
	    const uint8_t *user, size_t ulen, int64_t wall_s,
	    int64_t max_ttl_s, uint8_t key[16]);
/*
 * Both schemes accept "<u64>:<x>" usernames, so with both enabled the
 * username cannot tell which one a client used. auth_user_key() answers
 * for the first enabled scheme (FIREZONE, then REST) whose username format
 * matches; when both are enabled and MESSAGE-INTEGRITY does not verify
 * with that key, the engine retries with
 * auth_user_key_scheme(AUTH_SCHEME_REST, ...). Same results as above for
 * exactly one scheme; any other value gives AUTH_BAD_USERNAME.
 * Usernames longer than 512 bytes are AUTH_BAD_USERNAME.
 */
int	auth_user_key_scheme(int scheme, const char *secret,
	    size_t secret_len, const uint8_t *user, size_t ulen,
	    int64_t wall_s, int64_t max_ttl_s, uint8_t key[16]);

/*
 * auth_user_key_scheme() with the realm of the long-term key given
 * (AUTH_REALM in the two above); realm is a NUL-terminated string.
 */
int	auth_user_key_realm(int scheme, const char *realm, const char *secret,
	    size_t secret_len, const uint8_t *user, size_t ulen,
	    int64_t wall_s, int64_t max_ttl_s, uint8_t key[16]);
#define AUTH_REALM_MAX		127	/* RFC 8489 §14.9: < 128 characters */

/* nonces; out gets AUTH_NONCE_LEN characters plus a NUL */
void	auth_nonce_mint(const uint8_t key[AUTH_NONCE_KEY_LEN],
	    const struct taddr *client, uint64_t now_s,
	    char out[AUTH_NONCE_LEN + 1]);
/* 0 valid, -1 unknown/tampered/wrong address/expired (all "stale") */
int	auth_nonce_check(const uint8_t key[AUTH_NONCE_KEY_LEN],
	    const struct taddr *client, uint64_t now_s,
	    const uint8_t *nonce, size_t len);

/* constant-time equality (nettle memeql_sec) */
int	auth_memeq(const void *, const void *, size_t);

/*
 * base64 (standard alphabet), with or without '=' padding. Writes the
 * text plus a NUL and returns its length; returns 0 (and out = "" when
 * cap > 0) if it does not fit in cap bytes including the NUL.
 */
size_t	auth_b64(const uint8_t *, size_t, char *out, size_t cap, int pad);

#endif
