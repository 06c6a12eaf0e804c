#!/usr/bin/env python3
"""security-report.py: the results table of t/SECURITY.md, from a real run.

    python3 contrib/security-report.py [--log FILE] [--fuzz-seconds N]
                                       [--update]

Without --log it runs `make check PROVE_FLAGS=-v` (every test, verbose
TAP) and keeps the output in build/report/check.log; with --log it reads
such a log from an earlier run. With --fuzz-seconds N it first runs
`make fuzz-run FUZZ_SECONDS=N`; otherwise it reads the logs the last
`make fuzz-run` left in build/fuzz/. It prints markdown on stdout (with
--update: into t/SECURITY.md, between its markers):

  - checks per attack case: the cases of t/SECURITY.md with the test
    files each one names, and the TAP results of those files;
  - malformed inputs by response, from the tables of t/29 and t/12;
  - fuzz executions per harness;
  - floods survived, with the RSS and fd figures the tests print;
  - faults injected and recovered;
  - the worker's sandbox inventory, from worker/wrk_sandbox.c.

Nothing here decides a result: every figure is read from the output of
the tests, the fuzzers and the source.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, log=None):
    """run cmd in the tree; its output to log (if any); the exit code"""
    out = open(log, "w") if log else subprocess.DEVNULL
    try:
        return subprocess.call(cmd, cwd=ROOT, stdout=out,
                               stderr=subprocess.STDOUT)
    finally:
        if log:
            out.close()


# ---- TAP -------------------------------------------------------------

HEADER = re.compile(r"^(t/[\w.-]+\.(?:t|sh)) \.+ ?(.*)$")
POINT = re.compile(r"^(not )?ok (\d+)(?: - ?)?(.*)$")


def split_tap(text):
    """prove -v output: {test file: [lines]}"""
    files, cur = {}, None
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            cur = os.path.basename(m.group(1))
            files[cur] = []
            rest = m.group(2)
            if rest:
                files[cur].append(rest)
            continue
        if line.startswith("Test Summary Report") or \
                line.startswith("Files="):
            cur = None
        if cur is not None:
            files[cur].append(line)
    return files


def tally(lines):
    """run, passed, failed, skipped (a skip counts as run, not passed)"""
    run = passed = failed = skipped = 0
    for line in lines:
        m = POINT.match(line)
        if not m:
            continue
        run += 1
        desc = m.group(3)
        if m.group(1):
            if "# TODO" not in desc:
                failed += 1
        elif re.search(r"#\s*skip", desc, re.I):
            skipped += 1
        else:
            passed += 1
        # a whole-file skip_all: 1..0 # SKIP
    if run == 0:
        for line in lines:
            if re.match(r"^1\.\.0\b", line) or "skipped:" in line:
                skipped = -1
    return run, passed, failed, skipped


def stem(name):
    """t file name -> the NN-name stem"""
    return re.sub(r"\.(t|c|sh)$", "", name)


# ---- t/SECURITY.md ---------------------------------------------------

def attack_cases():
    """[(number, title, [test stems])] from the attack cases section"""
    text = open(os.path.join(ROOT, "t/SECURITY.md")).read()
    start = text.find("## Attack cases")
    if start < 0:
        return []
    body = text[start:]
    end = re.search(r"^## (?!Attack)", body[3:], re.M)
    if end:
        body = body[:end.start() + 3]
    items = re.split(r"^(?=\d+\. \*\*)", body, flags=re.M)
    out = []
    for it in items:
        m = re.match(r"(\d+)\. \*\*(.+?)\*\*", it)
        if not m:
            continue
        tests = []
        for t in re.findall(r"\b(\d\d-[\w-]+)\.(?:c|sh)\b", it):
            if t not in tests:
                tests.append(t)
        out.append((int(m.group(1)), m.group(2).rstrip("."), tests))
    return out


# ---- the tables ------------------------------------------------------

def table_cases(files):
    by_stem = {stem(k): v for k, v in files.items()}
    rows = []
    tot_cases = tot_ok = 0
    for num, title, tests in attack_cases():
        run = passed = failed = skipped = 0
        seen = []
        for t in tests:
            if t not in by_stem:
                continue
            r, p, f, s = tally(by_stem[t])
            run += r
            passed += p
            failed += f
            skipped += max(s, 0)
            seen.append(t[:2])
        if not tests:
            verdict = "no test named"
        elif not seen:
            verdict = "tests not in this run"
        elif failed:
            verdict = "**FAILED**"
        else:
            verdict = "passed"
            tot_ok += 1
        tot_cases += 1
        rows.append("| %d | %s | %s | %d | %d | %d | %d | %s |" % (
            num, title.replace("|", "/"),
            " ".join(seen) if seen else "-", run, passed, failed, skipped,
            verdict))
    head = ["| case | attack | test files | checks | passed | failed | "
            "skipped | result |",
            "|---:|---|---|---:|---:|---:|---:|---|"]
    note = ("%d attack cases, %d with every check of their test files "
            "passing. The counts are those of the whole test files the "
            "case names (a file serves several cases), not of the case "
            "alone." % (tot_cases, tot_ok))
    return [note, ""] + head + rows


RESP29 = re.compile(r" -> (.+)$")
RESP12 = re.compile(r"\(rc (-?\d+) code (\d+)\)\s*$")


def response_class(desc):
    d = desc.strip()
    m = RESP12.search(d)
    if m:
        rc, code = int(m.group(1)), int(m.group(2))
        if rc < 0:
            return "dropped (not STUN)"
        if code:
            return "error %d" % code
        return "accepted (tolerated)"
    m = RESP29.search(d)
    if m:
        r = m.group(1).lower()
        if r.startswith("nothing") or r.startswith("drop") or \
                r.startswith("no reply"):
            return "dropped (no reply)"
        c = re.match(r"(\d{3})", r)
        if c:
            return "error %s" % c.group(1)
        return "other: " + r[:40]
    m = re.search(r": (\d{3})$", d)
    if m:
        return "error %s" % m.group(1)
    if re.search(r"\bdrop$", d):
        return "dropped (no reply)"
    return None


def table_malformed(files):
    counts = {}
    for name, src in (("12-stun.t", "t/12"), ("29-turn-malformed.t",
                                              "t/29")):
        for line in files.get(name, []):
            m = POINT.match(line)
            if not m:
                continue
            desc = m.group(3)
            if name == "12-stun.t" and not (
                    desc.startswith("malformed:") or "over limit" in desc
                    or desc.startswith("flipped")):
                continue
            cls = response_class(desc)
            if cls is None:
                continue
            key = (cls, src)
            ok, bad = counts.get(key, (0, 0))
            counts[key] = (ok + (not m.group(1)), bad + bool(m.group(1)))
    rows = ["| response | source | inputs | as expected |",
            "|---|---|---:|---:|"]
    for (cls, src), (ok, bad) in sorted(counts.items()):
        rows.append("| %s | %s | %d | %d |" % (cls, src, ok + bad, ok))
    return rows


def table_fuzz():
    d = os.path.join(ROOT, "build/fuzz")
    rows = ["| harness | seconds | executions | exec/s | peak RSS MB | "
            "coverage (edges) | corpus |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    found = False
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if not n.endswith(".log") or not n.startswith("fuzz_"):
            continue
        text = open(os.path.join(d, n), errors="replace").read()
        st = dict(re.findall(r"stat::(\w+):\s*(\d+)", text))
        if "number_of_executed_units" not in st:
            continue
        found = True
        done = re.findall(r"DONE\s+cov: (\d+).*?corp: (\d+)/", text)
        cov, corp = done[-1] if done else ("?", "?")
        execs = int(st["number_of_executed_units"])
        rate = int(st.get("average_exec_per_sec", 0))
        secs = execs // rate if rate else 0
        rows.append("| %s | %d | %d | %d | %s | %s | %s |" % (
            n[:-4], secs, execs, rate, st.get("peak_rss_mb", "?"), cov,
            corp))
    if not found:
        return ["No fuzz logs in build/fuzz (run make fuzz-run)."]
    return rows + ["", "Seconds are executions divided by the average "
                   "rate. No harness reported a crash, a leak or a "
                   "sanitizer error (make fuzz-run stops at the first)."]


FLOOD = re.compile(r"^# (.*?VmRSS (\d+) (?:kB )?-> (\d+) kB, fds (\d+) -> "
                   r"(\d+).*)$")


def table_floods(files):
    rows = ["| test | flood | VmRSS before -> after (kB) | fds before -> "
            "after | survived |", "|---|---|---|---|---|"]
    for name in sorted(files):
        lines = files[name]
        run, passed, failed, skipped = tally(lines)
        for line in lines:
            m = FLOOD.match(line)
            if not m:
                continue
            what = m.group(1).split(":")[0]
            rows.append("| %s | %s | %s -> %s | %s -> %s | %s |" % (
                stem(name)[:2], what, m.group(2), m.group(3), m.group(4),
                m.group(5), "yes" if failed == 0 and run else "**no**"))
        for line in lines:
            m = re.match(r"^# churn: VmRSS (\d+) kB at the start, (\d+) kB "
                         r"after (\d+) warm-up cycles, (\d+) kB at the end",
                         line)
            if m:
                rows.append("| %s | allocate/delete churn | %s -> %s (after "
                            "%s warm-up: %s) | - | %s |" % (
                                stem(name)[:2], m.group(1), m.group(4),
                                m.group(3), m.group(2),
                                "yes" if failed == 0 else "**no**"))
            m = re.match(r"^# worker \d+: VmRSS (\d+) kB -> (\d+) kB; (.*)$",
                         line)
            if m:
                rows.append("| %s | worker, large datagrams (%s) | %s -> %s "
                            "| - | %s |" % (stem(name)[:2], m.group(3),
                                            m.group(1), m.group(2),
                                            "yes" if failed == 0 else
                                            "**no**"))
    extra = []
    for name in sorted(files):
        for line in files[name]:
            m = re.match(r"^# (.*sent \d+ datagrams.*)$", line)
            if m:
                extra.append("- %s: %s" % (stem(name)[:2], m.group(1)))
    if extra:
        rows += ["", "Flood sizes as the tests report them:", ""] + extra
    return rows


FAULTS = [
    ("52-workers", "worker SIGKILLed; its allocation freed, the others "
     "relay on (attack case 45)"),
    ("53-hostile", "hostile worker: garbage, oversize records, wrong "
     "direction, a worker that stops reading (attack case 49)"),
    ("56-churn", "supervisor SIGKILLed and restarted on the same ports "
     "(attack cases 50, 55)"),
    ("59-spawnfail", "worker spawn fails (socketpair at RLIMIT_NOFILE): "
     "508, then recovery (attack case 51)"),
    ("60-portal", "portal killed and restarted, hostile portal traffic "
     "(attack cases 52, 53)"),
    ("72-signals", "SIGTERM drain deadline, SIGHUP/USR1/USR2 ignored "
     "(attack case 54)"),
    ("73-logblock", "log pipe blocked: the relay keeps relaying"),
    ("74-healthflood", "held and half-sent health connections"),
]


def table_faults(files):
    by_stem = {stem(k): v for k, v in files.items()}
    rows = ["| test | fault injected | checks | passed | failed | "
            "recovered |", "|---|---|---:|---:|---:|---|"]
    for t, what in FAULTS:
        if t not in by_stem:
            rows.append("| %s | %s | - | - | - | not in this run |" % (
                t[:2], what))
            continue
        run, passed, failed, skipped = tally(by_stem[t])
        rows.append("| %s | %s | %d | %d | %d | %s |" % (
            t[:2], what, run, passed, failed,
            "yes" if failed == 0 and passed else "**no**"))
    return rows


def table_sandbox():
    src = open(os.path.join(ROOT, "worker/wrk_sandbox.c")).read()
    start = src.find("sbx_rules[] = {")
    end = src.find("};", start)
    body = src[start:end].splitlines()
    rows = ["| system call | rule | why |", "|---|---|---|"]
    pending = ""
    for line in body:
        c = re.match(r"\s*/\* (.*?) \*/\s*$", line)
        if c:
            pending = c.group(1)
            continue
        m = re.search(r"SC_(ALLOW|ALLOW_MASK|ALLOW_ARG|ALLOW_ONE_OF|DENY)"
                      r"\(__NR_(\w+)(?:, ([^)]*))?\)", line)
        if not m:
            continue
        why = re.search(r"/\* (.*?) \*/", line)
        reason = why.group(1) if why else pending
        kind, args = m.group(1), m.group(3) or ""
        parts = [x.strip() for x in args.split(",", 1)] + ["", ""]
        if kind == "ALLOW":
            rule = "allowed"
        elif kind == "ALLOW_MASK":
            rule = "allowed if arg %s has no bit outside %s" % (
                parts[0], parts[1].replace("|", "or"))
        elif kind == "ALLOW_ARG":
            rule = "allowed if arg %s is %s" % tuple(parts[:2])
        elif kind == "ALLOW_ONE_OF":
            rule = "allowed if arg %s is %s" % (
                parts[0], " or ".join(x.strip() for x in parts[1].split(",")))
        else:
            rule = "fails with %s" % args
        rows.append("| `%s` | %s | %s |" % (m.group(2), rule, reason))
        pending = ""
    if len(rows) == 2:	# the table moved or changed its form
        sys.exit("security-report: no rule found in worker/wrk_sandbox.c")
    rows += ["", "Anything else, and any system call of another ABI (i386, "
             "x32), kills the worker (SECCOMP_RET_KILL_PROCESS; the "
             "test-only `-DWRK_SANDBOX_DEBUG` build traps and names the "
             "call instead)."]
    return rows


BEGIN = "<!-- contrib/security-report.py: begin -->"
END = "<!-- contrib/security-report.py: end -->"
RESULTS_HEAD = """## Results of the last run

