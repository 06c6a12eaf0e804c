/*
 * tutil_client.c: the STUN/TURN client of the end-to-end tests (see
 * tutil.h): credentials from a relay's secret, requests built with the
 * codec, the nonce dance, ChannelData.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

void
tu_cred(const char *secret, long ttl, char *user, size_t ucap,
    char pass[AUTH_PASS_LEN + 1])
{
	static const char	 al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
				    "KLMNOPQRSTUVWXYZ0123456789";
	char			 salt[17];
	uint64_t		 expiry;
	size_t			 i;

	for (i = 0; i < sizeof(salt) - 1; i++)
		salt[i] = al[tu_rand() % (sizeof(al) - 1)];
	salt[sizeof(salt) - 1] = '\0';
	expiry = (uint64_t)time(NULL) + (uint64_t)ttl;
	snprintf(user, ucap, "%llu:%s", (unsigned long long)expiry, salt);
	auth_password(expiry, secret, strlen(secret), salt, strlen(salt),
	    pass);
}

/*
 * The client
 */

/* a client on fd (closed on failure) to the relay, its own credentials */
static int
tu_client_on(struct tu_client *c, const struct tu_relay *r, int fd,
    int family)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if (c->fd < 0)
		return -1;
	if (tu_sock_addr(c->fd, &c->local) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->server = family == ADDR_V6 ? r->addr6 : r->addr4;
	tu_cred(r->secret, 3600, c->user, sizeof(c->user), c->pass);
	stun_lt_key((const uint8_t *)c->user, strlen(c->user), AUTH_REALM,
	    c->pass, strlen(c->pass), c->key);
	return 0;
}

int
tu_relay_client(struct tu_relay *r, struct tu_client *c)
{
	struct tu_relay_opts	o;

	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	if (tu_relay_start(r, &o) == -1 ||
	    tu_client_open(c, r, ADDR_V4) == -1) {
		ok(0, "relay and client");
		return -1;
	}
	return 0;
}

int
tu_client_open(struct tu_client *c, const struct tu_relay *r, int family)
{
	return tu_client_on(c, r, tu_udp_bind(family, 0), family);
}

void
tu_client_close(struct tu_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static long
tu_build(struct tu_client *c, const struct tu_req *q, int auth, uint8_t *out,
    size_t cap)
{
	struct stun_enc	e;
	uint8_t		v[4];
	size_t		i;

	for (i = 0; i < STUN_TID_LEN; i++)
		c->tid[i] = (uint8_t)tu_rand();
	stun_enc_init(&e, out, cap, q->method, STUN_REQUEST, c->tid);
	if (q->method == STUN_ALLOCATE) {
		memset(v, 0, sizeof(v));
		v[0] = q->transport ? q->transport : 17;
		stun_put_attr(&e, STUN_A_REQUESTED_TRANSPORT, v, 4);
	}
	if (q->req_family) {
		memset(v, 0, sizeof(v));
		v[0] = q->req_family;
		stun_put_attr(&e, STUN_A_REQUESTED_ADDRESS_FAMILY, v, 4);
	}
	if (q->add_family) {
		memset(v, 0, sizeof(v));
		v[0] = q->add_family;
		stun_put_attr(&e, STUN_A_ADDITIONAL_ADDRESS_FAMILY, v, 4);
	}
	if (q->even_port) {
		v[0] = 0;
		stun_put_attr(&e, STUN_A_EVEN_PORT, v, 1);
	}
	if (q->has_lifetime)
		stun_put_u32(&e, STUN_A_LIFETIME, (uint32_t)q->lifetime);
	if (q->chan) {
		v[0] = (uint8_t)(q->chan >> 8);
		v[1] = (uint8_t)q->chan;
		v[2] = v[3] = 0;
		stun_put_attr(&e, STUN_A_CHANNEL_NUMBER, v, 4);
	}
	if (q->peer != NULL)
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, q->peer);
	if (auth) {
		stun_put_attr(&e, STUN_A_USERNAME, c->user, strlen(c->user));
		stun_put_attr(&e, STUN_A_REALM, AUTH_REALM,
		    strlen(AUTH_REALM));
		stun_put_attr(&e, STUN_A_NONCE, c->nonce, c->nonce_len);
		stun_put_mi(&e, c->key);
	}
	if (q->fingerprint)
		stun_put_fingerprint(&e);
	return stun_enc_finish(&e);
}

