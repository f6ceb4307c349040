#!/bin/sh
# Side-by-side comparison of cthreads builds on the queue benchmarks, for
# a machine whose speed drifts between runs: the builds (and both GIL
# modes) take turns, round after round, and each figure is reported as
# min / median / max over the rounds.
#   scripts/bench/queue_ab.sh [-r rounds] [-s scale] [-b names] BIN...
# names: comma-separated benchmark names of queue_bench.lua (default all).
# AB_WRAP="chrt -f 1" runs each under that command (real-time priority
# keeps a background load from preempting the threads between hand-offs).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
rounds=5 scale=0.3 names=
while getopts r:s:b: o; do
  case $o in
    r) rounds=$OPTARG ;;
    s) scale=$OPTARG ;;
    b) names=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-r rounds] [-s scale] [-b names] BIN..." >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ $i -lt "$rounds" ]; do
  i=$((i + 1))
  for bin in "$@"; do
    for mode in --gil --no-gil; do
      ${AB_WRAP:-} "$bin" $mode "$top/scripts/bench/queue_bench.lua" "$scale" $names |
        sed "s|^|$bin	$mode	|" >>"$out"
    done
  done
done
# bin mode name value unit -> one line per (name, mode, bin)
sort -t'	' -k3,3 -k2,2 -k1,1 -k4,4g "$out" | awk -F'\t' '
  function flush() {
    if (n == 0) return
    printf "%-28s %-8s %-36s %9.4g %9.4g %9.4g  %s\n", name, mode, bin,
           v[1], v[int((n + 1) / 2)], v[n], unit
    n = 0
  }
  { key = $3 FS $2 FS $1
    if (key != last) { flush(); last = key; name = $3; mode = $2; bin = $1; unit = $5 }
    v[++n] = $4 }
  BEGIN { printf "%-28s %-8s %-36s %9s %9s %9s\n", "benchmark", "mode", "build", "min", "median", "max" }
  END { flush() }'
