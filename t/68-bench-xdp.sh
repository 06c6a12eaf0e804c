#!/bin/sh
# 68-bench-xdp.sh: make bench-xdp in a tiny configuration (4 allocations,
# phases of 0.3 s, one round). The bench creates its two network
# namespaces and the veth, every server that runs gets packets to the peer
# and back, and every relayed payload crossed the veth both ways (its byte
# counters), turncell's /metrics counted them (the XDP counters for
# turncell --xdp); the table has the bench-xdp columns, a row for every server,
# "not built" for turncell --xdp when the binary lacks the flag, and the
# ratios against coturn. The namespaces are gone afterwards, also when the
# bench is stopped with SIGTERM halfway. Skipped when network namespaces
# cannot be created here.
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/68-bench-xdp.XXXXXX)
. t/tap.shlib
bpid=
cleanup() {
	if [ -n "$bpid" ]; then
		kill -9 "$bpid" 2>/dev/null
		# only what that bench made, named after its PID
		for s in c r; do
			ip netns del "tcxb$bpid$s" 2>/dev/null
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "1..16"

why=
if [ "$(id -u)" != 0 ]; then
	why="not root"
elif ! command -v ethtool >/dev/null 2>&1; then
	why="ethtool not installed"
elif ! ip netns add "t68probe$$" 2>"$tmp/probe"; then
	why="cannot create a network namespace: $(cat "$tmp/probe")"
else
	ip netns del "t68probe$$"
fi
if [ -n "$why" ]; then
	i=0
	while [ $i -lt 16 ]; do skip "$why"; i=$((i + 1)); done
	exit 0
fi

# netns_gone PID: neither namespace of the bench with that PID exists
netns_gone() {
	! ip netns list | grep -Eq "^tcxb$1[cr]( |\$)"
}
# wait_exit PID SECONDS: the process ended within the time
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# 1: the load generator, built here as t/65 does
check "tcload builds" ${CC:-cc} -std=gnu11 -O2 -Icommon -o "$tmp/tcload" \
    contrib/bench/tcload.c contrib/bench/tcload_stun.c \
    contrib/bench/tcload_proc.c build/libcore.a -lnettle -lz
export TCLOAD="$tmp/tcload"

servers="turncell-xdp turncell"
have_coturn=
if command -v turnserver >/dev/null 2>&1; then
	servers="$servers coturn"
	have_coturn=1
fi
have_xdp=
bin/turncell --help 2>&1 | grep -q -- '--xdp' && have_xdp=1

# 2-4: a tiny run
SERVERS="$servers" NICE=0 $PY contrib/bench/bench.py --veth --rounds 1 \
    --allocs 4 --sizes 100 --seconds 0.3 --rate 2000 --window 16 -k 4 \
    --budget 120 >"$tmp/out" 2>&1 &
bpid=$!
wait_exit $bpid 240 || kill -TERM $bpid
wait $bpid
rc=$?
sed 's/^/# /' "$tmp/out"
check "bench-xdp ran to its end (exit 0)" test "$rc" = 0
check "it set up its own namespaces and veth, named after its PID" grep -q \
    "^# network: namespaces tcxb${bpid}c (clients, peers) and tcxb${bpid}r (relays), veth xbc$bpid/xbr$bpid, tx checksum offload off on xbc$bpid" \
    "$tmp/out"
check "the relay table has the bench-xdp columns" grep -qx \
    '| case | server | pkts/machine-CPU-s | pkts/bench-CPU-s | others CPU % | pkts/CPU-s | offered/s | delivered/s | loss % | tool drops | RTT p50 ms | RTT p99 ms | tool CPU/server CPU |' \
    "$tmp/out"

# rows SERVER: table rows of that server, one per case; the delivered/s
# column (9th field) of each
rows() {
	awk -F' *[|] *' -v s="$1" '$3 == s && $2 ~ /^4 alloc, 100 B, / \
	    { print $9 }' "$tmp/out"
}
# f(KEY): the value of KEY= in a "# round" line of the bench's output
field_fn='function f(k,   i, a) { for (i = 1; i <= NF; i++) {
	split($i, a, "="); if (a[1] == k) return a[2] } return -1 }'
