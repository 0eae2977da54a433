#!/usr/bin/env bash
# Benchmark of "httpsguard serve" against its peers as local HTTPS proxies:
# Caddy (reverse_proxy), nginx and local-ssl-proxy (npm), each in front of the
# same small Go upstream (HTTP/1.1, keep-alive, a fixed 1 KiB body), with the
# same ECDSA P-256 certificate from httpsguard's local CA.
#
#   bash bench/proxy/run.sh
#   ROUNDS=1 DURATION=3s H2_REQUESTS=10000 STARTUP_RUNS=5 bash bench/proxy/run.sh   # a quick look
#   PROXIES="httpsguard caddy nginx local-ssl-proxy" bash bench/proxy/run.sh        # with the npm one
#
# Load: wrk over HTTPS with keep-alive (HTTP/1.1) and h2load over HTTP/2 (not
# for local-ssl-proxy, which speaks HTTP/1.1 only). local-ssl-proxy is left
# out unless PROXIES names it: it needs npm and the registry, and the goals
# are set against Caddy. Each proxy is started
# afresh for each load and each round, warmed up, measured, and sampled for
# its peak resident memory (VmHWM, summed over the process and its children,
# i.e. nginx's workers) and the CPU time it used. Rounds are interleaved
# across proxies so that a change in background load hits all of them; the
# table shows the median over rounds (peak memory: the maximum).
#
# Also measured: start-up of "httpsguard serve" (and, for context, of the
# peers) to the first completed TLS handshake, with an existing CA.
#
# Every step has a time limit (wrk and h2load runs, readiness, each start-up
# run), so a proxy that hangs ends the run with an error instead of stalling.
# Everything listens on 127.0.0.1 and every request goes to 127.0.0.1.
# Installs what is missing (apt-get: caddy nginx wrk nghttp2-client; npm:
# local-ssl-proxy into a temporary directory, when asked for). Writes the
# Markdown table to stdout and to bench/out/proxy.md. Takes about three
# minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
root_dir=$PWD

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}          # wrk, per measurement
WARMUP=${WARMUP:-2s}               # wrk warm-up before each measurement
CONNECTIONS=${CONNECTIONS:-64}     # wrk connections
THREADS=${THREADS:-2}              # wrk threads
H2_REQUESTS=${H2_REQUESTS:-50000}  # h2load requests per measurement
H2_CLIENTS=${H2_CLIENTS:-32}       # h2load connections
H2_STREAMS=${H2_STREAMS:-10}       # h2load concurrent streams per connection
H2_THREADS=${H2_THREADS:-1}        # h2load threads
SIZE=${SIZE:-1024}                 # upstream body in bytes
STARTUP_RUNS=${STARTUP_RUNS:-20}   # start-up measurements of httpsguard serve
PEER_STARTUP_RUNS=${PEER_STARTUP_RUNS:-5}
PROXIES=${PROXIES:-"httpsguard caddy nginx"}
LOCAL_SSL_PROXY_VERSION=${LOCAL_SSL_PROXY_VERSION:-2.0.5}

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

# ---------------------------------------------------------------- installs
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_retry() { # other jobs may hold the dpkg lock for a while
	local i
	for i in $(seq 20); do
		if as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@"; then return 0; fi
		log "apt-get $1 failed (attempt $i); retrying in 5 s"
		sleep 5
	done
	return 1
}
missing=()
command -v caddy >/dev/null || missing+=(caddy)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt_retry update -q >/dev/null
	apt_retry install -y -q "${missing[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin
case " $PROXIES " in *" local-ssl-proxy "*)
	command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed for local-ssl-proxy (apt-get install -y nodejs npm)" ;;
esac
command -v go >/dev/null || die "go is needed"

