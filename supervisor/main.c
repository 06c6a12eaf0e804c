/*
 * main.c: bin/turncell, the supervisor.
 *
 * Configuration, then the worker spawner (sup_spawner.c: forked before
 * any secret is read), secret, listen sockets and engine (the engine
 * needs the bound port: --listen-port 0 lets the kernel choose it, and
 * --port-file tells a script which one it chose, and the health port);
 * then one libev loop over the listen sockets, the workers, the portal
 * and the health listener; at the end every worker is killed. `turncell cred` mints credentials instead.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "sup.h"
#include "sup_health.h"
#include "sup_lws.h"
#include "sup_metrics.h"
#include "sup_portal.h"
#include "sup_xdp.h"

static struct sup_conf	conf;
static struct sup	sup;

/*
 * Each allocation holds two or three of the supervisor's descriptors (its
 * worker's socketpair and its relay socket(s)), so the soft limit is
 * raised to the hard one, which the operator sets (LimitNOFILE in
 * contrib/turncell.service); past it an ALLOCATE gets 508, logged.
 */
static void
nofile_raise(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("Cannot raise the descriptor limit to the hard limit");
}

/* fds 0-2 must be open, or a socket could end up as "stderr" */
static int
std_fds(void)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	while (fd <= STDERR_FILENO) {
		(void)fcntl(fd, F_SETFD, 0);
		if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
			fatal("/dev/null");
	}
	return fd;
}

/*
 * The UDP listen port, then the health port when there is a health
 * listener, one per line; written when both are bound, whole or not at
 * all (a reader sees no file or all of it).
 */
static void
port_file_write(const char *path, uint16_t port, uint16_t health)
{
	char	tmp[PATH_MAX], line[32];
	int	fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		fatalx("--port-file path too long");
	if (health != 0)
		n = snprintf(line, sizeof(line), "%u\n%u\n", port, health);
	else
		n = snprintf(line, sizeof(line), "%u\n", port);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		fatal("Cannot write --port-file file=%s", tmp);
	if (write(fd, line, (size_t)n) != n || close(fd) == -1)
		fatal("Cannot write --port-file file=%s", tmp);
	if (rename(tmp, path) == -1)
		fatal("Cannot rename --port-file file=%s", path);
}

static struct turn *
engine_new(const struct sup_conf *c, const char *secret, size_t slen)
{
	struct turn_conf	tc;
	struct turn		*t;
	uint8_t			nkey[AUTH_NONCE_KEY_LEN];

	memset(&tc, 0, sizeof(tc));
	sup_rng_key(nkey, sizeof(nkey));	/* never from --rng-seed */
	tc.nonce_key = nkey;
	tc.public4 = c->public4;
	tc.public6 = c->public6;
	tc.lowest_port = c->lowest_port;
	tc.highest_port = c->highest_port;
	tc.secret = secret;
	tc.secret_len = slen;
	tc.software = "turncell/" TURNCELL_VERSION;
	tc.auth_schemes = c->auth_schemes;
	sup_conf_engine(c, &tc);
	tc.filter = c->filter;
	tc.alternate = c->alternate;
	tc.indications = c->indications;
	t = turn_new(&tc, sup_rng, NULL);
	explicit_bzero(nkey, sizeof(nkey));
	if (t == NULL)
		fatalx("cannot create the engine");
	turn_set_response_hook(t, sup_metrics_hook, NULL);
	return t;
}

static void
portal_event_cb(void *arg, enum portal_event ev, const char *why)
{
	struct sup	*s = arg;

	switch (ev) {
	case PORTAL_JOINED:
	case PORTAL_LOST:
		sup_metrics.portal_connected = ev == PORTAL_JOINED;
		break;
	case PORTAL_FATAL:
		log_kv(LOG_ERR, "Portal connection failed", "reason", why,
		    (char *)NULL);
		sup_exit_now(s, 1);
		break;
	case PORTAL_LEFT:
		s->portal_gone = 1;
		sup_metrics.portal_connected = 0;
		log_info("Left the portal");
		sup_pump_event(s, SUP_IN_NONE, 0);	/* is draining done? */
		break;
	}
}

