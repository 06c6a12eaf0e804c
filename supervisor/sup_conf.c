/*
 * sup_conf.c: command line and environment (README "Running it":
 * Firezone-compatible variable names).
 *
 * Every flag may also come from the environment variable the table names;
 * a flag wins over its variable, and an empty variable counts as unset.
 * All values are collected as text first and parsed once, so a bad value
 * is reported the same way whichever source it came from: one line
 * "turncell: <reason>" on stderr and exit status 2.
 */
#include <sys/types.h>

#include <net/if.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "msg_conf.h"
#include "sup.h"

enum {
	O_LISTEN_PORT = 256, O_BIND4, O_BIND6, O_PUBLIC4, O_PUBLIC6,
	O_LOWEST, O_HIGHEST, O_ALLOW, O_SECRET_FILE, O_RNG_SEED,
	O_LOG_FORMAT, O_LOG_LEVEL, O_USER, O_WORKER_PATH, O_HEALTH,
	O_API_URL, O_DRAIN_TIMEOUT, O_ALTERNATE, O_MAX_ALLOCS,
	O_MAX_PER_IP, O_MAX_PER_USER, O_STARTS_IP, O_STARTS_ALL,
	O_UNAUTH_RATE, O_UNAUTH_ALL, O_BINDING_RATE, O_BINDING_ALL,
	O_MAX_CRED_TTL, O_AUTH, O_REALM, O_ONE_PER_USER, O_INDICATIONS,
	O_SCHED_BATCH, O_HELP,
	O_VERSION, O_PORT_FILE, O_MAX_BPS, O_POOL, O_POOL_RATE,
	O_QDELAY, O_QGRACE,
	O_XDP, O_XDP_GENERIC,
	O_END
};
#define O_N	(O_END - O_LISTEN_PORT)
#define O_IX(o)	((o) - O_LISTEN_PORT)

struct sup_opt {
	const char	*name;
	int		 id;
	const char	*env;
	const char	*arg;		/* NULL = no value */
	const char	*help;
};

