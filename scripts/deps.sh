#!/usr/bin/env bash
# Installs the Debian packages weir needs, only those missing (dpkg -s first).
#   scripts/deps.sh          what build, run and test need
#   scripts/deps.sh bench    also what the benchmarks compare against
set -euo pipefail

pkgs=(gcc make clang libclang-rt-14-dev node-llhttp python3 python3-pytest python3-pytest-timeout curl iproute2 procps libbpf-dev bpftool libelf-dev zlib1g-dev ethtool socat bind9-dnsutils knot-dnsutils libmaxminddb-dev mmdb-bin)
if [ "${1:-}" = bench ]; then
	pkgs+=(haproxy nginx-light libnginx-mod-stream dnsperf iperf3 wrk valgrind util-linux nftables gdnsd)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
