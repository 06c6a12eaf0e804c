/*
 * fuzz_stun.c: libFuzzer harness for the STUN codec (attack case 39 a-c).
 *
 * Decode the input as STUN; verify MESSAGE-INTEGRITY with a fixed key;
 * decode it as ChannelData; then rebuild a response from the decoded
 * fields with the encoder and check that it decodes back to the same
 * values with a valid MESSAGE-INTEGRITY and FINGERPRINT.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t fuzz_key[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
};

#define FUZZ_CHECK(c)	do { if (!(c)) abort(); } while (0)

static void
fuzz_reencode(const struct stun_msg *m, int rc, int code)
{
	uint8_t		 out[STUN_MAX_MSG];
	struct stun_enc	 e;
	struct stun_msg	 r;
	long		 n;
	size_t		 i;
	int		 rrc, rcode;

	stun_enc_init(&e, out, sizeof(out), m->method,
	    rc == STUN_OK ? STUN_SUCCESS : STUN_ERROR, m->tid);
	if (m->has & STUN_HAS_SOFTWARE)
		stun_put_attr(&e, STUN_A_SOFTWARE, m->software,
		    m->software_len);
	if (rc == STUN_REPLY) {
		stun_put_error(&e, code);
		if (code == STUN_ERR_UNKNOWN_ATTRIBUTE)
			stun_put_unknown(&e, m->unknown, m->n_unknown);
	}
	if (m->has & STUN_HAS_REALM)
		stun_put_attr(&e, STUN_A_REALM, m->realm, m->realm_len);
	if (m->has & STUN_HAS_NONCE)
		stun_put_attr(&e, STUN_A_NONCE, m->nonce, m->nonce_len);
	for (i = 0; i < m->n_peers; i++)
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, &m->peers[i]);
	if (m->has & STUN_HAS_MAPPED)
		stun_put_xaddr(&e, STUN_A_XOR_MAPPED_ADDRESS, &m->mapped);
	if (m->has & STUN_HAS_LIFETIME)
		stun_put_u32(&e, STUN_A_LIFETIME, m->lifetime);
	if (m->has & STUN_HAS_USERNAME)
		stun_put_attr(&e, STUN_A_USERNAME, m->username,
		    m->username_len);
	stun_put_mi(&e, fuzz_key);
	stun_put_fingerprint(&e);
	if ((n = stun_enc_finish(&e)) < 0)
		return;		/* did not fit: fine, nothing was sent */
	FUZZ_CHECK(n >= STUN_HDR_LEN && (n & 3) == 0);

	rrc = stun_decode(out, (size_t)n, &r, &rcode);
	FUZZ_CHECK(rrc == STUN_OK);
	FUZZ_CHECK(r.method == m->method);
	FUZZ_CHECK(memcmp(r.tid, m->tid, STUN_TID_LEN) == 0);
	FUZZ_CHECK(r.has & STUN_HAS_FINGERPRINT);
	FUZZ_CHECK(stun_check_mi(&r, fuzz_key) == 1);
	FUZZ_CHECK(r.n_peers == m->n_peers);
	for (i = 0; i < m->n_peers; i++)
		FUZZ_CHECK(addr_eq(&r.peers[i], &m->peers[i]));
	FUZZ_CHECK(r.username_len == m->username_len);
	FUZZ_CHECK(r.username_len == 0 ||
	    memcmp(r.username, m->username, r.username_len) == 0);
	FUZZ_CHECK(r.lifetime == m->lifetime);
	if (rc == STUN_REPLY)
		FUZZ_CHECK(r.error_code == code);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct stun_msg	 m;
	const uint8_t	*pl;
	size_t		 plen, i;
	uint16_t	 ch;
	char		 s[ADDR_STRLEN];
	int		 rc, code;

	rc = stun_decode(p, n, &m, &code);
	if (rc != STUN_DROP) {
		FUZZ_CHECK(n >= STUN_HDR_LEN);
		FUZZ_CHECK(rc == STUN_OK || code == STUN_ERR_BAD_REQUEST ||
		    code == STUN_ERR_UNKNOWN_ATTRIBUTE);
		FUZZ_CHECK(m.n_peers <= STUN_MAX_PEERS);
		FUZZ_CHECK(m.n_unknown <= STUN_MAX_UNKNOWN);
		if (m.has & STUN_HAS_MI) {
			FUZZ_CHECK(m.mi_off + 24 <= n);
			(void)stun_check_mi(&m, fuzz_key);
		}
		for (i = 0; i < m.n_peers; i++)
			addr_fmt(&m.peers[i], s, sizeof(s));
		(void)stun_method_name(m.method);
		fuzz_reencode(&m, rc, code);
	}

	if (cdata_is(p, n) && cdata_decode(p, n, &ch, &pl, &plen) == 0) {
		uint8_t	 hdr[CDATA_HDR_LEN];

		FUZZ_CHECK(plen + CDATA_HDR_LEN <= n && pl == p + 4);
		FUZZ_CHECK(cdata_put_hdr(hdr, ch, plen) == 0);
		FUZZ_CHECK(memcmp(hdr, p, CDATA_HDR_LEN) == 0);
	}
	return 0;
}
