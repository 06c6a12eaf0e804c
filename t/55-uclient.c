/*
 * 55-uclient: coturn's test client against turncell. turnutils_peer
 * echoes on 127.0.0.1; turnutils_uclient allocates through the relay
 * with credentials from `turncell cred`, creates permissions, sends with
 * Send indications (-s) and expects every message back as Data
 * indications: the optional RFC 8656 data path, `turncell --indications`
 * (see README.md). Not channels: coturn's client picks ChannelBind numbers
 * in 0x4000-0x7FFF (RFC 5766) and turncell accepts 0x4000-0x4FFF only.
 * -c: no RTCP allocations (those use RESERVATION-TOKEN, which turncell
 * answers with 420). Then the same with TURN REST credentials and
 * --realm.
 */
#define _GNU_SOURCE		/* memmem */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define UC_LEN		120
#define REST_REALM	"turn.example.test"

static struct tu_relay	relay;

static const char	*uclient = "/usr/bin/turnutils_uclient";
static const char	*peerbin = "/usr/bin/turnutils_peer";

/* "key": "value" out of one JSON line (no escapes expected) */
static int
json_str(const char *js, const char *key, char *out, size_t cap)
{
	char		 pat[64];
	const char	*p, *e;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((p = strstr(js, pat)) == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p++ != '"')
		return -1;
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= cap)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int
read_file(const char *path, char *buf, size_t cap)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

/* run `turncell cred`; 0 with user/pass filled */
static int
cred(char *user, size_t ucap, char *pass, size_t pcap, char *realm,
    size_t rcap, int rest)
{
	char	 out[192], buf[2048];
	char	*av[] = { NULL, "cred", "--secret-file", relay.secret_path,
		    "--ttl", "3600", NULL, NULL, NULL, NULL, NULL, NULL,
		    NULL };

	if (rest) {
		av[6] = "--auth";
		av[7] = "rest";
		av[8] = "--user";
		av[9] = "uclient";
		av[10] = "--realm";
		av[11] = REST_REALM;
	}
	pid_t	 pid;
	int	 st = -1;

	snprintf(out, sizeof(out), "%s/cred.out", relay.dir);
	av[0] = strdup(tu_path("bin/turncell"));
	pid = tu_spawn(av, NULL, out);
	free(av[0]);
	if (pid < 0 || tu_waitpid(pid, &st, 5000) != pid) {
		diag("turncell cred did not finish");
		return -1;
	}
	if (read_file(out, buf, sizeof(buf)) <= 0)
		return -1;
	unlink(out);
	diag("cred: %.*s", (int)strcspn(buf, "\n"), buf);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	if (json_str(buf, "username", user, ucap) == -1 ||
	    json_str(buf, "password", pass, pcap) == -1 ||
	    json_str(buf, "realm", realm, rcap) == -1)
		return -1;
	return 0;
}

/* turnutils_peer has bound its port (nothing else may: it is reserved) */
static int
peer_bound(void *arg)
{
	return !tu_port_free(*(uint16_t *)arg, 0);
}

/* the number after `key` in the text, -1 if absent */
static long
num_after(const char *text, const char *key)
{
	const char	*p;

	if ((p = strstr(text, key)) == NULL)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

/* uclient's summary lines as TAP diagnostics */
static void
diag_summary(const char *label, const char *text)
{
	static const char *const keys[] = { "tot_send_msgs", "Total ",
	    "Average ", "jitter", "error", NULL };
	const char	*p = text, *e;
	int		 i, k = 0;

	while (*p != '\0' && k < 40) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		for (i = 0; keys[i] != NULL; i++)
			if (memmem(p, (size_t)(e - p), keys[i],
			    strlen(keys[i])) != NULL) {
				diag("%s: %.*s", label, (int)(e - p), p);
				k++;
				break;
			}
		p = *e == '\n' ? e + 1 : e;
	}
}

