/*
 * 30-msg.c: the supervisor <-> worker message catalogue (common/msg.c).
 *
 * Every rule of msg_rules[] is probed for too short, too long, wrong
 * direction, a second once-only, trailing bytes, bad reserved fields and
 * the wrong state; the typed put/get pairs round-trip byte-exactly; a
 * mutation loop (after OpenSSH's test_helper/fuzz.c) checks that mangled
 * records are cleanly accepted or refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "msg_conf.h"
#include "tap.h"

#define REC_MAX		(MSG_MAX_RECORD + 16)

static uint8_t	rec[REC_MAX];
static uint8_t	rec2[REC_MAX];

/* a raw record: header + payload, header length as given */
static size_t
mkrec_len(uint8_t *out, uint16_t type, uint32_t hdrlen, const uint8_t *p,
    size_t plen)
{
	out[0] = type >> 8;
	out[1] = type & 0xff;
	out[2] = 0;
	out[3] = 0;
	out[4] = hdrlen >> 24;
	out[5] = (hdrlen >> 16) & 0xff;
	out[6] = (hdrlen >> 8) & 0xff;
	out[7] = hdrlen & 0xff;
	if (plen > 0)
		memcpy(out + MSG_HDR_LEN, p, plen);
	return MSG_HDR_LEN + plen;
}

static size_t
mkrec(uint8_t *out, uint16_t type, const uint8_t *p, size_t plen)
{
	return mkrec_len(out, type, (uint32_t)plen, p, plen);
}

