/*
 * 22-turn-rules: table tests of the engine's rules (notes/engine.md,
 * reference §5.4 and §13.4, DESIGN §3, SECURITY cases by number).
 *
 * Independent of the codec: requests are built and responses are read by
 * the small encoder/walker below (nettle for HMAC-SHA1/SHA-256/MD5, zlib
 * for FINGERPRINT), never by stun.c. Every error response is checked for
 * its exact code, its transaction id, and whether it is signed (SOFTWARE
 * first, MESSAGE-INTEGRITY valid under the client's key) or unsigned (no
 * SOFTWARE, no MESSAGE-INTEGRITY); every 401/438 for REALM "firezone" and
 * a NONCE equal to the one computed here for the source at now.
 * All-zero RNG: nonce key 32 zero bytes, first port = lowest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/sha2.h>
#include <zlib.h>

#include "addr.h"
#include "auth.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"

#define T0		1000000ULL	/* ms; now_s = 1000 */
#define WALL_S		1700000000LL
#define SEC		1000ULL
#define MAXCMD		300
#define EXPIRY		4102444800ULL	/* 2100-01-01 */
#define SECRET \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* wire constants written out here, not taken from the codec */
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

/* ------------------------------------------------------------------ */
/* request builder */

struct req {
	uint8_t		 b[1500];
	size_t		 len;
};

struct cred {
	char		 user[128];
	char		 pass[64];
	uint8_t		 key[16];
};

static unsigned	tid_counter;

static void	secret_add(const char *);

static uint16_t
mtype(uint16_t m, int cls)
{
	return (uint16_t)(((m & 0x0F80) << 2) | ((m & 0x0070) << 1) |
	    (m & 0x000F) | ((cls & 2) << 7) | ((cls & 1) << 4));
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
req_init(struct req *r, uint16_t method, int cls)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	put16(r->b, mtype(method, cls));
	put32(r->b + 4, 0x2112A442u);
	tid_counter++;
	for (i = 0; i < 12; i++)
		r->b[8 + i] = (uint8_t)(tid_counter * 7 + i * 13 + 1);
	r->len = 20;
}

static void
req_setlen(struct req *r, size_t body)
{
	put16(r->b + 2, (unsigned)body);
}

static void
req_attr(struct req *r, uint16_t type, const void *v, size_t vlen)
{
	size_t	pad = (4 - vlen % 4) % 4;

	if (r->len + 4 + vlen + pad > sizeof(r->b))
		abort();
	put16(r->b + r->len, type);
	put16(r->b + r->len + 2, (unsigned)vlen);
	if (vlen > 0)
		memcpy(r->b + r->len + 4, v, vlen);
	memset(r->b + r->len + 4 + vlen, 0, pad);
	r->len += 4 + vlen + pad;
	req_setlen(r, r->len - 20);
}

static void
req_str(struct req *r, uint16_t type, const char *s)
{
	req_attr(r, type, s, strlen(s));
}

static void
req_u32(struct req *r, uint16_t type, uint32_t v)
{
	uint8_t	b[4];

	put32(b, v);
	req_attr(r, type, b, 4);
}

static void
req_byte(struct req *r, uint16_t type, uint8_t v)
{
	uint8_t	b[4] = { v, 0, 0, 0 };

	req_attr(r, type, b, 4);
}

static void
req_channel(struct req *r, unsigned chan)
{
	uint8_t	b[4] = { 0, 0, 0, 0 };

	put16(b, chan);
	req_attr(r, A_CHANNEL, b, 4);
}

static void
req_xaddr(struct req *r, uint16_t type, const struct taddr *a)
{
	uint8_t	b[20];
	size_t	i;

	b[0] = 0;
	b[1] = a->family == ADDR_V4 ? 1 : 2;
	put16(b + 2, a->port ^ 0x2112);
	if (a->family == ADDR_V4) {
		for (i = 0; i < 4; i++)
			b[4 + i] = a->ip[i] ^ r->b[4 + i];
		req_attr(r, type, b, 8);
	} else {
		for (i = 0; i < 16; i++)	/* cookie then tid */
			b[4 + i] = a->ip[i] ^ r->b[4 + i];
		req_attr(r, type, b, 20);
	}
}

static void
hmac1(const uint8_t *key, size_t klen, const uint8_t *p, size_t len,
    uint8_t out[20])
{
	struct hmac_sha1_ctx	ctx;

	hmac_sha1_set_key(&ctx, klen, key);
	hmac_sha1_update(&ctx, len, p);
	hmac_sha1_digest(&ctx, 20, out);
}

static void
req_mi(struct req *r, const uint8_t key[16])
{
	uint8_t	mac[20];

	req_setlen(r, r->len - 20 + 24);
	hmac1(key, 16, r->b, r->len, mac);
	req_attr(r, A_MI, mac, 20);
}

static uint32_t
fp_of(uint8_t *p, size_t len_before_fp)
{
	uLong	crc;

	put16(p + 2, (unsigned)(len_before_fp - 20 + 8));
	crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, p, (uInt)len_before_fp);
	return (uint32_t)crc ^ 0x5354554eu;
}

static void
req_fp(struct req *r)
{
	req_u32(r, A_FP, fp_of(r->b, r->len));
}

static void
cred_make(struct cred *c, uint64_t expiry, const char *salt)
{
	struct sha256_ctx	sctx;
	struct md5_ctx		mctx;
	char			in[256], b64[64];
	uint8_t			d[32];
	int			n;

	n = snprintf(in, sizeof(in), "%llu:%s:%s", (unsigned long long)expiry,
	    SECRET, salt);
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
static void
key_make(const char *user, const char *pass, uint8_t key[16])
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
static void
rest_make(struct cred *c, const char *user)
{
	struct hmac_sha1_ctx	ctx;
	uint8_t			d[20];

	hmac_sha1_set_key(&ctx, strlen(SECRET), (const uint8_t *)SECRET);
	hmac_sha1_update(&ctx, strlen(user), (const uint8_t *)user);
	hmac_sha1_digest(&ctx, 20, d);
	base64_encode_raw(c->pass, 20, d);	/* 28 chars */
	c->pass[28] = '\0';
	snprintf(c->user, sizeof(c->user), "%s", user);
	key_make(c->user, c->pass, c->key);
}

/* turncell's nonce (auth.h), with the all-zero nonce key */
static void
nonce_for(const struct taddr *a, uint64_t now_s, char out[41])
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
	put16(msg + 13, a->port);
	memcpy(msg + 15, a->ip, 16);
	hmac_sha256_set_key(&ctx, 32, key);
	hmac_sha256_update(&ctx, sizeof(msg), msg);
	hmac_sha256_digest(&ctx, 32, mac);
	snprintf(out, 9, "%08llx", (unsigned long long)now_s);
	for (i = 0; i < 12; i++)
		snprintf(out + 8 + 2 * i, 3, "%02x", mac[i]);
	secret_add(out + 8);
}

/* USERNAME, REALM, NONCE, MESSAGE-INTEGRITY */
static void
req_auth_n(struct req *r, const struct cred *c, const char *nonce)
{
	req_str(r, A_USERNAME, c->user);
	req_str(r, A_REALM, "firezone");
	req_str(r, A_NONCE, nonce);
	req_mi(r, c->key);
}

/* ------------------------------------------------------------------ */
/* response walker */

/* first attribute of a type; NULL if absent or the message is broken */
static const uint8_t *
resp_attr(const uint8_t *p, size_t len, uint16_t type, size_t *vlen)
{
	size_t	off = 20, alen;
	int	i;

	if (len < 20 || get16(p + 2) + 20 != len)
		return NULL;
	for (i = 0; i < 64 && off + 4 <= len; i++) {
		alen = get16(p + off + 2);
		if (off + 4 + alen > len)
			return NULL;
		if (get16(p + off) == type) {
			if (vlen != NULL)
				*vlen = alen;
			return p + off + 4;
		}
		off += 4 + ((alen + 3) & ~(size_t)3);
	}
	return NULL;
}

/* the type of the attribute at index i (0 = first), 0 if none */
static unsigned
resp_attr_at(const uint8_t *p, size_t len, int idx)
{
	size_t	off = 20, alen;
	int	i;

	for (i = 0; i < 64 && off + 4 <= len; i++) {
		if (i == idx)
			return get16(p + off);
		alen = get16(p + off + 2);
		off += 4 + ((alen + 3) & ~(size_t)3);
	}
	return 0;
}

