# lib.sh - what the benchmark scripts share: the processes they start,
# pinned to a core, and their cleanup. Source it after setting WORK (a
# scratch directory it removes) and NAME (for messages); it sets PIDS and
# the EXIT/INT/TERM traps. A script may list more pids to stop in
# EXTRA_PIDS (e.g. a process started outside start()).

PIDS=()                    # every process the script started
EXTRA_PIDS=()

bench_cleanup() {
	local rc=$? pid alive
	trap - EXIT INT TERM
	for pid in "${EXTRA_PIDS[@]}" "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	# up to 15 s: a run in progress ends its own children first
	for _ in $(seq 150); do
		alive=0
		for pid in "${EXTRA_PIDS[@]}" "${PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${EXTRA_PIDS[@]}" "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$WORK"
	[ $rc = 0 ] || echo "$NAME: failed (exit $rc)" >&2
	exit $rc
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "$NAME: $*" >&2
	exit 1
}

# start NAME CPU CMD... : runs CMD pinned to CPU, logs to $WORK/NAME.log and
# sets PID_NAME.
start() {
	local name=$1 cpu=$2
	shift 2
	taskset -c "$cpu" "$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	printf -v "PID_$name" %s $!
}

# wait_listen PORT NAME PID: until something listens on PORT, or PID died.
wait_listen() {
	local port=$1 name=$2 pid=$3
	for _ in $(seq 50); do
		[ -n "$(ss -Htln "( sport = :$port )")" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$WORK/$name.log" >&2
	die "$name does not listen on 127.0.0.1:$port"
}

# The numbers mean something only on an otherwise idle machine. Measure the
# CPU time nobody of ours used during the run: all busy time (/proc/stat)
# minus this script and its reaped descendants (cutime), the processes it
# started that still run, and ksoftirqd (our loopback traffic).
# load_start before the runs; load_end prints the foreign share in % and
# warns above 3 %.
all_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
our_ticks() {
	local pid t k
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$$/stat")
	for pid in "${PIDS[@]}" $(pgrep -x 'ksoftirqd/[0-9]+' || true); do
		k=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && t=$((t + k))
	done
	echo "$t"
}
load_start() { ALL0=$(all_ticks) OURS0=$(our_ticks) T0=$(date +%s%N); }
load_end() {
	local other=$(( ($(all_ticks) - ALL0 - $(our_ticks) + OURS0) * 100 * 1000000000 /
		(($(date +%s%N) - T0) * $(getconf CLK_TCK) * $(nproc)) ))
	[ "$other" -ge 0 ] || other=0
	[ "$other" -le 3 ] ||
		echo "$NAME: warning: other processes used ${other}% of the machine during the run" >&2
	echo "$other"
}

# What weir was measured: WEIR_REV, the WEIR_BUILD directory, or the commit.
weir_rev() {
	if [ -n "${WEIR_REV:-}" ]; then
		echo "$WEIR_REV"
	elif [ -n "${WEIR_BUILD:-}" ]; then
		echo "from $WEIR_BUILD"
	elif git diff --quiet HEAD -- src demo 2>/dev/null; then
		git rev-parse --short HEAD
	else
		echo "$(git rev-parse --short HEAD)+uncommitted"
	fi
}

# Ends when at most 100 TIME_WAIT sockets are left (for runs that cannot
# have a network namespace of their own). They live 60 s, but the kernel
# reaps them in batches: allow twice that.
wait_tw_drained() {
	local tw
	for _ in $(seq 130); do
		tw=$(awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' \
			/proc/net/sockstat)
		[ "$tw" -le 100 ] && return 0
		sleep 1
	done
	die "$tw TIME_WAIT sockets still there after 130 s"
}

# The start of an awk program reading "wrk --latency" output: n (requests),
# rps, p50 and p99 (in µs), err (socket errors and non-2xx answers). The
# caller adds its END block.
WRK_AWK='
		function us(v) {
			if (v ~ /us$/) return v + 0
			if (v ~ /ms$/) return v * 1000
			if (v ~ /s$/) return v * 1000000
			return v + 0
		}
		/requests in/ { n = $1 }
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = us($2) }
		$1 == "99%" { p99 = us($2) }
		/Socket errors/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
		/Non-2xx/ { err += $5 }
'