/* a valid payload of the rule's minimum size for each type */
static size_t
valid_payload(enum msg_type t, uint8_t *p)
{
	static const uint8_t ready[] = { 0xc0, 0x00, 0x03, 0x00 };
	static const uint8_t cadd[] = {
		0x40, 0x00, 0x04, 0x00, 0x1f, 0x90, 0x00, 0x00,
		198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t cdel[] = { 0x40, 0x00, 0x00, 0x00 };
	static const uint8_t data[] = { 0x40, 0x01, 0x00, 0x00 };
	static const uint8_t logm[] = { 0x02, 'x' };
	static const uint8_t perm[] = { 0x04, 0x00, 0x00, 0x00,
		198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t pkt[] = { 0x04, 0x00, 0x04, 0xd2,
		198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'x' };

	switch (t) {
	case MSG_READY:
		memcpy(p, ready, sizeof(ready));
		return sizeof(ready);
	case MSG_CHAN_ADD:
		memcpy(p, cadd, sizeof(cadd));
		return sizeof(cadd);
	case MSG_CHAN_DEL:
		memcpy(p, cdel, sizeof(cdel));
		return sizeof(cdel);
	case MSG_DATA:
		memcpy(p, data, sizeof(data));
		return sizeof(data);
	case MSG_LOG:
		memcpy(p, logm, sizeof(logm));
		return sizeof(logm);
	case MSG_STATS:
		memset(p, 0, 88);
		p[7] = 1;
		return 88;
	case MSG_PERM_ADD:
	case MSG_PERM_DEL:
		memcpy(p, perm, sizeof(perm));
		return sizeof(perm);
	case MSG_SEND:
	case MSG_PEER_DATA:
		memcpy(p, pkt, sizeof(pkt));
		return sizeof(pkt);
	case MSG_CONF:		/* families v4, everything else 0 */
		memset(p, 0, MSG_CONF_LEN);
		p[10] = ADDR_FAM_V4;
		return MSG_CONF_LEN;
	default:
		return 0;
	}
}

static int
rule_dir(enum msg_type t)
{
	return (msg_rules[t].dir & MSG_W2S) ? MSG_W2S : MSG_S2W;
}

static int
rule_state(enum msg_type t)
{
	return (msg_rules[t].states & MSG_ST_READY) ? MSG_ST_READY :
	    MSG_ST_STARTING;
}

static int
check(const uint8_t *r, size_t n, int dir, int state, uint32_t *once)
{
	struct msg	m;
	uint32_t	o = 0;

	errno = 0;
	if (msg_check(r, n, dir, state, once != NULL ? once : &o, &m) == 0)
		return 0;
	return errno == EBADMSG ? -1 : -2;
}

/* the typed getter for a checked message */
static int
get_any(const struct msg *m)
{
	struct msg_ready	rd;
	struct msg_chan_add	ca;
	struct msg_chan_del	cd;
	struct msg_log		lg;
	struct msg_stats	st;
	struct msg_perm		pm;
	struct msg_pkt		pk;
	static struct msg_conf	mc;
	struct buf_r		r;
	uint16_t		chan;
	const uint8_t		*p;
	size_t			len;
	int			rv, n = 0;

	switch (m->type) {
	case MSG_CONF:
		return msg_get_conf(m, &mc);
	case MSG_READY:
		return msg_get_ready(m, &rd);
	case MSG_CHAN_ADD:
		return msg_get_chan_add(m, &ca);
	case MSG_CHAN_DEL:
		return msg_get_chan_del(m, &cd);
	case MSG_LOG:
		return msg_get_log(m, &lg);
	case MSG_STATS:
		return msg_get_stats(m, &st);
	case MSG_PERM_ADD:
		return msg_get_perm_add(m, &pm);
	case MSG_PERM_DEL:
		return msg_get_perm_del(m, &pm);
	case MSG_SEND:
		return msg_get_send(m, &pk);
	case MSG_PEER_DATA:
		return msg_get_peer_data(m, &pk);
	case MSG_DATA:
		buf_r_init(&r, m->payload, m->len);
		while ((rv = msg_data_next(&r, &chan, &p, &len)) == 1 &&
		    n++ < 70000)
			;
		return rv;
	default:
		return -1;
	}
}

static void
test_rule(enum msg_type t)
{
	uint8_t		 p[MSG_MAX_PAYLOAD + 8];
	const char	*name = msg_type_name(t);
	const struct msg_rule *rl = &msg_rules[t];
	size_t		 plen, n;
	int		 dir = rule_dir(t), st = rule_state(t);
	uint32_t	 once = 0;
	struct msg	 m;

	memset(p, 0, sizeof(p));
	plen = valid_payload(t, p);
	n = mkrec(rec, t, p, plen);
	is_int(check(rec, n, dir, st, NULL), 0, "%s: valid record accepted",
	    name);
	ok(msg_check(rec, n, dir, st, &once, &m) == 0 && m.type == t &&
	    m.len == plen && m.payload == rec + MSG_HDR_LEN &&
	    get_any(&m) >= 0, "%s: typed getter accepts it", name);

	/* too short: one byte under the minimum, header consistent */
	if (rl->min_len > 0) {
		n = mkrec(rec, t, p, rl->min_len - 1);
		is_int(check(rec, n, dir, st, NULL), -1, "%s: too short",
		    name);
	}
	/* too long: one byte over the maximum, header consistent */
	n = mkrec(rec, t, p, rl->max_len + 1);
	is_int(check(rec, n, dir, st, NULL), -1, "%s: too long", name);

	/* wrong direction; dir 0 and "both" never match */
	plen = valid_payload(t, p);
	n = mkrec(rec, t, p, plen);
	if (rl->dir != (MSG_S2W | MSG_W2S))
		is_int(check(rec, n, dir ^ (MSG_S2W | MSG_W2S), st, NULL), -1,
		    "%s: wrong direction", name);
	ok(check(rec, n, 0, st, NULL) == -1 &&
	    check(rec, n, MSG_S2W | MSG_W2S, st, NULL) == -1,
	    "%s: no direction / both directions", name);

	/* wrong state */
	if ((rl->states & MSG_ST_ANY) != MSG_ST_ANY)
		is_int(check(rec, n, dir, st ^ MSG_ST_ANY, NULL), -1,
		    "%s: wrong state", name);
	ok(check(rec, n, dir, 0, NULL) == -1 &&
	    check(rec, n, dir, MSG_ST_ANY, NULL) == -1,
	    "%s: no state / all states", name);

	/* second once-only */
	once = 0;
	if (rl->flags & MSG_F_ONCE) {
		ok(check(rec, n, dir, st, &once) == 0 &&
		    check(rec, n, dir, st, &once) == -1 &&
		    (once & (1u << t)),
		    "%s: second once-only refused", name);
	} else {
		ok(check(rec, n, dir, st, &once) == 0 &&
		    check(rec, n, dir, st, &once) == 0 && once == 0,
		    "%s: repeatable", name);
	}

	/* trailing bytes: after the declared length, and (getter) inside it */
	p[plen] = 0;
	n = mkrec_len(rec, t, (uint32_t)plen, p, plen + 1);
	is_int(check(rec, n, dir, st, NULL), -1,
	    "%s: trailing byte after the header length", name);
	m.type = t;
	m.payload = p;
	m.len = plen + 1;
	if (t == MSG_LOG)	/* text is variable: grow past the limit */
		m.len = 2 + MSG_LOG_MAX;
	if (t == MSG_SEND || t == MSG_PEER_DATA)	/* likewise */
		m.len = MSG_MAX_PAYLOAD + 1;
	if (t == MSG_DATA)	/* a partial frame header */
		m.len = plen + 1;
	errno = 0;
	ok(get_any(&m) == -1, "%s: typed getter refuses a trailing byte",
	    name);

	/* header length disagreeing with the record */
	n = mkrec_len(rec, t, (uint32_t)plen - 1, p, plen);
	is_int(check(rec, n, dir, st, NULL), -1, "%s: header length short",
	    name);
	n = mkrec_len(rec, t, (uint32_t)plen + 1, p, plen);
	is_int(check(rec, n, dir, st, NULL), -1, "%s: header length long",
	    name);

	/* reserved header bytes */
	n = mkrec(rec, t, p, plen);
	rec[2] = 0x01;
	is_int(check(rec, n, dir, st, NULL), -1, "%s: reserved byte 2", name);
	rec[2] = 0;
	rec[3] = 0x80;
	is_int(check(rec, n, dir, st, NULL), -1, "%s: reserved byte 3", name);
}

static void
test_header(void)
{
	uint8_t		p[4] = { 0 };
	size_t		n;

	is_int(check(rec, 0, MSG_W2S, MSG_ST_READY, NULL), -1, "empty record");
	n = mkrec(rec, MSG_LOG, p, 0);
	is_int(check(rec, 7, MSG_W2S, MSG_ST_READY, NULL), -1,
	    "short header");
	n = mkrec(rec, MSG_NONE, p, 4);
	is_int(check(rec, n, MSG_W2S, MSG_ST_READY, NULL), -1, "type NONE");
	ok(check(rec, n, MSG_S2W, MSG_ST_READY, NULL) == -1, "type NONE s2w");
	/* the retired BIND_FAIL (workers bind nothing): like NONE, in any
	 * direction and state */
	n = mkrec(rec, MSG_UNUSED_2, (const uint8_t *)"\xc0\x00\x00\x62",
	    4);
	ok(check(rec, n, MSG_W2S, MSG_ST_STARTING, NULL) == -1 &&
	    check(rec, n, MSG_S2W, MSG_ST_STARTING, NULL) == -1 &&
	    check(rec, n, MSG_W2S, MSG_ST_READY, NULL) == -1,
	    "type UNUSED_2 (was BIND_FAIL) refused");
	n = mkrec(rec, MSG_MAX, p, 4);
	ok(check(rec, n, MSG_W2S, MSG_ST_READY, NULL) == -1 &&
	    check(rec, n, MSG_S2W, MSG_ST_READY, NULL) == -1, "type MSG_MAX");
	n = mkrec(rec, 0xffff, p, 4);
	ok(check(rec, n, MSG_W2S, MSG_ST_READY, NULL) == -1, "type 0xffff");
	n = mkrec_len(rec, MSG_DATA, 0xffffffffu, p, 4);
	ok(check(rec, n, MSG_S2W, MSG_ST_READY, NULL) == -1, "len 2^32-1");
	ok(check(rec, MSG_MAX_RECORD + 1, MSG_S2W, MSG_ST_READY, NULL) == -1,
	    "record above MSG_MAX_RECORD");
	errno = 0;
	ok(msg_check(NULL, 8, MSG_S2W, MSG_ST_READY, NULL, NULL) == -1 &&
	    errno == EBADMSG, "NULL record");
	is_str(msg_type_name(MSG_CHAN_ADD), "CHAN_ADD", "type name");
	is_str(msg_type_name((enum msg_type)99), "UNKNOWN", "unknown name");
}

static void
test_roundtrip(void)
{
	struct buf_w		w;
	struct msg		m;
	struct msg_ready	rd = { 49152, ADDR_FAM_V4 | ADDR_FAM_V6 }, rd2;
	struct msg_chan_add	ca, ca2;
	struct msg_chan_del	cd = { 0x4fff }, cd2;
	struct msg_log		lg = { 3, (const uint8_t *)"hello", 5 }, lg2;
	struct msg_stats	st = { 1, 0x0102030405060708ull, 3,
				    0xffffffffffffffffull, 5, 6, 7, 8, 9, 10,
				    11 },
				st2;
	uint8_t			want[96];
	size_t			wl;
	uint32_t		once = 0;

	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_ready(&w, &rd) == 0, "put READY");
	wl = tap_unhex("0001000000000004c0000300", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "READY bytes");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_STARTING, &once, &m) == 0 &&
	    msg_get_ready(&m, &rd2) == 0 && rd2.port == 49152 &&
	    rd2.families == 3, "READY round trip");


	memset(&ca, 0, sizeof(ca));
	ca.chan = 0x4001;
	ca.peer.family = ADDR_V6;
	ca.peer.port = 3478;
	ca.peer.ip[0] = 0x20;
	ca.peer.ip[1] = 0x01;
	ca.peer.ip[2] = 0x0d;
	ca.peer.ip[3] = 0xb8;
	ca.peer.ip[15] = 0x09;
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_chan_add(&w, &ca) == 0, "put CHAN_ADD v6");
	wl = tap_unhex("0003000000000018" "4001" "06" "00" "0d96" "0000"
	    "20010db8000000000000000000000009", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "CHAN_ADD v6 bytes");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_chan_add(&m, &ca2) == 0 && ca2.chan == 0x4001 &&
	    ca2.peer.family == ADDR_V6 && ca2.peer.port == 3478 &&
	    memcmp(ca2.peer.ip, ca.peer.ip, 16) == 0,
	    "CHAN_ADD v6 round trip");

	memset(&ca, 0, sizeof(ca));
	ca.chan = 0x4000;
	ca.peer.family = ADDR_V4;
	ca.peer.port = 65535;
	memcpy(ca.peer.ip, "\xcb\x00\x71\x05", 4);
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_chan_add(&w, &ca) == 0, "put CHAN_ADD v4");
	wl = tap_unhex("0003000000000018" "4000" "04" "00" "ffff" "0000"
	    "cb007105000000000000000000000000", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "CHAN_ADD v4 bytes");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_chan_add(&m, &ca2) == 0 && ca2.peer.family == ADDR_V4 &&
	    ca2.peer.port == 65535 && memcmp(ca2.peer.ip, ca.peer.ip, 16) == 0,
	    "CHAN_ADD v4 round trip");

	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_chan_del(&w, &cd) == 0, "put CHAN_DEL");
	wl = tap_unhex("00040000000000044fff0000", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "CHAN_DEL bytes");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_chan_del(&m, &cd2) == 0 && cd2.chan == 0x4fff,
	    "CHAN_DEL round trip");

	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_log(&w, &lg) == 0, "put LOG");
	wl = tap_unhex("0006000000000006" "03" "68656c6c6f", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "LOG bytes");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_STARTING, NULL, &m) == 0 &&
	    msg_get_log(&m, &lg2) == 0 && lg2.level == 3 && lg2.len == 5 &&
	    memcmp(lg2.text, "hello", 5) == 0, "LOG round trip");

	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_stats(&w, &st) == 0, "put STATS");
	wl = tap_unhex("0007000000000058"
	    "0000000000000001" "0102030405060708" "0000000000000003"
	    "ffffffffffffffff" "0000000000000005" "0000000000000006"
	    "0000000000000007" "0000000000000008" "0000000000000009"
	    "000000000000000a" "000000000000000b", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "STATS bytes");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_stats(&m, &st2) == 0 && memcmp(&st, &st2, sizeof(st)) == 0,
	    "STATS round trip");

	/* a writer too small fails cleanly */
	buf_w_init(&w, rec, 10);
	errno = 0;
	ok(msg_put_stats(&w, &st) == -1 && errno == ENOBUFS,
	    "put into a short buffer fails");
	/* getter of another type */
	ok(msg_get_ready(&m, &rd2) == -1 && errno == EBADMSG,
	    "getter refuses another type");
}

