/*
 * 50-smoke.c: one end-to-end pass through the real bin/turncell on
 * loopback: Binding, 401 then Allocate, ChannelBind, ChannelData both
 * ways, REFRESH 0 (the worker is gone and reaped), SIGTERM -> exit 0.
 *
 * The relay comes from the one launcher of t/tutil.h (ephemeral listen
 * port, reserved relay range, watchdog, killed by PID on every path);
 * the client side is self-contained on purpose (its own small client over
 * the codec): the first test to look at when anything in the supervisor
 * breaks. Every receive polls with a timeout, every wait has a deadline.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "auth.h"
#include "stun.h"
#include "tap.h"
#include "tutil.h"

#define WAIT_MS		3000
#define NPORTS		8
#define CHAN		0x4000

static struct tu_relay	relay;

/* ---- UDP helpers --------------------------------------------------- */

static int
udp_bind(uint16_t port)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
sock_addr(int fd, struct taddr *t)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return addr_from_sockaddr((struct sockaddr *)&ss, len, t);
}

static int
send_to(int fd, const struct taddr *to, const void *p, size_t len)
{
	struct sockaddr_storage	ss;
	size_t			sl = addr_to_sockaddr(to, &ss);

	return sendto(fd, p, len, 0, (struct sockaddr *)&ss,
	    (socklen_t)sl) == (ssize_t)len ? 0 : -1;
}

static long
recv_from(int fd, void *buf, size_t cap, int ms, struct taddr *from)
{
	struct sockaddr_storage	ss;
	struct pollfd		pfd = { fd, POLLIN, 0 };
	socklen_t		len = sizeof(ss);
	ssize_t			n;

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
	if (n < 0)
		return -1;
	if (from != NULL)
		addr_from_sockaddr((struct sockaddr *)&ss, len, from);
	return n;
}

/* ---- relay process ------------------------------------------------- */

/* children (any state, zombies included) of the relay, once there are
 * `want` of them or after ms */
static int
wait_children(int want, int ms)
{
	return (int)tu_wait_children(relay.pid, (size_t)want, NULL, ms);
}

/* ---- STUN client --------------------------------------------------- */

struct client {
	int		 fd;
	struct taddr	 local, server;
	char		 user[96];
	char		 pass[AUTH_PASS_LEN + 1];
	uint8_t		 key[16];
	uint8_t		 nonce[800];
	size_t		 nonce_len;
	uint8_t		 tid[STUN_TID_LEN];
	uint8_t		 buf[2048];
	struct stun_msg	 resp;
	int		 wait_ms;	/* per request */
};

static void
new_tid(uint8_t tid[STUN_TID_LEN])
{
	int	i;

	for (i = 0; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)tu_rand();
}

/* build, send and wait for the response with the same transaction id */
static int
transact(struct client *c, uint16_t method, int auth, uint32_t lifetime,
    int has_lifetime, const struct taddr *peer, uint16_t chan)
{
	struct stun_enc	e;
	uint8_t		req[1024];
	uint64_t	end;
	long		len, n;
	int		code;

	new_tid(c->tid);
	stun_enc_init(&e, req, sizeof(req), method, STUN_REQUEST, c->tid);
	if (method == STUN_ALLOCATE)
		stun_put_u32(&e, STUN_A_REQUESTED_TRANSPORT, 17u << 24);
	if (has_lifetime)
		stun_put_u32(&e, STUN_A_LIFETIME, lifetime);
	if (chan != 0)
		stun_put_u32(&e, STUN_A_CHANNEL_NUMBER, (uint32_t)chan << 16);
	if (peer != NULL)
		stun_put_xaddr(&e, STUN_A_XOR_PEER_ADDRESS, peer);
	if (auth) {
		stun_put_attr(&e, STUN_A_USERNAME, c->user, strlen(c->user));
		stun_put_attr(&e, STUN_A_REALM, AUTH_REALM,
		    strlen(AUTH_REALM));
		stun_put_attr(&e, STUN_A_NONCE, c->nonce, c->nonce_len);
		stun_put_mi(&e, c->key);
	}
	if ((len = stun_enc_finish(&e)) < 0 ||
	    send_to(c->fd, &c->server, req, (size_t)len) == -1)
		return -1;
	end = tu_now_ms() + (uint64_t)c->wait_ms;
	while (tu_now_ms() < end) {
		n = recv_from(c->fd, c->buf, sizeof(c->buf),
		    (int)(end - tu_now_ms()), NULL);
		if (n <= 0)
			return -1;
		if (stun_decode(c->buf, (size_t)n, &c->resp, &code) !=
		    STUN_OK || memcmp(c->resp.tid, c->tid, STUN_TID_LEN) != 0)
			continue;
		return 0;
	}
	return -1;
}

