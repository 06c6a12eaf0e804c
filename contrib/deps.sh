#!/bin/sh
# The Debian packages turncell needs to build, run and test; `make deps`,
# `make run` and CI (.ci/run) all install through this file. What only
# some tests need on top (promtool, mandoc, a browser) is in
# contrib/test-deps.sh; no package is listed in both. Idempotent: it does
# nothing when everything is present, and runs apt-get update once,
# before installing, when something is missing.
#
#   build-essential, clang	compilers (clang: the libFuzzer harnesses)
#   musl-tools			the worker's libc (musl-gcc, musl-dev)
#   libev-dev nettle-dev libcjson-dev libwebsockets-dev zlib1g-dev
#				the libraries the binaries link
#   perl			prove runs the TAP tests
#   python3			contrib/vectors/derive.py (t/21-vectors-derive.sh)
#   coturn			turnutils_uclient/turnutils_peer (t/55), bench
#   openssl			a throw-away certificate for the wss test (t/60)
#   libbpf-dev			loads the XDP fast path (--xdp); build/test/xdp-pass
#   iproute2 ethtool		the XDP tests' namespaces and veth pairs
set -e
PKGS="build-essential clang musl-tools perl libev-dev nettle-dev libcjson-dev
libwebsockets-dev zlib1g-dev python3 coturn openssl libbpf-dev iproute2
ethtool"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing:$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
