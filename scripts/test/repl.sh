#!/bin/sh
# The REPL driven through a pseudo-terminal as a person would use it
# (scripts/test/repl_pty.py): values printed, multi-line input, :help,
# :gil, :threads with a background thread that runs while the prompt
# waits, :time, errors, Ctrl-C, the history file, Ctrl-D; and --compare
# refusing a script typed on the terminal.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CTHREADS_BIN:-$top/build/cthreads}
[ -x "$bin" ] || { echo "repl.sh: no $bin; build first (scripts/build.sh)"; exit 2; }
if ! command -v python3 >/dev/null 2>&1; then
  echo "skipped: python3 is needed to drive the REPL through a pty"
  exit 0
fi
exec python3 "$top/scripts/test/repl_pty.py" "$bin"