static void
client_creds(struct client *c)
{
	char		salt[] = "smoke0123456789";
	uint64_t	expiry = (uint64_t)time(NULL) + 3600;

	snprintf(c->user, sizeof(c->user), "%llu:%s",
	    (unsigned long long)expiry, salt);
	auth_password(expiry, relay.secret, strlen(relay.secret), salt, strlen(salt),
	    c->pass);
	stun_lt_key((const uint8_t *)c->user, strlen(c->user), AUTH_REALM,
	    c->pass, strlen(c->pass), c->key);
}

static int
wait_binding(struct client *c)
{
	uint64_t	end = tu_now_ms() + WAIT_MS;
	int		r = -1;

	/* the relay may not listen yet: short tries until it answers */
	c->wait_ms = 100;
	while (r == -1 && tu_now_ms() < end)
		r = transact(c, STUN_BINDING, 0, 0, 0, NULL, 0);
	c->wait_ms = WAIT_MS;
	return r;
}

/* ---- the scenario -------------------------------------------------- */

static void
t_binding(struct client *c)
{
	int	ok_ = wait_binding(c) == 0;

	ok(ok_, "Binding answered");
	ok(ok_ && c->resp.cls == STUN_SUCCESS &&
	    (c->resp.has & STUN_HAS_MAPPED) != 0 &&
	    addr_eq(&c->resp.mapped, &c->local),
	    "Binding success carries our address as XOR-MAPPED-ADDRESS");
}

static int
t_allocate(struct client *c, struct taddr *relayed, uint16_t lo, uint16_t hi)
{
	int	r;

	r = transact(c, STUN_ALLOCATE, 0, 0, 0, NULL, 0);
	ok(r == 0 && c->resp.cls == STUN_ERROR &&
	    c->resp.error_code == STUN_ERR_UNAUTHORIZED &&
	    (c->resp.has & STUN_HAS_NONCE) != 0,
	    "unauthenticated Allocate gets 401 with a nonce");
	if (r != 0 || (c->resp.has & STUN_HAS_NONCE) == 0 ||
	    c->resp.nonce_len > sizeof(c->nonce))
		return -1;
	memcpy(c->nonce, c->resp.nonce, c->resp.nonce_len);
	c->nonce_len = c->resp.nonce_len;
	r = transact(c, STUN_ALLOCATE, 1, 0, 0, NULL, 0);
	ok(r == 0 && c->resp.cls == STUN_SUCCESS,
	    "authenticated Allocate succeeds (got class %d code %d)",
	    r == 0 ? c->resp.cls : -1, r == 0 ? c->resp.error_code : -1);
	if (r != 0 || c->resp.cls != STUN_SUCCESS || c->resp.n_relayed < 1)
		return -1;
	ok(stun_check_mi(&c->resp, c->key) == 1,
	    "Allocate success is signed with our key");
	*relayed = c->resp.relayed[0];
	ok(relayed->family == ADDR_V4 && relayed->port >= lo &&
	    relayed->port <= hi, "relayed address in the port range (%u)",
	    relayed->port);
	is_int(wait_children(1, WAIT_MS), 1, "exactly one worker process");
	return 0;
}

