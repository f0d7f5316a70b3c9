#!/usr/bin/env bash
# bench/http_profile.sh - where a balancer's CPU goes per HTTP request, for
# the "Where the time goes" tables of bench/RESULTS.md. The setup of
# bench/http_proxy.sh (same configs and ports, balancer on LB_CPU, wrk and
# two weir-backend --mode http on GEN_CPU), keep-alive clients only:
# "wrk -t1 -c50 -d DURATION" with the balancer under one of
#
#   strace     strace -f -c: system calls per request, with their errors
#              (EAGAIN reads); tracing slows everything, the counts per
#              request are what matters
#   perf       perf stat on the tracepoints of recvfrom, sendto, writev
#              (nginx), epoll_wait and sched_wakeup (how often a send wakes
#              another task)
#   callgrind  valgrind --tool=callgrind (weir only): user-space instructions
#              per request, by function
#
#   bench/http_profile.sh strace|perf|callgrind [weir|haproxy|nginx]
#
# Requests are counted by the backends (/requests). Runs in a fresh network
# namespace when one can be had. Environment: DURATION (s, default 5),
# WEIR_BUILD (directory with weir and weir-backend, default build/rel),
# LB_CPU (1), GEN_CPU (0), OUT (directory for the raw output, default
# build/bench/http_profile). About DURATION + 5 s (callgrind: + 20 s).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MODE=${1:-}
TOOL=${2:-weir}
DURATION=${DURATION:-5}
BIN=${WEIR_BUILD:-build/rel}
LB_CPU=${LB_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT=${OUT:-build/bench/http_profile}
declare -A PORT=([weir]=19001 [haproxy]=19002 [nginx]=19003)

die() {
	echo "http_profile: $*" >&2
	exit 1
}
case $MODE in strace | perf | callgrind) ;; *) die "usage: $0 strace|perf|callgrind [weir|haproxy|nginx]" ;; esac
[ -n "${PORT[$TOOL]:-}" ] || die "unknown balancer $TOOL"
[ "$MODE" != callgrind ] || [ "$TOOL" = weir ] || die "callgrind: weir only"
for t in wrk curl "$MODE"; do
	[ "$t" = callgrind ] && t=valgrind
	command -v "$t" >/dev/null || die "$t is not installed"
done
[ -x "$BIN/weir" ] || die "no $BIN/weir (make, or set WEIR_BUILD)"

# Run the measurement itself in a network namespace of its own (loopback
# only), so that nothing else on 127.0.0.1 and no TIME_WAIT sockets of
# earlier runs are in the way.
if [ "${HTTP_PROFILE_INNER:-0}" != 1 ]; then
	mkdir -p "$OUT"
	if unshare -n true 2>/dev/null; then
		exec unshare -n env HTTP_PROFILE_INNER=1 NETNS=1 "$0" "$@"
	fi
	exec env HTTP_PROFILE_INNER=1 "$0" "$@"
fi
[ "${NETNS:-0}" != 1 ] || ip link set lo up

WORK=$(mktemp -d /tmp/weir-http-profile.XXXXXX)
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

start() {
	local cpu=$1
	shift
	taskset -c "$cpu" "$@" >>"$WORK/procs.log" 2>&1 &
	PIDS+=($!)
}
wait_listen() {
	for _ in $(seq 100); do
		[ -n "$(ss -Htln "( sport = :$1 )")" ] && return 0
		sleep 0.1
	done
	tail -5 "$WORK/procs.log" >&2
	die "nothing listens on 127.0.0.1:$1"
}
requests() {
	echo $(($(curl -sS --max-time 5 127.0.0.1:19081/requests) +
		$(curl -sS --max-time 5 127.0.0.1:19082/requests)))
}

start "$GEN_CPU" "$BIN/weir-backend" --listen 127.0.0.1:19081 --name b1 --mode http
start "$GEN_CPU" "$BIN/weir-backend" --listen 127.0.0.1:19082 --name b2 --mode http
wait_listen 19081
wait_listen 19082
case $TOOL in
weir) cmd=("$BIN/weir" -c bench/weir-http.conf --socket "$WORK/weir.sock") ;;
haproxy) cmd=(haproxy -db -f bench/haproxy-http.cfg) ;;
nginx)
	mkdir -p "$WORK/nginx/tmp"
	chmod 711 "$WORK" "$WORK/nginx"
	cmd=(nginx -p "$WORK/nginx/" -e stderr -c "$ROOT/bench/nginx-http.conf"
		-g 'daemon off; master_process off;')
	;;
esac
raw=$OUT/$MODE-$TOOL.txt
case $MODE in
strace) start "$LB_CPU" strace -f -c -o "$raw" "${cmd[@]}" ;;
callgrind) start "$LB_CPU" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
	"${cmd[@]}" ;;
perf) start "$LB_CPU" "${cmd[@]}" ;;
esac
lb=${PIDS[-1]}
wait_listen "${PORT[$TOOL]}"
# the traced process: strace's child; valgrind runs weir in its own process
[ "$MODE" != strace ] || lb=$(pgrep -P "$lb")
curl -sS --max-time 10 "http://127.0.0.1:${PORT[$TOOL]}/" >/dev/null || die "no answer through $TOOL"

load=(taskset -c "$GEN_CPU" wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:${PORT[$TOOL]}/")
# perf counts the balancer's events for as long as wrk runs
[ "$MODE" != perf ] || load=(perf stat -x "," -o "$raw" -p "$lb"
	-e 'syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_writev'
	-e 'syscalls:sys_enter_epoll_wait,sched:sched_wakeup,sched:sched_switch' -- "${load[@]}")
r0=$(requests)
"${load[@]}" >"$OUT/wrk-$MODE-$TOOL.txt"
n=$(($(requests) - r0 - 2)) # the two counter reads of the first requests() count
# stop the balancer so that strace and callgrind write their reports
kill -TERM "$lb"
while kill -0 "$lb" 2>/dev/null; do sleep 0.2; done
[ "$MODE" != strace ] || sleep 0.5

echo "$TOOL under $MODE: $n requests in ${DURATION} s (wrk -t1 -c50, keep-alive)"
case $MODE in
strace)
	awk -v n="$n" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $4 / n >= 0.001 {
		calls = $4; err = ($5 ~ /^[0-9]+$/) ? $5 : 0
		printf "%-16s %8.3f per request (%.3f failed)\n", $NF, calls / n, err / n }' "$raw" |
		sort -k2 -rn
	;;
perf)
	awk -F, -v n="$n" '$1 ~ /^[0-9]+$/ { printf "%-32s %8.3f per request\n", $3, $1 / n }' "$raw"
	;;
callgrind)
	total=$(callgrind_annotate "$OUT/callgrind.out" 2>/dev/null |
		awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	echo "user-space instructions per request: $((total / n)) (startup included)"
	callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null |
		awk -v n="$n" '/^ *[0-9,]+ +\( *[0-9.]+%\) / { v = $1; gsub(",", "", v)
			sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, ""); f = $1
			if (!sub(/.*\/src\//, "", f)) sub(/.*\//, "", f)
			if (v / n >= 100 && f != "???" && !seen[f]++) printf "%8.0f  %s\n", v / n, f }' |
		head -40
	;;
esac
echo "raw output: $OUT/"
