/*
 * 23-turn-indications: the engine's optional RFC 8656 data path
 * (--indications, DESIGN §3): permissions per peer IP for 300 s from
 * CREATE-PERMISSION and CHANNEL-BIND, PERM_ADD / PERM_DEL commands, Send
 * indications -> WORKER_SEND, peer data from the worker -> Data
 * indications, and the old behaviour when the option is off.
 *
 * Pure: requests are built with the codec's encoder, responses and Data
 * indications read back with stun_decode. RNG: every byte is rng_byte
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

#define T0		1000000ULL	/* ms */
#define SEC		1000ULL
#define WALL_S		1700000000LL
#define EXPIRY		4102444800ULL
#define SECRET		"indications-test-secret"
#define MAXCMD		64

struct rec {
	struct turn_cmd	 c;
	uint8_t		 data[2048];
	const uint8_t	*orig;		/* the engine's data pointer */
};

static struct rec	recs[MAXCMD];
static size_t		nrecs;
static uint64_t		now;
static uint8_t		rng_byte;
static unsigned		tidn;
static char		user[64];
static uint8_t		key[16];

static void
rng(void *arg, void *out, size_t len)
{
	(void)arg;
	memset(out, rng_byte, len);
}

static struct taddr
A(const char *ip, uint16_t port)
{
	struct taddr	a;

	memset(&a, 0, sizeof(a));
	if (addr_parse_ip(ip, &a) != 0) {
		printf("Bail out! bad address %s\n", ip);
		exit(255);
	}
	a.port = port;
	return a;
}

/* the canonical permission key the engine must emit: IP, port 0 */
static struct taddr
IP(const char *ip)
{
	struct taddr	a = A(ip, 0);
	struct taddr	k;

	memset(&k, 0, sizeof(k));
	k.family = a.family;
	memcpy(k.ip, a.ip, sizeof(k.ip));
	return k;
}

static void
collect(struct turn *t)
{
	struct turn_cmd	c;
	int		i;

	nrecs = 0;
	for (i = 0; i < 1000; i++) {
		memset(&c, 0, sizeof(c));
		if (turn_next_cmd(t, &c) != 1)
			return;
		if (c.type == TURN_CMD_LOG)
			continue;
		if (nrecs == MAXCMD) {
			ok(0, "too many commands");
			return;
		}
		recs[nrecs].c = c;
		recs[nrecs].orig = c.data;
		if (c.data != NULL && c.len <= sizeof(recs[nrecs].data))
			memcpy(recs[nrecs].data, c.data, c.len);
		nrecs++;
	}
	ok(0, "turn_next_cmd did not run dry");
}

static void
dump(void)
{
	size_t	i;
	char	b[ADDR_STRLEN];

	for (i = 0; i < nrecs; i++)
		diag("  cmd %zu: type %d alloc %u addr %s len %zu", i,
		    recs[i].c.type, recs[i].c.alloc_id,
		    addr_fmt(&recs[i].c.addr, b, sizeof(b)), recs[i].c.len);
}

static void
creds(void)
{
	char	salt[] = "test", pass[AUTH_PASS_LEN + 1];

	snprintf(user, sizeof(user), "%llu:%s", (unsigned long long)EXPIRY,
	    salt);
	auth_password(EXPIRY, SECRET, strlen(SECRET), salt, strlen(salt),
	    pass);
	stun_lt_key((const uint8_t *)user, strlen(user), AUTH_REALM, pass,
	    strlen(pass), key);
}

/* ---- requests ---- */

struct msgb {
	uint8_t		 b[1500];
	size_t		 len;
	uint8_t		 tid[STUN_TID_LEN];
	struct stun_enc	 e;
};

static void
mb_init(struct msgb *m, uint16_t method, uint8_t cls)
{
	size_t	i;

	tidn++;
	for (i = 0; i < STUN_TID_LEN; i++)
		m->tid[i] = (uint8_t)(tidn * 31 + i);
	stun_enc_init(&m->e, m->b, sizeof(m->b), method, cls, m->tid);
}

