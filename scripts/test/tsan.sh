#!/bin/sh
# The stress suite (scripts/stress.sh) on a build with -fsanitize=thread
# (build-tsan/), with the GIL on and with the GIL off, at SCALE 0.5
# ($CTHREADS_TSAN_SCALE) so that both passes take about 10 minutes here.
# halt_on_error=1: any ThreadSanitizer report fails its run. The races
# the free-threaded VM means to have are declared as atomics in this
# build (docs/tsan.md); no suppression file is used. Where TSan
# cannot work on this machine (no TSan runtime for the compiler, or a
# kernel whose address-space layout TSan cannot use, even with ASLR off
# through setarch -R), it prints "skipped:" and why, and exits 0; a build
# that fails for another reason is a failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$top/build-tsan
bin=$dir/cthreads
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! "$top/scripts/build.sh" "$dir" -DCTHREADS_TSAN=ON >"$log" 2>&1; then
  if grep -qE 'cannot find -ltsan|libtsan|unrecognized.*sanitize=thread|unsupported.*sanitize' "$log"; then
    echo "skipped: this compiler cannot build with -fsanitize=thread:"
    grep -E 'ltsan|libtsan|sanitize' "$log" | head -5
    exit 0
  fi
  echo "the TSan build failed:"
  tail -40 "$log"
  exit 1
fi

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"

# Does a TSan binary start here? TSan needs its fixed memory layout; some
# kernels' address-space randomisation breaks it ("unexpected memory
# mapping"), which running with ASLR off (setarch -R) works around.
wrap=
if ! "$bin" --gil -e '' >"$log" 2>&1; then
  if command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R "$bin" --gil -e '' >/dev/null 2>&1; then
    wrap="setarch $(uname -m) -R"
    echo "note: TSan needs ASLR off on this kernel ($(grep -m1 -i 'FATAL\|ThreadSanitizer' "$log")); running under $wrap"
  else
    echo "skipped: a ThreadSanitizer binary does not run on this machine:"
    head -5 "$log"
    exit 0
  fi
fi

# TSan makes the runs 5-20 times slower: a larger limit per run.
# GIL on: the runtime's own locks, queues and GIL. GIL off: also the
# free-threaded VM's lock-free reads (tables, strings, upvalues).
scale=${CTHREADS_TSAN_SCALE:-0.5}
status=0
$wrap sh "$top/scripts/stress.sh" --gil --scale "$scale" --bin "$bin" --timeout 600 || status=1
$wrap sh "$top/scripts/stress.sh" --no-gil --scale "$scale" --bin "$bin" --timeout 600 || status=1
exit $status
