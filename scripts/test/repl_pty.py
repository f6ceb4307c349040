#!/usr/bin/env python3
"""Drives the cthreads REPL through a pseudo-terminal, as a person would:
expressions, a multi-line definition, the : commands, a background thread
that keeps running while the prompt waits, errors, Ctrl-C (clearing a line,
dropping a continued statement, interrupting a running loop), the history
file and Ctrl-D; then `--compare` with no script on the terminal, which it
must refuse.    repl_pty.py PATH/TO/cthreads
"""
import os
import pty
import re
import select
import signal
import sys
import tempfile
import time

TIMEOUT = 15.0  # seconds for any one expected output
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")


class Repl:
    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the REPL on the terminal
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.buf = b""       # output not yet consumed by expect
        self.transcript = b""

    def send(self, text):
        os.write(self.fd, text.encode())

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # the child has gone (EIO)
            return None
        if not data:
            return None
        data = ANSI.sub(b"", data)
        self.buf += data
        self.transcript += data
        return True

    def expect(self, pattern, what):
        """waits until 'pattern' (a regex) appears; consumes up to its end"""
        rx = re.compile(pattern.encode(), re.S)
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                fail("timed out waiting for " + what + " (" + pattern + ")")
            if self._read(left) is None:
                fail("the REPL ended while waiting for " + what)

    def prompt(self, what="the prompt"):
        self.expect(r"(^|\n)> $", what)

    def run(self, line, result_pattern, what):
        """types 'line' and Enter; expects its result, then a new prompt"""
        self.send(line + "\r")
        m = self.expect(r"\r?\n" + result_pattern, what)
        self.prompt("the prompt after " + what)
        return m

    def wait_exit(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                return status
            self._read(0.05)
        fail("the REPL did not exit")


repl = None


def fail(msg):
    print("FAILED: " + msg)
    if repl is not None:
        print("---- transcript (last 3000 bytes) ----")
        print(repl.transcript[-3000:].decode(errors="replace"))
        try:
            os.kill(repl.pid, signal.SIGKILL)
        except OSError:
            pass
    sys.exit(1)


def main():
    global repl
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="cthreads-repl-")
    history = os.path.join(tmp, "history")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
           "TERM": "dumb", "INPUTRC": "/dev/null", "CTHREADS_HISTORY": history,
           "CTHREADS_GIL": os.environ.get("CTHREADS_GIL", "1")}
    repl = Repl([binary], env)
    step = print

    repl.expect(r"cthreads [0-9.]+  Lua 5\.4\.4  Copyright", "the version banner")
    repl.prompt()

    step("expression printed")
    repl.run("1 + 1", r"2\r\n", "the value of 1 + 1")
    repl.run("'a', nil, 3", r"a\tnil\t3\r\n", "several values")

    step("multi-line definition with the >> prompt")
    repl.send("function sq(x)\r")
    repl.expect(r"\n>> $", "the continuation prompt")
    repl.send("  return x * x\r")
    repl.expect(r"\n>> $", "the continuation prompt again")
    repl.send("end\r")
    repl.prompt("the prompt after the definition")
    repl.run("sq(7)", r"49\r\n", "calling the function defined over 3 lines")

    step(":help and :gil")
    repl.run(":help", r".*?:threads.*?:time STATEMENT.*?:gil", ":help's text")
    repl.run(":gil", r"GIL (on|off \(free-threaded\)), switch interval [0-9.e-]+ s\r\n", ":gil")

    step("a background thread keeps running while the prompt waits")
    repl.run("counter, stop = 0, false", "", "setting globals")
    repl.run("t = threading.Thread{name = 'bg-counter', target = function() "
             "while not stop do counter = counter + 1; time.sleep(0.01) end end}; t:start()",
             "", "starting a thread")
    m = repl.run(":threads", r".*?MainThread.*?bg-counter.*?\r\n2 thread\(s\)\r\n", ":threads")
    m = repl.run("counter", r"(\d+)\r\n", "reading the counter")
    before = int(m.group(1))
    time.sleep(1.0)  # the REPL sits in readline, waiting for input
    m = repl.run("counter", r"(\d+)\r\n", "reading the counter again")
    after = int(m.group(1))
    if after - before < 5:
        fail("the thread made no progress while the REPL waited (%d -> %d)" % (before, after))
    print("   counter went from %d to %d while the prompt waited" % (before, after))
    repl.run("stop = true; t:join(); print(t:is_alive())", r"false\r\n", "stopping the thread")

    step(":time")
    repl.run(":time for i = 1, 1e6 do end",
             r"wall [0-9.]+ s, cpu [0-9.]+ s \(all threads\), GIL (on|off)\r\n", ":time")

    step("errors are reported and the REPL goes on")
    repl.run("error('oops')", r"stdin:1: oops\r\nstack traceback:", "error()")
    repl.run("nil + 1", r".*?attempt to perform arithmetic on a nil value", "a runtime error")
    repl.run("x x", r"stdin:1: syntax error near 'x'\r\n", "a syntax error")
    repl.run("1 + 2", r"3\r\n", "a value after the errors")

    step("Ctrl-C clears the line being typed")
    repl.send("this is not lua")
    repl.expect("this is not lua", "the echo of the typed text")
    repl.send("\x03")
    repl.expect(r"\^C\r?\n", "^C")
    repl.prompt("a fresh prompt after ^C")
    repl.run("40 + 2", r"42\r\n", "a value after ^C")

    step("Ctrl-C drops a statement being continued")
    repl.send("function never()\r")
    repl.expect(r"\n>> $", "the continuation prompt")
    repl.send("\x03")
    repl.prompt("the main prompt after ^C at >>")
    repl.run("never", r"nil\r\n", "the dropped function is not defined")

    step("Ctrl-C interrupts a running infinite loop")
    repl.send("while true do end\r")
    repl.expect(r"while true do end\r?\n", "the echo of the loop")
    time.sleep(0.3)
    repl.send("\x03")
    repl.expect(r"interrupted!", "the 'interrupted!' error")
    repl.prompt("the prompt after the interrupted loop")
    repl.run("5 * 5", r"25\r\n", "a value after the interrupted loop")

    step("Ctrl-C interrupts a blocking wait (a join)")
    repl.send("do local t = threading.Thread{target = function() time.sleep(30) end, "
              "daemon = true}; t:start(); t:join() end\r")
    time.sleep(0.3)
    repl.send("\x03")
    repl.expect(r"interrupted!", "the 'interrupted!' error in join")
    repl.prompt("the prompt after the interrupted join")

    step("Ctrl-D ends the REPL with status 0")
    repl.send("\x04")
    status = repl.wait_exit()
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        fail("exit status %r, expected 0" % status)

    step("history file written")
    try:
        with open(history, encoding="utf-8", errors="replace") as f:
            hist = f.read()
    except OSError as e:
        fail("no history file: %s" % e)
    for entry in ["1 + 1", "sq(7)", ":gil", "function sq(x)", ":time for i = 1, 1e6 do end"]:
        if entry not in hist:
            fail("history lacks %r:\n%s" % (entry, hist))
    if "this is not lua" in hist:
        fail("a line cleared with Ctrl-C went into the history")
    step("--compare with no script on a terminal is refused (it cannot replay typing)")
    repl = Repl([binary, "--compare"], env)
    repl.expect(r"--compare needs a script \(or -e code\) to run", "the refusal")
    status = repl.wait_exit()
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 1:
        fail("exit status %r, expected 1" % status)

    os.remove(history)
    os.rmdir(tmp)
    print("REPL OK")


if __name__ == "__main__":
    main()