static void
mb_auth(struct msgb *m, const struct taddr *from)
{
	char	nonce[AUTH_NONCE_LEN + 1];
	uint8_t	nkey[AUTH_NONCE_KEY_LEN];

	memset(nkey, 0, sizeof(nkey));
	auth_nonce_mint(nkey, from, now / SEC, nonce);
	stun_put_attr(&m->e, STUN_A_USERNAME, user, strlen(user));
	stun_put_attr(&m->e, STUN_A_REALM, AUTH_REALM,
	    sizeof(AUTH_REALM) - 1);
	stun_put_attr(&m->e, STUN_A_NONCE, nonce, AUTH_NONCE_LEN);
	stun_put_mi(&m->e, key);
}

static void
mb_done(struct msgb *m)
{
	long	n = stun_enc_finish(&m->e);

	if (n < 0) {
		printf("Bail out! request encoding failed\n");
		exit(255);
	}
	m->len = (size_t)n;
}

static void
feed(struct turn *t, const struct msgb *m, const struct taddr *from)
{
	turn_client_input(t, m->b, m->len, from, now, WALL_S);
	collect(t);
}

/* a STUN response in recs[i] for the request m: class and code */
static int
resp_is(size_t i, const struct msgb *m, const struct taddr *to, int cls,
    int code)
{
	struct stun_msg	r;
	int		c;

	if (i >= nrecs || recs[i].c.type != TURN_CMD_SEND ||
	    !addr_eq(&recs[i].c.addr, to) ||
	    stun_decode(recs[i].data, recs[i].c.len, &r, &c) != STUN_OK)
		return 0;
	if (memcmp(r.tid, m->tid, STUN_TID_LEN) != 0 || r.cls != cls)
		return 0;
	if (cls == STUN_ERROR && r.error_code != code)
		return 0;
	return stun_check_mi(&r, key);
}

static int
is_perm(size_t i, int type, uint32_t id, const struct taddr *ip)
{
	const struct taddr	*a = &recs[i].c.addr;

	/* field by field: every byte of ip[] (zero beyond an IPv4 address) */
	return i < nrecs && recs[i].c.type == (enum turn_cmd_type)type &&
	    recs[i].c.alloc_id == id && a->family == ip->family &&
	    a->port == 0 && memcmp(a->ip, ip->ip, sizeof(a->ip)) == 0;
}

static uint32_t
allocate(struct turn *t, const struct taddr *c, int ready)
{
	struct msgb	m;
	uint32_t	id;

	mb_init(&m, STUN_ALLOCATE, STUN_REQUEST);
	stun_put_u32(&m.e, STUN_A_REQUESTED_TRANSPORT, 17u << 24);
	stun_put_u32(&m.e, STUN_A_LIFETIME, 3600);
	mb_auth(&m, c);
	mb_done(&m);
	feed(t, &m, c);
	if (nrecs != 1 || recs[0].c.type != TURN_CMD_WORKER_START) {
		ok(0, "ALLOCATE -> WORKER_START");
		dump();
		return 0;
	}
	id = recs[0].c.alloc_id;
	if (ready) {
		turn_worker_ready(t, id, now);
		collect(t);
		ok(nrecs == 1 && resp_is(0, &m, c, STUN_SUCCESS, 0),
		    "allocation %u ready", id);
	}
	return id;
}

static void
permission(struct turn *t, struct msgb *m, const struct taddr *c,
    const struct taddr *peers, size_t n)
{
	size_t	i;

	mb_init(m, STUN_CREATE_PERMISSION, STUN_REQUEST);
	for (i = 0; i < n; i++)
		stun_put_xaddr(&m->e, STUN_A_XOR_PEER_ADDRESS, &peers[i]);
	mb_auth(m, c);
	mb_done(m);
	feed(t, m, c);
}

static void
chanbind(struct turn *t, struct msgb *m, const struct taddr *c,
    uint16_t chan, const struct taddr *peer)
{
	mb_init(m, STUN_CHANNEL_BIND, STUN_REQUEST);
	stun_put_u32(&m->e, STUN_A_CHANNEL_NUMBER, (uint32_t)chan << 16);
	stun_put_xaddr(&m->e, STUN_A_XOR_PEER_ADDRESS, peer);
	mb_auth(m, c);
	mb_done(m);
	feed(t, m, c);
}

/* a Send indication; data may be NULL (no DATA), peer may be NULL */
static void
send_ind(struct turn *t, struct msgb *m, const struct taddr *c,
    const struct taddr *peer, const char *data)
{
	mb_init(m, STUN_SEND, STUN_INDICATION);
	if (peer != NULL)
		stun_put_xaddr(&m->e, STUN_A_XOR_PEER_ADDRESS, peer);
	if (data != NULL)
		stun_put_attr(&m->e, STUN_A_DATA, data, strlen(data));
	mb_done(m);
	feed(t, m, c);
}