/* number of attributes; -1 if the lengths do not add up exactly */
static int
resp_nattrs(const uint8_t *p, size_t len)
{
	size_t	off = 20, alen;
	int	n = 0;

	if (len < 20 || get16(p + 2) + 20 != len)
		return -1;
	while (off < len && n < 64) {
		size_t	k;

		if (off + 4 > len)
			return -1;
		alen = get16(p + off + 2);
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

static int
resp_code(const uint8_t *p, size_t len)
{
	const uint8_t	*v;
	size_t		 vlen;

	if ((v = resp_attr(p, len, A_ERROR, &vlen)) == NULL || vlen < 4)
		return 0;
	return (v[2] & 7) * 100 + v[3];
}

/* 1 valid MI under key, 0 no MI, -1 wrong */
static int
resp_mi(const uint8_t *p, size_t len, const uint8_t key[16])
{
	const uint8_t	*v;
	uint8_t		 copy[2048], mac[20];
	size_t		 vlen, off;

	if ((v = resp_attr(p, len, A_MI, &vlen)) == NULL)
		return 0;
	if (vlen != 20 || len > sizeof(copy))
		return -1;
	off = (size_t)(v - 4 - p);
	memcpy(copy, p, off);
	put16(copy + 2, (unsigned)(off - 20 + 24));
	hmac1(key, 16, copy, off, mac);
	return memcmp(mac, v, 20) == 0 ? 1 : -1;
}

/* 1 FINGERPRINT present, last and correct; 0 absent; -1 wrong */
static int
resp_fp(const uint8_t *p, size_t len)
{
	uint8_t		 copy[2048];
	const uint8_t	*v;
	size_t		 vlen;

	if ((v = resp_attr(p, len, A_FP, &vlen)) == NULL)
		return 0;
	if (vlen != 4 || v + 4 != p + len || len > sizeof(copy))
		return -1;
	memcpy(copy, p, len);
	return fp_of(copy, len - 8) == get32(v) ? 1 : -1;
}

/* decode an XOR address from a response */
static int
resp_xaddr(const uint8_t *p, const uint8_t *v, size_t vlen, struct taddr *a)
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
	a->port = (uint16_t)(get16(v + 2) ^ 0x2112);
	return 0;
}

/* ------------------------------------------------------------------ */
/* harness */

struct rec {
	struct turn_cmd	 c;
	uint8_t		 data[2048];
};

static struct rec	recs[MAXCMD];
static size_t		nrecs;
static uint64_t		now = T0;

static unsigned		hook_calls;
static uint16_t		hook_method;
static int		hook_cls, hook_code;

static struct cred	U, U2, UEXP, UREST;

/* LOG commands of the last collect(), and strings they must never hold */
struct logrec {
	int		 level;
	char		 text[TURN_LOG_MAX + 1];
};

static struct logrec	logs[64];
static size_t		nlogs;
static char		secrets[16][64];
static size_t		nsecrets;
static unsigned		leaks;

static void
secret_add(const char *s)
{
	snprintf(secrets[nsecrets % 16], sizeof(secrets[0]), "%s", s);
	nsecrets++;
}

static void
log_check(const struct turn_cmd *c)
{
	size_t	i, n = nsecrets < 16 ? nsecrets : 16;

	if (c->text == NULL || strlen(c->text) > TURN_LOG_MAX) {
		ok(0, "LOG text missing or longer than TURN_LOG_MAX");
		return;
	}
	for (i = 0; i < n; i++)
		if (secrets[i][0] != '\0' && strstr(c->text, secrets[i]) !=
		    NULL) {
			leaks++;
			diag("LOG leaks a secret: %s", c->text);
		}
	if (nlogs < sizeof(logs) / sizeof(logs[0])) {
		logs[nlogs].level = c->level;
		snprintf(logs[nlogs].text, sizeof(logs[0].text), "%s", c->text);
		nlogs++;
	}
}

/* a LOG at level <= maxlevel whose text holds sub */
static int
log_has(int maxlevel, const char *sub)
{
	size_t	i;

	for (i = 0; i < nlogs; i++)
		if (logs[i].level <= maxlevel && strstr(logs[i].text, sub))
			return 1;
	return 0;
}

/* the most severe level logged (smallest number), 99 if none */
static int
log_worst(void)
{
	size_t	i;
	int	w = 99;

	for (i = 0; i < nlogs; i++)
		if (logs[i].level < w)
			w = logs[i].level;
	return w;
}

static void
dump_logs(void)
{
	size_t	i;

	for (i = 0; i < nlogs; i++)
		diag("  log %d: %s", logs[i].level, logs[i].text);
}

static void
zero_rng(void *arg, void *out, size_t len)
{
	(void)arg;
	memset(out, 0, len);
}

static void
hook(void *arg, uint16_t method, int cls, int code)
{
	(void)arg;
	hook_calls++;
	hook_method = method;
	hook_cls = cls;
	hook_code = code;
}

static void
collect(struct turn *t)
{
	struct turn_cmd	c;
	int		i;

	nrecs = 0;
	nlogs = 0;
	for (i = 0; i < 10000; i++) {
		memset(&c, 0, sizeof(c));
		if (turn_next_cmd(t, &c) != 1)
			return;
		if (c.type == TURN_CMD_LOG) {
			log_check(&c);
			continue;
		}
		if (nrecs == MAXCMD) {
			ok(0, "too many commands");
			return;
		}
		recs[nrecs].c = c;
		if (c.data != NULL && c.len <= sizeof(recs[nrecs].data))
			memcpy(recs[nrecs].data, c.data, c.len);
		else if (c.len > sizeof(recs[nrecs].data))
			recs[nrecs].c.len = 0;
		recs[nrecs].c.data = recs[nrecs].data;
		nrecs++;
	}
	ok(0, "turn_next_cmd did not run dry");
}

static void
set_ip(struct taddr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (addr_parse_ip(ip, a) != 0) {
		printf("Bail out! bad test address %s\n", ip);
		exit(255);
	}
	a->port = port;
}

static struct taddr
A(const char *ip, uint16_t port)
{
	struct taddr	a;

	set_ip(&a, ip, port);
	return a;
}

static int
same_addr(const struct taddr *a, const struct taddr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

static void
allow(struct turn_conf *conf, const char *net, uint8_t bits)
{
	set_ip(&conf->filter.allow[conf->filter.n_allow].net, net, 0);
	conf->filter.allow[conf->filter.n_allow].bits = bits;
	conf->filter.n_allow++;
}

/* dual stack, documentation ranges allowed as peers */
static void
conf_init(struct turn_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	set_ip(&conf->public4, "203.0.113.1", 0);
	set_ip(&conf->public6, "2001:db8::1", 0);
	conf->lowest_port = 49152;
	conf->highest_port = 65535;
	conf->secret = SECRET;
	conf->secret_len = strlen(SECRET);
	conf->software = "turncell/test";
	conf->auth_schemes = AUTH_SCHEME_FIREZONE;
	allow(conf, "192.0.2.0", 24);
	allow(conf, "2001:db8::", 32);
}

static struct turn *
start(const struct turn_conf *conf)
{
	struct turn	*t;

	now = T0;
	if ((t = turn_new(conf, zero_rng, NULL)) == NULL) {
		printf("Bail out! turn_new failed\n");
		exit(255);
	}
	turn_set_response_hook(t, hook, NULL);
	hook_calls = 0;
	return t;
}

static void
input(struct turn *t, const struct req *r, const struct taddr *from)
{
	turn_client_input(t, r->b, r->len, from, now, WALL_S);
	collect(t);
}

static void
input_raw(struct turn *t, const uint8_t *p, size_t len,
    const struct taddr *from)
{
	turn_client_input(t, p, len, from, now, WALL_S);
	collect(t);
}

static void
tick(struct turn *t, uint64_t at)
{
	now = at;
	turn_timeout(t, now);
	collect(t);
}

static const char *
cmd_name(int type)
{
	static const char *const names[] = { "NONE", "SEND", "WORKER_START",
	    "CHAN_ADD", "CHAN_DEL", "WORKER_DATA", "WORKER_STOP", "LOG" };

	return type >= 0 && type <= 7 ? names[type] : "?";
}

static void
dump_cmds(void)
{
	size_t	i;

	for (i = 0; i < nrecs; i++) {
		const struct turn_cmd *c = &recs[i].c;

		diag("  cmd %zu: %s alloc %u port %u fam 0x%x chan 0x%x "
		    "reason %d len %zu code %d", i, cmd_name(c->type),
		    c->alloc_id, c->port, c->families, c->chan, c->reason,
		    c->len, c->type == TURN_CMD_SEND ?
		    resp_code(c->data, c->len) : 0);
	}
}

/* exactly n commands */
static int
ncmds(size_t n, const char *what)
{
	if (nrecs == n)
		return ok(1, "%s: %zu command(s)", what, n);
	ok(0, "%s: %zu command(s)", what, n);
	diag("got %zu:", nrecs);
	dump_cmds();
	return 0;
}

/*
 * Check recs[i] is a SEND to `to` of a response (method, cls) with
 * error code `code` (0 for success), to request `rq` (tid), signed with
 * key (or unsigned when key is NULL). One TAP line.
 */
static int
check_resp(size_t i, const struct taddr *to, const struct req *rq,
    uint16_t method, int cls, int code, const uint8_t *key, const char *what)
{
	const struct turn_cmd	*c;
	const uint8_t		*p, *v;
	char			 why[256], nonce[41];
	size_t			 len, vlen;
	int			 got;

	why[0] = '\0';
	if (i >= nrecs) {
		snprintf(why, sizeof(why), "no command %zu", i);
		goto fail;
	}
	c = &recs[i].c;
	p = c->data;
	len = c->len;
	if (c->type != TURN_CMD_SEND) {
		snprintf(why, sizeof(why), "command is %s, not SEND",
		    cmd_name(c->type));
		goto fail;
	}
	if (!same_addr(&c->addr, to)) {
		snprintf(why, sizeof(why), "sent to the wrong address");
		goto fail;
	}
	if (resp_nattrs(p, len) < 0 || get32(p + 4) != 0x2112A442u) {
		snprintf(why, sizeof(why), "malformed response (lengths or "
		    "non-zero padding)");
		goto fail;
	}
	if (get16(p) != mtype(method, cls)) {
		snprintf(why, sizeof(why), "message type 0x%04x, want 0x%04x",
		    get16(p), mtype(method, cls));
		goto fail;
	}
	if (rq != NULL && memcmp(p + 8, rq->b + 8, 12) != 0) {
		snprintf(why, sizeof(why), "transaction id differs");
		goto fail;
	}
	if ((got = resp_code(p, len)) != code) {
		snprintf(why, sizeof(why), "code %d, want %d", got, code);
		goto fail;
	}
	if (key != NULL) {
		if (resp_attr_at(p, len, 0) != A_SOFTWARE) {
			snprintf(why, sizeof(why), "SOFTWARE not first");
			goto fail;
		}
		if ((got = resp_mi(p, len, key)) != 1) {
			snprintf(why, sizeof(why), "%s", got == 0 ?
			    "not signed" : "MI wrong for the client's key");
			goto fail;
		}
	} else {
		if (resp_attr(p, len, A_MI, NULL) != NULL ||
		    resp_attr(p, len, A_SOFTWARE, NULL) != NULL) {
			snprintf(why, sizeof(why), "signed or has SOFTWARE, "
			    "want minimal unsigned");
			goto fail;
		}
	}
	if (code == 401 || code == 438) {
		v = resp_attr(p, len, A_REALM, &vlen);
		if (v == NULL || vlen != 8 || memcmp(v, "firezone", 8) != 0) {
			snprintf(why, sizeof(why), "REALM missing or wrong");
			goto fail;
		}
		nonce_for(to, now / SEC, nonce);
		v = resp_attr(p, len, A_NONCE, &vlen);
		if (v == NULL || vlen != AUTH_NONCE_LEN || memcmp(v, nonce, AUTH_NONCE_LEN) != 0) {
			snprintf(why, sizeof(why), "NONCE missing or not the "
			    "fresh nonce %s", nonce);
			goto fail;
		}
	} else if (resp_attr(p, len, A_NONCE, NULL) != NULL) {
		snprintf(why, sizeof(why), "NONCE on a %d", code);
		goto fail;
	}
	return ok(1, "%s", what);
 fail:
	ok(0, "%s", what);
	diag("%s", why);
	dump_cmds();
	return 0;
}

/* exactly one command: the error response */
static int
expect_err(const struct taddr *to, const struct req *rq, uint16_t method,
    int code, const uint8_t *key, const char *what)
{
	char	buf[200];

	snprintf(buf, sizeof(buf), "%s -> %d %s", what, code,
	    key != NULL ? "signed" : "unsigned");
	if (nrecs != 1) {
		ok(0, "%s", buf);
		diag("want exactly one SEND, got %zu commands", nrecs);
		dump_cmds();
		return 0;
	}
	return check_resp(0, to, rq, method, C_ERR, code, key, buf);
}

static int
expect_none(const char *what)
{
	if (nrecs == 0)
		return ok(1, "%s -> nothing", what);
	ok(0, "%s -> nothing", what);
	dump_cmds();
	return 0;
}

static const uint8_t *
resp_data(size_t i, size_t *len)
{
	*len = i < nrecs ? recs[i].c.len : 0;
	return i < nrecs ? recs[i].c.data : (const uint8_t *)"";
}

static uint32_t
resp_lifetime(size_t i)
{
	const uint8_t	*p, *v;
	size_t		 len, vlen;

	p = resp_data(i, &len);
	if ((v = resp_attr(p, len, A_LIFETIME, &vlen)) == NULL || vlen != 4)
		return 0xdeadbeef;
	return get32(v);
}

/* an authenticated request skeleton for `from` at now */
static void
auth_req(struct req *r, uint16_t method, const struct cred *c,
    const struct taddr *from)
{
	char	nonce[41];

	(void)method;
	nonce_for(from, now / SEC, nonce);
	req_auth_n(r, c, nonce);
}

static void
alloc_req(struct req *r, const struct cred *c, const struct taddr *from,
    int64_t lifetime)
{
	req_init(r, M_ALLOCATE, C_REQ);
	req_byte(r, A_TRANSPORT, 17);
	if (lifetime >= 0)
		req_u32(r, A_LIFETIME, (uint32_t)lifetime);
	auth_req(r, M_ALLOCATE, c, from);
}

/*
 * ALLOCATE for `from` that must start a worker; returns the alloc id (0 on
 * failure). ready: also make the worker ready and expect the success.
 */
static uint32_t
allocate(struct turn *t, const struct taddr *from, const struct cred *c,
    int64_t lifetime, int ready, const char *what)
{
	struct req	r;
	uint32_t	id;
	char		buf[200];

	alloc_req(&r, c, from, lifetime);
	input(t, &r, from);
	snprintf(buf, sizeof(buf), "%s: ALLOCATE -> WORKER_START", what);
	if (nrecs != 1 || recs[0].c.type != TURN_CMD_WORKER_START) {
		ok(0, "%s", buf);
		dump_cmds();
		return 0;
	}
	ok(1, "%s", buf);
	id = recs[0].c.alloc_id;
	if (!ready)
		return id;
	turn_worker_ready(t, id, now);
	collect(t);
	snprintf(buf, sizeof(buf), "%s: worker ready -> signed success", what);
	if (nrecs != 1) {
		ok(0, "%s", buf);
		dump_cmds();
		return 0;
	}
	check_resp(0, from, &r, M_ALLOCATE, C_OK, 0, c->key, buf);
	return id;
}

static void
refresh_req(struct req *r, const struct cred *c, const struct taddr *from,
    int64_t lifetime)
{
	req_init(r, M_REFRESH, C_REQ);
	if (lifetime >= 0)
		req_u32(r, A_LIFETIME, (uint32_t)lifetime);
	auth_req(r, M_REFRESH, c, from);
}

static void
chanbind_req(struct req *r, const struct cred *c, const struct taddr *from,
    unsigned chan, const struct taddr *peer)
{
	req_init(r, M_CHANBIND, C_REQ);
	req_channel(r, chan);
	req_xaddr(r, A_PEER, peer);
	auth_req(r, M_CHANBIND, c, from);
}

static int
is_stop(size_t i, uint32_t id, int reason)
{
	return i < nrecs && recs[i].c.type == TURN_CMD_WORKER_STOP &&
	    recs[i].c.alloc_id == id && recs[i].c.reason == reason;
}

/* ------------------------------------------------------------------ */
/* the tables */

/* reference §5.4 and §13.4 server.rs */
static void
test_families(void)
{
	static const struct {
		int	 stack;		/* 4, 6, 46 */
		int	 r, a;		/* 0 absent, 1 IPv4, 2 IPv6 */
		int	 code;		/* error, or 0 */
		uint8_t	 fam;		/* WORKER_START families */
		const char *name;
	} tab[] = {
		{ 4, 1, 2, 400, 0, "v4 relay, R=IPv4 + A=IPv6" },
		{ 4, 2, 0, 440, 0, "v4 relay, R=IPv6" },
		{ 6, 1, 0, 440, 0, "v6 relay, R=IPv4" },
		{ 6, 0, 0, 440, 0, "v6 relay, nothing requested" },
		{ 4, 0, 1, 400, 0, "v4 relay, A=IPv4" },
		{ 46, 1, 1, 400, 0, "dual relay, R=IPv4 + A=IPv4" },
		{ 4, 2, 2, 400, 0, "v4 relay, R=IPv6 + A=IPv6" },
		{ 46, 0, 1, 400, 0, "dual relay, A=IPv4" },
		{ 4, 0, 0, 0, ADDR_FAM_V4, "v4 relay, nothing" },
		{ 4, 1, 0, 0, ADDR_FAM_V4, "v4 relay, R=IPv4" },
		{ 46, 0, 0, 0, ADDR_FAM_V4, "dual relay, nothing" },
		{ 46, 1, 0, 0, ADDR_FAM_V4, "dual relay, R=IPv4" },
		{ 46, 2, 0, 0, ADDR_FAM_V6, "dual relay, R=IPv6" },
		{ 6, 2, 0, 0, ADDR_FAM_V6, "v6 relay, R=IPv6" },
		{ 46, 0, 2, 0, ADDR_FAM_V4 | ADDR_FAM_V6,
		    "dual relay, A=IPv6" },
		{ 4, 0, 2, 0, ADDR_FAM_V4, "v4 relay, A=IPv6 (partial)" },
		{ 6, 0, 2, 0, ADDR_FAM_V6, "v6 relay, A=IPv6 (partial)" },
	};
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000), ra;
	struct req		 r;
	const uint8_t		*p, *v;
	size_t			 i, len, vlen, off;
	int			 seq;
	char			 nonce[41];

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		conf_init(&conf);
		if (tab[i].stack == 4)
			memset(&conf.public6, 0, sizeof(conf.public6));
		if (tab[i].stack == 6)
			memset(&conf.public4, 0, sizeof(conf.public4));
		t = start(&conf);
		req_init(&r, M_ALLOCATE, C_REQ);
		req_byte(&r, A_TRANSPORT, 17);
		if (tab[i].r)
			req_byte(&r, A_REQ_FAM, (uint8_t)tab[i].r);
		if (tab[i].a)
			req_byte(&r, A_ADD_FAM, (uint8_t)tab[i].a);
		nonce_for(&c, now / SEC, nonce);
		req_auth_n(&r, &U, nonce);
		input(t, &r, &c);
		if (tab[i].code != 0) {
			expect_err(&c, &r, M_ALLOCATE, tab[i].code, U.key,
			    tab[i].name);
			turn_free(t);
			continue;
		}
		if (nrecs != 1 || recs[0].c.type != TURN_CMD_WORKER_START ||
		    recs[0].c.families != tab[i].fam) {
			ok(0, "%s -> WORKER_START families 0x%x", tab[i].name,
			    tab[i].fam);
			dump_cmds();
			turn_free(t);
			continue;
		}
		ok(1, "%s -> WORKER_START families 0x%x", tab[i].name,
		    tab[i].fam);
		turn_worker_ready(t, recs[0].c.alloc_id, now);
		collect(t);
		/* the relayed addresses match the families, v4 first */
		p = resp_data(0, &len);
		seq = 0;
		off = 20;
		while (nrecs == 1 && off + 4 <= len && seq < 1000) {
			vlen = get16(p + off + 2);
			v = p + off + 4;
			if (get16(p + off) == A_RELAYED) {
				if (resp_xaddr(p, v, vlen, &ra) != 0 ||
				    ra.port != 49152)
					seq = seq * 10 + 9;
				else if (ra.family == ADDR_V4 && memcmp(ra.ip,
				    conf.public4.ip, 16) == 0)
					seq = seq * 10 + 4;
				else if (ra.family == ADDR_V6 && memcmp(ra.ip,
				    conf.public6.ip, 16) == 0)
					seq = seq * 10 + 6;
				else
					seq = seq * 10 + 9;
			}
			off += 4 + ((vlen + 3) & ~(size_t)3);
		}
		is_int(seq, tab[i].fam == ADDR_FAM_V4 ? 4 :
		    tab[i].fam == ADDR_FAM_V6 ? 6 : 46,
		    "%s: XOR-RELAYED = public address(es):49152, IPv4 first",
		    tab[i].name);
		turn_free(t);
	}
}

