/*
 * wrk_hostile.c: test-only misbehaviour (attack cases 47 and 49).
 *
 * Compiled in only with -DWRK_HOSTILE (build/test/turncell-worker-hostile);
 * in bin/turncell-worker both hooks are empty and read no environment.
 *
 *   TURNCELL_HOSTILE=garbage|oversize|second-ready|unbound-chan|wrong-dir|
 *	empty-record
 *	one bad record to the supervisor right after MSG_READY; the worker
 *	then carries on as usual (the supervisor must kill it).
 *   TURNCELL_HOSTILE=log-inject
 *	one MSG_LOG line made to break a JSON log (quotes, backslashes,
 *	control bytes, the line's own member names, too many fields); the
 *	supervisor must log it as data. The worker then carries on.
 *   TURNCELL_HOSTILE=flood
 *	once channel 0x4000 is bound, records of the largest size full of
 *	one-byte frames on it, as fast as fd 3 takes them, for at most
 *	WRK_FLOOD_MS (valid records: the supervisor's budget per worker
 *	and loop iteration must keep everyone else served).
 *   TURNCELL_HOSTILE=pass-fds
 *	records that are valid MSG_LOG lines but carry the worker's relay
 *	socket in SCM_RIGHTS: WRK_FDS_FIT copies each (they fit the
 *	supervisor's control buffer, arrival time included), then
 *	WRK_FDS_MANY copies (they do not: MSG_CTRUNC), WRK_FDS_RECS records
 *	in all, one per tick (a send the kernel refuses while the
 *	descriptors in flight exceed RLIMIT_NOFILE is tried again). The
 *	supervisor must close every descriptor and kill the worker.
 *   TURNCELL_SYSCALL=open|socket|connect|exec|fork|ptrace|mprotect|int80|x32
 *	that call right after the sandbox is applied (it must be killed
 *	with SIGSYS; if it survives, it logs so and exits 7).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg_io.h"
#include "wrk.h"

#ifdef WRK_HOSTILE

#define WRK_HOSTILE_SURVIVED	7
#define WRK_FLOOD_CHAN		0x4000
#define WRK_FLOOD_MS		30000	/* bounded: a test never runs on */
#define WRK_FLOOD_TICK_MS	1
#define WRK_FLOOD_BURST		64	/* records per tick at most */

#define WRK_FDS_RECS		48	/* records that pass descriptors */
#define WRK_FDS_FIT_RECS	32	/* the first ones with WRK_FDS_FIT */
#define WRK_FDS_FIT		2
#define WRK_FDS_MANY		64
#define WRK_FDS_TICK_MS		1

static uint64_t		wrk_flood_end;
static unsigned		wrk_fds_sent;
static uint8_t		wrk_flood_rec[MSG_MAX_RECORD];
static size_t		wrk_flood_len;

static void
wrk_hostile_call(const char *what)
{
	static char		 page[64];
	struct sockaddr_in	 sin;
	char			*argv[] = { "/bin/true", NULL };
	int			 fd;

	if (strcmp(what, "open") == 0)
		fd = open("/etc/hostname", O_RDONLY);
	else if (strcmp(what, "socket") == 0)
		fd = socket(AF_INET, SOCK_DGRAM, 0);
	else if (strcmp(what, "connect") == 0) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(9);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = connect(WRK_CTL_FD, (struct sockaddr *)&sin, sizeof(sin));
	} else if (strcmp(what, "exec") == 0)
		fd = execve(argv[0], argv, NULL);
	else if (strcmp(what, "fork") == 0)
		fd = (int)fork();
	else if (strcmp(what, "ptrace") == 0)
		fd = (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	else if (strcmp(what, "mprotect") == 0)
		fd = mprotect((void *)((uintptr_t)page & ~(uintptr_t)4095),
		    4096, PROT_READ | PROT_EXEC);
#if defined(__x86_64__)
	else if (strcmp(what, "int80") == 0) {
		long ret = 20;	/* i386 getpid */
		__asm__ volatile ("int $0x80" : "+a"(ret) : : "memory");
		fd = (int)ret;
	} else if (strcmp(what, "x32") == 0)
		fd = (int)syscall(WRK_X32_BIT | 39);	/* x32 getpid */
#endif
	else
		return;
	if (fd == 0 && strcmp(what, "fork") == 0)
		_exit(WRK_HOSTILE_SURVIVED);	/* the child, if any */
	wrk_fatalx(WRK_HOSTILE_SURVIVED, "hostile: a forbidden call "
	    "survived the sandbox call=%s", what);
}

