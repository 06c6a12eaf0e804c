/*
 * 23-turn-indications: the engine's optional RFC 8656 data path
 * (--indications): permissions per peer IP for 300 s from
 * CREATE-PERMISSION and CHANNEL-BIND, PERM_ADD / PERM_DEL commands, Send
 * indications -> WORKER_SEND, peer data from the worker -> Data
 * indications, and the old behaviour when the option is off.
 *
 * Pure: requests are built with the test encoder (t/tstun.h), responses
 * and Data indications read back with stun_decode. RNG: every byte is rng_byte
 * (0 while the engine starts: nonce key of 32 zero bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "auth.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

#define SECRET		"indications-test-secret"

static uint8_t		rng_byte;
static struct ts_cred	cred;

static void
rng(void *arg, void *out, size_t len)
{
	(void)arg;
	memset(out, rng_byte, len);
}

/* the canonical permission key the engine must emit: IP, port 0 */
static struct taddr
IP(const char *ip)
{
	struct taddr	a = te_addr(ip, 0);
	struct taddr	k;

	memset(&k, 0, sizeof(k));
	k.family = a.family;
	memcpy(k.ip, a.ip, sizeof(k.ip));
	return k;
}

/* an authenticated request from `from` at now */
static void
auth(struct ts_req *m, const struct taddr *from)
{
	char	nonce[TS_NONCE_LEN + 1];

	te_nonce(from, te_now / TE_SEC, nonce);
	ts_req_auth(m, &cred, nonce);
}

/* a STUN response in recs[i] for the request m: class and code */
static int
resp_is(size_t i, const struct ts_req *m, const struct taddr *to, int cls,
    int code)
{
	struct stun_msg	r;
	int		c;

	if (i >= te_nrecs || te_recs[i].c.type != TURN_CMD_SEND ||
	    !addr_eq(&te_recs[i].c.addr, to) ||
	    stun_decode(te_recs[i].data, te_recs[i].c.len, &r, &c) != STUN_OK)
		return 0;
	if (memcmp(r.tid, m->b + 8, STUN_TID_LEN) != 0 || r.cls != cls)
		return 0;
	if (cls == STUN_ERROR && r.error_code != code)
		return 0;
	return stun_check_mi(&r, cred.key);
}

static int
is_perm(size_t i, int type, uint32_t id, const struct taddr *ip)
{
	const struct taddr	*a = &te_recs[i].c.addr;

	/* field by field: every byte of ip[] (zero beyond an IPv4 address) */
	return i < te_nrecs && te_recs[i].c.type == (enum turn_cmd_type)type &&
	    te_recs[i].c.alloc_id == id && a->family == ip->family &&
	    a->port == 0 && memcmp(a->ip, ip->ip, sizeof(a->ip)) == 0;
}

static uint32_t
allocate(struct turn *t, const struct taddr *c, int ready)
{
	struct ts_req	m;
	uint32_t	id;

	ts_req_init(&m, M_ALLOCATE, C_REQ);
	ts_req_byte(&m, A_TRANSPORT, 17);
	ts_req_u32(&m, A_LIFETIME, 3600);
	auth(&m, c);
	te_input(t, &m, c);
	if (te_nrecs != 1 || te_recs[0].c.type != TURN_CMD_WORKER_START) {
		ok(0, "ALLOCATE -> WORKER_START");
		te_dump_cmds();
		return 0;
	}
	id = te_recs[0].c.alloc_id;
	if (ready) {
		turn_worker_ready(t, id, te_now);
		te_collect(t);
		ok(te_nrecs == 1 && resp_is(0, &m, c, STUN_SUCCESS, 0),
		    "allocation %u ready", id);
	}
	return id;
}

static void
permission(struct turn *t, struct ts_req *m, const struct taddr *c,
    const struct taddr *peers, size_t n)
{
	size_t	i;

	ts_req_init(m, M_PERMISSION, C_REQ);
	for (i = 0; i < n; i++)
		ts_req_xaddr(m, A_PEER, &peers[i]);
	auth(m, c);
	te_input(t, m, c);
}

