#!/usr/bin/env bash
# bench/http_proxy.sh - weir's HTTP reverse proxy against HAProxy's http mode
# and nginx's proxy_pass, in one run, on one machine, traffic only on
# 127.0.0.1.
#
#   bench/http_proxy.sh            (make bench runs it through bench/run.sh)
#
# The three balancers run with one worker each (weir "workers 1", HAProxy
# "nbthread 1", nginx "worker_processes 1"), pinned to the same core
# (LB_CPU, default 1); wrk and the two backends (weir-backend --mode http)
# are pinned to the other (GEN_CPU, default 0). Configs: bench/weir-http.conf,
# bench/haproxy-http.cfg, bench/nginx-http.conf: the same service (round
# robin over the two backends), keep-alive on both sides with idle server
# connections shared by all clients, the same three forwarding headers
# (X-Forwarded-For, X-Forwarded-Proto, Forwarded), no access log.
#
# Two measurements, each "wrk -t1 -c50 -d DURATION --latency":
#   keepalive  the client keeps its 50 connections for the whole run
#   close      every request carries "Connection: close": one client
#              connection per request, server connections still reused
# and for each: requests/s, the balancer's CPU time (utime+stime from
# /proc/PID/stat, master and worker for nginx) per completed request, its
# user-space share, p50/p99 latency, and the connections the backends
# accepted per request (keep-alive on the server side at work).
#
# Every run gets fresh processes: two backends and one balancer, started
# for it and stopped after it, in a fresh network namespace when one can be
# had (loopback only; its own empty TIME_WAIT table, so the close runs of
# one tool do not slow down the next, see bench/tcp_proxy.sh). ROUNDS
# rounds, the tools alternating, each round starting with the next tool.
# Before measuring, each run checks through the balancer that the backends
# see the three forwarding headers. The markdown report goes to stdout and to OUT
# (build/bench/http_proxy.md), every run's wrk output to OUT with .log for
# .md.
#
# Environment: DURATION (s, default 10), WARMUP (s of a first, discarded
# keep-alive run of the first tool; 3, 0 for none), ROUNDS (2), MODES
# ("keepalive close"), ORDER ("weir haproxy nginx"; weir and haproxy at
# least, nginx may be left out), LB_CPU (1), GEN_CPU
# (0), OUT, WEIR_BUILD (directory with weir and weir-backend; default: make
# all, then build/rel), WEIR_REV (what the report calls that build),
# NO_NETNS (1: no network namespaces; every run then waits out TIME_WAIT
# first). nginx is installed (nginx-light) when missing, and the service its
# package starts is stopped. With the defaults the whole run takes a little
# over 2 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SELF=bench/http_proxy.sh
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-2}
MODES=${MODES:-keepalive close}
ORDER=${ORDER:-weir haproxy nginx}
LB_CPU=${LB_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT=${OUT:-build/bench/http_proxy.md}
BIN=${WEIR_BUILD:-build/rel}
export DURATION LB_CPU GEN_CPU BIN

# Ports: the same in the three configs.
P_B1=19081 P_B2=19082
declare -A P_PROXY=([weir]=19001 [haproxy]=19002 [nginx]=19003)
ALL_PORTS="$P_B1 $P_B2 19001 19002 19003"

WORK=$(mktemp -d /tmp/weir-bench-http.XXXXXX)
NAME=bench
. "$(dirname "$0")/lib.sh"


# --- one run, inside its own network namespace ------------------------------------
# "--one TOOL MODE": fresh backends and a fresh TOOL, one wrk run; prints
# "key value" lines on stdout.
if [ "${1:-}" = --one ]; then
	tool=$2 mode=$3
	port=${P_PROXY[$tool]}
	[ "${WAIT_TW:-0}" = 1 ] || ip link set lo up
	start b1 "$GEN_CPU" "$BIN/weir-backend" --listen 127.0.0.1:$P_B1 --name b1 --mode http
	start b2 "$GEN_CPU" "$BIN/weir-backend" --listen 127.0.0.1:$P_B2 --name b2 --mode http
	wait_listen $P_B1 b1 "$PID_b1"
	wait_listen $P_B2 b2 "$PID_b2"
	case $tool in
	weir)
		start proxy "$LB_CPU" "$BIN/weir" -c bench/weir-http.conf --socket "$WORK/weir.sock"
		;;
	haproxy)
		start proxy "$LB_CPU" haproxy -db -f bench/haproxy-http.cfg
		;;
	nginx)
		# its worker runs as nobody: let it reach its temporary files
		mkdir -p "$WORK/nginx/tmp"
		chmod 711 "$WORK" "$WORK/nginx"
		start proxy "$LB_CPU" nginx -p "$WORK/nginx/" -e stderr -c "$ROOT/bench/nginx-http.conf" \
			-g 'daemon off; master_process on;'
		;;
	*) die "unknown tool $tool" ;;
	esac
	wait_listen "$port" proxy "$PID_proxy"
	# nginx's worker too, so that it is stopped even if its master is killed
	PIDS+=($(pgrep -P "$PID_proxy" || true))

	# the backends must see what weir's forwarded_headers adds, from every tool
	hdrs=$(curl -sS --max-time 5 "http://127.0.0.1:$port/headers") ||
		die "$tool: GET /headers failed"
	for h in 'X-Forwarded-For: 127.0.0.1' 'X-Forwarded-Proto: http' \
		'Forwarded: for=127.0.0.1;proto=http'; do
		grep -qiF "$h" <<<"$hdrs" || die "$tool: the backend did not get '$h'; it got: $hdrs"
	done
	# backend counters, straight (each of these requests is one connection
	# and one request of its own, counted in what it reports)
	counts() {
		local c=0 r=0 p
		for p in $P_B1 $P_B2; do
			c=$((c + $(curl -sS --max-time 5 "http://127.0.0.1:$p/conns")))
			r=$((r + $(curl -sS --max-time 5 "http://127.0.0.1:$p/requests")))
		done
		echo "$c $r"
	}
	cnt=$(counts) || die "$tool: the backends' counters cannot be read"
	read -r c0 r0 <<<"$cnt"
	if [ "${WAIT_TW:-0}" = 1 ]; then wait_tw_drained; fi

	hdr=()
	[ "$mode" = close ] && hdr=(-H 'Connection: close')
	a=$(tree_ticks "$PID_proxy" 15)
	ua=$(tree_ticks "$PID_proxy" 14)
	t0=$(date +%s%N)
	out=$(timeout $((DURATION + 30)) taskset -c "$GEN_CPU" wrk -t1 -c50 -d"${DURATION}s" \
		--latency "${hdr[@]}" "http://127.0.0.1:$port/") || die "wrk through $tool failed"
	t1=$(date +%s%N)
	b=$(tree_ticks "$PID_proxy" 15)
	ub=$(tree_ticks "$PID_proxy" 14)
	kill -0 "$PID_proxy" 2>/dev/null || die "$tool died during the run"
	cnt=$(counts) || die "$tool: the backends' counters cannot be read"
	read -r c1 r1 <<<"$cnt"
	echo "$out" >&2

	# curl above: 2 connections and 2 requests per backend per counts()
	echo "$out" | awk -v ticks=$((b - a)) -v uticks=$((ub - ua)) -v ns=$((t1 - t0)) \
		-v sconns=$((c1 - c0 - 2)) -v sreqs=$((r1 - r0 - 2)) "$WRK_AWK"'
		END {
			# ns as a string: mawk clamps %d at 2^31
			printf "rps %.1f\nn %d\nticks %d\nuticks %d\nns %s\np50 %.1f\np99 %.1f\nerr %d\n",
				rps, n, ticks, uticks, ns, p50, p99, err
			printf "sconns %d\nsreqs %d\n", sconns, sreqs
		}'
	exit 0
