#!/bin/sh
# run.sh [--quick]: every benchmark of scripts/bench, one after the other,
# each printing cthreads' figures beside those of lua5.4 or python3
# measured in the same run, and the ratios. Fails (exit 1) when a
# benchmark fails or a checksum differs between cthreads and lua5.4;
# a missed goal is printed ("GOAL MISSED") but does not fail the run.
#   --quick   smaller inputs, fewer runs, no valgrind counts (a few minutes)
# env: CTHREADS (default build/cthreads, built if missing), LUA
# (/usr/bin/lua5.4), PYTHON (python3)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
quick=
[ "${1:-}" = "--quick" ] && quick=--quick
lua=${LUA:-/usr/bin/lua5.4}
if [ -z "${CTHREADS:-}" ] && [ ! -x "$top/build/cthreads" ]; then
  "$top/scripts/build.sh" "$top/build" || exit 1
fi
echo "cthreads benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), $(uname -m)"
echo "lua5.4: $("$lua" -v 2>&1 | head -1); python3: $(${PYTHON:-python3} --version 2>&1)"
echo
status=0
for b in speed threads gil overhead scaling; do
  "$lua" "$here/$b.lua" $quick || status=1
  echo
done
[ $status = 0 ] && echo "all benchmarks ran" || echo "SOME BENCHMARKS FAILED"
exit $status