# through_veth SERVER: the payloads of every packet at the peer and back
# at a client crossed the client/peer side of the veth (bytes received),
# and those of every packet sent and echoed (bytes sent); a GSO batch
# counts one set of headers, so the payloads are the lower bound
through_veth() {
	awk -v s="$1" "$field_fn"'
	$1 == "#" && $2 == "round" && $4 == s && $6 == "phase" {
		np++
		if (f("at_peer") <= 0 || f("delivered") <= 0) bad = 1
		rx += (f("at_peer") + f("delivered")) * f("size")
		tx += (f("sent") + f("at_peer")) * f("size")
	}
	$1 == "#" && $2 == "round" && $4 == s && $6 == "veth" {
		vrx = f("tool_side_rx_bytes"); vtx = f("tool_side_tx_bytes")
	}
	END {
		printf "%s: %d phases, payload rx %d tx %d, veth rx %d tx %d\n",
		    s, np, rx, tx, vrx, vtx
		exit !(np == 2 && !bad && vrx >= rx && vtx >= tx)
	}' "$tmp/out"
}
# counted SERVER KEY: turncell's /metrics counter KEY (the bench's
# "metrics" line) moved by at least the packets at the peer and back
counted() {
	awk -v s="$1" -v key="$2" "$field_fn"'
	$1 == "#" && $2 == "round" && $4 == s && $6 == "phase" {
		want += f("at_peer") + f("delivered")
	}
	$1 == "#" && $2 == "round" && $4 == s && $6 == "metrics" {
		got = f(key)
	}
	END {
		printf "%s: %s moved %d, packets at the peer and back %d\n",
		    s, key, got, want
		exit !(want > 0 && got >= want)
	}' "$tmp/out"
}
# delivered SERVER: two cases, each with delivered/s > 0
delivered() {
	rows "$1" | awk '{ n++; if (!($1 > 0)) bad = 1 }
	    END { exit !(n == 2 && !bad) }'
}

# 5-12: each server that ran relayed through the veth
check "turncell: packets delivered in both cases" delivered turncell
check "turncell: every relayed payload crossed the veth" through_veth turncell
check "turncell: its /metrics counted every one (userspace path)" \
    counted turncell relayed_packets
if [ -n "$have_coturn" ]; then
	check "coturn: packets delivered in both cases" delivered coturn
	check "coturn: every relayed payload crossed the veth" through_veth coturn
else
	skip "turnserver (Debian's coturn) not installed"
	skip "turnserver (Debian's coturn) not installed"
fi
# rows_say SERVER TEXT: both of its rows say TEXT in every column
rows_say() {
	test "$(awk -F' *[|] *' -v s="$1" -v t="$2" '$3 == s && $4 == t &&
	    $14 == t' "$tmp/out" | wc -l)" = 2
}
if [ -n "$have_xdp" ] && grep -q '^# turncell --xdp: its program did not load' \
    "$tmp/out"; then
	# a machine where XDP cannot be attached (no BPF, old kernel): the
	# bench says so and measures the others
	check "turncell --xdp: its program did not load, both rows say so" \
	    rows_say turncell-xdp "XDP did not load"
	skip "the XDP program could not be attached on this machine"
	skip "the XDP program could not be attached on this machine"
elif [ -n "$have_xdp" ]; then
	check "turncell --xdp: packets delivered in both cases" \
	    delivered turncell-xdp
	check "turncell --xdp: every relayed payload crossed the veth" \
	    through_veth turncell-xdp
	check "turncell --xdp: its XDP counters counted every one (fast path)" \
	    counted turncell-xdp xdp_packets
else
	check "turncell --xdp: the binary has no --xdp, both rows say not built" \
	    rows_say turncell-xdp "not built"
	skip "bin/turncell has no --xdp"
	skip "bin/turncell has no --xdp"
fi

# 13: ratios against coturn for each other server that ran
if [ -n "$have_coturn" ]; then
	want=$((2 * (1 + ${have_xdp:-0})))
	check "a ratio row against coturn per case and server ($want)" test \
	    "$(grep -Ec '^[|] 4 alloc, 100 B, [^|]* [|] turncell(-xdp)?/coturn [|]' \
	    "$tmp/out")" = "$want"
else
	skip "turnserver (Debian's coturn) not installed"
fi

# 14: nothing left behind
check "its namespaces (and so the veth) are gone" netns_gone $bpid

# 15-16: stopped halfway, it still removes what it made
: >"$tmp/out2"	# before the background job opens it: the wait reads it
SERVERS="turncell" NICE=0 $PY contrib/bench/bench.py --veth --rounds 1 \
    --allocs 4 --seconds 30 --rate 1000 -k 4 --budget 120 \
    >>"$tmp/out2" 2>&1 &
bpid=$!
i=0
while ! grep -q '^# network:' "$tmp/out2" && kill -0 $bpid 2>/dev/null &&
    [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep -q '^# network:' "$tmp/out2" || sed 's/^/# /' "$tmp/out2"
ip netns list | grep -q "^tcxb${bpid}r" && made=1 || made=
kill -TERM $bpid 2>/dev/null
wait_exit $bpid 60 || kill -9 $bpid
wait $bpid
rc=$?
check "SIGTERM after the set-up: it ends with 143" test "$made/$rc" = "1/143"
check "... and removes its namespaces" netns_gone $bpid
exit $fail
