/*
 * tcload's STUN side: the set-up transactions (ALLOCATE with the 401/438
 * nonce exchange, ChannelBind, Refresh with LIFETIME 0) for every
 * allocation, K in flight, retransmitted as RFC 8489 says.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcload.h"

/* first attribute of a type in a message: value and length, or NULL */
static const uint8_t *
find_attr(const uint8_t *m, size_t n, uint16_t type, size_t *len)
{
	size_t	off = STUN_HDR_LEN;

	while (off + 4 <= n) {
		uint16_t t = buf_load16(m + off), l = buf_load16(m + off + 2);

		if (off + 4 + l > n)
			return NULL;
		if (t == type) {
			*len = l;
			return m + off + 4;
		}
		off += 4 + ((l + 3u) & ~3u);
	}
	return NULL;
}

static void
lc_send(struct lc *c)
{
	(void)send(c->fd, c->req, c->reqlen, MSG_DONTWAIT);
}

/* build the stage's request with a fresh transaction id and send it */
static void
lc_request(struct load *L, struct lc *c, enum load_stage st, uint64_t now)
{
	static const uint8_t	 transport[4] = { 17, 0, 0, 0 };
	uint8_t			 chn[4] = { LOAD_CHANNEL >> 8,
				    LOAD_CHANNEL & 0xff, 0, 0 };
	struct stun_enc		 e;
	uint16_t		 method;
	long			 n;
	int			 i;

	method = st == ST_ALLOCATE ? STUN_ALLOCATE : st == ST_BIND ?
	    STUN_CHANNEL_BIND : STUN_REFRESH;
	for (i = 0; i < STUN_TID_LEN; i++)
		c->tid[i] = (uint8_t)random();
	stun_enc_init(&e, c->req, sizeof(c->req), method, STUN_REQUEST,
	    c->tid);
	if (st == ST_ALLOCATE) {
		stun_put_attr(&e, STUN_A_REQUESTED_TRANSPORT, transport, 4);
		stun_put_u32(&e, STUN_A_LIFETIME, 600);
	} else if (st == ST_BIND) {
		stun_put_attr(&e, STUN_A_CHANNEL_NUMBER, chn, 4);
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS,
		    &L->peer[(c - L->c) % L->npeers]);
	} else
		stun_put_u32(&e, STUN_A_LIFETIME, 0);
	c->authed = c->nonce_len > 0 && L->have_key;
	if (c->authed) {
		stun_put_attr(&e, STUN_A_USERNAME, L->user, strlen(L->user));
		stun_put_attr(&e, STUN_A_REALM, "firezone", 8);
		stun_put_attr(&e, STUN_A_NONCE, c->nonce, c->nonce_len);
		stun_put_mi(&e, L->key);
	}
	if ((n = stun_enc_finish(&e)) < 0)
		load_die("request does not fit");
	c->reqlen = (uint16_t)n;
	c->tries = 1;
	c->t_sent = now;
	if (c->authed && c->t_auth == 0)
		c->t_auth = now;
	lc_send(c);
}

static void
slot_add(struct load *L, unsigned i)
{
	L->c[i].slot = (int)L->nslots;
	L->slots[L->nslots++] = i;
}

static void
slot_del(struct load *L, struct lc *c)
{
	unsigned last = L->slots[--L->nslots];

	L->slots[c->slot] = last;
	L->c[last].slot = c->slot;
	c->slot = -1;
}

static void
lc_finish(struct load *L, struct lc *c, int ok, uint64_t now)
{
	c->state = ok ? LC_DONE : LC_FAILED;
	if (ok && L->lat != NULL && c->t_auth != 0)
		L->lat[L->nlat++] = (uint32_t)((now - c->t_auth) / 1000);
	slot_del(L, c);
}

static void
count_error(struct load *L, int code)
{
	L->errors[code >= 300 && code < 700 ? code / 100 - 3 : 4]++;
	L->last_error = code;
}

