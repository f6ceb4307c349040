#!/bin/sh
# Finds lua-5.4.4.tar.gz, verifies its sha256 and prints its path.
# Order: $CTHREADS_LUA_TARBALL, the cache folder, Debian's source package
# (apt-get source, enabling deb-src entries from the existing apt sources when
# there are none and we may), then the lua.org release URL.
set -eu

NAME=lua-5.4.4.tar.gz
SHA256=164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61
URL=https://www.lua.org/ftp/$NAME
CACHE=${CTHREADS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cthreads}

say() { echo "fetch-lua: $*" >&2; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# verify FILE: exits with a clear message on a mismatch
verify() {
  got=$(sha_of "$1")
  if [ "$got" != "$SHA256" ]; then
    say "REFUSED $1: sha256 is $got, expected $SHA256"
    say "the file is not the Lua 5.4.4 release; delete it and run again"
    exit 1
  fi
}

found() { verify "$1"; echo "$1"; exit 0; }

if [ -n "${CTHREADS_LUA_TARBALL:-}" ]; then
  [ -f "$CTHREADS_LUA_TARBALL" ] || { say "CTHREADS_LUA_TARBALL=$CTHREADS_LUA_TARBALL does not exist"; exit 1; }
  found "$CTHREADS_LUA_TARBALL"
fi
[ -f "$CACHE/$NAME" ] && found "$CACHE/$NAME"
mkdir -p "$CACHE"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}

# Debian's orig tarball of lua5.4 holds the same bytes as the lua.org release.
has_deb_src() {
  grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

enable_deb_src() {
  src=/etc/apt/sources.list.d/cthreads-deb-src.sources
  tmp=$(mktemp)
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    for f in /etc/apt/sources.list.d/*.sources; do
      [ "$f" = "$src" ] && continue
      sed 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"; echo >>"$tmp"
    done
  fi
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >"$tmp.list" || true
  fi
  [ -s "$tmp" ] && as_root cp "$tmp" "$src" && as_root chmod 644 "$src"
  [ -s "$tmp.list" ] 2>/dev/null && as_root cp "$tmp.list" /etc/apt/sources.list.d/cthreads-deb-src.list \
    && as_root chmod 644 /etc/apt/sources.list.d/cthreads-deb-src.list
  rm -f "$tmp" "$tmp.list"
  as_root apt-get update -qq >&2
}

try_apt_source() {
  command -v apt-get >/dev/null 2>&1 || return 1
  work=$(mktemp -d)
  if ! (cd "$work" && apt-get source --download-only -qq lua5.4 >&2 2>/dev/null); then
    has_deb_src && { rm -rf "$work"; return 1; }
    say "no deb-src entries: enabling them from the existing apt sources"
    enable_deb_src || { rm -rf "$work"; return 1; }
    (cd "$work" && apt-get source --download-only -qq lua5.4 >&2) || { rm -rf "$work"; return 1; }
  fi
  orig=$(ls "$work"/lua5.4_5.4.4.orig.tar.gz 2>/dev/null || true)
  if [ -z "$orig" ]; then
    say "Debian's lua5.4 source is not version 5.4.4 here"; rm -rf "$work"; return 1
  fi
  cp "$orig" "$CACHE/$NAME.part" && mv "$CACHE/$NAME.part" "$CACHE/$NAME"
  rm -rf "$work"
}

try_download() {
  if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$CACHE/$NAME.part" "$URL"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$CACHE/$NAME.part" "$URL"
  else return 1; fi
  mv "$CACHE/$NAME.part" "$CACHE/$NAME"
}

if try_apt_source; then found "$CACHE/$NAME"; fi
say "trying $URL"
if try_download; then found "$CACHE/$NAME"; fi
say "could not obtain $NAME: put it in $CACHE or set CTHREADS_LUA_TARBALL"
exit 1
