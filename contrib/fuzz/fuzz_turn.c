/*
 * fuzz_turn.c: libFuzzer harness for the sans-IO TURN engine.
 *
 * A fixed configuration (dual stack, a 9-port range, small quotas, the
 * unauthenticated-reply cap on). Before the fuzz input is read, client A
 * gets a live allocation through real requests (ALLOCATE, worker ready)
 * and a bound channel 0x4000. The input is then a sequence of records
 *
 *	u8 op, u8 arg, u16 len, len bytes
 *
 * played as: a datagram from client A, B or C; the same bytes turned
 * into an authenticated request (transaction id = the first 12 bytes,
 * attributes copied as TLVs, then maybe an XOR-PEER-ADDRESS, USERNAME,
 * NONCE, MESSAGE-INTEGRITY and maybe FINGERPRINT added); a
 * timer tick; worker data, ready, bind failure or exit for an alloc_id;
 * drain. After every input all commands are drained and checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "stun.h"
#include "turn.h"

#define T0	1000000ULL
#define WALL	1700000000LL
#define SALT	"fuzzsalt01"

static const char secret[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct fz {
	struct turn	*t;
	uint64_t	 now;
	struct taddr	 cl[3];
	struct taddr	 peer[2];	/* allowed, private (403) */
	char		 user[64];
	size_t		 ulen;
	uint8_t		 key[16];
	uint32_t	 rng;
	uint8_t		 nkey[AUTH_NONCE_KEY_LEN];	/* the engine's */
	const uint8_t	*in;		/* the current input */
	size_t		 in_len;
};

static void
fz_rng(void *arg, void *out, size_t len)
{
	struct fz	*f = arg;
	uint8_t		*p = out;
	size_t		 i;

	for (i = 0; i < len; i++) {
		f->rng = f->rng * 1103515245u + 12345u;
		p[i] = (uint8_t)(f->rng >> 16);
	}
}

static void
fz_touch(const uint8_t *p, size_t n)
{
	volatile uint8_t	x = 0;
	size_t			i;

	for (i = 0; i < n; i++)
		x ^= p[i];
	(void)x;
}

/* drain and sanity-check every command; touching all bytes lets ASan
 * catch a dangling pointer */
static void
fz_drain(struct fz *f)
{
	struct turn_cmd	c;
	size_t		n = 0;

	while (turn_next_cmd(f->t, &c) == 1) {
		if (++n > 1000000)
			abort();
		switch (c.type) {
		case TURN_CMD_SEND:
			if (c.data == NULL || c.len == 0 || c.addr.port == 0)
				abort();
			fz_touch(c.data, c.len);
			break;
		case TURN_CMD_WORKER_DATA:
		case TURN_CMD_WORKER_SEND:
			if (c.len > 0 && (c.data < f->in ||
			    c.data + c.len > f->in + f->in_len))
				abort();
			fz_touch(c.data, c.len);
			break;
		case TURN_CMD_LOG:
			if (c.text == NULL || strlen(c.text) >= TURN_LOG_MAX)
				abort();
			break;
		case TURN_CMD_WORKER_START:
			if (c.port < 49152 || c.port > 49160 || c.alloc_id == 0)
				abort();
			break;
		default:
			break;
		}
	}
	(void)turn_next_timeout(f->t);
}

static void
fz_client(struct fz *f, int who, const uint8_t *p, size_t n)
{
	f->in = p;
	f->in_len = n;
	turn_client_input(f->t, p, n, &f->cl[who], f->now,
	    WALL + (int64_t)((f->now - T0) / 1000));
	fz_drain(f);
}

/* copy TLVs from raw into the encoder, then sign */
static size_t
fz_signed(struct fz *f, uint16_t method, const uint8_t *raw, size_t n,
    int who, int fp, const struct taddr *peer, uint8_t *buf)
{
	struct stun_enc	 e;
	char		 nonce[AUTH_NONCE_LEN + 1];
	uint8_t		 tid[STUN_TID_LEN];
	size_t		 off = 0, alen;
	long		 len;

	memset(tid, 0, sizeof(tid));
	memcpy(tid, raw, n < sizeof(tid) ? n : sizeof(tid));
	stun_enc_init(&e, buf, STUN_MAX_MSG, method, STUN_REQUEST, tid);
	while (off + 4 <= n) {
		alen = (size_t)raw[off + 2] << 8 | raw[off + 3];
		if (alen > n - off - 4)
			alen = n - off - 4;
		stun_put_attr(&e, (uint16_t)(raw[off] << 8 | raw[off + 1]),
		    raw + off + 4, alen);
		off += 4 + alen;
	}
	if (peer != NULL)
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, peer);
	auth_nonce_mint(f->nkey, &f->cl[who], f->now / 1000, nonce);
	stun_put_attr(&e, STUN_A_USERNAME, f->user, f->ulen);
	stun_put_attr(&e, STUN_A_NONCE, nonce, AUTH_NONCE_LEN);
	stun_put_mi(&e, f->key);
	if (fp)
		stun_put_fingerprint(&e);
	len = stun_enc_finish(&e);
	return len < 0 ? 0 : (size_t)len;
}

static void
fz_setup_alloc(struct fz *f)
{
	uint8_t		buf[STUN_MAX_MSG], attrs[24];
	struct taddr	peer;
	size_t		n;

	/* REQUESTED-TRANSPORT UDP, LIFETIME 3600 (tid = first 12 bytes) */
	memset(attrs, 0, sizeof(attrs));
	memcpy(attrs, "\x00\x19\x00\x04\x11\x00\x00\x00"
	    "\x00\x0d\x00\x04\x00\x00\x0e\x10", 16);
	n = fz_signed(f, STUN_ALLOCATE, attrs, 16, 0, 0, NULL, buf);
	fz_client(f, 0, buf, n);
	turn_worker_ready(f->t, 1, f->now);
	fz_drain(f);
	/* CHANNEL-BIND 0x4000 -> 93.184.216.34:5000 */
	memcpy(attrs, "\x00\x0c\x00\x04\x40\x00\x00\x00", 8);
	addr_parse_hostport("93.184.216.34:5000", &peer);
	n = fz_signed(f, STUN_CHANNEL_BIND, attrs, 8, 0, 0, &peer, buf);
	fz_client(f, 0, buf, n);
}