/* one payload byte changed -> the getter refuses */
static int
get_with(enum msg_type t, const char *hex)
{
	uint8_t		p[64];
	struct msg	m;
	size_t		n;

	n = tap_unhex(hex, p, sizeof(p));
	m.type = t;
	m.payload = p;
	m.len = n;
	errno = 0;
	if (get_any(&m) == 0)
		return 0;
	return errno == EBADMSG ? -1 : -2;
}

static void
test_bad_fields(void)
{
	struct buf_w		w;
	struct msg_ready	rd = { 0, 1 };
	struct msg_chan_add	ca;
	struct msg_chan_del	cd = { 0x3fff };
	struct msg_log		lg = { 4, (const uint8_t *)"x", 1 };
	char			big[MSG_LOG_MAX + 1];

	is_int(get_with(MSG_READY, "c0000300"), 0, "READY ok");
	is_int(get_with(MSG_READY, "00000300"), -1, "READY port 0");
	is_int(get_with(MSG_READY, "c0000000"), -1, "READY families 0");
	is_int(get_with(MSG_READY, "c0000400"), -1, "READY families 4");
	is_int(get_with(MSG_READY, "c0000301"), -1, "READY reserved byte");
	is_int(get_with(MSG_CHAN_ADD, "4000040004d20000"
	    "c6336407000000000000000000000000"), 0, "CHAN_ADD ok");
	is_int(get_with(MSG_CHAN_ADD, "3fff040004d20000"
	    "c6336407000000000000000000000000"), -1, "CHAN_ADD chan 0x3fff");
	is_int(get_with(MSG_CHAN_ADD, "5000040004d20000"
	    "c6336407000000000000000000000000"), -1, "CHAN_ADD chan 0x5000");
	is_int(get_with(MSG_CHAN_ADD, "4000050004d20000"
	    "c6336407000000000000000000000000"), -1, "CHAN_ADD family 5");
	is_int(get_with(MSG_CHAN_ADD, "4000000004d20000"
	    "c6336407000000000000000000000000"), -1, "CHAN_ADD family 0");
	is_int(get_with(MSG_CHAN_ADD, "4000040100d20000"
	    "c6336407000000000000000000000000"), -1, "CHAN_ADD reserved u8");
	is_int(get_with(MSG_CHAN_ADD, "4000040004d20001"
	    "c6336407000000000000000000000000"), -1, "CHAN_ADD reserved u16");
	is_int(get_with(MSG_CHAN_ADD, "4000040000000000"
	    "c6336407000000000000000000000000"), -1, "CHAN_ADD port 0");
	is_int(get_with(MSG_CHAN_ADD, "4000040004d20000"
	    "c6336407000000000000000000000001"), -1, "CHAN_ADD v4 tail");
	is_int(get_with(MSG_CHAN_ADD, "4000060004d20000"
	    "c6336407000000000000000000000001"), 0, "CHAN_ADD v6 uses all 16");
	is_int(get_with(MSG_CHAN_DEL, "4fff0000"), 0, "CHAN_DEL ok");
	is_int(get_with(MSG_CHAN_DEL, "00000000"), -1, "CHAN_DEL chan 0");
	is_int(get_with(MSG_CHAN_DEL, "40000100"), -1, "CHAN_DEL reserved");
	is_int(get_with(MSG_LOG, "0378"), 0, "LOG level 3");
	is_int(get_with(MSG_LOG, "0478"), -1, "LOG level 4");
	is_int(get_with(MSG_LOG, "ff78"), -1, "LOG level 255");
	is_int(get_with(MSG_LOG, "00"), -1, "LOG without text");

	/* the senders refuse the same values */
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_ready(&w, &rd) == -1 && w.len == 0, "put READY port 0");
	rd.port = 1;
	rd.families = 4;
	ok(msg_put_ready(&w, &rd) == -1 && w.len == 0, "put READY families 4");
	ok(msg_put_chan_del(&w, &cd) == -1 && w.len == 0, "put CHAN_DEL 0x3fff");
	ok(msg_put_log(&w, &lg) == -1 && w.len == 0, "put LOG level 4");
	lg.level = 1;
	lg.len = 0;
	ok(msg_put_log(&w, &lg) == -1 && w.len == 0, "put LOG empty");
	memset(big, 'a', sizeof(big));
	lg.text = (const uint8_t *)big;
	lg.len = sizeof(big);
	ok(msg_put_log(&w, &lg) == -1 && w.len == 0, "put LOG 513 chars");
	lg.len = MSG_LOG_MAX;
	ok(msg_put_log(&w, &lg) == 0 && w.len == MSG_HDR_LEN + 1 + MSG_LOG_MAX,
	    "put LOG 512 chars");
	buf_w_init(&w, rec, sizeof(rec));
	memset(&ca, 0, sizeof(ca));
	ca.chan = 0x4000;
	ca.peer.family = ADDR_V4;
	ca.peer.port = 1;
	ca.peer.ip[4] = 1;
	ok(msg_put_chan_add(&w, &ca) == -1 && w.len == 0, "put CHAN_ADD v4 tail");
	ca.peer.ip[4] = 0;
	ca.peer.port = 0;
	ok(msg_put_chan_add(&w, &ca) == -1 && w.len == 0, "put CHAN_ADD port 0");
	ca.peer.port = 1;
	ca.peer.family = 5;
	ok(msg_put_chan_add(&w, &ca) == -1 && w.len == 0, "put CHAN_ADD fam 5");
	ok(msg_put_hdr(&w, MSG_NONE, 0) == -1 &&
	    msg_put_hdr(&w, MSG_DATA, MSG_MAX_PAYLOAD + 1) == -1 &&
	    w.len == 0, "put_hdr refuses NONE and oversize");
}

