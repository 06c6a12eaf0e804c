#!/bin/sh
# Install what the tests need beyond contrib/deps.sh: promtool (prometheus),
# mandoc, python3-yaml and curl for t/63 and t/64, jq for t/79 (JSON logs),
# nftables for t/76 (the rule set contrib/nftables-workers.nft in a
# namespace), and for the
# browser test t/62-browser.sh Debian's chromium, node, npm and playwright-core from npm
# into build/node (not committed; it drives Debian's chromium and never
# downloads a browser of its own). Idempotent.
set -e
cd "$(dirname "$0")/.."
PWC_VERSION=1.65.2
PKGS="prometheus mandoc python3-yaml curl nftables chromium jq"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
# a nodejs from elsewhere may bring its own npm (and conflict with Debian's)
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "test-deps: installing:$missing"
	$SUDO apt-get update -q
	# without recommends: prometheus's exporters, chromium's desktop
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
	    --no-install-recommends $missing
fi
if [ ! -f build/node/node_modules/playwright-core/package.json ]; then
	mkdir -p build/node
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix build/node \
	    --no-audit --no-fund "playwright-core@$PWC_VERSION"
fi