static int
fz_init(struct fz *f)
{
	struct turn_conf	c;
	char			pass[AUTH_PASS_LEN + 1];
	uint64_t		expiry = (uint64_t)WALL + 100000;

	memset(f, 0, sizeof(*f));
	memset(&c, 0, sizeof(c));
	addr_parse_ip("203.0.113.1", &c.public4);
	addr_parse_ip("2001:db8::1", &c.public6);
	c.lowest_port = 49152;
	c.highest_port = 49160;
	c.secret = secret;
	c.secret_len = sizeof(secret) - 1;
	c.software = "turncell/fuzz";
	c.auth_schemes = AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST;
	c.max_allocs_per_ip = 3;
	c.unauth_per_ip_per_s = 20;
	addr_parse_hostport("198.51.100.9:3478", &c.alternate);
	c.indications = 1;	/* the RFC 8656 data path too */
	/* turn_new draws the nonce key first: replay the RNG to know it */
	fz_rng(f, f->nkey, sizeof(f->nkey));
	f->rng = 0;
	if ((f->t = turn_new(&c, fz_rng, f)) == NULL)
		return -1;
	f->now = T0;
	addr_parse_hostport("198.51.100.7:40000", &f->cl[0]);
	addr_parse_hostport("[2001:db8:1::7]:40001", &f->cl[1]);
	addr_parse_hostport("198.51.100.7:40002", &f->cl[2]);
	addr_parse_hostport("93.184.216.34:5000", &f->peer[0]);
	addr_parse_hostport("10.0.0.1:5000", &f->peer[1]);
	f->ulen = (size_t)snprintf(f->user, sizeof(f->user), "%llu:%s",
	    (unsigned long long)expiry, SALT);
	auth_password(expiry, secret, sizeof(secret) - 1, SALT,
	    sizeof(SALT) - 1, pass);
	stun_lt_key((const uint8_t *)f->user, f->ulen, AUTH_REALM, pass,
	    AUTH_PASS_LEN, f->key);
	return 0;
}

static void
fz_worker(struct fz *f, uint8_t op, uint8_t arg, const uint8_t *p, size_t n)
{
	uint32_t	id = arg % 8;

	f->in = p;
	f->in_len = n;
	switch (op) {
	case 5:		/* arg bit 7: one datagram without a channel */
		if (arg & 0x80)
			(void)turn_worker_peer_data(f->t, id,
			    &f->peer[arg >> 6 & 1], p, n, f->now);
		else
			(void)turn_worker_data(f->t, id, p, n, f->now);
		break;
	case 6:
		turn_worker_ready(f->t, id, f->now);
		break;
	case 7:
		turn_worker_bind_failed(f->t, id, f->now);
		break;
	case 8:
		turn_worker_gone(f->t, id, f->now);
		break;
	}
	fz_drain(f);
}

static void
fz_op(struct fz *f, uint8_t op, uint8_t arg, const uint8_t *p, size_t n)
{
	static const uint16_t	methods[] = { STUN_BINDING, STUN_ALLOCATE,
	    STUN_REFRESH, STUN_CREATE_PERMISSION, STUN_CHANNEL_BIND,
	    STUN_SEND, 0x00b, 0x0fff };
	uint8_t			buf[STUN_MAX_MSG];
	int			who;

	switch (op % 11) {
	case 0: case 1: case 2:
		fz_client(f, op % 3, p, n);
		break;
	case 3:		/* arg: fp:1 peer:1 private:1 client:2 method:3 */
		who = (arg >> 3 & 3) % 3;
		fz_client(f, who, buf, fz_signed(f, methods[arg & 7], p, n, who,
		    arg & 0x80, arg & 0x40 ? &f->peer[arg >> 5 & 1] : NULL,
		    buf));
		break;
	case 4:
		f->now += (uint64_t)arg * arg * 1000 + n;
		turn_timeout(f->t, f->now);
		fz_drain(f);
		break;
	case 5: case 6: case 7: case 8:
		fz_worker(f, op % 11, arg, p, n);
		break;
	case 9:
		turn_drain(f->t, f->now, arg & 1 ? f->now + arg * 1000ULL : 0);
		fz_drain(f);
		break;
	default:
		f->now += arg;
		break;
	}
}

/* the set-up produced a bound channel */
static int
fz_bound(const struct fz *f)
{
	struct turn_stats	st;

	turn_get_stats(f->t, &st);
	return st.channels == 1;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	 f;
	size_t		 off = 0, n;
	uint8_t		*copy;

	if (fz_init(&f) == -1)
		abort();
	fz_setup_alloc(&f);
	if (turn_alloc_count(f.t) != 1 || !fz_bound(&f))
		abort();
	while (size - off >= 4) {
		n = (size_t)data[off + 2] << 8 | data[off + 3];
		if (n > size - off - 4)
			n = size - off - 4;
		/* an exact-size heap copy so ASan sees overreads */
		if ((copy = malloc(n == 0 ? 1 : n)) == NULL)
			abort();
		memcpy(copy, data + off + 4, n);
		fz_op(&f, data[off], data[off + 1], copy, n);
		free(copy);
		off += 4 + n;
	}
	turn_free(f.t);
	return 0;
}