/* a WORKER_SEND in recs[i] whose data is the DATA value inside m */
static int
is_wsend(size_t i, const struct msgb *m, uint32_t id,
    const struct taddr *peer, const char *data)
{
	size_t	len = strlen(data);

	return i < nrecs && recs[i].c.type == TURN_CMD_WORKER_SEND &&
	    recs[i].c.alloc_id == id && addr_eq(&recs[i].c.addr, peer) &&
	    recs[i].c.len == len &&
	    memcmp(recs[i].data, data, len) == 0 &&
	    recs[i].orig >= m->b && recs[i].orig + len <= m->b + m->len;
}

static struct turn *
start(int indications)
{
	struct turn_conf	 conf;
	struct turn		*t;

	memset(&conf, 0, sizeof(conf));
	conf.public4 = A("203.0.113.1", 0);
	conf.public6 = A("2001:db8::1", 0);
	conf.lowest_port = 49152;
	conf.highest_port = 65535;
	conf.secret = SECRET;
	conf.secret_len = strlen(SECRET);
	conf.software = "turncell/test";
	conf.auth_schemes = AUTH_SCHEME_FIREZONE;
	conf.filter.allow[0].net = A("192.0.2.0", 0);
	conf.filter.allow[0].bits = 24;
	conf.filter.allow[1].net = A("2001:db8::", 0);
	conf.filter.allow[1].bits = 32;
	conf.filter.n_allow = 2;
	conf.indications = indications;
	now = T0;
	rng_byte = 0;
	if ((t = turn_new(&conf, rng, NULL)) == NULL) {
		printf("Bail out! turn_new failed\n");
		exit(255);
	}
	return t;
}

/* ------------------------------------------------------------------ */

