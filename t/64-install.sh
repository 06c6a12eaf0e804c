#!/bin/sh
# 64-install.sh: `make install` into a DESTDIR puts the supervisor, the
# worker next to it (where the supervisor looks), the manual page and the
# systemd unit in place; the installed relay answers a Binding request;
# the manual page passes `mandoc -T lint` and names every flag of
# `turncell --help` and `turncell cred --help`.
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
. t/tap.shlib
tap_tmp 64-install
D=$tmp/dest
MAN=supervisor/turncell.8

echo "1..11"

# 1-4: make install with PREFIX and DESTDIR
check "make install DESTDIR=... PREFIX=/usr" env -u MAKEFLAGS -u MAKELEVEL \
    make -s install DESTDIR="$D" PREFIX=/usr
mode() { stat -c %a "$1" 2>/dev/null; }
check "bin: turncell and turncell-worker side by side, mode 755" sh -c \
    "[ \"$(mode $D/usr/bin/turncell)\" = 755 ] &&
     [ \"$(mode $D/usr/bin/turncell-worker)\" = 755 ] &&
     cmp -s bin/turncell $D/usr/bin/turncell &&
     cmp -s bin/turncell-worker $D/usr/bin/turncell-worker"
check "man8/turncell.8 and lib/systemd/system/turncell.service, mode 644" \
    sh -c "[ \"$(mode $D/usr/share/man/man8/turncell.8)\" = 644 ] &&
     [ \"$(mode $D/usr/lib/systemd/system/turncell.service)\" = 644 ] &&
     cmp -s $MAN $D/usr/share/man/man8/turncell.8"
check "the unit starts the installed binary" grep -qx \
    'ExecStart=/usr/bin/turncell --drain-timeout 3600 --log-format json' \
    "$D/usr/lib/systemd/system/turncell.service"

# 5: the installed supervisor finds the installed worker and serves
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$tmp/secret"
"$D/usr/bin/turncell" --public-ip4-addr 127.0.0.1 --bind-ip4-addr 127.0.0.1 \
    --listen-port 0 --port-file "$tmp/port" \
    --lowest-port 40100 --highest-port 40115 \
    --health-check-addr none --secret-file "$tmp/secret" >"$tmp/log" 2>&1 &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 50 ]; do	# the kernel's port
	sleep 0.1
	i=$((i + 1))
done
port=$(sed -n 1p "$tmp/port" 2>/dev/null)
check "the installed relay (with its installed worker) answers a Binding" \
    $PY -c 'import os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
tid = os.urandom(12)
req = struct.pack("!HHI", 1, 0, 0x2112A442) + tid
for i in range(25):
    s.sendto(req, ("127.0.0.1", int(sys.argv[1])))
    try:
        b = s.recv(2048)
    except socket.timeout:
        continue
    assert b[:2] == b"\x01\x01" and b[8:20] == tid, b
    sys.exit(0)
sys.exit("no answer")' "$port"
kill "$pid" 2>/dev/null
grep -q 'worker binary' "$tmp/log" && sed 's/^/# /' "$tmp/log"
# and without the worker next to it, it refuses to start (exit 2)
rm "$D/usr/bin/turncell-worker"
"$D/usr/bin/turncell" --public-ip4-addr 127.0.0.1 --health-check-addr none \
    >"$tmp/noworker" 2>&1
st=$?
check "without the worker beside it: exit 2, reason given" sh -c \
    "[ $st = 2 ] && grep -q 'worker binary.*turncell-worker' $tmp/noworker"

# 7-11: the manual page
if command -v mandoc >/dev/null 2>&1; then
	check "mandoc -T lint -W warning $MAN" mandoc -T lint -W warning $MAN
else
	skip "mandoc not installed"
fi
check "NAME, SYNOPSIS, DESCRIPTION, ENVIRONMENT, SIGNALS, FILES, EXIT STATUS, EXAMPLES, SEE ALSO, STANDARDS" \
    sh -c "for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT SIGNALS FILES \
	'EXIT STATUS' EXAMPLES 'SEE ALSO' STANDARDS; do
	grep -qx \".Sh \$s\" $MAN || { echo \"no \$s\"; exit 1; }; done"
flags=$(bin/turncell --help | grep -o -- '--[a-z0-9-]*' | sort -u)
missing=
for f in $flags; do
	grep -q "Fl \\\\-${f#--}\\( \\|\$\\)" $MAN || missing="$missing $f"
done
check "every flag of turncell --help is in the page ($(echo $flags | wc -w))" \
    test -z "$missing"
[ -n "$missing" ] && echo "# missing:$missing"
envs=$(bin/turncell --help | grep -o 'env [A-Z0-9_]*' | cut -c5- | sort -u)
missing=
for e in $envs FIREZONE_TOKEN FIREZONE_NAME; do
	grep -q "Ev.* $e\\( \\|\$\\)" $MAN || missing="$missing $e"
done
check "every environment variable of turncell --help is in ENVIRONMENT" \
    test -z "$missing"
[ -n "$missing" ] && echo "# missing:$missing"
cflags=$(bin/turncell cred --help | grep -o -- '--[a-z0-9-]*' | sort -u)
missing=
for f in $cflags; do
	grep -q "Fl \\\\-${f#--}\\( \\|\$\\)" $MAN || missing="$missing $f"
done
check "every flag of turncell cred --help is in the page" test -z "$missing"
[ -n "$missing" ] && echo "# missing:$missing"
exit $fail
