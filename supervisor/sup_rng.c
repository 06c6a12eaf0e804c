/*
 * sup_rng.c: the supervisor's randomness (the engine's turn_rng_fn).
 *
 * By default every byte comes from getrandom(2). With --rng-seed the
 * bytes of sup_rng() come from a ChaCha20 keystream whose key is expanded
 * from the seed with splitmix64, so port choices and salts are
 * reproducible (tests only; a WARN line says so). Keys never are: the
 * secret and the nonce key always come from sup_rng_key(), getrandom(2),
 * or a seed on the command line would let anyone mint credentials and
 * nonces.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <nettle/chacha.h>

#include "log.h"
#include "sup.h"

static struct {
	int			seeded;
	struct chacha_ctx	ctx;
	uint8_t			ks[CHACHA_BLOCK_SIZE];
	size_t			pos;
} sup_rng_st;

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z;

	z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
sup_rng_init(int seeded, uint64_t seed)
{
	uint8_t		key[CHACHA_KEY_SIZE], nonce[CHACHA_NONCE_SIZE];
	uint64_t	x = seed, v;
	size_t		i, j;

	memset(&sup_rng_st, 0, sizeof(sup_rng_st));
	if (!seeded)
		return;
	for (i = 0; i < sizeof(key); i += 8) {
		v = splitmix64(&x);
		for (j = 0; j < 8; j++)
			key[i + j] = (uint8_t)(v >> (56 - 8 * j));
	}
	memset(nonce, 0, sizeof(nonce));
	chacha_set_key(&sup_rng_st.ctx, key);
	chacha_set_nonce(&sup_rng_st.ctx, nonce);
	sup_rng_st.seeded = 1;
	sup_rng_st.pos = sizeof(sup_rng_st.ks);
}

static void
rng_system(uint8_t *out, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = getrandom(out, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("getrandom");
		out += n;
		len -= (size_t)n;
	}
}

static void
rng_seeded(uint8_t *out, size_t len)
{
	size_t	n;

	while (len > 0) {
		if (sup_rng_st.pos == sizeof(sup_rng_st.ks)) {
			memset(sup_rng_st.ks, 0, sizeof(sup_rng_st.ks));
			chacha_crypt(&sup_rng_st.ctx, sizeof(sup_rng_st.ks),
			    sup_rng_st.ks, sup_rng_st.ks);
			sup_rng_st.pos = 0;
		}
		n = sizeof(sup_rng_st.ks) - sup_rng_st.pos;
		if (n > len)
			n = len;
		memcpy(out, sup_rng_st.ks + sup_rng_st.pos, n);
		sup_rng_st.pos += n;
		out += n;
		len -= n;
	}
}

/* key material: always the kernel's, whatever --rng-seed says */
void
sup_rng_key(void *out, size_t len)
{
	rng_system(out, len);
}

void
sup_rng(void *arg, void *out, size_t len)
{
	(void)arg;
	if (sup_rng_st.seeded)
		rng_seeded(out, len);
	else
		rng_system(out, len);
}
