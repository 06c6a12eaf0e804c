/*
 * msg_conf.c: encode and check MSG_CONF (layout in msg_conf.h).
 *
 * One predicate, msg_conf_ok(), holds every bound; the encoder refuses
 * what it fails and the decoder applies it after reading the fields one
 * at a time, together with the reserved bytes and unused slots that the
 * struct cannot show. Nothing here does I/O.
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "msg.h"
#include "msg_conf.h"
#include "msg_int.h"

/* bytes of ip[] that a family may use */
static size_t
mc_iplen(uint8_t family)
{
	return family == ADDR_V4 ? 4 : family == ADDR_V6 ? 16 : 0;
}

/* a wildcard-or-IP bind address: all zero, or family with port 0 */
static int
mc_bind_ok(const struct taddr *a, uint8_t family)
{
	static const struct taddr	zero;
	struct taddr			p;

	if (a->family == 0)
		return memcmp(a, &zero, sizeof(*a)) == 0;
	if (a->family != family || a->port != 0)
		return 0;
	p = *a;
	p.port = 1;
	return msg_peer_ok(&p);
}

/* a range as peer_cidr_parse() leaves it: bits in range, no host bits,
 * port 0 */
static int
mc_cidr_ok(const struct peer_cidr *c)
{
	size_t	len = mc_iplen(c->net.family), i;
	uint8_t	keep;

	if (len == 0 || c->bits > len * 8 || c->net.port != 0)
		return 0;
	for (i = 0; i < sizeof(c->net.ip); i++) {
		if (i * 8 >= c->bits)
			keep = 0;
		else if (i * 8 + 8 > c->bits)
			keep = (uint8_t)(0xff << (8 - (c->bits - i * 8)));
		else
			keep = 0xff;
		if ((c->net.ip[i] & (uint8_t)~keep) != 0)
			return 0;
	}
	return 1;
}

int
msg_conf_ok(const struct msg_conf *c)
{
	const struct peer_filter	*f = &c->filter;
	size_t				 i;

	if (c->families == 0 ||
	    (c->families & ~(ADDR_FAM_V4 | ADDR_FAM_V6)) != 0 ||
	    c->log_level > LOG_DEBUG || (c->flags & ~MSG_CONF_F_ALL) != 0 ||
	    c->ppid > INT32_MAX)
		return 0;
	if (c->stats_ms != 0 && (c->stats_ms < MSG_CONF_STATS_MIN ||
	    c->stats_ms > MSG_CONF_STATS_MAX))
		return 0;
	if (c->qdelay_ms > MSG_CONF_QDELAY_MAX ||
	    c->qgrace_ms > MSG_CONF_QDELAY_MAX)
		return 0;
	if (!mc_bind_ok(&c->bind4, ADDR_V4) || !mc_bind_ok(&c->bind6, ADDR_V6))
		return 0;
	if (f->n_allow > PEER_MAX_ALLOW || f->n_self > PEER_MAX_SELF)
		return 0;
	for (i = 0; i < f->n_allow; i++)
		if (!mc_cidr_ok(&f->allow[i]))
			return 0;
	for (i = 0; i < f->n_self; i++)
		if (!msg_peer_ok(&f->self[i]))
			return 0;
	if (f->n_host > PEER_MAX_HOST || f->relay_lo > f->relay_hi ||
	    (f->relay_lo == 0 && f->relay_hi != 0))
		return 0;
	for (i = 0; i < f->n_host; i++)
		if (f->host[i].family == 0 ||
		    !mc_bind_ok(&f->host[i], f->host[i].family))
			return 0;
	return 1;
}

static void
mc_put_cidr(struct buf_w *w, const struct peer_cidr *c)
{
	buf_put_u8(w, c->net.family);
	buf_put_u8(w, c->bits);
	buf_put_u16(w, 0);
	buf_put_bytes(w, c->net.ip, sizeof(c->net.ip));
}

int
msg_put_conf(struct buf_w *w, const struct msg_conf *c)
{
	const struct peer_filter	*f = &c->filter;
	size_t				 i;

	if (!msg_conf_ok(c))
		return msg_inval();
	msg_put_hdr(w, MSG_CONF, MSG_CONF_LEN);
	buf_put_u32(w, c->alloc_id);
	buf_put_u32(w, c->ppid);
	buf_put_u16(w, c->port);
	buf_put_u8(w, c->families);
	buf_put_u8(w, c->log_level);
	buf_put_u8(w, c->flags);
	buf_put_u8(w, (uint8_t)f->n_allow);
	buf_put_u8(w, (uint8_t)f->n_self);
	buf_put_u8(w, 0);
	buf_put_u32(w, c->stats_ms);
	msg_put_addr(w, &c->bind4);
	msg_put_addr(w, &c->bind6);
	for (i = 0; i < f->n_allow; i++)
		mc_put_cidr(w, &f->allow[i]);
	buf_put_zero(w, MSG_CONF_SLOT * (PEER_MAX_ALLOW - f->n_allow));
	for (i = 0; i < f->n_self; i++)
		msg_put_addr(w, &f->self[i]);
	buf_put_zero(w, MSG_CONF_SLOT * (PEER_MAX_SELF - f->n_self));
	buf_put_u16(w, f->relay_lo);
	buf_put_u16(w, f->relay_hi);
	buf_put_u8(w, (uint8_t)f->n_host);
	buf_put_zero(w, 3);
	for (i = 0; i < f->n_host; i++)
		msg_put_addr(w, &f->host[i]);
	buf_put_zero(w, MSG_CONF_SLOT * (PEER_MAX_HOST - f->n_host));
	buf_put_u32(w, c->max_bps);
	buf_put_u16(w, c->qdelay_ms);
	buf_put_u16(w, c->qgrace_ms);
	return msg_put_done(w);
}

