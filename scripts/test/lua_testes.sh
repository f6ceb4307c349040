#!/bin/sh
# Lua 5.4.4's own test suite, run by cthreads; each run must end with the
# suite's "final OK !!!" line, as it does with stock lua:
#   1. portable mode (_U=true), GIL on, stdin a pipe
#   2. the same while two daemon threads run (one busy in a loop that
#      allocates nothing, one sleeping and waking), so every forced GIL
#      switch happens in the middle of the suite
#   3. the whole suite (not portable): the standalone-interpreter tests
#      of main.lua and the C libraries of libs/ (built here with cc); two
#      changes to main.lua, see full_mode below
#   4. portable mode with --no-gil, once the build has it
# The suite comes from $CTHREADS_LUA_TESTES, else ~/.cache/cthreads/
# lua-5.4.4-tests, else it is downloaded from lua.org into that cache
# (checked against $CTHREADS_LUA_TESTES_SHA256 when that is set). Without
# it, the script prints "skipped: ..." and exits with 0.
#   scripts/test/lua_testes.sh [--quick]     --quick: run 1 only
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
[ -x "$bin" ] || { echo "lua_testes.sh: no $bin; build first (scripts/build.sh)"; exit 2; }
quick=0
[ "${1:-}" = "--quick" ] && quick=1

cache=${XDG_CACHE_HOME:-$HOME/.cache}/cthreads
url=https://www.lua.org/tests/lua-5.4.4-tests.tar.gz

is_suite() { [ -f "$1/all.lua" ] && [ -f "$1/main.lua" ] && grep -q 'Lua 5.4' "$1/all.lua"; }

find_suite() {
  if [ -n "${CTHREADS_LUA_TESTES:-}" ]; then
    is_suite "$CTHREADS_LUA_TESTES" && { suite=$CTHREADS_LUA_TESTES; return 0; }
    echo "skipped: CTHREADS_LUA_TESTES=$CTHREADS_LUA_TESTES has no Lua 5.4 test suite"
    exit 0
  fi
  is_suite "$cache/lua-5.4.4-tests" && { suite=$cache/lua-5.4.4-tests; return 0; }
  command -v curl >/dev/null 2>&1 || { echo "skipped: no Lua 5.4.4 test suite in $cache and no curl to fetch $url"; exit 0; }
  mkdir -p "$cache" || { echo "skipped: cannot create $cache"; exit 0; }
  tgz=$cache/lua-5.4.4-tests.tar.gz.part
  if ! curl -fsSL --max-time 120 -o "$tgz" "$url" 2>/dev/null; then
    rm -f "$tgz"
    echo "skipped: no Lua 5.4.4 test suite in $cache and $url cannot be fetched (offline?);"
    echo "  put the suite there, or set CTHREADS_LUA_TESTES=DIR"
    exit 0
  fi
  if [ -n "${CTHREADS_LUA_TESTES_SHA256:-}" ]; then
    got=$(sha256sum "$tgz" | cut -d' ' -f1)
    if [ "$got" != "$CTHREADS_LUA_TESTES_SHA256" ]; then
      rm -f "$tgz"
      echo "lua_testes.sh: $url has sha256 $got, expected $CTHREADS_LUA_TESTES_SHA256"
      exit 1
    fi
  else
    echo "note: $url downloaded with no checksum to check (set CTHREADS_LUA_TESTES_SHA256)"
  fi
  tar -xzf "$tgz" -C "$cache" && rm -f "$tgz"
  is_suite "$cache/lua-5.4.4-tests" || { echo "lua_testes.sh: $url did not hold the suite"; exit 1; }
  suite=$cache/lua-5.4.4-tests
}

suite=
find_suite
echo "Lua test suite: $suite"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# run NAME OPTIONS...: a fresh copy of the suite, all.lua with stdin a pipe
run() {
  name=$1; shift
  rm -rf "$work/t"
  cp -R "$suite" "$work/t"
  [ -n "${prepare:-}" ] && (cd "$work/t" && $prepare)
  start=$(date +%s)
  (cd "$work/t" && : | timeout 900 "$bin" "$@" all.lua) >"$work/out" 2>&1
  status=$?
  secs=$(( $(date +%s) - start ))
  if [ $status = 0 ] && tail -5 "$work/out" | grep -q '^final OK !!!'; then
    echo "ok     $name (${secs}s)"
  else
    echo "FAILED $name (status $status, ${secs}s); the end of its output:"
    tail -25 "$work/out"
    failed=$((failed + 1))
  fi
}

# (time.sleep is kept in a local: the suite ends by clearing every global
# while the threads still run)
background='local sleep = time.sleep
for _, f in ipairs{
    function() local x = 0 while true do x = x + 1 end end,
    function() while true do sleep(0.002) end end} do
  threading.Thread{target = f, daemon = true}:start()
end'

# The whole suite needs: the C libraries of libs/, built against the Lua
# headers of this build (the binary exports the Lua API); and two changes
# to main.lua: error messages start with "cthreads:", not with the program's
# path, and its Ctrl-C test is left out (it reads the background lua's pid
# and output from one pipe, which races; spec/interrupt_spec.lua and
# spec/cli_spec.lua cover Ctrl-C).
full_mode() {
  (cd libs && make -s CC=cc LUA_DIR="$top/build/lua-5.4.4/src" >/dev/null 2>&1) || return 1
  sed 's/NoRun(progname .. ": 6\\n"/NoRun("cthreads: 6\\n"/' main.lua |
    awk '/^print\(.testing Ctrl C.\)/ { skip = 1 }
         skip && /^print\("OK"\)/ { skip = 0 }
         !skip' >main.tmp && mv main.tmp main.lua
}

prepare=
run "portable mode (_U), --gil" --gil -e "_U=true"
if [ $quick = 0 ]; then
  run "portable mode, --gil, with 2 daemon threads running" --gil -e "_U=true" -e "$background"
  if command -v cc >/dev/null 2>&1 && [ -f "$top/build/lua-5.4.4/src/lua.h" ]; then
    prepare=full_mode
    run "whole suite (main.lua, C libraries), --gil" --gil
    prepare=
  else
    echo "skipped: the whole suite needs cc and the Lua headers in build/lua-5.4.4/src"
  fi
  if "$bin" --no-gil -e '' 2>/dev/null; then
    run "portable mode (_U), --no-gil" --no-gil -e "_U=true"
    run "portable mode, --no-gil, with 2 daemon threads running" --no-gil -e "_U=true" -e "$background"
  else
    echo "skipped: --no-gil runs ($("$bin" --no-gil -e '' 2>&1 | head -1))"
  fi
fi
[ $failed = 0 ]