static void
test_lifetime(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct req		 r;
	uint32_t		 id;

	conf_init(&conf);
	t = start(&conf);

	/* clamped to 3600 (client_message.rs) */
	alloc_req(&r, &U, &c, 10000000);
	input(t, &r, &c);
	id = nrecs == 1 ? recs[0].c.alloc_id : 0;
	ncmds(1, "ALLOCATE LIFETIME 10000000");
	turn_worker_ready(t, id, now);
	collect(t);
	is_int(resp_lifetime(0), 3600, "ALLOCATE LIFETIME 10000000 -> 3600");
	ok(turn_next_timeout(t) == now + 3600 * SEC,
	    "timer at now + 3600 s");

	/* REFRESH clamps the same way */
	refresh_req(&r, &U, &c, 10000000);
	input(t, &r, &c);
	check_resp(0, &c, &r, M_REFRESH, C_OK, 0, U.key, "REFRESH success");
	is_int(resp_lifetime(0), 3600, "REFRESH LIFETIME 10000000 -> 3600");

	/* REFRESH replaces the expiry, it does not add */
	now += 10 * SEC;
	refresh_req(&r, &U, &c, 100);
	input(t, &r, &c);
	is_int(resp_lifetime(0), 100, "REFRESH LIFETIME 100 -> 100");
	ok(turn_next_timeout(t) == now + 100 * SEC,
	    "REFRESH replaces the expiry (now + 100 s)");
	tick(t, now + 100 * SEC - 1);
	expect_none("tick 1 ms before the expiry");
	tick(t, now + 1);
	ncmds(1, "tick at the expiry");
	ok(is_stop(0, id, TURN_STOP_EXPIRED), "WORKER_STOP(EXPIRED)");
	is_int(turn_alloc_count(t), 0, "allocation gone");
	ok(turn_next_timeout(t) == UINT64_MAX, "no timer left");

	/* no LIFETIME -> 600; LIFETIME 1 is honoured (no minimum) */
	id = allocate(t, &c, &U, -1, 1, "no LIFETIME");
	is_int(resp_lifetime(0), 600, "no LIFETIME -> 600");
	refresh_req(&r, &U, &c, 1);
	input(t, &r, &c);
	is_int(resp_lifetime(0), 1, "REFRESH LIFETIME 1 -> 1");
	tick(t, now + SEC);
	ok(nrecs == 1 && is_stop(0, id, TURN_STOP_EXPIRED),
	    "LIFETIME 1 expires 1 s later");

	/* LIFETIME 0 on ALLOCATE: success says 0, gone at the next tick */
	id = allocate(t, &c, &U, 0, 1, "ALLOCATE LIFETIME 0");
	is_int(resp_lifetime(0), 0, "ALLOCATE LIFETIME 0 -> LIFETIME 0");
	ok(turn_next_timeout(t) <= now, "timer due at once");
	tick(t, now);
	ok(nrecs == 1 && is_stop(0, id, TURN_STOP_EXPIRED),
	    "LIFETIME 0: WORKER_STOP(EXPIRED) at the next tick");
	if (nrecs != 1)
		dump_cmds();
	is_int(turn_alloc_count(t), 0, "LIFETIME 0: allocation gone");
	turn_free(t);
}