static void
chanbind(struct turn *t, struct ts_req *m, const struct taddr *c,
    uint16_t chan, const struct taddr *peer)
{
	ts_req_init(m, M_CHANBIND, C_REQ);
	ts_req_channel(m, chan);
	ts_req_xaddr(m, A_PEER, peer);
	auth(m, c);
	te_input(t, m, c);
}

/* a Send indication; data may be NULL (no DATA), peer may be NULL */
static void
send_ind(struct turn *t, struct ts_req *m, const struct taddr *c,
    const struct taddr *peer, const char *data)
{
	ts_req_init(m, M_SEND, C_IND);
	if (peer != NULL)
		ts_req_xaddr(m, A_PEER, peer);
	if (data != NULL)
		ts_req_attr(m, A_DATA, data, strlen(data));
	te_input(t, m, c);
}

/* a WORKER_SEND in recs[i] whose data is the DATA value inside m */
static int
is_wsend(size_t i, const struct ts_req *m, uint32_t id,
    const struct taddr *peer, const char *data)
{
	size_t	len = strlen(data);

	return i < te_nrecs && te_recs[i].c.type == TURN_CMD_WORKER_SEND &&
	    te_recs[i].c.alloc_id == id && addr_eq(&te_recs[i].c.addr, peer) &&
	    te_recs[i].c.len == len &&
	    memcmp(te_recs[i].data, data, len) == 0 &&
	    te_recs[i].orig >= m->b && te_recs[i].orig + len <= m->b + m->len;
}

static struct turn *
start(int indications)
{
	struct turn_conf	 conf;

	te_conf_init(&conf);
	conf.secret = SECRET;
	conf.secret_len = strlen(SECRET);
	conf.indications = indications;
	rng_byte = 0;
	return te_start_rng(&conf, rng, NULL);
}

/* ------------------------------------------------------------------ */

