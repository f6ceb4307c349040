#!/bin/sh
# A C program embedding the runtime through include/cthreads.h and the
# shared libcthreads (scripts/embed/embed_example.c) runs Lua threads.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$top/build/embed_example")
echo "$out"
[ "$out" = "embedded total = 4000" ]
