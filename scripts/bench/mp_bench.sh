#!/bin/sh
# mp_bench.sh [scale]: runs the multiprocessing benchmarks under cthreads and
# python3 in one go and prints them side by side with the ratio (how many
# times better cthreads is; > 1 means cthreads wins).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${CTHREADS_BIN:-$here/../../build/cthreads}
scale=${1:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" "$here/mp_bench.lua" "$scale" >"$tmp/ct"
if command -v python3 >/dev/null 2>&1; then
  python3 "$here/mp_bench.py" "$scale" >"$tmp/py"
else
  : >"$tmp/py"
fi
awk -F '\t' '
  NR == FNR { py[$1] = $2; next }
  BEGIN { printf "%-32s %14s %14s %-8s %8s\n", "benchmark", "cthreads", "python3", "unit", "ratio" }
  {
    r = "-"
    if (($1 in py) && py[$1] > 0 && $2 > 0)
      r = sprintf("%.2fx", ($4 == "higher") ? $2 / py[$1] : py[$1] / $2)
    printf "%-32s %14.6g %14s %-8s %8s\n", $1, $2, (($1 in py) ? sprintf("%.6g", py[$1]) : "-"), $3, r
  }' "$tmp/py" "$tmp/ct"
echo "(ratio: how many times better cthreads is than python3; the CPU demo"
echo " row is the time of two processes over one call: about 1 on two free cores)"