static void
test_permissions(void)
{
	struct turn		*t = start(1);
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p1 = te_addr("192.0.2.10", 1000);
	struct taddr		 p1b = te_addr("192.0.2.10", 2000);
	struct taddr		 p2 = te_addr("192.0.2.11", 1000);
	struct taddr		 p3 = te_addr("192.0.2.12", 3000);
	struct taddr		 lo = te_addr("127.0.0.1", 1000);
	struct taddr		 v6 = te_addr("2001:db8:5::5", 1000);
	struct taddr		 k1 = IP("192.0.2.10"), k3 = IP("192.0.2.12");
	struct taddr		 other = te_addr("198.51.100.8", 1);
	struct turn_stats	 st;
	struct ts_req		 m;
	uint32_t		 id;

	/* before the allocation is ready, a Send is dropped */
	id = allocate(t, &c, 0);
	send_ind(t, &m, &c, &p1, "early");
	is_int(te_nrecs, 0, "Send on a STARTING allocation: nothing");
	turn_worker_ready(t, id, te_now);
	te_collect(t);

	permission(t, &m, &c, &p1, 1);
	ok(te_nrecs == 2 && is_perm(0, TURN_CMD_WORKER_PERM_ADD, id, &k1) &&
	    resp_is(1, &m, &c, STUN_SUCCESS, 0),
	    "CreatePermission -> PERM_ADD {id, 192.0.2.10 port 0}, success");
	if (te_nrecs != 2)
		te_dump_cmds();
	is_int(turn_next_timeout(t), (long long)(TE_T0 + 300 * TE_SEC),
	    "next timeout: the permission's 300 s");

	send_ind(t, &m, &c, &p1b, "hello peer");
	ok(te_nrecs == 1 && is_wsend(0, &m, id, &p1b, "hello peer"),
	    "Send to another port of a permitted IP -> WORKER_SEND, exact "
	    "payload pointing into the input");

	send_ind(t, &m, &c, &p2, "nope");
	is_int(te_nrecs, 0, "Send to an IP without permission: nothing");
	send_ind(t, &m, &c, &p1, NULL);
	is_int(te_nrecs, 0, "Send without DATA: nothing");
	send_ind(t, &m, &c, NULL, "x");
	is_int(te_nrecs, 0, "Send without XOR-PEER-ADDRESS: nothing");
	send_ind(t, &m, &other, &p1, "x");
	is_int(te_nrecs, 0, "Send from a client without allocation: nothing");

	permission(t, &m, &c, &lo, 1);
	ok(te_nrecs == 1 && resp_is(0, &m, &c, STUN_ERROR, 403),
	    "CreatePermission for a denied peer: 403, no PERM_ADD");
	send_ind(t, &m, &c, &lo, "x");
	is_int(te_nrecs, 0, "Send to a denied peer: nothing");
	permission(t, &m, &c, &v6, 1);
	ok(te_nrecs == 1 && resp_is(0, &m, &c, STUN_ERROR, 443),
	    "IPv6 peer on an IPv4 allocation: 443, no PERM_ADD");
	send_ind(t, &m, &c, &v6, "x");
	is_int(te_nrecs, 0, "Send to a peer of the wrong family: nothing");

	/* ChannelBind installs the permission for its peer's IP */
	te_now = TE_T0 + 10 * TE_SEC;
	chanbind(t, &m, &c, 0x4001, &p3);
	ok(te_nrecs == 3 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    is_perm(1, TURN_CMD_WORKER_PERM_ADD, id, &k3) &&
	    resp_is(2, &m, &c, STUN_SUCCESS, 0),
	    "ChannelBind -> CHAN_ADD, PERM_ADD {id, 192.0.2.12}, success");
	if (te_nrecs != 3)
		te_dump_cmds();
	send_ind(t, &m, &c, &p3, "via perm of a channel");
	ok(te_nrecs == 1 && is_wsend(0, &m, id, &p3, "via perm of a channel"),
	    "Send to the channel's peer -> WORKER_SEND");

	/* a refresh queues nothing for the worker but moves the expiry */
	te_now = TE_T0 + 20 * TE_SEC;
	permission(t, &m, &c, &p1b, 1);
	ok(te_nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "CreatePermission refresh (same IP): success only, no PERM_ADD");
	is_int(turn_next_timeout(t), (long long)(TE_T0 + 310 * TE_SEC),
	    "next timeout: the channel's permission at 310 s");

	te_now = TE_T0 + 309 * TE_SEC;
	turn_timeout(t, te_now);
	te_collect(t);
	is_int(te_nrecs, 0, "nothing due at 309 s");
	te_now = TE_T0 + 310 * TE_SEC;
	turn_timeout(t, te_now);
	te_collect(t);
	ok(te_nrecs == 1 && is_perm(0, TURN_CMD_WORKER_PERM_DEL, id, &k3),
	    "at 310 s: PERM_DEL {id, 192.0.2.12}");
	send_ind(t, &m, &c, &p3, "late");
	is_int(te_nrecs, 0, "Send after the permission expired: nothing");
	is_int(turn_next_timeout(t), (long long)(TE_T0 + 320 * TE_SEC),
	    "next timeout: the refreshed permission at 320 s");

	/* expired but not yet reaped: already refused */
	te_now = TE_T0 + 320 * TE_SEC;
	send_ind(t, &m, &c, &p1, "at expiry");
	is_int(te_nrecs, 0, "Send at the expiry instant: nothing");
	is_int(turn_worker_peer_data(t, id, &p1, (const uint8_t *)"x", 1,
	    te_now), 0,
	    "peer data at the expiry instant: 0 (a race, not hostile)");
	te_collect(t);
	is_int(te_nrecs, 0, "... and nothing sent");
	turn_timeout(t, te_now);
	te_collect(t);
	ok(te_nrecs == 1 && is_perm(0, TURN_CMD_WORKER_PERM_DEL, id, &k1),
	    "at 320 s: PERM_DEL {id, 192.0.2.10}");
	is_int(turn_next_timeout(t), (long long)(TE_T0 + 610 * TE_SEC),
	    "next timeout: the channel at 610 s");

	turn_get_stats(t, &st);
	is_int(st.packets_c2p, 2, "two Send indications counted c2p");
	is_int(st.bytes_c2p, 10 + 21, "their DATA bytes counted");

	/* a new permission after expiry is announced again */
	permission(t, &m, &c, &p1, 1);
	ok(te_nrecs == 2 && is_perm(0, TURN_CMD_WORKER_PERM_ADD, id, &k1),
	    "CreatePermission after expiry -> PERM_ADD again");

	/* deleting the allocation: WORKER_STOP, no PERM_DEL */
	ts_req_init(&m, M_REFRESH, C_REQ);
	ts_req_u32(&m, A_LIFETIME, 0);
	auth(&m, &c);
	te_input(t, &m, &c);
	ok(te_nrecs == 2 && te_recs[0].c.type == TURN_CMD_WORKER_STOP &&
	    resp_is(1, &m, &c, STUN_SUCCESS, 0),
	    "REFRESH 0: WORKER_STOP and success, no PERM_DEL");
	is_int((long long)(turn_next_timeout(t) == UINT64_MAX), 1,
	    "no timeout left");
	turn_free(t);
}

