/*
 * fuzz_auth: libFuzzer harness for the credential and peer parsers.
 *
 * The input is used, unchanged, as a USERNAME (auth_parse_username,
 * auth_user_key under each scheme), as a NONCE (auth_nonce_check), and as
 * a NUL-terminated --allow-peer CIDR (peer_cidr_parse, then peer_check of
 * the parsed network). Invariants checked: a parsed salt lies inside the
 * input; a random-looking nonce never verifies unless it is the one we
 * mint; a parsed CIDR has a valid family and prefix length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "peer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t	fz_key[AUTH_NONCE_KEY_LEN] = { 1, 2, 3, 4, 5 };

static void
fz_username(const uint8_t *d, size_t n)
{
	const uint8_t	*salt;
	size_t		 slen;
	uint64_t	 exp;
	uint8_t		 key[16];

	if (auth_parse_username(d, n, &exp, &salt, &slen) == AUTH_OK) {
		if (salt < d || salt + slen > d + n || slen == 0)
			abort();
		if (memchr(salt, ':', slen) != NULL)
			abort();
	}
	(void)auth_user_key(AUTH_SCHEME_FIREZONE, "secret", 6, d, n,
	    1700000000, 0, key);
	(void)auth_user_key(AUTH_SCHEME_REST, "secret", 6, d, n,
	    1700000000, 86400, key);
	(void)auth_user_key(AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST, "", 0,
	    d, n, -1, 1, key);
}

static void
fz_nonce(const uint8_t *d, size_t n)
{
	struct taddr	c;
	char		mine[AUTH_NONCE_LEN + 1], ts[17];
	uint64_t	now = 1700000000;

	memset(&c, 0, sizeof(c));
	c.family = ADDR_V4;
	c.port = 40000;
	c.ip[0] = 198;
	c.ip[1] = 51;
	c.ip[2] = 100;
	c.ip[3] = 7;
	if (n >= 16) {
		/* give the fuzzer a chance: the input's ts with a real MAC */
		memcpy(ts, d, 16);
		ts[16] = '\0';
		auth_nonce_mint(fz_key, &c, strtoull(ts, NULL, 16), mine);
		(void)auth_nonce_check(fz_key, &c, now, (uint8_t *)mine,
		    AUTH_NONCE_LEN);
	}
	if (auth_nonce_check(fz_key, &c, now, d, n) != 0)
		return;
	/* only a nonce we would mint for its own timestamp may pass */
	if (n != AUTH_NONCE_LEN)
		abort();
	memcpy(ts, d, 16);
	ts[16] = '\0';
	auth_nonce_mint(fz_key, &c, strtoull(ts, NULL, 16), mine);
	if (!auth_memeq(d, mine, AUTH_NONCE_LEN))
		abort();
}

static void
fz_cidr(const uint8_t *d, size_t n)
{
	struct peer_filter	f;
	char			buf[256];
	size_t			len = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;

	memcpy(buf, d, len);
	buf[len] = '\0';
	memset(&f, 0, sizeof(f));
	if (peer_cidr_parse(buf, &f.allow[0]) == 0) {
		if (f.allow[0].net.family == ADDR_V4 ?
		    f.allow[0].bits > 32 : f.allow[0].net.family == ADDR_V6 ?
		    f.allow[0].bits > 128 : 1)
			abort();
		f.n_allow = 1;
		f.allow[0].net.port = 1;
		if (!peer_cidr_match(&f.allow[0], &f.allow[0].net))
			abort();
		(void)peer_check(&f, &f.allow[0].net);
		(void)peer_check(NULL, &f.allow[0].net);
	}
}

/* also classify the raw bytes as addresses */
static void
fz_peer(const uint8_t *d, size_t n)
{
	struct taddr	a, e;

	if (n < 19)
		return;
	memset(&a, 0, sizeof(a));
	a.family = d[0] & 1 ? ADDR_V6 : ADDR_V4;
	a.port = (uint16_t)(d[1] << 8 | d[2]);
	memcpy(a.ip, d + 3, a.family == ADDR_V6 ? 16 : 4);
	(void)peer_check(NULL, &a);
	if (peer_embedded_v4(&a, &e) && e.family != ADDR_V4)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	fz_username(d, n);
	fz_nonce(d, n);
	fz_cidr(d, n);
	fz_peer(d, n);
	return 0;
}
