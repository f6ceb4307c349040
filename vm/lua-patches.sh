#!/bin/sh
# Edit the Lua core as a patch series.
#   vm/lua-patches.sh unpack DIR   DIR becomes a git repository: the pristine
#                                  release as its first commit, then one commit
#                                  per vm/patches/NNNN-topic.patch, in order.
#   vm/lua-patches.sh regen DIR    rewrites vm/patches/ from DIR's commits after
#                                  the pristine one (edit them with git commit
#                                  --amend, git rebase -i, or new commits).
# A commit's message becomes its patch's explanation; its subject names the file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 unpack|regen DIR" >&2; exit 2; }
g() { git -C "$dir" -c user.name=cthreads -c user.email=cthreads@localhost "$@"; }

case "$cmd" in
unpack)
  [ -e "$dir" ] && { echo "$dir exists; remove it first" >&2; exit 1; }
  tarball=$("$here/fetch-lua.sh")
  mkdir -p "$dir"
  tar -xzf "$tarball" -C "$dir" --strip-components=1
  g init -q
  g add -A && g commit -q -m "Lua 5.4.4 release (pristine)"
  g tag pristine
  for p in "$here"/patches/*.patch; do
    [ -e "$p" ] || continue
    g am -q --keep-cr "$p" || { echo "failed to apply $p" >&2; exit 1; }
  done
  echo "unpacked into $dir; edit, commit, then: $0 regen $dir"
  ;;
regen)
  g rev-parse -q --verify pristine >/dev/null || { echo "$dir was not made by unpack" >&2; exit 1; }
  rm -f "$here"/patches/*.patch
  g format-patch -q --no-signature --zero-commit --no-numbered -N \
    --output-directory "$here/patches" pristine..HEAD
  # format-patch names are NNNN-subject.patch: already ordered
  ls "$here/patches"
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
