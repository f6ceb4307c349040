-- The command line: what lua accepts (script and arguments in 'arg' and
-- '...', -e, -l, -i, -v, -E, -W, --, -, LUA_INIT, exit statuses), the
-- runtime's options (--gil, --no-gil, --switch-interval, --stats, --trace,
-- --compare), and bad scripts that must fail cleanly, never crash or hang.
-- Every case runs cthreads in a subprocess (under `timeout`).
local proc = require("proc")

local LIMIT = "120"  -- seconds; a hang fails the spec instead of the run

-- run{args..., stdin=, env=} under timeout -> out, err, status
local function run(opts)
  local t = {bin = "timeout", "-s", "KILL", LIMIT, proc.bin,
             stdin = opts.stdin, env = opts.env}
  for _, a in ipairs(opts) do t[#t + 1] = a end
  return proc.run(t)
end

-- the interpreter's own mode is inherited from CTHREADS_GIL; these specs
-- pass in either
local function nogil_supported()
  local _, _, status = run{"--no-gil", "-e", ""}
  return status == 0
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. proc.quote(d)))
  return d
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function rmrf(path)
  os.execute("rm -rf " .. proc.quote(path))
end

describe("command line: scripts and arguments", function()
  local dir, script
  setup(function()
    dir = tmpdir()
    script = write(dir .. "/args.lua", [[
      print("n", select("#", ...), ...)
      for i = -3, #arg do io.write(i, "=", tostring(arg[i]), " ") end
      print()
    ]])
  end)
  teardown(function() rmrf(dir) end)

  it("puts the script at arg[0], its arguments at 1.. and in '...'", function()
    local out, err, status = run{script, "a", "b c"}
    assert.equal(0, status, err)
    assert.matches("n\t2\ta\tb c", out, 1, true)
    assert.matches("0=" .. script .. " 1=a 2=b c", out, 1, true)
    assert.matches("-1=" .. proc.bin, out, 1, true)
  end)

  it("puts the interpreter and options at negative indices", function()
    local out, err, status = run{"--gil", "-e", "x=1", script, "z"}
    assert.equal(0, status, err)
    assert.matches("-3=--gil -2=-e -1=x=1 0=" .. script .. " 1=z", out, 1, true)
  end)

  it("gives the script the arg table as changed by -e code", function()
    local out, err, status = run{"-e", "arg[1] = 'changed'", script, "orig"}
    assert.equal(0, status, err)
    assert.matches("n\t1\tchanged", out, 1, true)
  end)

  it("reports 'arg' that is not a table", function()
    local _, err, status = run{"-e", "arg = 1", script}
    assert.equal(1, status)
    assert.matches("cthreads: 'arg' is not a table", err, 1, true)
  end)

  it("runs -e chunks in order, before the script", function()
    local out, err, status = run{"-eprint(1)", "-e", "a = 3", "-e", "print(a)", script}
    assert.equal(0, status, err)
    assert.matches("^1\n3\nn\t0", out)
  end)

  it("-l mod and -l g=mod require modules into globals, in order", function()
    write(dir .. "/mymod.lua", "print('loading', ...) return {v = 42}")
    local env = {LUA_PATH = dir .. "/?.lua;;"}
    local out, err, status = run{"-l", "mymod", "-lm=mymod", "-e", "print(mymod.v, m.v, m == mymod)",
                                 env = env}
    assert.equal(0, status, err)
    assert.equal("loading\tmymod\t" .. dir .. "/mymod.lua\n42\t42\ttrue\n", out)
    local _, err2, status2 = run{"-l", "no_such_module_here", env = env}
    assert.equal(1, status2)
    assert.matches("module 'no_such_module_here' not found", err2, 1, true)
  end)

  it("'--' ends the options; a script may then look like one", function()
    local out, err, status = run{"--", script, "-e", "--gil"}
    assert.equal(0, status, err)
    assert.matches("n\t2\t-e\t--gil", out, 1, true)
  end)

  it("'-' runs stdin with the arguments that follow", function()
    local out, err, status = run{"-", "x", "y", stdin = "print(#arg, arg[0], ...)"}
    assert.equal(0, status, err)
    assert.equal("2\t-\tx\ty\n", out)
  end)

  it("runs stdin as a script when there are no arguments and it is not a terminal", function()
    local out, err, status = run{stdin = "print(1 + 1)\nprint(arg[0] ~= nil)"}
    assert.equal(0, status, err)
    assert.equal("2\ntrue\n", out)
    local _, err2, status2 = run{stdin = "error('from a pipe')"}
    assert.equal(1, status2)  -- lua 5.4.4 exits with 0 here; we do not
    assert.matches("cthreads: stdin:1: from a pipe", err2, 1, true)
  end)

  it("print joins long values of any kind with tabs, intact", function()
    -- values longer than the line buffer's first block make it grow while
    -- a converted value sits above it on the stack
    local out, err, status = run{"-e", [[
      local big = setmetatable({}, {__tostring = function() return ("t"):rep(3000) end})
      print(true, ("y"):rep(1100), 42, big, nil, ("z"):rep(5000))
      print(pcall(error, ("e"):rep(2000)))
    ]]}
    assert.equal(0, status, err)
    assert.equal("true\t" .. ("y"):rep(1100) .. "\t42\t" .. ("t"):rep(3000) .. "\tnil\t"
                 .. ("z"):rep(5000) .. "\nfalse\t" .. ("e"):rep(2000) .. "\n", out)
  end)

  it("-v prints the version, and runs no REPL", function()
    local out, err, status = run{"-v"}
    assert.equal(0, status, err)
    assert.matches("^cthreads [%d.]+  Lua 5%.4%.4  Copyright", out)
    assert.matches("Copyright", out, 1, true)
    local out2 = run{"-v", "-e", "print('after')"}
    assert.matches("PUC%-Rio\nafter\n$", out2)
  end)

  it("-i runs the REPL after the script (here on piped input)", function()
    local out, err, status = run{"-e", "x = 20", "-i", stdin = "x + 1\nfunction f()\nreturn 7 end\nf()\n"}
    assert.equal(0, status, err)
    assert.matches("21\n", out, 1, true)
    assert.matches("7\n", out, 1, true)
    assert.matches(">> ", out, 1, true)   -- the continuation prompt
  end)

  it("-i on piped input echoes each line before what running it prints", function()
    local inf = write(dir .. "/repl-in.txt", "error('x')\nprint('after')\n")
    local p = io.popen(proc.quote(proc.bin) .. " -i < " .. proc.quote(inf) .. " 2>&1", "r")
    local out = p:read("a")
    p:close()
    assert.matches("> error%('x'%)\nstdin:1: x\nstack traceback:", out)
    assert.matches("\n> print%('after'%)\nafter\n", out)
  end)

  it("-W turns warnings on", function()
    local _, err = run{"-e", "warn('quiet')"}
    assert.equal("", err)
    local _, err2, status = run{"-W", "-e", "warn('loud')"}
    assert.equal(0, status)
    assert.matches("Lua warning: loud", err2, 1, true)
  end)

  it("LUA_INIT_5_4, else LUA_INIT, runs first (a string or @file); -E ignores it and LUA_PATH", function()
    local out = run{"-e", "print(X)", env = {LUA_INIT = "X = 1"}}
    assert.equal("1\n", out)
    out = run{"-e", "print(X)", env = {LUA_INIT = "X = 1", LUA_INIT_5_4 = "X = 2"}}
    assert.equal("2\n", out)
    local init = write(dir .. "/init.lua", "X = 'file'")
    out = run{"-e", "print(X)", env = {LUA_INIT = "@" .. init}}
    assert.equal("file\n", out)
    local _, err, status = run{"-e", "print(X)", env = {LUA_INIT = "error('in init')"}}
    assert.equal(1, status)
    assert.matches("LUA_INIT:1: in init", err, 1, true)
    local out2, err2, status2 = run{"-E", "-e", "print(X, package.path:find('xxx', 1, true))",
                                    env = {LUA_INIT = "error('in init')", LUA_PATH = "xxx"}}
    assert.equal(0, status2, err2)
    assert.equal("nil\tnil\n", out2)
  end)

  it("CTHREADS_GIL and CTHREADS_TIME_SCALE with meaningless values are errors", function()
    for _, env in ipairs{{CTHREADS_GIL = "abc"}, {CTHREADS_GIL = "2"}, {CTHREADS_GIL = "on"}} do
      local out, err, status = run{"-e", "print('ran')", env = env}
      assert.equal(1, status)
      assert.equal("", out)
      assert.matches("CTHREADS_GIL must be 0 or 1 (got '" .. env.CTHREADS_GIL .. "')", err, 1, true)
    end
    for _, v in ipairs{"abc", "-1", "nan", "1x"} do
      local out, err, status = run{"-e", "print('ran')", env = {CTHREADS_TIME_SCALE = v}}
      assert.equal(1, status)
      assert.equal("", out)
      assert.matches("CTHREADS_TIME_SCALE must be a number", err, 1, true)
    end
    -- --gil and --no-gil override CTHREADS_GIL; -E ignores both; empty means unset
    assert.equal("true\n", (run{"--gil", "-e", "print(threading.gil_enabled())",
                                env = {CTHREADS_GIL = "abc"}}))
    assert.equal("ran\n", (run{"-E", "-e", "print('ran')",
                               env = {CTHREADS_GIL = "abc", CTHREADS_TIME_SCALE = "x"}}))
    assert.equal("ran\n", (run{"-e", "print('ran')", env = {CTHREADS_GIL = "", CTHREADS_TIME_SCALE = ""}}))
  end)

  it("an empty CTHREADS_TIME_SCALE is unset: sleeps are not scaled", function()
    -- it once made every sleep 0; a sleep never ends early, so this bound holds
    local out, err, status = run{"-e", "local t = time.monotonic(); time.sleep(0.05); " ..
                                       "print(time.monotonic() - t >= 0.05)",
                                 env = {CTHREADS_TIME_SCALE = ""}}
    assert.equal(0, status, err)
    assert.equal("true\n", out)
  end)

  it("-E also ignores CTHREADS_GIL and CTHREADS_TIME_SCALE (--gil still counts)", function()
    local probe = "local t = time.monotonic(); time.sleep(0.05); " ..
                  "print(threading.gil_enabled(), time.monotonic() - t >= 0.05)"
    local env = {CTHREADS_GIL = "1", CTHREADS_TIME_SCALE = "0"}
    local out, err, status = run{"-E", "-e", probe, env = env}
    assert.equal(0, status, err)
    assert.equal("false\ttrue\n", out)
    out = run{"-E", "--gil", "-e", "print(threading.gil_enabled())", env = env}
    assert.equal("true\n", out)
    out = run{"-e", probe, env = env}
    assert.equal("true\tfalse\n", out)
  end)
end)

