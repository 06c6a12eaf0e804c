#!/bin/sh
# 63-contrib.sh: the deployment files in contrib/ parse and say what they
# should: the Kubernetes DaemonSet (host network, probes on /readyz and
# /healthz, a grace period longer than the drain deadline, no preStop, a
# narrow securityContext), the Prometheus scrape configuration and alert
# rules (promtool check config/rules and the rules' unit tests), and every
# metric the alerts name is exported by a running relay's /metrics.
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
. t/tap.shlib
tap_tmp 63-contrib

echo "1..11"

# 1-2: YAML and the DaemonSet's shape
if $PY -c 'import yaml' 2>/dev/null; then
	check "every YAML file in contrib/k8s and contrib/prometheus parses" \
	    $PY -c 'import sys, yaml
for f in sys.argv[1:]:
    list(yaml.safe_load_all(open(f)))' contrib/k8s/*.yaml \
	    contrib/prometheus/*.yml
	check "DaemonSet: host network, probes, grace > drain, no preStop, caps" \
	    $PY -c 'import sys, yaml
d = yaml.safe_load(open("contrib/k8s/turncell-daemonset.yaml"))
assert d["kind"] == "DaemonSet", d["kind"]
p = d["spec"]["template"]["spec"]
assert p["hostNetwork"] is True
(c,) = p["containers"]
a = c["args"]
drain = int(a[a.index("--drain-timeout") + 1])
assert p["terminationGracePeriodSeconds"] > drain, "grace <= drain"
assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
port = a[a.index("--health-check-addr") + 1].rsplit(":", 1)[1]
assert str(c["readinessProbe"]["httpGet"]["port"]) == port
assert str(c["livenessProbe"]["httpGet"]["port"]) == port
assert "preStop" not in c.get("lifecycle", {}), "preStop"
sc = c["securityContext"]
assert sc["allowPrivilegeEscalation"] is False
assert sc["privileged"] is False
assert sc["capabilities"]["drop"] == ["ALL"]
assert sorted(sc["capabilities"]["add"]) == ["KILL", "SETGID", "SETUID"]
assert sc["readOnlyRootFilesystem"] is True'
else
	skip "python3-yaml not installed"
	skip "python3-yaml not installed"
fi

# 3-5: promtool (Debian package prometheus)
if command -v promtool >/dev/null 2>&1; then
	check "promtool check rules contrib/prometheus/turncell-alerts.yml" \
	    promtool check rules contrib/prometheus/turncell-alerts.yml
	check "promtool check config contrib/prometheus/prometheus.yml" \
	    promtool check config contrib/prometheus/prometheus.yml
	check "promtool test rules: each alert fires when it should, only then" \
	    promtool test rules contrib/prometheus/turncell-alerts.test.yml
else
	skip "promtool not installed (Debian package prometheus)"
	skip "promtool not installed (Debian package prometheus)"
	skip "promtool not installed (Debian package prometheus)"
fi

# 6-11: a running relay exports every metric the alerts name
(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$tmp/secret")
# both ports chosen by the kernel and read back from --port-file
bin/turncell --public-ip4-addr 127.0.0.1 --bind-ip4-addr 127.0.0.1 \
    --listen-port 0 --port-file "$tmp/ports" \
    --lowest-port 40000 --highest-port 40015 \
    --secret-file "$tmp/secret" --health-check-addr 127.0.0.1:0 \
    >"$tmp/log" 2>&1 &
pid=$!
i=0
while [ ! -s "$tmp/ports" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
hport=$(sed -n 2p "$tmp/ports" 2>/dev/null)
i=0
while [ -n "$hport" ] && [ $i -lt 50 ]; do
	curl -sf -o "$tmp/metrics" "http://127.0.0.1:$hport/metrics" && break
	sleep 0.1
	i=$((i + 1))
done
check "GET /metrics from a running relay" test -s "$tmp/metrics"
names=$(grep -o 'expr:.*' contrib/prometheus/turncell-alerts.yml |
    grep -o '[a-z_][a-z0-9_]*' | grep -E '^(turncell_|up$)' | sort -u)
for m in turncell_draining turncell_workers_crashed_total \
    turncell_sandbox_violations_total turncell_portal_connected; do
	check "the alerts use $m" sh -c "echo '$names' | grep -qx $m"
done
missing=
for m in $names; do
	[ "$m" = up ] && continue	# made by Prometheus for every target
	grep -q "^# TYPE $m " "$tmp/metrics" || missing="$missing $m"
done
check "every metric in the alert rules is in /metrics ($(echo $names |
    wc -w) names)" test -z "$missing"
[ -n "$missing" ] && echo "# not exported:$missing"
kill "$pid" 2>/dev/null
exit $fail
