#!/bin/sh
# Queue and synchronisation benchmarks: cthreads (GIL on, and GIL off when
# this build supports it) against python3 on the same workloads, in one
# run, with the ratios. "x faster" is how many times better cthreads --gil
# does than python3 (items/s: higher is better; us/round-trip: lower).
#   scripts/bench/queue.sh [scale]     (scale 1: about 10 s in all; 0.2 quick)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
scale=${1:-1}
[ -x "$bin" ] || { echo "no $bin: run scripts/build.sh first" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$bin" --gil "$top/scripts/bench/queue_bench.lua" "$scale" >"$out/gil"
if "$bin" --no-gil -e '' 2>/dev/null; then
  "$bin" --no-gil "$top/scripts/bench/queue_bench.lua" "$scale" >"$out/nogil"
else
  : >"$out/nogil"
fi
if command -v python3 >/dev/null 2>&1; then
  python3 "$top/scripts/bench/queue_bench.py" "$scale" >"$out/py"
else
  : >"$out/py"
fi

awk -F'\t' '
  FILENAME ~ /nogil$/ { nogil[$1] = $2; next }
  FILENAME ~ /gil$/   { order[++n] = $1; gil[$1] = $2; unit[$1] = $3; next }
  FILENAME ~ /py$/    { py[$1] = $2; next }
  function fmt(v) { return v == "" ? "-" : sprintf("%.4g", v) }
  END {
    printf "%-30s %-15s %12s %12s %12s %10s\n", "benchmark", "unit", "cthreads --gil", "--no-gil", "python3", "x faster"
    for (i = 1; i <= n; i++) {
      k = order[i]; r = "-"
      if (py[k] != "" && gil[k] > 0 && py[k] > 0)
        r = sprintf("%.2f", unit[k] ~ /^us/ ? py[k] / gil[k] : gil[k] / py[k])
      printf "%-30s %-15s %14s %12s %12s %10s\n", k, unit[k], fmt(gil[k]), fmt(nogil[k]), fmt(py[k]), r
    }
  }' "$out/nogil" "$out/gil" "$out/py"
