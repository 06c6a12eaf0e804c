/*
 * sup_dns.c: resolve the portal's host name without blocking the loop
 * and without polling.
 *
 * getaddrinfo_a() runs the lookup on a glibc helper thread and, with
 * SIGEV_THREAD, calls sup_dns_notify() on a thread of its own when it is
 * done. That function only calls ev_async_send(), the one libev call
 * documented as safe from another thread; everything else (reading the
 * result, the callback) happens on the loop in sup_dns_done().
 *
 * A lookup cannot be stopped once glibc has started it, so a cancelled
 * one stays "busy" until it finishes and its result is thrown away; the
 * request block lives as long as the struct, which is never freed.
 */
#define _GNU_SOURCE		/* getaddrinfo_a */

#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "sup_dns.h"

struct sup_dns {
	struct ev_loop	*loop;
	ev_async	 done;		/* signalled by the lookup's thread */
	struct gaicb	 req;
	struct gaicb	*list[1];
	struct addrinfo	 hints;
	struct sigevent	 sev;
	char		 host[256];
	int		 busy;		/* a lookup runs (wanted or not) */
	int		 wanted;	/* its result goes to cb */
	sup_dns_cb	*cb;
	void		*arg;
};

/* on a thread of glibc's: nothing but the wake-up */
static void
sup_dns_notify(union sigval sv)
{
	struct sup_dns	*d = sv.sival_ptr;

	ev_async_send(d->loop, &d->done);
}

static void
sup_dns_done(struct ev_loop *loop, ev_async *w, int revents)
{
	struct sup_dns	*d = w->data;
	struct addrinfo	*res;
	int		 rc;

	if (!d->busy || (rc = gai_error(&d->req)) == EAI_INPROGRESS)
		return;
	res = rc == 0 ? d->req.ar_result : NULL;
	d->req.ar_result = NULL;
	d->busy = 0;
	if (d->wanted) {
		d->wanted = 0;
		d->cb(d->arg, rc, res);
	}
	if (res != NULL)
		freeaddrinfo(res);
}

struct sup_dns *
sup_dns_new(struct ev_loop *loop)
{
	struct sup_dns	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->loop = loop;
	ev_async_init(&d->done, sup_dns_done);
	d->done.data = d;
	ev_async_start(loop, &d->done);
	ev_unref(loop);		/* never what keeps the loop running */
	return d;
}

int
sup_dns_start(struct sup_dns *d, const char *host, sup_dns_cb *cb,
    void *arg)
{
	if (d->busy && gai_error(&d->req) != EAI_INPROGRESS)
		sup_dns_done(d->loop, &d->done, 0);	/* finished meanwhile */
	if (d->busy)
		return -1;
	if (snprintf(d->host, sizeof(d->host), "%s", host) >=
	    (int)sizeof(d->host))
		return -1;
	memset(&d->req, 0, sizeof(d->req));
	memset(&d->hints, 0, sizeof(d->hints));
	memset(&d->sev, 0, sizeof(d->sev));
	d->hints.ai_family = AF_UNSPEC;
	d->hints.ai_socktype = SOCK_STREAM;
	d->req.ar_name = d->host;
	d->req.ar_request = &d->hints;
	d->list[0] = &d->req;
	d->sev.sigev_notify = SIGEV_THREAD;
	d->sev.sigev_notify_function = sup_dns_notify;
	d->sev.sigev_value.sival_ptr = d;
	if (getaddrinfo_a(GAI_NOWAIT, d->list, 1, &d->sev) != 0)
		return -1;
	d->busy = 1;
	d->wanted = 1;
	d->cb = cb;
	d->arg = arg;
	return 0;
}

void
sup_dns_cancel(struct sup_dns *d)
{
	if (!d->busy)
		return;
	d->wanted = 0;
	if (gai_cancel(&d->req) == EAI_CANCELED) {
		/* never started: no notification will come */
		d->busy = 0;
		if (d->req.ar_result != NULL)
			freeaddrinfo(d->req.ar_result);
		d->req.ar_result = NULL;
	}
}