/*
 * One run of `turnutils_uclient -s`: clients x msgs messages through the
 * relay to turnutils_peer and back, as Send and Data indications.
 */
static void
run_uclient(const char *user, const char *pass, uint16_t pport,
    int clients, int msgs, const char *label)
{
	static char	 text[1 << 16];
	char		 lport[8], rport[8], n[8], m[8], l[8], out[192];
	char		*av[32];
	pid_t		 pid;
	int		 st = -1, i = 0;
	long		 sent, recvd, lost;
	const char	*p;

	snprintf(lport, sizeof(lport), "%u", relay.port);
	snprintf(rport, sizeof(rport), "%u", pport);
	snprintf(n, sizeof(n), "%d", msgs);
	snprintf(m, sizeof(m), "%d", clients);
	snprintf(l, sizeof(l), "%d", UC_LEN);
	snprintf(out, sizeof(out), "%s/uclient.out", relay.dir);
	av[i++] = (char *)uclient;
	av[i++] = "-s";			/* Send indications, no channels */
	av[i++] = "-c";			/* no RTCP allocations */
	av[i++] = "-p"; av[i++] = lport;
	av[i++] = "-u"; av[i++] = (char *)user;
	av[i++] = "-w"; av[i++] = (char *)pass;
	av[i++] = "-e"; av[i++] = "127.0.0.1";
	av[i++] = "-r"; av[i++] = rport;
	av[i++] = "-n"; av[i++] = n;
	av[i++] = "-m"; av[i++] = m;
	av[i++] = "-l"; av[i++] = l;
	av[i++] = "-z"; av[i++] = "5";
	av[i++] = "127.0.0.1";
	av[i] = NULL;

	pid = tu_spawn(av, NULL, out);
	ok(pid > 0, "%s: turnutils_uclient -s -m %d -n %d started", label,
	    clients, msgs);
	if (pid > 0 && tu_waitpid(pid, &st, 15000) != pid) {
		diag("turnutils_uclient still running after 15 s: killed");
		tu_kill(pid, SIGKILL);
		tu_waitpid(pid, &st, 2000);
		st = -1;
	}
	ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s: turnutils_uclient exited 0 (status 0x%x)", label, st);
	if (read_file(out, text, sizeof(text)) <= 0)
		text[0] = '\0';
	diag_summary(label, text);

	/* "start_mclient: tot_send_msgs=160, tot_recv_msgs=160" */
	p = strstr(text, "start_mclient: tot_send_msgs=");
	sent = p ? num_after(p, "tot_send_msgs=") : -1;
	recvd = p ? num_after(p, "tot_recv_msgs=") : -1;
	lost = num_after(text, "Total lost packets ");
	is_int(sent, (long long)msgs * clients, "%s: uclient sent %d x %d "
	    "messages", label, clients, msgs);
	ok(sent > 0 && recvd == sent, "%s: every message came back through "
	    "the relay (%ld of %ld)", label, recvd, sent);
	is_int(lost, 0, "%s: uclient reports 0 lost packets", label);
	if (strstr(text, "channel bind: error 400") != NULL)
		diag("note: coturn's client picks ChannelBind numbers in "
		    "0x4000-0x7FFF (RFC 5766), turncell accepts 0x4000-0x4FFF "
		    "only; -s avoids channels");
	if (sent != (long)msgs * clients || recvd != sent || lost != 0) {
		char	*line, *save = NULL;
		int	 k = 0;

		for (line = strtok_r(text, "\n", &save); line != NULL &&
		    k < 40; line = strtok_r(NULL, "\n", &save), k++)
			diag("uclient: %s", line);
	}
	unlink(out);
}

