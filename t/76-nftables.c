/*
 * 76-nftables.c: contrib/nftables-workers.nft in a network namespace this
 * test creates (issue 11, item 8). Addresses of every kind are put on the
 * namespace's loopback, each with a canary UDP socket; datagrams sent by
 * the workers' account (uid 65534 here) to private, loopback, link-local
 * and ULA addresses must never arrive, those to public addresses must,
 * another account is not affected, and an address added to the allow set
 * opens.
 */
#define _GNU_SOURCE		/* unshare, setresuid */
#include <sys/socket.h>
#include <sys/wait.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define NFT		"/usr/sbin/nft"
#define WORKER_UID	65534
#define PORT		4999

static int
run(const char *cmd)
{
	int	st = system(cmd);

	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* 1 if a datagram sent to ip as uid reaches a socket bound there */
static int
reaches(const char *ip, uid_t uid)
{
	struct taddr	to, from;
	char		buf[16];
	pid_t		pid;
	int		fd, st, got;

	memset(&to, 0, sizeof(to));
	if (addr_parse_ip(ip, &to) == -1)
		return -1;
	to.port = PORT;
	if ((fd = tu_udp_bind_addr(&to)) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		int	s;

		if (setresgid(uid, uid, uid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			_exit(2);
		s = tu_udp_bind(to.family, 0);
		if (s == -1 && to.family == ADDR_V4) {
			struct taddr	any;

			memset(&any, 0, sizeof(any));
			any.family = ADDR_V4;
			s = tu_udp_bind_addr(&any);
		}
		(void)tu_sendto(s, &to, "canary", 6);
		_exit(0);
	}
	/* the sender has sent (loopback delivers at once) once it exits,
	 * however slow the machine is */
	(void)waitpid(pid, &st, 0);
	got = tu_recvfrom(fd, buf, sizeof(buf), 200, &from) == 6;
	close(fd);
	return got;
}

int
main(void)
{
	static const struct {
		const char	*ip;
		int		 want;
	} tab[] = {
		{ "127.0.0.1", 0 }, { "10.9.0.1", 0 }, { "172.16.9.1", 0 },
		{ "192.168.9.1", 0 }, { "100.64.9.1", 0 }, { "169.254.9.1", 0 },
		{ "8.8.8.8", 1 },
		{ "::1", 0 }, { "fd00::1", 0 }, { "2001:4860::1", 1 },
	};
	char	cmd[512];
	size_t	i;

	tu_init(40);
	if (geteuid() != 0)
		skip_all("needs root for a network namespace");
	if (access(NFT, X_OK) == -1)
		skip_all("nft not installed (Debian package nftables)");
	if (unshare(CLONE_NEWNET) == -1)
		skip_all("cannot create a network namespace");
	if (run("ip link set lo up") == -1) {
		ok(0, "loopback up in the namespace");
		return done_testing();
	}
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcmp(tab[i].ip, "127.0.0.1") == 0 ||
		    strcmp(tab[i].ip, "::1") == 0)
			continue;
		snprintf(cmd, sizeof(cmd), "ip addr add %s/%d dev lo%s",
		    tab[i].ip, strchr(tab[i].ip, ':') ? 128 : 32,
		    strchr(tab[i].ip, ':') ? " nodad" : "");
		if (run(cmd) == -1) {
			ok(0, "%s", cmd);
			return done_testing();
		}
	}
	/* before the rule set: everything arrives (the canaries work) */
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		ok(reaches(tab[i].ip, WORKER_UID) == 1,
		    "without the rule set: %s reached", tab[i].ip);
	snprintf(cmd, sizeof(cmd), NFT " -D worker_uid=%d -f %s", WORKER_UID,
	    tu_path("contrib/nftables-workers.nft"));
	if (!ok(run(cmd) == 0, "rule set loaded"))
		return done_testing();
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		is_int(reaches(tab[i].ip, WORKER_UID), tab[i].want,
		    "workers' account to %s: %s", tab[i].ip,
		    tab[i].want ? "reached" : "dropped");
	ok(reaches("10.9.0.1", 0) == 1 && reaches("127.0.0.1", 0) == 1,
	    "another account is not affected");
	ok(run(NFT " add element inet turncell_workers allow4 "
	    "'{ 127.0.0.0/8 }'") == 0 && reaches("127.0.0.1", WORKER_UID) == 1,
	    "127.0.0.0/8 in allow4 (as --allow-peer): reached");
	ok(reaches("10.9.0.1", WORKER_UID) == 0, "10.9.0.1 still dropped");
	ok(run(NFT " list table inet turncell_workers | grep -q "
	    "'counter packets [1-9]'") == 0, "the drops are counted");
	/* loading the file again resets it */
	ok(run(cmd) == 0 && reaches("127.0.0.1", WORKER_UID) == 0,
	    "reloading the file empties the allow sets");
	return done_testing();
}
