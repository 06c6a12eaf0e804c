/*
 * sup_lws.c: the supervisor's libwebsockets context.
 *
 * One context, created with the libev event library on the supervisor's
 * own loop (a "foreign" loop, so lws installs no signal watchers and never
 * runs the loop itself) and with explicit vhosts: sup_portal.c adds a
 * client-only vhost (health has its own listener). lws log lines go
 * through our logger: its errors as warnings, its warnings at debug.
 */
#include <stddef.h>
#include <string.h>

#include <libwebsockets.h>

#include "log.h"
#include "sup_lws.h"

static struct lws_context	*sup_lws_ctx;
static struct ev_loop		*sup_lws_evloop;
static void			*sup_lws_loops[1];

static void
sup_lws_emit(int level, const char *line)
{
	char	 buf[512];
	size_t	 n;

	n = strlen(line);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	log_kv(level == LLL_ERR ? LOG_WARN : LOG_DEBUG, "libwebsockets",
	    "detail", buf, (char *)NULL);
}

int
sup_lws_init(struct ev_loop *loop)
{
	struct lws_context_creation_info info;

	if (sup_lws_ctx != NULL)
		return 0;
	lws_set_log_level(LLL_ERR | LLL_WARN, sup_lws_emit);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.options = LWS_SERVER_OPTION_LIBEV |
	    LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
	    LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	sup_lws_loops[0] = loop;
	info.foreign_loops = sup_lws_loops;
	info.gid = -1;
	info.uid = -1;
	/* small, bounded header space: we only ever parse short requests */
	info.max_http_header_data = 4096;
	info.max_http_header_pool = 32;
	info.fd_limit_per_thread = 256;
	info.server_string = "turncell";

	if ((sup_lws_ctx = lws_create_context(&info)) == NULL) {
		log_warnx("lws: cannot create the websocket context "
		    "(libev event library plugin missing?)");
		return -1;
	}
	sup_lws_evloop = loop;
	return 0;
}

void
sup_lws_free(void)
{
	if (sup_lws_ctx == NULL)
		return;
	lws_context_destroy(sup_lws_ctx);
	sup_lws_ctx = NULL;
	sup_lws_evloop = NULL;
}

struct lws_context *
sup_lws_context(void)
{
	return sup_lws_ctx;
}

struct ev_loop *
sup_lws_loop(void)
{
	return sup_lws_evloop;
}
