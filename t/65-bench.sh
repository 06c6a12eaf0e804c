#!/bin/sh
# 65-bench.sh: the measuring tools of make bench measure what they say.
# tcload's CPU self-check passes on this machine; against a real turncell
# (and Debian's coturn when installed) a small run sets up and binds every
# allocation, gets every packet through the relay both ways, finds the
# relay's whole process tree (the supervisor and one worker per
# allocation) and its CPU and PSS, and frees every allocation; with a
# wrong password every set-up is reported failed with 401, never counted.
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/65-bench.XXXXXX)
chmod 711 "$tmp"	# workers exec as an unprivileged user
. t/tap.shlib
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "1..16"

# a relay port block of 64 outside the ephemeral range, reserved with the
# same per-block flock as the C tests' launcher (t/tutil_relay.c) and held
# by this shell (fds 7 and 8) until it exits
lockdir=/tmp/turncell-t-ports
mkdir -p "$lockdir" 2>/dev/null && chmod 1777 "$lockdir" 2>/dev/null
reserve() {	# on fd $fd; sets base to the block's first port
	set -- $(cat /proc/sys/net/ipv4/ip_local_port_range)
	first=$(($2 + 1)) nb=$(((65535 - $2) / 64))
	if [ "$nb" -lt 16 ]; then first=1024 nb=$(((10000 - 1024) / 64)); fi
	i=0
	while [ $i -lt 200 ]; do
		base=$((first + 64 * ($(od -An -N2 -tu2 /dev/urandom) % nb)))
		eval "exec $fd>$lockdir/$base"
		if flock -n "$fd"; then return 0; fi
		i=$((i + 1))
	done
	return 1
}
free_udp_port() {
	$PY -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
# field VALUE of key K in the first line of kind KIND of file F
field() { awk -v k="$3" -v kind="$2" '$1 == kind { for (i = 2; i <= NF; i++)
	{ split($i, a, "="); if (a[1] == k) { print a[2]; exit } } }' "$1"; }
rest_pass() {
	$PY -c 'import sys, hmac, hashlib, base64
print(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(),
    hashlib.sha1).digest()).decode())' "$1" "$2"
}

# 1-2: the tool builds, and its CPU reading is right on this machine
check "tcload builds" ${CC:-cc} -std=gnu11 -O2 -Icommon -o "$tmp/tcload" \
    contrib/bench/tcload.c contrib/bench/tcload_stun.c \
    contrib/bench/tcload_proc.c build/libcore.a -lnettle -lz
check "tcload -S: the tree's CPU lies between what it burned and 25 % more" \
    "$tmp/tcload" -S

secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
(umask 077 && echo "$secret" >"$tmp/secret")
user="$(($(date +%s) + 3600)):t65"
pass=$(rest_pass "$secret" "$user")
N=20

