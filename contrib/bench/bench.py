#!/usr/bin/env python3
"""make bench and make bench-scale: turncell and Debian's coturn on the same
load in the same run, alternating, repeated; prints a table.

Both relays listen on loopback, speak UDP only and use the same long-term
credentials (the TURN REST scheme: username "<expiry>:<name>", password =
base64 HMAC-SHA1(secret, username), realm firezone; turncell runs with
--auth rest), and get relay port ranges of the same size. The load comes
from build/bench/tcload (contrib/bench/tcload.c): one UDP socket per
allocation, ChannelData through a channel to echo peers on 127.0.0.2,
server CPU measured exactly over the server's whole process tree
(contrib/bench/tcload_proc.c says how).

    python3 contrib/bench/bench.py            # make bench
    python3 contrib/bench/bench.py --scale    # make bench-scale

Environment (or flags): ROUNDS (3), SECONDS per phase (2), RATE (40000
pkt/s in total), WINDOW (128 packets outstanding when saturated), K (64
set-ups in flight), SERVERS ("turncell coturn"), BUDGET (540 s), NICE (10:
everything runs at nice -10 when allowed). Every step is bounded: tcload
stops itself, each run is killed after a timeout, and a step that would
overrun BUDGET is skipped.
"""

import argparse
import base64
import hashlib
import hmac
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
TCLOAD = os.path.join(ROOT, "build", "bench", "tcload")
# relay ranges of the same size, below the ephemeral range (32768-60999 by
# default) where the load generator's 10,000 client sockets are bound
TC_RANGE, CT_RANGE = (10000, 20999), (21000, 31999)
RUN_TIMEOUT = 240


def rest_credentials(secret, name="bench", ttl=7200):
    user = "%d:%s" % (int(time.time()) + ttl, name)
    mac = hmac.new(secret.encode(), user.encode(), hashlib.sha1).digest()
    return user, base64.b64encode(mac).decode()