void
wrk_hostile_syscall(void)
{
	const char	*what = getenv("TURNCELL_SYSCALL");

	if (what != NULL && *what != '\0')
		wrk_hostile_call(what);
}

static void
wrk_hostile_garbage(uint8_t *rec, size_t n)
{
	struct timespec	ts;
	uint32_t	x;
	size_t		i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() ^ 0x9e3779b9u;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		rec[i] = (uint8_t)x;
	}
	rec[2] |= 0x80;		/* a reserved header byte: never valid */
}

/* a raw MSG_LOG record, past wrk_log's formatting */
static void
wrk_hostile_log(struct wrk *w)
{
	static const char	 evil[] = "Evil\"},{\"injected\":true} \\"
	    "\n{\"x\":1}\r\x01\xff alloc_id=999 src=me message=forged "
	    "time=0 severity=ERROR proc=sup x=\"a\\\"},{\\\"q\\\":\\\"\" "
	    "f1=1 f2=2 f3=3 f4=4 f5=5 f6=6 f7=7 f8=8 f9=9 f10=10 f11=11 "
	    "f12=12 f13=13 f14=14 f15=15 f16=16 f17=17 f18=18 f19=19 "
	    "f20=20 f21=21 f22=22 f23=23 f24=24 f25=25 tail=\"open";
	uint8_t			 rec[MSG_HDR_LEN + 1 + MSG_LOG_MAX];
	struct buf_w		 b;
	struct msg_log		 lg;

	lg.level = LOG_WARN;
	lg.text = (const uint8_t *)evil;
	lg.len = sizeof(evil) - 1;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_log(&b, &lg) == 0)
		(void)wrk_send_rec(w->ctl_fd, rec, b.len);
}

/* one record of one-byte frames on WRK_FLOOD_CHAN, built once */
static void
wrk_flood_build(void)
{
	struct buf_w	b;
	uint8_t		c = 'x';

	buf_w_init(&b, wrk_flood_rec, sizeof(wrk_flood_rec));
	msg_data_begin(&b);
	while (msg_data_add(&b, WRK_FLOOD_CHAN, &c, 1) == 0)
		;
	wrk_flood_len = msg_data_end(&b);
}

static void
wrk_flood_tick(struct wrk *w)
{
	int		 i;

	if (wrk_flood_end == 0)		/* the first tick: the clock runs */
		wrk_flood_end = wrk_ev_now(w) + WRK_FLOOD_MS;
	if (wrk_ev_now(w) >= wrk_flood_end) {
		w->tick_fn = NULL;
		return;
	}
	if (relay_to_peer(w->relay, WRK_FLOOD_CHAN) == NULL)
		return;		/* not bound yet */
	for (i = 0; i < WRK_FLOOD_BURST; i++)
		if (wrk_send_rec(w->ctl_fd, wrk_flood_rec, wrk_flood_len) == -1)
			break;	/* full: the next tick tries again */
}

static void
wrk_flood_start(struct wrk *w)
{
	wrk_flood_build();
	/* the loop reads its clock once per wake-up while a tick is set */
	w->tick_fn = wrk_flood_tick;
	w->tick_ms = WRK_FLOOD_TICK_MS;
}