describe("command line: errors and exit statuses", function()
  local dir
  setup(function() dir = tmpdir() end)
  teardown(function() rmrf(dir) end)

  it("a bad argument names the function the same way in every run", function()
    -- a module loaded under several names (time, cthreads.native.time)
    -- once gave whichever name the table walk met first
    local code = "local l = threading.Lock(); " ..
      "print(select(2, pcall(time.sleep, 'x'))); " ..
      "print(select(2, pcall(threading.setswitchinterval, 'x'))); " ..
      "print(select(2, pcall(l.acquire, l, true, 'x')))"
    local want = "bad argument #1 to 'time.sleep' (number expected, got string)\n" ..
      "bad argument #1 to 'threading.setswitchinterval' (number expected, got string)\n" ..
      "bad argument #3 to 'acquire' (number expected, got string)\n"
    for _ = 1, 6 do  -- each run hashes strings with a new seed
      local out, err, status = run{"-e", code}
      assert.equal(0, status, err)
      assert.equal(want, out)
    end
  end)

  local function script(name, code) return write(dir .. "/" .. name, code) end

  it("a syntax error: message on stderr, status 1, nothing run", function()
    local out, err, status = run{script("syntax.lua", "print('ran')\nx x")}
    assert.equal(1, status)
    assert.equal("", out)
    assert.matches("^cthreads: .-syntax%.lua:2: syntax error near 'x'\n$", err)
  end)

  it("a runtime error in the main chunk: message and traceback, status 1", function()
    local _, err, status = run{script("rt.lua", "local function f() error('boom') end\nf()")}
    assert.equal(1, status)
    assert.matches("^cthreads: .-rt%.lua:1: boom\nstack traceback:", err)
  end)

  it("error() with a table that has __tostring prints that, as lua does", function()
    local _, err, status = run{script("ts.lua",
      "error(setmetatable({}, {__tostring = function() return 'custom error' end}))")}
    assert.equal(1, status)
    assert.equal("cthreads: custom error\n", err)
  end)

  it("error() with other values names their type", function()
    for code, what in pairs{["error({})"] = "table", ["error()"] = "nil",
                            ["error(true)"] = "boolean"} do
      local _, err, status = run{"-e", code}
      assert.equal(1, status)
      assert.matches("cthreads: (error object is a " .. what .. " value)", err, 1, true)
    end
    local _, err, status = run{"-e", "error(42)"}
    assert.equal(1, status)
    assert.matches("cthreads: 42\n", err, 1, true)
  end)

  it("os.exit(n) exits with n, with no message", function()
    for code, want in pairs{["os.exit(3)"] = 3, ["os.exit(true)"] = 0, ["os.exit(false)"] = 1,
                            ["os.exit()"] = 0, ["os.exit(5, true)"] = 5} do
      local _, err, status = run{"-e", code}
      assert.equal(want, status, code)
      assert.equal("", err, code)
    end
  end)

  it("os.exit(n, true) while other threads run exits with n and does not crash", function()
    local busy = "threading.Thread{target = function() while true do end end, daemon = true}:start()\n"
    local sleeper = "threading.Thread{target = function() while true do time.sleep(0.001) end end," ..
                    " daemon = true}:start()\n"
    local blocked = "threading.Thread{target = function() queue.Queue():get() end, daemon = true}:start()\n"
    local started = "local e = threading.Event()\n" ..
                    "threading.Thread{target = function() e:set() local t = {} " ..
                    "while true do t[#t % 100 + 1] = {} end end, daemon = true}:start()\ne:wait()\n"
    local cases = {
      {busy .. "time.sleep(0.02) os.exit(3, true)", 3},
      {sleeper .. blocked .. "time.sleep(0.02) os.exit(4, true)", 4},
      {started .. "os.exit(5, true)", 5},
      -- from a thread, with the main thread waiting for it
      {busy .. "threading.Thread{target = function() os.exit(6, true) end}:start()", 6},
      {busy .. "time.sleep(0.02) os.exit(7)", 7},
    }
    for _, case in ipairs(cases) do
      for _ = 1, 3 do
        local _, err, status = run{"-e", case[1]}
        assert.equal(case[2], status, case[1] .. "\n" .. err)
        assert.equal("", err)
      end
    end
    -- alone, the state is closed: to-be-closed variables and finalizers run
    local out, _, status = run{"-e", "local x <close> = setmetatable({}, {__close = function() " ..
                                    "print('closed') end}) os.exit(2, true)"}
    assert.equal(2, status)
    assert.equal("closed\n", out)
  end)

  it("a script that does not exist", function()
    local _, err, status = run{dir .. "/nope.lua"}
    assert.equal(1, status)
    assert.matches("cannot open " .. dir .. "/nope.lua", err, 1, true)
  end)

  it("bad options print the usage and exit with 1", function()
    for opt, msg in pairs{["-x"] = "unrecognized option '-x'",
                          ["--nope"] = "unrecognized option '--nope'",
                          ["-vv"] = "unrecognized option '-vv'",
                          ["-Ex"] = "unrecognized option '-Ex'",
                          ["-e"] = "'-e' needs argument", ["-l"] = "'-l' needs argument"} do
      local out, err, status = run{opt}
      assert.equal(1, status, opt)
      assert.equal("", out)
      assert.matches(msg, err, 1, true)
      assert.matches("usage: cthreads", err, 1, true)
    end
    local _, err, status = run{"-e", "a"}
    assert.equal(1, status)
    assert.matches("syntax error", err, 1, true)
  end)

  it("--help prints the usage on stdout", function()
    local out, _, status = run{"--help"}
    assert.equal(0, status)
    assert.matches("usage: cthreads", out, 1, true)
    assert.matches("--switch-interval", out, 1, true)
  end)

  it("an error in a thread is reported and the program goes on (status 0)", function()
    local out, err, status = run{"-e", [[
      local t = threading.Thread{name = "bad-worker", target = function() error("in thread") end}
      t:start(); t:join(); print("main goes on")]]}
    assert.equal(0, status)
    assert.equal("main goes on\n", out)
    assert.matches("Exception in thread bad-worker", err, 1, true)
    assert.matches("in thread", err, 1, true)
  end)

  it("a syntax error in code loaded by a thread is an error in that thread", function()
    local out, err, status = run{"-e", [[
      local t = threading.Thread{target = function() assert(load("x x"))() end}
      t:start(); t:join(); print("ok")]]}
    assert.equal(0, status)
    assert.equal("ok\n", out)
    assert.matches("syntax error", err, 1, true)
  end)

  it("an error in the main chunk while threads run still waits for them", function()
    local out, _, status = run{"-e", [[
      threading.Thread{target = function() time.sleep(0.05) print("worker done") end}:start()
      error("main fails")]]}
    assert.equal(1, status)
    assert.equal("worker done\n", out)
  end)

  it("daemon threads do not keep the process alive", function()
    local out, _, status = run{"-e", [[
      threading.Thread{daemon = true, target = function() while true do end end}:start()
      print("bye")]]}
    assert.equal(0, status)
    assert.equal("bye\n", out)
  end)

  it("a second Ctrl-C ends a script stuck in C code that never checks for it", function()
    local outf = os.tmpname()
    -- A Ctrl-C that comes before string.find (a stall of the script) is an
    -- ordinary error: caught and the search started again, so that the run
    -- still ends with a second Ctrl-C during the search, whatever the timing.
    local sh = ([[
      %s -e "local s = string.rep('a', 100000); print('ready'); io.stdout:flush(); while true do pcall(function() while true do string.find(s, '.*b') end end) end" > %s 2>/dev/null &
      pid=$!
      i=0
      while [ $i -lt 3000 ] && ! grep -q ready %s 2>/dev/null; do sleep 0.01; i=$((i+1)); done
      sleep 0.5  # most likely in string.find by now
      n=0
      while [ $n -lt 50 ] && kill -INT $pid 2>/dev/null; do n=$((n+1)); sleep 0.2; done
      wait $pid
      echo "status=$? kills=$n"
    ]]):format(proc.quote(proc.bin), proc.quote(outf), proc.quote(outf))
    local p = io.popen(sh, "r")
    local out = p:read("a")
    p:close()
    os.remove(outf)
    assert.matches("status=130", out, 1, true)
    local kills = tonumber(out:match("kills=(%d+)"))
    assert.is_true(kills >= 2 and kills < 50, out)
  end)
end)

