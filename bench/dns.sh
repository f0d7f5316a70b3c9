#!/usr/bin/env bash
# bench/dns.sh - weir's DNS mode (proxy dns) against gdnsd, both
# authoritative for the same names of example.test from the same servers,
# in one run, on one machine, traffic only on loopback.
#
#   bench/dns.sh            (make bench runs it through bench/run.sh)
#
# Configs: bench/weir-dns.conf (one worker) and bench/gdnsd/ (one UDP
# thread, and the one TCP thread gdnsd must have): www.example.test and
# api.example.test from four IPv4 servers (weights 3:2:1:1) and two IPv6
# ones (2:1), no health checks. weir answers every server of the family
# asked, wrr choosing the first; gdnsd answers www with its weighted plugin
# (multi: each address with the odds weight / max weight) and api with its
# multifo plugin (every address, rotated). The server is pinned to LB_CPU
# (default 1, all its threads), dnsperf (one thread) to GEN_CPU (default
# 0). dnsperf reads a query file like what resolvers send: 65 % A and 10 %
# AAAA for www, 10 % A and 3 % AAAA for api, 8 % names that do not exist
# (NXDOMAIN, each a different name), 2 % MX for www (NODATA), 1 % SOA and
# 1 % NS at the apex; EDNS0 on every query (dnsperf -e). Two tests:
#   max    as fast as dnsperf can: -c CLIENTS sockets, -q OUTSTANDING
#          queries in flight
#   rate   the same at RATE queries/s (-Q): both servers get the same load,
#          so their CPU per query compares at the same batching
# For each: answered queries/s, the server's CPU time (utime+stime of all
# its threads, /proc/PID/stat) per answered query and its user-space
# share, the server's share of its core (near 100 %: the server was the
# limit, not dnsperf), how busy dnsperf's core was, queries lost (dnsperf)
# and dropped by the server's socket, the average response size and the
# share of NXDOMAIN answers (the two servers answer the same queries).
#
# Every run gets a fresh server in a fresh network namespace when one can
# be had (loopback only). ROUNDS rounds, the tools alternating, each round
# starting with the next tool. Before measuring, each run checks the
# server's answers with dig (A, AAAA, NXDOMAIN). The markdown report goes
# to stdout and to OUT (build/bench/dns.md), dnsperf's output to OUT with
# .log for .md.
#
# Environment: DURATION (s, default 10), ROUNDS (2), TESTS ("max rate"),
# ORDER ("weir gdnsd"), CLIENTS (100), OUTSTANDING (200), RATE (50000),
# RUNS (passes over the 10,000 queries at most, 1000), LB_CPU (1),
# GEN_CPU (0), OUT, WEIR_BUILD (directory with weir; default: make all,
# then build/rel), WEIR_REV (what the report calls that build), NO_NETNS
# (1: no network namespaces). With the defaults the whole run takes about
# 1.5 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SELF=bench/dns.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
TESTS=${TESTS:-max rate}
ORDER=${ORDER:-weir gdnsd}
CLIENTS=${CLIENTS:-100}
OUTSTANDING=${OUTSTANDING:-200}
RATE=${RATE:-50000}
RUNS=${RUNS:-1000}
LB_CPU=${LB_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT=${OUT:-build/bench/dns.md}
BIN=${WEIR_BUILD:-build/rel}
export DURATION CLIENTS OUTSTANDING RATE RUNS LB_CPU GEN_CPU BIN

# Ports: the ones in bench/weir-dns.conf and bench/gdnsd/config.
declare -A PORT=([weir]=21201 [gdnsd]=21202)

WORK=$(mktemp -d /tmp/weir-bench-dns.XXXXXX)
NAME=bench
. "$(dirname "$0")/lib.sh"

# check TOOL PORT QTYPE NAME PATTERN: dig's answer (+short, or the status
# for PATTERN "status: X") matches.
check() {
	local ans
	ans=$(dig +norec +tries=3 +time=1 -p "$2" @127.0.0.1 "$4" "$3") || true
	case $5 in
	status:*) grep -q "$5" <<<"$ans" && return 0 ;;
	*) grep -Eq "$5" <<<"$(grep -v '^;' <<<"$ans" | awk 'NF { print $NF }' | head -1)" &&
		return 0 ;;
	esac
	die "$1: $4 $3 got: $ans"
}