static void
t_channel(struct client *c, int peer, const struct taddr *peer_addr,
    const struct taddr *relayed)
{
	static const char	up[] = "smoke: client to peer";
	static const char	down[] = "smoke: peer to client";
	uint8_t			buf[256], hdr[CDATA_HDR_LEN];
	struct taddr		from;
	long			n;
	int			r;

	r = transact(c, STUN_CHANNEL_BIND, 1, 0, 0, peer_addr, CHAN);
	ok(r == 0 && c->resp.cls == STUN_SUCCESS, "ChannelBind succeeds");

	cdata_put_hdr(hdr, CHAN, sizeof(up) - 1);
	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), up, sizeof(up) - 1);
	send_to(c->fd, &c->server, buf, sizeof(hdr) + sizeof(up) - 1);
	n = recv_from(peer, buf, sizeof(buf), WAIT_MS, &from);
	is_mem(buf, n > 0 ? (size_t)n : 0, up, sizeof(up) - 1,
	    "ChannelData reaches the peer");
	ok(n > 0 && addr_eq(&from, relayed),
	    "the peer sees the relayed address as the source");

	send_to(peer, relayed, down, sizeof(down) - 1);
	n = recv_from(c->fd, buf, sizeof(buf), WAIT_MS, NULL);
	cdata_put_hdr(hdr, CHAN, sizeof(down) - 1);
	ok(n == (long)(sizeof(hdr) + sizeof(down) - 1) &&
	    memcmp(buf, hdr, sizeof(hdr)) == 0 &&
	    memcmp(buf + sizeof(hdr), down, sizeof(down) - 1) == 0,
	    "peer data reaches the client as ChannelData");
}

static void
t_refresh0(struct client *c)
{
	int	r;

	r = transact(c, STUN_REFRESH, 1, 0, 1, NULL, 0);
	ok(r == 0 && c->resp.cls == STUN_SUCCESS &&
	    (c->resp.has & STUN_HAS_LIFETIME) != 0 && c->resp.lifetime == 0,
	    "REFRESH 0 succeeds with LIFETIME 0");
	is_int(wait_children(0, WAIT_MS), 0,
	    "the worker is gone and reaped (no zombie)");
	r = transact(c, STUN_REFRESH, 1, 600, 1, NULL, 0);
	ok(r == 0 && c->resp.cls == STUN_ERROR &&
	    c->resp.error_code == STUN_ERR_ALLOC_MISMATCH,
	    "a later REFRESH gets 437");
}

static void
t_sigterm(void)
{
	pid_t		r;
	int		st = 0;

	ok(kill(relay.pid, SIGTERM) == 0, "SIGTERM sent");
	r = tu_waitpid(relay.pid, &st, WAIT_MS);	/* untracks it */
	ok(r == relay.pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the relay exits 0 on SIGTERM without allocations");
	if (r == relay.pid)
		relay.exited = 1;
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct client		c;
	struct taddr		relayed, peer_addr;
	int			peer, rc;

	tu_init(30);
	tu_need("bin/turncell", "bin/turncell-worker", NULL);
	memset(&c, 0, sizeof(c));
	if ((c.fd = udp_bind(0)) == -1 || sock_addr(c.fd, &c.local) == -1 ||
	    (peer = udp_bind(0)) == -1 || sock_addr(peer, &peer_addr) == -1)
		skip_all("cannot open UDP sockets on 127.0.0.1");
	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.nports = NPORTS;
	o.log_level = "debug";
	o.no_wait = 1;		/* t_binding() waits for the first answer */
	rc = tu_relay_start(&relay, &o);
	ok(rc == 0 && relay.port != 0, "relay started (pid %ld)",
	    (long)relay.pid);
	c.server = relay.addr4;
	client_creds(&c);

	t_binding(&c);
	if (t_allocate(&c, &relayed, relay.lo, relay.hi) == 0) {
		t_channel(&c, peer, &peer_addr, &relayed);
		t_refresh0(&c);
	}
	t_sigterm();
	if (tap_failed())
		tu_log_dump(&relay, 60);
	tu_relay_stop(&relay);
	return done_testing();
}
