#!/bin/sh
# The specs, the stress suite (scripts/stress.sh, default scale) and Lua
# 5.4.4's own test suite (scripts/test/lua_testes.sh) again, on a build
# with -fsanitize=address,undefined, GIL on and off. Any sanitizer report
# fails. (ASan fills new memory with garbage: it found the main thread's
# uninitialized extra space, which Lua's suite tripped on.)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
"$top/scripts/build.sh" "$top/build-asan" -DCTHREADS_ASAN=ON
export CTHREADS_BIN="$top/build-asan/cthreads"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for mode in 1 0; do
  # a mode is skipped only where the binary says it does not have it; an
  # empty run that fails otherwise (a sanitizer report at start-up) fails
  if ! "$CTHREADS_BIN" $( [ $mode = 1 ] && echo --gil || echo --no-gil ) -e '' >"$out" 2>&1; then
    if grep -q 'not available' "$out" && ! grep -qE 'Sanitizer|runtime error:' "$out"; then
      echo "CTHREADS_GIL=$mode: skipped (not available in this build)"
    else
      echo "asan run with CTHREADS_GIL=$mode failed: an empty run fails:"
      head -30 "$out"
      status=1
    fi
    continue
  fi
  CTHREADS_GIL=$mode busted --lua="$CTHREADS_BIN" -o TAP spec >"$out" 2>&1 || true
  if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$out" || grep -q '^not ok' "$out" \
     || ! grep -q '^1\.\.' "$out"; then
    echo "asan run with CTHREADS_GIL=$mode failed:"
    grep -E -A30 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer|^not ok' "$out" | head -120
    status=1
  else
    echo "asan run with CTHREADS_GIL=$mode: $(grep -c '^ok ' "$out") specs passed, no sanitizer report"
  fi
done
# the stress suite on the same binary, both modes (stress.sh says when it
# skips GIL off); a sanitizer report fails the run that printed it
if sh "$top/scripts/stress.sh" --both --bin "$CTHREADS_BIN" >"$out" 2>&1; then
  echo "asan stress suite: $(tail -1 "$out")"
  grep '^skipped' "$out" || true
else
  echo "asan stress suite failed:"
  grep -v '^ok ' "$out" | head -200
  status=1
fi
if sh "$top/scripts/test/lua_testes.sh" >"$out" 2>&1; then
  echo "asan Lua 5.4.4 test suite: $(grep -c '^ok ' "$out") runs ok"
  grep '^skipped' "$out" || true
else
  echo "asan Lua 5.4.4 test suite failed:"
  tail -60 "$out"
  status=1
fi
exit $status
