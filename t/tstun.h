/*
 * tstun.h: the STUN test encoder and response walker shared by the engine
 * tests (t/2x-*.c).
 *
 * Independent of the codec under test: requests are built and responses
 * read here with the wire constants written out below, nettle for
 * HMAC-SHA1/SHA-256/MD5 and zlib for FINGERPRINT, never with stun.c. Pure
 * (no I/O), so the unit tests may link it (see t/README.md).
 */
#ifndef TSTUN_H
#define TSTUN_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* methods and classes (RFC 8489 §5, RFC 8656 §17) */
#define M_BINDING	0x001
#define M_ALLOCATE	0x003
#define M_REFRESH	0x004
#define M_SEND		0x006
#define M_DATA		0x007
#define M_PERMISSION	0x008
#define M_CHANBIND	0x009
#define C_REQ		0
#define C_IND		1
#define C_OK		2
#define C_ERR		3

/* attribute types (RFC 8489 §18.3, RFC 8656 §18, RFC 8445 §16) */
#define A_USERNAME	0x0006
#define A_MI		0x0008
#define A_ERROR		0x0009
#define A_UNKNOWN	0x000A
#define A_CHANNEL	0x000C
#define A_LIFETIME	0x000D
#define A_PEER		0x0012
#define A_DATA		0x0013
#define A_REALM		0x0014
#define A_NONCE		0x0015
#define A_RELAYED	0x0016
#define A_REQ_FAM	0x0017
#define A_EVEN_PORT	0x0018
#define A_TRANSPORT	0x0019
#define A_DONT_FRAG	0x001A
#define A_XMAPPED	0x0020
#define A_RES_TOKEN	0x0022
#define A_ADD_FAM	0x8000
#define A_SOFTWARE	0x8022
#define A_ALTERNATE	0x8023
#define A_FP		0x8028

#define TS_NONCE_LEN	32	/* 8 hex seconds + 24 hex MAC */

/* a request under construction; the header length is kept current */
struct ts_req {
	uint8_t		 b[1500];
	size_t		 len;
};

/* long-term credentials: USERNAME, password, MD5 key */
struct ts_cred {
	char		 user[128];
	char		 pass[64];
	uint8_t		 key[16];
};

uint16_t ts_mtype(uint16_t method, int cls);
void	 ts_put16(uint8_t *, unsigned);
void	 ts_put32(uint8_t *, uint32_t);
unsigned ts_get16(const uint8_t *);
uint32_t ts_get32(const uint8_t *);

/* header with a fresh, deterministic transaction id */
void	 ts_req_init(struct ts_req *, uint16_t method, int cls);
/* one attribute, zero-padded; aborts when it would not fit */
void	 ts_req_attr(struct ts_req *, uint16_t type, const void *, size_t);
void	 ts_req_str(struct ts_req *, uint16_t type, const char *);
void	 ts_req_u32(struct ts_req *, uint16_t type, uint32_t);
/* a 4-byte value whose first byte is v (TRANSPORT, families) */
void	 ts_req_byte(struct ts_req *, uint16_t type, uint8_t v);
void	 ts_req_channel(struct ts_req *, unsigned chan);
void	 ts_req_xaddr(struct ts_req *, uint16_t type, const struct taddr *);
/* MESSAGE-INTEGRITY (HMAC-SHA1 under key); FINGERPRINT */
void	 ts_req_mi(struct ts_req *, const uint8_t key[16]);
void	 ts_req_fp(struct ts_req *);
/* USERNAME, REALM "firezone", NONCE, MESSAGE-INTEGRITY */
void	 ts_req_auth(struct ts_req *, const struct ts_cred *,
	    const char *nonce);

/* Firezone credentials: user "<expiry>:<salt>", password
 * base64(SHA-256("<expiry>:<secret>:<salt>")) without padding */
void	 ts_cred_make(struct ts_cred *, const char *secret, uint64_t expiry,
	    const char *salt);
/* TURN REST: password base64(HMAC-SHA1(secret, user)), padded */
void	 ts_rest_make(struct ts_cred *, const char *secret,
	    const char *user);
/* MD5("<user>:firezone:<pass>") */
void	 ts_key_make(const char *user, const char *pass, uint8_t key[16]);
/* turncell's stateless nonce for a client address at now_s, under the
 * all-zero nonce key (an all-zero RNG at engine start) */
void	 ts_nonce(const struct taddr *, uint64_t now_s,
	    char out[TS_NONCE_LEN + 1]);

/* first attribute of a type; NULL if absent or the message is broken */
const uint8_t *ts_attr(const uint8_t *, size_t, uint16_t type,
	    size_t *vlen);
/* the type of the attribute at index idx (0 = first), 0 if none */
unsigned ts_attr_at(const uint8_t *, size_t, int idx);
/* number of attributes; -1 if the lengths or the padding are wrong */
int	 ts_nattrs(const uint8_t *, size_t);
/* ERROR-CODE as a number, 0 if absent */
int	 ts_code(const uint8_t *, size_t);
/* 1 valid MESSAGE-INTEGRITY under key, 0 none, -1 wrong */
int	 ts_mi(const uint8_t *, size_t, const uint8_t key[16]);
/* 1 FINGERPRINT present, last and correct; 0 absent; -1 wrong */
int	 ts_fp(const uint8_t *, size_t);
/* an XOR address value of message p; 0 or -1 */
int	 ts_xaddr(const uint8_t *p, const uint8_t *v, size_t vlen,
	    struct taddr *);

#endif