/* --indications: PERM_ADD, PERM_DEL, SEND, PEER_DATA */
static void
test_indications(void)
{
	static uint8_t		 big[MSG_MAX_PAYLOAD];
	struct buf_w		 w;
	struct msg		 m;
	struct msg_perm		 pm, pm2;
	struct msg_pkt		 pk, pk2;
	uint8_t			 want[96];
	size_t			 wl;

	is_int(MSG_PERM_ADD, 8, "PERM_ADD = 8 (appended)");
	is_int(MSG_PEER_DATA, 11, "PEER_DATA = 11");
	is_int(MSG_CONF, 12, "CONF = 12 (appended)");
	is_int(MSG_MAX, 13, "MSG_MAX = 13");

	memset(&pm, 0, sizeof(pm));
	pm.ip.family = ADDR_V4;
	memcpy(pm.ip.ip, "\xc6\x33\x64\x07", 4);
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_perm_add(&w, &pm) == 0, "put PERM_ADD v4");
	wl = tap_unhex("0008000000000014" "04" "00" "0000"
	    "c6336407000000000000000000000000", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "PERM_ADD v4 bytes (20-byte payload)");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_perm_add(&m, &pm2) == 0 && pm2.ip.family == ADDR_V4 &&
	    pm2.ip.port == 0 && memcmp(pm2.ip.ip, pm.ip.ip, 16) == 0,
	    "PERM_ADD round trip");
	ok(msg_get_perm_del(&m, &pm2) == -1, "PERM_DEL getter refuses PERM_ADD");

	memset(&pm, 0, sizeof(pm));
	pm.ip.family = ADDR_V6;
	pm.ip.ip[0] = 0x20;
	pm.ip.ip[1] = 0x01;
	pm.ip.ip[15] = 0x05;
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_perm_del(&w, &pm) == 0, "put PERM_DEL v6");
	wl = tap_unhex("0009000000000014" "06" "00" "0000"
	    "20010000000000000000000000000005", want, sizeof(want));
	is_mem(rec, w.len, want, wl, "PERM_DEL v6 bytes");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_perm_del(&m, &pm2) == 0 && pm2.ip.family == ADDR_V6 &&
	    memcmp(pm2.ip.ip, pm.ip.ip, 16) == 0, "PERM_DEL round trip");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_READY, NULL, &m) == -1,
	    "PERM_DEL from a worker refused");

	memset(&pk, 0, sizeof(pk));
	pk.peer.family = ADDR_V4;
	pk.peer.port = 1234;
	memcpy(pk.peer.ip, "\xc6\x33\x64\x07", 4);
	pk.data = (const uint8_t *)"hello";
	pk.len = 5;
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_send(&w, &pk) == 0, "put SEND");
	wl = tap_unhex("000a000000000019" "04" "00" "04d2"
	    "c6336407000000000000000000000000" "68656c6c6f", want,
	    sizeof(want));
	is_mem(rec, w.len, want, wl, "SEND bytes");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_send(&m, &pk2) == 0 && pk2.peer.family == ADDR_V4 &&
	    pk2.peer.port == 1234 && memcmp(pk2.peer.ip, pk.peer.ip, 16) == 0 &&
	    pk2.len == 5 && pk2.data == rec + MSG_HDR_LEN + 20 &&
	    memcmp(pk2.data, "hello", 5) == 0,
	    "SEND round trip (data points into the record)");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_READY, NULL, &m) == -1,
	    "SEND from a worker refused");

	pk.peer.family = ADDR_V6;
	pk.peer.port = 65535;
	memset(pk.peer.ip, 0xff, 16);
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_peer_data(&w, &pk) == 0, "put PEER_DATA v6");
	wl = tap_unhex("000b000000000019" "06" "00" "ffff"
	    "ffffffffffffffffffffffffffffffff" "68656c6c6f", want,
	    sizeof(want));
	is_mem(rec, w.len, want, wl, "PEER_DATA bytes");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_peer_data(&m, &pk2) == 0 && pk2.peer.family == ADDR_V6 &&
	    pk2.peer.port == 65535 && pk2.len == 5,
	    "PEER_DATA round trip");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_STARTING, NULL, &m) == -1,
	    "PEER_DATA before READY refused");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == -1,
	    "PEER_DATA to a worker refused");

	/* the largest payload fills a record exactly */
	pk.data = big;
	pk.len = MSG_PKT_MAX;
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_peer_data(&w, &pk) == 0 && w.len == MSG_MAX_RECORD,
	    "PEER_DATA of MSG_PKT_MAX (%d) bytes: one full record",
	    MSG_PKT_MAX);
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_get_peer_data(&m, &pk2) == 0 && pk2.len == MSG_PKT_MAX,
	    "... accepted");
	pk.len = MSG_PKT_MAX + 1;
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_peer_data(&w, &pk) == -1 && w.len == 0,
	    "put PEER_DATA one byte over");
	pk.len = 0;
	ok(msg_put_send(&w, &pk) == -1 && w.len == 0, "put SEND empty");
	pk.len = 1;
	pk.peer.port = 0;
	ok(msg_put_send(&w, &pk) == -1 && w.len == 0, "put SEND port 0");
	pk.peer.port = 1;
	pk.peer.family = ADDR_V4;	/* ip[4..] are 0xff */
	ok(msg_put_send(&w, &pk) == -1 && w.len == 0, "put SEND v4 tail");
	pk.peer.family = 0;
	ok(msg_put_send(&w, &pk) == -1 && w.len == 0, "put SEND family 0");
	pm.ip.port = 1;
	ok(msg_put_perm_add(&w, &pm) == -1 && w.len == 0,
	    "put PERM_ADD with a port");
	pm.ip.port = 0;
	pm.ip.family = 5;
	ok(msg_put_perm_add(&w, &pm) == -1 && w.len == 0,
	    "put PERM_ADD family 5");

	/* the getters refuse the same */
	is_int(get_with(MSG_PERM_ADD, "04000000"
	    "c6336407000000000000000000000000"), 0, "PERM_ADD ok");
	is_int(get_with(MSG_PERM_ADD, "04000001"
	    "c6336407000000000000000000000000"), -1, "PERM_ADD port 1");
	is_int(get_with(MSG_PERM_ADD, "04010000"
	    "c6336407000000000000000000000000"), -1, "PERM_ADD reserved u8");
	is_int(get_with(MSG_PERM_DEL, "05000000"
	    "c6336407000000000000000000000000"), -1, "PERM_DEL family 5");
	is_int(get_with(MSG_PERM_DEL, "04000000"
	    "c6336407000000000000000000000100"), -1, "PERM_DEL v4 tail");
	is_int(get_with(MSG_SEND, "040004d2"
	    "c6336407000000000000000000000000"), -1, "SEND without payload");
	is_int(get_with(MSG_SEND, "04000000"
	    "c633640700000000000000000000000078"), -1, "SEND port 0");
	is_int(get_with(MSG_SEND, "04ff04d2"
	    "c633640700000000000000000000000078"), -1, "SEND reserved u8");
	is_int(get_with(MSG_PEER_DATA, "060004d2"
	    "c633640700000000000000000000000178"), 0, "PEER_DATA v6 ok");
	is_int(get_with(MSG_PEER_DATA, "000004d2"
	    "c633640700000000000000000000000078"), -1, "PEER_DATA family 0");
}

