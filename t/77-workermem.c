/*
 * 77-workermem.c: a flood of the largest datagrams a peer can send to a
 * relay port must not grow a worker by megabytes (issue 11, item 2): the
 * worker's receive buffers are bounded, and the data it relays still
 * arrives.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define BIG		60000	/* bytes per datagram */
#define FLOOD		2000	/* datagrams */
#define GROWTH_MAX_KB	1024	/* was 2 MiB of receive buffers */

int
main(void)
{
	struct tu_relay		r;
	struct tu_client	c;
	struct taddr		peer;
	static uint8_t		big[BIG], in[BIG + 64];
	long			rss0, rss1, n;
	uint16_t		chan;
	pid_t			w;
	int			pfd, i, got = 0;

	tu_init(60);
	tu_need("bin/turncell", NULL);
	if (tu_relay_client(&r, &c) == -1)
		return done_testing();
	pfd = tu_udp_bind(ADDR_V4, 0);
	tu_sock_addr(pfd, &peer);
	(void)tu_rcvbuf(c.fd, 8 << 20);
	ok(tu_allocate(&c, -1, 0, 0) == 0 &&
	    tu_chanbind(&c, 0x4000, &peer) == 0, "allocation and channel");
	w = tu_new_worker(&r, NULL, 0, 2000);
	rss0 = tu_proc_rss_kb(w);
	memset(big, 0x5a, sizeof(big));
	for (i = 0; i < FLOOD; i++) {
		(void)tu_sendto(pfd, &c.relayed[0], big, sizeof(big));
		if (i % 50 == 49) {
			while ((n = tu_cdata_recv(&c, &chan, in, sizeof(in),
			    0)) > 0)
				got += n == BIG;
			tu_sleep_ms(2);
		}
	}
	while ((n = tu_cdata_recv(&c, &chan, in, sizeof(in), 300)) > 0)
		got += n == BIG;
	rss1 = tu_proc_rss_kb(w);
	diag("worker %d: VmRSS %ld kB -> %ld kB; %d of %d relayed whole",
	    (int)w, rss0, rss1, got, FLOOD);
	ok(got > 0, "large datagrams are still relayed whole (%d)", got);
	ok(rss0 > 0 && rss1 > 0 && rss1 - rss0 < GROWTH_MAX_KB,
	    "worker grew by %ld kB (< %d kB) under %d x %d-byte datagrams",
	    rss1 - rss0, GROWTH_MAX_KB, FLOOD, BIG);
	close(pfd);
	tu_client_close(&c);
	tu_relay_stop(&r);
	return done_testing();
}