# --- one run, inside its own network namespace --------------------------------------
# "--one TOOL TEST": a fresh TOOL, one dnsperf run; prints "key value"
# lines on stdout.
if [ "${1:-}" = --one ]; then
	tool=$2 test=$3
	port=${PORT[$tool]}
	[ "${NO_NETNS:-0}" = 1 ] || ip link set lo up
	case $tool in
	weir)
		start server "$LB_CPU" "$BIN/weir" -c bench/weir-dns.conf --socket "$WORK/weir.sock"
		;;
	gdnsd)
		# its own run and state directories, in WORK
		cp -r bench/gdnsd "$WORK/gdnsd"
		sed -i "s|^options => {|&\n  run_dir => $WORK/gdnsd-run\n  state_dir => $WORK/gdnsd-state|" \
			"$WORK/gdnsd/config"
		start server "$LB_CPU" gdnsd -c "$WORK/gdnsd" start
		;;
	*) die "unknown tool $tool" ;;
	esac
	wait_listen "$port" server "$PID_server" udp
	check "$tool" "$port" A www.example.test '^10\.0\.0\.[1-4]$'
	check "$tool" "$port" AAAA www.example.test '^2001:db8::[12]$'
	check "$tool" "$port" A api.example.test '^10\.0\.0\.[1-4]$'
	check "$tool" "$port" A nope.example.test 'status: NXDOMAIN'

	qps=()
	[ "$test" = rate ] && qps=(-Q "$RATE")
	cpu_mark "$PID_server"
	out=$(timeout $((DURATION + 30)) taskset -c "$GEN_CPU" dnsperf -s 127.0.0.1 -p "$port" \
		-d "$QUERIES" -c "$CLIENTS" -q "$OUTSTANDING" -n "$RUNS" -l "$DURATION" -e \
		-t 1 -T 1 "${qps[@]}" 2>&1) || die "dnsperf against $tool failed: $out"
	cpu=$(cpu_since "$PID_server")
	kill -0 "$PID_server" 2>/dev/null || die "$tool died during the run"
	drops=$(tree_drops "$PID_server")
	echo "$out" >&2

	# dnsperf: "Queries sent: N", "Queries completed: N (..%)", "Response
	# codes: NOERROR N (..%), NXDOMAIN N (..%)", "Average packet size:
	# request N, response N", "Run time (s): S"
	echo "$out" | awk '
		/Queries sent:/ { sent = $3 }
		/Queries completed:/ { got = $3 }
		/Response codes:/ { for (i = 3; i < NF; i++) if ($i == "NXDOMAIN") nx = $(i + 1) }
		/Average packet size:/ { resp = $NF }
		/Run time \(s\):/ { secs = $4 }
		END {
			printf "sent %d\ngot %d\nnxdomain %d\nrespsize %d\nsecs %s\n",
				sent, got, nx, resp, secs + 0
		}'
	echo "drops $drops"
	echo "$cpu"
	exit 0
fi
# (an expansion error in the block above ends it, not the script)
[ "${1:-}" != --one ] || die "the --one run stopped early"

# --- the machine -------------------------------------------------------------
bench_deps
if [ -z "${WEIR_BUILD:-}" ]; then make -s all >/dev/null; fi
gdnsd -c bench/gdnsd checkconf >"$WORK/checkconf.log" 2>&1 ||
	{ cat "$WORK/checkconf.log" >&2; die "gdnsd does not take bench/gdnsd"; }
export QUERIES=$WORK/queries   # dnsperf's input, 10,000 queries
awk 'BEGIN {
	for (i = 0; i < 10000; i++) {
		k = i % 100
		if (k < 65) q = "www.example.test A"
		else if (k < 75) q = "www.example.test AAAA"
		else if (k < 85) q = "api.example.test A"
		else if (k < 88) q = "api.example.test AAAA"
		else if (k < 96) q = "host" i ".example.test A"
		else if (k < 98) q = "www.example.test MX"
		else if (k < 99) q = "example.test SOA"
		else q = "example.test NS"
		print q
	}
}' >"$QUERIES"
RES=$WORK/results          # "key value" lines, turned into the report at the end
: >"$RES"
mkdir -p "$(dirname "$OUT")"
LOG=${OUT%.md}.log         # every run's dnsperf output
: >"$LOG"
put() { echo "$1 $2" >>"$RES"; }

[ "$(nproc)" -ge 2 ] || die "needs 2 cores (server and dnsperf on different cores)"
run_rounds "${PORT[@]}"

# --- report ----------------------------------------------------------------------
python3 - "$RES" "$ORDER" "$TESTS" "$DURATION" "$(getconf CLK_TCK)" "$(weir_rev)" \
	"$(dpkg-query -W -f '${Version}' gdnsd 2>/dev/null)" \
	"$(dnsperf -h 2>&1 | awk '/^Version/ { print $2; exit }')" <<'EOF' | tee "$OUT"
import datetime, os, sys

res = {}
for line in open(sys.argv[1]):
    k, v = line.split(None, 1)
    res[k] = v.strip()
order, tests, dur, hz, rev, gdnsd_v, dnsperf_v = sys.argv[2:9]
order, tests, hz = order.split(), tests.split(), int(hz)
rounds = int(res["rounds"])
tools = tuple(t for t in ("weir", "gdnsd") if t in order)
env = os.environ.get

def per_round(what, t, x):
    return [float(res[f"{what}_{t}_{x}_{r}"]) for r in range(1, rounds + 1)]

def total(what, t, x):
    return sum(per_round(what, t, x))

def pct(what, of):
    return lambda t, x: total(what, t, x) / total(of, t, x) * 100 if total(of, t, x) else 0.0