/* ---- MSG_CONF ---- */

/* every field used: two allow ranges, one own address */
static void
conf_full(struct msg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->alloc_id = 0x01020304;
	c->ppid = 4242;
	c->port = 49152;
	c->families = ADDR_FAM_V4 | ADDR_FAM_V6;
	c->log_level = 3;
	c->flags = MSG_CONF_F_INDICATIONS;
	c->stats_ms = 10000;
	c->bind4.family = ADDR_V4;
	memcpy(c->bind4.ip, "\xc0\x00\x02\x01", 4);
	c->bind6.family = ADDR_V6;
	memcpy(c->bind6.ip, "\x20\x01\x0d\xb8", 4);
	c->bind6.ip[15] = 1;
	c->filter.allow[0].net.family = ADDR_V4;
	c->filter.allow[0].net.ip[0] = 10;
	c->filter.allow[0].bits = 8;
	c->filter.allow[1].net.family = ADDR_V6;
	c->filter.allow[1].net.ip[0] = 0xfd;
	c->filter.allow[1].net.ip[1] = 0x80;	/* fd80::/9 */
	c->filter.allow[1].bits = 9;
	c->filter.n_allow = 2;
	c->filter.self[0] = c->bind4;
	c->filter.self[0].port = 3478;
	c->filter.n_self = 1;
	c->filter.relay_lo = 49152;
	c->filter.relay_hi = 65535;
	c->filter.host[0] = c->bind4;
	c->filter.host[1] = c->bind6;
	c->filter.n_host = 2;
	c->max_bps = 125000000;		/* 1 Gbit/s */
	c->qdelay_ms = 10;
	c->qgrace_ms = 100;
}

/* put, then check and get: 0 round trip equal, -1 put refused (EINVAL,
 * nothing written), -2 otherwise */
static int
conf_rt(const struct msg_conf *c)
{
	static struct msg_conf	back;
	struct buf_w		w;
	struct msg		m;

	buf_w_init(&w, rec, sizeof(rec));
	errno = 0;
	if (msg_put_conf(&w, c) == -1)
		return errno == EINVAL && w.len == 0 ? -1 : -2;
	if (w.len != MSG_HDR_LEN + MSG_CONF_LEN ||
	    msg_check(rec, w.len, MSG_S2W, MSG_ST_STARTING, NULL, &m) == -1 ||
	    msg_get_conf(&m, &back) == -1)
		return -2;
	return memcmp(c, &back, sizeof(back)) == 0 ? 0 : -2;
}

/* the full configuration's record with payload byte off set to v, then
 * the getter: 0, -1 EBADMSG, -2 otherwise */
static int
conf_patch(size_t off, uint8_t v)
{
	static struct msg_conf	c, back;
	struct buf_w		w;
	struct msg		m;

	conf_full(&c);
	buf_w_init(&w, rec2, sizeof(rec2));
	if (msg_put_conf(&w, &c) == -1 || off >= MSG_CONF_LEN)
		return -2;
	rec2[MSG_HDR_LEN + off] = v;
	if (msg_check(rec2, w.len, MSG_S2W, MSG_ST_STARTING, NULL, &m) == -1)
		return -2;	/* size and state are right: must pass */
	errno = 0;
	if (msg_get_conf(&m, &back) == 0)
		return 0;
	return errno == EBADMSG ? -1 : -2;
}

/* one payload byte of conf_full()'s record changed, and the getter's
 * answer */
