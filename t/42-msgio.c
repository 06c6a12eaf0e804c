/*
 * 42-msgio.c: batched record reads on a SOCK_SEQPACKET socketpair
 * (msg_recv_recs() in common/msg_io.c): every queued record in one call,
 * "fewer than asked" meaning the queue was empty, and the ends told apart
 * exactly: end of file, and a record of zero bytes or over the largest
 * size (malformed, the peer must be dropped), with the good records
 * before them delivered first. A record that carries descriptors
 * (SCM_RIGHTS) or control data the reader did not ask for is malformed
 * too, and every descriptor it brought, or a record after it in the same
 * batch brought, is closed: the reader's descriptor count is exactly
 * what it was.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "msg_io.h"
#include "tap.h"

static uint8_t	 mem[MSG_RECS_MAX][MSG_RECV_BUFLEN];
static uint8_t	*bufs[MSG_RECS_MAX];
static size_t	 lens[MSG_RECS_MAX];
static uint8_t	 big[MSG_MAX_RECORD + 1];

static int
pair(int sv[2])
{
	int	sz = 4 << 20;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		return -1;
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return 0;
}

/* record i is i + 1 bytes of the value i */
static int
put(int fd, unsigned i)
{
	uint8_t	b[64];

	memset(b, (int)i, i + 1);
	return (int)send(fd, b, i + 1, 0) == (int)(i + 1) ? 0 : -1;
}

static int
got(unsigned k, unsigned first)
{
	unsigned	i, j;

	for (i = 0; i < k; i++) {
		if (lens[i] != first + i + 1)
			return 0;
		for (j = 0; j < lens[i]; j++)
			if (bufs[i][j] != (uint8_t)(first + i))
				return 0;
	}
	return 1;
}

/* open descriptors of this process */
static int
nfds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;		/* not the one opendir holds */
}

/* record i (as put()) with fd passed `copies` times; 0 or -1 */
static int
put_fds(int sock, unsigned i, int fd, int copies)
{
	int	fds[MSG_SEND_FDS_MAX];
	uint8_t	b[64];
	int	k;

	memset(b, (int)i, i + 1);
	for (k = 0; k < copies; k++)
		fds[k] = fd;
	return msg_send_rec_fds(sock, b, i + 1, fds, (size_t)copies);
}

/*
 * Descriptors passed to the reader: msg_recv_recs_at() with a control
 * buffer (room for 10 descriptors, or 2 once an arrival time takes its
 * part), msg_recv_recs() and msg_recv_rec() without one.
 */
