#!/usr/bin/env bash
# make run: three demo backends behind an HTTP virtual service on
# 127.0.0.1:8080 with health checks, the live dashboard on
# http://127.0.0.1:8081/, a client sending requests (a line a second: the
# answers per backend), and backend-2 stopped and started again every
# minute so the dashboard shows a server going down and coming back.
# Ctrl-C stops everything and ends with status 0 (no error from make).
set -u
cd "$(dirname "$0")/.."
bin=build/rel
sock=${WEIR_SOCKET:-/run/weir/weir.sock}
url=http://127.0.0.1:8081/
log=build/demo-weir.log
declare -A backend=()
pids=()           # weir, the client

say() { printf '\033[1m%s\033[0m\n' "$*"; }

start_backend() {
	"$bin/weir-backend" --listen "127.0.0.1:900$1" --name "backend-$1" &
	backend[$1]=$!
}

stopping=0
cleanup() {
	[ $stopping = 1 ] && return
	stopping=1
	trap '' INT TERM
	kill $(jobs -p) 2>/dev/null    # weir, the backends, the client, a sleep
	wait 2>/dev/null
	echo
	say "weir demo stopped."
	exit "${1:-0}"
}
trap 'cleanup 0' INT TERM

say "weir demo: the dashboard is at $url"
echo "  HTTP service 127.0.0.1:8080 (rr, health checks every second) -> 127.0.0.1:9001-9003"
echo "  try:  curl 127.0.0.1:8080      $bin/weirctl --socket $sock -L -n --health"
echo "  weir's log: $log.  Ctrl-C stops everything."
echo

for i in 1 2 3; do start_backend $i; done
# weir starts once every backend answers, so the first checks pass
for i in 1 2 3; do
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/900$i) 2>/dev/null && break
		sleep 0.05
	done
done

"$bin/weir" -c demo/weir.conf --socket "$sock" >"$log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
	kill -0 "${pids[0]}" 2>/dev/null || { say "weir did not start:"; cat "$log"; cleanup 1; }
	sleep 0.05
done

python3 scripts/demo_client.py 60 &
pids+=($!)

# every minute: backend-2 goes away for 20 s, then comes back
while :; do
	sleep 40 & wait $!
	say "demo: stopping backend-2 (the dashboard shows it down within a few seconds)"
	kill "${backend[2]}" 2>/dev/null
	wait "${backend[2]}" 2>/dev/null
	sleep 20 & wait $!
	say "demo: starting backend-2 again"
	start_backend 2
done
