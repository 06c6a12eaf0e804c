/*
 * sup_secure.c: the supervisor's process hygiene (README.md, "Security
 * model"; issue 11, item 8).
 *
 * - no core dumps and no ptrace by our own uid: PR_SET_DUMPABLE 0 and
 *   RLIMIT_CORE 0, first thing in main();
 * - the portal token and the secrets live in one small vault mapping,
 *   excluded from core dumps (MADV_DONTDUMP) and locked in memory when
 *   the limits allow; the copies they came from are wiped. The vault's
 *   copy is the only one: the engine and the portal core hold pointers
 *   into it. The secrets have two slots: a SIGHUP reload fills the free
 *   one, switches the engine to it, then wipes the old one;
 * - a token from FIREZONE_TOKEN is wiped from the environment block
 *   (/proc/PID/environ shows that block, not environ[]) and unset; a
 *   token given as an argument is wiped from the argument block
 *   (/proc/PID/cmdline) with a WARN: until then any local user could read
 *   it.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sup.h"

/* two secret slots, then the token's room */
#define SUP_VAULT_SLOT	(SUP_SECRET_MAX + 1)
#define SUP_VAULT_LEN	(3 * SUP_SECRET_MAX + 64)

static char	*sup_vault;
static size_t	 sup_vault_cap, sup_vault_used = 2 * SUP_VAULT_SLOT;
static int	 sup_vault_slot;	/* the slot the next secret takes */

void
sup_secure_early(void)
{
	struct rlimit	rl = { 0, 0 };

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
}

static void
sup_vault_map(void)
{
	long	pg = sysconf(_SC_PAGESIZE);
	char	*p;

	if (sup_vault == NULL) {
		sup_vault_cap = ((SUP_VAULT_LEN + (size_t)pg - 1) / (size_t)pg) *
		    (size_t)pg;
		p = mmap(NULL, sup_vault_cap, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			fatal("mmap");
		if (madvise(p, sup_vault_cap, MADV_DONTDUMP) == -1)
			log_warn("madvise(MADV_DONTDUMP)");
		(void)mlock(p, sup_vault_cap);	/* best effort */
		sup_vault = p;
	}
}

/* len + 1 bytes of the vault's token room, or NULL */
static char *
sup_vault_alloc(size_t len)
{
	char	*p;

	sup_vault_map();
	if (len >= sup_vault_cap - sup_vault_used)
		return NULL;
	p = sup_vault + sup_vault_used;
	sup_vault_used += len + 1;
	return p;
}

/* a vault copy of s (len bytes, NUL added); s itself is wiped */
static char *
sup_vault_keep(char *s, size_t len)
{
	char	*v;

	if ((v = sup_vault_alloc(len)) == NULL)
		fatalx("secret or token too long for the vault");
	memcpy(v, s, len);
	v[len] = '\0';
	explicit_bzero(s, len);
	return v;
}

/*
 * The secrets' text (len bytes, at most SUP_SECRET_MAX), moved into the
 * free slot of the vault (NUL added); the malloc'd original is wiped and
 * freed. The other slot is untouched: the caller wipes it with
 * sup_secure_release() once nothing points into it.
 */
char *
sup_secure_secret(char *secret, size_t len)
{
	char	*v;

	if (len > SUP_SECRET_MAX)
		fatalx("secret too long for the vault");
	sup_vault_map();
	v = sup_vault + (size_t)sup_vault_slot * SUP_VAULT_SLOT;
	sup_vault_slot ^= 1;
	memcpy(v, secret, len);
	v[len] = '\0';
	explicit_bzero(secret, len);
	free(secret);
	return v;
}

/*
 * The spawner, forked after the token moved into the vault: its copy of
 * the vault wiped and unmapped, so the token is not in its memory (the
 * secrets are read after the fork and never were).
 */
void
sup_secure_forget(void)
{
	if (sup_vault == NULL)
		return;
	explicit_bzero(sup_vault, sup_vault_cap);
	(void)munmap(sup_vault, sup_vault_cap);
	sup_vault = NULL;
}

/* wipe a slot sup_secure_secret() returned (len bytes); the next secret
 * takes it */
void
sup_secure_release(char *v, size_t len)
{
	if (v == NULL)
		return;
	explicit_bzero(v, len + 1);
	sup_vault_slot = v == sup_vault ? 0 : 1;
}

/* move the token into the vault and wipe where it came from */
void
sup_secure_token(struct sup_conf *c, int argc, char **argv)
{
	char	*t = (char *)c->token;
	int	 i, from_argv = 0;

	if (t == NULL)
		return;
	for (i = 1; i < argc; i++)
		if (argv[i] == t)
			from_argv = 1;
	c->token = sup_vault_keep(t, strlen(t));
	if (from_argv)
		log_warnx("The portal token was given on the command line, "
		    "where local users could read it (/proc/PID/cmdline) "
		    "until now; pass it in FIREZONE_TOKEN instead");
	else
		(void)unsetenv("FIREZONE_TOKEN");
}