/* the health listener and the portal; the health port (0 = none) */
static uint16_t
net_start(struct sup *s, const char *secret)
{
	const struct sup_conf	*c = s->conf;
	struct phx_conf		 pc;
	struct portal_cb	 cb = { portal_event_cb, s };
	struct health_src	 hs = { sup_metrics_cb, sup_ready_cb, s };
	uint16_t		 hport = 0;

	/* health has its own listener: nothing the portal does can slow it */
	if (c->health_addr != NULL &&
	    health_start(s->loop, c->health_addr, &hs, &hport) == -1)
		sup_usage_error("cannot serve health checks on %s",
		    c->health_addr);
	if (c->token == NULL)
		return hport;
	if (sup_lws_init(s->loop) == -1)
		fatalx("cannot start libwebsockets");
	memset(&pc, 0, sizeof(pc));
	pc.api_url = c->api_url;
	pc.token = c->token;
	pc.name = c->name;
	pc.ipv4 = c->public4_s;
	pc.ipv6 = c->public6_s;
	pc.port = c->listen_port;
	pc.secret = secret;
	log_kv(LOG_INFO, "connecting to portal", "url", c->api_url,
	    (char *)NULL);
	if (portal_start(&pc, &cb) == -1)
		sup_usage_error("cannot start the portal connection to %s",
		    c->api_url);
	return hport;
}

int
main(int argc, char **argv)
{
	const char	*set[TURN_SECRETS_MAX], *why;
	char		*secret;
	size_t		 slen, lens[TURN_SECRETS_MAX], nsec;
	uint16_t	 hport;

	sup_secure_early();
	if (argc > 1 && strcmp(argv[1], "cred") == 0)
		return sup_cred_main(argc - 1, argv + 1);
	sup.devnull = std_fds();
	sup_conf_parse(&conf, argc, argv);
	log_init(conf.log_format, conf.log_level);
	log_procinit("sup");
	nofile_raise();
	if (log_nonblock() == -1)
		log_warn("stderr stays blocking: a stalled log reader can "
		    "stall the relay");
	sup_secure_token(&conf, argc, argv);
	if (sup_self_scan(&conf, &conf.filter) == -1)
		log_warnx("Could not list every address of this host (the "
		    "first are refused as peers) count=%d", PEER_MAX_HOST);
	sup_self_warn(&conf);
	sup_rng_init(conf.has_seed, conf.rng_seed);
	if (conf.has_seed)
		log_warnx("--rng-seed set: port choices and salts are "
		    "reproducible (tests only; the secret and nonces are not)");
	if (geteuid() == 0 && !conf.drop_privs)
		log_warnx("Workers will run as root (--user has uid 0) user=%s",
		    conf.user);
	/*
	 * The spawner first: the token is in the vault (which it wipes),
	 * and no secret, nonce key or listen socket exists yet.
	 */
	sup.spawner_fd = -1;
	if ((sup.spawner_pid = spn_start(&conf, sup.devnull,
	    &sup.spawner_fd)) == -1)
		log_warn("Cannot start the worker spawner; the supervisor "
		    "starts workers itself");
	secret = sup_secret_make(&conf, &slen);
	secret = sup_secure_secret(secret, slen);
	/* checked by sup_secret_make; the portal gets the first line */
	nsec = (size_t)sup_secrets_split(secret, slen, set, lens, &why);
	secret[lens[0]] = '\0';
	sup.secret = secret;
	sup.secret_len = slen;

	sup.conf = &conf;
	sup.pid = getpid();
	sup.exit_status = -1;
	sup.portal_gone = conf.token == NULL;
	if ((sup.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("cannot create the event loop");
	sup_conf_port(&conf, sup_listen_bind(&conf, &sup.fd4, &sup.fd6));
	sup.turn = engine_new(&conf, set[0], lens[0]);
	if (turn_set_secrets(sup.turn, set, lens, nsec) == -1)
		fatalx("cannot give the engine its secrets");
	sup_metrics_init(&sup);
	sup_xdp_start(&conf);		/* before any worker exists */
	sup_worker_init(&sup);
	sup_pool_init(&sup);
	sup_loop_init(&sup);
	sup_self_start(&sup);
	if (conf.token == NULL)
		log_warnx("No portal token supplied, starting standalone mode");
	hport = net_start(&sup, secret);
	if (conf.port_file != NULL)
		port_file_write(conf.port_file, conf.listen_port, hport);

	ev_run(sup.loop, 0);

	sup_worker_kill_all(&sup);
	sup_xdp_stop();
	if (sup.exit_status == 0)
		log_info("Goodbye!");
	return sup.exit_status == -1 ? 1 : sup.exit_status;
}
