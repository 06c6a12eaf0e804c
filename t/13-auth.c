/*
 * 13-auth: Firezone credentials (the password and key vectors of the
 * Firezone relay's auth.rs unit tests, and the vector user of t/21), the
 * REST scheme, username validation (attack cases 16, 17) and stateless
 * nonces (attack cases 18-20).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "tap.h"
#include "tstun.h"

#define U(s)	(const uint8_t *)(s), strlen(s)

static void
test_passwords(void)
{
	static const struct {
		uint64_t	 expiry;
		const char	*secret, *salt, *want;
	} v[] = {
		{ 1892160000ULL,
		  "4c98bf59c99b3e467ecd7cf9d6b3e5279645fca59be67bc5bb4af3cf653761ab",
		  "n23JJ2wKKtt30oXi",
		  "00hqldgk5xLeKKOB+xls9mHMVtgqzie9DulfgQwMv68" },
		{ 1685984278ULL, "1cab293a-4032-46f4-862a-40e5d174b0d2",
		  "uvdgKvS9GXYZ_vmv",
		  "6xUIoZ+QvxKhRasLifwfRkMXl+ETLJUsFkHlXjlHAkg" },
		{ 4102444800ULL,
		  "0000000000000000000000000000000000000000000000000000000000000000",
		  "abcdefghij",
		  "izLTF0QnQC5bcltVxbyfK8r8wOW0iLM5g6vZqRBi1yA" },
	};
	char	out[AUTH_PASS_LEN + 1];
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 'X', sizeof(out));
		auth_password(v[i].expiry, v[i].secret, strlen(v[i].secret),
		    v[i].salt, strlen(v[i].salt), out);
		is_str(out, v[i].want, "password vector %zu", i);
	}
}

static void
test_b64(void)
{
	char	out[16];

	is_int(auth_b64(U("f"), out, sizeof(out), 1), 4, "b64 f padded len");
	is_str(out, "Zg==", "b64 f padded");
	is_int(auth_b64(U("f"), out, sizeof(out), 0), 2, "b64 f raw len");
	is_str(out, "Zg", "b64 f raw");
	is_int(auth_b64(U("fo"), out, sizeof(out), 0), 3, "b64 fo raw len");
	is_str(out, "Zm8", "b64 fo raw");
	is_int(auth_b64(U("foobar"), out, sizeof(out), 0), 8, "b64 foobar");
	is_str(out, "Zm9vYmFy", "b64 foobar text");
	is_int(auth_b64(U("foobar"), out, 8, 1), 0, "b64 does not fit");
	is_str(out, "", "b64 does not fit: empty string");
	is_int(auth_b64(U("foobar"), out, 9, 1), 8, "b64 exact fit");
}

static void
test_firezone_keys(void)
{
	uint8_t		key[16], key2[16], want[16];
	const char	*user = "1685200000:n23JJ2wKKtt30oXi";
	char		pass[AUTH_PASS_LEN + 1];
	int		r;

	/* smoke: the Firezone relay's auth.rs "smoke" test */
	memset(key, 0, sizeof(key));
	r = auth_user_key(AUTH_SCHEME_FIREZONE, "1", 1, U(user),
	    1685200000 - 1000, 0, key);
	is_int(r, AUTH_OK, "smoke: AUTH_OK");
	/* password from the formula, by Python: sha256 of 1685200000:1:n23.. */
	auth_password(1685200000, "1", 1, "n23JJ2wKKtt30oXi", 16, pass);
	is_str(pass, "DUZtwPYV7siUUFY6rJxrrQ2D8LQIYyP+Psvt85brimk",
	    "smoke: password");
	ts_key_make(user, "DUZtwPYV7siUUFY6rJxrrQ2D8LQIYyP+Psvt85brimk", want);
	is_mem(key, 16, want, 16, "smoke: key = MD5(user:firezone:pass)");

	/* fixed full key vector (Python): the t/21 vector credentials */
	tap_unhex("ccf981ef582505d33b0bf35b3b74e9b5", want, sizeof(want));
	r = auth_user_key(AUTH_SCHEME_FIREZONE,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    64, U("4102444800:abcdefghij"), 1700000000, 0, key);
	is_int(r, AUTH_OK, "vector user: AUTH_OK");
	is_mem(key, 16, want, 16, "vector user: key vector");

	/* expired_is_not_valid, key still filled */
	memset(key, 0, sizeof(key));
	memset(want, 0, sizeof(want));
	r = auth_user_key(AUTH_SCHEME_FIREZONE, "1", 1,
	    U("1685199000:n23JJ2wKKtt30oXi"), 1685200000, 0, key);
	is_int(r, AUTH_EXPIRED, "expired_is_not_valid");
	ok(!auth_memeq(key, want, 16), "expired: key still filled");
	r = auth_user_key(AUTH_SCHEME_FIREZONE, "1", 1,
	    U("1685199000:n23JJ2wKKtt30oXi"), 1685199000, 0, key);
	is_int(r, AUTH_OK, "expiry == now is still valid");
	r = auth_user_key(AUTH_SCHEME_FIREZONE, "1", 1,
	    U("1685199000:n23JJ2wKKtt30oXi"), 1685199001, 0, key);
	is_int(r, AUTH_EXPIRED, "expiry == now - 1 is expired");

	/* different secret: different key */
	auth_user_key(AUTH_SCHEME_FIREZONE, "1", 1, U(user), 0, 0, key);
	auth_user_key(AUTH_SCHEME_FIREZONE, "2", 1, U(user), 0, 0, key2);
	ok(!auth_memeq(key, key2, 16), "different secret, different key");
	/* different salt: different key */
	auth_user_key(AUTH_SCHEME_FIREZONE, "1", 1,
	    U("1685200000:n23JJ2wKKtt30oXj"), 0, 0, key2);
	ok(!auth_memeq(key, key2, 16), "different salt, different key");

	/* leading zeros: password over the re-formatted expiry, key over
	 * the username as sent */
	r = auth_user_key(AUTH_SCHEME_FIREZONE, "1", 1,
	    U("01685200000:n23JJ2wKKtt30oXi"), 0, 0, key);
	is_int(r, AUTH_OK, "leading zero expiry parses");
	ts_key_make("01685200000:n23JJ2wKKtt30oXi",
	    "DUZtwPYV7siUUFY6rJxrrQ2D8LQIYyP+Psvt85brimk", want);
	is_mem(key, 16, want, 16, "leading zero: normalised password");
}

