-- threading.Barrier and threading.Local (API.md, "threading").

local Thread = threading.Thread

local function wait_until(pred)
  local t0 = time.monotonic()
  while not pred() do
    assert(time.monotonic() - t0 < 30, "timed out waiting for a condition")
    time.sleep(0.001)
  end
end

local function start(f, ...)
  local t = Thread{target = f, args = table.pack(...)}
  t:start()
  return t
end

-- runs f(i) in n threads, joins them, returns their results (or errors)
local function in_threads(n, f)
  local results, ts = {}, {}
  for i = 1, n do
    ts[i] = start(function()
      local ok, r = pcall(f, i)
      results[i] = {ok = ok, value = r}
    end)
  end
  for i = 1, n do ts[i]:join() end
  return results
end

describe("threading.Barrier", function()
  it("releases all parties together with distinct indices 0..n-1", function()
    local b = threading.Barrier(4)
    assert.equal(4, b.parties)
    assert.equal(0, b.n_waiting)
    assert.is_false(b.broken)
    local results = in_threads(4, function() return b:wait() end)
    local seen = {}
    for i = 1, 4 do
      assert.is_true(results[i].ok)
      local idx = results[i].value
      assert.is_true(idx >= 0 and idx <= 3)
      assert.is_nil(seen[idx])
      seen[idx] = true
    end
    assert.equal(0, b.n_waiting)
  end)

  it("is reusable across rounds", function()
    local b = threading.Barrier(3)
    local counts = {0, 0, 0}
    local progress = {0, 0, 0}
    local results = in_threads(3, function(i)
      for round = 1, 20 do
        progress[i] = round
        b:wait()
        -- after the barrier, everyone has reached this round
        for j = 1, 3 do assert(progress[j] >= round) end
        counts[i] = counts[i] + 1
        b:wait()
      end
    end)
    for i = 1, 3 do assert.is_true(results[i].ok, tostring(results[i].value)) end
    assert.same({20, 20, 20}, counts)
  end)

  it("n_waiting counts the threads waiting", function()
    local b = threading.Barrier(3)
    local t1 = start(function() b:wait() end)
    wait_until(function() return b.n_waiting == 1 end)
    local t2 = start(function() b:wait() end)
    wait_until(function() return b.n_waiting == 2 end)
    b:wait()
    t1:join(); t2:join()
    assert.equal(0, b.n_waiting)
  end)

  it("runs the action once per round, in one thread, before release", function()
    local ran = 0
    local b = threading.Barrier(3, function() ran = ran + 1 end)
    local after = {}
    in_threads(3, function(i) b:wait(); after[i] = ran end)
    assert.equal(1, ran)
    assert.same({1, 1, 1}, after)
    local named = threading.Barrier{parties = 2, action = function() ran = ran + 10 end}
    in_threads(2, function() named:wait() end)
    assert.equal(11, ran)
  end)

  it("an error in the action breaks the barrier", function()
    local b = threading.Barrier(3, function() error("action failed", 0) end)
    local results = in_threads(3, function() return b:wait() end)
    local action_errors, broken_errors = 0, 0
    for i = 1, 3 do
      assert.is_false(results[i].ok)
      if results[i].value == "action failed" then action_errors = action_errors + 1
      elseif results[i].value == threading.BrokenBarrierError then broken_errors = broken_errors + 1 end
    end
    assert.equal(1, action_errors)
    assert.equal(2, broken_errors)
    assert.is_true(b.broken)
    assert.has_error(function() b:wait() end, threading.BrokenBarrierError)
  end)

  it("a wait timeout breaks the barrier for everyone", function()
    local b = threading.Barrier(3)
    local results = in_threads(2, function(i)
      if i == 1 then return b:wait(0.05) end
      return b:wait()  -- no timeout: released by the break
    end)
    for i = 1, 2 do
      assert.is_false(results[i].ok)
      assert.equal(threading.BrokenBarrierError, results[i].value)
      assert.is_true(threading.BrokenBarrierError:is(results[i].value))
    end
    assert.is_true(b.broken)
  end)

  it("the default timeout applies to waits without one", function()
    local b = threading.Barrier(2, nil, 0.05)
    local t0 = time.monotonic()
    assert.has_error(function() b:wait() end, threading.BrokenBarrierError)
    assert.is_true(time.monotonic() - t0 >= 0.045)
  end)

  it("abort breaks waiting threads; reset makes it usable again", function()
    local b = threading.Barrier(3)
    local errs = {}
    local t1 = start(function() errs[1] = select(2, pcall(b.wait, b)) end)
    local t2 = start(function() errs[2] = select(2, pcall(b.wait, b)) end)
    wait_until(function() return b.n_waiting == 2 end)
    b:abort()
    t1:join(); t2:join()
    assert.equal(threading.BrokenBarrierError, errs[1])
    assert.equal(threading.BrokenBarrierError, errs[2])
    assert.is_true(b.broken)
    b:reset()
    assert.is_false(b.broken)
    local results = in_threads(3, function() return b:wait() end)
    for i = 1, 3 do assert.is_true(results[i].ok) end
  end)

  it("reset while threads wait raises BrokenBarrierError in them", function()
    local b = threading.Barrier(2)
    local err
    local t = start(function() err = select(2, pcall(b.wait, b)) end)
    wait_until(function() return b.n_waiting == 1 end)
    b:reset()
    t:join()
    assert.equal(threading.BrokenBarrierError, err)
    assert.is_false(b.broken)
    local results = in_threads(2, function() return b:wait() end)
    assert.is_true(results[1].ok and results[2].ok)
  end)

  it("BrokenBarrierError prints its name", function()
    assert.equal("threading.BrokenBarrierError", tostring(threading.BrokenBarrierError))
  end)

  it("checks its arguments", function()
    assert.has_error(function() threading.Barrier(0) end,
      "bad argument #1 to 'Barrier' (parties must be >= 1)")
    assert.has_error(function() threading.Barrier("x") end,
      "bad argument #1 to 'Barrier' (number expected, got string)")
    assert.has_error(function() threading.Barrier(2, 5) end,
      "bad argument #2 to 'Barrier' (function expected, got number)")
    assert.has_error(function() threading.Barrier(1):wait("x") end,
      "bad argument #1 to 'wait' (number expected, got string)")
  end)

  -- found by scripts/test/argsweep.lua: the named form's errors numbered
  -- the positional arguments (#2, #3 of a call with one)
  it("the named form's errors are argument #1, naming the field", function()
    assert.has_error(function() threading.Barrier{parties = 2, action = 5} end,
      "bad argument #1 to 'Barrier' (field 'action': function expected, got number)")
    assert.has_error(function() threading.Barrier{parties = 2, timeout = "x"} end,
      "bad argument #1 to 'Barrier' (field 'timeout': number expected, got string)")
    assert.has_error(function() threading.Barrier{parties = 0} end,
      "bad argument #1 to 'Barrier' (field 'parties': parties must be >= 1)")
    local ok, err = pcall(function() threading.Barrier{parties = 2, timeout = 0 / 0} end)
    assert.is_false(ok)
    assert.matches("^spec/threading_barrier_local_spec%.lua:%d+: bad argument #1 to 'Barrier' " ..
                   "%(field 'timeout': timeout must be a number, not nan%)$", err)
    assert.equal(2, threading.Barrier{parties = 2, timeout = 1}.parties)
  end)

  it("rejects unknown named fields and stray arguments", function()
    assert.has_error(function() threading.Barrier{parties = 2, acton = print} end,
      "bad argument #1 to 'Barrier' (unexpected field 'acton')")
    assert.has_error(function() threading.Barrier(2, nil, nil, 5) end,
      "bad argument #4 to 'Barrier' (at most 3 arguments expected, got 4)")
    local b = threading.Barrier{parties = 3, action = function() end, timeout = 1}
    assert.are.equal(3, b.parties)
  end)

  it("parties, n_waiting and broken are read-only, as Python's properties", function()
    local Sub = threading.Barrier:extend("SubBarrier")
    function Sub:init(n) Sub.super.init(self, n); self.id = n end
    for _, b in ipairs{threading.Barrier(2), Sub(2)} do
      local cls = getmetatable(b).__name
      for attr, v in pairs{parties = 9, n_waiting = 1, broken = true} do
        local ok, err = pcall(function() b[attr] = v end) local line = debug.getinfo(1, "l").currentline
        assert.is_false(ok)
        assert.matches(("threading_barrier_local_spec.lua:%d: attribute '%s' of '%s' objects is not writable")
                       :format(line, attr, cls), err, 1, true)
      end
      assert.are.equal(2, b.parties)
      assert.are.equal(0, b.n_waiting)
      assert.is_false(b.broken)
      b.note = "own fields stay writable"
      assert.are.equal("own fields stay writable", b.note)
    end
  end)

  it("a one-party barrier never blocks", function()
    local b = threading.Barrier(1)
    assert.equal(0, b:wait())
    assert.equal(0, b:wait())
  end)
end)

describe("threading.Local", function()
  it("is also threading['local']", function()
    assert.equal(threading.Local, threading["local"])
  end)

  it("keeps fields separate per thread", function()
    local data = threading.Local()
    data.x = "main"
    local seen = {}
    local results = in_threads(4, function(i)
      seen[i] = data.x  -- nil: a new thread starts empty
      data.x = i
      time.sleep(0.001)
      return data.x
    end)
    for i = 1, 4 do
      assert.is_nil(seen[i])
      assert.equal(i, results[i].value)
    end
    assert.equal("main", data.x)
  end)

  it("pairs lists this thread's fields only", function()
    local data = threading.Local()
    data.a, data.b = 1, 2
    in_threads(1, function() data.c = 3 end)
    local keys = {}
    for k in pairs(data) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({"a", "b"}, keys)
  end)

  it("can be subclassed; init runs again in each thread", function()
    local Counter = threading.Local:extend("Counter")
    local inits = 0
    function Counter:init(start)
      inits = inits + 1
      self.n = start
    end
    function Counter:bump() self.n = self.n + 1; return self.n end
    local c = Counter(10)
    assert.equal(1, inits)
    assert.equal(11, c:bump())
    local results = in_threads(2, function() c:bump(); return c:bump() end)
    assert.equal(12, results[1].value)
    assert.equal(12, results[2].value)
    assert.equal(3, inits)
    assert.equal(11, c.n)
    assert.is_true(threading.Local:is(c))
  end)

  it("takes no arguments unless a subclass's init takes them, as Python's local", function()
    assert.has_error(function() threading.Local(1) end,
      "bad argument #1 to 'Local' (no arguments expected, got 1)")
    assert.has_error(function() threading["local"]{x = 1} end,
      "bad argument #1 to 'Local' (unexpected field 'x')")
    local NoInit = threading.Local:extend("NoInit")
    assert.has_error(function() NoInit(1) end,
      "bad argument #1 to 'NoInit' (no arguments expected, got 1)")
    assert.is_true(threading.Local:is(NoInit()))
    local WithInit = threading.Local:extend("WithInit")
    function WithInit:init(a, b, c) self.sum = a + b + c end
    assert.are.equal(6, WithInit(1, 2, 3).sum)
    local Named = threading.Local:extend("NamedInit")
    function Named:init(o) self.x = o.x end
    assert.are.equal(1, Named{x = 1}.x)
  end)
end)
