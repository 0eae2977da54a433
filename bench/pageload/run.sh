#!/usr/bin/env bash
# The benchmark of what a developer feels with "httpsguard serve": headless
# Chromium loads a development page of 300 ES modules from a plain-HTTP app
# directly, through serve, through Caddy and through nginx (HTTP/2 and TLS),
# interleaved rounds, a fresh profile (empty cache) for every load; then how
# long serve takes to exit on Ctrl-C with a browser tab or other clients
# connected. See bench/pageload/main.go.
#
#   bash bench/pageload/run.sh
#   ROUNDS=3 SHUTDOWN_RUNS=2 bash bench/pageload/run.sh   # a quick look
#
# Installs what is missing (apt-get: chromium chromium-driver caddy nginx),
# builds httpsguard and the driver, and writes the tables to stdout and to
# bench/out/pageload.md and bench/out/shutdown.md. Everything listens on
# 127.0.0.1. Takes about five minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-7}
SHUTDOWN_RUNS=${SHUTDOWN_RUNS:-5}

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v caddy >/dev/null || missing+=(caddy)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 update -q >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -q "${missing[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

tmp=$(mktemp -d /tmp/pageload-run.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
log "building httpsguard and the driver"
go build -o "$tmp/httpsguard" ./cmd/httpsguard
(cd bench && go build -o "$tmp/pageload" ./pageload)
rev="httpsguard $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+changes')"

mkdir -p bench/out
log "page loads, $ROUNDS rounds"
"$tmp/pageload" run -httpsguard "$tmp/httpsguard" -rounds "$ROUNDS" -out "$tmp/pageload.md"
log "shutdown, $SHUTDOWN_RUNS runs per scenario"
"$tmp/pageload" shutdown -httpsguard "$tmp/httpsguard" -runs "$SHUTDOWN_RUNS" -out "$tmp/shutdown.md"
{ echo "$rev. \`bash bench/pageload/run.sh\` (ROUNDS=$ROUNDS)."; cat "$tmp/pageload.md"; } >bench/out/pageload.md
{ echo "$rev. \`bash bench/pageload/run.sh\` (SHUTDOWN_RUNS=$SHUTDOWN_RUNS)."; cat "$tmp/shutdown.md"; } >bench/out/shutdown.md
cat bench/out/pageload.md
echo
cat bench/out/shutdown.md
