/*
 * sup_xdp.c: the supervisor's side of the XDP fast path (--xdp IFACE):
 * loading the program (supervisor/bpf/xdp_relay.bpf.c, embedded in this
 * binary), attaching it, and keeping its channel maps in step with the
 * engine. The only file that uses libbpf.
 *
 * The maps are written by the command pump only (sup_pump.c), from the
 * same commands that drive the workers: CHAN_ADD adds a channel's two
 * entries, CHAN_DEL removes them, WORKER_STOP and a worker gone remove
 * every entry of the allocation. So the kernel relays exactly the
 * channels a worker relays, and no longer. Permissions do not matter:
 * a worker relays a bound channel whatever its permissions, and so does
 * the kernel.
 *
 * Not in the fast path (the workers relay them, as without --xdp):
 * channels whose peer is of the other family than the client or on an
 * address of this host (hairpin: it must be delivered locally), every
 * channel when --max-bps is set (the token buckets are the workers'),
 * and channels beyond the maps' size. A table here mirrors the entries
 * by allocation, so that an allocation's entries can be removed without
 * walking the maps.
 *
 * Everything is loaded before the first worker is started; the fds are
 * close-on-exec and a worker closes every descriptor but its own anyway.
 * Each attachment is a bpf_link: closing it (at exit, or when the
 * process dies) detaches the program.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sup.h"
#include "sup_xdp.h"
#include "bpf/xdp_relay.h"

/* the program object, built by make (build/bpf/xdp_relay.bpf.o) */
__asm__(
	"	.section .rodata\n"
	"	.balign 8\n"
	"sup_xdp_obj:\n"
	"	.incbin \"build/bpf/xdp_relay.bpf.o\"\n"
	"sup_xdp_obj_end:\n"
	"	.previous\n");
extern const unsigned char sup_xdp_obj[], sup_xdp_obj_end[];

#define XDP_BUCKETS	1024
#define XDP_MTU_DEF	1500

/* one fast-path channel, as written to the maps */
struct xdp_ent {
	struct xdp_ent	*next;
	uint32_t	 alloc_id;
	uint16_t	 chan;
	struct xr_c2p_key c2p;
	struct xr_p2c_key p2c;
};

static struct bpf_object *xdp_obj;
static int		 xdp_c2p_fd = -1, xdp_p2c_fd = -1, xdp_stats_fd = -1;
static int		 xdp_links[SUP_XDP_MAX];
static size_t		 xdp_nlinks;
static struct xdp_ent	*xdp_tab[XDP_BUCKETS];
static size_t		 xdp_nent;
static uint64_t		 xdp_full;	/* channels the maps had no room for */

/* ifname NULL: about the program, not one interface */
static void
xdp_log(const char *msg, const char *ifname, const char *why)
{
	if (ifname == NULL)
		log_kv(LOG_WARN, msg, "reason", why, "fallback", "userspace",
		    (char *)NULL);
	else
		log_kv(LOG_WARN, msg, "iface", ifname, "reason", why,
		    "fallback", "userspace", (char *)NULL);
}

/* the smallest MTU of the interfaces (the program adds 4 bytes) */
static uint16_t
xdp_mtu(const struct sup_conf *c)
{
	struct ifreq	ifr;
	int		fd, mtu = 65535;
	size_t		i;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return XDP_MTU_DEF;
	for (i = 0; i < c->n_xdp; i++) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->xdp[i]);
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0 &&
		    ifr.ifr_mtu < mtu)
			mtu = ifr.ifr_mtu;
	}
	close(fd);
	return (uint16_t)mtu;
}

