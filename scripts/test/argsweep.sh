#!/bin/sh
# The bad-argument sweep (scripts/test/argsweep.lua): every public function
# and method of threading, queue, multiprocessing, asyncio and time called
# with bad arguments. Runs it with the GIL on and off, on the plain build
# ($CTHREADS_BIN, default build/cthreads) and on the ASan+UBSan build
# (build-asan, built here as scripts/test/asan.sh builds it; skipped with
# --plain). Fails on a failure the sweep reports (an unclear error, a call
# that hangs), a crash or a sanitizer report, and names the call: the
# sweep prints each call before making it.
#   scripts/test/argsweep.sh [--plain] [section...]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
plain_only=0
if [ "${1:-}" = "--plain" ]; then plain_only=1; shift; fi
bin=${CTHREADS_BIN:-$top/build/cthreads}
log=$(mktemp)
err=$(mktemp)
trap 'rm -f "$log" "$err"' EXIT
status=0

# one run: sweep LABEL BINARY GIL [section...]
sweep() {
  label=$1; b=$2; gil=$3; shift 3
  start=$(date +%s)
  # the sweep's own watchdog names a call that hangs (status 3); this
  # timeout is the last resort, for a hang that stops every thread
  CTHREADS_GIL=$gil timeout 600 "$b" "$top/scripts/test/argsweep.lua" "$@" >"$log" 2>"$err"
  rc=$?
  secs=$(( $(date +%s) - start ))
  last=$(grep '^CALL ' "$log" | tail -1 | cut -c6-)
  if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$err" "$log"; then
    echo "FAILED $label, GIL=$gil: a sanitizer report, in or after the call: $last"
    grep -E -A30 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$err" "$log" | head -60
    status=1
  elif [ $rc = 0 ]; then
    echo "ok     $label, GIL=$gil: $(tail -1 "$log" | sed 's/^argsweep: //') [$secs s]"
  elif [ $rc = 1 ] && grep -q '^argsweep: .* failures' "$log"; then
    echo "FAILED $label, GIL=$gil: $(grep '^argsweep: ' "$log" | tail -1)"
    grep '^FAIL ' "$log" | head -60
    status=1
  elif [ $rc = 3 ]; then
    echo "FAILED $label, GIL=$gil: $(grep 'argsweep: HANG' "$err")"
    status=1
  elif [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "FAILED $label, GIL=$gil: killed after 600 s, in the call: $last"
    status=1
  else
    echo "FAILED $label, GIL=$gil: exit status $rc (a crash?) in the call: $last"
    tail -20 "$err"
    status=1
  fi
}

for gil in 1 0; do sweep plain "$bin" $gil "$@"; done

if [ $plain_only = 0 ]; then
  if ! "$top/scripts/build.sh" "$top/build-asan" -DCTHREADS_ASAN=ON; then
    echo "FAILED: the ASan build"
    exit 1
  fi
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for gil in 1 0; do sweep asan "$top/build-asan/cthreads" $gil "$@"; done
fi
exit $status