static void
test_bad_usernames(void)
{
	static const struct {
		const char	*name;
		const char	*u;
		size_t		 len;
	} v[] = {
		{ "foobar", "foobar", 6 },
		{ "abc:alice", "abc:alice", 9 },
		{ ":alice", ":alice", 6 },
		{ "alice", "alice", 5 },
		{ "-5:alice", "-5:alice", 8 },
		{ "+5:alice", "+5:alice", 8 },
		{ "u64 overflow", "99999999999999999999:alice", 26 },
		{ "u64 max + 1", "18446744073709551616:alice", 26 },
		{ "1e9:alice", "1e9:alice", 9 },
		{ "embedded NUL in salt", "5:al\0ice", 8 },
		{ "embedded NUL in expiry", "5\0:alice", 8 },
		{ "empty salt", "5:", 2 },
		{ "two colons", "5:a:b", 5 },
		{ "control char", "5:al\x01ice", 8 },
		{ "newline", "5:alice\n", 8 },
		{ "DEL", "5:al\x7f", 5 },
		{ "space in expiry", " 5:alice", 8 },
		{ "hex expiry", "0x5:alice", 9 },
		{ "empty", "", 0 },
		{ "only colon", ":", 1 },
	};
	uint8_t		 key[16];
	uint64_t	 exp;
	const uint8_t	*salt;
	size_t		 slen, i;
	uint8_t		 big[600];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		is_int(auth_parse_username((const uint8_t *)v[i].u, v[i].len,
		    &exp, &salt, &slen), AUTH_BAD_USERNAME, "parse: %s",
		    v[i].name);
		is_int(auth_user_key(AUTH_SCHEME_FIREZONE, "s", 1,
		    (const uint8_t *)v[i].u, v[i].len, 0, 0, key),
		    AUTH_BAD_USERNAME, "key: %s", v[i].name);
	}
	/* positive controls */
	is_int(auth_parse_username(U("18446744073709551615:a"), &exp, &salt,
	    &slen), AUTH_OK, "u64 max parses");
	ok(exp == UINT64_MAX && slen == 1 && salt[0] == 'a',
	    "u64 max value and salt");
	is_int(auth_parse_username(U("0:\x80\xff~"), &exp, &salt, &slen),
	    AUTH_OK, "high bytes and ~ are fine in a salt");
	/* oversize */
	memset(big, 'a', sizeof(big));
	memcpy(big, "5:", 2);
	is_int(auth_parse_username(big, 512, &exp, &salt, &slen), AUTH_OK,
	    "512-byte username ok");
	is_int(auth_parse_username(big, 513, &exp, &salt, &slen),
	    AUTH_BAD_USERNAME, "513-byte username rejected");
	is_int(auth_user_key(0, "s", 1, U("5:a"), 0, 0, key),
	    AUTH_BAD_USERNAME, "no scheme enabled");
}