static const struct {
	size_t		 off;
	uint8_t		 val;
	int		 want;
	const char	*what;
} conf_patches[] = {
	{ 0, 0xff, 0, "any alloc_id" },
	{ 4, 0x80, -1, "ppid above INT32_MAX" },
	{ 10, 0, -1, "families 0" },
	{ 10, 7, -1, "families 7" },
	{ 11, 4, -1, "log level 4" },
	{ 12, 0x80, -1, "unknown flag" },
	{ 13, 33, -1, "n_allow 33" },
	{ 13, 3, -1, "n_allow over a zero slot" },
	{ 13, 1, -1, "a used slot past n_allow" },
	{ 14, 5, -1, "n_self 5" },
	{ 14, 0, -1, "a used slot past n_self" },
	{ 15, 1, -1, "reserved byte 15" },
	{ 17, 0xff, -1, "stats_ms too large" },
	{ 19, 1, 0, "stats_ms 9985 ok" },
	{ 18, 0, -1, "stats_ms 16 below the minimum" },
	{ 21, 1, -1, "bind4 reserved byte" },
	{ 23, 1, -1, "bind4 port" },
	{ 39, 1, -1, "bind4 bytes after the IPv4" },
	{ 40, 4, -1, "bind6 of family v4" },
	{ 61, 33, -1, "allow v4 /33" },
	{ 61, 7, 0, "allow 10.0.0.0/7 ok" },
	{ 61, 6, -1, "allow 10.0.0.0/6 has a host bit" },
	{ 63, 1, -1, "allow reserved bytes" },
	{ 81, 129, -1, "allow v6 /129" },
	{ 100, 4, -1, "unused allow slot" },
	{ 699, 1, -1, "last unused allow byte" },
	{ 701, 1, -1, "own address reserved byte" },
	{ 702, 0, 0, "own port 0x0096 still ok" },
	{ 719, 1, -1, "own v4 address with a tail" },
	{ 720, 4, -1, "unused own-address slot" },
	{ 779, 1, -1, "last own-address byte" },
	{ 780, 0, -1, "relay_lo 0, relay_hi not" },
	{ 782, 0, -1, "relay_hi below relay_lo" },
	{ 784, 65, -1, "n_host 65" },
	{ 784, 3, -1, "n_host over a zero slot" },
	{ 784, 1, -1, "a used host slot past n_host" },
	{ 785, 1, -1, "host reserved byte" },
	{ 790, 1, -1, "host address with a port" },
	{ 796, 1, -1, "host v4 address with a tail" },
	{ 828, 4, -1, "unused host slot" },
	{ 2067, 1, -1, "last host byte" },
	{ 2068, 0xff, 0, "max_bps: any value" },
	{ 2071, 0, 0, "max_bps 0: no limit" },
	{ 2072, 0xea, 0, "qdelay_ms 59914 ok" },
	{ 2072, 0xeb, -1, "qdelay_ms 60170 too large" },
	{ 2073, 0, 0, "qdelay_ms 0: no age limit" },
	{ 2074, 0xff, -1, "qgrace_ms too large" },
	{ 2075, 0, 0, "qgrace_ms 0: no grace" },
};

static void
test_conf(void)
{
	static struct msg_conf	c, back;
	struct buf_w		w;
	struct msg		m;
	uint8_t			want[128];
	size_t			wl, i;
	uint32_t		once = 0;
	int			zero_slots = 1;

	is_int(MSG_CONF_LEN, 2076, "MSG_CONF payload is 2076 bytes "
	    "(%d allow ranges, %d own addresses, %d host addresses)",
	    PEER_MAX_ALLOW, PEER_MAX_SELF, PEER_MAX_HOST);
	conf_full(&c);
	buf_w_init(&w, rec, sizeof(rec));
	ok(msg_put_conf(&w, &c) == 0 && w.len == MSG_HDR_LEN + MSG_CONF_LEN,
	    "put CONF");
	/* header and the fixed fields, then each used slot */
	wl = tap_unhex("000c00000000081c" "01020304" "00001092" "c000" "03"
	    "03" "01" "02" "01" "00" "00002710"
	    "04000000" "c0000201000000000000000000000000"
	    "06000000" "20010db8000000000000000000000001"
	    "04080000" "0a000000000000000000000000000000"
	    "06090000" "fd800000000000000000000000000000", want,
	    sizeof(want));
	is_mem(rec, wl, want, wl, "CONF bytes: fixed part and allow ranges");
	for (i = MSG_HDR_LEN + 100; i < MSG_HDR_LEN + 700; i++)
		if (rec[i] != 0)
			zero_slots = 0;
	for (i = MSG_HDR_LEN + 720; i < MSG_HDR_LEN + 780; i++)
		if (rec[i] != 0)
			zero_slots = 0;
	for (i = MSG_HDR_LEN + 828; i < MSG_HDR_LEN + 2068; i++)
		if (rec[i] != 0)
			zero_slots = 0;
	ok(zero_slots, "CONF: unused slots are zero bytes");
	wl = tap_unhex("c000" "ffff" "02" "000000"
	    "04000000" "c0000201000000000000000000000000"
	    "06000000" "20010db8000000000000000000000001", want,
	    sizeof(want));
	is_mem(rec + MSG_HDR_LEN + 780, wl, want, wl,
	    "CONF bytes: relay range and host addresses");
	wl = tap_unhex("04000d96" "c0000201000000000000000000000000", want,
	    sizeof(want));
	is_mem(rec + MSG_HDR_LEN + 700, wl, want, wl, "CONF bytes: own address");
	wl = tap_unhex("07735940" "000a" "0064", want, sizeof(want));
	is_mem(rec + MSG_HDR_LEN + 2068, 8, want, wl,
	    "CONF bytes: max_bps (125000000), qdelay_ms (10), qgrace_ms "
	    "(100) last");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_STARTING, &once, &m) == 0 &&
	    msg_get_conf(&m, &back) == 0 &&
	    memcmp(&c, &back, sizeof(c)) == 0, "CONF round trip");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_STARTING, &once, &m) == -1,
	    "CONF: a second one refused");
	ok(msg_check(rec, w.len, MSG_S2W, MSG_ST_READY, NULL, &m) == -1,
	    "CONF: refused after READY");
	ok(msg_check(rec, w.len, MSG_W2S, MSG_ST_STARTING, NULL, &m) == -1,
	    "CONF: refused from a worker");
	m.len = MSG_CONF_LEN - 1;
	ok(msg_get_conf(&m, &back) == -1 && errno == EBADMSG,
	    "CONF getter: one byte short");
	buf_w_init(&w, rec, MSG_HDR_LEN + MSG_CONF_LEN - 1);
	ok(msg_put_conf(&w, &c) == -1 && errno == ENOBUFS,
	    "put CONF into a short buffer fails");

	/* every field at its bounds, through put and get */
	conf_full(&c);
	c.alloc_id = 0xffffffff;
	c.port = 65535;
	c.stats_ms = MSG_CONF_STATS_MAX;
	c.ppid = 0x7fffffff;
	is_int(conf_rt(&c), 0, "CONF: alloc_id, port, stats_ms, ppid at max");
	c.alloc_id = 0;
	c.port = 0;
	c.stats_ms = MSG_CONF_STATS_MIN;
	c.ppid = 0;
	c.log_level = 0;
	c.flags = 0;
	c.families = ADDR_FAM_V6;
	is_int(conf_rt(&c), 0, "CONF: zeros and minimums");
	c.stats_ms = 0;
	memset(&c.bind4, 0, sizeof(c.bind4));
	memset(&c.bind6, 0, sizeof(c.bind6));
	c.filter.n_allow = 0;
	memset(c.filter.allow, 0, sizeof(c.filter.allow));
	c.filter.n_self = 0;
	memset(c.filter.self, 0, sizeof(c.filter.self));
	is_int(conf_rt(&c), 0, "CONF: wildcard binds, empty filter");
	conf_full(&c);
	for (i = 0; i < PEER_MAX_ALLOW; i++) {
		c.filter.allow[i].net.family = ADDR_V4;
		c.filter.allow[i].net.ip[0] = (uint8_t)i;
		c.filter.allow[i].bits = i == 0 ? 0 : 32;
		if (i == 0)
			c.filter.allow[i].net.ip[0] = 0;
	}
	c.filter.allow[1].net.family = ADDR_V6;	/* v6 /128 */
	memset(c.filter.allow[1].net.ip, 0xff, 16);
	c.filter.allow[1].bits = 128;
	c.filter.n_allow = PEER_MAX_ALLOW;
	for (i = 0; i < PEER_MAX_SELF; i++) {
		c.filter.self[i] = c.bind6;
		c.filter.self[i].port = (uint16_t)(1 + i);
	}
	c.filter.n_self = PEER_MAX_SELF;
	is_int(conf_rt(&c), 0, "CONF: every slot used, /0 and /128");

