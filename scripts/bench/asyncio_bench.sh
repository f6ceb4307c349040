#!/bin/sh
# Runs the asyncio benchmark under cthreads and under python3 in one go and
# prints both figures per workload with the ratio (python3 / cthreads: how
# many times faster cthreads is).
#   scripts/bench/asyncio_bench.sh [rounds=3] [scale=1]
# CTHREADS_BIN picks the binary (default build/cthreads). The GIL is on
# (the loop is single-threaded; the mode hardly matters).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
rounds=${1:-3}
scale=${2:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }
CTHREADS_GIL=1 "$bin" "$here/asyncio_bench.lua" "$rounds" "$scale" >"$tmp/lua"
python3 "$here/asyncio_bench.py" "$rounds" "$scale" >"$tmp/py"

echo "asyncio benchmark: best of $rounds, scale $scale ($(python3 -V 2>&1))"
awk 'NR == FNR { py[$1] = $2; next }
     FNR == 1 { printf "%-16s %14s %14s %8s  %s\n", "workload", "cthreads", "python3", "ratio", "unit" }
     { r = ($2 > 0) ? py[$1] / $2 : 0
       printf "%-16s %14.1f %14.1f %7.2fx  %s\n", $1, $2, py[$1], r, $3 }' \
    "$tmp/py" "$tmp/lua"