static const struct sup_opt sup_opts[] = {
	{ "listen-port", O_LISTEN_PORT, "LISTEN_PORT", "PORT",
	    "UDP port for STUN/TURN (default 3478; 0: an ephemeral\n"
	    "port, the same for IPv4 and IPv6, logged and written\n"
	    "to --port-file)" },
	{ "port-file", O_PORT_FILE, NULL, "FILE",
	    "write the bound listen port to FILE, and the health\n"
	    "port on a second line (for tests and scripts that\n"
	    "start the relay on port 0); written once both listen" },
	{ "bind-ip4-addr", O_BIND4, "BIND_IP4_ADDR", "IP",
	    "IPv4 address to listen on (default 0.0.0.0)" },
	{ "bind-ip6-addr", O_BIND6, "BIND_IP6_ADDR", "IP",
	    "IPv6 address to listen on (default ::)" },
	{ "public-ip4-addr", O_PUBLIC4, "PUBLIC_IP4_ADDR", "IP",
	    "public IPv4 address; enables IPv4" },
	{ "public-ip6-addr", O_PUBLIC6, "PUBLIC_IP6_ADDR", "IP",
	    "public IPv6 address; enables IPv6 (one of the two is required)" },
	{ "lowest-port", O_LOWEST, "LOWEST_PORT", "PORT",
	    "lowest relay port, inclusive (default 49152)" },
	{ "highest-port", O_HIGHEST, "HIGHEST_PORT", "PORT",
	    "highest relay port, inclusive (default 65535)" },
	{ "allow-peer", O_ALLOW, NULL, "CIDR",
	    "allow peers in this range (repeatable; default: private,\n"
	    "loopback, link-local... peers are refused)" },
	{ "secret-file", O_SECRET_FILE, NULL, "FILE",
	    "read the secret from FILE (default: generate one and write\n"
	    "it mode 0600 to a runtime file named in the log)" },
	{ "rng-seed", O_RNG_SEED, "RNG_SEED", "N",
	    "seed port choices and salts with N (tests only;\n"
	    "never the secret or the nonce key)" },
	{ "log-format", O_LOG_FORMAT, "LOG_FORMAT", "FMT",
	    "human or json (default human)" },
	{ "log-level", O_LOG_LEVEL, NULL, "LEVEL",
	    "error, warn, info or debug (default info)" },
	{ "user", O_USER, NULL, "NAME",
	    "account the workers run as when started as root\n"
	    "(default nobody)" },
	{ "worker-path", O_WORKER_PATH, NULL, "PATH",
	    "worker binary (default: turncell-worker next to turncell)" },
	{ "health-check-addr", O_HEALTH, "HEALTH_CHECK_ADDR", "IP:PORT",
	    "/healthz, /readyz, /metrics (default 0.0.0.0:8080;\n"
	    "port 0: one the kernel chooses, logged and written\n"
	    "to --port-file; \"none\" disables)" },
	{ "api-url", O_API_URL, "FIREZONE_API_URL", "URL",
	    "portal URL (default wss://api.firezone.dev)" },
	{ "drain-timeout", O_DRAIN_TIMEOUT, NULL, "S",
	    "on SIGTERM stop remaining workers after S s, 0 = wait\n"
	    "for the last one (default 3600)" },
	{ "alternate-server", O_ALTERNATE, NULL, "IP:PORT",
	    "while draining, answer ALLOCATE with 300 to this server" },
	{ "max-allocations", O_MAX_ALLOCS, NULL, "N",
	    "allocations in total (default: size of the port range)" },
	{ "max-allocations-per-ip", O_MAX_PER_IP, NULL, "N",
	    "allocations per client IPv4 address or IPv6 /64,\n"
	    "0 = unlimited (default 1000; then 486)" },
	{ "max-allocations-per-user", O_MAX_PER_USER, NULL, "N",
	    "allocations per username, 0 = unlimited (default 100;\n"
	    "then 486)" },
	{ "max-starts-per-ip", O_STARTS_IP, NULL, "N",
	    "new allocations (worker starts) per s per client IPv4\n"
	    "address or IPv6 /64, 0 = unlimited (default 20; then 486)" },
	{ "max-starts", O_STARTS_ALL, NULL, "N",
	    "new allocations per s in all, 0 = unlimited\n"
	    "(default 300; then 508)" },
	{ "unauth-rate", O_UNAUTH_RATE, NULL, "N",
	    "replies to requests without a valid nonce per s per\n"
	    "source IPv4 address or IPv6 /64, 0 = off (default 50)" },
	{ "unauth-global-rate", O_UNAUTH_ALL, NULL, "N",
	    "the same in all, 0 = off (default 5000)" },
	{ "binding-rate", O_BINDING_RATE, NULL, "N",
	    "Binding responses per s per source, 0 = off\n"
	    "(default 200)" },
	{ "binding-global-rate", O_BINDING_ALL, NULL, "N",
	    "Binding responses per s in all, 0 = off (default 20000)" },
	{ "max-credential-ttl", O_MAX_CRED_TTL, NULL, "S",
	    "refuse (401) credentials expiring more than S s from\n"
	    "now, 0 = any (default 2592000, 30 days)" },
	{ "auth", O_AUTH, NULL, "SCHEME",
	    "credentials accepted: firezone, rest or both\n"
	    "(default firezone)" },
	{ "realm", O_REALM, NULL, "REALM",
	    "realm announced and used for REST credentials\n"
	    "(--auth rest or both; default firezone)" },
	{ "one-allocation-per-user", O_ONE_PER_USER, NULL, NULL,
	    "a user's ALLOCATE from another address frees\n"
	    "the user's old allocation (default off)" },
	{ "indications", O_INDICATIONS, NULL, NULL,
	    "RFC 8656 data path: permissions (300 s), Send\n"
	    "indications relayed, peer data without a channel\n"
	    "sent as Data indications (default off)" },
	{ "sched-batch", O_SCHED_BATCH, NULL, NULL,
	    "run relay processes as SCHED_BATCH: fewer wake-ups,\n"
	    "less CPU per packet, but more latency when the CPU\n"
	    "is contended (default off)" },
	{ "max-bps", O_MAX_BPS, NULL, "N",
	    "bytes per second each allocation may relay in each\n"
	    "direction; more is dropped and counted, 0 = no limit\n"
	    "(default 0)" },
	{ "worker-pool", O_POOL, NULL, "N",
	    "idle workers kept started ahead, so that an ALLOCATE\n"
	    "does not wait for a process start; 0 = none (default 64)" },
	{ "worker-pool-rate", O_POOL_RATE, NULL, "N",
	    "idle workers started per s at most to refill the pool,\n"
	    "0 = no bound (default 2000)" },
	{ "max-queue-delay", O_QDELAY, NULL, "MS",
	    "past capacity, drop (and count) datagrams that waited\n"
	    "longer than MS in a receive queue, 0 = never\n"
	    "(default 10)" },
	{ "queue-delay-grace", O_QGRACE, NULL, "MS",
	    "but only once the queue has stayed behind for MS: a\n"
	    "shorter burst drains without loss (default 100)" },
	{ "xdp", O_XDP, NULL, "IFACE",
	    "relay bound channels in the kernel with an XDP program\n"
	    "on IFACE, native mode (repeatable; root; falls back to\n"
	    "userspace with a log line when it cannot be loaded)" },
	{ "xdp-generic", O_XDP_GENERIC, NULL, NULL,
	    "attach --xdp in generic mode (drivers without native\n"
	    "XDP; slower)" },
	{ "help", O_HELP, NULL, NULL, "show this help and exit" },
	{ "version", O_VERSION, NULL, NULL, "show the version and exit" },
};
#define SUP_NOPTS	(sizeof(sup_opts) / sizeof(sup_opts[0]))

