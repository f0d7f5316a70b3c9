#!/usr/bin/env bash
# bench/http_realistic.sh - weir's HTTP reverse proxy against HAProxy (and
# nginx as a proxy) on a browser-like workload, from 50 to 5000 clients.
#
#   bench/http_realistic.sh        (make bench runs it through bench/run.sh)
#
# The workload (issue 10): two nginx backends serving static files of
# 300 B, 2 KB, 8 KB and 48 KB (generated into the work directory), and wrk
# sending ~600-byte browser-like heads (Cookie, Accept*, Referer, a long
# User-Agent; bench/realistic.lua) over a fixed mix of those files, with
# CLIENTS connections (50 200 1000 5000). Same service in the three
# balancers as bench/http_proxy.sh (bench/weir-http.conf,
# bench/haproxy-http.cfg, bench/nginx-http.conf: round robin, keep-alive and
# shared idle server connections, the same forwarding headers), with their
# connection limits raised for 5000 clients.
#
# WORKERS=1: the balancer on LB_CPU (1), wrk and both nginx backends on
# GEN_CPU (0). WORKERS=2: weir "workers 2" / HAProxy "nbthread 2" / nginx
# "worker_processes 2", and every process may run on both cores.
#
# Per run: wrk --latency p50/p99 (--timeout 10s, so that slow answers are
# counted rather than dropped), requests/s, the balancer's CPU time
# (utime+stime from /proc/PID/stat, children included) per request, errors,
# the share of the machine other processes used during the run (lib.sh's
# load_start/load_end), and from the namespace's own TCP counters (nstat):
# connections opened per request beyond wrk's first ones (the balancer's
# connects to the servers; in close mode wrk's reconnects too) and TCP
# segments per request. Those two do not depend on the machine's load.
# Every run gets fresh processes in a fresh network namespace. ROUNDS
# rounds; in each, for every (workers, clients, mode), the tools run one
# after the other, the first tool rotating from round to round.
#
# Environment: CLIENTS ("50 200 1000 5000"), MODES ("keepalive close"),
# WORKERS ("1 2"), ORDER ("weir haproxy nginx"), ROUNDS (2), DURATION (s, 8),
# LB_CPU (1), GEN_CPU (0), OUT (build/bench/http_realistic.md), WEIR_BUILD,
# WEIR_REV, WEIR_BASE (a directory with another weir build: ORDER may then
# name "base", e.g. ORDER="base weir haproxy" for a before/after in the
# same rounds), WEIR_ACCESS_LOG (a file: weir logs every request there,
# with its wait/connect/response/total times; for diagnosis, not for the
# CPU figures). The defaults take about 25 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SELF=bench/http_realistic.sh
CLIENTS=${CLIENTS:-50 200 1000 5000}
MODES=${MODES:-keepalive close}
WORKERS=${WORKERS:-1 2}
ORDER=${ORDER:-weir haproxy nginx}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-8}
LB_CPU=${LB_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT=${OUT:-build/bench/http_realistic.md}
BIN=${WEIR_BUILD:-build/rel}
export DURATION LB_CPU GEN_CPU BIN WEIR_BASE=${WEIR_BASE:-} WEIR_ACCESS_LOG=${WEIR_ACCESS_LOG:-}

P_B1=19081 P_B2=19082
declare -A P_PROXY=([weir]=19001 [haproxy]=19002 [nginx]=19003 [base]=19004)
NOFILE=20000               # 5000 clients: 5000 fds in wrk, 5000+ in the balancer

WORK=$(mktemp -d /tmp/weir-bench-real.XXXXXX)
NAME=http_realistic
. "$(dirname "$0")/lib.sh"

tree_pids() { echo "$1" $(pgrep -P "$1" || true); }
tree_ticks() {
	local t=0 k pid
	for pid in $(tree_pids "$1"); do
		k=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && t=$((t + k))
	done
	echo "$t"
}

# nginx_backend NAME PORT: a static file server on GEN_CPU.
nginx_backend() {
	local d=$WORK/$1
	mkdir -p "$d/tmp"
	cat >"$d/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid nginx.pid;
error_log stderr warn;
events { worker_connections $NOFILE; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    open_file_cache max=16;
    server {
        listen 127.0.0.1:$2 backlog=4096;
        root $WWW;
    }
}
EOF
	chmod -R a+rX "$d"
	start "$1" "$BACKEND_CPUS" nginx -p "$d/" -e stderr -c "$d/nginx.conf" \
		-g 'daemon off; master_process on;'
}

# --- one run, inside its own network namespace --------------------------------------
# "--one TOOL MODE CLIENTS WORKERS": prints "key value" lines on stdout.
if [ "${1:-}" = --one ]; then
	tool=$2 mode=$3 conns=$4 nw=$5
	port=${P_PROXY[$tool]}
	chmod 711 "$WORK"          # nginx's workers (nobody) reach their temp dirs
	ip link set lo up
	sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	sysctl -qw net.core.somaxconn=4096
	ulimit -n $NOFILE
	if [ "$nw" = 1 ]; then
		BACKEND_CPUS=$GEN_CPU LB_CPUS=$LB_CPU WRK_CPUS=$GEN_CPU
	else
		BACKEND_CPUS=$GEN_CPU,$LB_CPU LB_CPUS=$GEN_CPU,$LB_CPU WRK_CPUS=$GEN_CPU,$LB_CPU
	fi
	nginx_backend b1 $P_B1
	nginx_backend b2 $P_B2
	wait_listen $P_B1 b1 "$PID_b1"
	wait_listen $P_B2 b2 "$PID_b2"
	PIDS+=($(pgrep -P "$PID_b1" || true) $(pgrep -P "$PID_b2" || true))
	case $tool in
	weir | base)
		wbin=$BIN
		[ "$tool" = weir ] || wbin=$WEIR_BASE
		sed -e "s/^workers 1;/workers $nw;/" -e "s/127.0.0.1:19001/127.0.0.1:$port/" \
			-e "s|access_log off;|access_log ${WEIR_ACCESS_LOG:-off};|" \
			bench/weir-http.conf >"$WORK/weir.conf"
		start proxy "$LB_CPUS" "$wbin/weir" -c "$WORK/weir.conf" --socket "$WORK/weir.sock"
		;;
	haproxy)
		sed -e "s/nbthread 1/nbthread $nw/" -e "s/maxconn 4096/maxconn 9000/" \
			bench/haproxy-http.cfg >"$WORK/haproxy.cfg"
		start proxy "$LB_CPUS" haproxy -db -f "$WORK/haproxy.cfg"
		;;
	nginx)
		mkdir -p "$WORK/nginx/tmp"
		sed -e "s/^worker_processes 1;/worker_processes $nw;\nworker_rlimit_nofile $NOFILE;/" \
			-e "s/worker_connections 4096/worker_connections $NOFILE/" \
			bench/nginx-http.conf >"$WORK/nginx/nginx.conf"
		chmod -R a+rX "$WORK/nginx"
		start proxy "$LB_CPUS" nginx -p "$WORK/nginx/" -e stderr -c "$WORK/nginx/nginx.conf" \
			-g 'daemon off; master_process on;'
		;;
	*) die "unknown tool $tool" ;;
	esac
	wait_listen "$port" proxy "$PID_proxy"
	PIDS+=($(pgrep -P "$PID_proxy" || true))
	# the files come through whole
	for f in s300 s48k; do
		got=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' \
			"http://127.0.0.1:$port/$f.bin") || die "$tool: GET /$f.bin failed"
		[ "$got" = "200 $(stat -c %s "$WWW/$f.bin")" ] ||
			die "$tool: GET /$f.bin gave '$got'"
	done

	a=$(tree_ticks "$PID_proxy")
	load_start
	t0=$(date +%s%N)
	out=$(timeout $((DURATION + 40)) taskset -c "$WRK_CPUS" wrk -t1 -c"$conns" -d"${DURATION}s" \
		--timeout 10s --latency -s bench/realistic.lua "http://127.0.0.1:$port/" \
		-- "$mode") || die "wrk through $tool failed"
	t1=$(date +%s%N)
	b=$(tree_ticks "$PID_proxy")
	other=$(load_end 2>/dev/null)
	kill -0 "$PID_proxy" 2>/dev/null || die "$tool died during the run"
	echo "$out" >&2
	# this namespace's TCP counters (connects, segments, retransmits, queue
	# drops) for the log, and two per request for the report: connections
	# opened (wrk's own, then the balancer's to the servers) and segments
	tcp=$(nstat -as 2>/dev/null | awk '$1 ~ /^Tcp/ { printf "%s %s; ", $1, $2 }') || true
	echo "$tcp" >&2
	opens=$(grep -o 'TcpActiveOpens [0-9]*' <<<"$tcp" | awk '{ print $2 }')
	segs=$(grep -o 'TcpOutSegs [0-9]*' <<<"$tcp" | awk '{ print $2 }')
	echo "$out" | awk -v ticks=$((b - a)) -v ns=$((t1 - t0)) -v other="$other" \
		-v opens="${opens:-0}" -v segs="${segs:-0}" -v conns="$conns" "$WRK_AWK"'
		END {
			printf "rps %.1f\nn %d\nticks %d\nns %s\np50 %.1f\np99 %.1f\nerr %d\nother %d\n",
				rps, n, ticks, ns, p50, p99, err, other
			# wrk opens its <conns> connections (and curl 2 above)
			printf "sopens %d\nsegs %d\n", opens - conns - 2, segs
		}'
	exit 0
