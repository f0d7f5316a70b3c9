#!/usr/bin/env bash
# bench/xdp_pps.sh - packets per second forwarded by ONE director core:
# weir's XDP data path (NAT and DR) against the kernel's own alternative,
# nftables DNAT with `numgen inc mod 3` over the same three real servers,
# in one run, on the same topology and the same pinning.
#
#   bench/xdp_pps.sh          (as root; make bench runs it through bench/run.sh)
#
# Topology (network namespaces made here, addresses in 10.78.0.0/16 only;
# all of it is deleted on exit, pass or fail, and with the veths go every
# XDP program and NAPI thread):
#
#   gen: g0 10.78.1.10 ==veth== d0 10.78.1.1 :dir: d1 10.78.2.1 ==veth== s0 :sink
#
#   gen   bench/blaster (default: xdp mode, BPF_PROG_TEST_RUN live frames,
#         XDP_TX out of g0), UDP to the VIP 10.78.100.1:5353 from FLOWS
#         flows (source ports x addresses in 10.78.64.0/18), LEN-byte frames.
#   dir   the director: ip_forward on, the reals' neighbours permanent.
#         weir-nat: weir, `xdp { interface d0 d1; }`, 3 servers forward masq
#         weir-dr:  the same, forward route (the sink owns the reals)
#         nft:      nftables DNAT to numgen inc mod 3 map {0:.11,1:.12,2:.13}
#                   (conntrack; later packets of a flow follow its entry)
#         fwd:      plain kernel forwarding straight to 10.78.2.11, no nft,
#                   no conntrack: the floor under the nft figure
#   sink  owns the reals 10.78.2.11-13. Two kinds (SINKS), each run of each:
#         xdp   bench/xdp_pps_sink.bpf.c drops every frame in XDP; counted
#               in s0's rx_queue_0_xdp_drops ("delivered").
#         down  s0 is set down after the warm-up: the director does all its
#               work and its last step, handing the packet to d1's peer,
#               fails at once (counted in d1's tx_dropped). Nothing runs on
#               the generator's core but the generator: the director alone
#               limits the rate.
#
# Where the director's work runs: a veth receives on NAPI, and NAPI normally
# runs in the softirq of the CPU that SENT the frame, i.e. on the
# generator's core. So d0's NAPI is made threaded (/sys/class/net/d0/threaded)
# and its kthread pinned to DIR_CPU: everything the director does for a
# packet (taking it off d0's ring, weir's XDP program and its redirect, or
# building the skb, GRO, IP forwarding, nftables/conntrack, and handing it
# to s0) runs in that one thread on that one core, whatever the mode. GRO is
# on for d0 in every mode (it is what gives a veth NAPI without XDP). The
# sink's NAPI is threaded too and pinned to GEN_CPU with the generator, so
# its cost is not charged to the director; it is polled on a timer
# (COALESCE_NS, see moderate()) rather than woken by the director. blaster
# runs at nice GEN_NICE; weir's daemon (control plane only) on GEN_CPU too.
#
# Measured per run: the generator's packets and time; frames d0's ring
# refused (the director was behind: g0's tx_dropped); frames the sink
# received ("delivered") and those the director could not hand to it (d1's
# tx_dropped: the sink's ring full, or the sink down); the director NAPI
# thread's CPU time (/proc/TID/schedstat), sleeps and run-queue wait; the
# director core's busy share (/proc/stat). "output" = delivered + not
# handed on = every packet the director processed to the end. Reported:
# output and delivered pps over the generator's time, and output per
# second of the director thread's CPU: with the thread busy near 100 % and
# frames refused, the director is the limit and the two agree; when it is
# not (the generator, the sink, or another process on the director's core
# limits the run) the per-CPU figure still compares the data paths.
#
# Environment: PACKETS per measured run (default 100000000), DURATION (s,
# the generator's time limit per run, 3), FLOWS (4096; each flow is
# established by a warm-up before the measured run; FLOWS >= PACKETS makes
# every packet a new flow), LEN (64), ROUNDS (3), MODES ("weir-nat weir-dr
# nft fwd"), SINKS ("xdp down"), GEN (xdp | sendmmsg), BATCH (generator
# batch, 256: also the size of the test run's page pool, so the largest
# recycles best), GEN_CPU (0), DIR_CPU (1), GEN_NICE (10), COALESCE_NS
# (20000; 0: the sink is woken by the director), IDLE_WAIT (s, 300: before
# each run, wait up to this long for the machine to be idle; the busy share
# it started at is reported), OUT (build/bench/xdp_pps.md), WEIR_BUILD
# (directory with weir; default: make all, then build/rel). About 10 s a
# run: 3 minutes for the defaults on an idle machine.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SELF=bench/xdp_pps.sh
PACKETS=${PACKETS:-100000000}
DURATION=${DURATION:-3}
FLOWS=${FLOWS:-4096}
LEN=${LEN:-64}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-"weir-nat weir-dr nft fwd"}
GEN=${GEN:-xdp}
GEN_CPU=${GEN_CPU:-0}
DIR_CPU=${DIR_CPU:-1}
GEN_NICE=${GEN_NICE:-10}
BATCH=${BATCH:-256}
COALESCE_NS=${COALESCE_NS:-20000}
IDLE_WAIT=${IDLE_WAIT:-300}
SINKS=${SINKS:-xdp down}
OUT=${OUT:-build/bench/xdp_pps.md}