static void
test_peer_data(void)
{
	struct turn		*t = start(1);
	struct taddr		 c = te_addr("198.51.100.7", 40000);
	struct taddr		 p1 = te_addr("192.0.2.10", 5555);
	struct taddr		 p9 = te_addr("192.0.2.99", 5555);
	static const uint8_t	 pl[] = "payload from the peer";
	static uint8_t		 big[70000];
	struct turn_stats	 st;
	struct stun_msg		 d;
	struct ts_req		 m;
	uint8_t			 tid[STUN_TID_LEN];
	uint32_t		 id;
	int			 code, rc;

	id = allocate(t, &c, 1);
	permission(t, &m, &c, &p1, 1);
	te_collect(t);

	rng_byte = 0xa5;
	is_int(turn_worker_peer_data(t, id, &p1, pl, sizeof(pl) - 1, te_now), 0,
	    "peer data for a permitted IP: 0");
	te_collect(t);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    addr_eq(&te_recs[0].c.addr, &c), "-> one SEND to the client");
	memset(&d, 0, sizeof(d));
	rc = te_nrecs == 1 ? stun_decode(te_recs[0].data, te_recs[0].c.len, &d,
	    &code) :
	    STUN_DROP;
	is_int(rc, STUN_OK, "it decodes as STUN");
	ok(d.method == STUN_DATA && d.cls == STUN_INDICATION,
	    "Data indication (method 0x007, class indication)");
	memset(tid, 0xa5, sizeof(tid));
	is_mem(d.tid, sizeof(d.tid), tid, sizeof(tid),
	    "transaction id from the RNG");
	ok(d.n_peers == 1 && addr_eq(&d.peers[0], &p1),
	    "XOR-PEER-ADDRESS = the peer 192.0.2.10:5555");
	ok((d.has & STUN_HAS_DATA) != 0, "DATA present");
	is_mem(d.data, d.data_len, pl, sizeof(pl) - 1, "DATA = the payload");
	ok((d.has & (STUN_HAS_MI | STUN_HAS_SOFTWARE | STUN_HAS_USERNAME)) ==
	    0, "no MESSAGE-INTEGRITY, SOFTWARE or USERNAME");
	is_int(te_recs[0].c.len, 20 + 12 + 4 + 24, "exact length (padded)");
	is_int(te_nrecs == 1 ? te_recs[0].data[20 + 12 + 4 + 21] |
	    te_recs[0].data[20 + 12 + 4 + 22] | te_recs[0].data[20 + 12 + 4 + 23] :
	    1, 0, "padding is zero");

	is_int(turn_worker_peer_data(t, id, &p1, pl, 0, te_now), 0,
	    "empty peer datagram: 0");
	te_collect(t);
	rc = te_nrecs == 1 ? stun_decode(te_recs[0].data, te_recs[0].c.len, &d,
	    &code) :
	    STUN_DROP;
	ok(rc == STUN_OK && d.data_len == 0 && (d.has & STUN_HAS_DATA),
	    "-> a Data indication with an empty DATA");

	is_int(turn_worker_peer_data(t, id, &p9, pl, 4, te_now), 0,
	    "peer data for an IP without permission: 0");
	te_collect(t);
	is_int(te_nrecs, 0, "... dropped");
	is_int(turn_worker_peer_data(t, 4242, &p1, pl, 4, te_now), 0,
	    "unknown allocation: 0 (teardown race)");
	te_collect(t);
	is_int(te_nrecs, 0, "... dropped");

	turn_get_stats(t, &st);
	is_int(st.packets_p2c, 2, "p2c packets counted");
	is_int(st.bytes_p2c, sizeof(pl) - 1, "p2c bytes counted");

	/* 65507 bytes: the largest IPv4 UDP payload, still one message */
	is_int(turn_worker_peer_data(t, id, &p1, big, 65480, te_now), 0,
	    "65480 bytes: 0");
	te_collect(t);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    te_recs[0].c.len == 20 + 12 + 4 + 65480,
	    "-> one Data indication of 65516 bytes");

	is_int(turn_worker_peer_data(t, id, &p1, big, 65536, te_now), -1,
	    "more than 65535 bytes: -1 (hostile)");
	te_collect(t);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_STOP &&
	    te_recs[0].c.alloc_id == id &&
	    te_recs[0].c.reason == TURN_STOP_HOSTILE,
	    "-> WORKER_STOP(HOSTILE)");
	is_int(turn_alloc_count(t), 0, "allocation freed");
	turn_get_stats(t, &st);
	is_int(st.hostile_workers, 1, "hostile worker counted");
	turn_free(t);
}