int
main(void)
{
	struct tu_relay_opts	o;
	struct tu_client	c;
	char			user[128], pass[AUTH_PASS_LEN + 1], realm[64];
	char			pp[8];
	char			*pav[8];
	uint16_t		pport, phi;
	pid_t			peer;
	int			rc;

	tu_init(60);
	if (access(uclient, X_OK) == -1 || access(peerbin, X_OK) == -1)
		skip_all("turnutils_uclient/turnutils_peer not installed "
		    "(Debian package coturn)");
	tu_need("bin/turncell", NULL);
	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.extra[0] = "--indications";
	o.nports = 32;
	if (tu_relay_start(&relay, &o) == -1) {
		ok(0, "relay started");
		return done_testing();
	}
	ok(1, "relay started on 127.0.0.1:%u", relay.port);

	rc = cred(user, sizeof(user), pass, sizeof(pass), realm,
	    sizeof(realm), 0);
	ok(rc == 0, "`turncell cred` printed username and password");
	is_str(rc == 0 ? realm : "", "firezone", "cred: realm firezone");
	if (rc != 0) {
		tu_relay_stop(&relay);
		return done_testing();
	}

	/* the minted credentials work for our own client too */
	tu_client_open(&c, &relay, ADDR_V4);
	memcpy(c.user, user, sizeof(c.user));
	memcpy(c.pass, pass, sizeof(c.pass));
	stun_lt_key((const uint8_t *)c.user, strlen(c.user), AUTH_REALM,
	    c.pass, strlen(c.pass), c.key);
	is_int(tu_allocate(&c, -1, 0, 0), 0,
	    "the relay accepts the minted credentials");
	is_int(tu_refresh(&c, 0), 0, "... REFRESH 0");
	tu_client_close(&c);

	/* turnutils_peer cannot report an ephemeral port: a reserved one */
	if (tu_range_reserve(1, 0, &pport, &phi) == -1)
		pport = 0;
	snprintf(pp, sizeof(pp), "%u", pport);
	pav[0] = (char *)peerbin;
	pav[1] = "-p"; pav[2] = pp;
	pav[3] = "-L"; pav[4] = "127.0.0.1";
	pav[5] = NULL;
	peer = tu_spawn(pav, NULL, NULL);
	ok(peer > 0 && pport != 0 && tu_wait_for(peer_bound, &pport, 3000),
	    "turnutils_peer listens on 127.0.0.1:%u", pport);

	run_uclient(user, pass, pport, 1, 20, "one client");
	run_uclient(user, pass, pport, 4, 50, "four clients");
	ok(tu_log_count(&relay, 0, "Created permission") >= 5,
	    "the relay logged permissions (%d)",
	    tu_log_count(&relay, 0, "Created permission"));
	is_int(tu_log_count(&relay, 0, "Successfully bound channel"), 0,
	    "no channel was bound: Send and Data indications only");
	is_int(tu_log_count(&relay, 0, "Killing"), 0,
	    "no worker was killed");
	ok(tu_relay_alive(&relay), "the supervisor is still running");

	/*
	 * TURN REST credentials and --realm: coturn's client keys with the
	 * realm the 401 announces, which must be the relay's --realm.
	 */
	if (tap_failed())
		tu_log_dump(&relay, 40);
	tu_relay_stop(&relay);
	o.extra[1] = "--auth";
	o.extra[2] = "rest";
	o.extra[3] = "--realm";
	o.extra[4] = REST_REALM;
	if (!ok(tu_relay_start(&relay, &o) == 0, "relay with --auth rest "
	    "--realm %s", REST_REALM))
		goto out;
	rc = cred(user, sizeof(user), pass, sizeof(pass), realm,
	    sizeof(realm), 1);
	ok(rc == 0, "`turncell cred --auth rest --realm` printed credentials");
	is_str(rc == 0 ? realm : "", REST_REALM, "cred: realm %s", REST_REALM);
	run_uclient(user, pass, pport, 1, 20, "REST, --realm");
	ok(tu_relay_alive(&relay), "the supervisor is still running");
out:
	if (peer > 0) {
		tu_kill(peer, SIGKILL);
		tu_waitpid(peer, NULL, 2000);
	}
	if (tap_failed())
		tu_log_dump(&relay, 40);
	tu_relay_stop(&relay);
	return done_testing();
}