void
sup_usage_error(const char *fmt, ...)
{
	char	line[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, SUP_NAME ": %s\n", line);
	exit(SUP_EXIT_USAGE);
}

static void
sup_help(void)
{
	const char	*h;
	size_t		 i;
	char		 flag[64];

	printf("usage: turncell [flags] [TOKEN [NAME]]\n"
	    "       turncell cred --secret-file FILE [--ttl S] "
	    "[--auth firezone|rest [--user NAME] [--realm REALM]]\n\n"
	    "A STUN/TURN relay: one supervisor on the listen port, one "
	    "sandboxed worker per allocation.\n"
	    "Without a token it runs standalone; TOKEN (FIREZONE_TOKEN) "
	    "connects it to the portal,\nNAME (FIREZONE_NAME) names it "
	    "there.\n\nflags:\n");
	for (i = 0; i < SUP_NOPTS; i++) {
		snprintf(flag, sizeof(flag), "--%s%s%s", sup_opts[i].name,
		    sup_opts[i].arg ? " " : "",
		    sup_opts[i].arg ? sup_opts[i].arg : "");
		printf("  %-30s", flag);
		for (h = sup_opts[i].help; *h != '\0'; h++) {
			if (*h == '\n')
				printf("\n%32s", "");
			else
				putchar(*h);
		}
		if (sup_opts[i].env != NULL)
			printf("\n%32s[env %s]", "", sup_opts[i].env);
		printf("\n");
	}
	printf("\nenvironment: FIREZONE_TOKEN (portal token), FIREZONE_NAME "
	    "(relay name), and the\nvariables named above. Flags win over "
	    "the environment.\n"
	    "signals: SIGTERM/SIGINT drain (leave the portal, refuse new "
	    "allocations, exit 0\nwhen the last one is gone or at "
	    "--drain-timeout); a second one exits at once.\nSIGHUP "
	    "(reserved for reloading), SIGUSR1 and SIGUSR2 are logged and "
	    "ignored.\n");
	exit(0);
}

/* strict decimal: no sign, no space, no trailing garbage */
int
sup_parse_uint(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static unsigned long long
conf_uint(const char *flag, const char *s, unsigned long long min,
    unsigned long long max)
{
	unsigned long long	v;

	if (sup_parse_uint(s, min, max, &v) == -1)
		sup_usage_error("bad --%s '%s' (want %llu..%llu)", flag, s,
		    min, max);
	return v;
}

static void
conf_ip(const char *flag, const char *s, int family, struct taddr *out)
{
	if (addr_parse_ip(s, out) == -1 || out->family != family)
		sup_usage_error("bad --%s '%s' (want an IPv%d address)", flag,
		    s, family);
}

static int
conf_choice(const char *flag, const char *s, const char *const *names)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	sup_usage_error("bad --%s '%s'", flag, s);
}

