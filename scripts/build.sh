#!/bin/sh
# build.sh [BUILD_DIR] [cmake options...]: configures and builds cthreads.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
[ $# -gt 0 ] && shift
mkdir -p "$dir"
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)" >/dev/null 2>"$dir/build.log" || { cat "$dir/build.log" >&2; exit 1; }
echo "built $dir/cthreads" >&2