# ---------------------------------------------------------------- workspace
tmp=$(mktemp -d /tmp/proxybench.XXXXXX)
cleanup() {
	# Only this shell's own background jobs that still run: no stray PIDs.
	local p running
	running=$(jobs -pr)
	for p in $running; do kill "$p" 2>/dev/null || true; done
	for p in $running; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building httpsguard and the upstream"
go build -o "$tmp/httpsguard" ./cmd/httpsguard
(cd bench && go build -o "$tmp/proxybench" ./proxy)
pb=$tmp/proxybench

lsp_main=$tmp/npm/node_modules/local-ssl-proxy/build/main.js
case " $PROXIES " in *" local-ssl-proxy "*)
	log "installing local-ssl-proxy@$LOCAL_SSL_PROXY_VERSION (npm, into $tmp/npm)"
	npm install --prefix "$tmp/npm" --no-audit --no-fund --silent "local-ssl-proxy@$LOCAL_SSL_PROXY_VERSION" >/dev/null
	[ -f "$lsp_main" ] || die "local-ssl-proxy not installed: $lsp_main missing" ;;
esac
# local-ssl-proxy listens on every interface (server.listen(port)); this
# preload binds it to 127.0.0.1 instead and changes nothing else.
cat >"$tmp/loopback.cjs" <<'EOF'
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  return listen.apply(this, args);
};
EOF

# The CA, created here once; serve issues its own leaf from it in memory, the
# peers get the same kind of leaf (ECDSA P-256, same names) as files.
export HTTPSGUARD_CAROOT=$tmp/ca
"$tmp/httpsguard" cert --dir "$tmp/certs" --cert-file leaf.pem --key-file leaf-key.pem localhost 127.0.0.1 ::1 >/dev/null 2>&1 ||
	die "httpsguard cert failed"
ca_root=$("$tmp/httpsguard" ca root)
cert=$tmp/certs/leaf.pem key=$tmp/certs/leaf-key.pem

# Caddy keeps its state under XDG_DATA_HOME/XDG_CONFIG_HOME; keep it in $tmp
# (set after the builds: go reads its settings from XDG_CONFIG_HOME).
export XDG_DATA_HOME=$tmp/xdg/data XDG_CONFIG_HOME=$tmp/xdg/config

mapfile -t ports < <("$pb" ports -n 6)
up_port=${ports[0]} startup_port=${ports[5]}
declare -A port=([httpsguard]=${ports[1]} [caddy]=${ports[2]} [nginx]=${ports[3]} [local-ssl-proxy]=${ports[4]})

"$pb" upstream -addr "127.0.0.1:$up_port" -size "$SIZE" &

# ---------------------------------------------------------------- proxies
# proxy_cmd NAME PORT: sets cmd to the command line that runs the proxy in
# the foreground on 127.0.0.1:PORT, writing its configuration first.
proxy_cmd() {
	local name=$1 p=$2 dir=$tmp/$1-$2
	mkdir -p "$dir"
	case $name in
	httpsguard)
		cmd=("$tmp/httpsguard" serve --to "http://127.0.0.1:$up_port" --https "127.0.0.1:$p" --http off --quiet)
		;;
	caddy)
		# reverse_proxy with its defaults; the same certificate as the others;
		# nothing on :80/:443 (auto_https off), no admin endpoint, no access log.
		cat >"$dir/Caddyfile" <<-EOF
			{
				admin off
				auto_https off
				storage file_system $dir/data
			}
			https://:$p {
				bind 127.0.0.1
				tls $cert $key
				reverse_proxy 127.0.0.1:$up_port
			}
		EOF
		cmd=(caddy run --adapter caddyfile --config "$dir/Caddyfile")
		;;
	nginx)
		# One worker per core, HTTP/2, keep-alive to the upstream (up to 256
		# idle connections per worker, as httpsguard keeps 256), the
		# X-Forwarded-* headers the others send, no access log (httpsguard runs
		# with --quiet, Caddy logs no requests by default). keepalive_requests
		# is raised from 1000 because Go and Caddy put no limit on requests per
		# connection (and h2load does not reconnect after nginx's GOAWAY).
		mkdir -p "$dir/tmp"
		cat >"$dir/nginx.conf" <<-EOF
			worker_processes auto;
			daemon off;
			pid $dir/nginx.pid;
			error_log $dir/error.log warn;
			events { worker_connections 4096; }
			http {
				access_log off;
				client_body_temp_path $dir/tmp/body;
				proxy_temp_path $dir/tmp/proxy;
				fastcgi_temp_path $dir/tmp/fastcgi;
				uwsgi_temp_path $dir/tmp/uwsgi;
				scgi_temp_path $dir/tmp/scgi;
				keepalive_requests 1000000;
				upstream app {
					server 127.0.0.1:$up_port;
					keepalive 256;
					keepalive_requests 1000000;
				}
				server {
					listen 127.0.0.1:$p ssl http2;
					ssl_certificate $cert;
					ssl_certificate_key $key;
					location / {
						proxy_pass http://app;
						proxy_http_version 1.1;
						proxy_set_header Connection "";
						proxy_set_header Host \$http_host;
						proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
						proxy_set_header X-Forwarded-Proto \$scheme;
						proxy_set_header X-Forwarded-Host \$http_host;
					}
				}
			}
		EOF
		cmd=(nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf")
		;;
	local-ssl-proxy)
		cmd=(node -r "$tmp/loopback.cjs" "$lsp_main" --source "$p" --target "$up_port" --hostname 127.0.0.1 --cert "$cert" --key "$key")
		;;
	*) die "unknown proxy $name" ;;
	esac
}

