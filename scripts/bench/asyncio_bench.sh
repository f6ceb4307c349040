#!/bin/sh
# Runs the asyncio benchmark under cthreads and under python3 in one go and
# prints both figures per workload with the ratio (python3 / cthreads: how
# many times faster cthreads is), for CPU time (user + system of the
# process: not skewed by other load on the machine) and for wall-clock time.
#   scripts/bench/asyncio_bench.sh [rounds=3] [scale=1]
# CTHREADS_BIN picks the binary (default build/cthreads). The GIL is on
# (the loop is single-threaded; the mode hardly matters).
# Last, echo_floor.c (built here with $CC, default cc) makes the echo round
# trip's system calls with no event loop at all: python3's figure over that
# floor is the largest echo ratio any loop could show on this machine.
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

echo "asyncio benchmark: best of $rounds, scale $scale ($(python3 -V 2>&1)), per operation"
awk 'NR == FNR { pc[$1] = $2; pw[$1] = $3; next }
     FNR == 1 { printf "%-15s %-13s %10s %10s %7s   %10s %10s %7s\n", "workload", "unit",
                "cpu:lua", "python3", "ratio", "wall:lua", "python3", "ratio" }
     { rc = ($2 > 0) ? pc[$1] / $2 : 0; rw = ($3 > 0) ? pw[$1] / $3 : 0
       printf "%-15s %-13s %10.1f %10.1f %6.2fx   %10.1f %10.1f %6.2fx\n",
              $1, $4, $2, pc[$1], rc, $3, pw[$1], rw }' \
    "$tmp/py" "$tmp/lua"

if ${CC:-cc} -O2 -o "$tmp/echo_floor" "$here/echo_floor.c" 2>"$tmp/cc.err"; then
  "$tmp/echo_floor" "$rounds" "$scale" >"$tmp/floor"
  awk 'NR == FNR { if ($1 == "echo_rtt") { pc = $2; pw = $3 } next }
       { printf "echo floor (C, same system calls, no loop): %.1f us CPU, %.1f us wall;\n", $2, $3
         printf "  python3 echo_rtt / floor = %.2fx CPU, %.2fx wall: the most any loop could show here\n",
                pc / $2, pw / $3 }' "$tmp/py" "$tmp/floor"
else
  echo "echo floor: not measured (${CC:-cc} could not build echo_floor.c: $(head -1 "$tmp/cc.err"))"
fi