/* authentication order: 438 before 401 before 437 (DESIGN §1) */
static void
test_auth(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 other = A("198.51.100.7", 40001);
	struct req		 r;
	struct cred		 bad;
	char			 nonce[41];
	uint8_t			 badkey[16];

	conf_init(&conf);
	t = start(&conf);
	bad = U;
	bad.key[0] ^= 1;	/* wrong password, same username */

	/* a nonce minted for another port + bad password -> 438 */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	nonce_for(&other, now / SEC, nonce);
	req_auth_n(&r, &bad, nonce);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 438, U.key,
	    "other source's nonce + bad password");

	/* the reference's nil-UUID nonce */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_auth_n(&r, &U, "00000000-0000-0000-0000-000000000000");
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 438, U.key, "nil-UUID nonce");

	/* stale by age: 4000 s old; 3000 s old is still fine */
	now += 5000 * SEC;
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	nonce_for(&c, now / SEC - 4000, nonce);
	req_auth_n(&r, &U, nonce);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 438, U.key, "nonce 4000 s old");
	req_init(&r, M_REFRESH, C_REQ);
	nonce_for(&c, now / SEC - 3000, nonce);
	req_auth_n(&r, &U, nonce);
	input(t, &r, &c);
	expect_err(&c, &r, M_REFRESH, 437, U.key,
	    "nonce 3000 s old is valid (REFRESH, no allocation)");

	/* a tampered MAC */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	nonce_for(&c, now / SEC, nonce);
	nonce[AUTH_NONCE_LEN - 1] = nonce[AUTH_NONCE_LEN - 1] == '0' ? '1' : '0';
	req_auth_n(&r, &U, nonce);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 438, U.key, "tampered nonce");

	/* stale nonce + malformed username -> 438 unsigned */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_str(&r, A_USERNAME, "foobar");
	req_str(&r, A_REALM, "firezone");
	req_str(&r, A_NONCE, "00000000-0000-0000-0000-000000000000");
	key_make("foobar", "x", badkey);
	req_mi(&r, badkey);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 438, NULL,
	    "stale nonce + malformed username");

	/* valid nonce + bad password -> 401, signed with U's key */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	auth_req(&r, M_ALLOCATE, &bad, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, U.key,
	    "valid nonce + bad password");

	/* valid nonce + good credentials + no allocation (REFRESH) -> 437 */
	refresh_req(&r, &U, &c, 600);
	input(t, &r, &c);
	expect_err(&c, &r, M_REFRESH, 437, U.key,
	    "REFRESH without an allocation");

	/* expired username, correct password for it -> 401 signed */
	alloc_req(&r, &UEXP, &c, -1);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, UEXP.key, "expired username");

	/* malformed usernames -> 401 unsigned */
	{
		static const char *const bad_users[] = { "foobar", "abc:alice",
		    ":alice", "-5:alice", "+5:alice",
		    "99999999999999999999:alice", "4102444800:",
		    "4102444800:a:b" };
		size_t	i;

		for (i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]);
		    i++) {
			req_init(&r, M_ALLOCATE, C_REQ);
			req_byte(&r, A_TRANSPORT, 17);
			req_str(&r, A_USERNAME, bad_users[i]);
			req_str(&r, A_REALM, "firezone");
			nonce_for(&c, now / SEC, nonce);
			req_str(&r, A_NONCE, nonce);
			key_make(bad_users[i], "x", badkey);
			req_mi(&r, badkey);
			input(t, &r, &c);
			expect_err(&c, &r, M_ALLOCATE, 401, NULL,
			    bad_users[i]);
		}
	}

	/* MESSAGE-INTEGRITY missing -> unsigned 401 with REALM, NONCE */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_str(&r, A_USERNAME, U.user);
	req_str(&r, A_REALM, "firezone");
	nonce_for(&c, now / SEC, nonce);
	req_str(&r, A_NONCE, nonce);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, NULL, "MI missing");

	/* USERNAME missing -> 401 unsigned */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_str(&r, A_REALM, "firezone");
	req_str(&r, A_NONCE, nonce);
	req_mi(&r, U.key);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, NULL, "USERNAME missing");

	/* NONCE missing, valid username -> 401 signed */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_str(&r, A_USERNAME, U.user);
	req_str(&r, A_REALM, "firezone");
	req_mi(&r, U.key);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, U.key, "NONCE missing");

	/* REALM is not required (reference) */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_str(&r, A_USERNAME, U.user);
	req_str(&r, A_NONCE, nonce);
	req_mi(&r, U.key);
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START,
	    "no REALM, good credentials -> WORKER_START");
	is_int(turn_alloc_count(t), 1, "exactly one allocation after all that");
	turn_free(t);

	/* max_user_ttl_s: an expiry in 2100 is too far -> 401 signed */
	conf_init(&conf);
	conf.max_user_ttl_s = 86400;
	t = start(&conf);
	alloc_req(&r, &U, &c, -1);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, U.key,
	    "expiry beyond max_user_ttl_s");
	turn_free(t);
}

/* reflection gain (SECURITY 40) */
static void
test_sizes(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 c6 = A("2001:db8:1::7", 40000);
	struct req		 r;

	conf_init(&conf);
	t = start(&conf);
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	is_int((long long)r.len, 28, "unauthenticated ALLOCATE is 28 bytes");
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, NULL, "28-byte ALLOCATE");
	ok(nrecs == 1 && recs[0].c.len < 96,
	    "its 401 is under 96 bytes (ERROR-CODE, REALM, NONCE only)");
	diag("401 size %zu (20 + 20 ERROR-CODE + 12 REALM + 36 NONCE = 88)",
	    nrecs == 1 ? recs[0].c.len : 0);
	is_int(nrecs == 1 ? resp_nattrs(recs[0].c.data, recs[0].c.len) : -1,
	    3, "401: exactly 3 attributes");

	req_init(&r, M_BINDING, C_REQ);
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.len == 32,
	    "20-byte BINDING -> 32-byte response");
	check_resp(0, &c, &r, M_BINDING, C_OK, 0, NULL,
	    "BINDING success, unsigned, no SOFTWARE");
	input(t, &r, &c6);
	ok(nrecs == 1 && recs[0].c.len == 44,
	    "20-byte BINDING from IPv6 -> 44-byte response");
	{
		const uint8_t	*v;
		size_t		 vlen;
		struct taddr	 m;

		v = nrecs == 1 ? resp_attr(recs[0].c.data, recs[0].c.len,
		    A_XMAPPED, &vlen) : NULL;
		ok(v != NULL && resp_xaddr(recs[0].c.data, v, vlen, &m) == 0 &&
		    same_addr(&m, &c6), "XOR-MAPPED-ADDRESS = the IPv6 source");
	}
	turn_free(t);
}

/* REQUESTED-TRANSPORT, 420s, EVEN-PORT (DESIGN §3, SECURITY 26, 27, 36) */
static void
test_attrs(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct req		 r;
	const uint8_t		*v;
	size_t			 vlen;
	uint8_t			 token[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	conf_init(&conf);
	t = start(&conf);

	/* missing REQUESTED-TRANSPORT: 400 before authentication */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_u32(&r, A_LIFETIME, 600);
	auth_req(&r, M_ALLOCATE, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 400, NULL,
	    "REQUESTED-TRANSPORT missing (good credentials)");
	req_init(&r, M_ALLOCATE, C_REQ);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 400, NULL,
	    "REQUESTED-TRANSPORT missing (no credentials)");

	/* TCP -> 442 after authentication */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 6);
	auth_req(&r, M_ALLOCATE, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 442, U.key, "REQUESTED-TRANSPORT TCP");
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 6);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, NULL,
	    "REQUESTED-TRANSPORT TCP without credentials (auth first)");

	/* unknown comprehension-required 0x0030 -> 420 listing it */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_u32(&r, 0x0030, 0);
	auth_req(&r, M_ALLOCATE, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 420, NULL, "attribute 0x0030");
	v = nrecs == 1 ? resp_attr(recs[0].c.data, recs[0].c.len, A_UNKNOWN,
	    &vlen) : NULL;
	ok(v != NULL && vlen == 2 && get16(v) == 0x0030,
	    "420 UNKNOWN-ATTRIBUTES lists exactly 0x0030");

	/* comprehension-optional unknown 0x8030 is ignored */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_u32(&r, 0x8030, 0);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, NULL,
	    "attribute 0x8030 ignored (401 as without it)");

	/* DONT-FRAGMENT, RESERVATION-TOKEN -> 420 */
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_attr(&r, A_DONT_FRAG, NULL, 0);
	auth_req(&r, M_ALLOCATE, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 420, NULL, "DONT-FRAGMENT");
	v = nrecs == 1 ? resp_attr(recs[0].c.data, recs[0].c.len, A_UNKNOWN,
	    &vlen) : NULL;
	ok(v != NULL && vlen == 2 && get16(v) == A_DONT_FRAG,
	    "420 lists DONT-FRAGMENT");
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_attr(&r, A_RES_TOKEN, token, 8);
	auth_req(&r, M_ALLOCATE, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 420, NULL, "RESERVATION-TOKEN");
	v = nrecs == 1 ? resp_attr(recs[0].c.data, recs[0].c.len, A_UNKNOWN,
	    &vlen) : NULL;
	ok(v != NULL && vlen == 2 && get16(v) == A_RES_TOKEN,
	    "420 lists RESERVATION-TOKEN");
	is_int(turn_alloc_count(t), 0, "no allocation from any of these");
	turn_free(t);

	/* EVEN-PORT with an odd lowest port -> the next even port */
	conf_init(&conf);
	conf.lowest_port = 49153;
	t = start(&conf);
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_attr(&r, A_EVEN_PORT, "", 1);	/* one byte: R = 0 */
	auth_req(&r, M_ALLOCATE, &U, &c);
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START &&
	    recs[0].c.port == 49154, "EVEN-PORT, lowest 49153 -> port 49154");
	if (nrecs == 1)
		diag("port %u", recs[0].c.port);
	turn_free(t);

	/* without EVEN-PORT, the same range starts at 49153 */
	t = start(&conf);
	alloc_req(&r, &U, &c, -1);
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START &&
	    recs[0].c.port == 49153, "no EVEN-PORT, lowest 49153 -> 49153");
	turn_free(t);
}