static void
test_permissions(void)
{
	struct turn		*t = start(1);
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 p1 = A("192.0.2.10", 1000);
	struct taddr		 p1b = A("192.0.2.10", 2000);
	struct taddr		 p2 = A("192.0.2.11", 1000);
	struct taddr		 p3 = A("192.0.2.12", 3000);
	struct taddr		 lo = A("127.0.0.1", 1000);
	struct taddr		 v6 = A("2001:db8:5::5", 1000);
	struct taddr		 k1 = IP("192.0.2.10"), k3 = IP("192.0.2.12");
	struct taddr		 other = A("198.51.100.8", 1);
	struct turn_stats	 st;
	struct msgb		 m;
	uint32_t		 id;

	/* before the allocation is ready, a Send is dropped */
	id = allocate(t, &c, 0);
	send_ind(t, &m, &c, &p1, "early");
	is_int(nrecs, 0, "Send on a STARTING allocation: nothing");
	turn_worker_ready(t, id, now);
	collect(t);

	permission(t, &m, &c, &p1, 1);
	ok(nrecs == 2 && is_perm(0, TURN_CMD_WORKER_PERM_ADD, id, &k1) &&
	    resp_is(1, &m, &c, STUN_SUCCESS, 0),
	    "CreatePermission -> PERM_ADD {id, 192.0.2.10 port 0}, success");
	if (nrecs != 2)
		dump();
	is_int(turn_next_timeout(t), (long long)(T0 + 300 * SEC),
	    "next timeout: the permission's 300 s");

	send_ind(t, &m, &c, &p1b, "hello peer");
	ok(nrecs == 1 && is_wsend(0, &m, id, &p1b, "hello peer"),
	    "Send to another port of a permitted IP -> WORKER_SEND, exact "
	    "payload pointing into the input");

	send_ind(t, &m, &c, &p2, "nope");
	is_int(nrecs, 0, "Send to an IP without permission: nothing");
	send_ind(t, &m, &c, &p1, NULL);
	is_int(nrecs, 0, "Send without DATA: nothing");
	send_ind(t, &m, &c, NULL, "x");
	is_int(nrecs, 0, "Send without XOR-PEER-ADDRESS: nothing");
	send_ind(t, &m, &other, &p1, "x");
	is_int(nrecs, 0, "Send from a client without allocation: nothing");

	permission(t, &m, &c, &lo, 1);
	ok(nrecs == 1 && resp_is(0, &m, &c, STUN_ERROR, 403),
	    "CreatePermission for a denied peer: 403, no PERM_ADD");
	send_ind(t, &m, &c, &lo, "x");
	is_int(nrecs, 0, "Send to a denied peer: nothing");
	permission(t, &m, &c, &v6, 1);
	ok(nrecs == 1 && resp_is(0, &m, &c, STUN_ERROR, 443),
	    "IPv6 peer on an IPv4 allocation: 443, no PERM_ADD");
	send_ind(t, &m, &c, &v6, "x");
	is_int(nrecs, 0, "Send to a peer of the wrong family: nothing");

	/* ChannelBind installs the permission for its peer's IP */
	now = T0 + 10 * SEC;
	chanbind(t, &m, &c, 0x4001, &p3);
	ok(nrecs == 3 && recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    is_perm(1, TURN_CMD_WORKER_PERM_ADD, id, &k3) &&
	    resp_is(2, &m, &c, STUN_SUCCESS, 0),
	    "ChannelBind -> CHAN_ADD, PERM_ADD {id, 192.0.2.12}, success");
	if (nrecs != 3)
		dump();
	send_ind(t, &m, &c, &p3, "via perm of a channel");
	ok(nrecs == 1 && is_wsend(0, &m, id, &p3, "via perm of a channel"),
	    "Send to the channel's peer -> WORKER_SEND");

	/* a refresh queues nothing for the worker but moves the expiry */
	now = T0 + 20 * SEC;
	permission(t, &m, &c, &p1b, 1);
	ok(nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "CreatePermission refresh (same IP): success only, no PERM_ADD");
	is_int(turn_next_timeout(t), (long long)(T0 + 310 * SEC),
	    "next timeout: the channel's permission at 310 s");

	now = T0 + 309 * SEC;
	turn_timeout(t, now);
	collect(t);
	is_int(nrecs, 0, "nothing due at 309 s");
	now = T0 + 310 * SEC;
	turn_timeout(t, now);
	collect(t);
	ok(nrecs == 1 && is_perm(0, TURN_CMD_WORKER_PERM_DEL, id, &k3),
	    "at 310 s: PERM_DEL {id, 192.0.2.12}");
	send_ind(t, &m, &c, &p3, "late");
	is_int(nrecs, 0, "Send after the permission expired: nothing");
	is_int(turn_next_timeout(t), (long long)(T0 + 320 * SEC),
	    "next timeout: the refreshed permission at 320 s");

	/* expired but not yet reaped: already refused */
	now = T0 + 320 * SEC;
	send_ind(t, &m, &c, &p1, "at expiry");
	is_int(nrecs, 0, "Send at the expiry instant: nothing");
	is_int(turn_worker_peer_data(t, id, &p1, (const uint8_t *)"x", 1,
	    now), 0, "peer data at the expiry instant: 0 (a race, not hostile)");
	collect(t);
	is_int(nrecs, 0, "... and nothing sent");
	turn_timeout(t, now);
	collect(t);
	ok(nrecs == 1 && is_perm(0, TURN_CMD_WORKER_PERM_DEL, id, &k1),
	    "at 320 s: PERM_DEL {id, 192.0.2.10}");
	is_int(turn_next_timeout(t), (long long)(T0 + 610 * SEC),
	    "next timeout: the channel at 610 s");

	turn_get_stats(t, &st);
	is_int(st.packets_c2p, 2, "two Send indications counted c2p");
	is_int(st.bytes_c2p, 10 + 21, "their DATA bytes counted");

	/* a new permission after expiry is announced again */
	permission(t, &m, &c, &p1, 1);
	ok(nrecs == 2 && is_perm(0, TURN_CMD_WORKER_PERM_ADD, id, &k1),
	    "CreatePermission after expiry -> PERM_ADD again");

	/* deleting the allocation: WORKER_STOP, no PERM_DEL */
	mb_init(&m, STUN_REFRESH, STUN_REQUEST);
	stun_put_u32(&m.e, STUN_A_LIFETIME, 0);
	mb_auth(&m, &c);
	mb_done(&m);
	feed(t, &m, &c);
	ok(nrecs == 2 && recs[0].c.type == TURN_CMD_WORKER_STOP &&
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
	struct taddr		 c = A("198.51.100.7", 40000);
	struct taddr		 p1 = A("192.0.2.10", 5555);
	struct taddr		 p9 = A("192.0.2.99", 5555);
	static const uint8_t	 pl[] = "payload from the peer";
	static uint8_t		 big[70000];
	struct turn_stats	 st;
	struct stun_msg		 d;
	struct msgb		 m;
	uint8_t			 tid[STUN_TID_LEN];
	uint32_t		 id;
	int			 code, rc;

	id = allocate(t, &c, 1);
	permission(t, &m, &c, &p1, 1);
	collect(t);

	rng_byte = 0xa5;
	is_int(turn_worker_peer_data(t, id, &p1, pl, sizeof(pl) - 1, now), 0,
	    "peer data for a permitted IP: 0");
	collect(t);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND &&
	    addr_eq(&recs[0].c.addr, &c), "-> one SEND to the client");
	memset(&d, 0, sizeof(d));
	rc = nrecs == 1 ? stun_decode(recs[0].data, recs[0].c.len, &d, &code) :
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
	is_int(recs[0].c.len, 20 + 12 + 4 + 24, "exact length (padded)");
	is_int(nrecs == 1 ? recs[0].data[20 + 12 + 4 + 21] |
	    recs[0].data[20 + 12 + 4 + 22] | recs[0].data[20 + 12 + 4 + 23] :
	    1, 0, "padding is zero");

	is_int(turn_worker_peer_data(t, id, &p1, pl, 0, now), 0,
	    "empty peer datagram: 0");
	collect(t);
	rc = nrecs == 1 ? stun_decode(recs[0].data, recs[0].c.len, &d, &code) :
	    STUN_DROP;
	ok(rc == STUN_OK && d.data_len == 0 && (d.has & STUN_HAS_DATA),
	    "-> a Data indication with an empty DATA");

	is_int(turn_worker_peer_data(t, id, &p9, pl, 4, now), 0,
	    "peer data for an IP without permission: 0");
	collect(t);
	is_int(nrecs, 0, "... dropped");
	is_int(turn_worker_peer_data(t, 4242, &p1, pl, 4, now), 0,
	    "unknown allocation: 0 (teardown race)");
	collect(t);
	is_int(nrecs, 0, "... dropped");

	turn_get_stats(t, &st);
	is_int(st.packets_p2c, 2, "p2c packets counted");
	is_int(st.bytes_p2c, sizeof(pl) - 1, "p2c bytes counted");

	/* 65507 bytes: the largest IPv4 UDP payload, still one message */
	is_int(turn_worker_peer_data(t, id, &p1, big, 65480, now), 0,
	    "65480 bytes: 0");
	collect(t);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_SEND &&
	    recs[0].c.len == 20 + 12 + 4 + 65480,
	    "-> one Data indication of 65516 bytes");

	is_int(turn_worker_peer_data(t, id, &p1, big, 65536, now), -1,
	    "more than 65535 bytes: -1 (hostile)");
	collect(t);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_STOP &&
	    recs[0].c.alloc_id == id && recs[0].c.reason == TURN_STOP_HOSTILE,
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
	struct taddr	 c = A("198.51.100.7", 40000);
	struct taddr	 peers[8], extra[2];
	struct msgb	 m;
	char		 ip[32];
	uint32_t	 id;
	size_t		 i, j, adds = 0;
	int		 good = 1;

	id = allocate(t, &c, 1);
	for (i = 0; i < TURN_MAX_PERMS / 8; i++) {
		for (j = 0; j < 8; j++) {
			snprintf(ip, sizeof(ip), "192.0.2.%zu", 1 + i * 8 + j);
			peers[j] = A(ip, 7);
		}
		permission(t, &m, &c, peers, 8);
		for (j = 0; j < nrecs; j++)
			if (recs[j].c.type == TURN_CMD_WORKER_PERM_ADD &&
			    recs[j].c.alloc_id == id)
				adds++;
		if (!resp_is(nrecs - 1, &m, &c, STUN_SUCCESS, 0))
			good = 0;
	}
	ok(good, "%d permissions in batches of 8: all granted",
	    TURN_MAX_PERMS);
	is_int(adds, TURN_MAX_PERMS, "%d PERM_ADD", TURN_MAX_PERMS);
	extra[0] = A("192.0.2.1", 9);	/* exists */
	extra[1] = A("192.0.2.200", 9);	/* new */
	permission(t, &m, &c, extra, 2);
	ok(nrecs == 1 && resp_is(0, &m, &c, STUN_ERROR, 508),
	    "one more IP: 508, nothing installed");
	permission(t, &m, &c, extra, 1);
	ok(nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "refreshing an existing one still works");
	/* duplicates in one request count once */
	extra[0] = A("192.0.2.1", 1);
	extra[1] = A("192.0.2.1", 2);
	permission(t, &m, &c, extra, 2);
	ok(nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "two ports of one known IP: success");
	turn_free(t);
}

