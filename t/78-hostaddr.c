/*
 * 78-hostaddr.c: the relay host is not reachable through the relay
 * (issue 11, item 1; attack case 7). In a network namespace this test
 * creates, the host gets a second, public-looking address (1.2.3.4 on
 * its loopback) with a canary UDP service on port 5353. A client may not
 * bind a channel to it, nor to the relay's listen port on it (a TURN
 * loop), and the canary must receive nothing; the relay's own relay
 * ports on that address stay open (hairpin). The --allow-peer range the
 * test needs for 127.0.0.1 is named in a WARN.
 */
#define _GNU_SOURCE		/* unshare */
#include <sys/socket.h>
#include <sys/wait.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define HOST_IP		"1.2.3.4"
#define CANARY_PORT	5353

int
main(void)
{
	struct tu_relay_opts	o;
	struct tu_relay		r;
	struct tu_client	c;
	struct taddr		canary, loop_nest, hairpin, from;
	uint8_t			buf[64];
	int			cfd, st, got = 0, i;

	tu_init(40);
	if (geteuid() != 0)
		skip_all("needs root for a network namespace");
	if (unshare(CLONE_NEWNET) == -1)
		skip_all("cannot create a network namespace");
	st = system("ip link set lo up && ip addr add " HOST_IP "/32 dev lo");
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		ok(0, "namespace with a second host address");
		return done_testing();
	}
	memset(&canary, 0, sizeof(canary));
	addr_parse_ip(HOST_IP, &canary);
	canary.port = CANARY_PORT;
	if ((cfd = tu_udp_bind_addr(&canary)) == -1) {
		ok(0, "canary on " HOST_IP ":%d", CANARY_PORT);
		return done_testing();
	}
	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	if (!ok(tu_relay_start(&r, &o) == 0, "relay in the namespace") ||
	    tu_client_open(&c, &r, ADDR_V4) == -1)
		return done_testing();
	ok(tu_log_wait(&r, 0, "--allow-peer exposes", 1000) &&
	    tu_log_count(&r, 0, "127.0.0.1") > 0,
	    "a WARN names the host address --allow-peer 127.0.0.0/8 exposes");
	is_int(tu_allocate(&c, -1, 0, 0), 0, "an allocation");
	is_int(tu_chanbind(&c, 0x4000, &canary), STUN_ERR_FORBIDDEN,
	    "ChannelBind to " HOST_IP ":%d (a service of the host) -> 403",
	    CANARY_PORT);
	loop_nest = canary;
	loop_nest.port = r.port;
	is_int(tu_chanbind(&c, 0x4001, &loop_nest), STUN_ERR_FORBIDDEN,
	    "ChannelBind to the listen port on " HOST_IP " (a TURN loop) "
	    "-> 403");
	hairpin = canary;
	hairpin.port = r.lo;
	is_int(tu_chanbind(&c, 0x4002, &hairpin), 0,
	    "ChannelBind to a relay port on " HOST_IP " (hairpin) -> ok");
	for (i = 0; i < 5; i++)
		(void)tu_cdata_send(&c, 0x4000, "canary?", 7);
	while (tu_recvfrom(cfd, buf, sizeof(buf), 300, &from) > 0)
		got++;
	is_int(got, 0, "the canary received nothing");
	ok(tu_relay_alive(&r), "the relay is still running");
	if (tap_failed())
		tu_log_dump(&r, 20);
	close(cfd);
	tu_client_close(&c);
	tu_relay_stop(&r);
	return done_testing();
}