/* wait for the response to c->tid; 0, error code, or -1 */
static int
tu_response(struct tu_client *c, int timeout_ms)
{
	uint64_t	end = tu_now_ms() + (uint64_t)timeout_ms;
	struct taddr	from;
	long		n;
	int		code, rc;
	int64_t		left;

	for (;;) {
		left = (int64_t)end - (int64_t)tu_now_ms();
		if (left <= 0)
			return -1;
		n = tu_recvfrom(c->fd, c->buf, sizeof(c->buf), (int)left,
		    &from);
		if (n < 0)
			return -1;
		if (!addr_eq(&from, &c->server) || n < STUN_HDR_LEN ||
		    c->buf[0] > 0x03)
			continue;	/* ChannelData or a stranger */
		c->len = (size_t)n;
		rc = stun_decode(c->buf, c->len, &c->resp, &code);
		if (rc != STUN_OK) {
			diag("tutil: undecodable response (%d)", rc);
			continue;
		}
		if (memcmp(c->resp.tid, c->tid, STUN_TID_LEN) != 0 ||
		    (c->resp.cls != STUN_SUCCESS && c->resp.cls != STUN_ERROR))
			continue;
		c->signed_ok = (c->resp.has & STUN_HAS_MI) &&
		    stun_check_mi(&c->resp, c->key);
		if (c->resp.cls == STUN_SUCCESS)
			return 0;
		if (!(c->resp.has & STUN_HAS_ERROR)) {
			diag("tutil: error response without ERROR-CODE");
			return -1;
		}
		return c->resp.error_code;
	}
}

int
tu_request(struct tu_client *c, const struct tu_req *q, int timeout_ms)
{
	uint8_t	out[1500];
	long	n;
	int	rc;

	c->n_relayed = 0;
	memset(&c->mapped, 0, sizeof(c->mapped));
	c->has_lifetime = 0;
	c->lifetime = 0;
	c->signed_ok = 0;
	n = tu_build(c, q, !q->no_auth && c->nonce_len > 0, out, sizeof(out));
	if (n < 0) {
		diag("tutil: request does not fit");
		return -1;
	}
	if (tu_sendto(c->fd, &c->server, out, (size_t)n) == -1)
		return -1;
	rc = tu_response(c, timeout_ms);
	if (rc == 0 && c->resp.cls == STUN_SUCCESS) {
		c->n_relayed = c->resp.n_relayed;
		if (c->n_relayed > 0)
			memcpy(c->relayed, c->resp.relayed,
			    c->n_relayed * sizeof(c->relayed[0]));
		if (c->resp.has & STUN_HAS_MAPPED)
			c->mapped = c->resp.mapped;
		c->has_lifetime = (c->resp.has & STUN_HAS_LIFETIME) != 0;
		c->lifetime = c->resp.lifetime;
	}
	return rc;
}

int
tu_transact(struct tu_client *c, const struct tu_req *q)
{
	int	i, rc = -1, authed;

	c->ndance = 0;
	for (i = 0; i < 3; i++) {
		authed = !q->no_auth && c->nonce_len > 0;
		rc = tu_request(c, q, TU_TIMEOUT_MS);
		if (c->ndance < (int)(sizeof(c->dance) / sizeof(c->dance[0])))
			c->dance[c->ndance++] = rc;
		if (q->no_auth || !(rc == STUN_ERR_UNAUTHORIZED ||
		    rc == STUN_ERR_STALE_NONCE))
			return rc;
		/* a 401 after a signed request is final */
		if (rc == STUN_ERR_UNAUTHORIZED && authed)
			return rc;
		if (!(c->resp.has & STUN_HAS_NONCE) ||
		    c->resp.nonce_len > sizeof(c->nonce))
			return rc;
		memcpy(c->nonce, c->resp.nonce, c->resp.nonce_len);
		c->nonce_len = c->resp.nonce_len;
	}
	return rc;
}