proxy_pid=""
start_proxy() { # NAME
	proxy_cmd "$1" "${port[$1]}"
	"${cmd[@]}" >"$tmp/$1.log" 2>&1 &
	proxy_pid=$!
	proto=$("$pb" wait -url "https://127.0.0.1:${port[$1]}/" -ca "$ca_root" -size "$SIZE") || {
		cat "$tmp/$1.log" >&2
		die "$1 did not come up"
	}
}
stop_proxy() {
	kill "$proxy_pid" 2>/dev/null || true
	wait "$proxy_pid" 2>/dev/null || true
	proxy_pid=""
}

# tree PID: the process and its children (nginx's workers).
tree() { echo "$1"; pgrep -P "$1" || true; }
# peak_rss_kib PID: VmHWM summed over the tree (shared pages counted per process).
peak_rss_kib() {
	local p sum=0 v
	for p in $(tree "$1"); do
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
# cpu_ticks PID: user+system clock ticks used so far by the tree.
cpu_ticks() {
	local p sum=0 v
	for p in $(tree "$1"); do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
hz=$(getconf CLK_TCK)

results=$tmp/results.tsv # name load round rps p99_ms rss_kib cpu_us_per_req
: >"$results"

measure_h1() { # NAME ROUND
	local url="https://127.0.0.1:${port[$1]}/" out=$tmp/wrk.txt t0 t1 rps p99 errs
	timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
	t0=$(cpu_ticks "$proxy_pid")
	timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" >"$out"
	t1=$(cpu_ticks "$proxy_pid")
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	p99=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.2f", v * f}' "$out")
	errs=$(awk '/Non-2xx|Socket errors/' "$out")
	[ -z "$errs" ] || log "warning: $1 (wrk): $errs"
	local reqs
	reqs=$(awk '/requests in/ {print $1}' "$out")
	printf '%s\th1\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rps" "$p99" "$(peak_rss_kib "$proxy_pid")" \
		"$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')" >>"$results"
	log "$1 HTTP/1.1 round $2: $rps req/s, p99 $p99 ms"
}

measure_h2() { # NAME ROUND
	local url="https://127.0.0.1:${port[$1]}/" out=$tmp/h2load.txt lf=$tmp/h2load.log t0 t1 rps p99 done_n
	timeout 60 h2load -n $((H2_REQUESTS / 10)) -c "$H2_CLIENTS" -m "$H2_STREAMS" -t "$H2_THREADS" "$url" >/dev/null
	t0=$(cpu_ticks "$proxy_pid")
	timeout 300 h2load -n "$H2_REQUESTS" -c "$H2_CLIENTS" -m "$H2_STREAMS" -t "$H2_THREADS" --log-file="$lf" "$url" >"$out"
	t1=$(cpu_ticks "$proxy_pid")
	rps=$(awk '/^finished in/ {gsub(/,/, ""); print $4}' "$out")
	done_n=$(awk '/^requests:/ {print $8}' "$out")
	grep -q "^status codes: $H2_REQUESTS 2xx" "$out" || log "warning: $1 (h2load): $(grep -E '^(requests|status codes):' "$out" | tr '\n' ' ')"
	p99=$(awk -F'\t' '$2 >= 200 {print $3}' "$lf" | sort -n | awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < NR * 0.99) i++; printf "%.2f", v[i] / 1000}')
	printf '%s\th2\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rps" "$p99" "$(peak_rss_kib "$proxy_pid")" \
		"$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="${done_n:-1}" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')" >>"$results"
	log "$1 HTTP/2 round $2: $rps req/s, p99 $p99 ms"
}