/* datagrams that get no command at all (SECURITY 35, 36) and 400s */
static void
test_drop(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 p = A("192.0.2.50", 5000);
	struct taddr		 c0 = A("198.51.100.7", 0);
	struct req		 r;
	uint8_t			 raw[64];
	struct turn_stats	 st;
	size_t			 i;
	static const uint16_t	 methods[] = { M_SEND, M_DATA, 0x00A,
	    0x00B, 0x002, 0x0FF };

	conf_init(&conf);
	t = start(&conf);

	/* indications and responses */
	req_init(&r, M_BINDING, C_IND);
	input(t, &r, &c);
	expect_none("BINDING indication");
	req_init(&r, M_SEND, C_IND);
	req_xaddr(&r, A_PEER, &p);
	req_attr(&r, A_DATA, "hi", 2);
	input(t, &r, &c);
	expect_none("SEND indication");
	req_init(&r, M_BINDING, C_OK);
	req_xaddr(&r, A_XMAPPED, &c);
	input(t, &r, &c);
	expect_none("BINDING success response");
	req_init(&r, M_ALLOCATE, C_ERR);
	input(t, &r, &c);
	expect_none("ALLOCATE error response");
	req_init(&r, M_BINDING, C_IND);
	req_u32(&r, 0x0030, 0);
	input(t, &r, &c);
	expect_none("indication with unknown attribute 0x0030");
	req_init(&r, M_CHANBIND, C_IND);
	req_channel(&r, 0x3FFF);
	input(t, &r, &c);
	expect_none("indication with bad CHANNEL-NUMBER");
	req_init(&r, M_ALLOCATE, C_OK);
	req_u32(&r, 0x0030, 0);
	input(t, &r, &c);
	expect_none("success response with unknown attribute 0x0030");

	/* unsupported methods -> 400 unsigned */
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char	name[64];

		req_init(&r, methods[i], C_REQ);
		auth_req(&r, methods[i], &U, &c);
		input(t, &r, &c);
		snprintf(name, sizeof(name), "method 0x%03x request",
		    methods[i]);
		expect_err(&c, &r, methods[i], 400, NULL, name);
	}

	/* method 0xFFF makes the first byte 0x3E: not STUN, dropped */
	req_init(&r, 0xFFF, C_REQ);
	auth_req(&r, 0xFFF, &U, &c);
	input(t, &r, &c);
	expect_none("method 0xfff request (first byte 0x3e)");

	/* source port 0 */
	req_init(&r, M_BINDING, C_REQ);
	input(t, &r, &c0);
	expect_none("BINDING from port 0");
	alloc_req(&r, &U, &c0, -1);
	input(t, &r, &c0);
	expect_none("ALLOCATE from port 0");
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c0);
	expect_none("ChannelData from port 0");

	/* malformed STUN */
	req_init(&r, M_BINDING, C_REQ);
	input_raw(t, r.b, 0, &c);
	expect_none("empty datagram");
	input_raw(t, r.b, 19, &c);
	expect_none("19 bytes");
	memcpy(raw, r.b, 20);
	raw[4] ^= 1;
	input_raw(t, raw, 20, &c);
	expect_none("bad magic cookie");
	memcpy(raw, r.b, 20);
	put16(raw + 2, 4);
	input_raw(t, raw, 20, &c);
	expect_none("length 4, no attributes");
	memcpy(raw, r.b, 20);
	memset(raw + 20, 0, 4);
	input_raw(t, raw, 24, &c);
	expect_none("4 trailing bytes");
	memcpy(raw, r.b, 20);
	put16(raw + 2, 2);
	memset(raw + 20, 0, 2);
	input_raw(t, raw, 22, &c);
	expect_none("length not a multiple of 4");
	req_init(&r, M_BINDING, C_REQ);
	req_attr(&r, 0x8030, "abcd", 4);
	put16(r.b + 22, 8);	/* attribute overruns the message */
	input(t, &r, &c);
	expect_none("attribute overrunning the message");
	memcpy(raw, r.b, 20);
	raw[0] = 0x80;
	input_raw(t, raw, 20, &c);
	expect_none("first byte 0x80");
	raw[0] = 0xC0;
	input_raw(t, raw, 20, &c);
	expect_none("first byte 0xC0");
	raw[0] = 0x50;
	input_raw(t, raw, 20, &c);
	expect_none("first byte 0x50 (no channel 0x5000)");

	/* FINGERPRINT wrong / not last */
	req_init(&r, M_BINDING, C_REQ);
	req_fp(&r);
	r.b[r.len - 1] ^= 1;
	input(t, &r, &c);
	expect_none("bad FINGERPRINT");
	req_init(&r, M_BINDING, C_REQ);
	req_fp(&r);
	req_u32(&r, 0x8030, 0);
	input(t, &r, &c);
	expect_none("FINGERPRINT not last");

	/* CHANNEL-NUMBER outside 0x4000-0x4FFF -> 400 unsigned, pre-auth */
	{
		static const unsigned	chans[] = { 0x3FFF, 0x5000, 0x7FFF,
		    0xFFFF, 0x0000 };
		char			name[64];

		for (i = 0; i < sizeof(chans) / sizeof(chans[0]); i++) {
			chanbind_req(&r, &U, &c, chans[i], &p);
			input(t, &r, &c);
			snprintf(name, sizeof(name), "CHANNEL-NUMBER 0x%04x",
			    chans[i]);
			expect_err(&c, &r, M_CHANBIND, 400, NULL, name);
		}
	}
	/* an unknown comprehension-required attribute on BINDING */
	req_init(&r, M_BINDING, C_REQ);
	req_u32(&r, 0x0030, 0);
	input(t, &r, &c);
	expect_err(&c, &r, M_BINDING, 420, NULL, "BINDING with 0x0030");

	/* ChannelData without an allocation, or malformed */
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	expect_none("ChannelData without an allocation");
	input_raw(t, (const uint8_t *)"\x40\x00\x00", 3, &c);
	expect_none("ChannelData of 3 bytes");
	turn_get_stats(t, &st);
	ok(st.dropped > 0, "stats.dropped counts dropped input (%llu)",
	    (unsigned long long)st.dropped);
	is_int(turn_alloc_count(t), 0, "no allocation from any of these");
	turn_free(t);
}

/* FINGERPRINT echoed last, CRC checked here with zlib */
static void
test_fingerprint(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct req		 r;
	uint32_t		 id;

	conf_init(&conf);
	t = start(&conf);
	req_init(&r, M_BINDING, C_REQ);
	req_fp(&r);
	input(t, &r, &c);
	check_resp(0, &c, &r, M_BINDING, C_OK, 0, NULL,
	    "BINDING with FINGERPRINT -> success");
	ok(nrecs == 1 && recs[0].c.len == 40 &&
	    resp_attr_at(recs[0].c.data, recs[0].c.len, 0) == A_XMAPPED &&
	    resp_fp(recs[0].c.data, recs[0].c.len) == 1,
	    "BINDING response: XOR-MAPPED, FINGERPRINT (valid, last)");

	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_fp(&r);
	input(t, &r, &c);
	expect_err(&c, &r, M_ALLOCATE, 401, NULL, "ALLOCATE with FINGERPRINT");
	ok(nrecs == 1 && resp_fp(recs[0].c.data, recs[0].c.len) == 1,
	    "401: FINGERPRINT last and valid");

	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	auth_req(&r, M_ALLOCATE, &U, &c);
	req_fp(&r);
	input(t, &r, &c);
	id = nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START ?
	    recs[0].c.alloc_id : 0;
	ok(id != 0, "signed ALLOCATE with FINGERPRINT -> WORKER_START");
	turn_worker_ready(t, id, now);
	collect(t);
	check_resp(0, &c, &r, M_ALLOCATE, C_OK, 0, U.key,
	    "its success is signed");
	ok(nrecs == 1 && resp_fp(recs[0].c.data, recs[0].c.len) == 1,
	    "success: FINGERPRINT after MI, last and valid");

	/* the same retransmitted: identical bytes again, with FINGERPRINT */
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND &&
	    resp_fp(recs[0].c.data, recs[0].c.len) == 1,
	    "retransmission answered with FINGERPRINT too");
	turn_free(t);
}

/* SECURITY 25 */
static void
test_second_allocate(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct req		 r, r2;
	uint8_t			 first[2048];
	size_t			 flen = 0;
	uint32_t		 id;
	struct turn_stats	 st;

	conf_init(&conf);
	t = start(&conf);
	alloc_req(&r, &U, &c, -1);
	input(t, &r, &c);
	id = nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START ?
	    recs[0].c.alloc_id : 0;
	ok(id == 1, "first alloc_id is 1");
	input(t, &r, &c);
	expect_none("retransmission while STARTING");
	turn_worker_ready(t, id, now);
	collect(t);
	if (nrecs == 1) {
		flen = recs[0].c.len;
		memcpy(first, recs[0].c.data, flen);
	}
	check_resp(0, &c, &r, M_ALLOCATE, C_OK, 0, U.key, "success");
	now += 2 * SEC;
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND &&
	    recs[0].c.len == flen && memcmp(recs[0].c.data, first, flen) == 0,
	    "same tid -> identical success bytes, no second WORKER_START");
	if (nrecs != 1)
		dump_cmds();
	alloc_req(&r2, &U, &c, -1);
	input(t, &r2, &c);
	expect_err(&c, &r2, M_ALLOCATE, 437, U.key, "different tid");
	turn_get_stats(t, &st);
	is_int((long long)st.allocations, 1, "still one allocation");
	turn_free(t);
}

/* quotas (DESIGN §3, SECURITY 32-34) */
static void
test_quota(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 a1 = A("198.51.100.7", 1001);
	struct taddr		 a2 = A("198.51.100.7", 1002);
	struct taddr		 a3 = A("198.51.100.7", 1003);
	struct taddr		 b1 = A("198.51.100.8", 1001);
	struct req		 r;
	uint32_t		 id1;

	conf_init(&conf);
	conf.max_allocs_per_ip = 2;
	t = start(&conf);
	id1 = allocate(t, &a1, &U, -1, 1, "per-IP 1/2");
	allocate(t, &a2, &U, -1, 0, "per-IP 2/2 (starting counts)");
	alloc_req(&r, &U, &a3, -1);
	input(t, &r, &a3);
	expect_err(&a3, &r, M_ALLOCATE, 486, U.key, "third from the same IP");
	allocate(t, &b1, &U, -1, 1, "another IP unaffected");
	refresh_req(&r, &U, &a1, 0);
	input(t, &r, &a1);
	ok(nrecs == 2 && is_stop(0, id1, TURN_STOP_DELETED),
	    "REFRESH 0 frees a quota slot");
	allocate(t, &a3, &U, -1, 0, "third from the same IP after a delete");
	turn_free(t);

	conf_init(&conf);
	conf.max_allocs = 1;
	t = start(&conf);
	allocate(t, &a1, &U, -1, 1, "max_allocs 1/1");
	alloc_req(&r, &U, &b1, -1);
	input(t, &r, &b1);
	expect_err(&b1, &r, M_ALLOCATE, 508, U.key, "max_allocs 1: second");
	turn_free(t);

	conf_init(&conf);
	conf.lowest_port = conf.highest_port = 50000;
	conf.max_allocs = 5;
	t = start(&conf);
	id1 = allocate(t, &a1, &U, -1, 0, "1-port range");
	ok(nrecs == 1 && recs[0].c.port == 50000, "1-port range: port 50000");
	turn_worker_ready(t, id1, now);
	collect(t);
	alloc_req(&r, &U, &b1, -1);
	input(t, &r, &b1);
	expect_err(&b1, &r, M_ALLOCATE, 508, U.key,
	    "1-port range, second allocation");
	refresh_req(&r, &U, &a1, 0);
	input(t, &r, &a1);
	alloc_req(&r, &U, &b1, -1);
	input(t, &r, &b1);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START &&
	    recs[0].c.port == 50000 && recs[0].c.alloc_id != id1,
	    "the freed port is reused, with a new alloc_id");
	turn_free(t);
}

/* a worker that cannot bind its port */
static void
test_bind_fail(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct req		 r;
	uint32_t		 id;
	uint16_t		 ports[TURN_BIND_TRIES];
	int			 i, j, same = 1, distinct = 1, inrange = 1;

	conf_init(&conf);
	conf.highest_port = 49200;
	t = start(&conf);
	alloc_req(&r, &U, &c, -1);
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START,
	    "ALLOCATE -> WORKER_START");
	id = nrecs == 1 ? recs[0].c.alloc_id : 0;
	ports[0] = nrecs == 1 ? recs[0].c.port : 0;
	for (i = 1; i < TURN_BIND_TRIES; i++) {
		turn_worker_bind_failed(t, id, now);
		collect(t);
		if (nrecs != 1 || recs[0].c.type != TURN_CMD_WORKER_START ||
		    recs[0].c.alloc_id != id) {
			same = 0;
			dump_cmds();
			break;
		}
		ports[i] = recs[0].c.port;
		if (ports[i] == ports[i - 1])
			distinct = 0;
		for (j = 0; j < i; j++)
			if (ports[j] == ports[i])
				diag("port %u tried twice", ports[i]);
		if (ports[i] < 49152 || ports[i] > 49200)
			inrange = 0;
	}
	ok(same, "bind failures 1-%d: WORKER_START again, same alloc_id",
	    TURN_BIND_TRIES - 1);
	ok(distinct, "each retry on another port");
	ok(inrange, "retries stay in the port range");
	turn_worker_bind_failed(t, id, now);
	collect(t);
	expect_err(&c, &r, M_ALLOCATE, 508, U.key,
	    "bind failure TURN_BIND_TRIES -> 508");
	is_int(turn_alloc_count(t), 0, "allocation freed");
	turn_worker_bind_failed(t, id, now);
	collect(t);
	expect_none("bind failure for a freed allocation");
	turn_worker_ready(t, id, now);
	collect(t);
	expect_none("ready for a freed allocation");
	id = allocate(t, &c, &U, -1, 1, "ALLOCATE after the 508");
	turn_worker_bind_failed(t, id, now);
	collect(t);
	expect_none("bind failure on a READY allocation");
	turn_worker_ready(t, id, now);
	collect(t);
	expect_none("second ready");
	turn_worker_ready(t, 9999, now);
	collect(t);
	expect_none("ready for an unknown alloc_id");
	turn_free(t);
}