int
tu_binding(struct tu_client *c)
{
	return tu_request(c, &(struct tu_req){ .method = STUN_BINDING },
	    TU_TIMEOUT_MS);
}

int
tu_allocate(struct tu_client *c, int lifetime, uint8_t req_family,
    uint8_t add_family)
{
	struct tu_req	q;

	memset(&q, 0, sizeof(q));
	q.method = STUN_ALLOCATE;
	q.transport = 17;
	q.has_lifetime = lifetime >= 0;
	q.lifetime = lifetime;
	q.req_family = req_family;
	q.add_family = add_family;
	return tu_transact(c, &q);
}

int
tu_refresh(struct tu_client *c, int lifetime)
{
	struct tu_req	q;

	memset(&q, 0, sizeof(q));
	q.method = STUN_REFRESH;
	q.has_lifetime = lifetime >= 0;
	q.lifetime = lifetime;
	return tu_transact(c, &q);
}

int
tu_chanbind(struct tu_client *c, uint16_t chan, const struct taddr *peer)
{
	struct tu_req	q;

	memset(&q, 0, sizeof(q));
	q.method = STUN_CHANNEL_BIND;
	q.chan = chan;
	q.peer = peer;
	return tu_transact(c, &q);
}

int
tu_cdata_send(struct tu_client *c, uint16_t chan, const void *p, size_t n)
{
	uint8_t	out[CDATA_HDR_LEN + 65535];

	if (cdata_put_hdr(out, chan, n) == -1)
		return -1;
	memcpy(out + CDATA_HDR_LEN, p, n);
	return tu_sendto(c->fd, &c->server, out, CDATA_HDR_LEN + n);
}

long
tu_cdata_recv(struct tu_client *c, uint16_t *chan, void *p, size_t cap,
    int timeout_ms)
{
	static uint8_t	 in[65536];
	uint64_t	 end = tu_now_ms() + (uint64_t)timeout_ms;
	struct taddr	 from;
	const uint8_t	*pl;
	size_t		 plen;
	long		 n;
	int64_t		 left;
	uint16_t	 dummy;

	if (chan == NULL)
		chan = &dummy;
	for (;;) {
		left = (int64_t)end - (int64_t)tu_now_ms();
		if (left <= 0)
			return -1;
		n = tu_recvfrom(c->fd, in, sizeof(in), (int)left, &from);
		if (n < 0)
			return -1;
		if (!addr_eq(&from, &c->server) || !cdata_is(in, (size_t)n))
			continue;
		if (cdata_decode(in, (size_t)n, chan, &pl, &plen) == -1) {
			diag("tutil: bad ChannelData from the relay");
			continue;
		}
		c->cdata_raw_len = (size_t)n;
		if (plen > cap)
			plen = cap;
		memcpy(p, pl, plen);
		return (long)plen;
	}
}

int
tu_client_open_from(struct tu_client *c, const struct tu_relay *r,
    const struct taddr *local)
{
	return tu_client_on(c, r, tu_udp_bind_addr(local), local->family);
}

int
tu_transact_rtx(struct tu_client *c, const struct tu_req *q, int tries,
    int rto_ms, int *sends)
{
	int	i, k, rc = -1, authed, n = 0;

	c->ndance = 0;
	for (i = 0; i < 3; i++) {
		authed = !q->no_auth && c->nonce_len > 0;
		for (k = 0; k < tries; k++) {
			n++;
			rc = tu_request(c, q, rto_ms);
			if (rc != -1)
				break;
		}
		if (c->ndance < (int)(sizeof(c->dance) / sizeof(c->dance[0])))
			c->dance[c->ndance++] = rc;
		if (q->no_auth || !(rc == STUN_ERR_UNAUTHORIZED ||
		    rc == STUN_ERR_STALE_NONCE))
			break;
		if (rc == STUN_ERR_UNAUTHORIZED && authed)
			break;
		if (!(c->resp.has & STUN_HAS_NONCE) ||
		    c->resp.nonce_len > sizeof(c->nonce))
			break;
		memcpy(c->nonce, c->resp.nonce, c->resp.nonce_len);
		c->nonce_len = c->resp.nonce_len;
	}
	if (sends != NULL)
		*sends = n;
	return rc;
}
