#!/bin/sh
# make run: install what is missing, build, and start a standalone relay on
# 127.0.0.1:3478 in the foreground (Ctrl-C drains it and exits).
#
# Loopback peers are allowed (--allow-peer 127.0.0.0/8) so that coturn's
# turnutils_peer on 127.0.0.1 can be used as the far end (with
# --indications, so that turnutils_uclient -s works); the secret lives
# in run/secret (mode 0600) and credentials are minted from it with
# `bin/turncell cred`.
set -e
cd "$(dirname "$0")/.."

sh contrib/deps.sh
make -j2

mkdir -p run
chmod 700 run
if [ ! -s run/secret ]; then
	(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >run/secret)
	echo >>run/secret
fi
chmod 600 run/secret

cred=$(bin/turncell cred --secret-file run/secret --ttl 86400)
user=$(printf '%s\n' "$cred" | sed -n 's/.*"username":"\([^"]*\)".*/\1/p')
pass=$(printf '%s\n' "$cred" | sed -n 's/.*"password":"\([^"]*\)".*/\1/p')

cat <<EOF

turncell: standalone relay on 127.0.0.1:3478 (health: http://127.0.0.1:8080/readyz)

Mint credentials (valid 24 h; --ttl SECONDS to change):
    bin/turncell cred --secret-file run/secret

Try it from another terminal with coturn's test tools (freshly minted credentials):
    turnutils_peer -p 3480 -L 127.0.0.1 &
    turnutils_uclient -s -c -e 127.0.0.1 -r 3480 -n 10 -m 1 -u '$user' -w '$pass' 127.0.0.1

(-s: Send indications, which this relay accepts because it runs with
--indications; coturn's client picks channel numbers up to 0x7FFF, outside
the RFC 8656 range 0x4000-0x4FFF that turncell enforces.)

Ctrl-C (SIGINT) or SIGTERM drains: new allocations are refused and the relay exits
once the last allocation is gone; a second Ctrl-C exits at once.

EOF

exec bin/turncell --public-ip4-addr 127.0.0.1 --bind-ip4-addr 127.0.0.1 \
    --allow-peer 127.0.0.0/8 --secret-file run/secret --indications \
    --health-check-addr 127.0.0.1:8080