VIP=10.78.100.1
PORT=5353
REALS=(10.78.2.11 10.78.2.12 10.78.2.13)
SRC=10.78.64.0

die() { echo "xdp_pps: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
[ "$(nproc)" -ge 2 ] || die "needs two CPUs"
case "$GEN" in xdp|sendmmsg) ;; *) die "GEN is xdp or sendmmsg" ;; esac

scripts/deps.sh bench
if [ -z "${WEIR_BUILD:-}" ]; then
	make -s all
	WEIR_BUILD=build/rel
fi
make -s build/rel/blaster build/bpf/xdp_pps_sink.bpf.o
WEIR=$WEIR_BUILD/weir
BLASTER=build/rel/blaster
SINK_OBJ=build/bpf/xdp_pps_sink.bpf.o

# Names unique to this run: parallel or crashed runs never collide, and the
# NAPI threads (named napi/DEV-ID) are found by their device's name.
TAG=xp$(( $$ % 100000 ))
NS_G=${TAG}gen NS_D=${TAG}dir NS_S=${TAG}sink
G0=${TAG}g0 D0=${TAG}d0 D1=${TAG}d1 S0=${TAG}s0
WORK=$(mktemp -d /tmp/weir-xdp-pps.XXXXXX)
WEIR_PID=

# Ends what this script started (weir by its pid; anything else left in our
# namespaces by the pids `ip netns pids` gives) and deletes the namespaces,
# which takes the veths, their XDP programs and NAPI threads with them.
teardown() {
	if [ -n "$WEIR_PID" ]; then
		kill "$WEIR_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$WEIR_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$WEIR_PID" 2>/dev/null || true
		wait "$WEIR_PID" 2>/dev/null || true
		WEIR_PID=
	fi
	local ns pid
	for ns in "$NS_G" "$NS_D" "$NS_S"; do
		[ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
}
cleanup() {
	teardown
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }
# one counter of `ethtool -S` (0 when absent)
ethstat() { in_ns "$1" ethtool -S "$2" | awk -v k="$3:" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'; }
# a counter of /sys/class/net/DEV/statistics
devstat() { in_ns "$1" cat "/sys/class/net/$2/statistics/$3"; }

topo_up() {
	local ns
	for ns in "$NS_G" "$NS_D" "$NS_S"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_G" link add "$G0" type veth peer name "$D0" netns "$NS_D"
	ip -n "$NS_D" link add "$D1" type veth peer name "$S0" netns "$NS_S"
	ip -n "$NS_G" addr add 10.78.1.10/24 dev "$G0"
	ip -n "$NS_D" addr add 10.78.1.1/24 dev "$D0"
	ip -n "$NS_D" addr add 10.78.2.1/24 dev "$D1"
	for a in "${REALS[@]}"; do ip -n "$NS_S" addr add "$a/24" dev "$S0"; done
	ip -n "$NS_S" addr add "$VIP/32" dev lo     # DR: a real owns the VIP
	for ns_dev in "$NS_G:$G0" "$NS_D:$D0" "$NS_D:$D1" "$NS_S:$S0"; do
		ip -n "${ns_dev%%:*}" link set "${ns_dev#*:}" up
	done
	# a partial checksum does not survive XDP (sendmmsg mode's skbs)
	in_ns "$NS_G" ethtool -K "$G0" tx off >/dev/null
	in_ns "$NS_D" ethtool -K "$D0" gro on >/dev/null
	in_ns "$NS_D" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$D0.rp_filter=0"
	ip -n "$NS_D" route add 10.78.64.0/18 via 10.78.1.10
	local smac
	smac=$(mac_of "$NS_S" "$S0")
	for a in "${REALS[@]}"; do
		ip -n "$NS_D" neigh replace "$a" lladdr "$smac" dev "$D1" nud permanent
	done
	ip -n "$NS_D" neigh replace 10.78.1.10 lladdr "$(mac_of "$NS_G" "$G0")" dev "$D0" nud permanent
	ip -n "$NS_S" link set dev "$S0" xdpdrv obj "$SINK_OBJ" sec xdp
}

# The director's configuration for mode <m>.
mode_up() {
	local m=$1
	case "$m" in
	weir-nat|weir-dr)
		local fwd=masq
		[ "$m" = weir-dr ] && fwd=route
		{
			echo "workers 1; log_level info; grace 1s; socket $WORK/weir.sock;"
			echo "xdp { interface $D0 $D1; local 10.78.2.1; udp_timeout 5m; }"
			echo "service udp $VIP:$PORT {"
			echo "    scheduler rr;"
			for a in "${REALS[@]}"; do echo "    server $a:$PORT forward $fwd;"; done
			echo "}"
		} > "$WORK/weir.conf"
		in_ns "$NS_D" taskset -c "$GEN_CPU" "$WEIR" -c "$WORK/weir.conf" 2> "$WORK/weir.log" &
		WEIR_PID=$!
		for _ in $(seq 100); do
			grep -q "xdp: attached to $D1 " "$WORK/weir.log" && grep -q "xdp: attached to $D0 " "$WORK/weir.log" && break
			kill -0 "$WEIR_PID" 2>/dev/null || break
			sleep 0.1
		done
		grep -q "xdp: attached to $D0 (native" "$WORK/weir.log" ||
			{ cat "$WORK/weir.log" >&2; die "weir did not attach natively to $D0"; }
		;;
	nft)
		in_ns "$NS_D" nft -f - <<-EOF
		table ip weir_bench {
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				ip daddr $VIP udp dport $PORT dnat to numgen inc mod 3 map { 0 : ${REALS[0]}, 1 : ${REALS[1]}, 2 : ${REALS[2]} }
			}
		}
		EOF
		;;
	fwd) ;;
	*) die "unknown mode $m" ;;
	esac
}

