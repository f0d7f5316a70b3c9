#!/usr/bin/env bash
# Installs the Debian packages weir needs, only those missing (dpkg -s first),
# then the npm packages of package.json (package-lock.json pins them) when
# node_modules/ does not match it: uPlot, which the dashboard embeds, and
# playwright-core, which drives Debian's chromium in the browser tests.
#   scripts/deps.sh          what build, run and test need
#   scripts/deps.sh bench    also what the benchmarks compare against
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(gcc make clang libclang-rt-14-dev node-llhttp python3 python3-pytest python3-pytest-timeout curl iproute2 procps libbpf-dev bpftool libelf-dev zlib1g-dev ethtool socat bind9-dnsutils knot-dnsutils libmaxminddb-dev mmdb-bin nodejs chromium)
if [ "${1:-}" = bench ]; then
	pkgs+=(haproxy nginx-light libnginx-mod-stream dnsperf iperf3 wrk valgrind util-linux nftables gdnsd)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Debian's npm is a package of its own; some nodejs builds bring npm along
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm writes node_modules/.package-lock.json after an install: the same as
# package-lock.json's packages means nothing to do
if ! cmp -s <(node -e 'console.log(JSON.stringify(Object.keys(require("./package-lock.json").packages).filter(Boolean).sort()))' 2>/dev/null) \
	  <(node -e 'console.log(JSON.stringify(Object.keys(require("./node_modules/.package-lock.json").packages).filter(Boolean).sort()))' 2>/dev/null); then
	echo "deps: npm ci (uPlot, playwright-core)"
	npm ci --no-audit --no-fund --loglevel=error
fi
