/*
 * sup_cred.c: the relay secret in standalone mode, and `turncell cred`.
 *
 * The secrets are either the lines of --secret-file (one trailing newline
 * dropped; one secret per line, at most TURN_SECRETS_MAX: the first mints,
 * every one verifies, so that a secret can be rotated with SIGHUP) or 32
 * random bytes hex-encoded, written mode 0600 to a runtime file so that
 * `turncell cred --secret-file <that file>` can mint credentials for the
 * running relay. The log names the file, never a secret. `turncell cred`
 * prints one JSON line (cJSON), minted with the first secret:
 * {"username": ..., "password": ..., "realm": "firezone"} (or --realm).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "log.h"
#include "sup.h"

#define CRED_SALT_BYTES	16
#define CRED_TTL_MAX	(10ULL * 366 * 86400)

/*
 * The lines of a secret file's text: s[i] and lens[i] for each (not
 * NUL-terminated), the count returned; -1 with *why when a line is empty
 * or there are more than TURN_SECRETS_MAX.
 */
int
sup_secrets_split(const char *text, size_t len, const char **s,
    size_t *lens, const char **why)
{
	const char	*p = text, *nl;
	size_t		 n = 0, l;

	for (;;) {
		nl = memchr(p, '\n', len - (size_t)(p - text));
		l = nl != NULL ? (size_t)(nl - p) : len - (size_t)(p - text);
		if (l == 0) {
			*why = "an empty line";
			return -1;
		}
		if (n == TURN_SECRETS_MAX) {
			*why = "more than 8 secrets";
			return -1;
		}
		s[n] = p;
		lens[n++] = l;
		if (nl == NULL)
			return (int)n;
		p = nl + 1;
	}
}

/*
 * Read a secret file: 0 with *out (malloc'd, NUL-terminated) and *len, or
 * -1 with *why set. At most SUP_SECRET_MAX bytes, no NUL byte, not empty
 * once one trailing newline is dropped.
 */
