/*
 * 41-udpbatch.c: the UDP batch sender (common/udp_batch.c) on real
 * sockets, in a network namespace of its own: consecutive datagrams to
 * one address become one GSO send; the coalescing rule (equal sizes,
 * only the last shorter, one address); and the error policy for a GSO
 * send the route refuses (loopback MTU set below the segment size: the
 * kernel answers EINVAL), whose datagrams must still all arrive, in order.
 */
#define _GNU_SOURCE	/* unshare, struct mmsghdr */

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "tap.h"
#include "udp_batch.h"

static uint8_t	data[16][1200];

static int
lo_set(int mtu)
{
	struct ifreq	ifr;
	int		s, rc = -1;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name) - 1);
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) == -1)
		goto out;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		goto out;
	ifr.ifr_flags |= IFF_UP;
	rc = ioctl(s, SIOCSIFFLAGS, &ifr);
out:
	close(s);
	return rc;
}

/* a socket on 127.0.0.1, its address in *a */
static int
udp_open(struct taddr *a)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	int			fd, v = 1 << 20;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&sin, sl, a) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* receive n datagrams and compare them with data[i][0..len[i]) */
static int
recv_all(int fd, const size_t *len, size_t n)
{
	uint8_t		buf[2048];
	size_t		i;
	ssize_t		r;

	for (i = 0; i < n; i++) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 || (size_t)r != len[i] ||
		    memcmp(buf, data[i], len[i]) != 0) {
			diag("datagram %zu: got %zd bytes, want %zu", i, r,
			    len[i]);
			return 0;
		}
	}
	r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	return r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static struct udp_batch	b;

static void
test_gso(int tx, int rx, const struct taddr *to, const struct taddr *other,
    int rx2)
{
	size_t	len[16], i;

	for (i = 0; i < 10; i++)
		len[i] = 1000;
	len[9] = 300;
	udp_batch_init(&b, tx);
	for (i = 0; i < 10; i++)
		udp_batch_add(&b, to, data[i], len[i]);
	ok(b.n == 1 && b.msg[0].msg_hdr.msg_iovlen == 10 && b.ent[0].seg == 1000,
	    "ten datagrams to one address, the last shorter: one GSO send "
	    "of 10 segments of 1000 (n %u)", b.n);
	udp_batch_flush(&b);
	ok(b.st.pkts == 10 && b.st.bytes == 9300 && b.st.err == 0 &&
	    b.st.lost == 0 && b.st.split == 0,
	    "counted: 10 datagrams, 9300 bytes, no error");
	usleep(10000);
	ok(recv_all(rx, len, 10), "all ten arrive, in order, intact");

	/* what ends a GSO send */
	udp_batch_init(&b, tx);
	udp_batch_add(&b, to, data[0], 500);
	udp_batch_add(&b, to, data[1], 400);	/* shorter: the last */
	udp_batch_add(&b, to, data[2], 400);	/* after a short one */
	udp_batch_add(&b, to, data[3], 600);	/* longer */
	udp_batch_add(&b, other, data[4], 600);	/* other address */
	udp_batch_add(&b, to, data[5], 1201);	/* above the segment cap */
	udp_batch_add(&b, to, data[6], 100);
	ok(b.n == 6 && b.msg[0].msg_hdr.msg_iovlen == 2 &&
	    b.msg[1].msg_hdr.msg_iovlen == 1 &&
	    b.msg[2].msg_hdr.msg_iovlen == 1 && b.ent[3].seg == 0 &&
	    b.ent[4].seg == 0 && b.ent[5].seg == 0,
	    "shorter closes, longer / other address / above 1200 start anew "
	    "(n %u)", b.n);
	udp_batch_flush(&b);
	len[0] = 500;
	len[1] = len[2] = 400;
	len[3] = 600;
	len[4] = 1201;
	len[5] = 100;
	usleep(10000);
	memmove(data[4], data[5], sizeof(data[4]));	/* rx order */
	memmove(data[5], data[6], sizeof(data[5]));
	ok(b.st.pkts == 7 && b.st.err == 0 && recv_all(rx, len, 6),
	    "every datagram arrives at its address, in order");
	ok(recv(rx2, data[15], sizeof(data[15]), MSG_DONTWAIT) == 600,
	    "the other address got its one");
}

/* the route's MTU is below the segment size: EINVAL, split */
static void
test_split(int tx, int rx, const struct taddr *to)
{
	size_t	len[16], i;

	for (i = 0; i < 16; i++) {
		memset(data[i], (int)(0x40 + i), sizeof(data[i]));
		len[i] = 800;
	}
	len[7] = 200;
	udp_batch_init(&b, tx);
	for (i = 0; i < 8; i++)
		udp_batch_add(&b, to, data[i], len[i]);
	ok(b.n == 1 && b.ent[0].seg == 800, "one GSO send of 800-byte segments");
	udp_batch_flush(&b);
	ok(b.st.split == 1, "refused by the route (MTU 600): split (%llu)",
	    (unsigned long long)b.st.split);
	ok(b.st.pkts == 8 && b.st.err == 0 && b.st.lost == 0,
	    "the 8 datagrams are still sent and counted (pkts %llu, err %llu)",
	    (unsigned long long)b.st.pkts, (unsigned long long)b.st.err);
	usleep(10000);
	ok(recv_all(rx, len, 8), "all 8 arrive, in order, intact");
}

int
main(void)
{
	struct taddr	to, other, self;
	int		tx, rx, rx2;
	size_t		i;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) == -1)
		skip_all("needs root for a network namespace");
	if (lo_set(65536) == -1)
		skip_all("cannot bring up lo in the namespace");
	for (i = 0; i < 16; i++)
		memset(data[i], (int)i + 1, sizeof(data[i]));
	tx = udp_open(&self);
	rx = udp_open(&to);
	rx2 = udp_open(&other);
	ok(tx != -1 && rx != -1 && rx2 != -1, "three sockets on 127.0.0.1");
	if (tx == -1 || rx == -1 || rx2 == -1)
		return done_testing();
	test_gso(tx, rx, &to, &other, rx2);
	ok(lo_set(600) == 0, "loopback MTU 600");
	test_split(tx, rx, &to);
	udp_batch_init(&b, -1);
	udp_batch_add(&b, &to, data[0], 10);
	ok(b.st.err == 1 && b.n == 0, "no socket: counted as an error");
	return done_testing();
}