/* without --indications: the reference's behaviour */
static void
test_off(void)
{
	struct turn	*t = start(0);
	struct taddr	 c = A("198.51.100.7", 40000);
	struct taddr	 p1 = A("192.0.2.10", 1000);
	struct taddr	 p3 = A("192.0.2.12", 3000);
	struct msgb	 m;
	uint32_t	 id;

	id = allocate(t, &c, 1);
	permission(t, &m, &c, &p1, 1);
	ok(nrecs == 1 && resp_is(0, &m, &c, STUN_SUCCESS, 0),
	    "off: CreatePermission -> success only (no PERM_ADD)");
	is_int(turn_next_timeout(t), (long long)(T0 + 3600 * SEC),
	    "off: no permission timer");
	send_ind(t, &m, &c, &p1, "dropped");
	is_int(nrecs, 0, "off: Send indication dropped");
	chanbind(t, &m, &c, 0x4001, &p3);
	ok(nrecs == 2 && recs[0].c.type == TURN_CMD_WORKER_CHAN_ADD &&
	    resp_is(1, &m, &c, STUN_SUCCESS, 0),
	    "off: ChannelBind -> CHAN_ADD and success, no PERM_ADD");
	send_ind(t, &m, &c, &p3, "dropped");
	is_int(nrecs, 0, "off: Send to a channel's peer dropped too");
	is_int(turn_worker_peer_data(t, id, &p1, (const uint8_t *)"x", 1,
	    now), -1, "off: peer data from the worker is hostile");
	collect(t);
	ok(nrecs == 1 && recs[0].c.type == TURN_CMD_WORKER_STOP &&
	    recs[0].c.reason == TURN_STOP_HOSTILE,
	    "off: -> WORKER_STOP(HOSTILE)");
	turn_free(t);
}

