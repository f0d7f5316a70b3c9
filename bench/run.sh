#!/usr/bin/env bash
# bench/run.sh - every benchmark in bench/, one after the other (make bench).
# Each prints a markdown report; bench/RESULTS.md keeps the ones we quote.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/tcp_proxy.sh
bench/http_proxy.sh
# weir's UDP proxy against nginx's stream UDP proxy (dnsperf, bench/udp_blast.c)
bench/udp_proxy.sh
# weir's DNS mode (socket and XDP) against gdnsd, the same names and servers (dnsperf;
# root: two network namespaces joined by a veth pair of its own)
bench/dns.sh
# browser-like heads, static files of 300 B-48 KB from two nginx, 50-5000 clients
bench/http_realistic.sh
bench/sched.sh
# ns per packet of the XDP data path (root: BPF_PROG_TEST_RUN in a network
# namespace of its own; built by `make bench`)
build/rel/xdp-cost
# packets per second through one director core: weir's XDP NAT/DR against
# nftables DNAT (root: network namespaces of its own)
bench/xdp_pps.sh