fi

# --- the machine -------------------------------------------------------------
[ "$(nproc)" -ge 2 ] || die "needs 2 cores"
unshare -n true 2>/dev/null || die "needs network namespaces (unshare -n, as root)"
for c in wrk haproxy nginx; do command -v $c >/dev/null || die "$c is missing (make bench installs it)"; done
[ -n "${WEIR_BUILD:-}" ] || make -s all >/dev/null
mkdir -p "$WORK/www"
for f in s300:300 s2k:2048 s8k:8192 s48k:49152; do
	head -c "${f#*:}" /dev/urandom >"$WORK/www/${f%%:*}.bin"
done
chmod 711 "$WORK"
chmod -R a+rX "$WORK/www"
RES=$WORK/results
: >"$RES"
mkdir -p "$(dirname "$OUT")"
LOG=${OUT%.md}.log
: >"$LOG"
put() { echo "$1 $2" >>"$RES"; }
load_start

run() {
	local tool=$1 mode=$2 c=$3 nw=$4 round=$5
	unshare -n env WWW="$WORK/www" "$SELF" --one "$tool" "$mode" "$c" "$nw" \
		>"$WORK/one.out" 2>"$WORK/one.err" &
	PIDS+=($!)
	wait $! || { cat "$WORK/one.err" >&2; die "$tool $mode c$c w$nw failed"; }
	PIDS=("${PIDS[@]:0:${#PIDS[@]}-1}")
	{ echo "== $tool $mode clients $c workers $nw round $round"; cat "$WORK/one.err"; } >>"$LOG"
	[ "$round" = warmup ] ||
		sed "s/^\([a-z0-9]*\) /\1 ${tool}_${mode}_${c}_${nw}_$round /" "$WORK/one.out" >>"$RES"
	echo "$NAME: $tool $mode c=$c w=$nw r=$round:" \
		"$(tr '\n' ' ' <"$WORK/one.out")" >&2
}

