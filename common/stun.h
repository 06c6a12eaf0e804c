/*
 * stun.h: STUN/TURN codec (RFC 8489, RFC 8656), UDP only.
 *
 * Decoding never allocates: struct stun_msg points into the datagram it
 * was decoded from. stun_decode() has three outcomes (Firezone's nested
 * Result): STUN_OK, STUN_REPLY (header fine, attributes invalid: answer
 * with the error code it gives, using the header's method and transaction
 * id) and STUN_DROP (not a STUN message we answer: no reply at all).
 *
 * Encoding goes only through stun_enc_*(), which writes every byte it
 * accounts for (padding is zero), so a response can never carry
 * uninitialised memory.
 */
#ifndef STUN_H
#define STUN_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "cdata.h"	/* ChannelData shares the port with STUN */

#define STUN_HDR_LEN		20
#define STUN_MAGIC		0x2112A442u
#define STUN_TID_LEN		12
#define STUN_FP_XOR		0x5354554eu
#define STUN_MI_LEN		20
#define STUN_MAX_MSG		1500	/* largest response we build */

/* methods */
#define STUN_BINDING		0x001
#define STUN_ALLOCATE		0x003
#define STUN_REFRESH		0x004
#define STUN_SEND		0x006
#define STUN_DATA		0x007
#define STUN_CREATE_PERMISSION	0x008
#define STUN_CHANNEL_BIND	0x009

/* classes */
#define STUN_REQUEST		0
#define STUN_INDICATION		1
#define STUN_SUCCESS		2
#define STUN_ERROR		3

/* attributes */
#define STUN_A_MAPPED_ADDRESS		0x0001
#define STUN_A_USERNAME			0x0006
#define STUN_A_MESSAGE_INTEGRITY	0x0008
#define STUN_A_ERROR_CODE		0x0009
#define STUN_A_UNKNOWN_ATTRIBUTES	0x000A
#define STUN_A_CHANNEL_NUMBER		0x000C
#define STUN_A_LIFETIME			0x000D
#define STUN_A_XOR_PEER_ADDRESS		0x0012
#define STUN_A_DATA			0x0013
#define STUN_A_REALM			0x0014
#define STUN_A_NONCE			0x0015
#define STUN_A_XOR_RELAYED_ADDRESS	0x0016
#define STUN_A_REQUESTED_ADDRESS_FAMILY	0x0017
#define STUN_A_EVEN_PORT		0x0018
#define STUN_A_REQUESTED_TRANSPORT	0x0019
#define STUN_A_DONT_FRAGMENT		0x001A
#define STUN_A_MESSAGE_INTEGRITY_SHA256	0x001C
#define STUN_A_USERHASH			0x001E
#define STUN_A_XOR_MAPPED_ADDRESS	0x0020
#define STUN_A_RESERVATION_TOKEN	0x0022
#define STUN_A_ADDITIONAL_ADDRESS_FAMILY 0x8000
#define STUN_A_SOFTWARE			0x8022
#define STUN_A_ALTERNATE_SERVER		0x8023
#define STUN_A_FINGERPRINT		0x8028

/* error codes (named, never bare numbers in the core) */
#define STUN_ERR_TRY_ALTERNATE		300
#define STUN_ERR_BAD_REQUEST		400
#define STUN_ERR_UNAUTHORIZED		401
#define STUN_ERR_FORBIDDEN		403
#define STUN_ERR_UNKNOWN_ATTRIBUTE	420
#define STUN_ERR_ALLOC_MISMATCH		437
#define STUN_ERR_STALE_NONCE		438
#define STUN_ERR_AF_NOT_SUPPORTED	440
#define STUN_ERR_WRONG_CREDENTIALS	441
#define STUN_ERR_UNSUPPORTED_TRANSPORT	442
#define STUN_ERR_PEER_AF_MISMATCH	443
#define STUN_ERR_ALLOC_QUOTA		486
#define STUN_ERR_SERVER_ERROR		500
#define STUN_ERR_INSUFFICIENT_CAPACITY	508

/* REQUESTED-/ADDITIONAL-ADDRESS-FAMILY values on the wire */
#define STUN_AF_IPV4		0x01
#define STUN_AF_IPV6		0x02

/* limits (RFC 8489 §14): value lengths at which a known attribute is 400 */
#define STUN_MAX_USERNAME	512	/* < 513 bytes */
#define STUN_MAX_REALM		763
#define STUN_MAX_NONCE		763
#define STUN_MAX_SOFTWARE	763
#define STUN_MAX_PEERS		8	/* XOR-PEER-ADDRESS per request */
#define STUN_MAX_UNKNOWN	8	/* listed in a 420 */

#define STUN_CHAN_MIN		CDATA_CHAN_MIN
#define STUN_CHAN_MAX		CDATA_CHAN_MAX

/* decode outcomes */
#define STUN_OK		0
#define STUN_REPLY	1
#define STUN_DROP	(-1)