static void
test_max_ttl(void)
{
	uint8_t	key[16];
	char	u[64];
	int64_t	now = 1700000000;

	snprintf(u, sizeof(u), "%lld:alice", (long long)(now + 86400));
	is_int(auth_user_key(AUTH_SCHEME_FIREZONE, "s", 1, U(u), now, 86400,
	    key), AUTH_OK, "expiry == now + max_ttl ok");
	is_int(auth_user_key(AUTH_SCHEME_FIREZONE, "s", 1, U(u), now, 86399,
	    key), AUTH_EXPIRED, "expiry == now + max_ttl + 1 rejected");
	snprintf(u, sizeof(u), "%lld:alice",
	    (long long)(now + 10LL * 365 * 86400));
	is_int(auth_user_key(AUTH_SCHEME_FIREZONE, "s", 1, U(u), now,
	    7 * 86400, key), AUTH_EXPIRED, "now + 10 years, max 7 d: rejected");
	is_int(auth_user_key(AUTH_SCHEME_FIREZONE, "s", 1, U(u), now, 0, key),
	    AUTH_OK, "now + 10 years, no max: ok");
	is_int(auth_user_key(AUTH_SCHEME_FIREZONE, "s", 1,
	    U("18446744073709551615:a"), now, 3600, key), AUTH_EXPIRED,
	    "u64 max expiry with max ttl: rejected, no overflow");
	is_int(auth_user_key(AUTH_SCHEME_REST, "s", 1, U(u), now, 7 * 86400,
	    key), AUTH_EXPIRED, "REST honours max ttl too");
}

