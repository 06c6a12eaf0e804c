/*
 * 79-jsonlog.c: --log-format json gives lines jq can query (README.md,
 * "Logs"): every line one JSON object, `message` a fixed event text with
 * no k=v in it, the event's fields members of their own with numbers as
 * JSON numbers, worker lines with their fields; and a worker's log line
 * made to break the JSON (the hostile test worker, log-inject) stays
 * data. The human format keeps k=v. Every check is a jq filter run on
 * the log file.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tutil.h"

#define HOSTILE_BIN	"build/test/turncell-worker-hostile"

/* every line parses, alone, as an object (no line holds two) */
#define F_ALL_OBJECTS \
	"[split(\"\\n\")[] | select(length > 0) | " \
	"(try fromjson catch \"bad\") | type == \"object\"] | " \
	"(length > 3 and all)"

/*
 * The event texts this scenario can log, at --log-level debug: a fixed
 * set, so that a filter on .message finds every event of its kind.
 */
static const char *const events[] = {
	"Listening for incoming traffic on UDP",
	"No portal token supplied, starting standalone mode",
	"Using the secret from a file",
	"Request failed",
	"Created new allocation",
	"Started worker",
	"Relaying",
	"Successfully bound channel",
	"Channel bound",
	"Deleted allocation",
	"Stopping worker",
	"Received a signal, draining",
	"Draining, no deadline",
	"Draining with a deadline",
	"Draining done: no allocations left",
	"Goodbye!",
	"Worker exited",
	"--allow-peer exposes addresses of this host to clients on every port",
	"Datagrams dropped",
};

/* jq -r [-s] -f <filter file> <input>; its first output line in out */
static int
jq(const struct tu_relay *r, int slurp_raw, const char *filter, char *out,
    size_t cap)
{
	char	fpath[256], cmd[768];
	FILE	*f;
	int	 st;

	snprintf(fpath, sizeof(fpath), "%s/filter.jq", r->dir);
	if ((f = fopen(fpath, "w")) == NULL)
		return -1;
	fputs(filter, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "jq -r %s -f '%s' '%s' 2>&1",
	    slurp_raw == 2 ? "-R -s" : slurp_raw ? "-s" : "", fpath,
	    r->log_path);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	out[0] = '\0';
	if (fgets(out, (int)cap, f) != NULL)
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* is the first line jq prints for filter `want`? */
static void
jq_is(const struct tu_relay *r, int mode, const char *filter,
    const char *want, const char *what)
{
	char	got[512];

	if (jq(r, mode, filter, got, sizeof(got)) != 0) {
		ok(0, "%s (jq failed: %s)", what, got);
		return;
	}
	is_str(got, want, "%s", what);
}

static void
check_messages(const struct tu_relay *r)
{
	char	 cmd[512], line[512];
	FILE	*f;
	size_t	 i, n = 0, unknown = 0;

	snprintf(cmd, sizeof(cmd), "jq -r '.message' '%s'", r->log_path);
	if ((f = popen(cmd, "r")) == NULL) {
		ok(0, "jq runs");
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		n++;
		for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
			if (strcmp(line, events[i]) == 0)
				break;
		if (i == sizeof(events) / sizeof(events[0])) {
			diag("message not an event text: %s", line);
			unknown++;
		}
	}
	pclose(f);
	ok(n > 5 && unknown == 0, "all %zu messages are fixed event texts",
	    n);
}

/* per event: a jq filter over the slurped log, and what it must print */
static const struct {
	const char	*filter, *want, *what;
} typed[] = {
	{ "[.[] | select(.message == \"Created new allocation\")]"
	    " | .[0] | [(.id|type), (.port|type), (.lifetime|type), "
	    "(.client|type), (.lifetime|tostring)] | join(\",\")",
	    "number,number,number,string,600", "Created new allocation: "
	    "id, port, lifetime numbers; client a string" },
	{ "[.[] | select(.message == \"Successfully bound "
	    "channel\")] | .[0] | [(.channel|type), .channel, (.peer|type)] | "
	    "map(tostring) | join(\",\")", "number,16384,string",
	    "channel bind: channel is the number 16384, peer a string" },
	{ "[.[] | select(.message == \"Deleted allocation\")] | "
	    ".[0] | [.reason, (.port|type)] | join(\",\")", "deleted,number",
	    "refresh 0: reason deleted, port a number" },
	{ "[.[] | select(.message == \"Request failed\" and "
	    ".code == 401)] | .[0] | [(.code|type), .method, .reason] | "
	    "join(\",\")", "number,allocate,Unauthorized",
	    "the nonce dance's 401: code a number, method, reason" },
	{ "[.[] | select(.src == \"worker\" and .message == "
	    "\"Relaying\")] | .[0] | [(.alloc_id|type), (.port|type)] | "
	    "join(\",\")", "number,number",
	    "a worker's line keeps its fields through the supervisor" },
	{ "[.[] | select(.message == \"Listening for incoming "
	    "traffic on UDP\")] | .[0].port | type", "number",
	    "listen port a number" },
	{ "[.[] | select(.message == \"Received a signal, "
	    "draining\")] | .[0] | [.signal, (.allocations|type)] | "
	    "join(\",\")", "SIGTERM,number", "drain: signal and count" },
};

static int
exited(void *arg)
{
	return !tu_relay_alive(arg);
}

static void
t_events(void)
{
	struct tu_relay		r;
	struct tu_relay_opts	o;
	struct tu_client	c;
	struct taddr		pa;
	uint8_t			buf[64];
	size_t			i;
	int			pfd;

	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.log_level = "debug";
	o.extra[0] = "--log-format";
	o.extra[1] = "json";
	if (tu_relay_start(&r, &o) == -1 || tu_client_open(&c, &r,
	    ADDR_V4) == -1 || (pfd = tu_udp_bind(ADDR_V4, 0)) == -1) {
		ok(0, "relay, client and peer");
		return;
	}
	tu_sock_addr(pfd, &pa);
	is_int(tu_allocate(&c, 600, 0, 0), 0, "allocate");
	is_int(tu_chanbind(&c, 0x4000, &pa), 0, "channel bind");
	memset(buf, 'x', sizeof(buf));
	tu_cdata_send(&c, 0x4000, buf, sizeof(buf));
	is_int((int)tu_recvfrom(pfd, buf, sizeof(buf), 2000, NULL), 64,
	    "data relayed");
	is_int(tu_refresh(&c, 0), 0, "refresh 0");
	ok(tu_log_wait(&r, 0, "\"Deleted allocation\"", 3000),
	    "the allocation is deleted");
	kill(r.pid, SIGTERM);
	ok(tu_wait_for(exited, &r, 5000), "the relay drains and exits");

	jq_is(&r, 2, F_ALL_OBJECTS, "true", "every line is one JSON object");
	jq_is(&r, 1, "[.[] | select(.message | contains(\"=\"))] | length",
	    "0", "no message holds k=v text");
	check_messages(&r);
	jq_is(&r, 1, "[.[] | select(.time and .severity and .proc)] | "
	    "length == (. | length)", "true", "time, severity, proc on all");
	for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++)
		jq_is(&r, 1, typed[i].filter, typed[i].want, typed[i].what);
	close(pfd);
	tu_client_close(&c);
	tu_relay_stop(&r);
}