/* SECURITY 45 */
static void
test_worker_gone(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 c2 = A("198.51.100.9", 40000);
	struct req		 r;
	uint32_t		 id, id2;

	conf_init(&conf);
	t = start(&conf);
	id = allocate(t, &c, &U, -1, 1, "gone");
	turn_worker_gone(t, id, now);
	collect(t);
	expect_none("worker gone (READY)");
	is_int(turn_alloc_count(t), 0, "allocation freed");
	refresh_req(&r, &U, &c, 600);
	input(t, &r, &c);
	expect_err(&c, &r, M_REFRESH, 437, U.key, "REFRESH after worker gone");
	id2 = allocate(t, &c, &U, -1, 1, "new ALLOCATE after worker gone");
	ok(id2 != 0 && id2 != id, "with a new alloc_id");

	alloc_req(&r, &U, &c2, -1);
	input(t, &r, &c2);
	id = nrecs == 1 ? recs[0].c.alloc_id : 0;
	turn_worker_gone(t, id, now);
	collect(t);
	expect_err(&c2, &r, M_ALLOCATE, 508, U.key,
	    "worker gone while STARTING");
	turn_worker_gone(t, id, now);
	collect(t);
	expect_none("worker gone twice");
	turn_free(t);
}

/* turn_worker_data rules (engine.md 13) */
static void
test_worker_data(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 p = A("192.0.2.50", 5000);
	struct req		 r;
	struct turn_stats	 st;
	uint32_t		 id;
	int			 rc, k;
	static const struct {
		const char	*hex;
		const char	*name;
	} bad[] = {
		{ "40010002cafe", "frame on an unbound channel" },
		{ "40000005cafe", "frame length past the end" },
		{ "40000002cafe00", "trailing byte" },
		{ "400000", "short header" },
		{ "", "no frame at all" },
		{ "40000002cafe40010001ff", "second frame unbound" },
	};
	uint8_t			 buf[64];
	size_t			 len, i;

	conf_init(&conf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = start(&conf);
		id = allocate(t, &c, &U, -1, 1, bad[i].name);
		chanbind_req(&r, &U, &c, 0x4000, &p);
		input(t, &r, &c);
		len = tap_unhex(bad[i].hex, buf, sizeof(buf));
		rc = turn_worker_data(t, id, buf, len, now);
		collect(t);
		is_int(rc, -1, "%s: hostile", bad[i].name);
		ok(nrecs >= 1 && is_stop(nrecs - 1, id, TURN_STOP_HOSTILE),
		    "%s: WORKER_STOP(HOSTILE) last", bad[i].name);
		if (nrecs < 1 || !is_stop(nrecs - 1, id, TURN_STOP_HOSTILE))
			dump_cmds();
		for (k = 0; k + 1 < (int)nrecs; k++)
			if (recs[k].c.type != TURN_CMD_SEND)
				ok(0, "%s: only SENDs before the stop",
				    bad[i].name);
		is_int(turn_alloc_count(t), 0, "%s: allocation freed",
		    bad[i].name);
		turn_get_stats(t, &st);
		is_int((long long)st.hostile_workers, 1,
		    "%s: stats.hostile_workers", bad[i].name);
		input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6,
		    &c);
		expect_none("ChannelData after the hostile stop");
		turn_free(t);
	}

	t = start(&conf);
	id = allocate(t, &c, &U, -1, 1, "good frames");
	chanbind_req(&r, &U, &c, 0x4000, &p);
	input(t, &r, &c);
	len = tap_unhex("40000002cafe" "40000000" "40000003abcdef", buf,
	    sizeof(buf));
	rc = turn_worker_data(t, id, buf, len, now);
	collect(t);
	is_int(rc, 0, "three good frames accepted");
	ok(nrecs == 3 && recs[0].c.type == TURN_CMD_SEND &&
	    recs[0].c.len == 6 && memcmp(recs[0].c.data, buf, 6) == 0 &&
	    recs[1].c.len == 4 && memcmp(recs[1].c.data, buf + 6, 4) == 0 &&
	    recs[2].c.len == 7 && memcmp(recs[2].c.data, buf + 10, 7) == 0 &&
	    same_addr(&recs[2].c.addr, &c),
	    "one SEND per frame, header included, to the client");
	rc = turn_worker_data(t, 4242, buf, len, now);
	collect(t);
	is_int(rc, 0, "unknown alloc_id: 0 (teardown race)");
	expect_none("unknown alloc_id");

	/* a STARTING allocation has no channels */
	{
		struct taddr	c2 = A("198.51.100.9", 40000);
		uint32_t	id2;

		id2 = allocate(t, &c2, &U, -1, 0, "starting");
		rc = turn_worker_data(t, id2, buf, 6, now);
		collect(t);
		is_int(rc, -1, "data from a STARTING allocation: hostile");
		ok(nrecs == 1 && is_stop(0, id2, TURN_STOP_HOSTILE),
		    "WORKER_STOP(HOSTILE) for it");
	}
	turn_free(t);
}

/* SECURITY 22 */
static void
test_wrong_user(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 p = A("192.0.2.50", 5000);
	struct req		 r;

	conf_init(&conf);
	t = start(&conf);
	allocate(t, &c, &U, -1, 1, "owner U");
	refresh_req(&r, &U2, &c, 600);
	input(t, &r, &c);
	expect_err(&c, &r, M_REFRESH, 441, U2.key, "REFRESH by another user");
	chanbind_req(&r, &U2, &c, 0x4000, &p);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 441, U2.key,
	    "CHANNEL-BIND by another user");
	req_init(&r, M_PERMISSION, C_REQ);
	req_xaddr(&r, A_PEER, &p);
	auth_req(&r, M_PERMISSION, &U2, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_PERMISSION, 441, U2.key,
	    "CREATE-PERMISSION by another user");
	refresh_req(&r, &U2, &c, 0);
	input(t, &r, &c);
	expect_err(&c, &r, M_REFRESH, 441, U2.key,
	    "REFRESH 0 by another user");
	is_int(turn_alloc_count(t), 1, "the owner's allocation survives");
	turn_free(t);
}

/* CHANNEL-BIND rules (reference §6.2, DESIGN §3, SECURITY 29) */
static void
test_channel_bind(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 c2 = A("198.51.100.9", 40000);
	struct taddr		 c6 = A("198.51.100.10", 40000);
	struct taddr		 p1 = A("192.0.2.50", 5000);
	struct taddr		 p1b = A("192.0.2.50", 5001);
	struct taddr		 p2 = A("192.0.2.51", 5000);
	struct taddr		 lo = A("127.0.0.1", 5000);
	struct taddr		 v6 = A("2001:db8:5::5", 5000);
	struct req		 r;
	struct turn_stats	 st;
	uint32_t		 id, id2, id6;
	uint64_t		 tb;
	int			 i, good;

	conf_init(&conf);
	t = start(&conf);

	chanbind_req(&r, &U, &c, 0x4000, &p1);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 437, U.key, "no allocation");
	id2 = allocate(t, &c2, &U, 3600, 0, "starting");
	chanbind_req(&r, &U, &c2, 0x4000, &p1);
	input(t, &r, &c2);
	expect_err(&c2, &r, M_CHANBIND, 437, U.key, "STARTING allocation");

	/* pre-auth 400s */
	req_init(&r, M_CHANBIND, C_REQ);
	req_xaddr(&r, A_PEER, &p1);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 400, NULL,
	    "CHANNEL-NUMBER missing (no credentials: 400 before 401)");
	req_init(&r, M_CHANBIND, C_REQ);
	req_channel(&r, 0x4000);
	auth_req(&r, M_CHANBIND, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 400, NULL, "XOR-PEER-ADDRESS missing");

	id = allocate(t, &c, &U, 3600, 1, "v4 allocation");
	chanbind_req(&r, &U, &c, 0x4000, &lo);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 403, U.key, "peer 127.0.0.1");
	chanbind_req(&r, &U, &c, 0x4000, &v6);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 443, U.key,
	    "IPv6 peer on an IPv4 allocation");

	tb = now;
	chanbind_req(&r, &U, &c, 0x4000, &p1);
	input(t, &r, &c);
	ok(nrecs == 2 && recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    recs[0].c.alloc_id == id && recs[0].c.chan == 0x4000 &&
	    same_addr(&recs[0].c.addr, &p1), "bind 0x4000 -> CHAN_ADD");
	check_resp(1, &c, &r, M_CHANBIND, C_OK, 0, U.key, "then success");
	ok(nrecs == 2 && resp_nattrs(recs[1].c.data, recs[1].c.len) == 2,
	    "success carries only SOFTWARE and MI");
	ok(turn_next_timeout(t) == tb + 600 * SEC,
	    "timer at the channel expiry (600 s)");

	chanbind_req(&r, &U, &c, 0x4001, &p1);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 400, U.key, "same peer, other channel");
	chanbind_req(&r, &U, &c, 0x4000, &p2);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 400, U.key, "same channel, other peer");
	chanbind_req(&r, &U, &c, 0x4000, &p1b);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 400, U.key,
	    "same channel, same IP other port");

	/* same channel + peer: refresh, no second CHAN_ADD */
	now += 100 * SEC;
	tb = now;
	chanbind_req(&r, &U, &c, 0x4000, &p1);
	input(t, &r, &c);
	ok(nrecs == 1, "refresh of a bound channel: no CHAN_ADD");
	check_resp(0, &c, &r, M_CHANBIND, C_OK, 0, U.key, "refresh success");
	ok(turn_next_timeout(t) == tb + 600 * SEC, "refreshed expiry");

	/* the STARTING allocation did not get the channel */
	turn_worker_ready(t, id2, now);
	collect(t);
	check_resp(0, &c2, NULL, M_ALLOCATE, C_OK, 0, U.key,
	    "the STARTING allocation becomes ready");
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c2);
	expect_none("ChannelData from the client without that channel");

	/* ChannelData with padding is accepted; c2 has no such channel */
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe\x00\x00", 8,
	    &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_DATA &&
	    recs[0].c.len == 2 && recs[0].c.chan == 0x4000 &&
	    recs[0].c.alloc_id == id, "padded ChannelData -> 2-byte payload");
	input_raw(t, (const uint8_t *)"\x40\x01\x00\x02\xca\xfe", 6, &c);
	expect_none("ChannelData on an unbound number");
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x05\xca\xfe", 6, &c);
	expect_none("ChannelData length past the end");

	/* expiry: bound -> cooling down (CHAN_DEL), data dropped */
	tick(t, tb + 600 * SEC);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_CHAN_DEL &&
	    recs[0].c.alloc_id == id && recs[0].c.chan == 0x4000,
	    "channel expiry -> CHAN_DEL");
	if (nrecs != 1)
		dump_cmds();
	turn_get_stats(t, &st);
	is_int((long long)st.channels, 0, "no bound channel");
	ok(turn_next_timeout(t) == tb + 900 * SEC,
	    "timer at the end of the cool-down");
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	expect_none("ChannelData on a cooling-down channel");
	chanbind_req(&r, &U, &c, 0x4000, &p2);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 400, U.key,
	    "cooling-down channel, other peer");
	chanbind_req(&r, &U, &c, 0x4001, &p1);
	input(t, &r, &c);
	expect_err(&c, &r, M_CHANBIND, 400, U.key,
	    "cooling-down peer, other channel");

	/* rebinding during the cool-down re-emits CHAN_ADD */
	now += 10 * SEC;
	tb = now;
	chanbind_req(&r, &U, &c, 0x4000, &p1);
	input(t, &r, &c);
	ok(nrecs == 2 && recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    recs[0].c.chan == 0x4000 && same_addr(&recs[0].c.addr, &p1),
	    "rebind while cooling down -> CHAN_ADD again");
	check_resp(1, &c, &r, M_CHANBIND, C_OK, 0, U.key, "rebind success");
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_DATA,
	    "ChannelData flows again");

	/* expire and let the cool-down end: number and peer free again */
	tick(t, tb + 600 * SEC);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_CHAN_DEL,
	    "second expiry -> CHAN_DEL");
	tick(t, tb + 900 * SEC - 1);
	expect_none("tick just before the end of the cool-down");
	tick(t, tb + 900 * SEC);
	expect_none("end of the cool-down (channel deleted silently)");
	chanbind_req(&r, &U, &c, 0x4000, &p2);
	input(t, &r, &c);
	ok(nrecs == 2 && recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    same_addr(&recs[0].c.addr, &p2),
	    "after the cool-down the number binds to another peer");

	/* dual-stack allocation takes an IPv6 peer */
	{
		struct req	ra;

		req_init(&ra, M_ALLOCATE, C_REQ);
		req_byte(&ra, A_TRANSPORT, 17);
		req_byte(&ra, A_ADD_FAM, 2);
		auth_req(&ra, M_ALLOCATE, &U, &c6);
		input(t, &ra, &c6);
		id6 = nrecs == 1 ? recs[0].c.alloc_id : 0;
		turn_worker_ready(t, id6, now);
		collect(t);
		chanbind_req(&r, &U, &c6, 0x4000, &v6);
		input(t, &r, &c6);
		ok(nrecs == 2 && recs[0].c.type ==
		    TURN_CMD_WORKER_CHAN_ADD && recs[0].c.alloc_id == id6 &&
		    same_addr(&recs[0].c.addr, &v6),
		    "IPv6 peer on a dual-stack allocation, same number as "
		    "another client's");
	}

	/* TURN_MAX_CHANNELS per allocation, then 508 */
	good = 1;
	for (i = 1; i < TURN_MAX_CHANNELS; i++) {	/* 0x4000 is bound */
		struct taddr	pp;

		pp = A("192.0.2.100", (uint16_t)(10000 + i));

		chanbind_req(&r, &U, &c, 0x4000 + (unsigned)i, &pp);
		input(t, &r, &c);
		if (nrecs != 2 || recs[0].c.type != TURN_CMD_WORKER_CHAN_ADD) {
			good = 0;
			diag("channel %d failed", i);
			dump_cmds();
			break;
		}
	}
	ok(good, "%d channels bound", TURN_MAX_CHANNELS);
	{
		struct taddr	pp = A("192.0.2.100", 9999);

		chanbind_req(&r, &U, &c, 0x4000 + TURN_MAX_CHANNELS, &pp);
		input(t, &r, &c);
		expect_err(&c, &r, M_CHANBIND, 508, U.key,
		    "one channel more than TURN_MAX_CHANNELS");
	}

	/* deleting the allocation deletes its channels at once */
	refresh_req(&r, &U, &c, 0);
	input(t, &r, &c);
	ok(nrecs == 2 && is_stop(0, id, TURN_STOP_DELETED),
	    "REFRESH 0 -> WORKER_STOP(DELETED), success");
	turn_get_stats(t, &st);
	is_int((long long)st.channels, 1,
	    "only the other allocation's channel is left");
	turn_free(t);
}

