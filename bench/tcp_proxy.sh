#!/usr/bin/env bash
# bench/tcp_proxy.sh - weir's layer-4 TCP proxy against HAProxy's tcp mode,
# in one run, on one machine, traffic only on 127.0.0.1.
#
#   bench/tcp_proxy.sh            (make bench runs it through bench/run.sh)
#
# Both balancers run with one worker/thread, pinned to the same core
# (LB_CPU, default 1); every load generator and backend is pinned to the
# other (GEN_CPU, default 0). Configs: bench/weir-tcp.conf and
# bench/haproxy-tcp.cfg (same services, same timeouts). Three measurements,
# each bounded in time:
#   1. idle connections: IDLE_CONNS client connections held open through each
#      proxy to weir-backend --mode echo (bench/idle_conns.py); growth of the
#      proxy's VmRSS, and of the kernel's slab objects (bench/kmem.py) minus
#      the growth for the same connections made straight to the backend, so
#      only the proxy's own sockets are charged to it.
#   2. bulk throughput: iperf3 -t BULK_DURATION through each proxy, both
#      directions, BULK_ROUNDS rounds, tools interleaved; also through HAProxy
#      with option splice-auto; and the proxy's CPU time (utime+stime,
#      /proc/PID/stat) per GB and its share of its core.
#   3. short connections: wrk -t1 -c50 -d SHORT_DURATION, "Connection: close",
#      to weir-backend --mode http; SHORT_ROUNDS rounds, tools alternating,
#      each run in a fresh network namespace with its own fresh proxy and
#      backend (see short_run for why); the proxy's CPU time per connection.
# The markdown report goes to stdout and to OUT (build/bench/tcp_proxy.md).
#
# Environment: BULK_DURATION (s, default 10), BULK_ROUNDS (2),
# SHORT_DURATION (s, 5), SHORT_ROUNDS (2), IDLE_CONNS (10000; lowered to
# what the open-files limit allows, and the report says so), ORDER
# ("weir haproxy"), LB_CPU (1), GEN_CPU (0), OUT, WEIR_BUILD (directory
# with weir and weir-backend; default: make all, then build/rel),
# NO_NETNS (1: no network namespaces, wait out TIME_WAIT instead).
# The whole run takes about 3.5 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SELF=bench/tcp_proxy.sh
BULK_DURATION=${BULK_DURATION:-10}
BULK_ROUNDS=${BULK_ROUNDS:-2}
SHORT_DURATION=${SHORT_DURATION:-5}
SHORT_ROUNDS=${SHORT_ROUNDS:-2}
IDLE_CONNS=${IDLE_CONNS:-10000}
ORDER=${ORDER:-weir haproxy}
LB_CPU=${LB_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT=${OUT:-build/bench/tcp_proxy.md}
BIN=${WEIR_BUILD:-build/rel}

# Ports: the same in bench/weir-tcp.conf and bench/haproxy-tcp.cfg.
P_IPERF=15201 P_HTTP=18080 P_ECHO=18081
declare -A P_BULK=([weir]=17001 [haproxy]=17101 [haproxy_splice]=17111)
declare -A P_SHORT=([weir]=17002 [haproxy]=17102)
declare -A P_IDLE=([weir]=17003 [haproxy]=17103)
ALL_PORTS="$P_IPERF $P_HTTP $P_ECHO 17001 17002 17003 17101 17102 17103 17111"

WORK=$(mktemp -d /tmp/weir-bench.XXXXXX)
NAME=bench
. "$(dirname "$0")/lib.sh"

# stop PID: ends one process this script started and forgets it.
stop() {
	local pid=$1 keep=() p
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# start_proxy TOOL: weir or HAProxy on LB_CPU, waiting for its listeners.
start_proxy() {
	if [ "$1" = weir ]; then
		start weir "$LB_CPU" "$BIN/weir" -c bench/weir-tcp.conf --socket "$WORK/weir.sock"
		for p in 17001 17002 17003; do wait_listen $p weir "$PID_weir"; done
	else
		start haproxy "$LB_CPU" haproxy -db -f bench/haproxy-tcp.cfg
		for p in 17101 17102 17103 17111; do wait_listen $p haproxy "$PID_haproxy"; done
	fi
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
user_ticks() { awk '{ print $14 }' "/proc/$1/stat"; }
estab() { ss -Htn state established "( $1 )" | wc -l; }


# --- short-connection run, inside its own network namespace -------------------
# "--short TOOL": a fresh backend and a fresh TOOL, one wrk run; prints
# "key value" lines on stdout.
if [ "${1:-}" = --short ]; then
	tool=$2
	[ "${WAIT_TW:-0}" = 1 ] || ip link set lo up
	start http "$GEN_CPU" "$BIN/weir-backend" --listen 127.0.0.1:$P_HTTP --name http --mode http
	wait_listen $P_HTTP http "$PID_http"
	start_proxy "$tool"
	pid_var=PID_$tool
	pid=${!pid_var}
	[ "${WAIT_TW:-0}" = 1 ] && wait_tw_drained
	a=$(cpu_ticks "$pid")
	ua=$(user_ticks "$pid")
	out=$(timeout $((SHORT_DURATION + 30)) taskset -c "$GEN_CPU" wrk -t1 -c50 \
		-d"${SHORT_DURATION}s" -H 'Connection: close' "http://127.0.0.1:${P_SHORT[$tool]}/") ||
		die "wrk through $tool failed"
	b=$(cpu_ticks "$pid")
	ub=$(user_ticks "$pid")
	echo "$out" | awk -v ticks=$((b - a)) -v uticks=$((ub - ua)) '
		/requests in/ { n = $1 }
		/Requests\/sec/ { rps = $2 }
		/Socket errors/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
		/Non-2xx/ { err += $5 }
		END {
			printf "cps %.0f\nn %d\nticks %d\nuticks %d\nerr %d\n", rps, n, ticks, uticks, err
		}'
	exit 0
fi

# --- the machine -------------------------------------------------------------
scripts/deps.sh bench
[ -n "${WEIR_BUILD:-}" ] || make -s all >/dev/null
RES=$WORK/results          # "key value" lines, turned into the report at the end
: >"$RES"
put() { echo "$1 $2" >>"$RES"; }

[ "$(nproc)" -ge 2 ] || die "needs 2 cores (balancer and load on different cores)"
load_start
for p in $ALL_PORTS; do
	[ -z "$(ss -Htln "( sport = :$p )")" ] || die "port $p is already in use"
done
# Each idle connection costs a proxy two descriptors.
ulimit -Hn 200000 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 200000
FD_LIMIT=$(ulimit -n)
MAX_IDLE=$(((FD_LIMIT - 300) / 2))
N=$IDLE_CONNS
[ "$N" -le "$MAX_IDLE" ] || N=$MAX_IDLE
export HAP_MAXCONN=$((N + 50))
put fd_limit "$FD_LIMIT"
put idle_n "$N"

# --- backends (GEN_CPU) and balancers (LB_CPU) --------------------------------
start iperf3 "$GEN_CPU" iperf3 -s -B 127.0.0.1 -p $P_IPERF
start echo "$GEN_CPU" "$BIN/weir-backend" --listen 127.0.0.1:$P_ECHO --name echo --mode echo
wait_listen $P_IPERF iperf3 "$PID_iperf3"
wait_listen $P_ECHO echo "$PID_echo"
start_proxy weir
start_proxy haproxy
declare -A PID=([weir]=$PID_weir [haproxy]=$PID_haproxy [haproxy_splice]=$PID_haproxy)

# --- 1. idle connections (first, while both processes are fresh) -------------
# idle_run TAG PID PORT: holds N connections through PORT, snapshots before
# and after, checks that the proxy (or the backend, for "direct") holds them.
idle_run() {
	local tag=$1 pid=$2 port=$3 line="" held to_echo
	sleep 1
	python3 bench/kmem.py snap "$pid" "$WORK/$tag.before"
	coproc IDLE { exec taskset -c "$GEN_CPU" python3 bench/idle_conns.py \
		"127.0.0.1:$port" "$N" --timeout 60 --hold 120; }
	EXTRA_PIDS=("$IDLE_PID") # the cleanup stops it too
	read -r -t 90 -u "${IDLE[0]}" line || true
	[ "$line" = "ready $N" ] || die "idle $tag: client said '${line:-nothing}'"
	sleep 2
	python3 bench/kmem.py snap "$pid" "$WORK/$tag.after"
	held=$(estab "sport = :$port")
	to_echo=$(estab "dport = :$P_ECHO")
	[ "$held" -eq "$N" ] && [ "$to_echo" -eq "$N" ] ||
		die "idle $tag: $held client and $to_echo backend connections held, wanted $N"
	put "idle_held_$tag" "$held/$to_echo"
	python3 bench/kmem.py diff "$WORK/$tag.before" "$WORK/$tag.after" "$N" |
		sed "s/^\([a-z_]*\)=/idle_\1_$tag /" >>"$RES"
	echo >&"${IDLE[1]}"
	wait "${IDLE_PID:-}" 2>/dev/null || true
	EXTRA_PIDS=()
	for _ in $(seq 100); do
		[ "$(estab "dport = :$P_ECHO")" -eq 0 ] && return 0
		sleep 0.1
	done
	die "idle $tag: connections did not close"
}

echo "bench: idle connections ($N) ..." >&2
idle_run direct 0 $P_ECHO
for t in $ORDER; do
	idle_run "$t" "${PID[$t]}" "${P_IDLE[$t]}"
done

# --- 2. bulk throughput --------------------------------------------------------
# bulk_run TAG DIR(fwd|rev) ROUND: one iperf3 run through TAG's proxy; records
# Gbit/s, bytes, the proxy's CPU ticks and the wall time in ns.
bulk_run() {
	local tag=$1 dir=$2 round=$3 pid=${PID[$1]} a b t0 t1 out flag=""
	[ "$dir" = rev ] && flag=-R
	a=$(cpu_ticks "$pid")
	t0=$(date +%s%N)
	out=$(timeout $((BULK_DURATION + 30)) taskset -c "$GEN_CPU" iperf3 -J -c 127.0.0.1 \
		-p "${P_BULK[$tag]}" -t "$BULK_DURATION" $flag) ||
		die "iperf3 through $tag ($dir) failed"
	t1=$(date +%s%N)
	b=$(cpu_ticks "$pid")
	python3 -c '
import json, sys
e = json.loads(sys.argv[1])["end"]["sum_received"]
k = sys.argv[2]
print("bulk_gbps_" + k, e["bits_per_second"] / 1e9)
print("bulk_bytes_" + k, e["bytes"])
' "$out" "${tag}_${dir}_$round" >>"$RES"
	put "bulk_ticks_${tag}_${dir}_$round" $((b - a))
	put "bulk_ns_${tag}_${dir}_$round" $((t1 - t0))
}

echo "bench: bulk throughput ($BULK_ROUNDS x iperf3 -t $BULK_DURATION per tool and direction) ..." >&2
for r in $(seq "$BULK_ROUNDS"); do
	for d in fwd rev; do
		for t in $ORDER haproxy_splice; do
			bulk_run "$t" "$d" "$r"
		done
	done
done
put bulk_rounds "$BULK_ROUNDS"
for t in weir haproxy; do
	kill -0 "${PID[$t]}" 2>/dev/null || die "$t died during the run"
	stop "${PID[$t]}"   # phase 3 starts its own, fresh ones
done

# --- 3. short connections --------------------------------------------------------
# Every short connection leaves a TIME_WAIT socket for 60 s, and past some
# tens of thousands of them on one address pair, connect() and SYNs that
# land on a TIME_WAIT socket slow everything down: the second tool would
# pay for the first one's sockets, and a long run pays for its own (wrk
# -d10s runs were bimodal, +-15%). So each run gets a fresh network
# namespace (its own empty TIME_WAIT table, still 127.0.0.1), short runs,
# and the tools alternate. Without namespaces, each run waits until the
# TIME_WAIT sockets are gone instead.
pick_netns
put short_ns "${NS[*]:-none (waited out TIME_WAIT)}"

short_run() {
	local tool=$1 round=$2 out
	if [ ${#NS[@]} -gt 0 ]; then
		"${NS[@]}" env WAIT_TW=0 "$SELF" --short "$tool" >"$WORK/short.out" 2>"$WORK/short.err" &
	else
		env WAIT_TW=1 "$SELF" --short "$tool" >"$WORK/short.out" 2>"$WORK/short.err" &
	fi
	PIDS+=($!)
	wait $! || { cat "$WORK/short.err" >&2; die "short-connection run of $tool failed"; }
	PIDS=("${PIDS[@]:0:${#PIDS[@]}-1}")
	sed "s/^\([a-z]*\) /short_\1_${tool}_$round /" "$WORK/short.out" >>"$RES"
}

echo "bench: short connections ($SHORT_ROUNDS x wrk -d ${SHORT_DURATION}s per tool) ..." >&2
for r in $(seq "$SHORT_ROUNDS"); do
	for t in $ORDER; do
		short_run "$t" "$r"
	done
done
put short_rounds "$SHORT_ROUNDS"
put other_load "$(load_end)"

# --- report ----------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
python3 - "$RES" "$ORDER" "$BULK_DURATION" "$SHORT_DURATION" \
	"$(weir_rev)" \
	"$(haproxy -v | head -1 | awk '{ print $3 }')" \
	"$(iperf3 -v | head -1 | awk '{ print $2 }')" \
	"$(wrk -v 2>&1 | head -1 | awk '{ print $2 }')" <<'EOF' | tee "$OUT"
import datetime, os, sys

res = {}
for line in open(sys.argv[1]):
    k, v = line.split(None, 1)
    res[k] = v.strip()
order, bulk_d, short_d, rev, hap_v, iperf_v, wrk_v = sys.argv[2:9]
f = lambda k: float(res[k])
n = int(res["idle_n"])
rounds = int(res["short_rounds"])

def kern(t):
    # the proxy's own sockets: through-the-proxy growth minus direct growth
    return f(f"idle_kernel_{t}") - f("idle_kernel_direct")

def short(t, what):
    return [f(f"short_{what}_{t}_{r}") for r in range(1, rounds + 1)]

def cps(t):
    v = short(t, "cps")
    return sum(v) / len(v)

def cpu_us(t, key="ticks"):
    return sum(short(t, key)) * 10000 / sum(short(t, "n"))

rows = []  # (metric, weir, haproxy, ratio, better, splice column)
def row(name, w, h, better, fmt, extra=""):
    rows.append((name, fmt.format(w), fmt.format(h), w / h if h else float("nan"), better, extra))

brounds = int(res["bulk_rounds"])

def bulk(t, d, what):
    return [f(f"bulk_{what}_{t}_{d}_{r}") for r in range(1, brounds + 1)]

def gbps(t, d):
    v = bulk(t, d, "gbps")
    return sum(v) / len(v)

def cpu_per_gb(t, d):
    return sum(bulk(t, d, "ticks")) / 100 / (sum(bulk(t, d, "bytes")) / 1e9)

def core_pct(t, d):
    return sum(bulk(t, d, "ticks")) / 100 / (sum(bulk(t, d, "ns")) / 1e9) * 100

def splice_col(fn, d, fmt):
    sp = fn("haproxy_splice", d)
    return (fmt + " ({:.2f})").format(sp, fn("weir", d) / sp)

for d, label in (("fwd", "client → server"), ("rev", "server → client (-R)")):
    row(f"bulk throughput {label}, Gbit/s", gbps("weir", d), gbps("haproxy", d),
        "higher", "{:.2f}", splice_col(gbps, d, "{:.2f}"))
for d, label in (("fwd", "client → server"), ("rev", "server → client")):
    row(f"proxy CPU per GB forwarded {label}, s", cpu_per_gb("weir", d), cpu_per_gb("haproxy", d),
        "lower", "{:.3f}", splice_col(cpu_per_gb, d, "{:.3f}"))
for d, label in (("fwd", "client → server"), ("rev", "server → client")):
    row(f"proxy's core busy during bulk {label}, %", core_pct("weir", d), core_pct("haproxy", d),
        "(context)", "{:.0f}", splice_col(core_pct, d, "{:.0f}"))
row("short connections per second", cps("weir"), cps("haproxy"), "higher", "{:.0f}")
row("proxy CPU per short connection, µs", cpu_us("weir"), cpu_us("haproxy"), "lower", "{:.1f}")
row("… of which user space, µs", cpu_us("weir", "uticks"), cpu_us("haproxy", "uticks"), "lower", "{:.1f}")
row("user memory per idle connection, bytes", f("idle_user_weir"), f("idle_user_haproxy"), "lower", "{:.0f}")
row("kernel memory per idle connection, bytes", kern("weir"), kern("haproxy"), "lower", "{:.0f}")
row("user + kernel per idle connection, bytes", f("idle_user_weir") + kern("weir"),
    f("idle_user_haproxy") + kern("haproxy"), "lower", "{:.0f}")

print(f"### Run of {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} (weir {rev}, order: {order})\n")
print(f"HAProxy {hap_v}, iperf3 {iperf_v}, wrk {wrk_v}; kernel {os.uname().release}, "
      f"{os.cpu_count()} cores; iperf3 -t {bulk_d} x {res['bulk_rounds']} rounds; "
      f"wrk -d {short_d}s x {rounds} rounds; "
      f"idle connections: {n} (open-files limit {res['fd_limit']}); "
      f"other processes used {res['other_load']}% of the machine during the run "
      f"(more than a few percent makes the numbers meaningless).\n")
print("| metric | weir | HAProxy | weir / HAProxy | better | HAProxy splice-auto (weir / it) |")
print("|---|---:|---:|---:|---|---:|")
for name, w, h, ratio, better, extra in rows:
    print(f"| {name} | {w} | {h} | {ratio:.2f} | {better} | {extra} |")
print()
for t, name in (("weir", "weir"), ("haproxy", "HAProxy"), ("haproxy_splice", "HAProxy splice-auto")):
    print(f"- bulk Gbit/s per round, {name}: → "
          f"{', '.join(f'{v:.2f}' for v in bulk(t, 'fwd', 'gbps'))}; ← "
          f"{', '.join(f'{v:.2f}' for v in bulk(t, 'rev', 'gbps'))}")
print(f"- idle connections held (client side / backend side): weir {res['idle_held_weir']}, "
      f"HAProxy {res['idle_held_haproxy']}, direct {res['idle_held_direct']}")
for t, name in (("weir", "weir"), ("haproxy", "HAProxy")):
    print(f"- short connections, {name}, per round: connections/s "
          f"{', '.join(f'{v:.0f}' for v in short(t, 'cps'))}; completed "
          f"{', '.join(f'{v:.0f}' for v in short(t, 'n'))}; errors "
          f"{sum(short(t, 'err')):.0f}")
print(f"- short-connection runs in: {res['short_ns']}")
print(f"- kernel bytes per idle connection, whole system, before subtracting the direct run "
      f"({res['idle_kernel_direct']}): weir {res['idle_kernel_weir']}, HAProxy {res['idle_kernel_haproxy']}; "
      f"page-level Slab+KernelStack+PageTables: direct {res['idle_kernel_pages_direct']}, "
      f"weir {res['idle_kernel_pages_weir']}, HAProxy {res['idle_kernel_pages_haproxy']}; "
      f"MemAvailable drop: direct {res['idle_memavail_direct']}, weir {res['idle_memavail_weir']}, "
      f"HAProxy {res['idle_memavail_haproxy']}")
for t in ("direct", "weir", "haproxy"):
    print(f"- largest slab growths per idle connection, {t}: "
          f"{res.get(f'idle_slab_top_{t}', '').replace(',', ', ')}")
EOF
