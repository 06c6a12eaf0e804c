/*
 * 73-logblock.c: a log reader that stops reading never stalls the relay.
 * bin/turncell runs with its stderr on a pipe this test never reads and
 * --log-level debug, so every request logs a line; once the pipe is full
 * the relay must keep answering, drop lines and count them in /metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

#define REQUESTS	3000	/* ~150-byte debug lines: far over 64 KiB */

static char	body[TP_BODY_MAX];

/* a Binding answered within timeout_ms */
static int
binding(int fd, const struct taddr *to, int timeout_ms)
{
	uint8_t		req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4,
			    0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t		buf[256];
	struct taddr	from;

	if (tu_sendto(fd, to, req, sizeof(req)) == -1)
		return 0;
	while (tu_recvfrom(fd, buf, sizeof(buf), timeout_ms, &from) > 0)
		if (buf[0] == 0x01 && buf[1] == 0x01 &&
		    memcmp(buf + 8, req + 8, 12) == 0)
			return 1;
	return 0;
}

static struct taddr	relay_addr;

static int
answers(void *arg)
{
	return binding(*(int *)arg, &relay_addr, 200);
}

int
main(void)
{
	uint8_t			 req[28] = { 0x00, 0x03, 0x00, 0x08, 0x21,
				    0x12, 0xa4, 0x42 };
	struct tu_relay_opts	 o;
	struct tu_relay		 r;
	uint16_t		 hport;
	const char		*m;
	int			 pfd[2], fd, i, answered;
	long long		 dropped = -1;

	tu_init(40);
	tu_need("bin/turncell", NULL);
	if (pipe(pfd) == -1) {
		ok(0, "pipe");
		return done_testing();
	}
	memset(&o, 0, sizeof(o));
	o.nports = 4;
	o.health = "127.0.0.1:0";
	o.log_level = "debug";
	o.extra[0] = "--unauth-rate";
	o.extra[1] = "0";
	o.extra[2] = "--unauth-global-rate";
	o.extra[3] = "0";
	o.err_fd = pfd[1];	/* the log: a pipe nobody reads */
	if (!ok(tu_relay_start(&r, &o) == 0,
	    "relay up, its stderr a pipe nobody reads"))
		return done_testing();
	close(pfd[1]);
	hport = r.health_port;
	fd = tu_udp_bind(ADDR_V4, 0);
	relay_addr = r.addr4;
	/* every one of these logs a debug line (its 401) */
	req[20] = 0x00; req[21] = 0x19; req[22] = 0x00; req[23] = 0x04;
	req[24] = 17;
	for (i = 0; i < REQUESTS; i++) {
		req[8] = (uint8_t)i;
		req[9] = (uint8_t)(i >> 8);
		tu_sendto(fd, &r.addr4, req, sizeof(req));
		if (i % 200 == 199)
			tu_sleep_ms(5);		/* paced, not a wait */
	}
	/* a relay blocked on its log would never answer again */
	tu_wait_for(answers, &fd, 5000);
	answered = 0;
	for (i = 0; i < 5; i++)
		answered += binding(fd, &r.addr4, 1000);
	is_int(answered, 5, "after %d logged requests with the log pipe full, "
	    "5 of 5 Bindings answered within 1 s", REQUESTS);
	if (tp_http(hport, "GET", "/metrics", NULL, 0, body, sizeof(body),
	    2000) == 200 && (m = strstr(body, "\nturncell_log_dropped_total "))
	    != NULL)
		dropped = strtoll(m + 28, NULL, 10);
	ok(dropped > 0, "/metrics: turncell_log_dropped_total %lld", dropped);
	close(fd);
	tu_relay_stop(&r);
	close(pfd[0]);
	return done_testing();
}