# 3-11: turncell
fd=7
lo=
reserve && lo=$base
if [ -n "$lo" ]; then
	bin/turncell --public-ip4-addr 127.0.0.1 --bind-ip4-addr 127.0.0.1 \
	    --listen-port 0 --port-file "$tmp/port" --lowest-port "$lo" \
	    --highest-port $((lo + 63)) --allow-peer 127.0.0.0/8 \
	    --secret-file "$tmp/secret" --auth rest --unauth-rate 0 \
	    --max-allocations-per-user 0 --max-starts-per-ip 0 --max-starts 0 \
	    --health-check-addr none --log-level warn --worker-pool 0 \
	    2>"$tmp/tc.log" &
	tc=$!
	pids="$pids $tc"
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
fi
if [ -s "$tmp/port" ]; then
	port=$(head -1 "$tmp/port")
	"$tmp/tcload" -s "127.0.0.1:$port" -u "$user" -p "$pass" -n $N -k 8 \
	    -P "$tc" paced:1000:100:1 sat:16:1200:1 >"$tmp/tc.out" 2>&1
	sed 's/^/# /' "$tmp/tc.out"
	check "turncell: $N allocations set up, none failed" test \
	    "$(field "$tmp/tc.out" setup ok)/$(field "$tmp/tc.out" setup failed)" = "$N/0"
	check "turncell: set-up PSS per allocation measured (> 0 KiB)" \
	    awk -v v="$(field "$tmp/tc.out" setup pss_per_alloc_kib)" \
	    'BEGIN { exit !(v > 0) }'
	check "turncell: $N channels bound" test \
	    "$(field "$tmp/tc.out" bind ok)" = "$N"
	grep '^phase mode=paced' "$tmp/tc.out" >"$tmp/paced"
	grep '^phase mode=sat' "$tmp/tc.out" >"$tmp/sat"
	check "turncell paced: >= 99 % of what was sent came back" awk \
	    -v s="$(field "$tmp/paced" phase sent)" \
	    -v d="$(field "$tmp/paced" phase delivered)" \
	    'BEGIN { exit !(s >= 900 && d >= 0.99 * s && d <= s) }'
	check "turncell saturated: every packet reached the peer and came back" \
	    awk -v s="$(field "$tmp/sat" phase sent)" \
	    -v p="$(field "$tmp/sat" phase at_peer)" \
	    -v d="$(field "$tmp/sat" phase delivered)" \
	    -v r="$(field "$tmp/sat" phase rtt_p50_us)" \
	    'BEGIN { exit !(s > 0 && p == s && d == s && r > 0) }'
	check "turncell: the measured tree is the supervisor, its spawner and $N workers" \
	    test "$(field "$tmp/sat" phase server_procs)" = $((N + 2))
	check "turncell: server CPU measured (> 0 s) and packets per CPU-second" \
	    awk -v c="$(field "$tmp/sat" phase server_cpu_s)" \
	    -v r="$(field "$tmp/sat" phase pkts_per_cpu_s)" \
	    'BEGIN { exit !(c > 0 && r > 0) }'
	check "turncell: every allocation freed" test \
	    "$(field "$tmp/tc.out" free ok)" = "$N"
	"$tmp/tcload" -s "127.0.0.1:$port" -u "$user" -p "wrong$pass" -n 5 \
	    -k 5 -P "$tc" -t >"$tmp/bad.out" 2>&1
	check "a wrong password: 5 set-ups failed with 401, none counted" test \
	    "$(field "$tmp/bad.out" setup ok)/$(field "$tmp/bad.out" setup err_4xx)/$(field "$tmp/bad.out" setup last_error)" = "0/5/401"
else
	sed 's/^/# /' "$tmp/tc.log" 2>/dev/null
	for i in 3 4 5 6 7 8 9 10 11; do nok "turncell did not start"; done
fi

# 12-16: coturn (server_procs 1: one process, its threads)
if command -v turnserver >/dev/null 2>&1; then
	fd=8
	reserve
	clo=$base
	cport=$(free_udp_port)
	turnserver -n --listening-ip 127.0.0.1 --listening-port "$cport" \
	    --relay-ip 127.0.0.1 --min-port "$clo" --max-port $((clo + 63)) \
	    --use-auth-secret --static-auth-secret "$secret" --realm firezone \
	    --allow-loopback-peers --no-tcp --no-tls --no-dtls --no-tcp-relay \
	    --no-cli --no-stdout-log --log-file "$tmp/ct.log" \
	    --userdb "$tmp/turndb" --pidfile "$tmp/ct.pid" >/dev/null 2>&1 &
	ct=$!
	pids="$pids $ct"
	i=0	# ready once its listening socket is bound
	while [ -z "$(ss -Hluno "sport = :$cport" 2>/dev/null)" ] &&
	    [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	"$tmp/tcload" -s "127.0.0.1:$cport" -u "$user" -p "$pass" -n $N -k 8 \
	    -P "$ct" sat:16:100:1 >"$tmp/ct.out" 2>&1
	sed 's/^/# /' "$tmp/ct.out"
	check "coturn: $N allocations set up, none failed" test \
	    "$(field "$tmp/ct.out" setup ok)/$(field "$tmp/ct.out" setup failed)" = "$N/0"
	check "coturn: $N channels bound" test "$(field "$tmp/ct.out" bind ok)" = "$N"
	check "coturn saturated: every packet reached the peer and came back" \
	    awk -v s="$(field "$tmp/ct.out" phase sent)" \
	    -v p="$(field "$tmp/ct.out" phase at_peer)" \
	    -v d="$(field "$tmp/ct.out" phase delivered)" \
	    'BEGIN { exit !(s > 0 && p == s && d == s) }'
	check "coturn: the measured tree is one process, CPU > 0" awk \
	    -v n="$(field "$tmp/ct.out" phase server_procs)" \
	    -v c="$(field "$tmp/ct.out" phase server_cpu_s)" \
	    'BEGIN { exit !(n == 1 && c > 0) }'
	check "coturn: every allocation freed" test \
	    "$(field "$tmp/ct.out" free ok)" = "$N"
else
	for i in 12 13 14 15 16; do skip "turnserver (Debian's coturn) not installed"; done
fi
exit $fail
