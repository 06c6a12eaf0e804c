#!/usr/bin/env python3
"""make bench, make bench-scale and make bench-xdp: turncell and Debian's
coturn on the same load in the same run, alternating, repeated; prints a
table.

make bench and make bench-scale put both relays on loopback; make bench-xdp
(--veth) puts them in a network namespace of their own, joined to the
load's by a veth pair (contrib/bench/benchnet.py), and runs turncell with
--xdp on its side of the veth as a third server when the binary has the
flag. The relays speak UDP only and use the same long-term
credentials (the TURN REST scheme: username "<expiry>:<name>", password =
base64 HMAC-SHA1(secret, username), realm firezone; turncell runs with
--auth rest), and get relay port ranges of the same size. The load comes
from build/bench/tcload (contrib/bench/tcload.c): one UDP socket per
allocation, ChannelData through a channel to echo peers (127.0.0.2, or
10.77.0.3 across the veth), server CPU measured exactly over the server's
whole process tree (contrib/bench/tcload_proc.c says how) and, for
bench-xdp, the whole machine's busy CPU from /proc/stat (XDP work is
charged to no process).

    python3 contrib/bench/bench.py            # make bench
    python3 contrib/bench/bench.py --scale    # make bench-scale
    python3 contrib/bench/bench.py --veth     # make bench-xdp

Environment (or flags): ROUNDS (3), SECONDS per phase (2), RATE (40000
pkt/s in total), WINDOW (128 packets outstanding when saturated), K (64
set-ups in flight), SERVERS ("turncell coturn"; --veth: "turncell-xdp
turncell coturn"), ALLOCS (--veth: "100 1000"), SIZES (--veth: "100 1200"),
BUDGET (540 s), TCLOAD (build/bench/tcload), NICE (10:
everything runs at nice -10 when allowed). Every step is bounded: tcload
stops itself, each run is killed after a timeout, and a step that would
overrun BUDGET is skipped.
"""

import argparse
import base64
import hashlib
import hmac
import os
import re
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

import benchnet

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
TCLOAD = os.environ.get("TCLOAD") or os.path.join(ROOT, "build", "bench",
                                                   "tcload")
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


def stun_ready(net, port, timeout=10.0):
    """True once a STUN Binding request to the relay's port is answered
    (sent from where the load comes from)."""
    req = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + secrets.token_bytes(12)
    deadline = time.time() + timeout
    with net.udp_socket() as s:
        s.settimeout(0.2)
        while time.time() < deadline:
            s.sendto(req, (net.listen_ip, port))
            try:
                data, _ = s.recvfrom(2048)
                if data[8:20] == req[8:20]:
                    return True
            except OSError:
                pass
    return False


