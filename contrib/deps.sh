#!/bin/sh
# Install the Debian packages turncell needs to build, test and run.
# Idempotent: does nothing when everything is present. What only the
# tests need is in contrib/test-deps.sh (`make deps` runs both).
set -e
PKGS="build-essential clang pkg-config perl libev-dev nettle-dev libcjson-dev
libwebsockets-dev zlib1g-dev libseccomp-dev coturn iproute2 procps"
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