/* an IPv6 allocation: permission keys and Data indications in IPv6 */
static void
test_v6(void)
{
	struct turn	*t = start(1);
	struct taddr	 c = A("2001:db8:1::7", 40000);
	struct taddr	 p = A("2001:db8:5::5", 6000);
	struct taddr	 k = IP("2001:db8:5::5");
	struct stun_msg	 d;
	struct msgb	 m;
	uint32_t	 id;
	int		 code;

	mb_init(&m, STUN_ALLOCATE, STUN_REQUEST);
	stun_put_u32(&m.e, STUN_A_REQUESTED_TRANSPORT, 17u << 24);
	stun_put_u32(&m.e, STUN_A_REQUESTED_ADDRESS_FAMILY, 2u << 24);
	mb_auth(&m, &c);
	mb_done(&m);
	feed(t, &m, &c);
	id = nrecs == 1 ? recs[0].c.alloc_id : 0;
	turn_worker_ready(t, id, now);
	collect(t);
	permission(t, &m, &c, &p, 1);
	ok(nrecs == 2 && is_perm(0, TURN_CMD_WORKER_PERM_ADD, id, &k),
	    "IPv6: PERM_ADD {id, 2001:db8:5::5 port 0}");
	send_ind(t, &m, &c, &p, "six");
	ok(nrecs == 1 && is_wsend(0, &m, id, &p, "six"),
	    "IPv6: Send -> WORKER_SEND");
	turn_worker_peer_data(t, id, &p, (const uint8_t *)"back", 4, now);
	collect(t);
	ok(nrecs == 1 && stun_decode(recs[0].data, recs[0].c.len, &d,
	    &code) == STUN_OK && d.n_peers == 1 && addr_eq(&d.peers[0], &p) &&
	    d.data_len == 4 && memcmp(d.data, "back", 4) == 0 &&
	    recs[0].c.len == 20 + 24 + 8,
	    "IPv6: Data indication with the IPv6 peer");
	turn_free(t);
}

int
main(void)
{
	creds();
	test_permissions();
	test_peer_data();
	test_cap();
	test_off();
	test_v6();
	return done_testing();
}
