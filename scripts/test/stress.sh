#!/bin/sh
# The stress suite at its default scale (spec/stress/, docs/stress.md):
# every workload for N = 2, 4, 8 threads, with the GIL on, and off once
# the build has --no-gil (until then that mode is skipped with the reason).
# Any failed invariant, crash, sanitizer report or hang fails the check.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
[ -x "$bin" ] || { echo "stress.sh: no $bin; build first (scripts/build.sh)"; exit 2; }
exec sh "$top/scripts/stress.sh" --both --bin "$bin"