static void
test_cap(void)
{
	struct turn	*t = start(1);
	struct taddr	 c = te_addr("198.51.100.7", 40000);
	struct taddr	 peers[8], extra[2];
	struct ts_req	 m;
	char		 ip[32];
	uint32_t	 id;
	size_t		 i, j, adds = 0;
	int		 good = 1;

	id = allocate(t, &c, 1);
	for (i = 0; i < TURN_MAX_PERMS / 8; i++) {
		for (j = 0; j < 8; j++) {
			snprintf(ip, sizeof(ip), "192.0.2.%zu", 1 + i * 8 + j);
			peers[j] = te_addr(ip, 7);
		}
		permission(t, &m, &c, peers, 8);
		for (j = 0; j < te_nrecs; j++)
			if (te_recs[j].c.type == TURN_CMD_WORKER_PERM_ADD &&
			    te_recs[j].c.alloc_id == id)
				adds++;
		if (!resp_is(te_nrecs - 1, &m, &c, STUN_SUCCESS, 0))
			good = 0;
	}
	ok(good, "%d permissions in batches of 8: all granted",
	    TURN_MAX_PERMS);
	is_int(adds, TURN_MAX_PERMS, "%d PERM_ADD", TURN_MAX_PERMS);
	extra[0] = te_addr("192.0.2.1", 9);	/* exists */
	extra[1] = te_addr("192.0.2.200", 9);	/* new */
	permission(t, &m, &c, extra, 2);
	ok(te_nrecs == 1 && resp_is(0, &m, &c, STUN_ERROR, 508),
	    "one more IP: 508, nothing installed");
	permission(t, &m, &c, extra, 1);
	ok(te_nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "refreshing an existing one still works");
	/* duplicates in one request count once */
	extra[0] = te_addr("192.0.2.1", 1);
	extra[1] = te_addr("192.0.2.1", 2);
	permission(t, &m, &c, extra, 2);
	ok(te_nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "two ports of one known IP: success");
	turn_free(t);
}

