#!/bin/sh
# Runs the queue and synchronisation concurrency specs 20 times in a row
# with the GIL on, and fails if any run fails: no item lost or duplicated,
# no wake-up lost, across repeated runs (issue 4).
#   scripts/test/sync_repeat.sh [RUNS]   (needs build/cthreads or $CTHREADS_BIN)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bin=${CTHREADS_BIN:-$top/build/cthreads}
runs=${1:-20}
specs="spec/queue_concurrency_spec.lua spec/threading_sync_concurrency_spec.lua"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
i=1
while [ "$i" -le "$runs" ]; do
  if ! CTHREADS_GIL=1 CTHREADS_BIN="$bin" timeout 120 \
       busted --lua="$bin" -o TAP $specs >"$log" 2>&1 \
     || grep -q '^not ok' "$log" || ! grep -q '^1\.\.' "$log"; then
    echo "run $i of $runs failed:"
    cat "$log"
    exit 1
  fi
  i=$((i + 1))
done
echo "$runs runs passed: $(grep -c '^ok ' "$log") specs each"
