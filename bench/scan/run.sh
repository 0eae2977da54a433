#!/usr/bin/env bash
# bench/scan/run.sh — how fast is "httpsguard check"?
#
#  1. Scans one loopback site with httpsguard and with the MDN HTTP
#     Observatory 1.4.8 (npm @mdn/mdn-http-observatory, driven by
#     observatory-scan.mjs because its CLI cannot be given ports), RUNS times
#     each, and reports the median wall time of each and their ratio, plus
#     both scores (they must agree with --scoring observatory).
#  2. Scans SITES distinct host names (siteNNNN.bench.test, all answered by
#     one server through --resolve) in one "httpsguard check" run with
#     --concurrency CONCURRENCY, and reports sites/s and peak RSS
#     (/usr/bin/time -v).
#
# All traffic stays on 127.0.0.1/::1. Needs go, node, npm (or OBS_DIR with the
# package already installed) and /usr/bin/time (Debian package "time").
#
# usage: bench/scan/run.sh            (RUNS=5 SITES=1000 CONCURRENCY=64)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SITES=${SITES:-1000}
CONCURRENCY=${CONCURRENCY:-64}
WORK=$(mktemp -d)
OBS_DIR=${OBS_DIR:-$WORK/obs}
SITE_PID=

cleanup() {
	[ -n "$SITE_PID" ] && kill "$SITE_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "run.sh: $1 is required" >&2; exit 2; }; }
need go
need node
need python3
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time is required (apt-get install time)" >&2; exit 2; }

echo "# building" >&2
(cd "$ROOT" && go build -o "$WORK/httpsguard" ./cmd/httpsguard)
(cd "$ROOT/bench" && go build -o "$WORK/site" ./scan/site)

PKG=$OBS_DIR/node_modules/@mdn/mdn-http-observatory
if [ ! -d "$PKG" ]; then
	need npm
	echo "# installing @mdn/mdn-http-observatory@1.4.8 into $OBS_DIR" >&2
	mkdir -p "$OBS_DIR"
	(cd "$OBS_DIR" && npm install --silent --no-audit --no-fund --ignore-scripts @mdn/mdn-http-observatory@1.4.8 >&2)
fi
# Its install script downloads these two files; empty lists are what it
# uses when the downloads are unavailable.
mkdir -p "$PKG/conf"
[ -s "$PKG/conf/hsts-preload.json" ] || echo '{}' >"$PKG/conf/hsts-preload.json"
[ -s "$PKG/conf/tld-list.json" ] || echo '[]' >"$PKG/conf/tld-list.json"

"$WORK/site" -ca-dir "$WORK/ca" -https localhost:0 -http localhost:0 -lifetime 20m >"$WORK/site.out" 2>&1 &
SITE_PID=$!
for _ in $(seq 50); do grep -q https_port "$WORK/site.out" && break; sleep 0.1; done
eval "$(cat "$WORK/site.out")" # https_port http_port ca_root

# EPOCHREALTIME (bash 5) is read without starting a program, which would add
# tens of milliseconds to a 50 ms scan.
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "# one site, $RUNS runs each" >&2
: >"$WORK/hg.times"
: >"$WORK/obs.times"
: >"$WORK/hg.inproc"
: >"$WORK/obs.inproc"
for i in $(seq "$RUNS"); do
	t0=$EPOCHREALTIME
	"$WORK/httpsguard" check --scoring observatory --format json --output "$WORK/hg.json" \
		--ca-file "$ca_root" --https-port "$https_port" --http-port "$http_port" localhost || true
	t1=$EPOCHREALTIME
	NODE_EXTRA_CA_CERTS=$ca_root node "$ROOT/bench/scan/observatory-scan.mjs" "$PKG" localhost "$http_port" "$https_port" >"$WORK/obs.json"
	t2=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >>"$WORK/hg.times"
	awk -v a="$t1" -v b="$t2" 'BEGIN {print b - a}' >>"$WORK/obs.times"
	# Time spent scanning, without program start-up and module loading.
	python3 -c "import json; print(json.load(open('$WORK/hg.json'))['duration_ms'] / 1000)" >>"$WORK/hg.inproc"
	python3 -c "import json; print(json.load(open('$WORK/obs.json'))['scan_ms'] / 1000)" >>"$WORK/obs.inproc"
done
hg_in=$(median <"$WORK/hg.inproc")
obs_in=$(median <"$WORK/obs.inproc")
hg_med=$(median <"$WORK/hg.times")
obs_med=$(median <"$WORK/obs.times")
read -r hg_score hg_grade < <(python3 -c "import json; r=json.load(open('$WORK/hg.json')); print(r['score'], r['grade'])")
read -r obs_score obs_grade < <(python3 -c "import json; r=json.load(open('$WORK/obs.json')); print(r['score'], r['grade'])")

echo "# $SITES sites, concurrency $CONCURRENCY" >&2
python3 -c "
for i in range($SITES): print('site%04d.bench.test' % i)" >"$WORK/sites.txt"
/usr/bin/time -v "$WORK/httpsguard" check --input "$WORK/sites.txt" --concurrency "$CONCURRENCY" \
	--format jsonl --output "$WORK/batch.jsonl" --ca-file "$ca_root" \
	--https-port "$https_port" --http-port "$http_port" \
	--resolve "*:$https_port:127.0.0.1" --resolve "*:$http_port:127.0.0.1" 2>"$WORK/time.txt" || true
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
python3 - "$WORK/batch.jsonl" "$wall" "$rss_kb" "$SITES" "$CONCURRENCY" "$hg_med" "$obs_med" "$hg_score" "$hg_grade" "$obs_score" "$obs_grade" "$RUNS" "$hg_in" "$obs_in" <<'PY'
import json, sys
path, wall, rss_kb, sites, conc, hg, obs, hgs, hgg, obss, obsg, runs, hg_in, obs_in = sys.argv[1:]
hg_in, obs_in = float(hg_in), float(obs_in)
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
lines = [json.loads(l) for l in open(path) if l.strip()]
errors = sum(1 for r in lines if r.get("error"))
grades = {}
for r in lines:
    grades[r["grade"]] = grades.get(r["grade"], 0) + 1
hg, obs = float(hg), float(obs)
print("| measurement | result |")
print("|---|---|")
print(f"| one site, httpsguard check (median of {runs}) | {hg*1000:.0f} ms, score {hgs} {hgg} |")
print(f"| one site, Observatory 1.4.8 (median of {runs}) | {obs*1000:.0f} ms, score {obss} {obsg} |")
print(f"| speed-up, wall time of the command | {obs/hg:.1f}x |")
print(f"| time inside the process (median; httpsguard's includes its one-time crypto and trust-store start-up, the Observatory's excludes its module loading) | httpsguard {hg_in*1000:.0f} ms, Observatory {obs_in*1000:.0f} ms |")
print(f"| {sites} sites, --concurrency {conc} | {secs:.2f} s, {int(sites)/secs:.0f} sites/s |")
print(f"| peak RSS | {int(rss_kb)/1024:.0f} MB |")
print(f"| results | {len(lines)} ({errors} errors), grades {dict(sorted(grades.items()))} |")
PY
