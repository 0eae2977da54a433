#!/usr/bin/env bash
# Load test of "httpsguard web" watches on loopback: WATCHES watches, all due
# at once, drain through River while wrk measures a result page.
#
#   bench/web/watches.sh                        # SQLite, 10000 watches
#   DB=postgres://... bench/web/watches.sh      # PostgreSQL (an empty database)
#   WATCHES=1000 DURATION=20s WINDOWS=4 bench/web/watches.sh
#
# wrk runs in WINDOWS consecutive windows of DURATION from the moment the
# watches are queued (8 of 30s by default, or until they have drained);
# the drain then finishes without it, so the output shows both the drain
# rate under load and without.
# Needs wrk (apt-get install -y wrk) and curl. Every address is 127.0.0.1:
# the watched site is bench/web/watchload's, on its own loopback port, so
# the scans do the full work of real ones (TLS, redirects, headers); the
# measured result page is of a second such site. Prints
# the result page's throughput during the drain, the drain time, and the
# final count of scans and River jobs: every watch must have one finished
# scan and one completed job, none lost, retried away or discarded.
set -euo pipefail
cd "$(dirname "$0")/../.."

WATCHES=${WATCHES:-10000}
DURATION=${DURATION:-30s}
WINDOWS=${WINDOWS:-8}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WORKERS=${WORKERS:-8}
PORT=${PORT:-18088}
SITE_PORT=${SITE_PORT:-18443}
PAGE_PORT=${PAGE_PORT:-18444}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
work=$(mktemp -d)
DB=${DB:-$work/bench.db}
base="http://127.0.0.1:$PORT"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/httpsguard" ./cmd/httpsguard
(cd bench && go build -o "$work/watchload" ./web/watchload)

"$work/watchload" site -addr "127.0.0.1:$SITE_PORT" -ca "$work/ca" >"$work/site.out" &
pids+=($!)
for _ in $(seq 100); do grep -q '^root ' "$work/site.out" 2>/dev/null && break; sleep 0.1; done
root=$(sed -n 's/^root //p' "$work/site.out")
# The measured result page is of another site (same CA): every finished
# re-check of a site drops the cached pages showing that site's history, and
# 10000 watches of one loopback site would make the page uncacheable, which
# 10000 watches of 10000 real sites do not.
"$work/watchload" site -addr "127.0.0.1:$PAGE_PORT" -ca "$work/ca" >"$work/page.out" &
pids+=($!)

"$work/watchload" seed -db "$DB" -n "$WATCHES" -url "https://127.0.0.1:$SITE_PORT/"

start=$(date +%s.%N)
"$work/httpsguard" web --http "127.0.0.1:$PORT" --db "$DB" --allow-private --ca-file "$root" \
	--concurrency "$WORKERS" --scans-per-minute 100000 --scan-burst 1000 --max-queue 100000 \
	--max-queued-per-client 1000 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# A finished scan for the result page: submitted scans go before the
# watches' re-checks, so it finishes while the queue is full.
id=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"url\": \"https://127.0.0.1:$PAGE_PORT/\"}" "$base/api/v1/scans" |
	sed -n 's/.*"id": "\([a-z2-7]*\)".*/\1/p' | head -1)
for _ in $(seq 600); do
	curl -fsS "$base/api/v1/scans/$id" | grep '"state": "\(done\|failed\)"' >/dev/null && break
	sleep 0.1
done

status() { "$work/watchload" status -db "$DB"; }
# Measure once the scheduler has queued the watches' re-checks.
for _ in $(seq 600); do
	case "$(status)" in *"queued=0 running=0 "*) sleep 0.2 ;; *) break ;; esac
done
echo "httpsguard web watches load test: $(nproc) cores, $WATCHES watches due at once, $WORKERS scan workers, database ${DB%%\?*}"
drained() {
	case "$1" in *"queued=0 running=0 "*)
		# River records completions a moment after the scans finish.
		echo "$1" | grep -q 'available=\|running=[1-9]\|retryable=\|pending=' || return 0 ;;
	esac
	return 1
}
# wrk measures the result page in consecutive windows, each with the
# progress of the drain at its end.
echo "result page: GET /scans/$id under wrk ($CONNECTIONS connections, $THREADS threads), windows of $DURATION"
printf '%-8s %-12s %-10s %-10s %s\n' window req/s p50 p99 "scans at the end of the window"
s=$(status)
total_req=0
total_s=0
for w in $(seq "$WINDOWS"); do
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$base/scans/$id" >"$work/wrk.txt"
	s=$(status)
	printf '%-8s %-12s %-10s %-10s %s\n' "$w" "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")" \
		"$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")" "$s"
	total_req=$((total_req + $(awk '/requests in/ {print $1}' "$work/wrk.txt")))
	total_s=$(echo "$total_s + $(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$work/wrk.txt")" | bc)
	drained "$s" && break
done
echo "result page during the drain: $total_req requests in $total_s s, $(echo "$total_req / $total_s" | bc) req/s on average"
loaded=$(date +%s.%N)
loaded_done=$(echo "$s" | sed -n 's/.*done=\([0-9]*\).*/\1/p')
for _ in $(seq 3600); do
	drained "$s" && break
	sleep 1
	s=$(status)
done
end=$(date +%s.%N)
echo
echo "drained: $s"
echo "drain time: $(echo "$end - $start" | bc) s for $WATCHES watch scans (+1 submitted)"
after=$(echo "$s" | sed -n 's/.*done=\([0-9]*\).*/\1/p')
echo "drain rate without wrk: $(echo "($after - $loaded_done) / ($end - $loaded)" | bc) scans/s"
want=$((WATCHES + 1))
done_n=$(echo "$s" | sed -n 's/.*done=\([0-9]*\).*/\1/p')
failed_n=$(echo "$s" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
completed=$(echo "$s" | sed -n 's/.*completed=\([0-9]*\).*/\1/p')
if [ "$((done_n + failed_n))" -ne "$want" ] || [ "${completed:-0}" -ne "$want" ] || echo "$s" | grep -q 'discarded\|retryable'; then
	echo "LOST OR EXTRA WORK: want $want finished scans and $want completed jobs" >&2
	exit 1
fi
echo "no job lost: $want scans finished, $want scan jobs completed, none discarded"