# The pid of the NAPI kthread of <dev> (threaded NAPI made on the way).
napi_thread() {
	local ns=$1 dev=$2 tid=
	in_ns "$ns" sh -c "echo 1 > /sys/class/net/$dev/threaded"
	for _ in $(seq 50); do
		tid=$(ps -e -o pid=,comm= | awk -v c="napi/$dev-" 'index($2, c) == 1 { print $1; exit }')
		[ -n "$tid" ] && break
		sleep 0.1
	done
	[ -n "$tid" ] || die "no NAPI thread for $dev"
	echo "$tid"
}

# blaster in the generator's namespace on GEN_CPU: "packets N seconds S pps P"
blast() {
	local n=$1 dst=$VIP
	[ "$MODE" = fwd ] && dst=${REALS[0]}
	in_ns "$NS_G" taskset -c "$GEN_CPU" nice -n "$GEN_NICE" "$BLASTER" -m "$GEN" -i "$G0" \
		-d "$(mac_of "$NS_D" "$D0")" -s "$SRC" -t "$dst:$PORT" -n "$n" -T "$DURATION" \
		-f "$FLOWS" -l "$LEN" -b "$BATCH"
}

# Interrupt moderation for the NAPI of <dev> (the sink's), as a NIC's
# rx-usecs: after a poll, the NAPI is not woken by its sender but polled
# again COALESCE_NS later by a timer on its own CPU (gro_flush_timeout with
# napi_defer_hard_irqs). Without it, every time the sink empties its ring
# the director's next packet wakes the sink's thread across CPUs, an IPI (a
# VM exit here) charged to the director's core. The director's own NAPI is
# left as it is: woken by the generator when it has slept, it keeps polling
# without sleeping while packets come faster than it takes them.
moderate() {
	[ "$COALESCE_NS" -gt 0 ] || return 0
	in_ns "$1" sh -c "echo $COALESCE_NS > /sys/class/net/$2/gro_flush_timeout &&
		echo 2147483647 > /sys/class/net/$2/napi_defer_hard_irqs"
}

