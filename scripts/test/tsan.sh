#!/bin/sh
# The stress suite (scripts/stress.sh, at scale 0.25) on a build with
# -fsanitize=thread (build-tsan/): with the GIL off, where the races that
# matter are, once the build has --no-gil; until then with the GIL on.
# halt_on_error=1: any ThreadSanitizer report fails its run. Where TSan
# cannot work on this machine (no TSan runtime for the compiler, or a
# kernel whose address-space layout TSan cannot use, even with ASLR off
# through setarch -R), it prints "skipped:" and why, and exits 0; a build
# that fails for another reason is a failure.
#   scripts/test/tsan.sh [stress.sh options...]    e.g. --scale 1, or tables
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

if $wrap "$bin" --no-gil -e '' >/dev/null 2>&1; then
  mode=--no-gil
else
  mode=--gil
  echo "note: GIL off is not available in this build; TSan runs the suite with the GIL on"
fi
# TSan makes the runs 5-20 times slower: a quarter of the default scale
# (the whole suite at scale 1 took 7 minutes with the GIL on here) and a
# larger limit per run; arguments given to this script go to stress.sh
# after these, so `tsan.sh --scale 1` or `tsan.sh --long` override them
exec $wrap sh "$top/scripts/stress.sh" "$mode" --bin "$bin" --scale 0.25 --timeout 600 "$@"
