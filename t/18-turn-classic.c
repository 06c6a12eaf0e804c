/*
 * 18-turn-classic: RFC 3489 clients. A Binding request without the magic
 * cookie gets a Binding success with its 16-byte transaction id echoed
 * and a plain MAPPED-ADDRESS (byte-exact, IPv4 and IPv6), charged to the
 * Binding budget shared with RFC 8489 Binding requests; RESPONSE-ADDRESS,
 * CHANGE-REQUEST asking for a change and every framing error get nothing.
 * RFC 8489 Binding is unchanged (XOR-MAPPED-ADDRESS).
 *
 * Built on the engine harness (t/tengine.h): datagrams in, commands out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "stun.h"
#include "turn.h"
#include "tap.h"
#include "tengine.h"

/* a classic Binding request: type, length, 16-byte id, attributes */
static size_t
classic_req(uint8_t *p, uint16_t type, const uint8_t *attrs, size_t alen)
{
	size_t	i;

	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = (uint8_t)(alen >> 8);
	p[3] = (uint8_t)alen;
	for (i = 0; i < 16; i++)
		p[4 + i] = (uint8_t)(0xa0 + i);		/* not the cookie */
	if (alen > 0)
		memcpy(p + 20, attrs, alen);
	return 20 + alen;
}

/* exactly one SEND to `to`, byte for byte `want` */
static void
expect_bytes(const struct taddr *to, const uint8_t *want, size_t wlen,
    const char *what)
{
	int	good;

	good = te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND &&
	    te_same_addr(&te_recs[0].c.addr, to) &&
	    te_recs[0].c.len == wlen &&
	    memcmp(te_recs[0].c.data, want, wlen) == 0;
	ok(good, "%s", what);
	if (!good)
		te_dump_cmds();
}

static void
test_answers(void)
{
	static const uint8_t	want4[] = {
		0x01, 0x01, 0x00, 0x0c,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x9c, 0x41,
		198, 51, 100, 7
	};
	static const uint8_t	want6[] = {
		0x01, 0x01, 0x00, 0x18,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0x00, 0x01, 0x00, 0x14, 0x00, 0x02, 0x9c, 0x42,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07
	};
	static const uint8_t	change0[] = { 0x00, 0x03, 0x00, 0x04,
				    0, 0, 0, 0 };
	static const uint8_t	change_ip[] = { 0x00, 0x03, 0x00, 0x04,
				    0, 0, 0, 4 };
	static const uint8_t	change_port[] = { 0x00, 0x03, 0x00, 0x04,
				    0, 0, 0, 2 };
	static const uint8_t	resp_addr[] = { 0x00, 0x02, 0x00, 0x08,
				    0, 1, 0x0d, 0x3d, 192, 0, 2, 1 };
	static const uint8_t	user[] = { 0x00, 0x06, 0x00, 0x04,
				    'a', 'b', 'c', 'd' };
	static const uint8_t	overrun[] = { 0x00, 0x06, 0x00, 0x08,
				    'a', 'b', 'c', 'd' };
	static const struct {
		const uint8_t	*a;
		size_t		 len;
		int		 bad_len;
		const char	*what;
	} refused[] = {
		{ change_ip, sizeof(change_ip), 0,
		    "CHANGE-REQUEST change IP: no answer" },
		{ change_port, sizeof(change_port), 0,
		    "CHANGE-REQUEST change port: no answer" },
		{ resp_addr, sizeof(resp_addr), 0,
		    "RESPONSE-ADDRESS: no answer, to anyone" },
		{ overrun, sizeof(overrun), 0,
		    "attribute longer than the message: no answer" },
		{ user, sizeof(user), 1,
		    "length field not the datagram's: no answer" },
	};
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 c4 = te_addr("198.51.100.7", 40001);
	struct taddr		 c6 = te_addr("2001:db8::7", 40002);
	struct ts_req		 r;
	uint8_t			 p[128];
	size_t			 n;
	const uint8_t		*d;
	size_t			 dlen, i;

	te_conf_init(&conf);
	t = te_start(&conf);

	n = classic_req(p, 0x0001, NULL, 0);
	te_input_raw(t, p, n, &c4);
	expect_bytes(&c4, want4, sizeof(want4), "IPv4: 0x0101, the 16-byte "
	    "id echoed, MAPPED-ADDRESS 198.51.100.7:40001, nothing else");
	ok(te_recs[0].c.len <= 3 * n, "reflection: %zu bytes for %zu",
	    te_recs[0].c.len, n);
	ok(te_hook.method == STUN_BINDING && te_hook.cls == STUN_SUCCESS,
	    "counted as a Binding success");
	te_input_raw(t, p, n, &c6);
	expect_bytes(&c6, want6, sizeof(want6), "IPv6: MAPPED-ADDRESS "
	    "family 2, [2001:db8::7]:40002");

	n = classic_req(p, 0x0001, change0, sizeof(change0));
	te_input_raw(t, p, n, &c4);
	ok(te_nrecs == 1 && te_recs[0].c.len == sizeof(want4) &&
	    memcmp(te_recs[0].c.data + 20, want4 + 20, 12) == 0,
	    "CHANGE-REQUEST without flags: answered");
	n = classic_req(p, 0x0001, user, sizeof(user));
	te_input_raw(t, p, n, &c4);
	ok(te_nrecs == 1 && te_recs[0].c.len == sizeof(want4),
	    "USERNAME (ignored): answered");

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		n = classic_req(p, 0x0001, refused[i].a, refused[i].len);
		if (refused[i].bad_len)
			p[3] = 4;		/* the length field lies */
		te_input_raw(t, p, n, &c4);
		te_expect_none(refused[i].what);
	}
	te_input_raw(t, p, 19, &c4);
	te_expect_none("19 bytes: no answer");
	n = classic_req(p, 0x0002, NULL, 0);	/* Shared Secret Request */
	te_input_raw(t, p, n, &c4);
	te_expect_none("classic Shared Secret request: no answer");
	n = classic_req(p, 0x0111, NULL, 0);	/* a classic error response */
	te_input_raw(t, p, n, &c4);
	te_expect_none("classic response: no answer");

	/* RFC 8489 Binding: XOR-MAPPED-ADDRESS as before */
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &c4);
	d = te_resp_data(0, &dlen);
	ok(te_nrecs == 1 && d != NULL && dlen == 32 &&
	    d[20] == 0x00 && d[21] == 0x20,
	    "RFC 8489 Binding: XOR-MAPPED-ADDRESS, as before");
	turn_free(t);
}