#define BAD(what)	is_int(conf_rt(&c), -1, "put CONF refuses " what); \
			conf_full(&c)
	conf_full(&c);
	c.families = 0;			BAD("families 0");
	c.families = 4;			BAD("families 4");
	c.log_level = 4;		BAD("log level 4");
	c.flags = 0x02;			BAD("an unknown flag");
	c.ppid = 0x80000000u;		BAD("ppid above INT32_MAX");
	c.stats_ms = MSG_CONF_STATS_MIN - 1; BAD("stats_ms below the minimum");
	c.stats_ms = MSG_CONF_STATS_MAX + 1; BAD("stats_ms above the maximum");
	c.filter.n_allow = PEER_MAX_ALLOW + 1; BAD("33 allow ranges");
	c.filter.n_self = PEER_MAX_SELF + 1; BAD("5 own addresses");
	c.bind4.family = ADDR_V6;	BAD("bind4 of family v6");
	c.bind6.family = ADDR_V4;
	memset(c.bind6.ip, 0, 16);	BAD("bind6 of family v4");
	c.bind4.port = 1;		BAD("bind4 with a port");
	c.bind4.ip[4] = 1;		BAD("bind4 with bytes after the IPv4");
	memset(&c.bind4, 0, sizeof(c.bind4));
	c.bind4.ip[0] = 1;		BAD("bind4 family 0 with an address");
	c.filter.allow[0].net.family = 0; BAD("allow range of family 0");
	c.filter.allow[0].net.family = 5; BAD("allow range of family 5");
	c.filter.allow[0].bits = 33;	BAD("allow range v4 /33");
	c.filter.allow[1].bits = 129;	BAD("allow range v6 /129");
	c.filter.allow[0].net.ip[1] = 1; BAD("allow range with host bits");
	c.filter.allow[1].net.ip[1] = 0xc0; BAD("allow range v6 host bit");
	c.filter.allow[0].net.port = 1;	BAD("allow range with a port");
	c.filter.self[0].port = 0;	BAD("own address with port 0");
	c.filter.self[0].family = 0;	BAD("own address of family 0");
	c.filter.self[0].ip[15] = 1;	BAD("own address v4 with a tail");
#undef BAD

	/* the getter: each field patched in a valid record */
	for (i = 0; i < sizeof(conf_patches) / sizeof(conf_patches[0]); i++)
		is_int(conf_patch(conf_patches[i].off, conf_patches[i].val),
		    conf_patches[i].want, "get CONF: %s", conf_patches[i].what);
}

static void
test_data(void)
{
	static uint8_t	big[MSG_MAX_PAYLOAD];
	struct buf_w	w;
	struct buf_r	r;
	struct msg	m;
	uint16_t	chan;
	const uint8_t	*p;
	size_t		len, n, frames;
	uint8_t		want[64];
	size_t		wl;
	int		rv;

	buf_w_init(&w, rec, sizeof(rec));
	msg_data_begin(&w);
	is_int(msg_data_end(&w), 0, "empty batch: end returns 0");
	ok(msg_data_add(&w, 0x4000, (const uint8_t *)"ab", 2) == 0 &&
	    msg_data_add(&w, 0x4fff, NULL, 0) == 0 &&
	    msg_data_add(&w, 0x4123, (const uint8_t *)"xyz", 3) == 0,
	    "three frames added");
	n = msg_data_end(&w);
	wl = tap_unhex("0005000000000011" "40000002" "6162" "4fff0000"
	    "41230003" "78797a", want, sizeof(want));
	is_mem(rec, n, want, wl, "batch bytes (unpadded frames)");
	ok(msg_check(rec, n, MSG_S2W, MSG_ST_READY, NULL, &m) == 0 &&
	    msg_check(rec, n, MSG_W2S, MSG_ST_READY, NULL, &m) == 0,
	    "batch passes msg_check both ways");
	buf_r_init(&r, m.payload, m.len);
	ok(msg_data_next(&r, &chan, &p, &len) == 1 && chan == 0x4000 &&
	    len == 2 && memcmp(p, "ab", 2) == 0, "frame 1");
	ok(msg_data_next(&r, &chan, &p, &len) == 1 && chan == 0x4fff &&
	    len == 0, "frame 2 (empty)");
	ok(msg_data_next(&r, &chan, &p, &len) == 1 && chan == 0x4123 &&
	    len == 3 && memcmp(p, "xyz", 3) == 0, "frame 3");
	is_int(msg_data_next(&r, &chan, &p, &len), 0, "end of batch");

	errno = 0;
	ok(msg_data_add(&w, 0x3fff, (const uint8_t *)"a", 1) == -1 &&
	    errno == EMSGSIZE, "add: channel out of range");
	ok(msg_data_add(&w, 0x4000, big, MSG_MAX_PAYLOAD - 3) == -1 &&
	    errno == EMSGSIZE, "add: frame that can never fit");

	/* fill a record exactly, then one more frame does not fit */
	msg_data_begin(&w);
	ok(msg_data_add(&w, 0x4000, big, MSG_MAX_PAYLOAD - 4) == 0,
	    "add: largest frame fits an empty record");
	errno = 0;
	ok(msg_data_add(&w, 0x4000, NULL, 0) == -1 && errno == ENOBUFS,
	    "add: full record refuses");
	n = msg_data_end(&w);
	ok(n == MSG_MAX_RECORD &&
	    check(rec, n, MSG_S2W, MSG_ST_READY, NULL) == 0,
	    "full record is valid");

	/* many small frames until full */
	msg_data_begin(&w);
	frames = 0;
	while (msg_data_add(&w, 0x4000 + (frames & 0xfff), big, 100) == 0 &&
	    frames < 100000)
		frames++;
	n = msg_data_end(&w);
	ok(frames == MSG_MAX_PAYLOAD / 104 && n <= MSG_MAX_RECORD,
	    "batch of %zu frames of 100 bytes", frames);
	ok(msg_check(rec, n, MSG_W2S, MSG_ST_READY, NULL, &m) == 0,
	    "many-frame batch valid");
	buf_r_init(&r, m.payload, m.len);
	len = 0;
	while ((rv = msg_data_next(&r, &chan, &p, &len)) == 1 && len == 100)
		frames--;
	ok(rv == 0 && frames == 0, "iterated every frame");

	/* a small writer: full after the header */
	buf_w_init(&w, rec, 12);
	msg_data_begin(&w);
	ok(msg_data_add(&w, 0x4000, big, 1) == -1 && errno == ENOBUFS,
	    "small writer: frame does not fit");

	/* malformed batches */
	n = mkrec(rec, MSG_DATA, (const uint8_t *)"\x40\x00\x00\x05" "abcd", 8);
	is_int(check(rec, n, MSG_S2W, MSG_ST_READY, NULL), -1,
	    "frame overruns the record");
	n = mkrec(rec, MSG_DATA, (const uint8_t *)"\x40\x00\x00\x01" "abc", 7);
	is_int(check(rec, n, MSG_S2W, MSG_ST_READY, NULL), -1,
	    "leftover partial frame header");
	n = mkrec(rec, MSG_DATA, (const uint8_t *)"\x00\x01\x00\x00", 4);
	is_int(check(rec, n, MSG_S2W, MSG_ST_READY, NULL), -1,
	    "frame on channel 0x0001");
	n = mkrec(rec, MSG_DATA, (const uint8_t *)"\x40\x00\x00\x00"
	    "\x50\x00\x00\x00", 8);
	is_int(check(rec, n, MSG_S2W, MSG_ST_READY, NULL), -1,
	    "second frame on channel 0x5000");
	n = mkrec(rec, MSG_DATA, NULL, 0);
	is_int(check(rec, n, MSG_S2W, MSG_ST_READY, NULL), -1,
	    "zero frames");
	buf_r_init(&r, "\x40\x00\x00\x09" "ab", 6);
	is_int(msg_data_next(&r, &chan, &p, &len), -1,
	    "iterator: overrun is -1");
	is_int(msg_data_next(&r, &chan, &p, &len), -1,
	    "iterator: stays failed");
}

