-- threading.Lock and threading.RLock.

describe("threading.Lock", function()
  it("acquire/release/locked", function()
    local l = threading.Lock()
    assert.is_false(l:locked())
    assert.is_true(l:acquire())
    assert.is_true(l:locked())
    assert.is_false(l:acquire(false))
    assert.is_false(l:acquire(true, 0.01))
    l:release()
    assert.is_false(l:locked())
    assert.is_true(l:acquire(false))
    l:release()
  end)

  it("releasing an unlocked lock is an error", function()
    local l = threading.Lock()
    assert.has_error(function() l:release() end, "release unlocked lock")
  end)

  it("may be released by another thread", function()
    local l = threading.Lock()
    l:acquire()
    local t = threading.Thread{target = function() l:release() end}
    t:start(); t:join()
    assert.is_false(l:locked())
  end)

  it("checks its arguments", function()
    local l = threading.Lock()
    assert.has_error(function() l:acquire("yes") end,
      "bad argument #1 to 'acquire' (boolean expected, got string)")
    assert.has_error(function() l:acquire(true, {}) end)
    assert.has_error(function() l:acquire(false, 1) end,
      "bad argument #2 to 'acquire' (can't specify a timeout for a non-blocking call)")
    assert.has_error(function() threading.Lock.acquire({}) end)
    assert.has_error(function() threading.Lock.release(42) end)
  end)

  it("a negative timeout waits forever (and here succeeds at once)", function()
    local l = threading.Lock()
    assert.is_true(l:acquire(true, -1))
    l:release()
  end)

  it("hold() releases at scope end and on error", function()
    local l = threading.Lock()
    do
      local _ <close> = l:hold()
      assert.is_true(l:locked())
    end
    assert.is_false(l:locked())
    local ok = pcall(function()
      local _ <close> = l:hold()
      error("inside")
    end)
    assert.is_false(ok)
    assert.is_false(l:locked())
  end)

  it("with(f, ...) returns f's results and releases on error", function()
    local l = threading.Lock()
    local a, b = l:with(function(x, y) assert.is_true(l:locked()); return x + 1, y end, 1, "b")
    assert.equal(2, a); assert.equal("b", b)
    assert.is_false(l:locked())
    assert.has_error(function() l:with(function() error("E") end) end)
    assert.is_false(l:locked())
    assert.has_error(function() l:with(42) end)
  end)

  it("makes a shared counter exact across threads", function()
    local l = threading.Lock()
    local count = 0
    local ts = {}
    for i = 1, 4 do
      ts[i] = threading.Thread{target = function()
        for _ = 1, 20000 do
          l:acquire(); count = count + 1; l:release()
        end
      end}
      ts[i]:start()
    end
    for _, t in ipairs(ts) do t:join() end
    assert.equal(80000, count)
  end)

  it("a blocked acquire lets the holder run (detaches) and wakes on release", function()
    local l = threading.Lock()
    l:acquire()
    local got
    local t = threading.Thread{target = function() got = l:acquire(true, 10) end}
    t:start()
    time.sleep(0.02)
    l:release()
    t:join()
    assert.is_true(got)
  end)

  it("is an instance of Lock (a native handle with Lock as its class)", function()
    local l = threading.Lock()
    assert.is_true(threading.Lock:is(l))
    assert.is_true(l:isinstance(threading.Lock))
    assert.is_false(threading.RLock:is(l))
    assert.matches("^<unlocked Lock object at ", tostring(l))
    assert.is_true(threading.Lock:is(threading.allocate_lock()))
  end)

  it("can be subclassed", function()
    local Counting = threading.Lock:extend("CountingLock")
    function Counting:init() Counting.super.init(self); self.n = 0 end
    function Counting:acquire(...) self.n = self.n + 1; return Counting.super.acquire(self, ...) end
    local c = Counting()
    do local _ <close> = c:hold() end
    c:with(function() end)
    assert.equal(2, c.n)
    assert.is_true(threading.Lock:is(c))
  end)

  it("takes no arguments, as Python's Lock() (RLock() too)", function()
    for _, name in ipairs{"Lock", "RLock"} do
      local cls = threading[name]
      assert.has_error(function() cls(5) end,
        ("bad argument #1 to '%s' (no arguments expected, got 1)"):format(name))
      assert.has_error(function() cls(nil, true) end,
        ("bad argument #2 to '%s' (no arguments expected, got 2)"):format(name))
      assert.has_error(function() cls{x = 1} end,
        ("bad argument #1 to '%s' (unexpected field 'x')"):format(name))
      -- raised at the caller's line
      local ok, err = pcall(function() cls(5) end) local line = debug.getinfo(1, "l").currentline
      assert.is_false(ok)
      assert.matches(("threading_lock_spec.lua:%d: bad argument"):format(line), err)
      assert.is_true(cls:is(cls()))
      assert.is_true(cls:is(cls(nil)))  -- trailing nils are no arguments in Lua
    end
    assert.has_error(function() threading.allocate_lock(1) end,
      "bad argument #1 to 'Lock' (no arguments expected, got 1)")
    -- a subclass: its init's own arguments are its business; the
    -- parent's init is checked for what it is given
    local Tagged = threading.Lock:extend("TaggedLock")
    function Tagged:init(tag, n) Tagged.super.init(self); self.tag, self.n = tag, n end
    local t = Tagged("a", 2)
    assert.are.equal("a", t.tag)
    local Plain = threading.Lock:extend("PlainLock")
    assert.has_error(function() Plain(1) end,
      "bad argument #1 to 'Lock' (no arguments expected, got 1)")
    local Passes = threading.RLock:extend("PassingRLock")
    function Passes:init(...) Passes.super.init(self, ...) end
    assert.is_true(threading.RLock:is(Passes()))
    assert.has_error(function() Passes(1) end,
      "bad argument #1 to 'RLock' (no arguments expected, got 1)")
  end)
end)

describe("threading.RLock", function()
  it("is reentrant for its owner", function()
    local r = threading.RLock()
    assert.is_true(r:acquire())
    assert.is_true(r:acquire())
    r:release()
    assert.is_true(r:locked())
    r:release()
    assert.is_false(r:locked())
  end)

  it("release by a non-owner, or when unlocked, is an error", function()
    local r = threading.RLock()
    assert.has_error(function() r:release() end, "cannot release un-acquired lock")
    r:acquire()
    local err
    local t = threading.Thread{target = function()
      local ok, e = pcall(r.release, r)
      err = e
    end}
    t:start(); t:join()
    assert.matches("cannot release un-acquired lock", err, 1, true)
    r:release()
  end)

  it("blocks other threads until fully released", function()
    local r = threading.RLock()
    r:acquire(); r:acquire()
    local got
    local t = threading.Thread{target = function() got = r:acquire(false) end}
    t:start(); t:join()
    assert.is_false(got)
    r:release(); r:release()
    t = threading.Thread{target = function() got = r:acquire(true, 5); r:release() end}
    t:start(); t:join()
    assert.is_true(got)
  end)

  it("supports hold and with, nested", function()
    local r = threading.RLock()
    local v = r:with(function()
      local _ <close> = r:hold()
      return r:with(function() return 7 end)
    end)
    assert.equal(7, v)
    assert.is_false(r:locked())
  end)
end)