/* the same events in the human format: k=v after the message */
static void
t_human(void)
{
	struct tu_relay		r;
	struct tu_relay_opts	o;
	struct tu_client	c;

	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.extra[0] = "--log-format";	/* the launcher asks for json */
	o.extra[1] = "human";
	if (tu_relay_start(&r, &o) == -1 || tu_client_open(&c, &r,
	    ADDR_V4) == -1) {
		ok(0, "relay and client");
		return;
	}
	is_int(tu_allocate(&c, 600, 0, 0), 0, "allocate (human format)");
	ok(tu_log_wait(&r, 0, "INFO sup: Created new allocation id=", 2000) &&
	    tu_log_count(&r, 0, " lifetime=600") == 1,
	    "human: Created new allocation id=... lifetime=600");
	tu_client_close(&c);
	tu_relay_stop(&r);
}

static void
t_hostile(void)
{
	struct tu_relay		r;
	struct tu_relay_opts	o;
	struct tu_client	c;
	char			wrapper[256];
	FILE			*f;

	memset(&o, 0, sizeof(o));
	o.allow[0] = "127.0.0.0/8";
	o.extra[0] = "--log-format";
	o.extra[1] = "json";
	snprintf(wrapper, sizeof(wrapper), "/tmp/turncell-79-%ld.sh",
	    (long)getpid());
	if ((f = fopen(wrapper, "w")) == NULL) {
		ok(0, "wrapper");
		return;
	}
	fprintf(f, "#!/bin/sh\nTURNCELL_HOSTILE=log-inject exec '%s' \"$@\"\n",
	    tu_path(HOSTILE_BIN));
	fclose(f);
	chmod(wrapper, 0755);
	o.worker_path = wrapper;
	if (tu_relay_start(&r, &o) == -1 || tu_client_open(&c, &r,
	    ADDR_V4) == -1) {
		ok(0, "relay and client");
		unlink(wrapper);
		return;
	}
	is_int(tu_allocate(&c, 600, 0, 0), 0, "allocate (log-inject worker)");
	ok(tu_log_wait(&r, 0, "\"message\":\"Evil", 3000),
	    "the worker's hostile line is logged");
	ok(tu_relay_binding(&r, ADDR_V4) && tu_refresh(&c, 600) == 0,
	    "relay and allocation unaffected");
	jq_is(&r, 2, F_ALL_OBJECTS, "true",
	    "hostile line: every line still one JSON object");
	jq_is(&r, 1, "[.[] | select(has(\"injected\") or has(\"x\") and "
	    "(.x|type) != \"string\")] | length", "0",
	    "no member injected");
	jq_is(&r, 1, "[.[] | select(.message|startswith(\"Evil\"))] | .[0] |"
	    " [.src, .severity, (.alloc_id != 999), .x_alloc_id, .x_src, "
	    ".x_message, .x_time, .x_severity, .x_proc] | map(tostring) | "
	    "join(\",\")", "worker,WARN,true,999,me,forged,0,ERROR,sup",
	    "its k=v cannot replace the line's own members");
	jq_is(&r, 1, "[.[] | select(.message|startswith(\"Evil\"))] | .[0] |"
	    " [(.message|contains(\"=\")), .x, .f17, (.f18 == null), "
	    "(.detail|startswith(\"f18=18 \"))] | map(tostring) | "
	    "join(\"|\")", "false|a\"},{\"q\":\"|17|true|true",
	    "quoted value kept as data, fields bounded, the rest in detail");
	tu_client_close(&c);
	tu_relay_stop(&r);
	unlink(wrapper);
}

int
main(void)
{
	tu_init(90);
	if (system("jq --version >/dev/null 2>&1") != 0)
		skip_all("jq not installed (contrib/test-deps.sh)");
	t_events();
	t_human();
	if (access(tu_path(HOSTILE_BIN), X_OK) == 0)
		t_hostile();
	else
		skip(1, "%s not built", HOSTILE_BIN);
	return done_testing();
}
