#!/bin/sh
# build-nobreaker.sh [DIR]: builds cthreads from this working tree without
# vm/patches/0003 (the eval breaker in lvm.c), for overhead.lua to measure
# what the patch costs. A measuring build only: with no breaker a running
# thread never hands the GIL over, so threads do not take turns in it.
# DIR (default build-nobreaker/ at the top) gets src/ and build/; files
# keep their times, so a second run rebuilds only what changed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$top/build-nobreaker}
mkdir -p "$dir/src"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf -) | tar -xf - -C "$dir/src"
rm -f "$dir"/src/vm/patches/0003-*.patch
cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$dir/build" -j 2 --target cthreads >/dev/null 2>"$dir/build.log" || { cat "$dir/build.log" >&2; exit 1; }
echo "built $dir/build/cthreads (without patch 0003)" >&2
