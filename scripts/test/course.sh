#!/bin/sh
# The ported course (scripts/course/): every script runs with the GIL on,
# and off when the build has --no-gil (otherwise that pass is skipped with
# the reason), under `timeout`, with CTHREADS_TIME_SCALE=0.05 so the sleeps
# are short; exit status, stderr and the stdout patterns in
# scripts/course/expected.txt are checked. Scripts needing a module this
# build lacks are skipped with the reason (they fail unless CTHREADS_COURSE_STRICT=0).
#   scripts/test/course.sh [--gil-only] [FILTER...]    e.g. course.sh sync/
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
[ -x "$bin" ] || { echo "course.sh: no $bin; build first (scripts/build.sh)"; exit 2; }
exec "$bin" --gil "$top/scripts/test/course.lua" "$bin" "$@"