static void	conf_worker_default(struct sup_conf *);

static void
conf_worker_path(struct sup_conf *c, const char *given)
{
	if (given != NULL) {
		if (strlen(given) >= sizeof(c->worker_path))
			sup_usage_error("--worker-path too long");
		strcpy(c->worker_path, given);
	} else
		conf_worker_default(c);
	if (access(c->worker_path, X_OK) == -1)
		sup_usage_error("worker binary '%s': %s", c->worker_path,
		    strerror(errno));
}

/* turncell-worker next to our own binary */
static void
conf_worker_default(struct sup_conf *c)
{
	char	 self[PATH_MAX];
	char	*slash;
	ssize_t	 n;
	int	 len;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		sup_usage_error("cannot find myself: use --worker-path");
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		slash[1] = '\0';
	len = snprintf(c->worker_path, sizeof(c->worker_path),
	    "%sturncell-worker", self);
	if (len < 0 || (size_t)len >= sizeof(c->worker_path))
		sup_usage_error("worker path too long: use --worker-path");
}

static void
conf_user(struct sup_conf *c)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(c->user)) == NULL)
		sup_usage_error("unknown --user '%s'", c->user);
	c->worker_uid = pw->pw_uid;
	c->worker_gid = pw->pw_gid;
	c->drop_privs = pw->pw_uid != 0;
}

static void
conf_xdp(struct sup_conf *c, const char *s)
{
	if (c->n_xdp >= SUP_XDP_MAX)
		sup_usage_error("too many --xdp (max %d)", SUP_XDP_MAX);
	if (*s == '\0' || strlen(s) >= IF_NAMESIZE || strchr(s, '/') != NULL)
		sup_usage_error("bad --xdp '%s' (want an interface name)", s);
	c->xdp[c->n_xdp++] = s;
}

static void
conf_allow(struct sup_conf *c, const char *s)
{
	struct peer_filter	*f = &c->filter;

	if (f->n_allow >= PEER_MAX_ALLOW)
		sup_usage_error("too many --allow-peer (max %d)",
		    PEER_MAX_ALLOW);
	if (peer_cidr_parse(s, &f->allow[f->n_allow]) == -1)
		sup_usage_error("bad --allow-peer '%s' (want a CIDR)", s);
	c->allow[f->n_allow++] = s;
}

/* the relay's own listen ip:port pairs, refused as peers */
static void
conf_self(struct sup_conf *c, const struct taddr *ip)
{
	struct peer_filter	*f = &c->filter;
	struct taddr		 t = *ip;
	size_t			 i;

	if (t.family == 0)
		return;
	t.port = c->listen_port;
	for (i = 0; i < f->n_self; i++)
		if (addr_eq(&f->self[i], &t))
			return;
	if (f->n_self < PEER_MAX_SELF)
		f->self[f->n_self++] = t;
}

/*
 * The bound listen port, once known (with --listen-port 0 the kernel
 * chose it): the relay's own ip:port pairs refused as peers carry it.
 */
void
sup_conf_port(struct sup_conf *c, uint16_t port)
{
	struct peer_filter	*f = &c->filter;
	size_t			 i;

	for (i = 0; i < f->n_self; i++)
		if (f->self[i].port == c->listen_port)
			f->self[i].port = port;
	c->listen_port = port;
}

static const char *
conf_val(const char **val, int id)
{
	const char	*e;
	size_t		 i;

	if (val[O_IX(id)] != NULL)
		return val[O_IX(id)];
	for (i = 0; i < SUP_NOPTS; i++) {
		if (sup_opts[i].id != id || sup_opts[i].env == NULL)
			continue;
		e = getenv(sup_opts[i].env);
		if (e != NULL && *e != '\0')
			return e;
	}
	return NULL;
}