static void
test_rest(void)
{
	char	pass[AUTH_REST_PASS_LEN + 1];
	uint8_t	key[16], key2[16], want[16];
	int	r;

	/* vector from Python hmac/hashlib/base64 */
	auth_rest_password("north", 5, U("1700000000:alice"), pass);
	is_str(pass, "Cd/49soE35ICqcJF/bCTn8Z4OyE=", "REST password vector");
	r = auth_user_key(AUTH_SCHEME_REST, "north", 5, U("1700000000:alice"),
	    1600000000, 0, key);
	is_int(r, AUTH_OK, "REST key: AUTH_OK");
	tap_unhex("3caac791d5e49ec28f176de6ba4a627e", want, sizeof(want));
	is_mem(key, 16, want, 16, "REST key vector");
	r = auth_user_key_scheme(AUTH_SCHEME_REST, "north", 5,
	    U("1700000000:alice"), 1600000000, 0, key2);
	is_mem(key2, 16, want, 16, "auth_user_key_scheme(REST) same key");
	is_int(auth_user_key(AUTH_SCHEME_REST, "north", 5,
	    U("1700000000:alice"), 1700000001, 0, key), AUTH_EXPIRED,
	    "REST expired");
	is_int(auth_user_key(AUTH_SCHEME_REST, "north", 5, U("1700000000"),
	    0, 0, key), AUTH_OK, "REST bare expiry ok");
	is_int(auth_user_key(AUTH_SCHEME_REST, "north", 5,
	    U("1700000000:a:b c"), 0, 0, key), AUTH_OK,
	    "REST user may contain ':' and spaces");
	is_int(auth_user_key(AUTH_SCHEME_REST, "north", 5, U("alice"), 0, 0,
	    key), AUTH_BAD_USERNAME, "REST: no expiry");
	is_int(auth_user_key(AUTH_SCHEME_REST, "north", 5,
	    U("alice:1700000000"), 0, 0, key), AUTH_BAD_USERNAME,
	    "REST: user first");
	is_int(auth_user_key(AUTH_SCHEME_REST, "north", 5,
	    U("1700000000:a\tb"), 0, 0, key), AUTH_BAD_USERNAME,
	    "REST: control char");

	/* both schemes: FIREZONE first, REST when FIREZONE's format fails */
	auth_user_key(AUTH_SCHEME_FIREZONE, "north", 5, U("1700000000:alice"),
	    0, 0, key2);
	auth_user_key(AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST, "north", 5,
	    U("1700000000:alice"), 0, 0, key);
	is_mem(key, 16, key2, 16, "both schemes: FIREZONE key first");
	ok(!auth_memeq(key, want, 16), "FIREZONE and REST keys differ");
	r = auth_user_key(AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST, "north", 5,
	    U("1700000000"), 0, 0, key);
	is_int(r, AUTH_OK, "both schemes: bare expiry falls back to REST");
	auth_user_key(AUTH_SCHEME_REST, "north", 5, U("1700000000"), 0, 0,
	    key2);
	is_mem(key, 16, key2, 16, "both schemes: fallback gives REST key");
	is_int(auth_user_key_scheme(AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST,
	    "north", 5, U("1700000000:alice"), 0, 0, key), AUTH_BAD_USERNAME,
	    "auth_user_key_scheme wants exactly one scheme");
}

static void
mkaddr(struct taddr *a, int fam, const char *hexip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)fam;
	a->port = port;
	tap_unhex(hexip, a->ip, sizeof(a->ip));
}

