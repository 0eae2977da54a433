#!/usr/bin/env bash
# Load test of "httpsguard web" on loopback: the result page and the JSON API
# under wrk while scans run in the background.
#
#   bench/web/run.sh                       # SQLite in a temporary directory
#   DB=postgres://... bench/web/run.sh     # PostgreSQL (an empty database)
#   DURATION=30s CONNECTIONS=64 bench/web/run.sh
#
# Needs wrk (apt-get install -y wrk) and curl. Sends traffic to 127.0.0.1
# only: the scans target the web checker itself (--allow-private), so every
# request of the test stays on this machine. Stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18088}
SCAN_EVERY=${SCAN_EVERY:-0.2} # seconds between background scan submissions

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
work=$(mktemp -d)
DB=${DB:-$work/bench.db}
base="http://127.0.0.1:$PORT"
server_pid=""
loader_pid=""
cleanup() {
	[ -n "$loader_pid" ] && kill "$loader_pid" 2>/dev/null || true
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/httpsguard" ./cmd/httpsguard
"$work/httpsguard" web --http "127.0.0.1:$PORT" --db "$DB" --allow-private \
	--concurrency 4 --scans-per-minute 100000 --scan-burst 1000 --max-queue 100000 \
	2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

submit() { # prints the scan ID
	curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"url\": \"$1\"}" "$base/api/v1/scans" |
		sed -n 's/.*"id": "\([a-z2-7]*\)".*/\1/p' | head -1
}
wait_done() {
	for _ in $(seq 600); do
		curl -fsS "$base/api/v1/scans/$1" | grep -q '"state": "\(done\|failed\)"' && return 0
		sleep 0.1
	done
	echo "scan $1 did not finish" >&2; return 1
}

# Two finished scans of the same site, so the result page has a history and
# a comparison to render, as real ones do.
first=$(submit "http://127.0.0.1:$PORT/?bench=0"); wait_done "$first"
id=$(submit "http://127.0.0.1:$PORT/?bench=1"); wait_done "$id"

# Scans keep running during the measurement: a new one every $SCAN_EVERY s.
(
	n=2
	while true; do
		submit "http://127.0.0.1:$PORT/?bench=$n" >/dev/null || true
		n=$((n + 1))
		sleep "$SCAN_EVERY"
	done
) &
loader_pid=$!

count_scans() { curl -fsS "$base/api/v1/sites/127.0.0.1:$PORT/scans?limit=50" | grep -c '"state": "done"' || true; }

run_wrk() { # name path
	echo
	echo "== $1: GET $2 ($DURATION, $CONNECTIONS connections, $THREADS threads)"
	before=$(grep -c 'scan finished' "$work/server.log" || true)
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$base$2" | tee "$work/wrk.txt"
	after=$(grep -c 'scan finished' "$work/server.log" || true)
	echo "scans finished meanwhile: $((after - before))"
}

echo "httpsguard web load test: $(nproc) cores, database ${DB%%\?*}"
run_wrk "result page" "/scans/$id"
run_wrk "JSON API" "/api/v1/scans/$id"
run_wrk "site history API" "/api/v1/sites/127.0.0.1:$PORT/scans"
# The start page is rendered for every request (its nonce and form token are
# new each time): the cost of an uncached page.
run_wrk "start page (uncached)" "/"