fi

# --- the machine -------------------------------------------------------------
# A package's postinst may start its service (HAProxy with the default
# config, nginx on port 80): stop what was not running before.
had_haproxy=$(dpkg -s haproxy >/dev/null 2>&1 && echo 1 || echo 0)
scripts/deps.sh bench
stop_service() {
	if command -v systemctl >/dev/null && systemctl is-active -q "$1" 2>/dev/null; then
		systemctl stop "$1" || true
	elif [ -x "/etc/init.d/$1" ]; then
		"/etc/init.d/$1" stop >/dev/null 2>&1 || true
	fi
}
[ "$had_haproxy" = 1 ] || stop_service haproxy
if ! command -v nginx >/dev/null; then
	echo "bench: installing nginx-light" >&2
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		nginx-light >&2
	stop_service nginx
fi
[ -n "${WEIR_BUILD:-}" ] || make -s all >/dev/null
RES=$WORK/results          # "key value" lines, turned into the report at the end
: >"$RES"
mkdir -p "$(dirname "$OUT")"
LOG=${OUT%.md}.log         # every run's wrk output
: >"$LOG"
put() { echo "$1 $2" >>"$RES"; }

[ "$(nproc)" -ge 2 ] || die "needs 2 cores (balancer and load on different cores)"
load_start