/* presence bits in stun_msg.has */
#define STUN_HAS_USERNAME	0x0001
#define STUN_HAS_REALM		0x0002
#define STUN_HAS_NONCE		0x0004
#define STUN_HAS_MI		0x0008
#define STUN_HAS_LIFETIME	0x0010
#define STUN_HAS_TRANSPORT	0x0020
#define STUN_HAS_REQ_FAMILY	0x0040
#define STUN_HAS_ADD_FAMILY	0x0080
#define STUN_HAS_CHANNEL	0x0100
#define STUN_HAS_PEER		0x0200
#define STUN_HAS_SOFTWARE	0x0400
#define STUN_HAS_FINGERPRINT	0x0800
#define STUN_HAS_EVEN_PORT	0x1000
#define STUN_HAS_DONT_FRAGMENT	0x2000
#define STUN_HAS_RES_TOKEN	0x4000
#define STUN_HAS_DATA		0x8000
#define STUN_HAS_MAPPED		0x10000	/* XOR-MAPPED-ADDRESS (responses) */
#define STUN_HAS_RELAYED	0x20000	/* XOR-RELAYED-ADDRESS (responses) */
#define STUN_HAS_ERROR		0x40000	/* well-formed ERROR-CODE */
#define STUN_HAS_MI_SHA256	0x80000	/* recognised, not verified */

struct stun_msg {
	uint16_t	 method;		/* 12-bit method */
	uint8_t		 cls;			/* STUN_REQUEST, ... */
	uint8_t		 tid[STUN_TID_LEN];
	const uint8_t	*raw;			/* the whole datagram */
	size_t		 raw_len;
	uint32_t	 has;			/* STUN_HAS_* */

	const uint8_t	*username;	size_t username_len;
	const uint8_t	*realm;		size_t realm_len;
	const uint8_t	*nonce;		size_t nonce_len;
	const uint8_t	*software;	size_t software_len;
	const uint8_t	*data;		size_t data_len;

	size_t		 mi_off;		/* offset of the MI attribute header */
	uint8_t		 mi[STUN_MI_LEN];
	uint32_t	 lifetime;
	uint8_t		 transport;		/* REQUESTED-TRANSPORT protocol */
	uint8_t		 req_family;		/* STUN_AF_* */
	uint8_t		 add_family;		/* STUN_AF_* */
	uint8_t		 even_port;		/* R bit */
	uint16_t	 channel;
	struct taddr	 peers[STUN_MAX_PEERS];	/* XOR-PEER-ADDRESS, in order */
	size_t		 n_peers;
	uint16_t	 unknown[STUN_MAX_UNKNOWN];	/* unknown comp.-required */
	size_t		 n_unknown;

	/* decoded for clients and tests reading responses; never trusted
	 * by the server side */
	struct taddr	 mapped;		/* XOR-MAPPED-ADDRESS */
	struct taddr	 relayed[2];		/* XOR-RELAYED-ADDRESS, in order */
	size_t		 n_relayed;
	uint16_t	 error_code;		/* ERROR-CODE class*100+number */
	const uint8_t	*reason;	size_t reason_len;
};

/*
 * Decode one datagram. On STUN_OK and STUN_REPLY, m's header fields are
 * valid; on STUN_REPLY *code is STUN_ERR_BAD_REQUEST or
 * STUN_ERR_UNKNOWN_ATTRIBUTE (m->unknown lists the types). Rules:
 * - shorter than 20 bytes, top two bits not 00, bad cookie, length not a
 *   multiple of 4, length != datagram - 20, an attribute overrunning the
 *   message, a FINGERPRINT that is wrong or not last: STUN_DROP;
 * - only attributes before MESSAGE-INTEGRITY count (plus FINGERPRINT);
 *   the first occurrence of a type wins;
 * - a known attribute with a bad value or length (CHANNEL-NUMBER outside
 *   0x4000-0x4FFF, bad family, USERNAME > 512 bytes, REALM/NONCE/SOFTWARE
 *   > 763 bytes, MI length != 20, malformed XOR address): STUN_REPLY 400;
 * - an unknown comprehension-required attribute (< 0x8000): STUN_REPLY 420
 *   (checked after the 400 checks).
 * Indications and responses are decoded too; the caller drops them.
 */
int	 stun_decode(const uint8_t *, size_t, struct stun_msg *, int *code);

/* 1 if MESSAGE-INTEGRITY (HMAC-SHA1 with the 16-byte long-term key) is
 * present and correct; compared in constant time */
int	 stun_check_mi(const struct stun_msg *, const uint8_t key[16]);
/* the same with a key of any length (short-term credentials, RFC 5769) */
int	 stun_check_mi_key(const struct stun_msg *, const uint8_t *key,
	    size_t keylen);

const char *stun_reason(int code);	/* reason phrase, "" if unknown */
const char *stun_method_name(uint16_t method);	/* "binding", ... */
const char *stun_strerror(int rc);

/* the long-term credential key: MD5(username ":" realm ":" password) */
void	 stun_lt_key(const uint8_t *user, size_t ulen, const char *realm,
	    const char *pass, size_t plen, uint8_t key[16]);

/* encoder */
struct stun_enc {
	struct buf_w	 w;
	uint8_t		 tid[STUN_TID_LEN];
};

void	 stun_enc_init(struct stun_enc *, void *buf, size_t cap,
	    uint16_t method, uint8_t cls, const uint8_t tid[STUN_TID_LEN]);
void	 stun_put_attr(struct stun_enc *, uint16_t type, const void *, size_t);
void	 stun_put_u32(struct stun_enc *, uint16_t type, uint32_t);
void	 stun_put_xaddr(struct stun_enc *, uint16_t type, const struct taddr *);
void	 stun_put_error(struct stun_enc *, int code);
void	 stun_put_unknown(struct stun_enc *, const uint16_t *, size_t);
void	 stun_put_mi(struct stun_enc *, const uint8_t key[16]);
void	 stun_put_mi_key(struct stun_enc *, const uint8_t *key, size_t keylen);
void	 stun_put_fingerprint(struct stun_enc *);
/* final length, or -1 if anything overflowed the buffer */
long	 stun_enc_finish(struct stun_enc *);

#endif