# ---------------------------------------------------------------- the run
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
log "load average before: $load_before"
declare -A h2ok closes
for name in $PROXIES; do
	start_proxy "$name"
	case $proto in HTTP/2.0*) h2ok[$name]=1 ;; *) h2ok[$name]=0 ;; esac
	case $proto in *close) closes[$name]=1 ;; *) closes[$name]=0 ;; esac
	stop_proxy
	log "$name: responds with the upstream's body ($proto)"
done

for round in $(seq "$ROUNDS"); do
	for name in $PROXIES; do
		start_proxy "$name"
		measure_h1 "$name" "$round"
		stop_proxy
		if [ "${h2ok[$name]}" = 1 ]; then
			start_proxy "$name"
			measure_h2 "$name" "$round"
			stop_proxy
		fi
	done
done

log "start-up of httpsguard serve to the first TLS handshake ($STARTUP_RUNS runs)"
proxy_cmd httpsguard "$startup_port"
startup_hg=$("$pb" startup -ca "$ca_root" -addr "127.0.0.1:$startup_port" -n "$STARTUP_RUNS" -- "${cmd[@]}")
declare -A startup=([httpsguard]=$startup_hg)
for name in $PROXIES; do
	[ "$name" = httpsguard ] && continue
	proxy_cmd "$name" "$startup_port"
	startup[$name]=$("$pb" startup -ca "$ca_root" -addr "127.0.0.1:$startup_port" -n "$PEER_STARTUP_RUNS" -- "${cmd[@]}") ||
		startup[$name]="failed"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average after: $load_after"

