/*
 * tutil_portal.h: helpers for the portal, health and drain tests
 * (t/60-portal.c, t/61-health.c): bin/mock-portal as a child, a tiny
 * bounded HTTP/1.0 client, field lookup in the mock's compact JSON, and a
 * relay started with a portal token (so with its own fresh secret, which
 * tu_relay_start() cannot do: it always passes --secret-file).
 *
 * Built on t/tutil.h (process tracking, clients, logs). Every wait has a
 * deadline; every process is started through tu_spawn() and so tracked
 * and killed by PID at exit.
 */
#ifndef TUTIL_PORTAL_H
#define TUTIL_PORTAL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "tutil.h"

#define TP_BODY_MAX	65536

struct tp_mock {
	pid_t		 pid;
	uint16_t	 port;
	char		 url[64];		/* http://127.0.0.1:port */
	char		 dir[64];
	char		 log_path[128];
	char		 secret_log[128];
	int		 status;		/* wait status once exited */
	const char	*cert, *key;	/* TLS, set before start */
};

/* start bin/mock-portal on 127.0.0.1 (port 0: the kernel chooses, the mock
 * logs it) and wait until it answers GET /state (with TLS: until it logs
 * that it listens); 0 or -1. m->cert and m->key, when set, are kept. */
int	 tp_mock_start(struct tp_mock *, uint16_t port);
/* the same mock again on its port (after tp_mock_kill) */
int	 tp_mock_restart(struct tp_mock *);
/* send sig and reap (SIGKILL if it has not gone within 2 s); 0 if it had
 * exited with status 0 after the signal */
int	 tp_mock_kill(struct tp_mock *, int sig);
/* SIGTERM, reap, remove the files (kept when a test failed) */
void	 tp_mock_stop(struct tp_mock *);

/* HTTP/1.0 to 127.0.0.1:port: returns the status or -1; body (and the
 * header block when hdrs != NULL) NUL-terminated and truncated to fit */
int	 tp_http(uint16_t port, const char *method, const char *path,
	    char *hdrs, size_t hcap, char *body, size_t cap, int timeout_ms);
int	 tp_http_get(uint16_t port, const char *path, char *body,
	    size_t cap);
/* a metric's value from /metrics (name with its labels), -1 if absent */
long long tp_metric(uint16_t port, const char *name);
long long tp_metric_sum(uint16_t port, const char *name);
/* the metric once it is at least min, waiting up to timeout_ms; else its
 * value then (-1 if absent) */
long long tp_metric_least(uint16_t port, const char *name, long long min,
	    int timeout_ms);

int	 tp_mock_state(const struct tp_mock *, char *body, size_t cap);
int	 tp_mock_control(const struct tp_mock *, const char *query);
int	 tp_mock_cred(const struct tp_mock *, long ttl, char *user,
	    size_t ucap, char pass[AUTH_PASS_LEN + 1]);
/* poll /state until the top-level number `key` >= min; returns the last
 * value seen (-1 when the mock did not answer) */
long	 tp_mock_wait(const struct tp_mock *, const char *key, long min,
	    int timeout_ms);

/* the mock's JSON: top-level members only (nested ones are skipped) */
const char *tp_json_find(const char *json, const char *key);
int	 tp_json_int(const char *json, const char *key, long *);
int	 tp_json_bool(const char *json, const char *key, int *);
int	 tp_json_str(const char *json, const char *key, char *, size_t);
/* copy element idx of the top-level array `key` (an object) */
int	 tp_json_elem(const char *json, const char *key, int idx, char *,
	    size_t);
int	 tp_json_count(const char *json, const char *key);

/* 1 if the file contains needle (bounded read) */
int	 tp_file_has(const char *path, const char *needle);
/* a free TCP port on 127.0.0.1 (0 on failure) */
uint16_t tp_tcp_port(void);

struct tp_relay_opts {
	const char	*token;		/* positional TOKEN or NULL */
	const char	*env_token;	/* FIREZONE_TOKEN instead */
	const char	*name;		/* positional NAME */
	const char	*api_url;
	uint16_t	 health_port;	/* 0 = --health-check-addr none */
	int		 health_any;	/* 127.0.0.1:0: r->health_port */
	int		 nports;	/* relay port range (default 8) */
	const struct tu_relay *ports;	/* reuse its ports */
	int		 no_wait;	/* no wait for a Binding */
	const char	*extra[TU_MAX_EXTRA];
	const char	*env[2];	/* more "K=V" */
};

/*
 * Start bin/turncell on 127.0.0.1 with a fresh temp dir and log (fields
 * of struct tu_relay as tu_relay_start() fills them, except that there is
 * no secret file: r->secret stays empty). --allow-peer 127.0.0.0/8 is
 * always given. 0 or -1.
 */
int	 tp_relay_start(struct tu_relay *, const struct tp_relay_opts *);
/* wait for the relay to exit: 1 exited (r->status), 0 still running */
int	 tp_relay_wait_exit(struct tu_relay *, int timeout_ms);
/* use these credentials from now on (fresh key, nonce kept) */
void	 tp_client_cred(struct tu_client *, const char *user,
	    const char *pass);
/* the number of 64-hex characters at the start of s */
size_t	 tp_hexlen(const char *s);

#endif
