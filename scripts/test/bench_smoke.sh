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
  # the asyncio workloads side by side, and the C floor under the echo
  out=$(CTHREADS_BIN=$bin sh "$b/asyncio_bench.sh" 1 0.01 2>&1) || {
    echo "asyncio_bench.sh failed:"; echo "$out"; status=1; }
  need "$out" spawn_sleep0 task_switch sleep_1ms echo_rtt echo_10clients "echo floor"
fi
# scaling.lua --smoke: every section, every checksum compared, a few seconds
scaling() {  # scaling LABEL: runs it with the CTHREADS of the environment
  out=$("$lua" "$b/scaling.lua" --smoke 2>&1) || {
    echo "scaling.lua --smoke ($1) failed:"; echo "$out"; status=1; return; }
  for h in "CPU-bound scaling: the course's loop" "CPU-bound scaling: nbody" \
           "CPU-bound scaling: naive recursive fib" "Single-thread speed" \
           "Per thread while another thread runs" "Allocation-heavy: binary-trees" \
           "Allocation-heavy: string building" "The race"; do
    echo "$out" | grep -q "^== $h" || {
      echo "scaling.lua --smoke ($1): no '$h' table in:"; echo "$out"; status=1; return; }
  done
}
if "$bin" --no-gil -e '' >/dev/null 2>&1; then
  CTHREADS=$bin scaling "GIL on and off"
else
  CTHREADS=$bin scaling "GIL on"
  # the GIL-off VM is not there yet: a stand-in serves --no-gil with --gil,
  # so that the driver's GIL-off columns and tables run too
  stand_in=$(mktemp)
  trap 'rm -f "$stand_in"' EXIT
  printf '#!/bin/sh\nfor a; do shift; [ "$a" = --no-gil ] && a=--gil; set -- "$@" "$a"; done\nexec %s "$@"\n' \
    "'$bin'" >"$stand_in"
  chmod +x "$stand_in"
  CTHREADS=$stand_in scaling "stand-in for GIL off"
  echo "$out" | grep -q "^GIL off  *2 " || {
    echo "scaling.lua --smoke (stand-in): no GIL-off rows in:"; echo "$out"; status=1; }
fi
exit $status
