#!/bin/sh
# sched.sh - builds bench/sched_bench.c against src/sched with gcc -O2 and
# runs it: ns per scheduling decision for every algorithm at 2, 100 and
# 10,000 servers, and the Maglev table build time. Results: RESULTS-sched.md.
set -eu
cd "$(dirname "$0")/.."
out=${BUILD:-build}/bench
mkdir -p "$out"
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
    -Isrc -o "$out/sched_bench" bench/sched_bench.c src/sched/*.c -lm
echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) cores, $(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"
"$out/sched_bench"