# ---------------------------------------------------------------- report
# stat NAME LOAD COLUMN: median over rounds (column 6, memory: maximum).
stat() {
	awk -F'\t' -v n="$1" -v l="$2" -v c="$3" '$1 == n && $2 == l {print $c}' "$results" | sort -g |
		awk -v c="$3" '{v[NR] = $1} END {if (NR == 0) {print ""; exit} if (c == 6) print v[NR]; else print v[int((NR + 1) / 2)]}'
}
# spread NAME LOAD COLUMN: "min–max" over rounds, empty with one round.
spread() {
	awk -F'\t' -v n="$1" -v l="$2" -v c="$3" '$1 == n && $2 == l {print $c}' "$results" | sort -g |
		awk '{v[NR] = $1} END {if (NR > 1) printf "%.0f–%.0f", v[1], v[NR]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.2f×", a / b}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
verdict() { awk -v a="$1" -v b="$2" -v g="$3" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "n/a"; else if (a / b >= g) print "met"; else print "**not met**"}'; }

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
report=$(
	echo "### httpsguard serve against its peers"
	echo
	echo "$started, $(nproc) cores ($cpu_model), $(uname -sr); load average $load_before before, $load_after after."
	lsp=""
	case " $PROXIES " in *" local-ssl-proxy "*) lsp=", local-ssl-proxy $LOCAL_SSL_PROXY_VERSION on Node.js $(node --version)" ;; esac
	echo "httpsguard $(git -C "$root_dir" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root_dir" diff --quiet 2>/dev/null || echo '+changes'), $(go version | cut -d' ' -f3), $(caddy version | cut -d' ' -f1 | sed 's/^/Caddy /'), $(nginx -v 2>&1 | sed 's/.*nginx\//nginx /')$lsp, $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), h2load $(h2load --version | awk '{print $NF}')."
	echo "Upstream: Go net/http, HTTP/1.1 keep-alive, $SIZE-byte body. Median of $ROUNDS interleaved rounds; memory is the largest peak."
	echo
	for load in h1 h2; do
		if [ $load = h1 ]; then
			echo "**HTTP/1.1 over TLS, keep-alive** — \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\`"
		else
			echo "**HTTP/2** — \`h2load -n $H2_REQUESTS -c $H2_CLIENTS -m $H2_STREAMS -t $H2_THREADS\`"
		fi
		echo
		echo "| proxy | req/s | rounds | vs Caddy | vs nginx | p99 ms | vs Caddy | vs nginx | peak RSS MiB | vs Caddy | vs nginx | proxy CPU µs/req |"
		echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
		crps=$(stat caddy $load 4) nrps=$(stat nginx $load 4)
		cp99=$(stat caddy $load 5) np99=$(stat nginx $load 5)
		crss=$(stat caddy $load 6) nrss=$(stat nginx $load 6)
		for name in $PROXIES; do
			rps=$(stat "$name" $load 4)
			if [ -z "$rps" ]; then
				echo "| $name | no HTTP/2 | | | | | | | | | | |"
				continue
			fi
			p99=$(stat "$name" $load 5) rss=$(stat "$name" $load 6) cpu=$(stat "$name" $load 7)
			note=""
			[ $load = h1 ] && [ "${closes[$name]}" = 1 ] && note=" ¹"
			printf '| %s%s | %.0f | %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %s |\n' "$name" "$note" "$rps" "$(spread "$name" $load 4)" \
				"$(ratio "$rps" "$crps")" "$(ratio "$rps" "$nrps")" "$p99" "$(ratio "$p99" "$cp99")" "$(ratio "$p99" "$np99")" \
				"$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$(ratio "$rss" "$crss")" "$(ratio "$rss" "$nrss")" "$cpu"
		done
		echo
	done
	echo "**Start-up to the first accepted TLS connection** (existing CA; from process start, a verified TLS dial every 2 ms)"
	echo
	echo "| server | runs | median ms | max ms |"
	echo "|---|--:|--:|--:|"
	for name in $PROXIES; do
		s=${startup[$name]}
		if [ "$s" = failed ]; then echo "| $name | – | failed | |"; continue; fi
		echo "| $name | $(field runs "$s") | $(field median_ms "$s") | $(field max_ms "$s") |"
	done
	echo
	echo "**Goals for httpsguard serve**"
	echo
	for load in h1 h2; do
		hg=$(stat httpsguard $load 4)
		label=$([ $load = h1 ] && echo "HTTP/1.1" || echo "HTTP/2")
		echo "- $label req/s ≥ 1.2× Caddy: $(ratio "$hg" "$(stat caddy $load 4)") — $(verdict "$hg" "$(stat caddy $load 4)" 1.2) (nginx, for context: $(ratio "$hg" "$(stat nginx $load 4)"))"
	done
	med=$(field median_ms "$startup_hg") max=$(field max_ms "$startup_hg")
	echo "- start-up < 100 ms: median $med ms, max $max ms — $(awk -v m="$max" 'BEGIN {print (m < 100) ? "met" : "**not met**"}')"
	echo
	for name in $PROXIES; do
		[ "${closes[$name]}" = 1 ] && echo "¹ $name answers \`Connection: close\`: every request opens a new TLS connection (wrk's latency does not include the handshake)."
	done
	echo "Caveat: the load generator, the proxy and the upstream share the same $(nproc) cores, so every number is lower than on a dedicated machine, and a proxy that needs less CPU per request leaves more to the others (see the CPU column, the proxy's user+system time per request). Peak RSS sums VmHWM over the proxy's processes (nginx: master and workers)."
)
mkdir -p bench/out
printf '%s\n' "$report" | tee bench/out/proxy.md
cp "$results" bench/out/proxy-rounds.tsv