static const char *
conf_def(const char **val, int id, const char *def)
{
	const char	*v = conf_val(val, id);

	return v != NULL ? v : def;
}

static void
conf_addrs(struct sup_conf *c, const char **val)
{
	c->listen_port = (uint16_t)conf_uint("listen-port",
	    conf_def(val, O_LISTEN_PORT, "3478"), 0, 65535);
	c->port_file = conf_val(val, O_PORT_FILE);
	if (c->port_file != NULL && *c->port_file == '\0')
		sup_usage_error("empty --port-file");
	c->public4_s = conf_val(val, O_PUBLIC4);
	c->public6_s = conf_val(val, O_PUBLIC6);
	if (c->public4_s == NULL && c->public6_s == NULL)
		sup_usage_error("need --public-ip4-addr and/or "
		    "--public-ip6-addr");
	if (c->public4_s != NULL)
		conf_ip("public-ip4-addr", c->public4_s, ADDR_V4, &c->public4);
	if (c->public6_s != NULL)
		conf_ip("public-ip6-addr", c->public6_s, ADDR_V6, &c->public6);
	c->bind4_s = conf_def(val, O_BIND4, "0.0.0.0");
	c->bind6_s = conf_def(val, O_BIND6, "::");
	conf_ip("bind-ip4-addr", c->bind4_s, ADDR_V4, &c->bind4);
	conf_ip("bind-ip6-addr", c->bind6_s, ADDR_V6, &c->bind6);
	c->lowest_port = (uint16_t)conf_uint("lowest-port",
	    conf_def(val, O_LOWEST, "49152"), 1, 65535);
	c->highest_port = (uint16_t)conf_uint("highest-port",
	    conf_def(val, O_HIGHEST, "65535"), 1, 65535);
	if (c->lowest_port > c->highest_port)
		sup_usage_error("--lowest-port %u is above --highest-port %u",
		    c->lowest_port, c->highest_port);
	if (c->public4.family != 0) {
		conf_self(c, &c->bind4);
		conf_self(c, &c->public4);
	}
	if (c->public6.family != 0) {
		conf_self(c, &c->bind6);
		conf_self(c, &c->public6);
	}
}