static int
xdp_load(const struct sup_conf *c)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "xdp_relay");
	struct xr_cfg	 cfg;
	uint32_t	 zero = 0;
	int		 err, cfg_fd;
	char		 why[128];

	libbpf_set_print(NULL);
	xdp_obj = bpf_object__open_mem(sup_xdp_obj,
	    (size_t)(sup_xdp_obj_end - sup_xdp_obj), &oo);
	if (xdp_obj == NULL) {
		xdp_log("XDP program not opened", NULL, strerror(errno));
		return -1;
	}
	if ((err = bpf_object__load(xdp_obj)) != 0) {
		snprintf(why, sizeof(why), "cannot load BPF: %s",
		    strerror(-err));
		xdp_log("XDP program not loaded", NULL, why);
		return -1;
	}
	cfg_fd = bpf_object__find_map_fd_by_name(xdp_obj, "xr_cfg");
	xdp_c2p_fd = bpf_object__find_map_fd_by_name(xdp_obj, "xr_c2p");
	xdp_p2c_fd = bpf_object__find_map_fd_by_name(xdp_obj, "xr_p2c");
	xdp_stats_fd = bpf_object__find_map_fd_by_name(xdp_obj, "xr_stats");
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_port = htons(c->listen_port);
	cfg.mtu = xdp_mtu(c);
	if (cfg_fd < 0 || xdp_c2p_fd < 0 || xdp_p2c_fd < 0 ||
	    xdp_stats_fd < 0 ||
	    bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY) != 0) {
		xdp_log("XDP maps not found", NULL, strerror(errno));
		return -1;
	}
	return 0;
}

static void
xdp_attach(const struct sup_conf *c, int prog_fd, const char *ifname)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo,
	    .flags = c->xdp_generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	unsigned	ifindex;
	int		fd;
	char		why[128];

	if ((ifindex = if_nametoindex(ifname)) == 0) {
		xdp_log("XDP not attached", ifname, strerror(errno));
		return;
	}
	if ((fd = bpf_link_create(prog_fd, (int)ifindex, BPF_XDP, &lo)) < 0) {
		snprintf(why, sizeof(why), "%s%s", strerror(-fd),
		    !c->xdp_generic && (fd == -EOPNOTSUPP || fd == -EINVAL) ?
		    " (driver without native XDP? --xdp-generic)" : "");
		xdp_log("XDP not attached", ifname, why);
		return;
	}
	xdp_links[xdp_nlinks++] = fd;
	log_kv(LOG_INFO, "XDP fast path attached", "iface", ifname, "mode",
	    c->xdp_generic ? "generic" : "native", (char *)NULL);
}

void
sup_xdp_start(const struct sup_conf *c)
{
	struct bpf_program	*p;
	size_t			 i;

	if (c->n_xdp == 0)
		return;
	if (c->max_bps != 0) {
		log_kv(LOG_WARN, "XDP fast path off: --max-bps is enforced by "
		    "the workers", "fallback", "userspace", (char *)NULL);
		return;
	}
	if (xdp_load(c) == -1 ||
	    (p = bpf_object__find_program_by_name(xdp_obj, "xdp_relay")) ==
	    NULL) {
		sup_xdp_stop();
		return;
	}
	for (i = 0; i < c->n_xdp; i++)
		xdp_attach(c, bpf_program__fd(p), c->xdp[i]);
	if (xdp_nlinks == 0)
		sup_xdp_stop();
}

void
sup_xdp_stop(void)
{
	struct xdp_ent	*e, *n;
	size_t		 i;

	for (i = 0; i < xdp_nlinks; i++)
		close(xdp_links[i]);
	xdp_nlinks = 0;
	if (xdp_obj != NULL)
		bpf_object__close(xdp_obj);
	xdp_obj = NULL;
	xdp_c2p_fd = xdp_p2c_fd = xdp_stats_fd = -1;
	for (i = 0; i < XDP_BUCKETS; i++) {
		for (e = xdp_tab[i]; e != NULL; e = n) {
			n = e->next;
			free(e);
		}
		xdp_tab[i] = NULL;
	}
	xdp_nent = 0;
}

int
sup_xdp_active(void)
{
	return xdp_nlinks > 0;
}

static void
xdp_unmap(const struct xdp_ent *e)
{
	(void)bpf_map_delete_elem(xdp_c2p_fd, &e->c2p);
	(void)bpf_map_delete_elem(xdp_p2c_fd, &e->p2c);
}