static void
test_nonces(void)
{
	uint8_t		key[AUTH_NONCE_KEY_LEN], key2[AUTH_NONCE_KEY_LEN];
	struct taddr	c, c6, other;
	char		n1[AUTH_NONCE_LEN + 1], n2[AUTH_NONCE_LEN + 1];
	char		t[AUTH_NONCE_LEN + 2];
	uint64_t	ts = 1700000000;
	size_t		i;
	int		bad;

	for (i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)i;
		key2[i] = (uint8_t)(i + 1);
	}
	mkaddr(&c, ADDR_V4, "c6336407", 40000);		/* 198.51.100.7 */
	mkaddr(&c6, ADDR_V6, "20010db8000000000000000000000001", 3478);

	/* fixed vectors (Python hmac/hashlib) pin the format */
	auth_nonce_mint(key, &c, ts, n1);
	is_str(n1, "6553f100b8fe38f78b3c2b0a3e6126ad", "v4 nonce vector");
	auth_nonce_mint(key, &c6, ts, n2);
	is_str(n2, "6553f100c027f3430e8459840781af46", "v6 nonce vector");
	is_int(strlen(n1), AUTH_NONCE_LEN, "nonce length");

	auth_nonce_mint(key, &c, ts, n2);
	is_str(n2, n1, "same client, same time: same nonce");
	is_int(auth_nonce_check(key, &c, ts, U(n1)), 0, "check ok");
	is_int(auth_nonce_check(key, &c, ts + 3599, U(n1)), 0, "ts+3599 ok");
	is_int(auth_nonce_check(key, &c, ts + 3600, U(n1)), -1,
	    "ts+3600 stale");
	is_int(auth_nonce_check(key, &c, ts - 1, U(n1)), -1,
	    "from the future: stale");
	is_int(auth_nonce_check(key2, &c, ts, U(n1)), -1, "different key");

	other = c;
	other.port++;
	is_int(auth_nonce_check(key, &other, ts, U(n1)), -1,
	    "different port (attack case 19)");
	other = c;
	other.ip[3] ^= 1;
	is_int(auth_nonce_check(key, &other, ts, U(n1)), -1,
	    "different IP (attack case 19)");
	other = c;
	other.family = ADDR_V6;
	is_int(auth_nonce_check(key, &other, ts, U(n1)), -1,
	    "different family");
	/* junk beyond ip[4] of a v4 address does not change the binding */
	other = c;
	other.ip[15] = 0xaa;
	is_int(auth_nonce_check(key, &other, ts, U(n1)), 0,
	    "v4: bytes past ip[3] ignored");
	is_int(auth_nonce_check(key, &c6, ts, U(n2)), -1,
	    "v4 nonce from a v6 client");

	/* tamper each position (attack case 20) */
	bad = 0;
	for (i = 0; i < AUTH_NONCE_LEN; i++) {
		memcpy(t, n1, sizeof(n1));
		t[i] = t[i] == '0' ? '1' : '0';
		if (auth_nonce_check(key, &c, ts, (uint8_t *)t,
		    AUTH_NONCE_LEN) != -1)
			bad++;
	}
	is_int(bad, 0, "every tampered position rejected");
	/* re-stamped ts with the old MAC */
	memcpy(t, n1, sizeof(n1));
	t[15] = (char)(t[15] == 'f' ? 'e' : t[15] + 1);
	is_int(auth_nonce_check(key, &c, ts + 100, (uint8_t *)t,
	    AUTH_NONCE_LEN), -1, "shifted timestamp rejected");

	is_int(auth_nonce_check(key, &c, ts, (const uint8_t *)n1,
	    AUTH_NONCE_LEN - 1), -1, "truncated");
	memcpy(t, n1, AUTH_NONCE_LEN);
	t[AUTH_NONCE_LEN] = '0';
	is_int(auth_nonce_check(key, &c, ts, (uint8_t *)t, AUTH_NONCE_LEN + 1),
	    -1, "overlong");
	is_int(auth_nonce_check(key, &c, ts, (const uint8_t *)"", 0), -1,
	    "empty");
	is_int(auth_nonce_check(key, &c, ts, NULL, 0), -1, "NULL");
	memcpy(t, n1, sizeof(n1));
	for (i = 0; i < AUTH_NONCE_LEN; i++)
		if (t[i] >= 'a' && t[i] <= 'f')
			t[i] = (char)(t[i] - 'a' + 'A');
	is_int(auth_nonce_check(key, &c, ts, (uint8_t *)t, AUTH_NONCE_LEN), -1,
	    "uppercase");
	memcpy(t, n1, sizeof(n1));
	t[20] = 'g';
	is_int(auth_nonce_check(key, &c, ts, (uint8_t *)t, AUTH_NONCE_LEN), -1,
	    "non-hex");
	is_int(auth_nonce_check(key, &c, ts,
	    U("00000000-0000-0000-0000-000000000000")), -1,
	    "reference-style UUID nonce");

	/* a later mint differs, and the old one stays valid within TTL */
	auth_nonce_mint(key, &c, ts + 10, n2);
	ok(strcmp(n1, n2) != 0, "later mint differs");
	is_int(auth_nonce_check(key, &c, ts + 10, U(n1)), 0,
	    "older nonce still valid");
}

int
main(void)
{
	test_passwords();
	test_b64();
	test_firezone_keys();
	test_bad_usernames();
	test_max_ttl();
	test_rest();
	test_nonces();
	return done_testing();
}