/* a STUN response on c's socket during a set-up stage */
static void
lc_response(struct load *L, struct lc *c, enum load_stage st,
    const uint8_t *m, size_t n, uint64_t now)
{
	const uint8_t	*v, *r;
	size_t		 l, rl;
	uint16_t	 type;
	int		 code;

	if (c->state != LC_WAIT || n < STUN_HDR_LEN || (m[0] & 0xc0) != 0 ||
	    memcmp(m + 8, c->tid, STUN_TID_LEN) != 0)
		return;
	type = buf_load16(m);
	if ((type & 0x0110) == 0x0100) {	/* success */
		if (st == ST_ALLOCATE && find_attr(m, n,
		    STUN_A_XOR_RELAYED_ADDRESS, &l) == NULL) {
			count_error(L, 0);
			lc_finish(L, c, 0, now);
			return;
		}
		if (st == ST_ALLOCATE)
			c->allocated = 1;
		lc_finish(L, c, 1, now);
		return;
	}
	if ((type & 0x0110) != 0x0110)
		return;
	code = (v = find_attr(m, n, STUN_A_ERROR_CODE, &l)) != NULL && l >= 4 ?
	    (v[2] & 7) * 100 + v[3] : 0;
	/* a Refresh(0) whose allocation is already gone has done its job */
	if (st == ST_FREE && code == 437) {
		lc_finish(L, c, 1, now);
		return;
	}
	if ((code == 401 || code == 438) && c->auth_rounds++ <
	    LOAD_AUTH_ROUNDS && (code == 438 || !c->authed) &&
	    (v = find_attr(m, n, STUN_A_NONCE, &l)) != NULL &&
	    l < LOAD_NONCE_MAX) {
		memcpy(c->nonce, v, l);
		c->nonce_len = (uint16_t)l;
		if (!L->have_key) {
			if ((r = find_attr(m, n, STUN_A_REALM, &rl)) == NULL ||
			    rl != 8 || memcmp(r, "firezone", 8) != 0)
				load_die("the server's realm is not firezone");
			stun_lt_key((const uint8_t *)L->user, strlen(L->user),
			    "firezone", L->pass, strlen(L->pass), L->key);
			L->have_key = 1;
		}
		lc_request(L, c, st, now);
		return;
	}
	count_error(L, code);
	lc_finish(L, c, 0, now);
}

unsigned
stage_run(struct load *L, enum load_stage st, uint64_t *elapsed)
{
	struct epoll_event	 ev[LOAD_EVENTS];
	uint8_t			 buf[2048];
	uint64_t		 t0 = now_ns(), now, last_scan = t0;
	unsigned		 next = 0, ok = 0, i;
	int			 ne, j;
	ssize_t			 n;

	while (next < L->n || L->nslots > 0) {
		now = now_ns();
		if (now - t0 > LOAD_STAGE_SECONDS * 1000000000ull)
			break;
		while (L->nslots < L->k && next < L->n) {
			struct lc *c = &L->c[next];

			if (st == ST_ALLOCATE || c->state == LC_DONE) {
				c->state = LC_WAIT;
				c->auth_rounds = 0;
				c->t_auth = 0;
				slot_add(L, next);
				lc_request(L, c, st, now);
			}
			next++;
		}
		if ((ne = epoll_wait(L->ep, ev, LOAD_EVENTS, 10)) == -1 &&
		    errno != EINTR)
			load_die("epoll_wait");
		now = now_ns();
		for (j = 0; j < ne; j++) {
			if (ev[j].data.u32 >= L->n) {	/* a peer: drop */
				while (recv(L->peer_fd[ev[j].data.u32 - L->n],
				    buf, sizeof(buf), MSG_DONTWAIT) >= 0)
					;
				continue;
			}
			while ((n = recv(L->c[ev[j].data.u32].fd, buf,
			    sizeof(buf), MSG_DONTWAIT)) >= 0)
				lc_response(L, &L->c[ev[j].data.u32], st, buf,
				    (size_t)n, now);
		}
		if (now - last_scan < 10000000ull)
			continue;
		last_scan = now;
		for (i = 0; i < L->nslots; i++) {
			struct lc	*c = &L->c[L->slots[i]];
			uint64_t	 rto = (uint64_t)LOAD_RTO_MS *
			    1000000ull << (c->tries - 1);

			if (now - c->t_sent < rto)
				continue;
			if (c->tries >= LOAD_TRIES) {
				count_error(L, 0);
				lc_finish(L, c, 0, now);
				i--;
				continue;
			}
			c->tries++;
			c->t_sent = now;
			L->retrans++;
			lc_send(c);
		}
	}
	for (i = 0; i < L->n; i++) {
		if (L->c[i].state == LC_WAIT) {
			L->c[i].state = LC_FAILED;
			count_error(L, 0);
		}
		ok += L->c[i].state == LC_DONE;
	}
	L->nslots = 0;
	*elapsed = now_ns() - t0;
	return ok;
}