pick_netns
put netns "${NS[*]:-none (waited out TIME_WAIT)}"
if [ ${#NS[@]} -eq 0 ]; then
	for p in $ALL_PORTS; do
		[ -z "$(ss -Htln "( sport = :$p )")" ] || die "port $p is already in use"
	done
fi

# run TOOL MODE ROUND: one --one run, in a namespace if we can.
run() {
	local tool=$1 mode=$2 round=$3
	[ "$round" = warmup ] && echo "bench: warm-up: $tool, ${DURATION}s" >&2
	if [ ${#NS[@]} -gt 0 ]; then
		"${NS[@]}" env WAIT_TW=0 "$SELF" --one "$tool" "$mode" >"$WORK/one.out" 2>"$WORK/one.err" &
	else
		env WAIT_TW=1 "$SELF" --one "$tool" "$mode" >"$WORK/one.out" 2>"$WORK/one.err" &
	fi
	PIDS+=($!)
	wait $! || { cat "$WORK/one.err" >&2; die "$mode run of $tool failed"; }
	PIDS=("${PIDS[@]:0:${#PIDS[@]}-1}")
	{ echo "== $tool $mode round $round"; cat "$WORK/one.err"; } >>"$LOG"
	[ "$round" = warmup ] ||
		sed "s/^\([a-z0-9]*\) /\1_${tool}_${mode}_$round /" "$WORK/one.out" >>"$RES"
}

echo "bench: $ROUNDS x wrk -t1 -c50 -d ${DURATION}s per tool and mode ($MODES) ..." >&2
# A discarded warm-up run first, so that the first measured run is not the
# only one to meet cold caches and a core just out of idle.
if [ "$WARMUP" -gt 0 ]; then
	DURATION=$WARMUP run "${ORDER%% *}" keepalive warmup
fi
# Round r starts with the r-th tool of ORDER: no tool is always the first
# process to run after the machine was idle.
read -ra TOOLS <<<"$ORDER"
for r in $(seq "$ROUNDS"); do
	for m in $MODES; do
		for i in "${!TOOLS[@]}"; do
			run "${TOOLS[$(((i + r - 1) % ${#TOOLS[@]}))]}" "$m" "$r"
		done
	done
done
put rounds "$ROUNDS"
put other_load "$(load_end)"

# --- report ----------------------------------------------------------------------
python3 - "$RES" "$ORDER" "$MODES" "$DURATION" "$(getconf CLK_TCK)" "$(weir_rev)" \
	"$(haproxy -v | head -1 | awk '{ print $3 }')" \
	"$(nginx -v 2>&1 | head -1 | sed 's/.*nginx\///')" \
	"$(wrk -v 2>&1 | head -1 | awk '{ print $2 }')" <<'EOF' | tee "$OUT"
import datetime, os, sys

res = {}
for line in open(sys.argv[1]):
    k, v = line.split(None, 1)
    res[k] = v.strip()
order, modes, dur, hz, rev, hap_v, ngx_v, wrk_v = sys.argv[2:10]
order, modes, hz = order.split(), modes.split(), int(hz)
rounds = int(res["rounds"])
# the tools ORDER names (weir and HAProxy at least: the ratio is theirs)
tools = tuple(t for t in ("weir", "haproxy", "nginx") if t in order)
label = {"weir": "weir", "haproxy": "HAProxy", "nginx": "nginx"}

def per_round(what, t, m):
    return [float(res[f"{what}_{t}_{m}_{r}"]) for r in range(1, rounds + 1)]

def total(what, t, m):
    return sum(per_round(what, t, m))

def mean(what, t, m):
    v = per_round(what, t, m)
    return sum(v) / len(v)

metrics = [  # name, function, format, better
    ("requests/s", lambda t, m: mean("rps", t, m), "{:.0f}", "higher"),
    ("balancer CPU per request, µs",
     lambda t, m: total("ticks", t, m) / hz * 1e6 / total("n", t, m), "{:.1f}", "lower"),
    ("… of which user space, µs",
     lambda t, m: total("uticks", t, m) / hz * 1e6 / total("n", t, m), "{:.1f}", "lower"),
    ("p50 latency, ms", lambda t, m: mean("p50", t, m) / 1000, "{:.2f}", "lower"),
    ("p99 latency, ms", lambda t, m: mean("p99", t, m) / 1000, "{:.2f}", "lower"),
    ("balancer's core busy, %",
     lambda t, m: total("ticks", t, m) / hz / (total("ns", t, m) / 1e9) * 100, "{:.0f}", "(context)"),
    ("server connections opened per 1000 requests",
     lambda t, m: total("sconns", t, m) * 1000 / total("sreqs", t, m), "{:.1f}", "(context)"),
]
title = {"keepalive": "keep-alive clients", "close": "Connection: close clients"}
cmd = {"keepalive": f"wrk -t1 -c50 -d{dur}s --latency http://127.0.0.1:PORT/",
       "close": f"wrk -t1 -c50 -d{dur}s --latency -H 'Connection: close' http://127.0.0.1:PORT/"}

print(f"### Run of {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} "
      f"(weir {rev}, order: {' '.join(order)}, rotated each round)\n")
print(f"HAProxy {hap_v}, nginx {ngx_v}, wrk {wrk_v}; kernel {os.uname().release}, "
      f"{os.cpu_count()} cores; {rounds} rounds of {dur} s per tool and mode, fresh "
      f"processes per run, runs in: {res['netns']}; other processes used "
      f"{res['other_load']}% of the machine during the run (more than a few percent "
      f"makes the numbers meaningless).\n")
verdicts = []
for m in modes:
    print(f"#### {title[m]}: `{cmd[m]}`\n")
    print("| metric | " + " | ".join(label[t] for t in tools) + " | weir / HAProxy | better |")
    print("|---|" + "---:|" * len(tools) + "---:|---|")
    for name, fn, fmt, better in metrics:
        v = {t: fn(t, m) for t in tools}
        ratio = v["weir"] / v["haproxy"] if v["haproxy"] else float("nan")
        print(f"| {name} | " + " | ".join(fmt.format(v[t]) for t in tools) +
              f" | {ratio:.2f} | {better} |")
    print()
    for t in tools:
        print(f"- {label[t]}, per round: requests/s "
              f"{', '.join(f'{x:.0f}' for x in per_round('rps', t, m))}; CPU µs/request "
              f"{', '.join(f'{k / hz * 1e6 / n:.1f}' for k, n in zip(per_round('ticks', t, m), per_round('n', t, m)))}; "
              f"p99 ms {', '.join(f'{x / 1000:.2f}' for x in per_round('p99', t, m))}; "
              f"errors {total('err', t, m):.0f}")
    print()
    cpu = metrics[1][1]("weir", m) / metrics[1][1]("haproxy", m)
    p99 = metrics[4][1]("weir", m) / metrics[4][1]("haproxy", m)
    verdicts.append(f"- {title[m]}: weir's CPU per request is {cpu:.2f}x HAProxy's "
                    f"(target 0.80 or less: {'met' if cpu <= 0.8 else 'missed'}); "
                    f"its p99 {p99:.2f}x HAProxy's (target 1.00 or less: "
                    f"{'met' if p99 <= 1.0 else 'missed'})")
print("Targets (issue: weir at 0.8x HAProxy's CPU per request or better, p99 no worse):\n")
print("\n".join(verdicts))
EOF