/* one MSG_LOG record with the relay socket passed `copies` times */
static int
wrk_fds_send(struct wrk *w, size_t copies)
{
	static const char	 text[] = "hostile: passing descriptors";
	uint8_t			 rec[MSG_HDR_LEN + 1 + sizeof(text)];
	int			 fds[WRK_FDS_MANY];
	struct buf_w		 b;
	struct msg_log		 lg;
	size_t			 k;

	lg.level = LOG_WARN;
	lg.text = (const uint8_t *)text;
	lg.len = sizeof(text) - 1;
	buf_w_init(&b, rec, sizeof(rec));
	if (msg_put_log(&b, &lg) == -1 || b.err != 0)
		return -1;
	for (k = 0; k < copies && k < WRK_FDS_MANY; k++)
		fds[k] = w->fd4 != -1 ? w->fd4 : w->fd6;
	return msg_send_rec_fds(w->ctl_fd, rec, b.len, fds, k);
}

static void
wrk_fds_tick(struct wrk *w)
{
	if (wrk_fds_sent >= WRK_FDS_RECS) {
		w->tick_fn = NULL;
		return;
	}
	if (wrk_fds_send(w, wrk_fds_sent < WRK_FDS_FIT_RECS ? WRK_FDS_FIT :
	    WRK_FDS_MANY) == 0)
		wrk_fds_sent++;
}

void
wrk_hostile_after_ready(struct wrk *w)
{
	uint8_t			 rec[128];
	struct buf_w		 b;
	struct msg_ready	 rd;
	struct msg_chan_add	 ca;
	const char		*what = getenv("TURNCELL_HOSTILE");

	if (what == NULL || *what == '\0')
		return;
	if (strcmp(what, "deaf") == 0) {
		/* never read the socketpair again (the supervisor must stop
		 * this worker once its queue stays full) */
		(void)wrk_ev_set(w, &w->ctl_ev, 0);
		return;
	}
	if (strcmp(what, "log-inject") == 0) {
		wrk_hostile_log(w);
		return;
	}
	if (strcmp(what, "flood") == 0) {
		wrk_flood_start(w);
		return;
	}
	if (strcmp(what, "pass-fds") == 0) {
		w->tick_fn = wrk_fds_tick;
		w->tick_ms = WRK_FDS_TICK_MS;
		wrk_fds_tick(w);
		return;
	}
	buf_w_init(&b, rec, sizeof(rec));
	if (strcmp(what, "garbage") == 0) {
		wrk_hostile_garbage(rec, 61);
		b.len = 61;
	} else if (strcmp(what, "oversize") == 0) {
		/* STATS is exactly 88 bytes: send 89, header consistent */
		msg_put_hdr(&b, MSG_STATS, 89);
		buf_put_zero(&b, 89);
	} else if (strcmp(what, "second-ready") == 0) {
		rd.port = w->conf.port;
		rd.families = w->conf.families;
		msg_put_ready(&b, &rd);
	} else if (strcmp(what, "unbound-chan") == 0) {
		msg_put_hdr(&b, MSG_DATA, 8);
		buf_put_u16(&b, 0x4fff);
		buf_put_u16(&b, 4);
		buf_put_bytes(&b, "evil", 4);
	} else if (strcmp(what, "empty-record") == 0) {
		b.len = 0;		/* a record of zero bytes */
	} else if (strcmp(what, "wrong-dir") == 0) {
		memset(&ca, 0, sizeof(ca));
		ca.chan = 0x4000;
		ca.peer.family = ADDR_V4;
		ca.peer.port = 9;
		ca.peer.ip[0] = 127;
		ca.peer.ip[3] = 1;
		msg_put_chan_add(&b, &ca);
	} else
		return;
	if (b.err == 0)
		(void)wrk_send_rec(w->ctl_fd, rec, b.len);
}

#else /* !WRK_HOSTILE */

void
wrk_hostile_syscall(void)
{
}

void
wrk_hostile_after_ready(struct wrk *w)
{
}

#endif
