/*
 * fuzz_phx.c: libFuzzer harness for the portal protocol core
 * (common/phx.c, phx_rx.c), what a hostile or broken portal controls.
 *
 * Two modes, chosen by the low bit of the first byte:
 *   0: the rest of the input is one text frame (binary if bit 1 is set)
 *      delivered to a joined connection;
 *   1: the rest is a script of records [op][len16][data]: a fragment, a
 *      final fragment, a timer tick (time advances by data), a failed
 *      upgrade with a status, a closed connection, open, leave.
 * After every input the commands are drained, and these abort on
 * failure: the token is never in a command; the secret only in a frame
 * marked for wiping; SEND frames are JSON objects; no next timeout lies
 * due after a tick; after FATAL or LEFT the core stays quiet.
 *
 *   make build/fuzz/fuzz_phx && build/fuzz/fuzz_phx -max_total_time=60
 */
#define _GNU_SOURCE		/* memmem */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phx.h"

#define FZ_TOKEN	"fz-token-0123456789"
#define FZ_SECRET	"5ec7e75ec7e75ec7e75ec7e75ec7e75e" \
			"5ec7e75ec7e75ec7e75ec7e75ec7e75e"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t	fz_rand;

static void
fz_rng(void *arg, void *out, size_t len)
{
	fz_rand = fz_rand * 1103515245u + 12345u;
	memcpy(out, &fz_rand, len < sizeof(fz_rand) ? len : sizeof(fz_rand));
}

static int
fz_has(const char *s, size_t len, const char *needle)
{
	return memmem(s, len, needle, strlen(needle)) != NULL;
}

/* drain and check; returns 1 if FATAL or LEFT was seen */
static int
fz_drain(struct phx *p)
{
	struct phx_cmd	 c;
	cJSON		*o;
	int		 final = 0;

	while (phx_next_cmd(p, &c) == 1) {
		if (fz_has(c.text, strnlen(c.text, sizeof(c.text)), FZ_TOKEN) ||
		    fz_has(c.text, strnlen(c.text, sizeof(c.text)), FZ_SECRET))
			abort();
		if (c.type == PHX_CMD_SEND) {
			if (fz_has(c.frame, c.len, FZ_TOKEN) ||
			    (fz_has(c.frame, c.len, FZ_SECRET) && !c.secret))
				abort();
			o = cJSON_ParseWithLength(c.frame, c.len);
			if (!cJSON_IsObject(o))
				abort();
			cJSON_Delete(o);
		}
		if (c.type == PHX_CMD_FATAL || c.type == PHX_CMD_LEFT)
			final = 1;
	}
	return final;
}

static struct phx *
fz_new(void)
{
	struct phx_conf	 c;
	const char	*why;

	memset(&c, 0, sizeof(c));
	c.api_url = "wss://portal.fuzz:8443/base/";
	c.token = FZ_TOKEN;
	c.secret = FZ_SECRET;
	c.name = "fuzz";
	c.port = 3478;
	fz_rand = 1;
	return phx_new(&c, fz_rng, NULL, &why);
}

/* start, connect, open, join */
static void
fz_join(struct phx *p)
{
	static const char ok[] = "{\"event\":\"phx_reply\",\"topic\":"
	    "\"relay\",\"ref\":0,\"payload\":{\"status\":\"ok\"}}";

	phx_start(p, 0);
	phx_timeout(p, 0);
	phx_open(p, 1);
	phx_rx(p, 2, ok, sizeof(ok) - 1, PHX_RX_FINAL);
	fz_drain(p);
	if (!phx_joined(p))
		abort();
}

static void
fz_script(struct phx *p, const uint8_t *d, size_t n)
{
	uint64_t	 now = 2;
	size_t		 len;
	uint8_t		 op;
	int		 final = 0, r;

	while (n >= 3) {
		op = d[0];
		len = (size_t)d[1] << 8 | d[2];
		d += 3;
		n -= 3;
		if (len > n)
			len = n;
		switch (op % 8) {
		case 0:
			phx_rx(p, now, d, len, op & 0x10 ? PHX_RX_BINARY : 0);
			break;
		case 1:
			phx_rx(p, now, d, len, PHX_RX_FINAL |
			    (op & 0x10 ? PHX_RX_BINARY : 0));
			break;
		case 2:
			now += len * 37;
			phx_timeout(p, now);
			if (!final && phx_next_timeout(p) <= now)
				abort();
			break;
		case 3:
			phx_fail(p, now, len % 600, "fuzz");
			break;
		case 4:
			phx_closed(p, now, "fuzz");
			break;
		case 5:
			phx_open(p, now);
			break;
		case 6:
			phx_leave(p, now);
			break;
		default:
			now = phx_next_timeout(p) == UINT64_MAX ? now + 1 :
			    phx_next_timeout(p);
			phx_timeout(p, now);
			break;
		}
		d += len;
		n -= len;
		r = fz_drain(p);
		if (final && r)
			abort();	/* nothing after FATAL or LEFT */
		final |= r;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phx	*p;

	if (size < 1 || (p = fz_new()) == NULL)
		return 0;
	fz_join(p);
	if ((data[0] & 1) == 0)
		phx_rx(p, 3, data + 1, size - 1, PHX_RX_FINAL |
		    (data[0] & 2 ? PHX_RX_BINARY : 0));
	else
		fz_script(p, data + 1, size - 1);
	fz_drain(p);
	phx_free(p);
	return 0;
}