runtime_ns() { if [ -n "$1" ]; then awk '{ print $1 }' "/proc/$1/schedstat"; else echo 0; fi; }
# busy jiffies (all but idle and iowait) of CPU <n>
cpu_busy() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
counters() {
	echo "$(date +%s.%N)" "$(ethstat "$NS_S" "$S0" rx_queue_0_xdp_drops)" \
		"$(devstat "$NS_G" "$G0" tx_dropped)" \
		"$(devstat "$NS_D" "$D1" tx_dropped)" \
		"$(runtime_ns "$DIR_TID")" "$(runtime_ns "$SINK_TID")" \
		"$(cpu_busy "$DIR_CPU")" "$(cpu_busy "$GEN_CPU")" \
		"$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$DIR_TID/status")" \
		"$(awk '{ print $2 }' "/proc/$DIR_TID/schedstat")" \
		"$(if [ -n "$SINK_TID" ]; then awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$SINK_TID/status"; else echo 0; fi)"
}

HZ=$(getconf CLK_TCK)
# The machine's busy share (%, both CPUs) over <secs> seconds.
machine_busy() {
	local a b
	a=$(head -1 /proc/stat)
	sleep "$1"
	b=$(head -1 /proc/stat)
	echo "$a $b" | awk '{ for (i = 2; i <= 9; i++) { t += $(i + 11) - $i }
		idle = $(5 + 11) - $5 + $(6 + 11) - $6; print int(100 * (t - idle) / (t ? t : 1) + 0.5) }'
}
# Waits up to IDLE_WAIT seconds for the machine to be quiet (other sessions'
# benchmarks or tests would share the cores); prints the busy share it
# started at, which the report keeps.
quiet_wait() {
	local busy waited=0
	while :; do
		busy=$(machine_busy 2)
		[ "$busy" -le 5 ] || [ "$waited" -ge "$IDLE_WAIT" ] && break
		[ "$waited" -eq 0 ] && echo "xdp_pps: machine ${busy}% busy, waiting (IDLE_WAIT=$IDLE_WAIT)" >&2
		sleep 8
		waited=$(( waited + 10 ))
	done
	echo "$busy"
}
# One measured run of mode <1> with sink <2> on a fresh topology: a line
#   mode sink gen_pkts gen_secs gen_pps refused delivered delivered_pps
#   output output_pps dir_cpu_s dir_busy% output_per_cpu_s lost sink_cpu_s
#   dir_core_busy% dir_sleeps dir_runq_wait_s sink_sleeps machine_busy%
# where output = what the director handed on or tried to (delivered + lost).
one_run() {
	MODE=$1
	local sink=$2 a b g load
	load=$(quiet_wait)
	topo_up
	mode_up "$MODE"
	DIR_TID=$(napi_thread "$NS_D" "$D0")
	taskset -pc "$DIR_CPU" "$DIR_TID" >/dev/null
	SINK_TID=
	if [ "$sink" = xdp ]; then
		SINK_TID=$(napi_thread "$NS_S" "$S0")
		taskset -pc "$GEN_CPU" "$SINK_TID" >/dev/null
		moderate "$NS_S" "$S0"
	fi
	# warm-up: every flow twice (weir's flow entries, conntrack's)
	blast $(( FLOWS < 1000000 ? 2 * FLOWS : 1000 )) >/dev/null
	[ "$sink" = down ] && ip -n "$NS_S" link set "$S0" down
	sleep 0.3
	a=$(counters)
	g=$(blast "$PACKETS")
	sleep 0.3     # the rings drain
	b=$(counters)
	awk -v m="$MODE" -v sk="$sink" -v a="$a" -v b="$b" -v g="$g" -v hz="$HZ" -v load="$load" 'BEGIN {
		split(a, x, " "); split(b, y, " "); split(g, z, " ")
		fwd = y[2] - x[2]; refused = y[3] - x[3]; lost = y[4] - x[4]
		dcpu = (y[5] - x[5]) / 1e9; scpu = (y[6] - x[6]) / 1e9
		wall = y[1] - x[1]; busy = (y[7] - x[7]) / hz
		secs = z[4]; out = fwd + lost
		printf("%s %s %d %.3f %.0f %d %d %.0f %d %.0f %.3f %.1f %.0f %d %.3f %.1f %d %.3f %d %d\n",
			m, sk, z[2], secs, z[6], refused, fwd, fwd / secs, out, out / secs,
			dcpu, 100 * dcpu / secs, (dcpu > 0 ? out / dcpu : 0), lost, scpu,
			100 * busy / wall, y[9] - x[9], (y[10] - x[10]) / 1e9, y[11] - x[11], load)
	}'
	teardown
}

