/*
 * tutil_net.c: the UDP sockets of the end-to-end tests (see tutil.h), on
 * 127.0.0.1 and ::1, every receive bounded by a poll, and the kernel's
 * per-port figures from /proc/net.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tutil.h"

void
tu_ip4(struct taddr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3,
    uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V4;
	a->port = port;
	a->ip[0] = b0;
	a->ip[1] = b1;
	a->ip[2] = b2;
	a->ip[3] = b3;
}

void
tu_ip6_loop(struct taddr *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V6;
	a->port = port;
	a->ip[15] = 1;
}

void
tu_ip6_mapped(struct taddr *a, const struct taddr *v4)
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V6;
	a->port = v4->port;
	a->ip[10] = 0xff;
	a->ip[11] = 0xff;
	memcpy(a->ip + 12, v4->ip, 4);
}

int
tu_udp_bind(int family, uint16_t port)
{
	struct taddr	a;

	if (family == ADDR_V6)
		tu_ip6_loop(&a, port);
	else
		tu_ip4(&a, 127, 0, 0, 1, port);
	return tu_udp_bind_addr(&a);
}

int
tu_sock_addr(int fd, struct taddr *a)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	return addr_from_sockaddr((struct sockaddr *)&ss, sl, a);
}

int
tu_sendto(int fd, const struct taddr *to, const void *p, size_t n)
{
	struct sockaddr_storage	ss;
	size_t			sl;

	sl = addr_to_sockaddr(to, &ss);
	if (sendto(fd, p, n, 0, (struct sockaddr *)&ss, (socklen_t)sl) !=
	    (ssize_t)n)
		return -1;
	return 0;
}

long
tu_recvfrom(int fd, void *p, size_t cap, int timeout_ms, struct taddr *from)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;
	struct pollfd		pfd;
	uint64_t		end = tu_now_ms() + (uint64_t)timeout_ms;
	int64_t			left;
	ssize_t			n;
	int			r;

	for (;;) {
		left = (int64_t)end - (int64_t)tu_now_ms();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		sl = sizeof(ss);
		n = recvfrom(fd, p, cap, MSG_DONTWAIT, (struct sockaddr *)&ss,
		    &sl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNREFUSED)
				continue;
			return -1;
		}
		if (from != NULL &&
		    addr_from_sockaddr((struct sockaddr *)&ss, sl, from) == -1)
			memset(from, 0, sizeof(*from));
		return (long)n;
	}
}

int
tu_port_free(uint16_t port, int v6)
{
	int	fd;

	if ((fd = tu_udp_bind(ADDR_V4, port)) < 0)
		return 0;
	close(fd);
	if (v6) {
		if ((fd = tu_udp_bind(ADDR_V6, port)) < 0)
			return 0;
		close(fd);
	}
	return 1;
}

int
tu_have_ipv6(void)
{
	int	fd;

	if ((fd = tu_udp_bind(ADDR_V6, 0)) < 0)
		return 0;
	close(fd);
	return 1;
}



int
tu_udp_bind_addr(const struct taddr *a)
{
	struct sockaddr_storage	ss;
	size_t			sl;
	int			fd, one = 1;

	sl = addr_to_sockaddr(a, &ss);
	fd = socket(a->family == ADDR_V6 ? AF_INET6 : AF_INET,
	    SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (a->family == ADDR_V6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tu_rcvbuf(int fd, int bytes)
{
	int		v = bytes;
	socklen_t	sl = sizeof(v);

	/* FORCE passes net.core.rmem_max but needs CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl) == -1)
		return -1;
	return v;
}

/* one /proc/net/udp{,6} table: sl local rem st tx:rx tr:when retr uid
 * timeout inode ref pointer drops */
static long
tu_udp_drops_in(const char *path, uint16_t port)
{
	FILE		*f;
	char		 line[512], local[64];
	unsigned	 lport;
	unsigned long	 drops;
	long		 sum = 0;
	char		*colon, *p;
	int		 field;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {	/* header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*s %63s", local) != 1 ||
		    (colon = strrchr(local, ':')) == NULL ||
		    sscanf(colon + 1, "%x", &lport) != 1 || lport != port)
			continue;
		/* drops is the last field */
		p = line + strlen(line);
		while (p > line && isspace((unsigned char)p[-1]))
			p--;
		while (p > line && !isspace((unsigned char)p[-1]))
			p--;
		field = sscanf(p, "%lu", &drops);
		if (field == 1)
			sum += (long)drops;
	}
	fclose(f);
	return sum;
}

static long
tu_tcp_conns_in(const char *path, uint16_t port)
{
	FILE		*f;
	char		 line[512];
	unsigned	 lport, st;
	long		 n = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
		    &lport, &st) == 2 && lport == port && st != 0x0A)
			n++;
	fclose(f);
	return n;
}

/* one figure summed over the IPv4 and IPv6 table; -1 if neither reads */
static long
tu_both_tables(long (*fn)(const char *, uint16_t), const char *v4,
    const char *v6, uint16_t port)
{
	long	a = fn(v4, port), b = fn(v6, port);

	if (a < 0 && b < 0)
		return -1;
	return (a > 0 ? a : 0) + (b > 0 ? b : 0);
}

long
tu_tcp_conns(uint16_t port)
{
	return tu_both_tables(tu_tcp_conns_in, "/proc/net/tcp",
	    "/proc/net/tcp6", port);
}

long
tu_udp_drops(uint16_t port)
{
	return tu_both_tables(tu_udp_drops_in, "/proc/net/udp",
	    "/proc/net/udp6", port);
}
