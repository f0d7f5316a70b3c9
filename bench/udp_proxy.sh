#!/usr/bin/env bash
# bench/udp_proxy.sh - weir's UDP proxy (proxy udp) against nginx's stream
# UDP proxy, in one run, on one machine, traffic only on 127.0.0.1.
#
#   bench/udp_proxy.sh            (make bench runs it through bench/run.sh)
#
# Both balancers run with one worker (weir "workers 1", nginx
# "worker_processes 1") pinned to the same core (LB_CPU, default 1); the load
# generator and the backends (tests/tools/dgram_echo.c, one worker each) are
# pinned to the other (GEN_CPU, default 0). Configs: bench/weir-udp.conf,
# bench/nginx-udp.conf: the same two services. Three tests:
#   dns    many short DNS-like exchanges from many source ports: dnsperf
#          -c DNS_CLIENTS (one socket, so one source port, each) -q
#          DNS_OUTSTANDING -l DURATION -n DNS_RUNS through the proxy to two
#          dgram-echo --dns, round robin; the session of a query ends with
#          its answer (weir "responses 1", nginx "proxy_responses 1"), so
#          nearly every query starts a session of its own
#   flows  a few long flows (QUIC-like): bench/udp_blast.c, FLOWS sockets
#          sending FLOW_LEN-byte datagrams with sendmmsg (at most
#          FLOW_PACKETS, FLOW_RATE per second, 0 = as fast as it can, for
#          DURATION s) through the proxy to one dgram-echo --sink. Open
#          loop: what the proxy cannot read in time is dropped by the
#          kernel (counted, below)
#   echo   the same flows to a dgram-echo echo server, the blaster reading
#          the echoes with at most FLOW_WINDOW datagrams unanswered (a
#          congestion window): both directions through the proxy, closed
#          loop
# The blaster runs at nice GEN_NICE, so that the backend on its core gets
# the CPU it needs when it has datagrams to read (at nice 0 a sink starved
# behind a blaster that never sleeps drops most of what the proxy sent).
# For each: datagrams per second through the proxy (dns: queries that
# reached a backend plus answers that reached dnsperf; flows: what reached
# the sink; echo: what reached the echo server plus echoes back), the
# proxy's CPU time (utime+stime from /proc/PID/stat, nginx's master and
# worker) per datagram and its user-space share, the proxy's share of its
# core (near 100 %: the proxy was the limit, not the generator), how busy
# the generator's core was (all of it, from /proc/stat) and the datagrams
# lost on the way.
#
# Every run gets fresh processes (backends and one balancer) in a fresh
# network namespace when one can be had (loopback only, nothing else on
# its ports). ROUNDS rounds, the tools alternating, each round starting
# with the next tool. Before measuring, each run checks that the proxy
# forwards (dns: a dig query answered; echo: a datagram echoed). The
# markdown report goes to stdout and to OUT (build/bench/udp_proxy.md),
# every run's generator output to OUT with .log for .md.
#
# Environment: DURATION (s, default 10), ROUNDS (2), TESTS ("dns flows
# echo"), ORDER ("weir nginx"), DNS_CLIENTS (1000), DNS_OUTSTANDING (200),
# DNS_RUNS (1000 passes over 10,000 names at most), FLOWS (4), FLOW_LEN
# (1200), FLOW_PACKETS (50,000,000), FLOW_RATE (0), FLOW_WINDOW (256),
# GEN_NICE (10), LB_CPU (1), GEN_CPU (0),
# OUT, WEIR_BUILD (directory with weir and dgram-echo; default: make all,
# then build/rel), WEIR_REV (what the report calls that build), NO_NETNS
# (1: no network namespaces). With the defaults the whole run takes about
# 2.5 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SELF=bench/udp_proxy.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
TESTS=${TESTS:-dns flows echo}
ORDER=${ORDER:-weir nginx}
DNS_CLIENTS=${DNS_CLIENTS:-1000}
DNS_OUTSTANDING=${DNS_OUTSTANDING:-200}
DNS_RUNS=${DNS_RUNS:-1000}
FLOWS=${FLOWS:-4}
FLOW_LEN=${FLOW_LEN:-1200}
FLOW_PACKETS=${FLOW_PACKETS:-50000000}
FLOW_RATE=${FLOW_RATE:-0}
FLOW_WINDOW=${FLOW_WINDOW:-256}
GEN_NICE=${GEN_NICE:-10}
LB_CPU=${LB_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT=${OUT:-build/bench/udp_proxy.md}
BIN=${WEIR_BUILD:-build/rel}
BLAST=build/rel/udp-blast
export DURATION DNS_CLIENTS DNS_OUTSTANDING DNS_RUNS FLOWS FLOW_LEN FLOW_PACKETS FLOW_RATE
export FLOW_WINDOW GEN_NICE LB_CPU GEN_CPU BIN

# Ports: the same in both configs.
P_DNS1=21081 P_DNS2=21082 P_FLOW=21083
declare -A P_PROXY_DNS=([weir]=21001 [nginx]=21101)
declare -A P_PROXY_FLOW=([weir]=21002 [nginx]=21102)
ALL_PORTS="$P_DNS1 $P_DNS2 $P_FLOW 21001 21002 21101 21102"

WORK=$(mktemp -d /tmp/weir-bench-udp.XXXXXX)
NAME=bench
. "$(dirname "$0")/lib.sh"

# backend NAME PORT MODE...: a dgram-echo on GEN_CPU, waiting for its "ready".
backend() {
	local name=$1 port=$2
	shift 2
	start "$name" "$GEN_CPU" "$BIN/dgram-echo" "127.0.0.1:$port" --workers 1 "$@"
	local pid_var=PID_$name
	for _ in $(seq 50); do
		grep -q '^ready' "$WORK/$name.log" 2>/dev/null && return 0
		kill -0 "${!pid_var}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$WORK/$name.log" >&2
	die "backend $name did not start"
}

# backend_stop NAME: stops the backend and adds the datagrams it received
# to RX and those it answered to TX.
backend_stop() {
	local pid_var=PID_$1 rx tx
	kill -TERM "${!pid_var}"
	wait "${!pid_var}" || die "backend $1 failed"
	read -r rx tx < <(awk '$1 == "rx" { print $2, $10 }' "$WORK/$1.log")
	[ -n "$tx" ] || die "backend $1 printed no counts"
	RX=$((RX + rx)) TX=$((TX + tx))
}

# --- one run, inside its own network namespace ------------------------------------
# "--one TOOL TEST": fresh backends and a fresh TOOL, one generator run;
# prints "key value" lines on stdout.
if [ "${1:-}" = --one ]; then
	tool=$2 test=$3
	[ "${NO_NETNS:-0}" = 1 ] || ip link set lo up
	case $test in
	dns)
		port=${P_PROXY_DNS[$tool]}
		backend b1 $P_DNS1 --dns
		backend b2 $P_DNS2 --dns
		;;
	flows) port=${P_PROXY_FLOW[$tool]}; backend b1 $P_FLOW --sink ;;
	echo) port=${P_PROXY_FLOW[$tool]}; backend b1 $P_FLOW ;;
	*) die "unknown test $test" ;;
	esac
	case $tool in
	weir)
		start proxy "$LB_CPU" "$BIN/weir" -c bench/weir-udp.conf --socket "$WORK/weir.sock"
		;;
	nginx)
		chmod 711 "$WORK"
		mkdir -p "$WORK/nginx"
		start proxy "$LB_CPU" nginx -p "$WORK/nginx/" -e stderr -c "$ROOT/bench/nginx-udp.conf" \
			-g 'daemon off; master_process on;'
		;;
	*) die "unknown tool $tool" ;;
	esac
	wait_listen "$port" proxy "$PID_proxy" udp
	# nginx's worker too, so that it is stopped even if its master is killed
	PIDS+=($(pgrep -P "$PID_proxy" || true))

	# through the proxy once before measuring; these datagrams are taken
	# off the counts below
	checked=0
	if [ "$test" = dns ]; then
		ans=$(dig +short +tries=3 +time=1 -p "$port" @127.0.0.1 check.example A) || true
		[ "$ans" = 127.0.0.1 ] || die "$tool: a DNS query through the proxy got '$ans'"
		checked=1
	elif [ "$test" = echo ]; then
		chk=$("$BLAST" "127.0.0.1:$port" -f 1 -n 1 -T 1 -l "$FLOW_LEN" -e)
		[ "$(awk '{ print $4 }' <<<"$chk")" = 1 ] || die "$tool: no echo through the proxy: $chk"
		checked=1
	fi

	cpu_mark "$PID_proxy"
	if [ "$test" = dns ]; then
		out=$(timeout $((DURATION + 30)) taskset -c "$GEN_CPU" dnsperf -s 127.0.0.1 -p "$port" \
			-d "$QUERIES" -c "$DNS_CLIENTS" -q "$DNS_OUTSTANDING" -n "$DNS_RUNS" \
			-l "$DURATION" -t 1 -T 1 2>&1) || die "dnsperf through $tool failed: $out"
	else
		flag=()
		[ "$test" = echo ] && flag=(-e -w "$FLOW_WINDOW")
		out=$(timeout $((DURATION + 30)) taskset -c "$GEN_CPU" nice -n "$GEN_NICE" \
			"$BLAST" "127.0.0.1:$port" \
			-f "$FLOWS" -l "$FLOW_LEN" -n "$FLOW_PACKETS" -T "$DURATION" -r "$FLOW_RATE" \
			"${flag[@]}") || die "udp-blast through $tool failed: $out"
	fi
	cpu=$(cpu_since "$PID_proxy")
	kill -0 "$PID_proxy" 2>/dev/null || die "$tool died during the run"
	bdrops=$(port_drops $P_DNS1 $P_DNS2 $P_FLOW)
	pdrops=$(tree_drops "$PID_proxy")
	RX=0 TX=0
	for bk in b1 b2; do
		pv=PID_$bk
		[ -z "${!pv:-}" ] || backend_stop $bk
	done
	echo "$out" >&2

	# in: datagrams that reached a backend's socket (read or dropped there);
	# out: those that reached the client's (dnsperf: answers it read);
	# offered: what was sent to the proxy (generator and backends)
	if [ "$test" = dns ]; then
		# dnsperf: "Queries sent: N", "Queries completed: N (..%)", "Run time (s): S"
		read -r sent got secs < <(echo "$out" | awk '
			/Queries sent:/ { sent = $3 }
			/Queries completed:/ { got = $3 }
			/Run time \(s\):/ { secs = $4 }
			END { print sent + 0, got + 0, secs + 0 }')
		cdrops=0 exch=$got
	else
		# udp-blast: "sent N received N seconds S pps P errors N rxdrops N"
		read -r sent got secs cdrops < <(awk '{ print $2, $4, $6, $12 }' <<<"$out")
		exch=0
	fi
	[ "$sent" -gt 0 ] || die "$tool: the generator sent nothing: $out"
	printf 'sent %d\nin %d\nout %d\noffered %d\nexchanges %d\nsecs %s\n' "$sent" \
		$((RX + bdrops - checked)) $((got + cdrops)) $((sent + TX - checked)) "$exch" "$secs"
	printf 'pdrops %d\nrdrops %d\n' "$pdrops" $((bdrops + cdrops))
	echo "$cpu"
	exit 0
fi
# (an expansion error in the block above ends it, not the script)
[ "${1:-}" != --one ] || die "the --one run stopped early"

# --- the machine -------------------------------------------------------------
bench_deps
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || die "nginx's stream module is missing"
if [ -z "${WEIR_BUILD:-}" ]; then make -s all >/dev/null; fi
make -s "$BLAST"
export QUERIES=$WORK/queries   # dnsperf's input: 10,000 names, A queries
for i in $(seq 10000); do echo "host$i.example.com A"; done >"$QUERIES"
RES=$WORK/results          # "key value" lines, turned into the report at the end
: >"$RES"
mkdir -p "$(dirname "$OUT")"
LOG=${OUT%.md}.log         # every run's generator output
: >"$LOG"
put() { echo "$1 $2" >>"$RES"; }

[ "$(nproc)" -ge 2 ] || die "needs 2 cores (balancer and load on different cores)"
run_rounds $ALL_PORTS

# --- report ----------------------------------------------------------------------
python3 - "$RES" "$ORDER" "$TESTS" "$DURATION" "$(getconf CLK_TCK)" "$(weir_rev)" \
	"$(nginx -v 2>&1 | head -1 | sed 's/.*nginx\///')" \
	"$(dnsperf -h 2>&1 | awk '/^Version/ { print $2; exit }')" <<'EOF' | tee "$OUT"
import datetime, os, sys

res = {}
for line in open(sys.argv[1]):
    k, v = line.split(None, 1)
    res[k] = v.strip()
order, tests, dur, hz, rev, ngx_v, dnsperf_v = sys.argv[2:9]
order, tests, hz = order.split(), tests.split(), int(hz)
rounds = int(res["rounds"])
tools = tuple(t for t in ("weir", "nginx") if t in order)
label = {"weir": "weir", "nginx": "nginx"}
env = os.environ.get

def per_round(what, t, x):
    return [float(res[f"{what}_{t}_{x}_{r}"]) for r in range(1, rounds + 1)]

def total(what, t, x):
    return sum(per_round(what, t, x))

def dgrams(t, x):
    return total("in", t, x) + total("out", t, x)

def pct(what, of):
    return lambda t, x: total(what, t, x) / of(t, x) * 100 if of(t, x) else float("nan")

metrics = [  # name, function, format, better
    ("datagrams/s through the proxy", lambda t, x: dgrams(t, x) / total("secs", t, x),
     "{:.0f}", "higher"),
    ("proxy CPU per datagram, µs", lambda t, x: total("ticks", t, x) / hz * 1e6 / dgrams(t, x),
     "{:.2f}", "lower"),
    ("… of which user space, µs", lambda t, x: total("uticks", t, x) / hz * 1e6 / dgrams(t, x),
     "{:.2f}", "lower"),
    ("proxy's share of its core, %",
     lambda t, x: total("ticks", t, x) / hz / (total("ns", t, x) / 1e9) * 100, "{:.0f}", "(context)"),
    ("proxy's core busy, all processes on it, %",
     lambda t, x: total("lbcore", t, x) / rounds / 10, "{:.0f}", "(context)"),
    ("generator's core busy, %", lambda t, x: total("gencore", t, x) / rounds / 10,
     "{:.0f}", "(context)"),
    ("dropped by the proxy's sockets (not read in time), % of offered",
     pct("pdrops", lambda t, x: total("offered", t, x)), "{:.1f}", "(context)"),
    ("dropped by the receivers' sockets, % of forwarded", pct("rdrops", dgrams), "{:.1f}",
     "(context)"),
]
title = {"dns": "(a) DNS-like exchanges from many source ports",
         "flows": "(b) a few long flows of 1,200-byte datagrams, one way",
         "echo": "(b') the same flows echoed back, a window of datagrams in flight"}
flow_cmd = (f"nice -n {env('GEN_NICE')} udp-blast 127.0.0.1:PORT -f {env('FLOWS')} "
            f"-l {env('FLOW_LEN')} -n {env('FLOW_PACKETS')} -T {dur} -r {env('FLOW_RATE')}")
cmd = {"dns": f"dnsperf -s 127.0.0.1 -p PORT -d QUERIES -c {env('DNS_CLIENTS')} "
              f"-q {env('DNS_OUTSTANDING')} -n {env('DNS_RUNS')} -l {dur} -t 1 -T 1",
       "flows": flow_cmd + " (to dgram-echo --sink)",
       "echo": flow_cmd + f" -e -w {env('FLOW_WINDOW')} (to dgram-echo)"}

print(f"### Run of {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} "
      f"(weir {rev}, order: {' '.join(order)}, rotated each round)\n")
print(f"nginx {ngx_v} (stream module), dnsperf {dnsperf_v}; kernel {os.uname().release}, "
      f"{os.cpu_count()} cores; {rounds} rounds of {dur} s per tool and test, fresh "
      f"processes per run, runs in: {res['netns']}; proxy on CPU {env('LB_CPU')}, "
      f"generator and backends on CPU {env('GEN_CPU')}; other processes used "
      f"{res['other_load']}% of the machine during the run (more than a few percent "
      f"makes the numbers meaningless).\n")
verdicts = []
for x in tests:
    print(f"#### {title[x]}: `{cmd[x]}`\n")
    print("| metric | " + " | ".join(label[t] for t in tools) + " | weir / nginx | better |")
    print("|---|" + "---:|" * len(tools) + "---:|---|")
    for name, fn, fmt, better in metrics:
        v = {t: fn(t, x) for t in tools}
        ratio = v["weir"] / v["nginx"] if len(v) == 2 and v["nginx"] else float("nan")
        print(f"| {name} | " + " | ".join(fmt.format(v[t]) for t in tools) +
              f" | {ratio:.2f} | {better} |")
    print()
    for t in tools:
        cpu = [k / hz * 1e6 / (i + o) if i + o else float("nan") for k, i, o in
               zip(per_round("ticks", t, x), per_round("in", t, x), per_round("out", t, x))]
        dps = [(i + o) / s for i, o, s in
               zip(per_round("in", t, x), per_round("out", t, x), per_round("secs", t, x))]
        extra = ""
        if x == "dns":
            extra = "; answered queries/s " + ", ".join(
                f"{e / s:.0f}" for e, s in zip(per_round("exchanges", t, x), per_round("secs", t, x)))
        print(f"- {label[t]}, per round: datagrams/s {', '.join(f'{v:.0f}' for v in dps)}; "
              f"CPU µs/datagram {', '.join(f'{v:.2f}' for v in cpu)}; proxy's core share % "
              + ", ".join(f"{k / hz / (n / 1e9) * 100:.0f}" for k, n in
                          zip(per_round("ticks", t, x), per_round("ns", t, x))) + extra)
    print()
    if len(tools) == 2:
        cpu = metrics[1][1]("weir", x) / metrics[1][1]("nginx", x)
        share = metrics[3][1]("weir", x)
        drops = metrics[6][1]("weir", x)
        limit = ("not the limit" if share < 90 and drops < 1 else
                 "saturated: weir was the limit")
        verdicts.append(f"- {title[x]}: weir's CPU per datagram is {cpu:.2f}x nginx's "
                        f"(target 0.50 or less: {'met' if cpu <= 0.5 else 'missed'}); weir used "
                        f"{share:.0f}% of its core and its sockets dropped {drops:.1f}% of what "
                        f"was sent to it ({limit})")
if verdicts:
    print("Targets (issue 12: weir's CPU per datagram at 0.5x nginx's or better, and the load "
          "generator, not weir, the limit: weir below 90% of its core and its sockets dropping "
          "less than 1% of what was sent to it):\n")
    print("\n".join(verdicts))
EOF
