#!/bin/sh
# make bench: turncell and coturn side by side, same load, same run.
# TC_FLAGS adds turncell flags (e.g. TC_FLAGS=--sched-batch).
# Prints allocation set-up latency, relay CPU per relayed packet for both,
# their ratio, and the PSS of one turncell worker. Loopback only; every
# load is bounded in count and time (tcbench stops after 30 s at most).
set -eu
cd "$(dirname "$0")/../.."
N_ALLOC=${N_ALLOC:-200}
N_PKTS=${N_PKTS:-100000}
SIZE=${SIZE:-100}
ROUNDS=${ROUNDS:-3}
TC_PORT=${TC_PORT:-34780}
CT_PORT=${CT_PORT:-34790}
tmp=$(mktemp -d)
pids=""
cleanup() {
	# a first SIGTERM makes turncell drain; the second ends it at once
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p build/bench
cc -std=gnu11 -O2 -Icommon -o build/bench/tcbench contrib/bench/tcbench.c \
    build/libcore.a -lnettle -lz

secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$secret" > "$tmp/secret"
chmod 600 "$tmp/secret"

# the per-source cap on unauthenticated replies is raised: every bench
# client comes from 127.0.0.1, and the cap is not what is measured here
bin/turncell --listen-port $TC_PORT --bind-ip4-addr 127.0.0.1 \
    --public-ip4-addr 127.0.0.1 --lowest-port 40000 --highest-port 40999 \
    --allow-peer 127.0.0.0/8 --secret-file "$tmp/secret" \
    --health-check-addr none --log-level warn --unauth-rate 0 ${TC_FLAGS:-} \
    2>"$tmp/turncell.log" &
tc_pid=$!
pids="$pids $tc_pid"

# coturn with the TURN REST scheme (username "<expiry>:<name>", password =
# base64 HMAC-SHA1(secret, username)); both relays use realm firezone.
turnserver -n --listening-ip 127.0.0.1 -p $CT_PORT --relay-ip 127.0.0.1 \
    --min-port 41000 --max-port 41999 --use-auth-secret \
    --static-auth-secret "$secret" -r firezone --allow-loopback-peers \
    --no-tls --no-dtls --no-cli --no-stdout-log --log-file "$tmp/coturn.log" \
    --simple-log >/dev/null 2>&1 &
ct_pid=$!
pids="$pids $ct_pid"
sleep 1
for p in $tc_pid $ct_pid; do
	kill -0 "$p" 2>/dev/null || { echo "bench: a relay failed to start" >&2;
	    cat "$tmp/turncell.log" >&2; exit 1; }
done

cred=$(bin/turncell cred --secret-file "$tmp/secret" --ttl 3600)
tc_user=$(printf '%s' "$cred" | sed 's/.*"username": *"\([^"]*\)".*/\1/')
tc_pass=$(printf '%s' "$cred" | sed 's/.*"password": *"\([^"]*\)".*/\1/')
ct_user="$(( $(date +%s) + 3600 )):bench"
ct_pass=$(python3 -c 'import sys,hmac,hashlib,base64;print(base64.b64encode(hmac.new(sys.argv[1].encode(),sys.argv[2].encode(),hashlib.sha1).digest()).decode())' "$secret" "$ct_user")

B=build/bench/tcbench
echo "# allocation set-up latency (authenticated ALLOCATE -> success), $N_ALLOC each"
printf 'turncell: '; $B alloc 127.0.0.1:$TC_PORT "$tc_user" "$tc_pass" $N_ALLOC
printf 'coturn:   '; $B alloc 127.0.0.1:$CT_PORT "$ct_user" "$ct_pass" $N_ALLOC

echo "# relay: $N_PKTS ChannelData packets of $SIZE bytes, echoed by the peer"
r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	a=$($B relay 127.0.0.1:$TC_PORT "$tc_user" "$tc_pass" $N_PKTS $SIZE $tc_pid)
	b=$($B relay 127.0.0.1:$CT_PORT "$ct_user" "$ct_pass" $N_PKTS $SIZE $ct_pid)
	echo "turncell[$r]: $a"
	echo "coturn[$r]:   $b"
	ta=$(printf '%s' "$a" | sed 's/.*cpu_us_per_pkt=\([0-9.]*\).*/\1/')
	tb=$(printf '%s' "$b" | sed 's/.*cpu_us_per_pkt=\([0-9.]*\).*/\1/')
	awk -v a="$ta" -v b="$tb" 'BEGIN { if (b > 0) printf "ratio[%d] turncell/coturn CPU per packet = %.2f\n", '"$r"', a / b }'
done

echo "# memory of one worker (PSS) while an allocation is live"
$B hold 127.0.0.1:$TC_PORT "$tc_user" "$tc_pass" 2 >/dev/null &
sleep 1
for w in $(cat /proc/$tc_pid/task/$tc_pid/children 2>/dev/null); do
	awk -v p="$w" '/^Pss:/ { print "worker " p " Pss " $2 " kB" }' /proc/$w/smaps_rollup 2>/dev/null || true
done
wait $!
