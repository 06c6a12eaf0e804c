/*
 * 77-workermem.c: the memory of one worker.
 *
 *  - Relaying small datagrams both ways, a worker's own memory (its
 *    anonymous pages, copies of its data included: what each allocation
 *    costs; its code is shared with every other worker) stays under
 *    PRIVATE_MAX_KB: the
 *    worker is linked statically, touches only the pages of its buffers
 *    it uses, and its channel table is a mapping of its own (some 180 KiB
 *    when it was linked dynamically and cleared its tables).
 *  - A flood of the largest datagrams a peer can send to a relay port
 *    must not grow it by megabytes (issue 11, item 2): its receive
 *    buffers are bounded (8 x 64 KiB), and the data it relays still
 *    arrives.
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
#define GROWTH_MAX_KB	768	/* 512 KiB of receive buffers; was 2 MiB */
#define PRIVATE_MAX_KB	150	/* about 115 KiB measured */
#define SMALL		10	/* small datagrams each way first */

int
main(void)
{
	struct tu_relay		r;
	struct tu_client	c;
	struct taddr		peer;
	static uint8_t		big[BIG], in[BIG + 64];
	long			rss0, rss1, priv, n;
	uint16_t		chan;
	pid_t			w;
	int			pfd, i, got = 0, small = 0;

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
	/* both directions once over, so their buffers are in use */
	for (i = 0; i < SMALL; i++) {
		(void)tu_cdata_send(&c, 0x4000, big, 100);
		if (tu_recvfrom(pfd, in, sizeof(in), 2000, NULL) == 100)
			small++;
		(void)tu_sendto(pfd, &c.relayed[0], big, 100);
		if (tu_cdata_recv(&c, &chan, in, sizeof(in), 2000) == 100)
			small++;
	}
	is_int(small, 2 * SMALL, "small datagrams relayed both ways");
	priv = tu_proc_anon_kb(w);
	diag("worker %d: anonymous memory %ld kB relaying small datagrams",
	    (int)w, priv);
	if (!tu_sandboxed())
		skip(1, "ASan build: the sanitizer's shadow memory is private");
	else
		ok(priv > 0 && priv < PRIVATE_MAX_KB,
		    "worker's anonymous memory %ld kB (< %d kB)", priv,
		    PRIVATE_MAX_KB);
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
