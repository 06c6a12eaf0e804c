#!/bin/sh
# 62-browser.sh: a real WebRTC browser through turncell. Debian's Chromium
# driven headless by playwright-core (from npm, in build/node; never a
# browser download): see t/62-browser.js for what is asserted.
# Prerequisites are installed by .ci/run and `make deps`; without them
# the test is skipped with the reason.
cd "$(dirname "$0")/.." || exit 1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PWC=build/node/node_modules/playwright-core
if [ ! -x "$CHROMIUM" ]; then
	echo "1..0 # SKIP no Chromium at $CHROMIUM (Debian package chromium)"
	exit 0
fi
if ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP no node (Debian package nodejs)"
	exit 0
fi
if [ ! -f "$PWC/package.json" ]; then
	echo "1..0 # SKIP no $PWC (make deps installs it from npm)"
	exit 0
fi
export CHROMIUM PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
# In a network namespace of its own with only loopback up, neither the
# browser nor the relays can reach anything else, whatever Chromium tries.
if unshare --net true 2>/dev/null; then
	exec unshare --net sh -c 'ip link set lo up && exec node t/62-browser.js'
fi
echo "# unshare --net not permitted: running in the host's network namespace"
exec node t/62-browser.js
