#!/usr/bin/env bash
# bench/tlsfacts/run.sh — what do the TLS facts cost a scan?
#
# Runs BenchmarkScanTLSPeers (scan/tlsfacts_bench_test.go: a whole scan of
# four nginx peers, on loopback and behind a 25 ms-each-way delay proxy) on
# this tree and on BASE, the commit before the raw ClientHello probes
# (internal/tlsprobe) existed, whose scan judged versions with Go handshakes
# and sampled at most eight weak TLS 1.2 suites. The benchmark and the peers
# it starts (internal/tlspeers, testpki, peertest) are copied into BASE's
# tree, so both run the same servers. All traffic stays on 127.0.0.1.
#
# Needs go, nginx and openssl (Debian packages nginx, openssl).
#
# usage: bench/tlsfacts/run.sh        (COUNT=5 BENCHTIME=5x BASE=<commit>)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-5x}
if [ -z "${BASE:-}" ]; then
	added=$(git log --diff-filter=A --format=%H -- internal/tlsprobe/doc.go | tail -1)
	BASE=$(git rev-parse "$added^")
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/base"
git archive "$BASE" | tar -x -C "$WORK/base"
cp -r internal/testpki internal/peertest internal/tlspeers "$WORK/base/internal/"
cp scan/tlsfacts_bench_test.go "$WORK/base/scan/"

run() {
	(cd "$1" && go test -run '^$' -bench ScanTLSPeers -benchtime "$BENCHTIME" -count "$COUNT" ./scan/ |
		grep '^Benchmark')
}
echo "# base $(git rev-parse --short "$BASE")" >&2
run "$WORK/base" >"$WORK/base.txt"
echo "# head $(git rev-parse --short HEAD)" >&2
run "$ROOT" >"$WORK/head.txt"

# Median ms/scan per benchmark, base and head side by side.
python3 - "$WORK/base.txt" "$WORK/head.txt" <<'PY'
import re, statistics, sys
def read(path):
    out = {}
    for line in open(path):
        f = line.split()
        name = re.sub(r"-\d+$", "", f[0]).replace("BenchmarkScanTLSPeers/", "")
        out.setdefault(name, []).append(float(f[2]) / 1e6)
    return out
base, head = read(sys.argv[1]), read(sys.argv[2])
print("| peer / one-way delay | before (ms/scan) | with TLS facts (ms/scan) | added |")
print("|---|---:|---:|---:|")
for name in base:
    b, h = statistics.median(base[name]), statistics.median(head.get(name, [float("nan")]))
    print(f"| {name.replace('/delay=', ' / ')} | {b:.0f} | {h:.0f} | {h - b:+.0f} ms ({h / b:.2f}x) |")
PY