def free_udp_port():
    """a port the kernel just gave out (coturn has no --port-file)"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stun_ready(port, timeout=10.0):
    """True once a STUN Binding request to 127.0.0.1:port is answered."""
    req = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + secrets.token_bytes(12)
    deadline = time.time() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.time() < deadline:
            s.sendto(req, ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(2048)
                if data[8:20] == req[8:20]:
                    return True
            except OSError:
                pass
    return False


class Server:
    def __init__(self, name, tmp):
        self.name, self.tmp = name, tmp
        self.secret = secrets.token_hex(32)
        self.proc = None

    def start(self):
        log = open(os.path.join(self.tmp, self.name + ".log"), "a")
        if self.name == "turncell":
            sf = os.path.join(self.tmp, "secret")
            with open(os.open(sf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(self.secret + "\n")
            # listen port chosen by the kernel, reported in a file: two
            # benches (or tests) at once never collide
            pf = os.path.join(self.tmp, "turncell.port")
            if os.path.exists(pf):
                os.unlink(pf)
            argv = [os.path.join(ROOT, "bin", "turncell"),
                    "--listen-port", "0", "--port-file", pf,
                    "--bind-ip4-addr", "127.0.0.1",
                    "--public-ip4-addr", "127.0.0.1",
                    "--lowest-port", str(TC_RANGE[0]),
                    "--highest-port", str(TC_RANGE[1]),
                    "--allow-peer", "127.0.0.0/8", "--secret-file", sf,
                    "--auth", "rest", "--health-check-addr", "none",
                    "--log-level", "warn",
                    # every bench client comes from one loopback address
                    # with one username: the per-source, per-user and
                    # start-rate caps are not what is measured
                    "--unauth-rate", "0", "--max-allocations-per-ip", "0",
                    "--max-allocations-per-user", "0",
                    "--max-starts-per-ip", "0", "--max-starts", "0"]
        else:
            self.port = free_udp_port()
            argv = ["turnserver", "-n", "--listening-ip", "127.0.0.1",
                    "--listening-port", str(self.port),
                    "--relay-ip", "127.0.0.1",
                    "--min-port", str(CT_RANGE[0]),
                    "--max-port", str(CT_RANGE[1]),
                    "--use-auth-secret", "--static-auth-secret", self.secret,
                    "--realm", "firezone", "--allow-loopback-peers",
                    "--no-tcp", "--no-tls", "--no-dtls", "--no-tcp-relay",
                    "--no-cli", "--no-stdout-log", "--simple-log",
                    "--log-file", os.path.join(self.tmp, "coturn-file.log"),
                    "--userdb", os.path.join(self.tmp, "turndb"),
                    "--pidfile", os.path.join(self.tmp, "coturn.pid")]
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL)
        log.close()
        if self.name == "turncell":
            deadline = time.time() + 10
            while (not os.path.exists(pf) or not open(pf).read().strip()) \
                    and time.time() < deadline and self.proc.poll() is None:
                time.sleep(0.02)
            try:
                self.port = int(open(pf).read().split()[0])
            except (OSError, ValueError, IndexError):
                self.port = 0
        if not self.port or not stun_ready(self.port) or \
                self.proc.poll() is not None:
            sys.exit("bench: %s did not start:\n%s" % (
                self.name, open(os.path.join(self.tmp, self.name + ".log"))
                .read()[-2000:]))

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        # turncell: the first SIGTERM drains, the second ends it at once
        for _ in range(2):
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
                return
            except subprocess.TimeoutExpired:
                pass
        self.proc.kill()
        self.proc.wait()

    runs = 0

    def load(self, n, phases, setup_only=False, k=64):
        user, pw = rest_credentials(self.secret)
        # each run's clients on their own loopback address: a relay may
        # keep a freed client's 5-tuple for a while (coturn does), and the
        # next run's sockets must not land on one of them
        Server.runs += 1
        client_ip = "127.1.%d.%d" % (Server.runs // 250, Server.runs % 250 + 1)
        # every run starts from a fresh server: what an earlier run left
        # (coturn keeps freed sessions' memory) must not count in this one
        self.stop()
        self.start()
        argv = [TCLOAD, "-s", "127.0.0.1:%d" % self.port, "-u", user,
                "-p", pw, "-n", str(n), "-k", str(k), "-b", client_ip,
                "-P", str(self.proc.pid)]
        argv += ["-t"] if setup_only else phases
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
        if r.returncode != 0:
            sys.exit("bench: tcload failed against %s: %s" %
                     (self.name, r.stderr.strip()))
        out = []
        for line in r.stdout.splitlines():
            kind, *kv = line.split()
            d = dict(x.split("=", 1) for x in kv)
            d["kind"] = kind
            out.append(d)
        return out


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=0):
    if v is None:
        return "-"
    return ("%%.%df" % nd) % v


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def table(title, cols, rows):
    print("\n" + title + "\n")
    print("| " + " | ".join(c for c, _, _ in cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def report(res, servers, rounds):
    """res[(case, server)] = list of dicts, one per round."""
    relay_cols = [("case", None, 0), ("server", None, 0),
                  ("pkts/CPU-s", "pkts_per_cpu_s", 0),
                  ("offered/s", "offered_per_s", 0),
                  ("delivered/s", "delivered_per_s", 0),
                  ("loss %", "loss_pct", 2),
                  ("tool drops", "tool_drops", 0),
                  ("RTT p50 ms", "rtt_p50_ms", 3),
                  ("RTT p99 ms", "rtt_p99_ms", 3),
                  ("tool CPU/server CPU", "tool_share", 2)]
    setup_cols = [("case", None, 0), ("server", None, 0),
                  ("allocs/s", "allocs_per_s", 0),
                  ("Allocate p50 ms", "alloc_p50_ms", 2),
                  ("Allocate p99 ms", "alloc_p99_ms", 2),
                  ("server CPU ms/alloc", "cpu_ms_per_alloc", 3),
                  ("PSS KiB/alloc", "pss_per_alloc_kib", 1),
                  ("failed", "failed", 0)]
    for title, cols, want in (("Set-up", setup_cols, "setup"),
                              ("Relay", relay_cols, "phase")):
        rows = []
        cases = []
        for (case, srv), _ in res.items():
            if res[(case, srv)][0]["kind"] == want and case not in cases:
                cases.append(case)
        for case in cases:
            meds = {}
            for srv in servers:
                runs = res.get((case, srv), [])
                meds[srv] = {key: med([r.get(key) for r in runs])
                             for _, key, _ in cols[2:]}
                rows.append([case, srv] + [fmt(meds[srv][key], nd)
                             for _, key, nd in cols[2:]])
            if len(servers) == 2:
                a, b = servers
                cells = []
                for _, key, _ in cols[2:]:
                    rr = ratio(meds[a][key], meds[b][key])
                    per = [ratio(x.get(key), y.get(key)) for x, y in
                           zip(res.get((case, a), []), res.get((case, b), []))]
                    per = [p for p in per if p is not None]
                    cell = fmt(rr, 2)
                    if len(per) > 1:
                        cell += " (%.2f-%.2f)" % (min(per), max(per))
                    cells.append(cell)
                rows.append([case, "%s/%s" % (a, b)] + cells)
        table("%s (median of %d rounds; ratio rows: ratio of the medians "
              "and its range over rounds)" % (title, rounds), cols, rows)


def derive(d):
    """numbers from one tcload line, with the derived columns"""
    out = {"kind": d["kind"]}
    for k, v in d.items():
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    if d["kind"] == "setup":
        out["alloc_p50_ms"] = out["alloc_p50_us"] / 1000
        out["alloc_p99_ms"] = out["alloc_p99_us"] / 1000
        if out["ok"] > 0 and out["server_cpu_s"] >= 0:
            out["cpu_ms_per_alloc"] = out["server_cpu_s"] * 1000 / out["ok"]
        if out["ok"] == 0:
            out["allocs_per_s"] = None
    elif d["kind"] == "phase":
        # rates over the sending time, not the drain after it
        out["offered_per_s"] = out["sent"] / out["send_seconds"]
        out["delivered_per_s"] = out["delivered"] / out["send_seconds"]
        for q in ("p50", "p99"):
            us = out["rtt_%s_us" % q]
            out["rtt_%s_ms" % q] = us / 1000 if us >= 0 else None
        if out["server_cpu_s"] > 0:
            out["tool_share"] = out["tool_cpu_s"] / out["server_cpu_s"]
        if out["pkts_per_cpu_s"] < 0:
            out["pkts_per_cpu_s"] = None
    return out


def busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", action="store_true",
                    help="10,000 allocations, 1 pkt/s each for 30 s")
    ap.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    ap.add_argument("--seconds", type=float,
                    default=float(env("SECONDS", "2")))
    ap.add_argument("--rate", type=int, default=int(env("RATE", "40000")))
    ap.add_argument("--window", type=int, default=int(env("WINDOW", "128")))
    ap.add_argument("-k", type=int, default=int(env("K", "64")))
    ap.add_argument("--servers", default=env("SERVERS", "turncell coturn"))
    ap.add_argument("--budget", type=float,
                    default=float(env("BUDGET", "540")),
                    help="seconds; later rounds are skipped rather than "
                    "run past it")
    a = ap.parse_args()
    servers = a.servers.split()
    if not os.access(TCLOAD, os.X_OK):
        sys.exit("bench: build %s first (make bench does)" % TCLOAD)
    if "coturn" in servers and shutil.which("turnserver") is None:
        sys.exit("bench: turnserver (Debian's coturn) is not installed")
    # 10,000 allocations: a socket each in tcload, a socket or two each in
    # the servers; the hard limit is what an unprivileged raise can reach
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # the servers and tcload inherit a higher priority, so that other work
    # on a shared machine disturbs the latency and loss figures less (CPU
    # per packet hardly depends on it); NICE=0 turns it off
    want = int(env("NICE", "10"))
    try:
        os.nice(-want)
        niced = want
    except OSError:
        niced = 0

    # the CPU reading is checked on this machine before anything is
    # measured with it
    r = subprocess.run([TCLOAD, "-S"], capture_output=True, text=True,
                       timeout=120)
    print("# " + r.stdout.strip(), flush=True)
    if r.returncode != 0:
        sys.exit("bench: the server CPU reading is wrong on this machine")

    # SIGTERM (timeout, a CI runner) must still stop the servers in the
    # finally below: as SystemExit, not the default death
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="tcbench.")
    srv = {name: Server(name, tmp) for name in servers}
    res = {}
    t0 = time.time()
    busy0, all0 = busy_jiffies()
    load0 = os.getloadavg()
    try:
        for s in srv.values():
            s.start()
        s_ = "%g" % a.seconds
        phases = ["paced:%d:100:%s" % (a.rate, s_),
                  "sat:%d:100:%s" % (a.window, s_),
                  "paced:%d:1200:%s" % (a.rate, s_),
                  "sat:%d:1200:%s" % (a.window, s_)]
        if a.scale:
            rounds = 1
            plan = [("scale", 10000, ["paced:10000:100:30"], False)]
        else:
            rounds = a.rounds
            plan = [("n", 1, phases, False), ("n", 100, phases, False),
                    ("n", 1000, phases, False), ("setup", 10000, [], True)]
        took = {}
        skipped = 0
        bad_runs = []
        for r in range(rounds):
            # alternate which server goes first, so drift of the shared
            # machine's load does not always favour the same one
            order = servers if r % 2 == 0 else servers[::-1]
            for what, n, ph, setup_only in plan:
                # the whole run stays bounded: a step that took longer in
                # the last round than what is left of the budget is skipped
                if time.time() - t0 + took.get(n, 0) > a.budget:
                    skipped += 1
                    print("# round %d n=%d skipped: time budget" % (r + 1, n))
                    continue
                ts = time.time()
                for name in order:
                    lines = srv[name].load(n, ph, setup_only, a.k)
                    if ph and not any(d["kind"] == "phase" for d in lines):
                        bad_runs.append((r + 1, name, n))
                    for d in lines:
                        print("# round %d %s n=%d: %s %s" % (
                            r + 1, name, n, d["kind"], " ".join(
                                "%s=%s" % kv for kv in d.items()
                                if kv[0] != "kind")), flush=True)
                        x = derive(d)
                        if x["kind"] == "setup" and (n >= 1000):
                            case = "set-up of %d, %d in flight" % (n, a.k)
                        elif x["kind"] == "phase":
                            mode = ("paced %d pkt/s" % x["arg"]
                                    if x["mode"] == "paced" else
                                    "saturated (window %d)" % x["arg"])
                            case = "%d alloc, %d B, %s" % (
                                n, x["size"], mode)
                        else:
                            continue
                        res.setdefault((case, name), []).append(x)
                took[n] = time.time() - ts
    finally:
        for s in srv.values():
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    busy1, all1 = busy_jiffies()
    load1 = os.getloadavg()
    report(res, servers, rounds)
    failed = sum(int(x.get("failed", 0)) for runs in res.values()
                 for x in runs if x["kind"] == "setup")
    if failed or bad_runs:
        print("\nWARNING: %d set-ups failed and %d runs had no relay phase "
              "(see the lines starting with #): those figures are missing "
              "or wrong" % (failed, len(bad_runs)))
    if skipped:
        print("\n%d steps skipped to stay within the time budget of %.0f s: "
              "some medians are over fewer rounds" % (skipped, a.budget))
    print("\n%s; %.0f s; servers and tcload at nice %d; machine busy %.0f %% of %d CPUs over the run, "
          "load average %.1f at start, %.1f at end (everything on the "
          "machine, this bench included)" % (
              time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0)),
              time.time() - t0, -niced, 100.0 * (busy1 - busy0) / max(1, all1 - all0),
              os.cpu_count(), load0[0], load1[0]))


if __name__ == "__main__":
    main()
