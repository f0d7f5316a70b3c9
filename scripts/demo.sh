#!/usr/bin/env bash
# make run: three demo backends behind a TCP virtual service on
# 127.0.0.1:8080, weir in the foreground. Ctrl-C stops everything.
set -u
cd "$(dirname "$0")/.."
bin=build/rel
sock=${WEIR_SOCKET:-/run/weir/weir.sock}
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for i in 1 2 3; do
	"$bin/weir-backend" --listen 127.0.0.1:900$i --name "backend-$i" &
	pids+=($!)
done

# weir starts once every backend answers, so the first requests rotate
for i in 1 2 3; do
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/900$i) 2>/dev/null && break
		sleep 0.05
	done
done

cat <<MSG
weir demo: three backends (127.0.0.1:9001-9003) behind 127.0.0.1:8080 (rr).
  try:   curl 127.0.0.1:8080          (a different backend each time)
         $bin/weirctl --socket $sock -L -n --stats
  Ctrl-C stops weir and the backends.
MSG
"$bin/weir" -c demo/weir.conf --socket "$sock" &
pids+=($!)
wait "${pids[-1]}"
