/*
 * tutil_portal.c: the mock portal, HTTP and portal-relay helpers of
 * tutil_portal.h.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"
#include "tutil_portal.h"

/*
 * HTTP
 */

static int
tp_connect(uint16_t port, int timeout_ms)
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	socklen_t		 sl = sizeof(int);
	int			 fd, err = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int
tp_send_all(int fd, const char *p, size_t len, uint64_t end)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	ssize_t		 n;
	int		 left;

	while (len > 0) {
		left = (int)(end - tu_now_ms());
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return -1;
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read until EOF or the deadline; -1 on timeout */
static long
tp_recv_all(int fd, char *buf, size_t cap, uint64_t end)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 len = 0;
	ssize_t		 n;
	char		 sink[512];
	int		 left;

	for (;;) {
		left = (int)(end - tu_now_ms());
		if ((int64_t)(end - tu_now_ms()) <= 0 ||
		    poll(&pfd, 1, left) != 1)
			return -1;
		if (len + 1 < cap)
			n = recv(fd, buf + len, cap - 1 - len, 0);
		else
			n = recv(fd, sink, sizeof(sink), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		if (len + 1 < cap)
			len += (size_t)n;
	}
	buf[len] = '\0';
	return (long)len;
}

int
tp_http(uint16_t port, const char *method, const char *path, char *hdrs,
    size_t hcap, char *body, size_t cap, int timeout_ms)
{
	static char	 resp[TP_BODY_MAX + 4096];
	char		 req[1024], *sep;
	uint64_t	 end = tu_now_ms() + (uint64_t)timeout_ms;
	int		 fd, n, status;
	size_t		 hl;

	if (cap > 0)
		body[0] = '\0';
	if (hdrs != NULL && hcap > 0)
		hdrs[0] = '\0';
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "%sConnection: close\r\n\r\n", method, path,
	    strcmp(method, "GET") != 0 ? "Content-Length: 0\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req))
		return -1;
	if ((fd = tp_connect(port, timeout_ms)) < 0)
		return -1;
	if (tp_send_all(fd, req, (size_t)n, end) == -1 ||
	    tp_recv_all(fd, resp, sizeof(resp), end) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	if ((sep = strstr(resp, "\r\n\r\n")) == NULL)
		return -1;
	hl = (size_t)(sep - resp);
	if (hdrs != NULL && hcap > 0)
		snprintf(hdrs, hcap, "%.*s", (int)hl, resp);
	if (cap > 0)
		snprintf(body, cap, "%s", sep + 4);
	return status;
}

int
tp_http_get(uint16_t port, const char *path, char *body, size_t cap)
{
	return tp_http(port, "GET", path, NULL, 0, body, cap, 2000);
}

long long
tp_metric(uint16_t port, const char *name)
{
	char		 b[16384], pat[160];
	const char	*at;
	long long	 v;

	if (tp_http_get(port, "/metrics", b, sizeof(b)) != 200)
		return -1;
	snprintf(pat, sizeof(pat), "\n%s ", name);
	if ((at = strstr(b, pat)) == NULL ||
	    sscanf(at + strlen(pat), "%lld", &v) != 1)
		return -1;
	return v;
}

/* a counter summed over all its label sets ("name" and "name{...}"); -1
 * when /metrics cannot be read or has no such series */
long long
tp_metric_sum(uint16_t port, const char *name)
{
	static char	 b[65536];
	const char	*p, *v;
	size_t		 nl = strlen(name);
	long long	 sum = -1;

	if (tp_http_get(port, "/metrics", b, sizeof(b)) != 200)
		return -1;
	for (p = b; (p = strstr(p, name)) != NULL; p += nl) {
		if ((p != b && p[-1] != '\n') ||
		    (p[nl] != ' ' && p[nl] != '{'))
			continue;
		v = p + nl;
		if (*v == '{' && (v = strchr(v, '}')) == NULL)
			break;
		sum = (sum < 0 ? 0 : sum) + strtoll(v + 1, NULL, 10);
	}
	return sum;
}

struct tp_mwait {
	uint16_t	 port;
	const char	*name;
	long long	 min;
};

static int
tp_metric_reached(void *arg)
{
	const struct tp_mwait	*m = arg;

	return tp_metric(m->port, m->name) >= m->min;
}

long long
tp_metric_least(uint16_t port, const char *name, long long min,
    int timeout_ms)
{
	struct tp_mwait	m = { port, name, min };

	(void)tu_wait_for(tp_metric_reached, &m, timeout_ms);
	return tp_metric(port, name);
}

/*
 * JSON (the mock's compact cJSON output; enough for tests)
 */

/* p at '"': returns the character after the closing quote */
static const char *
tp_skip_str(const char *p)
{
	for (p++; *p != '\0' && *p != '"'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return *p == '"' ? p + 1 : p;
}

/* p at '{' or '[': returns the character after the matching close */
static const char *
tp_skip_nested(const char *p)
{
	int	 depth = 0;

	while (*p != '\0') {
		if (*p == '"') {
			p = tp_skip_str(p);
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return p;
}

const char *
tp_json_find(const char *j, const char *key)
{
	const char	*p, *s, *e;
	size_t		 kl = strlen(key);
	int		 depth = 0;

	for (p = j; *p != '\0';) {
		if (*p == '"') {
			s = p + 1;
			e = tp_skip_str(p);
			if (depth == 1 && *e == ':' &&
			    (size_t)(e - s) == kl + 1 &&
			    strncmp(s, key, kl) == 0)
				return e + 1;
			p = e;
			continue;
		}
		if (depth >= 1 && (*p == '{' || *p == '[')) {
			p = tp_skip_nested(p);
			continue;
		}
		if (*p == '{')
			depth++;
		else if (*p == '}')
			depth--;
		p++;
	}
	return NULL;
}

int
tp_json_int(const char *j, const char *key, long *out)
{
	const char	*v = tp_json_find(j, key);
	char		*end;

	if (v == NULL)
		return -1;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (end == v || errno != 0)
		return -1;
	return 0;
}

int
tp_json_bool(const char *j, const char *key, int *out)
{
	const char	*v = tp_json_find(j, key);

	if (v == NULL)
		return -1;
	if (strncmp(v, "true", 4) == 0)
		*out = 1;
	else if (strncmp(v, "false", 5) == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

int
tp_json_str(const char *j, const char *key, char *out, size_t cap)
{
	const char	*v = tp_json_find(j, key), *e;
	size_t		 n = 0;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (v == NULL || *v != '"')
		return -1;
	e = tp_skip_str(v);
	for (v++; v < e - 1 && n + 1 < cap; v++) {
		if (*v == '\\' && v + 1 < e - 1)
			v++;	/* simple escapes only */
		out[n++] = *v;
	}
	out[n] = '\0';
	return 0;
}

int
tp_json_elem(const char *j, const char *key, int idx, char *out, size_t cap)
{
	const char	*p = tp_json_find(j, key), *e;
	int		 i = 0;

	if (p == NULL || *p != '[' || cap == 0)
		return -1;
	for (p++; *p != '\0' && *p != ']';) {
		if (*p == ',' || *p == ' ') {
			p++;
			continue;
		}
		if (*p == '{' || *p == '[')
			e = tp_skip_nested(p);
		else if (*p == '"')
			e = tp_skip_str(p);
		else
			e = p + strcspn(p, ",]");
		if (i++ == idx) {
			snprintf(out, cap, "%.*s", (int)(e - p), p);
			return 0;
		}
		p = e;
	}
	return -1;
}

int
tp_json_count(const char *j, const char *key)
{
	static char	 tmp[TP_BODY_MAX];
	int		 n = 0;

	while (tp_json_elem(j, key, n, tmp, sizeof(tmp)) == 0)
		n++;
	return n;
}

size_t
tp_hexlen(const char *s)
{
	size_t	 n = 0;

	while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))
		n++;
	return n;
}

/*
 * The mock portal
 */

int
tp_file_has(const char *path, const char *needle)
{
	static char	 buf[TP_BODY_MAX];
	FILE		*f;
	size_t		 n;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

uint16_t
tp_tcp_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 fd;
	uint16_t		 port = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* the port of the last "listening on IP:PORT" line after `from`, 0 if none */
static uint16_t
tp_mock_logged_port(const struct tp_mock *m, off_t from)
{
	char		 line[512];
	const char	*p, *colon;
	FILE		*f;
	long		 v = 0;

	if ((f = fopen(m->log_path, "r")) == NULL)
		return 0;
	if (from > 0)
		fseeko(f, from, SEEK_SET);
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, "listening on ")) != NULL &&
		    (colon = strrchr(p, ':')) != NULL)
			v = strtol(colon + 1, NULL, 10);
	fclose(f);
	return v > 0 && v < 65536 ? (uint16_t)v : 0;
}

struct tp_mock_waiting {
	struct tp_mock	*m;
	off_t		 from;
	int		 up;		/* 1 up, -1 exited */
};

/* the mock said where it listens (and answers /state without TLS) */
static int
tp_mock_up(void *arg)
{
	static char		 body[TP_BODY_MAX];
	struct tp_mock_waiting	*w = arg;
	struct tp_mock		*m = w->m;
	uint16_t		 port;

	if (tu_waitpid(m->pid, &m->status, 0) == m->pid) {
		m->pid = -1;
		w->up = -1;
		return 1;
	}
	if ((port = tp_mock_logged_port(m, w->from)) == 0)
		return 0;
	m->port = port;
	if (m->cert == NULL &&
	    tp_http_get(m->port, "/state", body, sizeof(body)) != 200)
		return 0;
	w->up = 1;
	return 1;
}

/* bin/mock-portal on m->port (0: the kernel's choice, read from its log) */
static int
tp_mock_spawn(struct tp_mock *m)
{
	struct tp_mock_waiting	 w = { m, 0, 0 };
	struct stat		 st;
	char			 listen[32], *bin, *av[12];
	int			 n = 5;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", m->port);
	if ((bin = strdup(tu_path("bin/mock-portal"))) == NULL)
		return -1;
	av[0] = bin;
	av[1] = "--listen";
	av[2] = listen;
	av[3] = "--secret-log";
	av[4] = m->secret_log;
	if (m->cert != NULL) {
		av[n++] = "--tls-cert";
		av[n++] = (char *)m->cert;
		av[n++] = "--tls-key";
		av[n++] = (char *)m->key;
	}
	av[n] = NULL;
	if (stat(m->log_path, &st) == 0)
		w.from = st.st_size;	/* a restart: only the new lines */
	m->pid = tu_spawn(av, NULL, m->log_path);
	free(bin);
	if (m->pid < 0)
		return -1;
	tu_wait_for(tp_mock_up, &w, 3000);
	if (w.up == 1) {
		snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%u",
		    m->port);
		return 0;
	}
	if (w.up == -1)
		diag("mock portal exited at start (port %u)", m->port);
	else
		diag("mock portal did not answer within 3 s");
	return -1;
}

int
tp_mock_start(struct tp_mock *m, uint16_t port)
{
	const char	*cert = m->cert, *key = m->key;

	memset(m, 0, sizeof(*m));
	m->cert = cert;
	m->key = key;
	m->pid = -1;
	snprintf(m->dir, sizeof(m->dir), "/tmp/turncell-mp.XXXXXX");
	if (mkdtemp(m->dir) == NULL)
		return -1;
	snprintf(m->log_path, sizeof(m->log_path), "%s/log", m->dir);
	snprintf(m->secret_log, sizeof(m->secret_log), "%s/secrets",
	    m->dir);
	m->port = port;		/* 0: an ephemeral port */
	return tp_mock_spawn(m);
}

int
tp_mock_restart(struct tp_mock *m)
{
	uint64_t	 end = tu_now_ms() + 3000;

	/* the old listener may linger for a moment */
	while (tu_now_ms() < end) {
		if (tp_mock_spawn(m) == 0)
			return 0;
		tu_sleep_ms(100);
	}
	return -1;
}

int
tp_mock_kill(struct tp_mock *m, int sig)
{
	int	 st;

	if (m->pid <= 0)
		return -1;
	tu_kill(m->pid, sig);
	if (tu_waitpid(m->pid, &st, 2000) != m->pid) {
		tu_kill(m->pid, SIGKILL);
		tu_waitpid(m->pid, &st, 2000);
		st = -1;
	}
	tu_untrack(m->pid);
	m->pid = -1;
	m->status = st;
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void
tp_mock_stop(struct tp_mock *m)
{
	if (m->pid > 0)
		tp_mock_kill(m, SIGTERM);
	if (m->dir[0] == '\0')
		return;
	if (getenv("TU_KEEP") != NULL || tap_failed() > 0) {
		diag("mock portal files kept in %s", m->dir);
		return;
	}
	unlink(m->log_path);
	unlink(m->secret_log);
	rmdir(m->dir);
	m->dir[0] = '\0';
}

int
tp_mock_state(const struct tp_mock *m, char *body, size_t cap)
{
	return tp_http_get(m->port, "/state", body, cap) == 200 ? 0 : -1;
}

int
tp_mock_control(const struct tp_mock *m, const char *query)
{
	char	 path[256], body[512];

	snprintf(path, sizeof(path), "/control?%s", query);
	return tp_http_get(m->port, path, body, sizeof(body)) == 200 ? 0 : -1;
}

int
tp_mock_cred(const struct tp_mock *m, long ttl, char *user, size_t ucap,
    char pass[AUTH_PASS_LEN + 1])
{
	char	 path[64], body[1024];

	snprintf(path, sizeof(path), "/credentials?ttl=%ld", ttl);
	if (tp_http_get(m->port, path, body, sizeof(body)) != 200)
		return -1;
	if (tp_json_str(body, "username", user, ucap) == -1 ||
	    tp_json_str(body, "password", pass, AUTH_PASS_LEN + 1) == -1)
		return -1;
	return 0;
}

struct tp_state_wait {
	const struct tp_mock	*m;
	const char		*key;
	long			 min, v;
};

static int
tp_state_at_least(void *arg)
{
	static char		 body[TP_BODY_MAX];
	struct tp_state_wait	*w = arg;

	return tp_mock_state(w->m, body, sizeof(body)) == 0 &&
	    tp_json_int(body, w->key, &w->v) == 0 && w->v >= w->min;
}

long
tp_mock_wait(const struct tp_mock *m, const char *key, long min,
    int timeout_ms)
{
	struct tp_state_wait	w = { m, key, min, -1 };

	tu_wait_for(tp_state_at_least, &w, timeout_ms);
	return w.v;
}

/*
 * A relay with a portal token
 */

/* the one launcher (tu_relay_start) with the portal tests' options */
int
tp_relay_start(struct tu_relay *r, const struct tp_relay_opts *o)
{
	static char		 tokenv[256], health[32];
	struct tu_relay_opts	 u;
	size_t			 i, ne = 0;

	memset(&u, 0, sizeof(u));
	u.no_secret = 1;
	u.allow[0] = "127.0.0.0/8";
	u.log_level = "debug";
	u.nports = o->nports > 0 ? o->nports : 8;
	if (o->ports != NULL) {
		u.port = o->ports->port;
		u.lo = o->ports->lo;
		u.hi = o->ports->hi;
	}
	if (o->health_port != 0) {
		snprintf(health, sizeof(health), "127.0.0.1:%u",
		    o->health_port);
		u.health = health;
	} else if (o->health_any)
		u.health = "127.0.0.1:0";
	u.api_url = o->api_url;
	u.token = o->token;
	u.name = o->token != NULL ? o->name : NULL;
	if (o->env_token != NULL) {
		snprintf(tokenv, sizeof(tokenv), "FIREZONE_TOKEN=%s",
		    o->env_token);
		u.env[ne++] = tokenv;
	}
	for (i = 0; i < 2 && o->env[i] != NULL; i++)
		u.env[ne++] = o->env[i];
	for (i = 0; i < TU_MAX_EXTRA && o->extra[i] != NULL; i++)
		u.extra[i] = o->extra[i];
	u.no_wait = o->no_wait;
	return tu_relay_start(r, &u);
}

static int
tp_exited(void *arg)
{
	return !tu_relay_alive(arg);
}

int
tp_relay_wait_exit(struct tu_relay *r, int timeout_ms)
{
	return tu_wait_for(tp_exited, r, timeout_ms);
}

void
tp_client_cred(struct tu_client *c, const char *user, const char *pass)
{
	snprintf(c->user, sizeof(c->user), "%s", user);
	snprintf(c->pass, sizeof(c->pass), "%s", pass);
	stun_lt_key((const uint8_t *)c->user, strlen(c->user), AUTH_REALM,
	    c->pass, strlen(c->pass), c->key);
}