read -ra TOOLS <<<"$ORDER"
run "${TOOLS[0]}" keepalive 50 1 warmup
for r in $(seq "$ROUNDS"); do
	for nw in $WORKERS; do
		for c in $CLIENTS; do
			for m in $MODES; do
				for i in "${!TOOLS[@]}"; do
					run "${TOOLS[$(((i + r - 1) % ${#TOOLS[@]}))]}" "$m" "$c" "$nw" "$r"
				done
			done
		done
	done
done
other=$(load_end)

python3 - "$RES" "$ORDER" "$MODES" "$CLIENTS" "$WORKERS" "$ROUNDS" "$DURATION" \
	"$(getconf CLK_TCK)" "$(weir_rev)" "$other" <<'EOF' | tee "$OUT"
import datetime, sys

res = {}
for line in open(sys.argv[1]):
    k, key, v = line.split()
    res[(k, key)] = float(v)
order, modes, clients, workers = (a.split() for a in sys.argv[2:6])
rounds, dur, hz = int(sys.argv[6]), sys.argv[7], int(sys.argv[8])
rev, other = sys.argv[9], sys.argv[10]

def vals(k, t, m, c, w):
    return [res[(k, f"{t}_{m}_{c}_{w}_{r}")] for r in range(1, rounds + 1)]