describe("command line: runtime options", function()
  local dir
  setup(function() dir = tmpdir() end)
  teardown(function() rmrf(dir) end)

  it("--gil turns the GIL on, whatever CTHREADS_GIL says", function()
    local out, err, status = run{"--gil", "-e", "print(threading.gil_enabled())",
                                 env = {CTHREADS_GIL = "0"}}
    assert.equal(0, status, err)
    assert.equal("true\n", out)
    out = run{"-e", "print(threading.gil_enabled())", env = {CTHREADS_GIL = "1"}}
    assert.equal("true\n", out)
  end)

  it("--no-gil and CTHREADS_GIL=0 run free-threaded, or are refused with status 2", function()
    local cases = {{"--no-gil", "-e", "print(threading.gil_enabled())"},
                   {"-e", "print(threading.gil_enabled())", env = {CTHREADS_GIL = "0"}}}
    for _, args in ipairs(cases) do
      local out, err, status = run(args)
      if nogil_supported() then
        assert.equal(0, status, err)
        assert.equal("false\n", out)
      else
        assert.equal(2, status)
        assert.equal("", out)
        assert.matches("not available yet", err, 1, true)
        assert.matches("--gil", err, 1, true)
      end
    end
  end)

  it("--switch-interval=S and --switch-interval S set the switch interval", function()
    local out, err, status = run{"--switch-interval=0.02", "-e", "print(threading.getswitchinterval())"}
    assert.equal(0, status, err)
    assert.equal(0.02, tonumber(out))
    out = run{"--switch-interval", "0.5", "-e", "print(threading.getswitchinterval())"}
    assert.equal(0.5, tonumber(out))
  end)

  it("--switch-interval must be a positive number", function()
    for _, args in ipairs{{"--switch-interval=0"}, {"--switch-interval=-1"},
                          {"--switch-interval=abc"}, {"--switch-interval="},
                          {"--switch-interval"}, {"--switch-interval=nan"}} do
      args[#args + 1] = "-e"
      args[#args + 1] = "print('ran')"
      local out, err, status = run(args)
      assert.equal(1, status, args[1])
      assert.equal("", out)
      assert.matches("--switch-interval needs a positive number", err, 1, true)
    end
  end)

  it("--stats prints the per-thread table on stderr at exit", function()
    local out, err, status = run{"--stats", "-e", [[
      local t = threading.Thread{name = "counter", target = function() for i = 1, 1e5 do end end}
      t:start(); t:join(); print("done")]]}
    assert.equal(0, status, err)
    assert.equal("done\n", out)
    assert.matches("cthreads stats", err, 1, true)
    assert.matches("\n0 +MainThread ", err)
    assert.matches("\n1 +counter ", err)
    assert.matches("gil held", err, 1, true)
  end)

  it("--stats also prints when the script ends with os.exit", function()
    local _, err, status = run{"--stats", "-e", "os.exit(4)"}
    assert.equal(4, status)
    assert.matches("MainThread", err, 1, true)
  end)

  it("--compare runs the script in both modes and prints the timings", function()
    local s = write(dir .. "/cmp.lua", "print('run', threading.gil_enabled(), ...)")
    local out, err, status = run{"--compare", s, "arg1"}
    assert.equal(0, status, err)
    assert.matches("run\ttrue\targ1", out, 1, true)
    assert.matches("GIL on", err, 1, true)
    assert.matches("GIL off", err, 1, true)
    assert.matches("wall s", err, 1, true)
    if nogil_supported() then
      assert.matches("run\tfalse\targ1", out, 1, true)
      assert.matches("ratio", err, 1, true)
    else
      assert.matches("not available", err, 1, true)
    end
    local _, _, st = run{"--compare", write(dir .. "/fail.lua", "os.exit(3)")}
    assert.equal(3, st)
    -- with no script, stdin is the script (as for lua) when it is not a
    -- terminal (scripts/test/repl_pty.py checks the terminal's refusal)
    local out3, err3, st3 = run{"--compare", stdin = "print('piped', threading.gil_enabled())"}
    assert.equal(0, st3, err3)
    assert.matches("piped\ttrue\n", out3, 1, true)
    assert.matches("(stdin)", err3, 1, true)
    if nogil_supported() then assert.matches("piped\tfalse\n", out3, 1, true) end
  end)

  -- runs 'sh' (a shell command line) -> stdout, stderr, status
  local function sh(cmd)
    local errf = os.tmpname()
    local p = io.popen(cmd .. " 2>" .. proc.quote(errf), "r")
    local out = p:read("a")
    local _, _, status = p:close()
    local err = slurp(errf)
    os.remove(errf)
    return out, err, status
  end

  it("--compare gives both runs the same stdin: a file, or a pipe", function()
    if not nogil_supported() then return end
    local s = write(dir .. "/lines.lua", [[
      local n, sum = 0, 0
      for l in io.lines() do n = n + 1; sum = sum + tonumber(l) end
      print(threading.gil_enabled(), n, sum)]])
    local input = {}
    for i = 1, 20000 do input[i] = i end  -- more than a pipe holds
    input = table.concat(input, "\n") .. "\n"
    local want = "true\t20000\t200010000\nfalse\t20000\t200010000\n"
    local out, err, status = run{"--compare", s, stdin = input}
    assert.equal(0, status, err)
    assert.equal(want, out)
    local infile = write(dir .. "/input.txt", input)
    out, err, status = sh("cat " .. proc.quote(infile) .. " | " .. proc.quote(proc.bin) ..
                          " --compare " .. proc.quote(s))
    assert.equal(0, status, err)
    assert.equal(want, out)
    -- a script from a pipe, reading the rest of it
    out, err, status = sh("printf 'print(threading.gil_enabled(), ...)\\n' | " ..
                          proc.quote(proc.bin) .. " --compare - a b")
    assert.equal(0, status, err)
    assert.equal("true\ta\tb\nfalse\ta\tb\n", out)
    -- a pipe that is never closed does not stop a script that does not read it
    out, err, status = sh("(sleep 30 &) | " .. proc.quote(proc.bin) .. " --compare -e 'print(1)'")
    assert.equal(0, status, err)
    assert.equal("1\n1\n", out)
  end)

  it("--compare says when the two runs ended differently", function()
    if not nogil_supported() then return end
    local s = write(dir .. "/onlyon.lua", "if threading.gil_enabled() then os.exit(4) end")
    local _, err, status = run{"--compare", s}
    assert.equal(4, status)
    assert.matches("\nGIL on .- 4\nGIL off .- 0\n", err)
    assert.matches("the runs ended differently", err, 1, true)
  end)

  it("--compare with --trace writes one timeline per run", function()
    if not nogil_supported() then return end
    local json = require("dkjson")
    local s = write(dir .. "/t.lua", "threading.Thread{target = function() end}:start()")
    local _, err, status = run{"--trace", dir .. "/cmp.json", "--compare", s}
    assert.equal(0, status, err)
    assert.matches("traces: " .. dir .. "/cmp.gil-on.json, " .. dir .. "/cmp.gil-off.json", err, 1, true)
    assert.is_nil(slurp(dir .. "/cmp.json"))
    for mode, file in pairs{on = "/cmp.gil-on.json", off = "/cmp.gil-off.json"} do
      local text = assert(slurp(dir .. file), file)
      local doc = json.decode(text)
      assert.equal(mode, doc.otherData.gil)
    end
  end)

  it("--compare stops after the run that a SIGINT interrupted", function()
    local s = write(dir .. "/spin.lua", "print('ready') io.stdout:flush() while true do end")
    local outf = dir .. "/spin.out"
    -- the signal goes to --compare alone (kill), which passes it on to the run
    local out = sh(([[
      %s --compare %s > %s 2>&1 &
      pid=$!
      (sleep 60 && pkill -KILL -P $pid && kill -KILL $pid) >/dev/null 2>&1 &
      watchdog=$!
      i=0
      while [ $i -lt 3000 ] && ! grep -q ready %s 2>/dev/null; do sleep 0.01; i=$((i+1)); done
      kill -INT $pid
      wait $pid
      echo "status=$?"
      pkill -P $watchdog sleep 2>/dev/null; kill $watchdog 2>/dev/null
    ]]):format(proc.quote(proc.bin), proc.quote(s), proc.quote(outf), proc.quote(outf)))
    local log = slurp(outf)
    assert.matches("status=1\n", out, 1, true)
    assert.matches("interrupted!", log, 1, true)
    assert.matches("GIL off   (not run: interrupted)", log, 1, true)
    assert.is_nil(log:find("--compare: GIL off", 1, true), log)
  end)
end)

describe("command line: --trace", function()
  local json = require("dkjson")
  local dir
  setup(function() dir = tmpdir() end)
  teardown(function() rmrf(dir) end)

  local function events_by_thread(doc)
    local names, kinds = {}, {}
    for _, e in ipairs(doc.traceEvents) do
      if e.ph == "M" and e.name == "thread_name" then names[e.tid] = e.args.name end
    end
    for _, e in ipairs(doc.traceEvents) do
      if e.ph == "X" then
        local name = names[e.tid]
        assert.is_not_nil(name, "an event for a thread without a name")
        assert.is_number(e.ts)
        assert.is_number(e.dur)
        assert.is_true(e.dur >= 0)
        kinds[name] = kinds[name] or {}
        kinds[name][e.name] = (kinds[name][e.name] or 0) + 1
      end
    end
    return kinds
  end

  it("writes a Chrome trace-event JSON timeline with each thread", function()
    local file = dir .. "/trace.json"
    local out, err, status = run{"--trace=" .. file, "-e", [[
      local lock = threading.Lock()
      lock:acquire()
      local timed_out = threading.Semaphore(0)
      local ts = {}
      for i = 1, 2 do
        ts[i] = threading.Thread{name = "worker-" .. i, target = function()
          -- main holds the lock until both workers have waited on it in
          -- vain (not a sleep of main's that a slow thread start outlasts)
          assert(not lock:acquire(true, 0.005))
          timed_out:release()
          lock:acquire(); lock:release()
          for _ = 1, 2e5 do end
        end}
        ts[i]:start()
      end
      for _ = 1, 2 do timed_out:acquire() end
      time.sleep(0.02)
      lock:release()
      for _, t in ipairs(ts) do t:join() end
      print("ok")]]}
    assert.equal(0, status, err)
    assert.equal("ok\n", out)
    local doc, _, msg = json.decode(assert(slurp(file)))
    assert.is_table(doc, msg)
    assert.is_table(doc.traceEvents)
    for _, e in ipairs(doc.traceEvents) do  -- metadata events too
      for _, k in ipairs{"ph", "ts", "pid", "tid"} do
        assert.is_not_nil(e[k], ("an event without %s: %s"):format(k, json.encode(e)))
      end
    end
    local kinds = events_by_thread(doc)
    for _, name in ipairs{"MainThread", "worker-1", "worker-2"} do
      assert.is_table(kinds[name], "no events for " .. name)
      assert.is_true((kinds[name].running or 0) > 0, name .. " never ran")
    end
    -- the workers waited on the lock: detached, so "blocked"
    assert.is_true((kinds["worker-1"].blocked or 0) > 0)
    assert.is_true((kinds["worker-2"].blocked or 0) > 0)
    assert.is_true((kinds.MainThread.blocked or 0) > 0)  -- the sleep and the joins
  end)

  it("writes valid UTF-8 whatever bytes a thread's name holds", function()
    local file = dir .. "/trace3.json"
    local _, err, status = run{"--trace=" .. file, "-e", [[
      local t = threading.Thread{target = function() end, name = "caf\xc3\xa9 \255\xe2\x82"}
      t:start(); t:join()]]}
    assert.equal(0, status, err)
    local text = assert(slurp(file))
    assert.is_not_nil(utf8.len(text), "the trace is not UTF-8")
    local doc = json.decode(text)
    local kinds = events_by_thread(doc)
    assert.is_table(kinds["caf\u{e9} \u{fffd}\u{fffd}\u{fffd}"])
  end)

  -- a thread that attached while a collection had stopped the world was
  -- shown waiting for a GIL that --no-gil does not have
  it("shows no GIL waits with the GIL off, collections under way included", function()
    if not nogil_supported() then return end
    local file = dir .. "/trace-nogil.json"
    local _, err, status = run{"--no-gil", "--trace=" .. file, "-e", [[
      local stop = false
      local ts = {}
      for i = 1, 3 do  -- each attaches again and again
        ts[i] = threading.Thread(function() while not stop do time.sleep(0) end end)
        ts[i]:start()
      end
      for _ = 1, 100 do  -- and each collection stops the world
        local t = {}
        for j = 1, 2000 do t[j] = {j} end
        collectgarbage()
      end
      stop = true
      for i = 1, 3 do ts[i]:join() end]]}
    assert.equal(0, status, err)
    local kinds = events_by_thread(json.decode(assert(slurp(file))))
    for name, k in pairs(kinds) do
      assert.is_nil(k["waiting for GIL"], name .. " waited for the GIL")
    end
    assert.is_true((kinds.MainThread.GC or 0) > 0)
  end)

  it("accepts --trace FILE, writes it at os.exit too", function()
    local file = dir .. "/trace2.json"
    local _, err, status = run{"--trace", file, "-e", "os.exit(0)"}
    assert.equal(0, status, err)
    local doc = json.decode(assert(slurp(file)))
    assert.is_table(doc)
    assert.is_table(events_by_thread(doc).MainThread)
  end)

  it("fails cleanly when the file cannot be written", function()
    local out, err, status = run{"--trace=" .. dir .. "/no/such/dir/t.json", "-e", "print('ran')"}
    assert.equal(1, status)
    assert.equal("", out)
    assert.matches("cannot open trace file", err, 1, true)
    local _, err2, status2 = run{"--trace=", "-e", "print('ran')"}
    assert.equal(1, status2)
    assert.matches("--trace needs a file name", err2, 1, true)
  end)

  it("never overwrites a Lua file: 'cthreads --trace script.lua' is refused", function()
    local script = write(dir .. "/keep.lua", "print('kept')")
    for _, args in ipairs{{"--trace", script}, {"--trace=" .. script, "-e", "x = 1"}} do
      local out, err, status = run(args)
      assert.equal(1, status)
      assert.equal("", out)
      assert.matches("--trace would overwrite the Lua file", err, 1, true)
      assert.equal("print('kept')", slurp(script))
    end
  end)
end)

describe("bad arguments to the builtins", function()
  -- Calls every public function of threading and time, os.getpid, the
  -- constructors and every method of the classes with wrong values, each
  -- in pcall. Nothing may crash or hang; errors must read well: a string
  -- (or an error value with __tostring), never Lua's own "attempt to ..."
  -- from inside the library.
  it("raise clear errors, never crash or hang", function()
    local out, err, status = proc.run{bin = "timeout", "-s", "KILL", LIMIT, proc.bin, "-e", [==[
      local bad = {n = 9, nil, true, {}, "x", print, coroutine.create(print), io.stdout, 0/0, -1}
      local function show(v) return type(v) == "number" and tostring(v) or type(v) end
      local calls, errors, unclear = 0, 0, {}
      local function try(what, f, ...)
        calls = calls + 1
        local ok, e = pcall(f, ...)
        if ok then return end
        errors = errors + 1
        local mt = getmetatable(e)
        local msg = type(e) == "string" and e
                    or (type(mt) == "table" and mt.__tostring and tostring(e))
        if not msg or msg:find("attempt to ", 1, true) then
          unclear[#unclear + 1] = what .. ": " .. tostring(msg or type(e))
        end
      end
      local function sorted_functions(t)
        local names = {}
        for k, v in pairs(t) do
          if type(k) == "string" and k:sub(1, 1) ~= "_" and type(v) == "function" then
            names[#names + 1] = k
          end
        end
        table.sort(names)
        return names
      end
      -- module functions: each argument position gets each bad value
      -- (time.sleep only non-numbers and nan/-1, which cannot hang)
      for _, mod in ipairs{"threading", "time"} do
        for _, name in ipairs(sorted_functions(_G[mod])) do
          for i = 1, bad.n do
            for pos = 1, 3 do
              local args = {}
              args[pos] = bad[i]
              try(mod .. "." .. name .. "(#" .. pos .. "=" .. show(bad[i]) .. ")",
                  _G[mod][name], table.unpack(args, 1, 3))
            end
          end
        end
      end
      try("os.getpid", os.getpid, {})
      -- classes: constructors with bad values; methods on bad selves (which
      -- cannot block); for Thread, Lock and RLock also bad arguments
      local safe = {Thread = true, Lock = true, RLock = true}
      local function fresh(name)
        if name == "Thread" then return threading.Thread{target = function() end} end
        return threading[name]()
      end
      for name, cls in pairs(threading) do
        if type(cls) == "table" and getmetatable(cls) and getmetatable(cls).__call
           and rawget(cls, "extend") == nil and type(cls.extend) == "function" then
          for i = 1, bad.n do
            try(name .. "(" .. show(bad[i]) .. ")", cls, bad[i])
          end
          for _, m in ipairs(sorted_functions(cls)) do
            if m ~= "extend" and m ~= "init" and m ~= "is" then
              for i = 1, bad.n do try(name .. "." .. m .. "(self=" .. show(bad[i]) .. ")", cls[m], bad[i]) end
              if safe[name] then
                for i = 1, bad.n do
                  for pos = 1, 2 do
                    local args = {}
                    args[pos] = bad[i]
                    try(name .. ":" .. m .. "(#" .. pos .. "=" .. show(bad[i]) .. ")",
                        cls[m], fresh(name), table.unpack(args, 1, 2))
                  end
                end
              end
            end
          end
        end
      end
      print("\ncalls", calls, "errors", errors)
      for _, u in ipairs(unclear) do print("UNCLEAR", u) end
    ]==]}
    assert.equal(0, status, err)
    local calls, errors = out:match("\ncalls\t(%d+)\terrors\t(%d+)\n")
    assert.is_not_nil(calls, out)
    assert.is_true(tonumber(calls) > 500)
    assert.is_true(tonumber(errors) > 300)
    local unclear = {}
    for line in out:gmatch("UNCLEAR[^\n]*") do unclear[#unclear + 1] = line end
    assert.same({}, unclear)
  end)

  it("report the argument in Lua's words", function()
    local out, err, status = run{"-e", [[
      print(select(2, pcall(time.sleep, "x")))
      print(select(2, pcall(time.sleep, -1)))
      print(select(2, pcall(threading.setswitchinterval, 0)))
      print(select(2, pcall(threading.Thread, 42)))
      print(select(2, pcall(threading.Thread.join, 5)))
      print(select(2, pcall(function() threading.Lock():with(7) end)))
      print(select(2, pcall(function() threading.Thread{target = print}:join("soon") end)))]]}
    assert.equal(0, status, err)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    -- a function called through pcall has no name of its own: Lua finds
    -- one in package.loaded ('time.sleep', or the native module's name)
    assert.matches("bad argument #1 to '[%w.]*sleep' %(number expected, got string%)", lines[1])
    assert.matches("bad argument #1 to '[%w.]*sleep'", lines[2])
    assert.matches("bad argument #1 to '[%w.]*setswitchinterval'", lines[3])
    assert.matches("bad argument #1 to 'Thread'", lines[4], 1, true)
    assert.matches("bad argument #1 to 'join' (Thread expected, got number)", lines[5], 1, true)
    assert.matches("bad argument #1 to 'with' (function expected, got number)", lines[6], 1, true)
    assert.matches("bad argument #1 to 'join' (number expected, got string)", lines[7], 1, true)
  end)
end)
