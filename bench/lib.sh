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

# wait_listen PORT NAME PID [udp]: until something listens on PORT (TCP, or
# a UDP socket is bound to it), or PID died.
wait_listen() {
	local port=$1 name=$2 pid=$3 proto=${4:-tcp} ss_opt=-Htln
	[ "$proto" = tcp ] || ss_opt=-Huln
	for _ in $(seq 50); do
		[ -n "$(ss "$ss_opt" "( sport = :$port )")" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$WORK/$name.log" >&2
	die "$name does not listen on $proto 127.0.0.1:$port"
}

# The numbers mean something only on an otherwise idle machine. Measure the
# CPU time nobody of ours used during the run: all busy time (/proc/stat)
# minus this script and its reaped descendants (cutime), the processes it
# started that still run, ksoftirqd (our loopback traffic) and
# OUR_EXTRA_TICKS (a script's own count of what it made run and is gone:
# e.g. the NAPI threads of veths it deleted).
# load_start before the runs; load_end prints the foreign share in % and
# warns above 3 %.
all_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
our_ticks() {
	local pid t k
	t=$(awk -v x="${OUR_EXTRA_TICKS:-0}" '{ print $14 + $15 + $16 + $17 + x }' "/proc/$$/stat")
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

# --- servers measured by their CPU time (udp_proxy.sh, http_proxy.sh, dns.sh) ---

# The PID and its children (nginx's master and its worker).
tree_pids() { echo "$1" $(pgrep -P "$1" || true); }
# utime+stime (or utime alone: field 14) of those processes, in ticks.
tree_ticks() {
	local t=0 k pid
	for pid in $(tree_pids "$1"); do
		k=$(awk -v f="$2" '{ print f == 14 ? $14 : $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) &&
			t=$((t + k))
	done
	echo "$t"
}
# "busy total" ticks of one core, from /proc/stat (busy: all but idle and iowait).
core_ticks() {
	awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

# udp_drops AWK-CONDITION: datagrams the kernel dropped (receive buffer
# full) on the UDP sockets of this namespace whose /proc/net/udp line
# matches (port: $2 ends in ":" and the hex port; inode: $10).
udp_drops() {
	awk "FNR > 1 && ($1) { d += \$13 } END { print d + 0 }" /proc/net/udp /proc/net/udp6
}
# port_drops PORT...: drops on the sockets bound to those ports
port_drops() {
	local cond="0" p
	for p in "$@"; do cond+=" || \$2 ~ /:$(printf %04X "$p")\$/"; done
	udp_drops "$cond"
}
# tree_drops PID: drops on the sockets PID and its children hold
tree_drops() {
	local cond="0" ino
	for ino in $(for p in $(tree_pids "$1"); do ls -l "/proc/$p/fd" 2>/dev/null; done |
		sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | sort -u); do
		cond+=" || \$10 == $ino"
	done
	udp_drops "$cond"
}

# cpu_mark PID, then cpu_since PID: what PID and its children used between
# the two (ticks: utime+stime, uticks: utime), the nanoseconds, and how busy
# LB_CPU and GEN_CPU were (all processes, per mille), as "key value" lines.
cpu_mark() {
	CPU_A=$(tree_ticks "$1" 15) CPU_UA=$(tree_ticks "$1" 14)
	read -r CPU_LB0 CPU_LBT0 < <(core_ticks "$LB_CPU")
	read -r CPU_GEN0 CPU_GENT0 < <(core_ticks "$GEN_CPU")
	CPU_T0=$(date +%s%N)
}
cpu_since() {
	local t1 b ub lb1 lbt1 gen1 gent1
	t1=$(date +%s%N)
	b=$(tree_ticks "$1" 15) ub=$(tree_ticks "$1" 14)
	read -r lb1 lbt1 < <(core_ticks "$LB_CPU")
	read -r gen1 gent1 < <(core_ticks "$GEN_CPU")
	printf 'ticks %d\nuticks %d\nns %s\n' $((b - CPU_A)) $((ub - CPU_UA)) $((t1 - CPU_T0))
	printf 'lbcore %s\ngencore %s\n' "$(((lb1 - CPU_LB0) * 1000 / (lbt1 - CPU_LBT0 + 1)))" \
		"$(((gen1 - CPU_GEN0) * 1000 / (gent1 - CPU_GENT0 + 1)))"
}

# bench_deps: scripts/deps.sh bench, then stops the services a package's
# postinst started (nginx on port 80, gdnsd on 53) that were not running
# before.
bench_deps() {
	local s had=()
	for s in nginx gdnsd; do pgrep -x "$s" >/dev/null || had+=("$s"); done
	scripts/deps.sh bench
	for s in "${had[@]}"; do
		pgrep -x "$s" >/dev/null || continue
		if command -v systemctl >/dev/null && systemctl is-active -q "$s" 2>/dev/null; then
			systemctl stop "$s" || true
		elif [ -x "/etc/init.d/$s" ]; then
			"/etc/init.d/$s" stop >/dev/null 2>&1 || true
		fi
	done
}

# pick_netns: sets NS to the command that runs a process in a network
# namespace of its own (empty, and NO_NETNS=1 exported, when none can be
# had or NO_NETNS=1 asked for none).
pick_netns() {
	NS=()
	if [ "${NO_NETNS:-0}" = 1 ]; then
		:
	elif unshare -n true 2>/dev/null; then
		NS=(unshare -n)
	elif unshare -rn true 2>/dev/null; then
		NS=(unshare -rn)
	fi
	[ ${#NS[@]} -gt 0 ] || export NO_NETNS=1
}

# run_rounds UDP-PORT...: ROUNDS rounds of "$SELF --one TOOL TEST", each in
# a network namespace of its own if one can be had (else the UDP ports
# must be free), for every TEST of TESTS and TOOL of ORDER. Round r starts
# with the r-th tool of ORDER: no tool is always the first process to run
# after the machine was idle. A run's "key value" lines go to RES as
# "key_TOOL_TEST_ROUND value", its stderr to LOG; then RES gets netns,
# rounds and other_load (load_end).
run_rounds() {
	local r t i p tool tools
	load_start
	pick_netns
	echo "netns ${NS[*]:-none}" >>"$RES"
	if [ ${#NS[@]} -eq 0 ]; then
		for p in "$@"; do
			[ -z "$(ss -Huln "( sport = :$p )")" ] || die "udp port $p is already in use"
		done
	fi
	echo "$NAME: $ROUNDS rounds of ${DURATION}s per tool and test ($TESTS) ..." >&2
	read -ra tools <<<"$ORDER"
	for r in $(seq "$ROUNDS"); do
		for t in $TESTS; do
			for i in "${!tools[@]}"; do
				tool=${tools[$(((i + r - 1) % ${#tools[@]}))]}
				"${NS[@]}" "$SELF" --one "$tool" "$t" >"$WORK/one.out" 2>"$WORK/one.err" &
				PIDS+=($!)
				wait $! || { cat "$WORK/one.err" >&2; die "$t run of $tool failed"; }
				PIDS=("${PIDS[@]:0:${#PIDS[@]}-1}")
				{ echo "== $tool $t round $r"; cat "$WORK/one.err"; } >>"$LOG"
				sed "s/^\([a-z0-9]*\) /\1_${tool}_${t}_$r /" "$WORK/one.out" >>"$RES"
			done
		done
	done
	echo "rounds $ROUNDS" >>"$RES"
	echo "other_load $(load_end)" >>"$RES"
}