def p(k, t, m, c, w):  # median over rounds (mean of the two middle ones)
    v = sorted(vals(k, t, m, c, w))
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2

QUIET = 20  # % of foreign load: the runs below it are the ones to trust

def quiet_p99(t, m, c, w):  # median p99 of the quiet runs, and their number
    v = sorted(p for p, o in zip(vals("p99", t, m, c, w), vals("other", t, m, c, w))
               if o <= QUIET)
    if not v:
        return float("nan"), 0
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2, len(v)

def per_req(k, t, m, c, w):  # a kernel counter per request, all rounds pooled
    return sum(vals(k, t, m, c, w)) / max(1, sum(vals("n", t, m, c, w)))

def cpu(t, m, c, w):  # µs of balancer CPU per request, all rounds pooled
    return sum(vals("ticks", t, m, c, w)) / hz * 1e6 / max(1, sum(vals("n", t, m, c, w)))

print(f"### http_realistic, {datetime.datetime.now():%Y-%m-%d %H:%M} (weir {rev})\n")
print(f"{rounds} rounds of {dur} s per case, order {' '.join(order)} rotated per round; "
      f"other processes used {other}% of the machine. p50/p99: median over rounds; "
      f"CPU: balancer µs per request over all rounds.\n")
print("| workers | clients | mode | tool | req/s | p50 ms | p99 ms | CPU µs/req | "
      "connections opened / 1000 req | TCP segments / req | errors |")
print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
for w in workers:
    for c in clients:
        for m in modes:
            for t in order:
                print(f"| {w} | {c} | {m} | {t} | {p('rps', t, m, c, w):.0f} | "
                      f"{p('p50', t, m, c, w) / 1000:.2f} | {p('p99', t, m, c, w) / 1000:.2f} | "
                      f"{cpu(t, m, c, w):.1f} | {per_req('sopens', t, m, c, w) * 1000:.1f} | "
                      f"{per_req('segs', t, m, c, w):.2f} | {sum(vals('err', t, m, c, w)):.0f} |")
print()
if "haproxy" in order and "weir" in order:
    print("weir (and base, the build WEIR_BASE names) / HAProxy (targets: p99 ≤ 1.00; CPU ≤ 0.70 keep-alive, ≤ 0.80 close):\n")
    print(f"The p99 of a run follows the load other processes put on the machine "
          f"more than the tool: \"quiet\" is the median p99 of the runs with at most "
          f"{QUIET} % foreign load (their number in brackets), the figure to trust.\n")
    print("| build | workers | clients | mode | p99 ratio (all runs) | quiet p99 ms, build / HAProxy | quiet p99 ratio | p99 per round, build/HAProxy ms (foreign load during each) | CPU ratio | verdict |")
    print("|---|---:|---:|---|---:|---|---:|---|---:|---|")
    for wt in [t for t in ("base", "weir") if t in order]:
     for w in workers:
        for c in clients:
            for m in modes:
                pr = p("p99", wt, m, c, w) / p("p99", "haproxy", m, c, w)
                (qw, nw_), (qh, nh) = quiet_p99(wt, m, c, w), quiet_p99("haproxy", m, c, w)
                qr = qw / qh if nw_ and nh else float("nan")
                pr_ok = qr if nw_ and nh else pr  # the quiet runs decide when there are some
                cr = cpu(wt, m, c, w) / cpu("haproxy", m, c, w)
                lim = 0.7 if m == "keepalive" else 0.8
                per = ", ".join(f"{a / 1000:.1f}/{b / 1000:.1f} ({o:.0f}/{h:.0f} %)" for a, b, o, h in
                                zip(vals("p99", wt, m, c, w), vals("p99", "haproxy", m, c, w),
                                    vals("other", wt, m, c, w), vals("other", "haproxy", m, c, w)))
                ok = ("p99 met" if pr_ok <= 1 else "p99 missed") + ", " + \
                     ("CPU met" if cr <= lim else "CPU missed")
                print(f"| {wt} | {w} | {c} | {m} | {pr:.2f} | {qw / 1000:.1f} ({nw_}) / {qh / 1000:.1f} ({nh}) | "
                      f"{qr:.2f} | {per} | {cr:.2f} | {ok} |")
EOF
