-- Races between threads that were bugs (docs/tsan.md), in both GIL modes:
-- a coroutine that another thread is running is left alone by
-- coroutine.status, resume, wrap and close; debug.setupvalue from another
-- thread reaches the variable; string buffers grown for the first time in
-- several threads at once; the debug library leaves alone the stack of a
-- coroutine (or a thread's state) that another thread runs. Deterministic:
-- the coroutine waits on an Event inside another thread while this one
-- looks at it.

local proc = require("proc")
local Thread = threading.Thread

-- runs body(co_function) in a thread, inside a coroutine that has set
-- 'started' and waits for 'go' before it yields 1 (then returns 2)
local function held_coroutine(wrap)
  local started, go = threading.Event(), threading.Event()
  local body = function()
    started:set()
    go:wait()
    coroutine.yield(1)
    return 2
  end
  local co, w
  if wrap then w = coroutine.wrap(body) else co = coroutine.create(body) end
  local results = {}
  local t = Thread{target = function()
    if wrap then results = {pcall(w)} else results = {coroutine.resume(co)} end
  end}
  t:start()
  started:wait()
  return {co = co, w = w, go = go, thread = t, results = function() return results end}
end

describe("a coroutine running in another thread", function()
  it("is 'normal' for coroutine.status, and cannot be resumed or closed here", function()
    local h = held_coroutine(false)
    assert.equal("normal", coroutine.status(h.co))
    local ok, err = coroutine.resume(h.co)
    assert.is_false(ok)
    assert.equal("cannot resume non-suspended coroutine", err)
    local cok, cerr = pcall(coroutine.close, h.co)
    assert.is_false(cok)
    assert.matches("cannot close a running coroutine", cerr, 1, true)
    h.go:set()
    h.thread:join()
    assert.same({true, 1}, h.results())  -- its own resume was not disturbed
    assert.equal("suspended", coroutine.status(h.co))
    assert.same({true, 2}, {coroutine.resume(h.co)})
    assert.equal("dead", coroutine.status(h.co))
  end)

  it("makes a call of its coroutine.wrap function fail, and is not disturbed", function()
    local h = held_coroutine(true)
    local ok, err = pcall(h.w)
    assert.is_false(ok)
    assert.matches("cannot resume non-suspended coroutine", err, 1, true)
    h.go:set()
    h.thread:join()
    assert.same({true, 1}, h.results())
    assert.equal(2, h.w())
    local ok2, err2 = pcall(h.w)
    assert.is_false(ok2)
    assert.matches("cannot resume dead coroutine", err2, 1, true)
  end)
end)

describe("coroutine.wrap with threads started", function()
  it("still propagates an error raised inside the coroutine, with its position", function()
    local t = Thread{target = function() end}
    t:start(); t:join()
    local w = coroutine.wrap(function() error("boom") end)
    local ok, err = pcall(w)
    assert.is_false(ok)
    assert.matches("freethreaded_spec.lua:%d+: boom", err)
    local ok2, err2 = pcall(w)
    assert.is_false(ok2)
    assert.matches("cannot resume dead coroutine", err2, 1, true)
  end)
end)

describe("debug.setupvalue from another thread", function()
  it("sets a variable that is still open in this thread's stack", function()
    local x = 1
    local function get() return x end
    local t = Thread{target = function()
      assert(debug.getupvalue(get, 1) == "x")
      debug.setupvalue(get, 1, 42)
    end}
    t:start(); t:join()
    assert.equal(42, x)
    assert.equal(42, get())
  end)

  it("sets a closed upvalue that other threads read", function()
    local get, set = (function()
      local v = "a"
      return function() return v end, function(n) v = n end
    end)()
    local threads = {}
    for i = 1, 4 do
      threads[i] = Thread{target = function()
        for _ = 1, 200 do
          debug.setupvalue(get, 1, i)
          local got = get()
          assert(type(got) == "number" or got == "a")
        end
      end}
      threads[i]:start()
    end
    for _, t in ipairs(threads) do t:join() end
    set("b")
    assert.equal("b", get())
  end)
end)

describe("string buffers", function()
  -- luaL_Buffer's box gets its metatable the first time a buffer grows;
  -- a thread could find it registered but still without __close
  it("grow for the first time in several threads at once", function()
    local code = [[
      local N = 8
      local b = threading.Barrier(N)
      local parts = {}
      for i = 1, 200 do parts[i] = "abcdefghij" end
      local ts, bad = {}, 0
      for i = 1, N do
        ts[i] = threading.Thread{target = function()
          b:wait()
          local ok, s = pcall(table.concat, parts)
          if not ok or #s ~= 2000 then bad = bad + 1 end
        end}
        ts[i]:start()
      end
      for i = 1, N do ts[i]:join() end
      print(bad)
    ]]
    for _ = 1, 10 do  -- each run is a new process: the first growth again
      local out, err, status = proc.lua(code)
      assert.equal(0, status, err)
      assert.equal("0\n", out)
    end
  end)
end)

describe("short strings made by several threads at once", function()
  it("are one string each, while the string table grows under them", function()
    local n = 40000
    local seen = {{}, {}}
    local ts = {}
    for tid = 1, 2 do
      ts[tid] = Thread{target = function()
        local mine = seen[tid]
        for i = 1, n do mine["s" .. i] = i end  -- both threads make the same strings
      end}
      ts[tid]:start()
    end
    for tid = 1, 2 do ts[tid]:join() end
    for i = 1, n, 7 do
      local key = string.format("s%d", i)  -- made again, found by identity
      assert.equal(i, seen[1][key])
      assert.equal(i, seen[2][key])
    end
    local count = 0
    for k in pairs(seen[1]) do
      assert.equal(seen[1][k], seen[2][k])
      count = count + 1
    end
    assert.equal(n, count)
  end)
end)

describe("the debug library on a coroutine that another thread runs", function()
  local BUSY = "cannot use a coroutine that another thread is running"

  -- each call that uses the coroutine's stack fails, and leaves it alone
  local function refused(co)
    local calls = {
      function() return debug.getinfo(co, 0, "Sl") end,
      function() return debug.getlocal(co, 1, 1) end,
      function() return debug.setlocal(co, 1, 1, "changed") end,
      function() return debug.traceback(co) end,
      function() return debug.traceback(co, "msg", 1) end,
      function() return debug.sethook(co, function() end, "l") end,
      function() return debug.gethook(co) end,
    }
    for i, f in ipairs(calls) do
      local ok, err = pcall(f)
      assert.is_false(ok, "call " .. i .. " was not refused")
      assert.matches(BUSY, err, 1, true)
    end
    -- what does not use its stack still works
    assert.equal("number", type(debug.getinfo(co, print, "S").linedefined))
  end

  it("refuses to use a coroutine's stack, which works again once it is suspended", function()
    local h = held_coroutine(false)
    refused(h.co)
    h.go:set()
    h.thread:join()
    assert.same({true, 1}, h.results())
    assert.is_table(debug.getinfo(h.co, 1, "Sl"))
    assert.matches("stack traceback:", debug.traceback(h.co), 1, true)
    assert.is_nil(debug.gethook(h.co))
    assert.same({true, 2}, {coroutine.resume(h.co)})
  end)

  it("refuses a thread's own state while the thread runs, and not once it has ended", function()
    local started, go = threading.Event(), threading.Event()
    local state
    local t = Thread{target = function()
      state = coroutine.running()
      local here = "a local"
      started:set()
      go:wait()
      return here
    end}
    t:start()
    started:wait()
    refused(state)
    assert.equal("normal", coroutine.status(state))
    go:set()
    t:join()
    -- ended: a dead coroutine to everyone
    assert.equal("dead", coroutine.status(state))
    local ok, err = coroutine.resume(state)
    assert.is_false(ok)
    assert.equal("cannot resume dead coroutine", err)
    assert.equal("stack traceback:", debug.traceback(state))
    assert.is_nil(debug.getinfo(state, 0))
  end)
end)
