#!/bin/sh
# Installs what building and testing cthreads needs on Debian (apt-get),
# only what is missing. Needs root or sudo when something is missing.
set -eu
pkgs="build-essential cmake pkg-config libreadline-dev lua5.4 lua-busted lua-dkjson python3 patch curl ca-certificates"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: not a Debian system; install:$missing" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo for:$missing" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
