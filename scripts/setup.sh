#!/bin/sh
# The quick start's first command: installs what is missing, fetches and
# verifies Lua 5.4.4, builds cthreads, and runs the headline demo (two
# CPU-bound threads, timed with the GIL on, then off).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh"
echo
echo "=== headline demo: scripts/demo/cpu_bound.lua with the GIL on, then off"
"$top/build/cthreads" --gil "$top/scripts/demo/cpu_bound.lua"
"$top/build/cthreads" --no-gil "$top/scripts/demo/cpu_bound.lua"
