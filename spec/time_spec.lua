-- The time module, and os.getpid.
local proc = require("proc")

describe("time", function()
  it("has Python's clocks", function()
    assert.is_number(time.time())
    assert.is_true(time.time() > 1.6e9)
    local a = time.monotonic()
    local b = time.monotonic()
    assert.is_true(b >= a)
    assert.is_number(time.perf_counter())
    assert.is_number(time.process_time())
    assert.is_number(time.thread_time())
    assert.is_true(math.type(time.time_ns()) == "integer")
    assert.is_true(math.type(time.monotonic_ns()) == "integer")
  end)

  it("sleep waits at least the time asked", function()
    local t0 = time.monotonic()
    time.sleep(0.02)
    assert.is_true(time.monotonic() - t0 >= 0.019)
    time.sleep(0)
  end)

  it("sleep checks its argument", function()
    assert.has_error(function() time.sleep(-1) end,
      "bad argument #1 to 'sleep' (sleep length must be non-negative)")
    assert.has_error(function() time.sleep("x") end)
    assert.has_error(function() time.sleep() end)
  end)

  -- found by scripts/test/argsweep.lua: these slept (nearly) forever;
  -- Python raises OverflowError for a length that does not fit 64-bit
  -- nanoseconds
  it("sleep refuses a length too large, as Python's OverflowError", function()
    -- in a child under timeout: were one accepted, it would sleep for ages
    local out, err, code = proc.run{bin = "timeout", "-s", "KILL", "20", proc.bin, "-e", [[
      for _, s in ipairs{math.huge, 1e308, math.maxinteger, 1e10} do
        print(select(2, pcall(time.sleep, s)))
      end]]}
    assert.equal(0, code, err)
    -- (through pcall, Lua names it from package.loaded: 'time.sleep')
    local n = 0
    for line in out:gmatch("[^\n]+") do
      assert.matches("^bad argument #1 to '[%w.]*sleep' %(sleep length is too large%)$", line)
      n = n + 1
    end
    assert.equal(4, n)
    -- the largest lengths are accepted (scaled to nothing here, to return)
    out, err, code = proc.run{"-e", "time.sleep(9e9) time.sleep(9223372036) print('slept')",
                              env = {CTHREADS_TIME_SCALE = "0"}}
    assert.equal(0, code, err)
    assert.equal("slept\n", out)
  end)

  it("sleep lets other threads run", function()
    local done = false
    local t = threading.Thread{target = function() done = true end}
    t:start()
    while not done do time.sleep(0.001) end
    t:join()
    assert.is_true(done)
  end)

  it("os.execute lets other threads run while the command runs", function()
    -- the command makes 'a' and waits (10 s at most) for 'b', which a
    -- thread makes only once 'a' exists, so only while the command runs
    local dir = os.tmpname()
    os.remove(dir)
    local a, b = dir .. ".a", dir .. ".b"
    local t = threading.Thread{target = function()
      for _ = 1, 10000 do
        local f = io.open(a)
        if f then f:close() break end
        time.sleep(0.001)
      end
      io.open(b, "w"):close()
    end}
    t:start()
    local ok = os.execute(("touch %s; i=0; while [ ! -e %s ] && [ $i -lt 1000 ]; " ..
                           "do sleep 0.01; i=$((i+1)); done; [ -e %s ]"):format(a, b, b))
    t:join()
    os.remove(a)
    os.remove(b)
    assert.is_true(ok)
  end)

  it("a flush blocked on a full pipe lets other threads run", function()
    -- the reader reads only once a thread has made 'b' (10 s at most,
    -- then it makes 't' and reads anyway); the thread makes 'b' once the
    -- writer is about to fill the pipe and flush into it
    local dir = os.tmpname()
    os.remove(dir)
    local b, timedout = dir .. ".b", dir .. ".t"
    local f = io.popen(("i=0; while [ ! -e %s ] && [ $i -lt 1000 ]; do sleep 0.01; " ..
                        "i=$((i+1)); done; [ -e %s ] || touch %s; cat >/dev/null")
                       :format(b, b, timedout), "w")
    local writing = false
    local t = threading.Thread{target = function()
      while not writing do time.sleep(0.001) end
      io.open(b, "w"):close()
    end}
    t:start()
    writing = true
    f:write(("x"):rep(65536))   -- fills a pipe of Linux's default size
    f:write(("y"):rep(100))     -- left in the FILE's buffer
    assert.is_true(f:flush() ~= nil)
    f:close()
    t:join()
    local late = io.open(timedout)
    if late then late:close() end
    os.remove(b)
    os.remove(timedout)
    assert.is_nil(late)
  end)

  it("ctime formats like Python", function()
    local s = time.ctime(0)
    assert.matches("^%a%a%a %a%a%a [ %d]%d %d%d:%d%d:%d%d %d%d%d%d$", s)
    assert.is_string(time.ctime())
    assert.has_error(function() time.ctime("x") end)
  end)

  -- found reviewing what the sweep called: a float timestamp outside
  -- time_t's range (or NaN) was converted anyway (undefined behaviour)
  it("ctime refuses NaN and timestamps out of range, and floors fractions as Python", function()
    assert.has_error(function() time.ctime(0 / 0) end,
      "bad argument #1 to 'ctime' (timestamp must be a number, not nan)")
    for _, t in ipairs{1e308, -1e308, math.huge, -math.huge, math.maxinteger} do
      assert.has_error(function() time.ctime(t) end,
        "bad argument #1 to 'ctime' (timestamp out of range)")
    end
    assert.equal(time.ctime(1), time.ctime(1.9))
    assert.equal(time.ctime(-1), time.ctime(-0.5))
  end)

  it("CTHREADS_TIME_SCALE shortens sleeps", function()
    -- 30 s scaled to 9 ms; the bound is far from both (a stalled machine
    -- does not take 20 s for a 9 ms sleep; an unscaled one takes 30 s)
    local out, _, code = proc.run{"-e",
      "local t = time.monotonic(); time.sleep(30); print(time.monotonic() - t < 20)",
      env = {CTHREADS_TIME_SCALE = "0.0003"}}
    assert.equal(0, code)
    assert.equal("true\n", out)
  end)
end)

describe("os.getpid", function()
  it("returns this process's id", function()
    assert.is_true(math.type(os.getpid()) == "integer")
    assert.is_true(os.getpid() > 1)
    local out = proc.run{"-e", "print(os.getpid() ~= " .. os.getpid() .. ")"}
    assert.equal("true\n", out)
  end)
end)