# the median of column <c> of the runs of mode <m> with sink <s>
med() {
	awk -v m="$1" -v s="$2" -v c="$3" '$1 == m && $2 == s { print $c }' "$RUNS" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'
}
has() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

mkdir -p "$(dirname "$OUT")"
RUNS=$WORK/runs
: > "$RUNS"
echo "xdp_pps: $ROUNDS rounds of: $MODES; sinks: $SINKS (GEN=$GEN PACKETS=$PACKETS FLOWS=$FLOWS LEN=$LEN)" >&2
for r in $(seq "$ROUNDS"); do
	for sink in $SINKS; do
		for m in $MODES; do
			line=$(one_run "$m" "$sink") || die "run of $m failed"
			[ -n "$line" ] || die "run of $m gave nothing"
			echo "$line" >> "$RUNS"
			echo "xdp_pps: round $r: $line" >&2
		done
	done
done

{
	echo "# XDP packets per second against nftables DNAT ($SELF)"
	echo
	echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), weir $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet HEAD -- src bpf 2>/dev/null || echo ' + working tree'), kernel $(uname -r), $(nproc) CPUs"
	echo "- command: \`$(for v in PACKETS DURATION FLOWS LEN ROUNDS GEN BATCH GEN_NICE COALESCE_NS; do printf '%s=%s ' "$v" "${!v}"; done)$SELF\`"
	echo "- generator: blaster -m $GEN on CPU $GEN_CPU (nice $GEN_NICE), at most $PACKETS packets or ${DURATION} s per run, $FLOWS flows, $LEN-byte frames; director NAPI thread alone on CPU $DIR_CPU; sink NAPI thread on CPU $GEN_CPU"
	echo
	echo "Every run (Mpps = million packets per second over the generator's time;"
	echo "output = what the director forwarded, delivered or refused by the sink's ring;"
	echo "per CPU-s = output / the director thread's CPU time):"
	echo
	echo "| mode | sink | generated Mpps | refused by d0 | delivered Mpps | output Mpps | director busy | output per director CPU-s | ns per packet | director sleeps | machine busy before |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk '{ printf "| %s | %s | %.2f | %.0f %% | %.3f | %.3f | %.0f %% | %.3fM | %.0f | %d | %d %% |\n",
		$1, $2, $5 / 1e6, $3 ? 100 * $6 / $3 : 0, $8 / 1e6, $10 / 1e6, $12, $13 / 1e6,
		$13 ? 1e9 / $13 : 0, $17, $20 }' "$RUNS"
	echo
	echo "Medians:"
	echo
	echo "| mode | sink | delivered Mpps | output Mpps | output per director CPU-s | director ns per packet |"
	echo "|---|---|---:|---:|---:|---:|"
	for sink in $SINKS; do
		for m in $MODES; do
			awk -v m="$m" -v s="$sink" -v d="$(med "$m" "$sink" 8)" -v o="$(med "$m" "$sink" 10)" \
				-v c="$(med "$m" "$sink" 13)" 'BEGIN {
				printf "| %s | %s | %.3f | %.3f | %.3fM | %.0f |\n", m, s, d / 1e6, o / 1e6, c / 1e6, c ? 1e9 / c : 0 }'
		done
	done
	echo
	if has nft "$MODES"; then
		for sink in $SINKS; do
			for m in weir-nat weir-dr; do
				has "$m" "$MODES" || continue
				awk -v m="$m" -v s="$sink" \
					-v d="$(med "$m" "$sink" 8)" -v nd="$(med nft "$sink" 8)" \
					-v o="$(med "$m" "$sink" 10)" -v no="$(med nft "$sink" 10)" \
					-v c="$(med "$m" "$sink" 13)" -v nc="$(med nft "$sink" 13)" 'BEGIN {
					r = (s == "down") ? "" : sprintf("%.2fx delivered pps, ", nd ? d / nd : 0)
					printf "- %s / nft, sink %s: %s%.2fx output pps, %.2fx per director CPU-second\n",
						m, s, r, no ? o / no : 0, nc ? c / nc : 0 }'
			done
		done
	fi
} | tee "$OUT"
