/*
 * 66-classic.c: an RFC 3489 client against the real bin/turncell: a
 * Binding request without the magic cookie, sent from a plain UDP socket
 * over IPv4 and IPv6, gets a Binding success with its 16-byte id echoed
 * and a plain MAPPED-ADDRESS equal to the socket's own address; one with
 * RESPONSE-ADDRESS gets nothing (not here, not at the address it names);
 * a burst beyond --binding-rate gets only the budget's answers.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "tap.h"
#include "tutil.h"

#define RATE		5

static struct tu_relay	relay;

static size_t
classic_req(uint8_t *p, uint8_t id0, const uint8_t *attrs, size_t alen)
{
	size_t	i;

	p[0] = 0x00;
	p[1] = 0x01;			/* Binding Request */
	p[2] = (uint8_t)(alen >> 8);
	p[3] = (uint8_t)alen;
	for (i = 0; i < 16; i++)
		p[4 + i] = (uint8_t)(id0 + i);
	if (alen > 0)
		memcpy(p + 20, attrs, alen);
	return 20 + alen;
}

/* parse a classic Binding success for request id id0; 0 with *mapped */
static int
classic_resp(const uint8_t *b, long n, uint8_t id0, struct taddr *mapped)
{
	size_t	i, iplen;

	if (n < 32 || b[0] != 0x01 || b[1] != 0x01 ||
	    (long)(((size_t)b[2] << 8 | b[3]) + 20) != n)
		return -1;
	for (i = 0; i < 16; i++)
		if (b[4 + i] != (uint8_t)(id0 + i))
			return -1;
	if (b[20] != 0x00 || b[21] != 0x01)	/* MAPPED-ADDRESS first */
		return -1;
	memset(mapped, 0, sizeof(*mapped));
	if (b[25] == 0x01) {
		mapped->family = ADDR_V4;
		iplen = 4;
	} else if (b[25] == 0x02) {
		mapped->family = ADDR_V6;
		iplen = 16;
	} else
		return -1;
	if (b[22] != 0 || b[23] != 4 + iplen ||
	    n != (long)(28 + iplen))
		return -1;
	mapped->port = (uint16_t)(b[26] << 8 | b[27]);
	memcpy(mapped->ip, b + 28, iplen);
	return 0;
}

static void
one_family(int family, const struct taddr *server, const char *name)
{
	uint8_t		req[64], buf[256];
	struct taddr	local, from, mapped;
	long		n;
	int		fd;
	size_t		len;

	if ((fd = tu_udp_bind(family, 0)) == -1 ||
	    tu_sock_addr(fd, &local) == -1) {
		ok(0, "%s: a UDP socket", name);
		return;
	}
	len = classic_req(req, 0x31, NULL, 0);
	tu_sendto(fd, server, req, len);
	n = tu_recvfrom(fd, buf, sizeof(buf), TU_TIMEOUT_MS, &from);
	ok(n > 0 && classic_resp(buf, n, 0x31, &mapped) == 0,
	    "%s: a classic Binding success (%ld bytes), the id echoed, "
	    "MAPPED-ADDRESS first", name, n);
	ok(n > 0 && addr_eq(&mapped, &local),
	    "%s: MAPPED-ADDRESS is the client's address", name);
	ok(n > 0 && addr_eq(&from, server), "%s: from the listen address",
	    name);
	close(fd);
}

int
main(void)
{
	struct tu_relay_opts	o;
	uint8_t			req[64], buf[256], resp_addr[12];
	struct taddr		local, target, from, mapped;
	char			rate[16];
	long			n;
	int			fd, tfd, i, answers;
	size_t			len;

	tu_init(30);
	tu_need("bin/turncell", NULL);
	memset(&o, 0, sizeof(o));
	o.v6 = tu_have_ipv6();
	snprintf(rate, sizeof(rate), "%d", RATE);
	o.extra[0] = "--binding-rate";
	o.extra[1] = rate;
	if (!ok(tu_relay_start(&relay, &o) == 0, "relay started"))
		return done_testing();

	one_family(ADDR_V4, &relay.addr4, "IPv4");
	if (o.v6)
		one_family(ADDR_V6, &relay.addr6, "IPv6");
	else
		skip(3, "no IPv6 loopback");

	/* RESPONSE-ADDRESS naming another socket of ours: no answer there
	 * nor here */
	fd = tu_udp_bind(ADDR_V4, 0);
	tfd = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(fd, &local);
	tu_sock_addr(tfd, &target);
	resp_addr[0] = 0x00;
	resp_addr[1] = 0x02;
	resp_addr[2] = 0x00;
	resp_addr[3] = 0x08;
	resp_addr[4] = 0x00;
	resp_addr[5] = 0x01;
	resp_addr[6] = (uint8_t)(target.port >> 8);
	resp_addr[7] = (uint8_t)target.port;
	memcpy(resp_addr + 8, target.ip, 4);
	len = classic_req(req, 0x51, resp_addr, sizeof(resp_addr));
	tu_sendto(fd, &relay.addr4, req, len);
	ok(tu_recvfrom(fd, buf, sizeof(buf), 500, &from) < 0,
	    "RESPONSE-ADDRESS: no answer to the sender");
	ok(tu_recvfrom(tfd, buf, sizeof(buf), 100, &from) < 0,
	    "RESPONSE-ADDRESS: no answer to the address it names");
	close(tfd);

	/* a burst: only the Binding budget's answers (it refills at RATE/s
	 * from empty after the first second's RATE) */
	tu_sleep_ms(1100);
	len = classic_req(req, 0x71, NULL, 0);
	for (i = 0; i < 4 * RATE; i++)
		tu_sendto(fd, &relay.addr4, req, len);
	answers = 0;
	while ((n = tu_recvfrom(fd, buf, sizeof(buf), 300, &from)) > 0)
		answers += classic_resp(buf, n, 0x71, &mapped) == 0 &&
		    addr_eq(&mapped, &local);
	ok(answers >= RATE && answers <= RATE + 1, "%d classic Bindings at "
	    "once with --binding-rate %d: %d answered", 4 * RATE, RATE,
	    answers);
	close(fd);

	ok(tu_relay_alive(&relay), "the relay is still running");
	if (tap_failed())
		tu_log_dump(&relay, 30);
	tu_relay_stop(&relay);
	return done_testing();
}