void
sup_xdp_chan_add(struct sup *s, uint32_t alloc_id, uint16_t chan,
    const struct taddr *peer)
{
	struct xr_c2p_val	 cv;
	struct xr_p2c_val	 pv;
	struct xdp_ent		*e, **b;
	struct taddr		 client;
	uint16_t		 port;

	if (!sup_xdp_active() ||
	    turn_alloc_addrs(s->turn, alloc_id, &client, &port) == -1 ||
	    client.family != peer->family || sup_self_is_host(peer))
		return;
	sup_xdp_chan_del(alloc_id, chan);	/* a channel bound again */
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;			/* the worker relays it */
	e->alloc_id = alloc_id;
	e->chan = chan;
	memcpy(e->c2p.ip, client.ip, sizeof(e->c2p.ip));
	e->c2p.port = htons(client.port);
	e->c2p.chan = htons(chan);
	e->c2p.family = client.family;
	memcpy(e->p2c.ip, peer->ip, sizeof(e->p2c.ip));
	e->p2c.port = htons(peer->port);
	e->p2c.relay_port = htons(port);
	e->p2c.family = peer->family;
	memset(&cv, 0, sizeof(cv));
	memcpy(cv.peer, peer->ip, sizeof(cv.peer));
	cv.peer_port = htons(peer->port);
	cv.relay_port = htons(port);
	memset(&pv, 0, sizeof(pv));
	memcpy(pv.client, client.ip, sizeof(pv.client));
	pv.client_port = htons(client.port);
	pv.chan = htons(chan);
	if (bpf_map_update_elem(xdp_c2p_fd, &e->c2p, &cv, BPF_ANY) != 0 ||
	    bpf_map_update_elem(xdp_p2c_fd, &e->p2c, &pv, BPF_ANY) != 0) {
		xdp_unmap(e);
		free(e);
		xdp_full++;
		return;
	}
	b = &xdp_tab[alloc_id % XDP_BUCKETS];
	e->next = *b;
	*b = e;
	xdp_nent++;
}

void
sup_xdp_chan_del(uint32_t alloc_id, uint16_t chan)
{
	struct xdp_ent	**pp, *e;

	for (pp = &xdp_tab[alloc_id % XDP_BUCKETS]; (e = *pp) != NULL;
	    pp = &e->next) {
		if (e->alloc_id == alloc_id && e->chan == chan) {
			xdp_unmap(e);
			*pp = e->next;
			free(e);
			xdp_nent--;
			return;
		}
	}
}

void
sup_xdp_alloc_gone(uint32_t alloc_id)
{
	struct xdp_ent	**pp, *e;

	pp = &xdp_tab[alloc_id % XDP_BUCKETS];
	while ((e = *pp) != NULL) {
		if (e->alloc_id != alloc_id) {
			pp = &e->next;
			continue;
		}
		xdp_unmap(e);
		*pp = e->next;
		free(e);
		xdp_nent--;
	}
}

int
sup_xdp_stats(struct sup_xdp_stats *st)
{
	uint64_t	*v;
	uint32_t	 k;
	int		 n, c;

	memset(st, 0, sizeof(*st));
	if (!sup_xdp_active())
		return -1;
	st->channels = xdp_nent;
	st->full = xdp_full;
	if ((n = libbpf_num_possible_cpus()) <= 0 ||
	    (v = calloc((size_t)n, sizeof(*v))) == NULL)
		return 0;
	for (k = 0; k < XR_NSTATS; k++) {
		if (bpf_map_lookup_elem(xdp_stats_fd, &k, v) != 0)
			continue;
		for (c = 0; c < n; c++)
			st->v[k] += v[c];
	}
	free(v);
	return 0;
}

/* payload bytes relayed both ways, summed over CPUs; 0 when not active */
uint64_t
sup_xdp_bytes(void)
{
	struct sup_xdp_stats	st;

	if (sup_xdp_stats(&st) == -1)
		return 0;
	return st.v[XR_C2P_BYTES] + st.v[XR_P2C_BYTES];
}