static void
conf_portal(struct sup_conf *c, const char **val)
{
	const char	*u;

	c->api_url = u = conf_def(val, O_API_URL, "wss://api.firezone.dev");
	if (strncmp(u, "ws://", 5) != 0 && strncmp(u, "wss://", 6) != 0 &&
	    strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		sup_usage_error("bad --api-url '%s' (want ws, wss, http or "
		    "https)", u);
	c->health_addr = conf_def(val, O_HEALTH, "0.0.0.0:8080");
	if (strcmp(c->health_addr, "none") == 0)
		c->health_addr = NULL;
	else {
		struct taddr	t;

		if (addr_parse_hostport(c->health_addr, &t) == -1)
			sup_usage_error("bad --health-check-addr '%s' (want "
			    "IP:PORT or none)", c->health_addr);
	}
}

static unsigned
conf_rate(const char **val, int id, const char *flag, const char *def)
{
	return (unsigned)conf_uint(flag, conf_def(val, id, def), 0, 1000000);
}

/*
 * A realm is sent in every 401 and 438 and hashed into keys: printable
 * ASCII without quotes or backslashes (it is a quoted-string in RFC 8489
 * §14.9), at most 127 characters. Firezone credentials alone always use
 * "firezone".
 */
static void
conf_realm(struct sup_conf *c, const char *r)
{
	size_t	i, n = strlen(r);

	if (n == 0 || n > AUTH_REALM_MAX)
		sup_usage_error("bad --realm (want 1..%d characters)",
		    AUTH_REALM_MAX);
	for (i = 0; i < n; i++)
		if (r[i] < 0x20 || r[i] > 0x7e || r[i] == '"' || r[i] == '\\')
			sup_usage_error("bad --realm (printable ASCII without "
			    "quotes or backslashes)");
	if (c->auth_schemes == AUTH_SCHEME_FIREZONE &&
	    strcmp(r, AUTH_REALM) != 0)
		sup_usage_error("--realm needs --auth rest or both (Firezone "
		    "credentials use realm %s)", AUTH_REALM);
	c->realm = r;
}

static void
conf_limits(struct sup_conf *c, const char **val)
{
	static const char *const auths[] = { "firezone", "rest", "both",
	    NULL };
	static const int schemes[] = { AUTH_SCHEME_FIREZONE,
	    AUTH_SCHEME_REST, AUTH_SCHEME_FIREZONE | AUTH_SCHEME_REST };
	const char	*v;

	c->drain_timeout = (unsigned)conf_uint("drain-timeout",
	    conf_def(val, O_DRAIN_TIMEOUT, SUP_DRAIN_TIMEOUT), 0, 7 * 86400);
	if ((v = conf_val(val, O_ALTERNATE)) != NULL &&
	    (addr_parse_hostport(v, &c->alternate) == -1 ||
	    c->alternate.port == 0))
		sup_usage_error("bad --alternate-server '%s' (want IP:PORT)",
		    v);
	c->max_allocs = (unsigned)conf_uint("max-allocations",
	    conf_def(val, O_MAX_ALLOCS, "0"), 0, 1000000);
	c->max_allocs_per_ip = (unsigned)conf_uint("max-allocations-per-ip",
	    conf_def(val, O_MAX_PER_IP, "1000"), 0, 1000000);
	c->max_allocs_per_user = conf_rate(val, O_MAX_PER_USER,
	    "max-allocations-per-user", "100");
	c->starts_per_ip = conf_rate(val, O_STARTS_IP, "max-starts-per-ip",
	    "20");
	c->starts_global = conf_rate(val, O_STARTS_ALL, "max-starts", "300");
	c->unauth_rate = conf_rate(val, O_UNAUTH_RATE, "unauth-rate", "50");
	c->unauth_global = conf_rate(val, O_UNAUTH_ALL, "unauth-global-rate",
	    "5000");
	c->binding_rate = conf_rate(val, O_BINDING_RATE, "binding-rate",
	    "200");
	c->binding_global = conf_rate(val, O_BINDING_ALL,
	    "binding-global-rate", "20000");
	c->max_bps = (uint32_t)conf_uint("max-bps",
	    conf_def(val, O_MAX_BPS, "0"), 0, UINT32_MAX);
	c->pool_size = (unsigned)conf_uint("worker-pool",
	    conf_def(val, O_POOL, "64"), 0, 4096);
	c->pool_rate = (unsigned)conf_uint("worker-pool-rate",
	    conf_def(val, O_POOL_RATE, "2000"), 0, 1000000);
	c->qdelay_ms = (unsigned)conf_uint("max-queue-delay",
	    conf_def(val, O_QDELAY, SUP_QDELAY_MS), 0, MSG_CONF_QDELAY_MAX);
	c->qgrace_ms = (unsigned)conf_uint("queue-delay-grace",
	    conf_def(val, O_QGRACE, SUP_QGRACE_MS), 0, MSG_CONF_QDELAY_MAX);
	c->max_cred_ttl = (unsigned)conf_uint("max-credential-ttl",
	    conf_def(val, O_MAX_CRED_TTL, "2592000"), 0, 100 * 365 * 86400U);
	c->auth_schemes = schemes[conf_choice("auth",
	    conf_def(val, O_AUTH, "firezone"), auths)];
	conf_realm(c, conf_def(val, O_REALM, AUTH_REALM));
}

static void
conf_misc(struct sup_conf *c, const char **val)
{
	static const char *const fmts[] = { "human", "json", NULL };
	static const char *const lvls[] = { "error", "warn", "info", "debug",
	    NULL };
	const char	*v;

	c->log_format = conf_choice("log-format",
	    conf_def(val, O_LOG_FORMAT, "human"), fmts) == 1 ?
	    LOG_FMT_JSON : LOG_FMT_HUMAN;
	c->log_level = LOG_ERR + conf_choice("log-level",
	    conf_def(val, O_LOG_LEVEL, "info"), lvls);
	if ((v = conf_val(val, O_RNG_SEED)) != NULL) {
		c->has_seed = 1;
		c->rng_seed = conf_uint("rng-seed", v, 0, UINT64_MAX);
	}
	c->secret_file = conf_val(val, O_SECRET_FILE);
	if (c->secret_file != NULL && *c->secret_file == '\0')
		sup_usage_error("empty --secret-file");
	c->user = conf_def(val, O_USER, "nobody");
	conf_user(c);
	conf_worker_path(c, conf_val(val, O_WORKER_PATH));
}

static void
conf_positional(struct sup_conf *c, int argc, char **argv)
{
	const char	*e;

	if (argc - optind > 2)
		sup_usage_error("unexpected argument '%s'", argv[optind + 2]);
	if (argc - optind >= 1)
		c->token = argv[optind];
	else if ((e = getenv("FIREZONE_TOKEN")) != NULL && *e != '\0')
		c->token = e;
	if (argc - optind >= 2)
		c->name = argv[optind + 1];
	else if ((e = getenv("FIREZONE_NAME")) != NULL && *e != '\0')
		c->name = e;
	if (c->token != NULL && *c->token == '\0')
		c->token = NULL;
}

static void
conf_getopt(int argc, char **argv, const char **val, struct sup_conf *c)
{
	struct option	lopts[SUP_NOPTS + 1];
	size_t		i;
	int		ch;

	memset(lopts, 0, sizeof(lopts));
	for (i = 0; i < SUP_NOPTS; i++) {
		lopts[i].name = sup_opts[i].name;
		lopts[i].has_arg = sup_opts[i].arg ? required_argument :
		    no_argument;
		lopts[i].val = sup_opts[i].id;
	}
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hV", lopts, NULL)) != -1) {
		if (ch == 'h' || ch == O_HELP)
			sup_help();
		if (ch == 'V' || ch == O_VERSION) {
			printf("turncell %s\n", TURNCELL_VERSION);
			exit(0);
		}
		if (ch == ':')
			sup_usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		if (ch == '?' || ch < O_LISTEN_PORT || ch >= O_END)
			sup_usage_error("unknown option '%s'",
			    argv[optind - 1]);
		if (ch == O_ALLOW)
			conf_allow(c, optarg);
		else if (ch == O_INDICATIONS)
			c->indications = 1;
		else if (ch == O_ONE_PER_USER)
			c->one_per_user = 1;
		else if (ch == O_SCHED_BATCH)
			c->sched_batch = 1;
		else if (ch == O_XDP)
			conf_xdp(c, optarg);
		else if (ch == O_XDP_GENERIC)
			c->xdp_generic = 1;
		else
			val[O_IX(ch)] = optarg;
	}
}