metrics = [  # name, function, format, better
    ("answered queries/s", lambda t, x: total("got", t, x) / total("secs", t, x), "{:.0f}",
     "higher"),
    ("server CPU per query, µs", lambda t, x: total("ticks", t, x) / hz * 1e6 / total("got", t, x),
     "{:.2f}", "lower"),
    ("… of which user space, µs",
     lambda t, x: total("uticks", t, x) / hz * 1e6 / total("got", t, x), "{:.2f}", "lower"),
    ("server's share of its core, %",
     lambda t, x: total("ticks", t, x) / hz / (total("ns", t, x) / 1e9) * 100, "{:.0f}",
     "(context)"),
    ("server's core busy, all processes on it, %",
     lambda t, x: total("lbcore", t, x) / rounds / 10, "{:.0f}", "(context)"),
    ("dnsperf's core busy, %", lambda t, x: total("gencore", t, x) / rounds / 10, "{:.0f}",
     "(context)"),
    ("queries lost (dnsperf), %",
     lambda t, x: (total("sent", t, x) - total("got", t, x)) / total("sent", t, x) * 100,
     "{:.2f}", "(context)"),
    ("dropped by the server's socket, % of sent", pct("drops", "sent"), "{:.2f}", "(context)"),
    ("average response, bytes", lambda t, x: total("respsize", t, x) / rounds, "{:.0f}",
     "(context)"),
    ("NXDOMAIN answers, %", pct("nxdomain", "got"), "{:.1f}", "(context)"),
]
title = {"max": "(a) as fast as dnsperf can", "rate": f"(b) at {env('RATE')} queries/s"}
base = (f"dnsperf -s 127.0.0.1 -p PORT -d QUERIES -c {env('CLIENTS')} -q {env('OUTSTANDING')} "
        f"-n {env('RUNS')} -l {dur} -e -t 1 -T 1")
cmd = {"max": base, "rate": base + f" -Q {env('RATE')}"}

print(f"### Run of {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} "
      f"(weir {rev}, order: {' '.join(order)}, rotated each round)\n")
print(f"gdnsd {gdnsd_v}, dnsperf {dnsperf_v}; kernel {os.uname().release}, "
      f"{os.cpu_count()} cores; {rounds} rounds of {dur} s per tool and test, a fresh server "
      f"per run, runs in: {res['netns']}; server on CPU {env('LB_CPU')}, dnsperf on CPU "
      f"{env('GEN_CPU')}; other processes used {res['other_load']}% of the machine during the "
      f"run (more than a few percent makes the numbers meaningless). Queries: 65 % www A, "
      f"10 % www AAAA, 10 % api A, 3 % api AAAA, 8 % NXDOMAIN, 2 % www MX (NODATA), "
      f"1 % SOA, 1 % NS; EDNS0.\n")
verdicts = []
for x in tests:
    print(f"#### {title[x]}: `{cmd[x]}`\n")
    print("| metric | " + " | ".join(tools) + " | weir / gdnsd | better |")
    print("|---|" + "---:|" * len(tools) + "---:|---|")
    for name, fn, fmt, better in metrics:
        v = {t: fn(t, x) for t in tools}
        ratio = v["weir"] / v["gdnsd"] if len(v) == 2 and v["gdnsd"] else float("nan")
        print(f"| {name} | " + " | ".join(fmt.format(v[t]) for t in tools) +
              f" | {ratio:.2f} | {better} |")
    print()
    for t in tools:
        cpu = [k / hz * 1e6 / g if g else float("nan") for k, g in
               zip(per_round("ticks", t, x), per_round("got", t, x))]
        qps = [g / s for g, s in zip(per_round("got", t, x), per_round("secs", t, x))]
        print(f"- {t}, per round: queries/s {', '.join(f'{v:.0f}' for v in qps)}; "
              f"CPU µs/query {', '.join(f'{v:.2f}' for v in cpu)}; server's core share % "
              + ", ".join(f"{k / hz / (n / 1e9) * 100:.0f}" for k, n in
                          zip(per_round("ticks", t, x), per_round("ns", t, x))))
    print()
    if len(tools) == 2:
        cpu = metrics[1][1]("weir", x) / metrics[1][1]("gdnsd", x)
        share = metrics[3][1]("weir", x)
        drops = metrics[7][1]("weir", x)
        limit = ("dnsperf was the limit" if share < 90 and drops < 1 else
                 "weir was the limit")
        verdicts.append(f"- {title[x]}: weir's CPU per query is {cpu:.2f}x gdnsd's "
                        f"(target 0.50 or less: {'met' if cpu <= 0.5 else 'missed'}); weir used "
                        f"{share:.0f}% of its core and its socket dropped {drops:.2f}% of the "
                        f"queries ({limit})")
if verdicts:
    print("Targets (issue 13: weir's CPU per query at 0.5x gdnsd's or better, and dnsperf, not "
          "weir, the limit: weir below 90% of its core and its socket dropping less than 1% of "
          "the queries):\n")
    print("\n".join(verdicts))
EOF
