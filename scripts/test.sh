#!/bin/sh
# The quick start's second command: builds cthreads and runs every test.
# The busted specs run twice, with the GIL on and with it off; then the
# REPL, embedding and Lua-test-suite checks. Ends with "N passed, N failed".
#   scripts/test.sh [--quick]   --quick: specs only, GIL on
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

"$top/scripts/install-deps.sh" || exit 1
"$top/scripts/build.sh" "$top/build" || exit 1
export CTHREADS_BIN="$top/build/cthreads"

passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# count a TAP stream: "ok N" / "not ok N"; shows the failures
tap_count() {
  p=$(grep -c '^ok ' "$1")
  f=$(grep -c '^not ok ' "$1")
  if [ "$f" -gt 0 ]; then
    echo "--- failures:"
    awk '/^not ok /{show=1} /^ok /{show=0} show' "$1" | head -200
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  echo "    $p passed, $f failed"
}

specs() {  # specs MODE(1|0) LABEL
  echo "=== busted specs, $2"
  CTHREADS_GIL=$1 busted --lua="$CTHREADS_BIN" -o TAP spec >"$log/tap" 2>&1
  if ! grep -q '^1\.\.' "$log/tap"; then  # busted itself failed
    cat "$log/tap"
    failed=$((failed + 1))
  fi
  tap_count "$log/tap"
}

# one named check: check NAME COMMAND...
check() {
  name=$1; shift
  if "$@" >"$log/out" 2>&1; then
    passed=$((passed + 1)); echo "ok     $name"
  else
    failed=$((failed + 1)); echo "FAILED $name"
    if grep -q '^not ok ' "$log/out"; then  # a TAP stream inside: its failures first
      echo "--- failures:"
      awk '/^not ok /{show=1} /^ok /{show=0} show' "$log/out" | head -100
      echo "--- last lines:"
    fi
    tail -30 "$log/out"
  fi
}

specs 1 "GIL on (--gil)"
if [ $quick = 0 ]; then
  if "$CTHREADS_BIN" --no-gil -e '' 2>"$log/nogil"; then
    specs 0 "GIL off (--no-gil)"
  else
    echo "=== busted specs, GIL off: skipped: $(cat "$log/nogil")"
  fi
  for t in "$top"/scripts/test/*.sh; do
    [ -e "$t" ] || continue
    check "$(basename "$t" .sh)" sh "$t"
  done
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
