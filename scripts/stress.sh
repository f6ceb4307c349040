#!/bin/sh
# The stress suite (spec/stress/*.lua, see docs/stress.md): every workload
# for N = 2, 4 and 8 threads, with the GIL on and/or off, each run under a
# time limit (a hang is a failure). One line per run; a failed run shows
# the end of its output. Exits 1 if any run failed, 2 on a usage error.
#   scripts/stress.sh [--long] [--scale S] [--bin PATH] [--gil|--no-gil|--both]
#                     [--threads "2 4 8"] [--timeout SECONDS] [NAME...]
#   --long        SCALE 10: ten times the operations of the default run
#   --scale S     multiply every workload's operation counts by S (default 1)
#   --bin PATH    the cthreads binary (default $CTHREADS_BIN, else build/cthreads)
#   --gil, --no-gil, --both   the modes to run (default --both; the GIL-off
#                 runs are skipped, saying so, while the binary refuses --no-gil)
#   --threads L   the thread counts (default "2 4 8")
#   --timeout S   the limit per run (default 60 s x SCALE; $STRESS_TIMEOUT)
#   NAME...       only these workloads (file names without .lua)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
scale=1
modes="gil-on gil-off"
threads="2 4 8"
limit=${STRESS_TIMEOUT:-}
names=

usage() { sed -n '6,14s/^# \{0,1\}//p' "$0" >&2; exit 2; }
need_arg() { [ "$2" -ge 2 ] || { echo "stress.sh: $1 needs a value" >&2; exit 2; }; }

while [ $# -gt 0 ]; do
  case $1 in
    --long) scale=10 ;;
    --scale) need_arg "$1" $#; scale=$2; shift ;;
    --bin) need_arg "$1" $#; bin=$2; shift ;;
    --gil) modes=gil-on ;;
    --no-gil) modes=gil-off ;;
    --both) modes="gil-on gil-off" ;;
    --threads) need_arg "$1" $#; threads=$2; shift ;;
    --timeout) need_arg "$1" $#; limit=$2; shift ;;
    -h|--help) usage ;;
    -*) echo "stress.sh: unknown option $1" >&2; usage ;;
    *) names="$names $1" ;;
  esac
  shift
done

[ -x "$bin" ] || { echo "stress.sh: no binary $bin (build first: scripts/build.sh)" >&2; exit 2; }
case $scale in ''|*[!0-9.]*|*.*.*) echo "stress.sh: bad scale '$scale'" >&2; exit 2 ;; esac
if [ -z "$limit" ]; then
  # 60 s per unit of scale, at least 60 s (awk: the scale may be a fraction)
  limit=$(awk -v s="$scale" 'BEGIN { t = int(60 * s + 0.5); print (t < 60 ? 60 : t) }')
fi
case $limit in ''|*[!0-9]*) echo "stress.sh: bad timeout '$limit' (whole seconds)" >&2; exit 2 ;; esac

if [ -z "$names" ]; then
  for f in "$top"/spec/stress/*.lua; do
    [ -e "$f" ] && names="$names $(basename "$f" .lua)"
  done
fi
for name in $names; do
  [ -f "$top/spec/stress/$name.lua" ] || { echo "stress.sh: no workload spec/stress/$name.lua" >&2; exit 2; }
done

# milliseconds since the epoch (to the second where date has no %N)
case $(date +%N 2>/dev/null) in
  [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) now_ms() { echo $(( $(date +%s%N) / 1000000 )); } ;;
  *) now_ms() { echo $(( $(date +%s) * 1000 )); } ;;
esac
seconds() { printf "%d.%02ds" $(( $1 / 1000 )) $(( $1 % 1000 / 10 )); }

# what sanitizers print when they report something
reports='ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:|LeakSanitizer'
log=$(mktemp)
child=
# interrupted or killed: stop the run under way too (timeout runs it in a
# process group of its own, out of reach of a signal to ours)
cleanup() { [ -n "$child" ] && kill "$child" 2>/dev/null; rm -f "$log"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ok=0
failed=0
skipped=0
suite_start=$(now_ms)

for mode in $modes; do
  if [ "$mode" = gil-on ]; then flag=--gil; else flag=--no-gil; fi
  # the mode is skipped only where the binary says it does not have it;
  # any other failure of an empty run (a crash, a sanitizer report) fails
  if ! "$bin" $flag -e '' >"$log" 2>&1; then
    if grep -q 'not available' "$log" && ! grep -qE "$reports" "$log"; then
      echo "skipped: every $mode run: '$bin $flag' does not run here: $(head -1 "$log")"
      skipped=$((skipped + 1))
    else
      failed=$((failed + 1))
      echo "FAIL every $mode run: '$bin $flag -e \"\"' itself fails; its output:"
      tail -n 25 "$log" | sed 's/^/    /'
    fi
    continue
  fi
  for name in $names; do
    for n in $threads; do
      start=$(now_ms)
      timeout -k 10 "$limit" "$bin" $flag "$top/spec/stress/$name.lua" "$n" "$scale" >"$log" 2>&1 &
      child=$!
      wait "$child"
      status=$?
      child=
      took=$(seconds $(( $(now_ms) - start )))
      why=
      if [ $status = 124 ] || [ $status = 137 ]; then
        why="timed out after ${limit}s (a hang?)"
      elif [ $status -gt 128 ]; then
        why="killed by signal $((status - 128))"
      elif [ $status != 0 ]; then
        why="exit status $status"
      elif grep -qE "$reports" "$log"; then
        why="a sanitizer report"
      elif ! tail -1 "$log" | grep -q ': ok'; then
        why="exit status 0 without the verdict line"
      fi
      if [ -z "$why" ]; then
        ok=$((ok + 1))
        echo "ok   $name N=$n $mode $took"
      else
        failed=$((failed + 1))
        echo "FAIL $name N=$n $mode $took: $why; the end of its output:"
        tail -n 25 "$log" | sed 's/^/    /'
      fi
    done
  done
done

echo "stress: $ok ok, $failed failed, $skipped mode(s) skipped, SCALE $scale, $(seconds $(( $(now_ms) - suite_start )))"
[ $failed = 0 ]
