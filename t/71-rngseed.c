/*
 * 71-rngseed.c: --rng-seed never makes a key predictable. Two relays
 * started with the same seed must generate different
 * secrets and hand the same client different nonces; the seed is
 * announced by a WARN line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define SEED	"7"

/* the first line of a file, once it is there */
struct first_line {
	char	path[160];
	char	line[256];
};

static int
has_line(void *arg)
{
	struct first_line	*w = arg;
	FILE			*f;

	if ((f = fopen(w->path, "r")) == NULL)
		return 0;
	if (fgets(w->line, (int)sizeof(w->line), f) == NULL)
		w->line[0] = '\0';
	fclose(f);
	w->line[strcspn(w->line, "\n")] = '\0';
	return w->line[0] != '\0';
}

/* a log line that holds both needles */
struct two_needles {
	const struct tu_relay	*r;
	const char		*a, *b;
};

static int
has_both(void *arg)
{
	const struct two_needles	*w = arg;
	char				 line[1024];
	FILE				*f;
	int				 found = 0;

	if ((f = fopen(w->r->log_path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, w->a) != NULL &&
		    strstr(line, w->b) != NULL;
	fclose(f);
	return found;
}

static void
t_secret(void)
{
	struct tu_relay_opts	o;
	struct tu_relay		r;
	struct first_line	sec[2];
	struct two_needles	warn = { &r, "--rng-seed set", "WARN" };
	int			i, rc;

	memset(&o, 0, sizeof(o));
	o.no_secret = 1;	/* a generated secret ... */
	o.runtime_dir = 1;	/* ... written to the relay's directory */
	o.nports = 4;
	o.extra[0] = "--rng-seed";
	o.extra[1] = SEED;
	for (i = 0; i < 2; i++) {
		memset(&sec[i], 0, sizeof(sec[i]));
		rc = tu_relay_start(&r, &o);
		snprintf(sec[i].path, sizeof(sec[i].path), "%s/secret", r.dir);
		ok(rc == 0 && tu_wait_for(has_line, &sec[i], 5000),
		    "relay %d with --rng-seed " SEED " wrote a generated "
		    "secret", i + 1);
		ok(rc == 0 && tu_wait_for(has_both, &warn, 2000),
		    "relay %d: a WARN line names --rng-seed", i + 1);
		tu_relay_stop(&r);
	}
	ok(sec[0].line[0] != '\0' && strcmp(sec[0].line, sec[1].line) != 0,
	    "same seed, different secrets");
}

/* the NONCE of the 401 to a 28-byte ALLOCATE from fd; 0 or -1 */
static int
nonce_of(int fd, const struct taddr *to, char out[64], uint8_t tid)
{
	uint8_t		req[28] = { 0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xa4,
			    0x42 };
	uint8_t		buf[512];
	struct taddr	from;
	long		n;
	size_t		off = 20, alen;

	req[8] = tid;
	req[20] = 0x00; req[21] = 0x19; req[22] = 0x00; req[23] = 0x04;
	req[24] = 17;
	if (tu_sendto(fd, to, req, sizeof(req)) == -1 ||
	    (n = tu_recvfrom(fd, buf, sizeof(buf), 2000, &from)) < 20)
		return -1;
	while (off + 4 <= (size_t)n) {
		alen = (size_t)buf[off + 2] << 8 | buf[off + 3];
		if (off + 4 + alen > (size_t)n)
			return -1;
		if (buf[off] == 0x00 && buf[off + 1] == 0x15 && alen < 64) {
			memcpy(out, buf + off + 4, alen);
			out[alen] = '\0';
			return 0;
		}
		off += 4 + ((alen + 3) & ~(size_t)3);
	}
	return -1;
}

static void
t_nonce(void)
{
	struct tu_relay		r[2];
	struct tu_relay_opts	o;
	char			n1[64], n2[64];
	int			fd, i, same_ts = 0, differ = 0;

	memset(&o, 0, sizeof(o));
	o.extra[0] = "--rng-seed";
	o.extra[1] = SEED;
	if (tu_relay_start(&r[0], &o) == -1 || tu_relay_start(&r[1], &o) == -1) {
		ok(0, "two relays with --rng-seed " SEED);
		return;
	}
	fd = tu_udp_bind(ADDR_V4, 0);
	for (i = 0; i < 5 && !same_ts; i++) {
		if (nonce_of(fd, &r[0].addr4, n1, (uint8_t)(2 * i)) == -1 ||
		    nonce_of(fd, &r[1].addr4, n2, (uint8_t)(2 * i + 1)) == -1)
			continue;
		/* 8 hex of seconds, then the MAC under the nonce key */
		if (strncmp(n1, n2, 8) == 0) {
			same_ts = 1;
			differ = strcmp(n1 + 8, n2 + 8) != 0;
		}
	}
	ok(same_ts, "two nonces for one client in the same second");
	ok(differ, "same seed, same client, same second: different nonces");
	close(fd);
	tu_relay_stop(&r[0]);
	tu_relay_stop(&r[1]);
}

int
main(void)
{
	tu_init(40);
	tu_need("bin/turncell", NULL);
	t_secret();
	t_nonce();
	return done_testing();
}