/* the engine's quotas and budgets from the configuration */
void
sup_conf_engine(const struct sup_conf *c, struct turn_conf *tc)
{
	tc->max_allocs = c->max_allocs;
	tc->max_allocs_per_ip = c->max_allocs_per_ip;
	tc->max_allocs_per_user = c->max_allocs_per_user;
	tc->starts_per_ip_per_s = c->starts_per_ip;
	tc->starts_global_per_s = c->starts_global;
	tc->unauth_per_ip_per_s = c->unauth_rate;
	tc->unauth_global_per_s = c->unauth_global;
	tc->binding_per_ip_per_s = c->binding_rate;
	tc->binding_global_per_s = c->binding_global;
	tc->max_user_ttl_s = c->max_cred_ttl;
	tc->realm = c->realm;
	tc->one_per_user = c->one_per_user;
}

void
sup_conf_parse(struct sup_conf *c, int argc, char **argv)
{
	const char	*val[O_N];

	memset(c, 0, sizeof(*c));
	memset(val, 0, sizeof(val));
	conf_getopt(argc, argv, val, c);
	conf_positional(c, argc, argv);
	conf_misc(c, val);
	conf_addrs(c, val);
	conf_portal(c, val);
	conf_limits(c, val);
	if (c->xdp_generic && c->n_xdp == 0)
		sup_usage_error("--xdp-generic needs --xdp");
}