/* CREATE-PERMISSION (DESIGN §3) */
static void
test_permission(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 p1 = A("192.0.2.60", 1);
	struct taddr		 p2 = A("192.0.2.61", 1);
	struct taddr		 lo = A("127.0.0.1", 1);
	struct taddr		 v6 = A("2001:db8:5::5", 1);
	struct req		 r;

	conf_init(&conf);
	t = start(&conf);
	req_init(&r, M_PERMISSION, C_REQ);
	req_xaddr(&r, A_PEER, &p1);
	auth_req(&r, M_PERMISSION, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_PERMISSION, 437, U.key, "no allocation");

	allocate(t, &c, &U, -1, 1, "permission");
	req_init(&r, M_PERMISSION, C_REQ);
	auth_req(&r, M_PERMISSION, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_PERMISSION, 400, NULL, "no XOR-PEER-ADDRESS");

	req_init(&r, M_PERMISSION, C_REQ);
	req_xaddr(&r, A_PEER, &p1);
	req_xaddr(&r, A_PEER, &lo);
	req_xaddr(&r, A_PEER, &p2);
	auth_req(&r, M_PERMISSION, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_PERMISSION, 403, U.key,
	    "one denied peer in a mixed list");

	req_init(&r, M_PERMISSION, C_REQ);
	req_xaddr(&r, A_PEER, &p1);
	req_xaddr(&r, A_PEER, &v6);
	auth_req(&r, M_PERMISSION, &U, &c);
	input(t, &r, &c);
	expect_err(&c, &r, M_PERMISSION, 443, U.key,
	    "IPv6 peer on an IPv4 allocation");

	req_init(&r, M_PERMISSION, C_REQ);
	req_xaddr(&r, A_PEER, &p1);
	req_xaddr(&r, A_PEER, &p2);
	auth_req(&r, M_PERMISSION, &U, &c);
	input(t, &r, &c);
	ok(nrecs == 1, "allowed peers: one command");
	check_resp(0, &c, &r, M_PERMISSION, C_OK, 0, U.key,
	    "allowed peers -> signed success");
	ok(nrecs == 1 && resp_nattrs(recs[0].c.data, recs[0].c.len) == 2,
	    "success carries only SOFTWARE and MI");
	turn_free(t);
}

/* drain (DESIGN §3) */
static void
test_drain(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c1 = A("198.51.100.7", 40000);
	struct taddr		 c2 = A("198.51.100.8", 40000);
	struct taddr		 c3 = A("198.51.100.9", 40000);
	struct req		 r;
	const uint8_t		*v;
	size_t			 vlen;
	uint32_t		 id1, id2;
	uint64_t		 deadline;
	int			 s1 = 0, s2 = 0;
	size_t			 i;

	conf_init(&conf);
	t = start(&conf);
	id1 = allocate(t, &c1, &U, -1, 1, "before drain");
	turn_drain(t, now, 0);
	collect(t);
	alloc_req(&r, &U, &c2, -1);
	input(t, &r, &c2);
	expect_err(&c2, &r, M_ALLOCATE, 508, U.key, "ALLOCATE while draining");
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	input(t, &r, &c2);
	expect_err(&c2, &r, M_ALLOCATE, 401, NULL,
	    "unauthenticated ALLOCATE while draining (auth first)");
	refresh_req(&r, &U, &c1, 900);
	input(t, &r, &c1);
	check_resp(0, &c1, &r, M_REFRESH, C_OK, 0, U.key,
	    "REFRESH while draining works");
	is_int(resp_lifetime(0), 900, "no deadline: lifetime not clamped");
	(void)id1;
	turn_free(t);

	/* with an alternate server: 300 Try Alternate */
	conf_init(&conf);
	set_ip(&conf.alternate, "198.51.100.99", 3478);
	t = start(&conf);
	turn_drain(t, now, 0);
	collect(t);
	alloc_req(&r, &U, &c2, -1);
	input(t, &r, &c2);
	expect_err(&c2, &r, M_ALLOCATE, 300, U.key,
	    "ALLOCATE while draining with an alternate");
	v = nrecs == 1 ? resp_attr(recs[0].c.data, recs[0].c.len,
	    A_ALTERNATE, &vlen) : NULL;
	ok(v != NULL && vlen == 8 && memcmp(v,
	    "\x00\x01\x0d\x96\xc6\x33\x64\x63", 8) == 0,
	    "ALTERNATE-SERVER 198.51.100.99:3478, plain MAPPED format");
	turn_free(t);

	/* with a deadline: lifetimes clamped, WORKER_STOP(DRAIN) at it */
	conf_init(&conf);
	t = start(&conf);
	id1 = allocate(t, &c1, &U, -1, 1, "drain deadline 1");
	id2 = allocate(t, &c3, &U, -1, 1, "drain deadline 2");
	deadline = now + 100 * SEC;
	turn_drain(t, now, deadline);
	collect(t);
	ok(turn_next_timeout(t) <= deadline, "timer at or before the deadline");
	now += 10 * SEC;
	refresh_req(&r, &U, &c1, 600);
	input(t, &r, &c1);
	check_resp(0, &c1, &r, M_REFRESH, C_OK, 0, U.key,
	    "REFRESH before the deadline");
	is_int(resp_lifetime(0), 90, "REFRESH lifetime clamped to 90 s left");
	tick(t, deadline);
	for (i = 0; i < nrecs; i++) {
		if (is_stop(i, id1, TURN_STOP_DRAIN))
			s1++;
		if (is_stop(i, id2, TURN_STOP_DRAIN))
			s2++;
	}
	ok(nrecs == 2 && s1 == 1 && s2 == 1,
	    "deadline tick: WORKER_STOP(DRAIN) for each allocation");
	if (nrecs != 2 || s1 != 1 || s2 != 1)
		dump_cmds();
	is_int(turn_alloc_count(t), 0, "no allocation left");
	turn_free(t);
}

/* per-source cap on unauthenticated replies (SECURITY 41) */
static void
test_unauth_cap(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 a, b = A("198.51.100.8", 3000);
	struct req		 r;
	struct turn_stats	 st0, st1;
	unsigned		 sends = 0, total_sends = 0, calls0;
	int			 i;
	uint32_t		 id;

	conf_init(&conf);
	conf.unauth_per_ip_per_s = 5;
	t = start(&conf);
	turn_get_stats(t, &st0);
	for (i = 0; i < 10; i++) {
		a = A("198.51.100.7", (uint16_t)(2000 + i));
		now = T0 + (uint64_t)i;
		req_init(&r, M_BINDING, C_REQ);
		input(t, &r, &a);
		sends += nrecs == 1 && recs[0].c.type == TURN_CMD_SEND;
	}
	total_sends += sends;
	is_int(sends, 5, "10 BINDINGs in one second from one IP -> 5 answers");
	turn_get_stats(t, &st1);
	is_int((long long)(st1.dropped - st0.dropped), 5,
	    "the 5 suppressed replies count in stats.dropped");
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	input(t, &r, &a);
	expect_none("unauthenticated ALLOCATE over the budget (no 401)");
	req_init(&r, M_ALLOCATE, C_REQ);
	input(t, &r, &a);
	expect_none("400 over the budget");
	req_init(&r, M_BINDING, C_REQ);
	input(t, &r, &b);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND,
	    "another IP still answered");
	total_sends += nrecs == 1;

	/* signed replies are not capped */
	alloc_req(&r, &U, &a, -1);
	input(t, &r, &a);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_START,
	    "authenticated ALLOCATE over the budget still works");
	id = nrecs == 1 ? recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, now);
	collect(t);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND,
	    "its signed success is sent");
	total_sends += nrecs == 1;

	now = T0 + SEC;
	req_init(&r, M_BINDING, C_REQ);
	input(t, &r, &a);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND,
	    "next second: answered again");
	total_sends += nrecs == 1;
	is_int(hook_calls, total_sends,
	    "response hook: once per response sent, not for suppressed ones");
	calls0 = hook_calls;

	/*
	 * Many sources in one second: the table is fixed-size, so sources
	 * sharing a slot may share a budget; only check the hook agrees.
	 */
	sends = 0;
	for (i = 0; i < 20000; i++) {
		struct taddr	x;

		memset(&x, 0, sizeof(x));
		x.family = ADDR_V4;
		x.ip[0] = 100;
		x.ip[1] = (uint8_t)(i >> 16);
		x.ip[2] = (uint8_t)(i >> 8);
		x.ip[3] = (uint8_t)i;
		x.port = 1;
		req_init(&r, M_BINDING, C_REQ);
		turn_client_input(t, r.b, r.len, &x, now, WALL_S);
		collect(t);
		sends += nrecs == 1;
	}
	ok(sends >= 1000, "20000 sources in one second: %u answered", sends);
	is_int(hook_calls - calls0, sends, "each answer counted by the hook");
	turn_free(t);
}