static void
fd_cases(void)
{
	uint64_t	at[MSG_RECS_MAX];
	int		sv[2], fd, n0, n, end, on = 1, good = 1;

	if (pair(sv) == -1 || (fd = open("/dev/null", O_RDONLY)) == -1) {
		ok(0, "socketpair, /dev/null");
		return;
	}
	n0 = nfds();

	/* r0, r1 with one descriptor, r2 with three: both cut off at r1 */
	good &= put(sv[0], 0) == 0 && put_fds(sv[0], 1, fd, 1) == 0 &&
	    put_fds(sv[0], 2, fd, 3) == 0;
	n = msg_recv_recs_at(sv[1], bufs, lens, at, MSG_RECS_MAX, &end);
	ok(n == 1 && end == MSG_RECS_BAD && got(1, 0),
	    "a descriptor with the record: the one before it, then BAD");
	is_int(nfds(), n0, "... none of the four passed is left open");
	n = msg_recv_recs_at(sv[1], bufs, lens, at, MSG_RECS_MAX, &end);
	ok(n == -1 && errno == EAGAIN, "... the one after it was lost with it");

	/* more than the control buffer holds: MSG_CTRUNC, 10 installed */
	good &= put_fds(sv[0], 4, fd, 40) == 0 && put(sv[0], 5) == 0;
	n = msg_recv_recs_at(sv[1], bufs, lens, at, 1, &end);
	ok(n == 0 && end == MSG_RECS_BAD, "40 descriptors (cut off): BAD");
	is_int(nfds(), n0, "... and those that fitted are closed");
	n = msg_recv_recs_at(sv[1], bufs, lens, at, MSG_RECS_MAX, &end);
	ok(n == 1 && end == MSG_RECS_MORE && got(1, 5),
	    "... the next record is read as usual");

	/* with arrival times, the layout the supervisor reads with */
	(void)setsockopt(sv[1], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	good &= put_fds(sv[0], 3, fd, 1) == 0 && put_fds(sv[0], 3, fd, 2) ==
	    0 && put_fds(sv[0], 3, fd, 9) == 0 && put(sv[0], 6) == 0;
	n = msg_recv_recs_at(sv[1], bufs, lens, at, 1, &end);
	ok(n == 0 && end == MSG_RECS_BAD, "with arrival times: 1 descriptor, "
	    "BAD");
	n = msg_recv_recs_at(sv[1], bufs, lens, at, 1, &end);
	ok(n == 0 && end == MSG_RECS_BAD, "... 2 (all fit): BAD");
	n = msg_recv_recs_at(sv[1], bufs, lens, at, 1, &end);
	ok(n == 0 && end == MSG_RECS_BAD, "... 9 (cut off): BAD");
	is_int(nfds(), n0, "... none left open");
	n = msg_recv_recs_at(sv[1], bufs, lens, at, MSG_RECS_MAX, &end);
	ok(n == 1 && end == MSG_RECS_MORE && got(1, 6) && at[0] != 0,
	    "... a plain record after them has its arrival time");

	/* no control buffer: the kernel installs nothing, the record is
	 * cut off */
	good &= put_fds(sv[0], 7, fd, 3) == 0 && put_fds(sv[0], 8, fd, 3) == 0;
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 0 && end == MSG_RECS_BAD, "msg_recv_recs: BAD");
	ok(msg_recv_rec(sv[1], mem[0], MSG_RECV_BUFLEN) == -1 &&
	    errno == EAGAIN, "... the second was lost with the first");
	good &= put_fds(sv[0], 8, fd, 3) == 0;
	ok(msg_recv_rec(sv[1], mem[0], MSG_RECV_BUFLEN) == -1 &&
	    errno == EBADMSG, "msg_recv_rec: EBADMSG");
	is_int(nfds(), n0, "... none left open");

	close(sv[0]);
	close(sv[1]);

	/* credentials the reader did not expect (SO_PASSCRED adds them to
	 * every record; without arrival times they fit the buffer): control
	 * data beyond the arrival time and drop count is BAD */
	if (pair(sv) == -1) {
		ok(0, "socketpair");
		close(fd);
		return;
	}
	(void)setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	good &= put(sv[0], 9) == 0;
	n = msg_recv_recs_at(sv[1], bufs, lens, at, MSG_RECS_MAX, &end);
	ok(n == 0 && end == MSG_RECS_BAD, "credentials with a record: BAD");
	ok(good, "every record with descriptors was sent");
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	int		sv[2], n, end, i, ok_send;

	plan(41);
	for (i = 0; i < MSG_RECS_MAX; i++)
		bufs[i] = mem[i];

	if (pair(sv) == -1) {
		ok(0, "socketpair");
		return done_testing();
	}
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == -1 && errno == EAGAIN, "nothing queued: -1 EAGAIN");

	for (i = 0, ok_send = 1; i < 3; i++)
		ok_send &= put(sv[0], (unsigned)i) == 0;
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	is_int(n, 3, "three queued: three in one call");
	ok(end == MSG_RECS_MORE && got(3, 0), "... in order, whole, end MORE");
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == -1 && errno == EAGAIN, "... and the queue is empty after");

	for (i = 0; i < 20; i++)
		ok_send &= put(sv[0], (unsigned)i) == 0;
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == MSG_RECS_MAX && end == MSG_RECS_MORE && got(16, 0),
	    "twenty queued: the first sixteen");
	n = msg_recv_recs(sv[1], bufs, lens, 2, &end);
	ok(n == 2 && got(2, 16), "max 2: the next two");
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 2 && end == MSG_RECS_MORE && got(2, 18), "then the last two");

	/* r0 r1 <empty> r2: the empty record is malformed, r0 r1 come first */
	ok_send &= put(sv[0], 0) == 0 && put(sv[0], 1) == 0 &&
	    send(sv[0], big, 0, 0) == 0 && put(sv[0], 2) == 0;
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	is_int(n, 2, "empty record between two: the two before it");
	ok(end == MSG_RECS_BAD && got(2, 0), "... then BAD (not EOF)");

	/* r0 <empty> and nothing after it (the peer still open) */
	ok_send &= put(sv[0], 0) == 0 && send(sv[0], big, 0, 0) == 0;
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 1 && end == MSG_RECS_BAD, "empty record last: BAD, not EOF");
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == -1 && errno == EAGAIN, "... and nothing left");

	/* an empty record first, more behind it than the batch holds */
	ok_send &= send(sv[0], big, 0, 0) == 0;
	for (i = 0; i < 20; i++)
		ok_send &= put(sv[0], (unsigned)i) == 0;
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 0 && end == MSG_RECS_BAD, "empty record first: 0, BAD");
	while (msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end) > 0)
		;

	/* a record one byte over the largest */
	memset(big, 'b', sizeof(big));
	ok_send &= put(sv[0], 5) == 0 &&
	    send(sv[0], big, sizeof(big), 0) == (ssize_t)sizeof(big);
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 1 && end == MSG_RECS_BAD && got(1, 5),
	    "oversized record: the one before it, then BAD");
	/* the largest record is fine */
	ok_send &= send(sv[0], big, MSG_MAX_RECORD, 0) ==
	    (ssize_t)MSG_MAX_RECORD;
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 1 && end == MSG_RECS_MORE && lens[0] == MSG_MAX_RECORD &&
	    memcmp(bufs[0], big, MSG_MAX_RECORD) == 0,
	    "a record of the largest size is read whole");

	/* r0 r1 and the end of file */
	ok_send &= put(sv[0], 0) == 0 && put(sv[0], 1) == 0;
	close(sv[0]);
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 2 && end == MSG_RECS_EOF && got(2, 0),
	    "two records then EOF: both, then EOF");
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 0 && end == MSG_RECS_EOF, "... EOF again on the next call");
	close(sv[1]);

	/* an empty record and then the end of file: EOF (dropped either way,
	 * as with msg_recv_rec) */
	if (pair(sv) == -1) {
		ok(0, "socketpair");
		return done_testing();
	}
	ok_send &= put(sv[0], 3) == 0 && send(sv[0], big, 0, 0) == 0;
	close(sv[0]);
	n = msg_recv_recs(sv[1], bufs, lens, MSG_RECS_MAX, &end);
	ok(n == 1 && end == MSG_RECS_EOF && got(1, 3),
	    "record, empty record, EOF: the record, then EOF");
	close(sv[1]);

	/* immediate EOF */
	if (pair(sv) == -1) {
		ok(0, "socketpair");
		return done_testing();
	}
	close(sv[0]);
	n = msg_recv_recs(sv[1], bufs, lens, 1, &end);
	ok(n == 0 && end == MSG_RECS_EOF, "EOF with a batch of one: 0, EOF");
	close(sv[1]);

	n = msg_recv_recs(-1, bufs, lens, MSG_RECS_MAX + 1, &end);
	ok(n == -1 && errno == EINVAL, "max over MSG_RECS_MAX: EINVAL");
	n = msg_recv_recs(-1, bufs, lens, 0, &end);
	ok(n == -1 && errno == EINVAL, "max 0: EINVAL");
	n = msg_recv_recs(-1, bufs, lens, 4, &end);
	ok(n == 0 && end == MSG_RECS_EOF, "a bad descriptor: the peer is gone");

	/* the old single-record reader agrees on an empty record */
	if (pair(sv) == -1) {
		ok(0, "socketpair");
		return done_testing();
	}
	ok_send &= send(sv[0], big, 0, 0) == 0 && put(sv[0], 1) == 0;
	ok(msg_recv_rec(sv[1], mem[0], MSG_RECV_BUFLEN) == -1 &&
	    errno == EBADMSG, "msg_recv_rec: an empty record is EBADMSG");
	ok(msg_recv_rec(sv[1], mem[0], MSG_RECV_BUFLEN) == 2,
	    "... and the record after it is read");
	close(sv[0]);
	close(sv[1]);
	ok(ok_send, "every test record was sent");
	fd_cases();
	return done_testing();
}
