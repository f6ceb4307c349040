-- multiprocessing methods called wrongly ('.' for ':', a bad function to
-- Pool:apply) raise a bad-argument error naming the method, at the caller.
local mp = multiprocessing

local function bad(fname, f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.matches("bad argument #1 to '" .. fname .. "'", tostring(err), 1, true)
  return tostring(err)
end

describe("multiprocessing argument errors", function()
  it("a Lua-side method called with '.' names the method", function()
    local p = mp.Process{target = function() end}
    bad("start", function() p.start() end)
    bad("join", function() p.join() end)
    bad("is_alive", function() p.is_alive() end)
    bad("terminate", function() p.terminate() end)
    local c, b = mp.Condition(), mp.Barrier(2)
    bad("wait", function() c.wait() end)
    bad("notify_all", function() c.notify_all() end)
    bad("wait", function() b.wait() end)
    bad("abort", function() b.abort() end)
    bad("hold", function() mp.Lock().hold() end)
    bad("with", function() mp.Semaphore().with() end)
    bad("get_lock", function() mp.Value("i", 0).get_lock() end)
    bad("put_nowait", function() mp.Queue().put_nowait() end)
    bad("put_nowait", function() mp.JoinableQueue().put_nowait() end)
    -- not a Process at all
    bad("join", function() mp.Process.join(5) end)
  end)

  it("native methods called without a name (pcall(q.get, q, 'x')) name the method", function()
    local function msg(f, ...)
      local ok, err = pcall(f, ...)
      assert.is_false(ok)
      return tostring(err)
    end
    -- #2, not #1: called as plain functions, self is argument 1
    local q, jq, sq = mp.Queue(), mp.JoinableQueue(), mp.SimpleQueue()
    assert.equal("bad argument #2 to 'get' (boolean expected, got string)", msg(q.get, q, "x"))
    assert.equal("bad argument #3 to 'put' (boolean expected, got string)", msg(q.put, q, 1, "x"))
    assert.equal("bad argument #3 to 'get' (number expected, got string)", msg(jq.get, jq, true, "x"))
    assert.equal("bad argument #2 to 'get' (boolean expected, got string)", msg(sq.get, sq, "x"))
    local l, r, s = mp.Lock(), mp.RLock(), mp.Semaphore()
    assert.equal("bad argument #2 to 'acquire' (boolean expected, got string)", msg(l.acquire, l, "x"))
    assert.equal("bad argument #2 to 'acquire' (boolean expected, got string)", msg(r.acquire, r, "x"))
    assert.equal("bad argument #2 to 'acquire' (boolean expected, got string)", msg(s.acquire, s, "x"))
    local e = mp.Event()
    assert.equal("bad argument #2 to 'wait' (number expected, got string)", msg(e.wait, e, "x"))
    local a, b = mp.Pipe()
    assert.equal("bad argument #2 to 'poll' (number expected, got string)", msg(a.poll, a, "x"))
    -- with ':' the method's own argument numbers, as before
    assert.matches("bad argument #1 to 'get' (boolean expected, got string)",
                   msg(function() q:get("x") end), 1, true)
    assert.matches("bad argument #1 to 'poll' (number expected, got string)",
                   msg(function() a:poll("x") end), 1, true)
    a:close()
    b:close()
  end)

  it("the methods still work called properly, from subclasses too", function()
    local Sub = mp.Condition:extend("SubCondition")
    local c = Sub()
    assert.is_true(c:with(function() return c:wait(0) end) == false)
    local q = mp.Queue()
    q:put_nowait(1)
    assert.equal(1, q:get_nowait())
  end)

  it("Pool:apply with a non-function names 'apply' and the caller's line", function()
    local pool <close> = mp.Pool(1)
    local err = bad("apply", function() pool:apply(5, {}) end)
    assert.matches("multiprocessing_args_spec.lua:%d+:", err)
    local ok, err2 = pcall(function() pool:apply(function() end, 5) end)
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'apply'", err2, 1, true)
  end)

  it("constructor argument errors name the caller's line, not the library's", function()
    local function where(f)
      local ok, err = pcall(f)
      assert.is_false(ok)
      return tostring(err)
    end
    local here = "^spec/multiprocessing_args_spec%.lua:%d+: bad argument #%d to '"
    assert.matches(here .. "Queue'", where(function() queue.Queue("x") end))
    assert.matches(here .. "Semaphore'", where(function() threading.Semaphore(-1) end))
    assert.matches(here .. "Thread'", where(function() threading.Thread{target = 1} end))
    assert.matches(here .. "Value'", where(function() mp.Value("u") end))
    assert.matches(here .. "Array'", where(function() mp.Array("i", "x") end))
    assert.matches(here .. "Pool'", where(function() mp.Pool("x") end))
    -- a subclass's init passing bad arguments on: the line of that call
    local Q = queue.Queue:extend("Q")
    function Q:init(n) Q.super.init(self, n) end
    assert.matches(here .. "Queue'", where(function() Q("x") end))
  end)
  -- found by scripts/test/argsweep.lua: these were positioned at the
  -- library's line (cthreads/multiprocessing.lua:N:) or failed inside it
  it("acquire of a Condition, Value and Array: bad arguments at the caller's line", function()
    local here = "^spec/multiprocessing_args_spec%.lua:%d+: "
    for _, obj in ipairs{mp.Condition(), mp.Value("i", 1), mp.Array("i", 2),
                         threading.Condition()} do
      assert.matches(here .. "bad argument #1 to 'acquire' %(boolean expected, got number%)",
                     select(2, pcall(function() obj:acquire(5) end)))
      assert.matches(here .. "bad argument #2 to 'acquire' %(number expected, got string%)",
                     select(2, pcall(function() obj:acquire(true, "x") end)))
      assert.is_true(obj:acquire(true, 1))  -- good arguments still work
      obj:release()
    end
  end)

  it("Array.extend, get_context and a nil Array index: errors at the caller's line", function()
    local here = "^spec/multiprocessing_args_spec%.lua:%d+: "
    assert.matches(here .. "bad argument #1 to 'extend' %(string expected, got number%)",
                   select(2, pcall(function() mp.Array:extend(5) end)))
    assert.matches(here .. "cannot use the 'spawn' start method",
                   select(2, pcall(function() mp.get_context("spawn") end)))
    assert.matches(here .. "cannot use the 'spawn' start method",
                   select(2, pcall(function() mp.set_start_method("spawn") end)))
    local a = mp.Array("i", 2)
    assert.matches(here .. "table index is nil$", select(2, pcall(function() a[nil] = 1 end)))
    a.note = "x"  -- other fields are the object's own, as before
    assert.equal("x", a.note)
    -- tolist and totable name themselves as 'tolist', not the native function
    assert.equal("bad argument #1 to 'tolist' (multiprocessing.Value expected, got number)",
                 select(2, pcall(a.tolist, 5)))
    assert.equal(mp.get_context("fork"), mp)
  end)
  -- found by scripts/test/argsweep.lua: the named forms numbered the
  -- positional arguments (Value{..., lock = 5}: "bad argument #3")
  it("named forms: errors are argument #1 naming the field, as Pool's", function()
    local here = "^spec/multiprocessing_args_spec%.lua:%d+: bad argument #1 to '"
    local function err(f) return select(2, pcall(f)) end
    assert.matches(here .. "Value' %(field 'lock': multiprocessing.Lock or RLock expected",
                   err(function() mp.Value{typecode = "i", lock = 5} end))
    assert.matches(here .. "Value' %(field 'value': number expected, got string%)$",
                   err(function() mp.Value{typecode = "i", value = "x"} end))
    assert.matches(here .. "RawValue' %(field 'init': number has no integer representation%)$",
                   err(function() mp.RawValue{typecode = "i", init = 1.5} end))
    assert.matches(here .. "Array' %(field 'size_or_table': size must not be negative%)$",
                   err(function() mp.Array{typecode = "i", size_or_table = -1} end))
    assert.matches(here .. "RawArray' %(field 'size_or_initializer': size or table expected",
                   err(function() mp.RawArray{typecode = "i", size_or_initializer = true} end))
    assert.matches(here .. "Array' %(field 'typecode': unknown typecode 'u'",
                   err(function() mp.Array{typecode = "u", init = 1} end))
    assert.matches(here .. "Barrier' %(field 'action': function expected, got number%)$",
                   err(function() mp.Barrier{parties = 2, action = 5} end))
    assert.matches(here .. "Barrier' %(field 'timeout': number expected, got string%)$",
                   err(function() mp.Barrier{parties = 2, timeout = "x"} end))
    -- positional forms keep their own numbers
    assert.matches("bad argument #3 to 'Value' %(multiprocessing.Lock or RLock expected",
                   err(function() mp.Value("i", 1, 5) end))
    assert.matches("bad argument #2 to 'Barrier' %(function expected",
                   err(function() mp.Barrier(2, 5) end))
    assert.equal(3, mp.Value{typecode = "i", init = 3}.value)
  end)

  it("a manager's Barrier and Array: the named form's errors name the field", function()
    local manager <close> = mp.Manager()
    local here = "^spec/multiprocessing_args_spec%.lua:%d+: bad argument #1 to '"
    local function err(f) return select(2, pcall(f)) end
    assert.matches(here .. "Barrier' %(field 'timeout': number expected, got string%)$",
                   err(function() manager:Barrier{parties = 2, timeout = "x"} end))
    assert.matches(here .. "Array' %(field 'init': size or table expected, got boolean%)$",
                   err(function() manager:Array{typecode = "i", init = true} end))
    assert.matches("bad argument #3 to 'Barrier' %(number expected, got string%)",
                   err(function() manager:Barrier(2, nil, "x") end))
    assert.equal(2, #manager:Array{typecode = "i", size_or_table = 2})
  end)

  it("Queue:put and get ignore extra arguments: the Pool's task tags stay private", function()
    -- a get with two more arguments once stored the message's tag into the
    -- caller's Array (the Pool's task record), and a put with a fifth set it
    local q, slots = mp.Queue(), mp.Array("q", {7, 7})
    q:put("a", true, nil, 99)
    assert.equal("a", q:get(true, 1, slots, 1))
    assert.same({7, 7}, slots:tolist())
    local sq = mp.SimpleQueue()
    sq:put({1, 2}, true, nil, 5)
    assert.same({1, 2}, sq:get(true, nil, slots, 2))
    assert.same({7, 7}, slots:tolist())
  end)
end)
