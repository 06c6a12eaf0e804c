/*
 * sup_health.c: the health and metrics HTTP listener (README "Health and
 * metrics").
 *
 * A listening vhost on the supervisor's libwebsockets context (so on its
 * libev loop): GET /healthz is 200 while the process runs, GET /readyz is
 * 200 when src->ready() says so and 503 otherwise, GET /metrics is the
 * Prometheus text exposition from src->metrics(). HEAD gets the headers
 * of GET. Any other path is 404, any other method on a known path 405.
 * lws parses the requests; we only compare the path it hands us.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "addr.h"
#include "log.h"
#include "sup_lws.h"
#include "sup_portal.h"

#define HEALTH_PROTO		"turncell-health"
#define HEALTH_METRICS_CAP	(256 * 1024)
#define HEALTH_CT_TEXT		"text/plain; charset=utf-8"
#define HEALTH_CT_PROM		"text/plain; version=0.0.4; charset=utf-8"

struct health_pss {
	unsigned char	*body;		/* LWS_PRE + len */
	size_t		 len;
	int		 head;		/* HEAD: headers only */
};

static struct health_src	 health_src;
static struct lws_vhost		*health_vh;

static int	health_lws_cb(struct lws *, enum lws_callback_reasons, void *,
		    void *, size_t);

static const struct lws_protocols health_protocols[] = {
	{ HEALTH_PROTO, health_lws_cb, sizeof(struct health_pss), 0, 0,
	    NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static int
health_set_body(struct health_pss *pss, const char *text, size_t len)
{
	free(pss->body);
	if ((pss->body = malloc(LWS_PRE + len)) == NULL)
		return -1;
	memcpy(pss->body + LWS_PRE, text, len);
	pss->len = len;
	return 0;
}

static int
health_metrics(struct health_pss *pss)
{
	size_t	 n;

	free(pss->body);
	pss->len = 0;
	if ((pss->body = malloc(LWS_PRE + HEALTH_METRICS_CAP)) == NULL)
		return -1;
	n = 0;
	if (health_src.metrics != NULL)
		n = health_src.metrics(health_src.arg,
		    (char *)pss->body + LWS_PRE, HEALTH_METRICS_CAP);
	if (n > HEALTH_METRICS_CAP)
		n = HEALTH_METRICS_CAP;
	if (n == 0) {
		memcpy(pss->body + LWS_PRE, "\n", 1);
		n = 1;
	}
	pss->len = n;
	return 0;
}

/* choose status and body for a request; -1 on allocation failure */
static int
health_route(struct lws *wsi, struct health_pss *pss, const char *path,
    unsigned int *status, const char **ctype)
{
	int	 get, ready;

	pss->head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
	get = pss->head || lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
	*ctype = HEALTH_CT_TEXT;
	if (strcmp(path, "/healthz") != 0 && strcmp(path, "/readyz") != 0 &&
	    strcmp(path, "/metrics") != 0) {
		*status = HTTP_STATUS_NOT_FOUND;
		return health_set_body(pss, "not found\n", 10);
	}
	if (!get) {
		*status = HTTP_STATUS_METHOD_NOT_ALLOWED;
		return health_set_body(pss, "method not allowed\n", 19);
	}
	*status = HTTP_STATUS_OK;
	if (strcmp(path, "/healthz") == 0)
		return health_set_body(pss, "ok\n", 3);
	if (strcmp(path, "/readyz") == 0) {
		ready = health_src.ready != NULL &&
		    health_src.ready(health_src.arg);
		if (ready)
			return health_set_body(pss, "ready\n", 6);
		*status = HTTP_STATUS_SERVICE_UNAVAILABLE;
		return health_set_body(pss, "not ready\n", 10);
	}
	*ctype = HEALTH_CT_PROM;
	return health_metrics(pss);
}

static int
health_on_request(struct lws *wsi, struct health_pss *pss, const char *path)
{
	unsigned char	 hdr[LWS_PRE + 512];
	unsigned char	*start = &hdr[LWS_PRE], *p = start;
	unsigned char	*end = &hdr[sizeof(hdr) - 1];
	const char	*ctype;
	unsigned int	 status;

	if (path == NULL)
		path = "";
	if (health_route(wsi, pss, path, &status, &ctype) == -1)
		return -1;
	if (lws_add_http_common_headers(wsi, status, ctype, pss->len, &p,
	    end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"cache-control:",
	    (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
health_on_writeable(struct lws *wsi, struct health_pss *pss)
{
	int	 n;

	if (pss->body == NULL)
		return 0;
	n = 0;
	if (!pss->head)
		n = lws_write(wsi, pss->body + LWS_PRE, pss->len,
		    LWS_WRITE_HTTP_FINAL);
	free(pss->body);
	pss->body = NULL;
	if (n < 0)
		return -1;
	if (lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static int
health_lws_cb(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct health_pss	*pss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return health_on_request(wsi, pss, in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return health_on_writeable(wsi, pss);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss != NULL) {
			free(pss->body);
			pss->body = NULL;
		}
		break;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return -1;	/* no websockets here */
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int
health_start(const char *addr, const struct health_src *src)
{
	struct lws_context_creation_info info;
	struct taddr	 ta;
	char		 ip[ADDR_STRLEN];
	static const uint8_t zero[16];

	if (sup_lws_context() == NULL) {
		log_warnx("health: sup_lws_init() was not called");
		return -1;
	}
	if (health_vh != NULL) {
		log_warnx("health: already started");
		return -1;
	}
	if (addr == NULL || addr_parse_hostport(addr, &ta) == -1 ||
	    ta.port == 0) {
		log_warnx("health: bad address \"%s\" (want ip:port or "
		    "[ip6]:port)", addr ? addr : "");
		return -1;
	}
	addr_fmt_ip(&ta, ip, sizeof(ip));
	health_src = *src;

	memset(&info, 0, sizeof(info));
	info.vhost_name = "health";
	info.protocols = health_protocols;
	info.port = ta.port;
	info.keepalive_timeout = 5;
	info.timeout_secs = 10;
	info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (ta.family == ADDR_V4)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	/* lws binds to all addresses when iface is NULL */
	if (memcmp(ta.ip, zero, ta.family == ADDR_V4 ? 4 : 16) != 0)
		info.iface = ip;

	if ((health_vh = lws_create_vhost(sup_lws_context(), &info)) == NULL) {
		log_warnx("health: cannot listen on %s", addr);
		return -1;
	}
	log_info("health: listening on %s (/healthz /readyz /metrics)", addr);
	return 0;
}