/*
 * Mutations over valid records: every single-bit flip, a bounded set of
 * two-bit flips, truncation at the start and at the end. Each result must
 * be a clean accept (and then the typed getter answers 0 or -1 EBADMSG)
 * or a clean reject with EBADMSG; ASan and UBSan catch the rest.
 */
struct mut_stats {
	unsigned long	 runs, accepted, bad;
};

static void
mut_one(const uint8_t *r, size_t n, struct mut_stats *ms)
{
	static const int dirs[] = { MSG_S2W, MSG_W2S };
	static const int states[] = { MSG_ST_STARTING, MSG_ST_READY };
	struct msg	 m;
	uint32_t	 once;
	size_t		 i, j;
	int		 rv;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			once = 0;
			errno = 0;
			ms->runs++;
			rv = msg_check(r, n, dirs[i], states[j], &once, &m);
			if (rv == -1 && errno == EBADMSG)
				continue;
			if (rv != 0 || m.payload != r + MSG_HDR_LEN ||
			    m.len != n - MSG_HDR_LEN) {
				ms->bad++;
				continue;
			}
			ms->accepted++;
			errno = 0;
			rv = get_any(&m);
			if (rv != 0 && rv != 1 && !(rv == -1 &&
			    (errno == EBADMSG || m.type == MSG_DATA)))
				ms->bad++;
		}
}

static void
test_mutations(void)
{
	uint8_t			 p[MSG_CONF_LEN], *copy;
	struct mut_stats	 ms = { 0, 0, 0 };
	size_t			 n, plen, i, j, bits, nrec = 0;
	enum msg_type		 t;
	struct buf_w		 w;
	unsigned long		 flips2 = 0;

	for (t = MSG_READY; t < MSG_MAX; t++) {
		if (t == MSG_UNUSED_2)
			continue;
		plen = valid_payload(t, p);
		n = mkrec(rec2, t, p, plen);
		bits = n * 8;
		copy = malloc(n);
		if (copy == NULL)
			break;
		nrec++;
		/* 1-bit flips */
		for (i = 0; i < bits; i++) {
			memcpy(copy, rec2, n);
			copy[i / 8] ^= 1u << (i % 8);
			mut_one(copy, n, &ms);
		}
		/* 2-bit flips, every pair for short records, bounded */
		for (i = 0; i < bits && flips2 < 200000; i++)
			for (j = i + 1; j < bits; j += 1 + bits / 64) {
				memcpy(copy, rec2, n);
				copy[i / 8] ^= 1u << (i % 8);
				copy[j / 8] ^= 1u << (j % 8);
				mut_one(copy, n, &ms);
				flips2++;
			}
		/* truncation at the end and at the start */
		for (i = 0; i < n; i++) {
			mut_one(rec2, i, &ms);
			memcpy(copy, rec2 + i, n - i);
			mut_one(copy, n - i, &ms);
		}
		free(copy);
	}
	/* a multi-frame batch too */
	buf_w_init(&w, rec2, 64);
	msg_data_begin(&w);
	msg_data_add(&w, 0x4000, (const uint8_t *)"abc", 3);
	msg_data_add(&w, 0x4001, (const uint8_t *)"de", 2);
	n = msg_data_end(&w);
	for (i = 0; i < n * 8; i++) {
		memcpy(rec, rec2, n);
		rec[i / 8] ^= 1u << (i % 8);
		mut_one(rec, n, &ms);
	}
	for (i = 0; i < n; i++)
		mut_one(rec2, i, &ms);

	ok(nrec == MSG_MAX - 2, "mutated a valid record of every type");
	ok(ms.runs > 100000, "mutation runs: %lu (%lu two-bit flips)",
	    ms.runs, flips2);
	ok(ms.accepted > 0 && ms.accepted < ms.runs,
	    "some mutants accepted (%lu), most refused", ms.accepted);
	is_int((long long)ms.bad, 0, "every mutant cleanly accepted or refused");
}

int
main(void)
{
	enum msg_type	t;

	test_header();
	for (t = MSG_READY; t < MSG_MAX; t++)
		if (t != MSG_UNUSED_2)
			test_rule(t);
	test_roundtrip();
	test_bad_fields();
	test_indications();
	test_conf();
	test_data();
	test_mutations();
	return done_testing();
}