/* the response hook's arguments */
static void
test_hook(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct req		 r;
	uint32_t		 id;

	conf_init(&conf);
	t = start(&conf);
	req_init(&r, M_BINDING, C_REQ);
	input(t, &r, &c);
	ok(hook_calls == 1 && hook_method == M_BINDING &&
	    hook_cls == STUN_SUCCESS && hook_code == 0,
	    "hook: (binding, success, 0)");
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	input(t, &r, &c);
	ok(hook_calls == 2 && hook_method == M_ALLOCATE &&
	    hook_cls == STUN_ERROR && hook_code == 401,
	    "hook: (allocate, error, 401)");
	req_init(&r, M_BINDING, C_IND);
	input(t, &r, &c);
	is_int(hook_calls, 2, "hook: not called for a dropped indication");
	alloc_req(&r, &U, &c, -1);
	input(t, &r, &c);
	is_int(hook_calls, 2, "hook: not called for WORKER_START");
	id = nrecs == 1 ? recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, now);
	collect(t);
	ok(hook_calls == 3 && hook_method == M_ALLOCATE &&
	    hook_cls == STUN_SUCCESS && hook_code == 0,
	    "hook: (allocate, success, 0) on worker ready");
	input_raw(t, (const uint8_t *)"\x40\x00\x00\x02\xca\xfe", 6, &c);
	is_int(hook_calls, 3, "hook: not called for ChannelData");
	refresh_req(&r, &U2, &c, 600);
	input(t, &r, &c);
	ok(hook_calls == 4 && hook_method == M_REFRESH &&
	    hook_cls == STUN_ERROR && hook_code == 441,
	    "hook: (refresh, error, 441)");
	turn_free(t);
}


/* LOG commands (engine.md 16) */
static void
test_logs(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 c2 = A("198.51.100.9", 40000);
	struct taddr		 p = A("192.0.2.50", 5000);
	struct req		 r;
	uint32_t		 id;
	uint8_t		 frame[6] = { 0x40, 0, 0, 2, 0xca, 0xfe };

	conf_init(&conf);
	t = start(&conf);
	alloc_req(&r, &U, &c, -1);
	input(t, &r, &c);
	id = nrecs == 1 ? recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, now);
	collect(t);
	ok(log_has(TURN_LOG_INFO, "Created new allocation"),
	    "info 'Created new allocation' on worker ready");
	if (!log_has(TURN_LOG_INFO, "Created new allocation"))
		dump_logs();
	chanbind_req(&r, &U, &c, 0x4000, &p);
	input(t, &r, &c);
	input_raw(t, frame, sizeof(frame), &c);
	ok(nrecs == 1 && log_worst() >= TURN_LOG_DEBUG,
	    "ChannelData: no log above debug");
	turn_worker_data(t, id, frame, sizeof(frame), now);
	collect(t);
	ok(nrecs == 1 && log_worst() >= TURN_LOG_DEBUG,
	    "peer data: no log above debug");

	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	input(t, &r, &c2);
	ok(log_worst() >= TURN_LOG_DEBUG, "401: logged at debug at most");
	req_init(&r, M_ALLOCATE, C_REQ);
	req_byte(&r, A_TRANSPORT, 17);
	req_auth_n(&r, &U, "00000000-0000-0000-0000-000000000000");
	input(t, &r, &c2);
	ok(log_worst() >= TURN_LOG_DEBUG, "438: logged at debug at most");
	refresh_req(&r, &U, &c2, 600);
	input(t, &r, &c2);
	ok(log_worst() <= TURN_LOG_WARN, "437: logged at warn");
	if (log_worst() > TURN_LOG_WARN)
		dump_logs();

	tick(t, now + 600 * SEC);
	ok(nrecs >= 1 && is_stop(0, id, TURN_STOP_EXPIRED) &&
	    log_has(TURN_LOG_INFO, "Deleted allocation"),
	    "expiry: WORKER_STOP and info 'Deleted allocation'");
	if (!log_has(TURN_LOG_INFO, "Deleted allocation"))
		dump_logs();

	id = allocate(t, &c, &U, -1, 1, "hostile log");
	frame[1] = 0x07;
	turn_worker_data(t, id, frame, sizeof(frame), now);
	collect(t);
	ok(log_worst() <= TURN_LOG_WARN, "hostile worker: logged at warn");
	is_int(leaks, 0, "no LOG ever held a password or a nonce MAC");
	turn_free(t);
}

/* REFRESH on a STARTING allocation: no special case (engine.md 9) */
static void
test_refresh_starting(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct req		 r;
	uint32_t		 id;

	conf_init(&conf);
	t = start(&conf);
	id = allocate(t, &c, &U, -1, 0, "starting");
	refresh_req(&r, &U, &c, 100);
	input(t, &r, &c);
	check_resp(0, &c, &r, M_REFRESH, C_OK, 0, U.key,
	    "REFRESH on a STARTING allocation -> success");
	is_int(resp_lifetime(0), 100, "with LIFETIME 100");
	ok(turn_next_timeout(t) == now + 100 * SEC, "expiry now + 100 s");
	refresh_req(&r, &U, &c, 0);
	input(t, &r, &c);
	ok(nrecs == 2 && is_stop(0, id, TURN_STOP_DELETED),
	    "REFRESH 0 on a STARTING allocation -> WORKER_STOP(DELETED)");
	check_resp(1, &c, &r, M_REFRESH, C_OK, 0, U.key, "then success");
	turn_worker_ready(t, id, now);
	collect(t);
	expect_none("worker ready after the delete");
	is_int(turn_alloc_count(t), 0, "no allocation");
	turn_free(t);
}

/* TURN REST credentials (auth.h, DESIGN §3) */
static void
test_rest(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 c2 = A("198.51.100.8", 40000);
	struct req		 r;

	conf_init(&conf);
	conf.auth_schemes = AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST;
	t = start(&conf);
	allocate(t, &c, &UREST, -1, 1, "REST user, both schemes");
	allocate(t, &c2, &U, -1, 1, "Firezone user, both schemes");
	turn_free(t);

	conf_init(&conf);
	conf.auth_schemes = AUTH_SCHEME_REST;
	t = start(&conf);
	allocate(t, &c, &UREST, -1, 1, "REST user, REST only");
	alloc_req(&r, &U, &c2, -1);
	input(t, &r, &c2);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND &&
	    resp_code(recs[0].c.data, recs[0].c.len) == 401,
	    "Firezone user, REST only -> 401");
	turn_free(t);

	conf_init(&conf);
	t = start(&conf);
	alloc_req(&r, &UREST, &c, -1);
	input(t, &r, &c);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND &&
	    resp_code(recs[0].c.data, recs[0].c.len) == 401,
	    "REST user, Firezone only -> 401");
	turn_free(t);
}

/* max_allocs 0 = the port range size */
static void
test_range(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct req		 r;
	struct taddr		 a;
	uint16_t		 seen[3] = { 0, 0, 0 };
	int			 i, good = 1;

	conf_init(&conf);
	conf.lowest_port = 60000;
	conf.highest_port = 60002;
	t = start(&conf);
	for (i = 0; i < 3; i++) {
		a = A("198.51.100.7", (uint16_t)(1000 + i));
		alloc_req(&r, &U, &a, -1);
		input(t, &r, &a);
		if (nrecs != 1 || recs[0].c.type != TURN_CMD_WORKER_START) {
			good = 0;
			dump_cmds();
			continue;
		}
		seen[i] = recs[0].c.port;
	}
	ok(good && seen[0] == 60000 && seen[1] == 60001 && seen[2] == 60002,
	    "3-port range: 60000, 60001, 60002 (zero RNG, linear probe)");
	a = A("198.51.100.7", 1003);
	alloc_req(&r, &U, &a, -1);
	input(t, &r, &a);
	expect_err(&a, &r, M_ALLOCATE, 508, U.key, "fourth allocation");
	turn_free(t);
}

/* SECURITY 21 and 24 */
static void
test_smuggling(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 other = A("198.51.100.7", 40001);
	struct taddr		 p = A("192.0.2.50", 5000);
	struct taddr		 lo = A("127.0.0.1", 5000);
	struct req		 r;
	uint32_t		 id;

	conf_init(&conf);
	t = start(&conf);
	id = allocate(t, &c, &U, 3600, 1, "smuggling");

	/* a second XOR-PEER-ADDRESS after MI is ignored */
	chanbind_req(&r, &U, &c, 0x4000, &p);
	req_xaddr(&r, A_PEER, &lo);
	input(t, &r, &c);
	ok(nrecs == 2 && recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    same_addr(&recs[0].c.addr, &p),
	    "XOR-PEER-ADDRESS 127.0.0.1 after MI ignored; covered peer bound");
	check_resp(1, &c, &r, M_CHANBIND, C_OK, 0, U.key, "success");

	/* LIFETIME 0 after MI does not delete */
	refresh_req(&r, &U, &c, -1);
	req_u32(&r, A_LIFETIME, 0);
	input(t, &r, &c);
	ok(nrecs == 1, "LIFETIME 0 after MI: no WORKER_STOP");
	is_int(resp_lifetime(0), 600, "LIFETIME after MI ignored (default)");

	/* the captured REFRESH 0 replayed from another port */
	refresh_req(&r, &U, &c, 0);
	input(t, &r, &other);
	expect_err(&other, &r, M_REFRESH, 438, U.key,
	    "REFRESH 0 replayed from another source (nonce bound)");
	is_int(turn_alloc_count(t), 1, "victim's allocation unchanged");
	(void)id;
	turn_free(t);
}

int
main(void)
{
	cred_make(&U, EXPIRY, "abcdefghij");
	is_str(U.pass, "izLTF0QnQC5bcltVxbyfK8r8wOW0iLM5g6vZqRBi1yA",
	    "test password derivation matches reference §13.3");
	cred_make(&U2, EXPIRY, "otheruser1");
	cred_make(&UEXP, 1600000000ULL, "expired123");
	rest_make(&UREST, "4102444800:alice");
	secret_add(U.pass);
	secret_add(U2.pass);
	secret_add(UEXP.pass);
	secret_add(UREST.pass);

	test_families();
	test_lifetime();
	test_auth();
	test_sizes();
	test_attrs();
	test_drop();
	test_fingerprint();
	test_second_allocate();
	test_quota();
	test_bind_fail();
	test_worker_gone();
	test_worker_data();
	test_wrong_user();
	test_channel_bind();
	test_permission();
	test_drain();
	test_unauth_cap();
	test_hook();
	test_logs();
	test_refresh_starting();
	test_rest();
	test_range();
	test_smuggling();
	return done_testing();
}