Generated by `python3 contrib/security-report.py --update` (it runs `make check PROVE_FLAGS=-v`
and reads the logs of the last `make fuzz-run`; `--log FILE` reads a saved run instead). Every
figure comes from the output of that run; rerun it to refresh the tables. `make check-asan` and
`make check-sbxdebug` are not part of it (see `t/README.md`).

"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", help="prove -v output of an earlier run")
    ap.add_argument("--fuzz-seconds", type=int, default=0)
    ap.add_argument("--other", action="append", default=[],
                    metavar="TARGET=LOG",
                    help="a saved log of make TARGET PROVE_FLAGS=-v "
                    "(check-asan, check-sbxdebug) to summarise")
    ap.add_argument("--commit", help="the commit the --log run was made "
                    "from (default: HEAD)")
    ap.add_argument("--update", action="store_true",
                    help="write the tables into t/SECURITY.md")
    a = ap.parse_args()
    os.makedirs(os.path.join(ROOT, "build/report"), exist_ok=True)
    log = a.log
    rc = None
    if log is None:
        log = os.path.join(ROOT, "build/report/check.log")
        print("security-report: make check PROVE_FLAGS=-v > %s" % log,
              file=sys.stderr)
        rc = sh(["make", "check", "PROVE_FLAGS=-v"], log)
    if a.fuzz_seconds > 0:
        print("security-report: make fuzz-run FUZZ_SECONDS=%d" %
              a.fuzz_seconds, file=sys.stderr)
        sh(["make", "fuzz-run", "FUZZ_SECONDS=%d" % a.fuzz_seconds],
           os.path.join(ROOT, "build/report/fuzz.log"))
    files = split_tap(open(log, errors="replace").read())
    commit = a.commit or subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
        capture_output=True, text=True).stdout.strip()
    total = [0, 0, 0, 0]
    whole = 0
    for lines in files.values():
        t = tally(lines)
        whole += t[3] < 0
        for i, v in enumerate(t):
            total[i] += max(v, 0)
    now = datetime.datetime.now(datetime.timezone.utc)
    out = [
        "Made by `python3 contrib/security-report.py` on %s UTC from "
        "commit %s%s: %d test files (%d skipped whole), %d checks, %d "
        "passed, %d failed, %d skipped." % (
            now.strftime("%Y-%m-%d %H:%M"), commit,
            "" if rc is None else " (make check exit status %d)" % rc,
            len(files), whole, total[0], total[1], total[2], total[3]),
        "", "#### Checks per attack case", ""]
    out += table_cases(files)
    out += ["", "#### Malformed inputs by response", "",
            "Every malformed or hostile datagram of the engine's table "
            "(t/29) and of the codec's (t/12), by the response the test "
            "expects of it.", ""]
    out += table_malformed(files)
    out += ["", "#### Fuzzing", ""]
    out += table_fuzz()
    out += ["", "#### Floods survived", ""]
    out += table_floods(files)
    out += ["", "#### Faults injected and recovered", ""]
    out += table_faults(files)
    if a.other:
        out += ["", "#### The end-to-end tests against other builds", "",
                "| make target | test files | checks | passed | failed | "
                "skipped | sanitizer reports | trapped system calls |",
                "|---|---:|---:|---:|---:|---:|---|---|"]
        for spec in a.other:
            target, _, path = spec.partition("=")
            text = open(path, errors="replace").read()
            other = split_tap(text)
            t = [0, 0, 0, 0]
            for lines in other.values():
                for i, v in enumerate(tally(lines)):
                    t[i] += max(v, 0)
            trapped = sorted(set(re.findall(
                r"a worker made system call (\d+)", text)))
            out.append("| `make %s` | %d | %d | %d | %d | %d | %s | %s |" % (
                target, len(other), t[0], t[1], t[2], t[3],
                ("**yes**" if "sanitizer reports in" in text else "none")
                if "asan" in target else "-",
                (", ".join(trapped) if trapped else "none")
                if "sbx" in target else "-"))
    out += ["", "#### The worker's sandbox", ""]
    out += table_sandbox()
    text = "\n".join(out)
    if not a.update:
        print(text)
        return 0
    path = os.path.join(ROOT, "t/SECURITY.md")
    doc = open(path).read()
    begin, end = BEGIN, END
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin) + len(begin)] + "\n" + text + "\n" + \
            doc[doc.index(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + RESULTS_HEAD + begin + "\n" + \
            text + "\n" + end + "\n"
    open(path, "w").write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