def has_xdp_flag():
    """the turncell binary knows --xdp"""
    try:
        r = subprocess.run([os.path.join(ROOT, "bin", "turncell"), "--help"],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--xdp" in r.stdout + r.stderr


def xdp_attached(net):
    """an XDP program is attached to the relay side of the veth"""
    r = subprocess.run(net.server_prefix + ["ip", "-d", "link", "show",
                                            "dev", net.xdp_iface],
                       capture_output=True, text=True, timeout=30)
    return "prog/xdp" in r.stdout


class XdpNotLoaded(Exception):
    """turncell --xdp started, but its program is not on the interface"""


class Server:
    def __init__(self, name, tmp, net):
        self.name, self.tmp, self.net = name, tmp, net
        self.secret = secrets.token_hex(32)
        self.proc = None

    def start(self):
        net = self.net
        log = open(os.path.join(self.tmp, self.name + ".log"), "a")
        # one server runs at a time: a program on the interface now was
        # left behind by a turncell --xdp that is gone
        if net.xdp_iface and xdp_attached(net):
            sys.exit("bench: an XDP program is still attached to %s "
                     "(turncell --xdp left it behind)" % net.xdp_iface)
        if self.name.startswith("turncell"):
            # each turncell its own files (turncell and turncell-xdp)
            sf = os.path.join(self.tmp, self.name + ".secret")
            with open(os.open(sf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(self.secret + "\n")
            # listen port chosen by the kernel, reported in a file: two
            # benches (or tests) at once never collide
            pf = os.path.join(self.tmp, self.name + ".port")
            if os.path.exists(pf):
                os.unlink(pf)
            argv = net.server_prefix + [
                    os.path.join(ROOT, "bin", "turncell"),
                    "--listen-port", "0", "--port-file", pf,
                    "--bind-ip4-addr", net.listen_ip,
                    "--public-ip4-addr", net.relay_ip,
                    "--lowest-port", str(TC_RANGE[0]),
                    "--highest-port", str(TC_RANGE[1]),
                    "--allow-peer", net.allow_peer, "--secret-file", sf,
                    "--auth", "rest", "--health-check-addr", net.health_addr,
                    "--log-level", "warn",
                    # every bench client comes from one loopback address
                    # with one username: the per-source, per-user and
                    # start-rate caps are not what is measured
                    "--unauth-rate", "0", "--max-allocations-per-ip", "0",
                    "--max-allocations-per-user", "0",
                    "--max-starts-per-ip", "0", "--max-starts", "0"]
            if self.name == "turncell-xdp":
                argv += ["--xdp", net.xdp_iface]
        else:
            self.port = net.fixed_port or free_udp_port()
            argv = net.server_prefix + [
                    "turnserver", "-n", "--listening-ip", net.listen_ip,
                    "--listening-port", str(self.port),
                    "--relay-ip", net.relay_ip,
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
        if self.name.startswith("turncell"):
            deadline = time.time() + 10
            while (not os.path.exists(pf) or not open(pf).read().strip()) \
                    and time.time() < deadline and self.proc.poll() is None:
                time.sleep(0.02)
            try:
                ports = open(pf).read().split()
                self.port = int(ports[0])
                self.health_port = int(ports[1]) if len(ports) > 1 else 0
            except (OSError, ValueError, IndexError):
                self.port = 0
        if not self.port or not stun_ready(net, self.port) or \
                self.proc.poll() is not None:
            sys.exit("bench: %s did not start:\n%s" % (
                self.name, open(os.path.join(self.tmp, self.name + ".log"))
                .read()[-2000:]))
        # a turncell that fell back to userspace is not measured as XDP
        if self.name == "turncell-xdp" and not xdp_attached(net):
            self.stop()
            raise XdpNotLoaded(open(os.path.join(
                self.tmp, self.name + ".log")).read()[-2000:])

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
    health_port = 0

    def metrics(self):
        """turncell's packet counters from its /metrics (veth runs only):
        "relayed_packets" (userspace) and "xdp_packets" (the XDP fast
        path), each summed over both directions, and every counter whose
        name has "xdp" in it, as NAME.LABELVALUE ("xdp_passed_total.stun");
        None when there is no health listener"""
        if not self.name.startswith("turncell") or not self.health_port:
            return None
        try:
            with self.net.tcp_socket() as s:
                s.settimeout(5)
                s.connect(("127.0.0.1", self.health_port))
                s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
                body = b""
                while len(body) < (1 << 20):
                    got = s.recv(65536)
                    if not got:
                        break
                    body += got
        except OSError:
            return None
        m = {}
        for line in body.decode("utf-8", "replace").splitlines():
            f = line.split()
            if len(f) != 2 or line.startswith("#"):
                continue
            name = f[0].split("{")[0]
            try:
                v = float(f[1])
            except ValueError:
                continue
            labels = re.findall(r'="([^"]*)"', f[0])
            if name == "turncell_relayed_packets_total":
                m["relayed_packets"] = m.get("relayed_packets", 0) + v
            elif name == "turncell_xdp_packets_total":
                m["xdp_packets"] = m.get("xdp_packets", 0) + v
            if "xdp" in name:
                key = ".".join([name.replace("turncell_", "")] + labels)
                m[key] = v
        return m

    def load(self, n, phases, setup_only=False, k=64):
        user, pw = rest_credentials(self.secret)
        # each run's clients on their own loopback address: a relay may
        # keep a freed client's 5-tuple for a while (coturn does), and the
        # next run's sockets must not land on one of them
        Server.runs += 1
        client_ip = self.net.client_ip(Server.runs)
        # every run starts from a fresh server: what an earlier run left
        # (coturn keeps freed sessions' memory) must not count in this one
        self.stop()
        self.start()
        argv = self.net.tool_prefix + [
                TCLOAD, "-s", "%s:%d" % (self.net.listen_ip, self.port),
                "-u", user, "-p", pw, "-n", str(n), "-k", str(k),
                "-b", client_ip, "-r", self.net.peer_ip,
                "-P", str(self.proc.pid)]
        argv += ["-t"] if setup_only else phases
        c0, m0 = self.net.counters(), self.metrics()
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
        c1, m1 = self.net.counters(), self.metrics()
        if r.returncode != 0:
            sys.exit("bench: tcload failed against %s: %s" %
                     (self.name, r.stderr.strip()))
        out = []
        for line in r.stdout.splitlines():
            kind, *kv = line.split()
            d = dict(x.split("=", 1) for x in kv)
            d["kind"] = kind
            out.append(d)
        if c0 is not None:
            # what crossed the veth during the run, set-up included
            d = {k: str(c1[k] - c0[k]) for k in c0}
            d["kind"] = "veth"
            out.append(d)
        if m0 is not None and m1 is not None:
            # who relayed: turncell's own counters over the run
            d = {k: "%d" % (m1.get(k, 0) - m0.get(k, 0))
                 for k in sorted(set(m0) | set(m1))}
            d["kind"] = "metrics"
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


def report(res, servers, rounds, missing=None, machine=False):
    """res[(case, server)] = list of dicts, one per round; missing: {server:
    why it has no figures ("not built", ...)}; machine: the whole-machine
    CPU column (bench-xdp)."""
    relay_cols = [("case", None, 0), ("server", None, 0)]
    if machine:
        relay_cols += [("pkts/machine-CPU-s", "pkts_per_machine_cpu_s", 0),
                       ("pkts/bench-CPU-s", "pkts_per_bench_cpu_s", 0),
                       ("others CPU %", "others_pct", 0)]
    relay_cols += [("pkts/CPU-s", "pkts_per_cpu_s", 0),
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
            for srv, why in (missing or {}).items():
                rows.append([case, srv] + [why] * (len(cols) - 2))
            # each other server against coturn (or the last one named)
            base = "coturn" if "coturn" in servers else servers[-1]
            for a in servers:
                if a == base:
                    continue
                b = base
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
        if not rows:
            continue
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
        for k in ("pkts_per_cpu_s", "pkts_per_machine_cpu_s",
                  "pkts_per_bench_cpu_s"):
            if out.get(k, 0) < 0:
                out[k] = None
        if out.get("machine_cpu_s", 0) > 0:
            out["others_pct"] = 100.0 * out["others_cpu_s"] / \
                out["machine_cpu_s"]
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
    ap.add_argument("--veth", action="store_true",
                    help="make bench-xdp: relays in a namespace of their "
                    "own behind a veth, turncell --xdp as a third server")
    ap.add_argument("--allocs", default=env("ALLOCS", "100 1000"),
                    help="--veth: allocation counts")
    ap.add_argument("--sizes", default=env("SIZES", "100 1200"),
                    help="--veth: payload sizes")
    ap.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    ap.add_argument("--seconds", type=float,
                    default=float(env("SECONDS", "2")))
    ap.add_argument("--rate", type=int, default=int(env("RATE", "40000")))
    ap.add_argument("--window", type=int, default=int(env("WINDOW", "128")))
    ap.add_argument("-k", type=int, default=int(env("K", "64")))
    ap.add_argument("--servers", default=env("SERVERS"))
    ap.add_argument("--budget", type=float,
                    default=float(env("BUDGET", "540")),
                    help="seconds; later rounds are skipped rather than "
                    "run past it")
    a = ap.parse_args()
    servers = (a.servers or ("turncell-xdp turncell coturn" if a.veth else
                             "turncell coturn")).split()
    missing = {}
    if "turncell-xdp" in servers and not (a.veth and has_xdp_flag()):
        if not a.veth:
            sys.exit("bench: turncell-xdp needs --veth (make bench-xdp)")
        # the table says so; the other servers are still measured
        servers.remove("turncell-xdp")
        missing["turncell-xdp"] = "not built"
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
    signal.signal(signal.SIGINT, lambda sig, frame: sys.exit(130))
    tmp = tempfile.mkdtemp(prefix="tcbench.")
    net = benchnet.Veth() if a.veth else benchnet.Loopback()
    srv = {name: Server(name, tmp, net) for name in servers}
    res = {}
    t0 = time.time()
    busy0, all0 = busy_jiffies()
    load0 = os.getloadavg()
    try:
        try:
            net.create()
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            sys.exit("bench: cannot set up the network namespaces: %s" % e)
        print("# network: %s" % net.describe(), flush=True)
        # each server is started once to check it runs, and stopped: each
        # run has the machine and the veth to itself (an idle server would
        # still cost something, and a turncell --xdp still running would
        # put its program in the path of the others' packets)
        for name in list(servers):
            try:
                srv[name].start()
            except XdpNotLoaded as e:
                print("# turncell --xdp: its program did not load; the "
                      "log:\n# " + str(e).replace("\n", "\n# "))
                servers.remove(name)
                missing[name] = "XDP did not load"
            srv[name].stop()
        s_ = "%g" % a.seconds
        sizes = [int(x) for x in a.sizes.split()] if a.veth else [100, 1200]
        phases = []
        for size in sizes:
            phases += ["paced:%d:%d:%s" % (a.rate, size, s_),
                       "sat:%d:%d:%s" % (a.window, size, s_)]
        if a.veth:
            rounds = a.rounds
            plan = [("n", int(n), phases, False) for n in a.allocs.split()]
        elif a.scale:
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
                    try:
                        lines = srv[name].load(n, ph, setup_only, a.k)
                    except XdpNotLoaded:
                        lines = []
                    srv[name].stop()
                    if ph and not any(d["kind"] == "phase" for d in lines):
                        bad_runs.append((r + 1, name, n))
                    for d in lines:
                        print("# round %d %s n=%d: %s %s" % (
                            r + 1, name, n, d["kind"], " ".join(
                                "%s=%s" % kv for kv in d.items()
                                if kv[0] != "kind")), flush=True)
                        x = derive(d)
                        if x["kind"] == "setup" and n >= 1000 and \
                                not a.veth:
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
        net.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    busy1, all1 = busy_jiffies()
    load1 = os.getloadavg()
    report(res, servers, rounds, missing, machine=a.veth)
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
