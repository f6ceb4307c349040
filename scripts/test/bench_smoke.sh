#!/bin/sh
# The benchmark programs still run and agree (no timing is checked): each
# speed/ program on a tiny input prints the same checksum under cthreads and
# the stock lua5.4, and the thread, lock and GIL programs print their
# figures. Skipped without lua5.4 (python3's twins: only when present).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
lua=${LUA:-/usr/bin/lua5.4}
b=$top/scripts/bench
[ -x "$lua" ] || { echo "skipped: no $lua"; exit 0; }
status=0
for spec in fib:15 loops:1000 nbody:100 spectral:10 binarytrees:6 strings:500 tables:500; do
  name=${spec%%:*}; n=${spec#*:}
  a=$("$bin" "$b/speed/$name.lua" "$n" | grep '^checksum') || { echo "$name: cthreads failed"; status=1; continue; }
  c=$("$lua" "$b/speed/$name.lua" "$n" | grep '^checksum')
  if [ "$a" != "$c" ]; then echo "$name: cthreads '$a', lua5.4 '$c'"; status=1; fi
done
need() {  # need OUTPUT KEY...: every key has a line
  out=$1; shift
  for k in "$@"; do
    echo "$out" | grep -q "^$k " || { echo "missing '$k' in: $out"; status=1; }
  done
}
need "$("$bin" "$b/threads/start_join.lua" 5 1)" best
need "$("$bin" "$b/threads/lock.lua" 1000 1)" pair loop net
need "$("$bin" "$b/gil/cpu_bound.lua" 100000 1)" one sequence threads parallel
need "$("$bin" "$b/gil/wakeup.lua" 3)" idle_median busy_median busy_p99
if command -v python3 >/dev/null 2>&1; then
  need "$(python3 "$b/threads/start_join.py" 5 1)" best
  need "$(python3 "$b/threads/lock.py" 1000 1)" pair loop net
  need "$(python3 "$b/gil/cpu_bound.py" 10000 1)" one sequence threads parallel
  need "$(python3 "$b/gil/wakeup.py" 3)" idle_median busy_median busy_p99
fi
exit $status