/* n slots that must be all zero bytes */
static int
mc_get_unused(struct buf_r *r, size_t n)
{
	const uint8_t	*p;
	size_t		 i;

	if (buf_get_ptr(r, &p, n * MSG_CONF_SLOT) == -1)
		return -1;
	for (i = 0; i < n * MSG_CONF_SLOT; i++)
		if (p[i] != 0)
			return -1;
	return 0;
}

static int
mc_get_cidr(struct buf_r *r, struct peer_cidr *c)
{
	uint16_t	zero = 0xffff;

	memset(c, 0, sizeof(*c));
	buf_get_u8(r, &c->net.family);
	buf_get_u8(r, &c->bits);
	buf_get_u16(r, &zero);
	buf_get_bytes(r, c->net.ip, sizeof(c->net.ip));
	return r->err || zero != 0 ? -1 : 0;
}

/* the allow ranges and own addresses, n_allow and n_self already read */
static int
mc_get_filter(struct buf_r *r, struct peer_filter *f)
{
	size_t	i;

	if (f->n_allow > PEER_MAX_ALLOW || f->n_self > PEER_MAX_SELF)
		return -1;
	for (i = 0; i < f->n_allow; i++)
		if (mc_get_cidr(r, &f->allow[i]) == -1)
			return -1;
	if (mc_get_unused(r, PEER_MAX_ALLOW - f->n_allow) == -1)
		return -1;
	for (i = 0; i < f->n_self; i++)
		if (msg_get_addr(r, &f->self[i]) == -1)
			return -1;
	return mc_get_unused(r, PEER_MAX_SELF - f->n_self);
}

/* the relay range and the host's addresses */
static int
mc_get_hosts(struct buf_r *r, struct peer_filter *f)
{
	uint8_t		n = 0xff, z[3] = { 1, 1, 1 };
	size_t		i;

	buf_get_u16(r, &f->relay_lo);
	buf_get_u16(r, &f->relay_hi);
	buf_get_u8(r, &n);
	buf_get_bytes(r, z, sizeof(z));
	if (r->err || n > PEER_MAX_HOST || z[0] != 0 || z[1] != 0 ||
	    z[2] != 0)
		return -1;
	f->n_host = n;
	for (i = 0; i < f->n_host; i++)
		if (msg_get_addr(r, &f->host[i]) == -1)
			return -1;
	return mc_get_unused(r, PEER_MAX_HOST - f->n_host);
}

int
msg_get_conf(const struct msg *m, struct msg_conf *out)
{
	struct buf_r	r;
	uint8_t		n_allow = 0xff, n_self = 0xff, zero = 0xff;

	if (m == NULL || m->type != MSG_CONF || m->payload == NULL ||
	    m->len != MSG_CONF_LEN)
		return msg_bad();
	memset(out, 0, sizeof(*out));
	buf_r_init(&r, m->payload, m->len);
	buf_get_u32(&r, &out->alloc_id);
	buf_get_u32(&r, &out->ppid);
	buf_get_u16(&r, &out->port);
	buf_get_u8(&r, &out->families);
	buf_get_u8(&r, &out->log_level);
	buf_get_u8(&r, &out->flags);
	buf_get_u8(&r, &n_allow);
	buf_get_u8(&r, &n_self);
	buf_get_u8(&r, &zero);
	buf_get_u32(&r, &out->stats_ms);
	out->filter.n_allow = n_allow;
	out->filter.n_self = n_self;
	if (zero != 0 || msg_get_addr(&r, &out->bind4) == -1 ||
	    msg_get_addr(&r, &out->bind6) == -1 ||
	    mc_get_filter(&r, &out->filter) == -1 ||
	    mc_get_hosts(&r, &out->filter) == -1 ||
	    buf_get_u32(&r, &out->max_bps) == -1 ||
	    buf_get_u16(&r, &out->qdelay_ms) == -1 ||
	    buf_get_u16(&r, &out->qgrace_ms) == -1 || buf_r_done(&r) == -1 ||
	    !msg_conf_ok(out)) {
		memset(out, 0, sizeof(*out));
		return msg_bad();
	}
	return 0;
}