/* without --indications: the reference's behaviour */
static void
test_off(void)
{
	struct turn	*t = start(0);
	struct taddr	 c = te_addr("198.51.100.7", 40000);
	struct taddr	 p1 = te_addr("192.0.2.10", 1000);
	struct taddr	 p3 = te_addr("192.0.2.12", 3000);
	struct ts_req	 m;
	uint32_t	 id;

	id = allocate(t, &c, 1);
	permission(t, &m, &c, &p1, 1);
	ok(te_nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "off: CreatePermission -> success only (no PERM_ADD)");
	is_int(turn_next_timeout(t), (long long)(TE_T0 + 3600 * TE_SEC),
	    "off: no permission timer");
	send_ind(t, &m, &c, &p1, "dropped");
	is_int(te_nrecs, 0, "off: Send indication dropped");
	chanbind(t, &m, &c, 0x4001, &p3);
	ok(te_nrecs == 2 && te_recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    resp_is(1, &m, &c, STUN_SUCCESS, 0),
	    "off: ChannelBind -> CHAN_ADD and success, no PERM_ADD");
	send_ind(t, &m, &c, &p3, "dropped");
	is_int(te_nrecs, 0, "off: Send to a channel's peer dropped too");
	is_int(turn_worker_peer_data(t, id, &p1, (const uint8_t *)"x", 1,
	    te_now), -1, "off: peer data from the worker is hostile");
	te_collect(t);
	ok(te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_WORKER_STOP &&
	    te_recs[0].c.reason == TURN_STOP_HOSTILE,
	    "off: -> WORKER_STOP(HOSTILE)");
	turn_free(t);
}

/* an IPv6 allocation: permission keys and Data indications in IPv6 */
static void
test_v6(void)
{
	struct turn	*t = start(1);
	struct taddr	 c = te_addr("2001:db8:1::7", 40000);
	struct taddr	 p = te_addr("2001:db8:5::5", 6000);
	struct taddr	 k = IP("2001:db8:5::5");
	struct stun_msg	 d;
	struct ts_req	 m;
	uint32_t	 id;
	int		 code;

	ts_req_init(&m, M_ALLOCATE, C_REQ);
	ts_req_byte(&m, A_TRANSPORT, 17);
	ts_req_byte(&m, A_REQ_FAM, 2);
	auth(&m, &c);
	te_input(t, &m, &c);
	id = te_nrecs == 1 ? te_recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, te_now);
	te_collect(t);
	permission(t, &m, &c, &p, 1);
	ok(te_nrecs == 2 && is_perm(0, TURN_CMD_WORKER_PERM_ADD, id, &k),
	    "IPv6: PERM_ADD {id, 2001:db8:5::5 port 0}");
	send_ind(t, &m, &c, &p, "six");
	ok(te_nrecs == 1 && is_wsend(0, &m, id, &p, "six"),
	    "IPv6: Send -> WORKER_SEND");
	turn_worker_peer_data(t, id, &p, (const uint8_t *)"back", 4, te_now);
	te_collect(t);
	ok(te_nrecs == 1 && stun_decode(te_recs[0].data, te_recs[0].c.len, &d,
	    &code) == STUN_OK && d.n_peers == 1 && addr_eq(&d.peers[0], &p) &&
	    d.data_len == 4 && memcmp(d.data, "back", 4) == 0 &&
	    te_recs[0].c.len == 20 + 24 + 8,
	    "IPv6: Data indication with the IPv6 peer");
	turn_free(t);
}

int
main(void)
{
	ts_cred_make(&cred, SECRET, TE_EXPIRY, "test");
	test_permissions();
	test_peer_data();
	test_cap();
	test_off();
	test_v6();
	return done_testing();
}