int
sup_secret_read(const char *path, char **out, size_t *len, const char **why)
{
	char	*b;
	size_t	 n = 0;
	ssize_t	 r;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if ((b = calloc(1, SUP_SECRET_MAX + 2)) == NULL) {
		close(fd);
		*why = "out of memory";
		return -1;
	}
	while (n <= SUP_SECRET_MAX) {
		r = read(fd, b + n, SUP_SECRET_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*why = NULL;
	if (n > 0 && b[n - 1] == '\n')
		b[--n] = '\0';
	if (n > SUP_SECRET_MAX)
		*why = "longer than 4096 bytes";
	else if (n == 0)
		*why = "empty";
	else if (memchr(b, '\0', n) != NULL)
		*why = "contains a NUL byte";
	if (*why != NULL) {
		explicit_bzero(b, SUP_SECRET_MAX + 2);
		free(b);
		return -1;
	}
	*out = b;
	*len = n;
	return 0;
}

static int
secret_write(const char *path, const char *secret, size_t len)
{
	char	line[2 * SUP_SECRET_RAND + 2];
	int	fd, ok;

	if (len + 1 > sizeof(line))
		return -1;
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	memcpy(line, secret, len);
	line[len] = '\n';
	ok = fchmod(fd, 0600) == 0 && write(fd, line, len + 1) ==
	    (ssize_t)(len + 1);
	explicit_bzero(line, sizeof(line));
	if (close(fd) == -1 || !ok) {
		(void)unlink(path);
		return -1;
	}
	return 0;
}

/* try "<dir>/<sub>/<file>" (sub may be NULL), creating <sub> mode 0700 */
static int
secret_try(const char *dir, const char *sub, const char *file,
    const char *secret, size_t len, char *path, size_t cap)
{
	int	n;

	if (dir == NULL || *dir == '\0')
		return -1;
	if (sub != NULL) {
		n = snprintf(path, cap, "%s/%s", dir, sub);
		if (n < 0 || (size_t)n >= cap)
			return -1;
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
		n = snprintf(path, cap, "%s/%s/%s", dir, sub, file);
	} else
		n = snprintf(path, cap, "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return secret_write(path, secret, len);
}

static void
secret_store(const char *secret, size_t len)
{
	char		 path[PATH_MAX], rd[PATH_MAX];
	const char	*e;

	rd[0] = '\0';
	if ((e = getenv("RUNTIME_DIRECTORY")) != NULL) {
		/* systemd may list several, separated by ':' */
		snprintf(rd, sizeof(rd), "%s", e);
		rd[strcspn(rd, ":")] = '\0';
	}
	if (secret_try(rd, NULL, "secret", secret, len, path,
	    sizeof(path)) == 0 ||
	    secret_try("/run", "turncell", "secret", secret, len, path,
	    sizeof(path)) == 0 ||
	    secret_try(getenv("XDG_RUNTIME_DIR"), "turncell", "secret",
	    secret, len, path, sizeof(path)) == 0 ||
	    secret_try(".", "run", "turncell-secret", secret, len, path,
	    sizeof(path)) == 0) {
		log_kv(LOG_INFO, "Generated a fresh secret; mint credentials "
		    "with `turncell cred --secret-file <file>`", "file", path,
		    (char *)NULL);
		return;
	}
	log_kv(LOG_WARN, "Generated a fresh secret but could not write it "
	    "to a runtime file; credentials cannot be minted",
	    (char *)NULL);
}

/*
 * The secret for this run: --secret-file, or fresh random bytes (hex),
 * stored in a runtime file when standalone. Exits 2 on a bad file.
 */
char *
sup_secret_make(const struct sup_conf *c, size_t *len)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 raw[SUP_SECRET_RAND];
	const char		*why, *set[TURN_SECRETS_MAX];
	size_t			 lens[TURN_SECRETS_MAX];
	char			*s;
	size_t			 i;

	if (c->secret_file != NULL) {
		if (sup_secret_read(c->secret_file, &s, len, &why) == -1 ||
		    sup_secrets_split(s, *len, set, lens, &why) == -1)
			sup_usage_error("bad --secret-file '%s': %s",
			    c->secret_file, why);
		log_kv(LOG_INFO, "Using the secret from a file", "file",
		    c->secret_file, (char *)NULL);
		return s;
	}
	if ((s = calloc(1, 2 * sizeof(raw) + 1)) == NULL)
		fatal("calloc");
	sup_rng_key(raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i++) {
		s[2 * i] = hex[raw[i] >> 4];
		s[2 * i + 1] = hex[raw[i] & 0xf];
	}
	explicit_bzero(raw, sizeof(raw));
	*len = 2 * sizeof(raw);
	if (c->token == NULL)
		secret_store(s, *len);
	return s;
}

/* URL-safe base64 without padding */
static void
cred_salt(char *out, size_t cap)
{
	uint8_t	raw[CRED_SALT_BYTES];
	char	*p;

	sup_rng(NULL, raw, sizeof(raw));
	if (auth_b64(raw, sizeof(raw), out, cap, 0) == 0)
		sup_usage_error("salt does not fit");
	for (p = out; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
}

static int
cred_print(const char *user, const char *pass, const char *realm)
{
	cJSON	*o;
	char	*txt;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "username", user) == NULL ||
	    cJSON_AddStringToObject(o, "password", pass) == NULL ||
	    cJSON_AddStringToObject(o, "realm", realm) == NULL ||
	    (txt = cJSON_PrintUnformatted(o)) == NULL) {
		fprintf(stderr, SUP_NAME ": out of memory\n");
		return 1;
	}
	printf("%s\n", txt);
	cJSON_free(txt);
	cJSON_Delete(o);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
cred_mint(const char *secret, size_t slen, uint64_t expiry, int rest,
    const char *name, const char *realm)
{
	char	user[600], salt[64];
	char	pass[AUTH_PASS_LEN + AUTH_REST_PASS_LEN + 2];
	int	n;

	if (rest) {
		if (name != NULL)
			n = snprintf(user, sizeof(user), "%llu:%s",
			    (unsigned long long)expiry, name);
		else
			n = snprintf(user, sizeof(user), "%llu",
			    (unsigned long long)expiry);
		if (n < 0 || (size_t)n > STUN_MAX_USERNAME)
			sup_usage_error("--user too long");
		auth_rest_password(secret, slen, (const uint8_t *)user,
		    (size_t)n, pass);
	} else {
		cred_salt(salt, sizeof(salt));
		snprintf(user, sizeof(user), "%llu:%s",
		    (unsigned long long)expiry, salt);
		auth_password(expiry, secret, slen, salt, strlen(salt), pass);
	}
	n = cred_print(user, pass, realm);
	explicit_bzero(pass, sizeof(pass));
	return n;
}

struct cred_opts {
	const char		*file, *name, *realm;
	unsigned long long	 ttl, seed;
	int			 rest, seeded;
};

static void
cred_opt(struct cred_opts *o, int ch, const char *arg, const char *opt)
{
	switch (ch) {
	case 'f':
		o->file = arg;
		break;
	case 't':
		if (sup_parse_uint(arg, 1, CRED_TTL_MAX, &o->ttl) == -1)
			sup_usage_error("bad --ttl '%s'", arg);
		break;
	case 'a':
		if (strcmp(arg, "rest") == 0)
			o->rest = 1;
		else if (strcmp(arg, "firezone") != 0)
			sup_usage_error("bad --auth '%s' (want firezone or "
			    "rest)", arg);
		break;
	case 'u':
		o->name = arg;
		break;
	case 'r':
		o->realm = arg;
		break;
	case 's':
		if (sup_parse_uint(arg, 0, UINT64_MAX, &o->seed) == -1)
			sup_usage_error("bad --rng-seed '%s'", arg);
		o->seeded = 1;
		break;
	case 'h':
		printf("usage: turncell cred --secret-file FILE [--ttl SECONDS "
		    "(86400)] [--auth firezone|rest] [--user NAME (rest)]\n"
		    "       [--realm REALM (rest; the relay's --realm)]\n");
		exit(0);
	case ':':
		sup_usage_error("option '%s' needs a value", opt);
	default:
		sup_usage_error("unknown option '%s'", opt);
	}
}

static void
cred_args(int argc, char **argv, struct cred_opts *o)
{
	static const struct option lopts[] = {
		{ "secret-file", required_argument, NULL, 'f' },
		{ "ttl", required_argument, NULL, 't' },
		{ "auth", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "realm", required_argument, NULL, 'r' },
		{ "rng-seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	memset(o, 0, sizeof(*o));
	o->ttl = 86400;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1)
		cred_opt(o, ch, optarg, argv[optind - 1]);
	if (optind != argc)
		sup_usage_error("unexpected argument '%s'", argv[optind]);
	if (o->file == NULL)
		sup_usage_error("cred needs --secret-file");
	if (o->name != NULL && (!o->rest || strchr(o->name, ':') != NULL ||
	    *o->name == '\0'))
		sup_usage_error("--user needs --auth rest and no ':'");
	/* only printed: the password does not depend on the realm */
	if (o->realm != NULL && (!o->rest || *o->realm == '\0'))
		sup_usage_error("--realm needs --auth rest");
	if (o->realm == NULL)
		o->realm = AUTH_REALM;
}

/* turncell cred --secret-file F [--ttl S] [--auth firezone|rest]
 * [--user NAME] [--realm REALM] [--rng-seed N] */
int
sup_cred_main(int argc, char **argv)
{
	struct cred_opts	 o;
	const char		*why, *set[TURN_SECRETS_MAX];
	char			*secret;
	size_t			 slen, lens[TURN_SECRETS_MAX];
	int			 rc;

	cred_args(argc, argv, &o);
	if (sup_secret_read(o.file, &secret, &slen, &why) == -1 ||
	    sup_secrets_split(secret, slen, set, lens, &why) == -1)
		sup_usage_error("bad --secret-file '%s': %s", o.file, why);
	sup_rng_init(o.seeded, o.seed);
	/* the first line mints; the others only verify */
	rc = cred_mint(set[0], lens[0], (uint64_t)time(NULL) + o.ttl, o.rest,
	    o.name, o.realm);
	explicit_bzero(secret, slen);
	free(secret);
	return rc;
}