/* classic and RFC 8489 Binding share one budget (attack case 41) */
static void
test_budget(void)
{
	struct turn_conf	 conf;
	struct turn		*t;
	struct taddr		 a;
	struct turn_stats	 st0, st1;
	struct ts_req		 r;
	uint8_t			 p[32];
	size_t			 n;
	unsigned		 sends = 0;
	int			 i;

	te_conf_init(&conf);
	conf.binding_per_ip_per_s = 5;
	t = te_start(&conf);
	turn_get_stats(t, &st0);
	n = classic_req(p, 0x0001, NULL, 0);
	for (i = 0; i < 10; i++) {
		a = te_addr("198.51.100.7", (uint16_t)(2000 + i));
		te_now = TE_T0 + (uint64_t)i;
		te_input_raw(t, p, n, &a);
		sends += te_nrecs == 1 && te_recs[0].c.type == TURN_CMD_SEND;
	}
	is_int(sends, 5, "10 classic Bindings in one second from one IP -> "
	    "5 answers");
	turn_get_stats(t, &st1);
	is_int((long long)(st1.capped_binding - st0.capped_binding), 5,
	    "the 5 suppressed count in stats.capped_binding");
	ts_req_init(&r, M_BINDING, C_REQ);
	te_input(t, &r, &a);
	te_expect_none("an RFC 8489 Binding from that IP: same budget, spent");
	a = te_addr("198.51.100.8", 2000);
	te_input_raw(t, p, n, &a);
	ok(te_nrecs == 1, "another IP: answered");
	te_now = TE_T0 + 2 * TE_SEC;
	a = te_addr("198.51.100.7", 3000);
	te_input_raw(t, p, n, &a);
	ok(te_nrecs == 1, "two seconds later: answered again");
	turn_free(t);
	te_now = TE_T0;
}

int
main(void)
{
	te_creds();
	test_answers();
	test_budget();
	return done_testing();
}
