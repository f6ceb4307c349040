#!/bin/sh
# prepare-lua.sh OUTDIR: unpacks the verified Lua 5.4.4 release into OUTDIR
# and applies vm/patches/*.patch in order. Does nothing when OUTDIR was
# already made from the same patches (a stamp holds their checksum).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
want=$(cat "$here/prepare-lua.sh" "$here"/patches/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -f "$out/.cthreads-stamp" ] && [ "$(cat "$out/.cthreads-stamp")" = "$want" ]; then
  exit 0
fi
tarball=$("$here/fetch-lua.sh")
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
tar -xzf "$tarball" -C "$out.tmp"
for p in "$here"/patches/*.patch; do
  [ -e "$p" ] || continue
  if ! patch -s -p1 -d "$out.tmp/lua-5.4.4" <"$p"; then
    echo "prepare-lua: $p does not apply" >&2
    exit 1
  fi
done
echo "$want" >"$out.tmp/lua-5.4.4/.cthreads-stamp"
rm -rf "$out"
mv "$out.tmp/lua-5.4.4" "$out"
rmdir "$out.tmp"
echo "prepare-lua: patched Lua 5.4.4 in $out" >&2
