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
end)
