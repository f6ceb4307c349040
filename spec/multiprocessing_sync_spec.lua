-- multiprocessing's queues, Pipe, locks, events, conditions, barriers and
-- shared values, used across processes.
local children = require("children")
local err_of = require("errors").err_of
local mp = multiprocessing

local function no_children_left()
  assert.equal("", children.describe(children.settle(30)))
end

-- starts f(...) in a child; returns the process
local function spawn(f, ...)
  local p = mp.Process{target = f, args = table.pack(...)}
  p:start()
  return p
end

local function join_all(ps)
  for _, p in ipairs(ps) do
    if not p:join(30) then p:kill() p:join() end
    assert.equal(0, p.exitcode)
  end
end

describe("multiprocessing.Queue", function()
  after_each(no_children_left)

  it("moves items between processes in order", function()
    local q = mp.Queue()
    local p = spawn(function() for i = 1, 1000 do q:put(i) end q:put(nil) q:put("end") end)
    for i = 1, 1000 do assert.equal(i, q:get(true, 30)) end
    assert.is_nil(q:get(true, 30))
    assert.equal("end", q:get(true, 30))
    join_all({p})
  end)

  it("raises queue.Empty and queue.Full, with and without timeouts", function()
    local q = mp.Queue(2)
    assert.equal(2, q.maxsize)
    assert.is_true(q:empty())
    q:put(1)
    q:put_nowait(2)
    assert.is_true(q:full())
    assert.equal(2, q:qsize())
    local ok, err = pcall(q.put, q, 3, false)
    assert.is_false(ok)
    assert.is_true(err == mp.Full)
    ok, err = pcall(q.put, q, 3, true, 0.01)
    assert.is_true(err == mp.Full)
    assert.equal(1, q:get())
    assert.equal(2, q:get_nowait())
    ok, err = pcall(q.get, q, false)
    assert.is_true(err == mp.Empty)
    ok, err = pcall(q.get, q, true, 0.01)
    assert.is_true(err == mp.Empty)
    assert.is_true(mp.Empty:is(err))
  end)

  it("blocks a put on a full queue until a get in another process", function()
    local q = mp.Queue(1)
    q:put("first")
    local p = spawn(function() time.sleep(0.05) q:get() end)
    q:put("second", true, 30)
    assert.equal("second", q:get(true, 30))
    join_all({p})
  end)

  it("refuses put and get after close", function()
    local q = mp.Queue()
    q:close()
    assert.has_error(function() q:put(1) end, "Queue is closed")
    assert.has_error(function() q:get() end, "Queue is closed")
  end)

  it("holds any number of items without a reader (put never blocks)", function()
    local q = mp.Queue()
    for i = 1, 20000 do q:put({i, "payload"}) end
    assert.equal(20000, q:qsize())
    for i = 1, 20000 do assert.equal(i, q:get()[1]) end
  end)

  it("JoinableQueue: join waits for task_done of every item", function()
    local q = mp.JoinableQueue()
    local done = mp.Value("i", 0)
    local ps = {}
    for i = 1, 2 do
      ps[i] = spawn(function()
        while true do
          local item = q:get()
          if item == nil then q:task_done() break end
          done:with(function() done.value = done.value + 1 end)
          q:task_done()
        end
      end)
    end
    for i = 1, 50 do q:put(i) end
    q:join()
    assert.equal(50, done.value)
    q:put(nil)
    q:put(nil)
    q:join()
    join_all(ps)
    assert.has_error(function() q:task_done() end, "task_done() called too many times")
  end)

  it("shutdown: put raises ShutDown in every process, get drains then raises", function()
    local q = mp.Queue(2)
    q:put(1)
    q:put(2)
    assert.is_false(q.is_shutdown)
    -- a child blocked on the full queue is woken by the shutdown
    local started = mp.Event()
    local p = spawn(function()
      started:set()
      local ok, e = pcall(q.put, q, 3)
      os.exit((not ok and e == queue.ShutDown) and 0 or 1)
    end)
    assert.is_true(started:wait(30))
    q:shutdown()
    join_all({p})
    assert.is_true(q.is_shutdown)
    assert.equal(queue.ShutDown, select(2, pcall(q.put, q, 4)))
    assert.equal(mp.ShutDown, queue.ShutDown)
    assert.equal(1, q:get())
    assert.equal(2, q:get())
    assert.equal(queue.ShutDown, select(2, pcall(q.get, q)))
    assert.equal(queue.ShutDown, select(2, pcall(q.get_nowait, q)))
  end)

  it("shutdown(true): drops the items, counts them done, wakes a blocked get", function()
    local q = mp.JoinableQueue()
    for i = 1, 3 do q:put(i) end
    assert.equal(1, q:get())
    q:task_done()
    q:shutdown(true)
    q:join()  -- the two dropped items count as done
    assert.equal(0, q:qsize())
    assert.equal(queue.ShutDown, select(2, pcall(q.get, q)))
    local e = mp.Queue()
    local started = mp.Event()
    local p = spawn(function()
      started:set()
      local ok, err = pcall(e.get, e)
      os.exit((not ok and err == queue.ShutDown) and 0 or 1)
    end)
    assert.is_true(started:wait(30))
    e:shutdown(true)
    join_all({p})
    assert.matches("boolean expected", err_of(e.shutdown, e, 1))
  end)

  it("SimpleQueue: put, get, empty", function()
    local q = mp.SimpleQueue()
    assert.is_true(q:empty())
    local p = spawn(function() q:put("hi") end)
    assert.equal("hi", q:get())
    assert.is_true(q:empty())
    join_all({p})
  end)

  it("SimpleQueue: block and timeout, get_nowait and put_nowait raise as Queue's", function()
    local q = mp.SimpleQueue()
    local ok, err = pcall(q.get, q, false)
    assert.is_false(ok)
    assert.is_true(err == mp.Empty)
    ok, err = pcall(q.get, q, true, 0.01)
    assert.is_false(ok)
    assert.is_true(err == mp.Empty)
    ok, err = pcall(q.get_nowait, q)
    assert.is_false(ok)
    assert.is_true(queue.Empty:is(err))
    q:put_nowait("a")
    q:put("b", false)
    q:put("c", true, 0.01)
    assert.equal("a", q:get_nowait())
    assert.equal("b", q:get(false))
    assert.equal("c", q:get(true, 30))
    -- a timed get is woken by a put from another process
    local go = mp.Event()
    local p = spawn(function() go:wait() q:put("late") end)
    go:set()
    assert.equal("late", q:get(true, 30))
    join_all({p})
    assert.has_error(function() q:get("x") end,
      "bad argument #1 to 'get' (boolean expected, got string)")
    assert.has_error(function() q.get_nowait() end)
    -- the class hierarchy is Python's: JoinableQueue is a Queue, SimpleQueue not
    assert.is_true(mp.JoinableQueue():isinstance(mp.Queue))
    assert.is_false(mp.Queue:is(q))
  end)
end)

describe("multiprocessing.Pipe", function()
  after_each(no_children_left)

  it("sends both ways on a duplex pipe (the course example)", function()
    local parent_conn, child_conn = mp.Pipe()
    local p = spawn(function(conn)
      conn:send({42, nil, "hello"})
      conn:send({41, nil, "hello"})
      conn:send(conn:recv() .. " back")
      conn:close()
    end, child_conn)
    local a, b = parent_conn:recv(), parent_conn:recv()
    assert.same({42, nil, "hello"}, {a[1], a[2], a[3]})
    assert.equal(41, b[1])
    parent_conn:send("hello son")
    assert.equal("hello son back", parent_conn:recv())
    join_all({p})
  end)

  it("raises EOFError when the other end is closed everywhere", function()
    local a, b = mp.Pipe()
    local p = spawn(function() b:send(1) b:close() end)
    b:close()
    assert.equal(1, a:recv())
    local ok, err = pcall(a.recv, a)
    assert.is_false(ok)
    assert.is_true(err == mp.EOFError)
    assert.equal("EOFError", tostring(err))
    assert.equal(EOFError, err)  -- the global, as Python's builtin
    join_all({p})
    a:close()
  end)

  it("polls with and without a timeout", function()
    local a, b = mp.Pipe()
    assert.is_false(a:poll())
    assert.is_false(a:poll(0.01))
    b:send("x")
    assert.is_true(a:poll())
    assert.is_true(a:poll(1))
    assert.equal("x", a:recv())
    a:close()
    b:close()
    assert.is_true(a.closed)
    assert.has_error(function() a:recv() end, "handle is closed")
  end)

  it("poll(nil) waits for data as Python's poll(None); poll() answers at once", function()
    local a, b = mp.Pipe()
    assert.is_false(a:poll())   -- no argument: timeout 0
    assert.is_false(a:poll(0))
    local go = mp.Event()
    local p1 = spawn(function() go:wait() b:send("late") end)
    go:set()
    assert.is_true(a:poll(nil))  -- an explicit nil: forever
    assert.equal("late", a:recv())
    local p2 = spawn(function() b:send("later") end)
    assert.is_true(a:poll(-1))   -- negative: forever too
    assert.equal("later", a:recv())
    join_all({p1, p2})
    a:close()
    b:close()
  end)

  it("names the method in errors: fileno, notifyAll, and a too large Array", function()
    local a = mp.Pipe()
    assert.matches("bad argument #1 to 'fileno' (Connection expected, got table)",
                   err_of(a.fileno, {}), 1, true)
    assert.matches("bad argument #1 to 'notifyAll' (Condition expected, got Queue)",
                   err_of(mp.Condition.notifyAll, queue.Queue()), 1, true)
    assert.matches("bad argument #2 to 'Array' (array size out of range)",
                   err_of(mp.Array, "i", math.maxinteger), 1, true)
    a:close()
  end)

  it("is one way when duplex is false", function()
    local r, w = mp.Pipe(false)
    assert.is_true(r.readable)
    assert.is_false(r.writable)
    assert.is_false(w.readable)
    w:send("one way")
    assert.equal("one way", r:recv())
    assert.has_error(function() r:send(1) end)
    r:close()
    w:close()
  end)

  it("sends raw bytes and big messages", function()
    local a, b = mp.Pipe()
    local big = ("0123456789"):rep(200000)
    local p = spawn(function() b:send_bytes(b:recv_bytes()) b:send(b:recv()) end)
    a:send_bytes("raw\0bytes")
    assert.equal("raw\0bytes", a:recv_bytes())
    a:send(big)
    assert.equal(big, a:recv())
    join_all({p})
    a:close()
    b:close()
  end)
end)

describe("multiprocessing locks and values", function()
  after_each(no_children_left)

  it("Lock and Value: counting from four processes loses nothing", function()
    local v = mp.Value("i", 0)
    local lock = mp.Lock()
    local ps = {}
    for i = 1, 4 do
      ps[i] = spawn(function()
        for _ = 1, 500 do
          local _ <close> = lock:hold()
          v.value = v.value + 1
        end
      end)
    end
    join_all(ps)
    assert.equal(2000, v.value)
  end)

  it("Value's own lock: get_lock", function()
    local v = mp.Value("d", 0.5)
    local ps = {}
    for i = 1, 3 do
      ps[i] = spawn(function()
        for _ = 1, 200 do v:get_lock():with(function() v.value = v.value + 1 end) end
      end)
    end
    join_all(ps)
    assert.equal(600.5, v.value)
    assert.equal("d", v.typecode)
  end)

  it("Lock: any process may release, acquire with timeout", function()
    local lock = mp.Lock()
    assert.is_true(lock:acquire())
    assert.is_false(lock:acquire(false))
    assert.is_false(lock:acquire(true, 0.01))
    local p = spawn(function() lock:release() end)
    join_all({p})
    assert.is_true(lock:acquire(false))
    lock:release()
    assert.has_error(function() lock:release() end, "release unlocked lock")
  end)

  it("RLock: reentrant for its owner, owned across processes", function()
    local r = mp.RLock()
    assert.is_true(r:acquire())
    assert.is_true(r:acquire())
    local got = mp.Value("i", -1)
    local p = spawn(function()
      got.value = r:acquire(true, 0.01) and 1 or 0
      local ok = pcall(r.release, r)
      if not ok then got.value = got.value + 10 end
    end)
    join_all({p})
    assert.equal(10, got.value)  -- neither acquired nor released there
    r:release()
    r:release()
    assert.has_error(function() r:release() end, "cannot release un-acquired lock")
  end)

  it("Semaphore and BoundedSemaphore", function()
    local s = mp.Semaphore(2)
    assert.is_true(s:acquire())
    assert.is_true(s:acquire())
    assert.is_false(s:acquire(false))
    local p = spawn(function() s:release() end)
    assert.is_true(s:acquire(true, 30))
    join_all({p})
    assert.equal(0, s:get_value())
    local b = mp.BoundedSemaphore(1)
    b:acquire()
    b:release()
    assert.has_error(function() b:release() end, "semaphore or lock released too many times")
  end)

  it("Event: set in one process wakes waiters in others", function()
    local e, out = mp.Event(), mp.Queue()
    local ps = {}
    for i = 1, 3 do ps[i] = spawn(function() out:put(e:wait(30)) end) end
    assert.is_false(e:is_set())
    assert.is_false(e:wait(0.01))
    e:set()
    for _ = 1, 3 do assert.is_true(out:get(true, 30)) end
    join_all(ps)
    e:clear()
    assert.is_false(e:is_set())
  end)

  it("Condition: notify wakes a waiter in another process", function()
    local c = mp.Condition()
    local items = mp.Value("i", 0)
    local p = spawn(function()
      c:with(function()
        assert(c:wait_for(function() return items.value > 0 end, 30))
        items.value = items.value * 10
        c:notify()
      end)
    end)
    c:with(function()
      items.value = 4
      c:notify()
      assert.is_true(c:wait_for(function() return items.value == 40 end, 30))
    end)
    join_all({p})
    assert.has_error(function() c:wait() end, "cannot wait on un-acquired lock")
  end)

  it("Barrier: the parties meet and get distinct indices", function()
    local bar, out = mp.Barrier(3), mp.Queue()
    local ps = {}
    for i = 1, 2 do ps[i] = spawn(function() out:put(bar:wait(30)) end) end
    local mine = bar:wait(30)
    local all = {mine, out:get(true, 30), out:get(true, 30)}
    table.sort(all)
    assert.same({0, 1, 2}, all)
    join_all(ps)
    assert.equal(3, bar.parties)
    assert.is_false(bar.broken)
    bar:abort()
    assert.is_true(bar.broken)
    local ok, err = pcall(bar.wait, bar)
    assert.is_true(err == mp.BrokenBarrierError)
  end)

  it("Array: 1-based indexing, #, ipairs, totable, from a size or a table", function()
    local a = mp.Array("i", {1, 2, 3})
    assert.equal(3, #a)
    assert.equal(1, a[1])
    local p = spawn(function() for i = 1, #a do a[i] = a[i] * 10 end end)
    join_all({p})
    assert.same({10, 20, 30}, a:totable())
    local seen = {}
    for i, v in ipairs(a) do seen[i] = v end
    assert.same({10, 20, 30}, seen)
    local z = mp.Array("d", 4)
    assert.same({0.0, 0.0, 0.0, 0.0}, z:totable())
    assert.is_nil(a[4])
    assert.is_nil(a[0])
    assert.has_error(function() a[4] = 1 end)
    assert.has_error(function() a[0] = 1 end)
    local c = mp.Array("c", "hi\0\0")
    assert.equal("hi", c.value)
  end)

  it("Value and Array can be subclassed", function()
    local Counter = mp.Value:extend("Counter")
    function Counter:incr() self:with(function() self.value = self.value + 1 end) end
    local c = Counter("i", 1)
    c:incr()
    assert.equal(2, c.value)
    local Vec = mp.Array:extend("Vec")
    function Vec:sum() local s = 0 for _, x in ipairs(self) do s = s + x end return s end
    local v = Vec("d", {1, 2, 3})
    v[1] = 10
    assert.equal(15, v:sum())
    assert.equal(3, #v)
  end)

  it("Value and Array take named fields: API.md's names and Python's", function()
    assert.equal(5, mp.Value{typecode = "i", init = 5}.value)
    assert.equal(6, mp.Value{typecode_or_type = "i", value = 6}.value)
    assert.equal(7, mp.Value{typecode = "l", value = 7}.value)
    assert.equal(0, mp.Value{typecode = "i"}.value)
    assert.equal(2.5, mp.Value{typecode = "d", init = 2.5, lock = false}.value)
    assert.has_error(function() mp.Value{typecode = "d", lock = false}:get_lock() end)
    local a = mp.Array{typecode = "i", size_or_table = 3}
    assert.same({0, 0, 0}, a:totable())
    assert.same({1, 2}, mp.Array{typecode = "i", size_or_table = {1, 2}}:totable())
    assert.same({3, 4}, mp.Array{typecode_or_type = "l", size_or_initializer = {3, 4}}:totable())
    assert.equal(4, #mp.Array{typecode_or_type = "d", size_or_initializer = 4})
    assert.same({5}, mp.Array{typecode = "i", init = {5}}:totable())
    assert.equal("hi", mp.Array{typecode = "c", size_or_table = "hi"}.value)
  end)

  it("bad values and indexes raise clear errors at the caller's line", function()
    local here = "^spec/multiprocessing_sync_spec%.lua:%d+: "
    local v, a = mp.Value("i", 1), mp.Array("i", 3)
    assert.matches(here .. "bad argument #3 to '__newindex' %(number expected, got string%)$",
                   err_of(function() v.value = "x" end))
    assert.matches(here .. "bad argument #3 to '__newindex' %(number has no integer representation%)$",
                   err_of(function() v.value = 1.5 end))
    assert.matches(here .. "bad argument #2 to 'Value' %(number expected, got string%)$",
                   err_of(function() mp.Value("i", "x") end))
    assert.matches(here .. "bad argument #2 to 'Value' %(number has no integer representation%)$",
                   err_of(function() mp.Value("i", 1.5) end))
    assert.matches(here .. "bad argument #2 to 'Array' %(element 2: number expected, got string%)$",
                   err_of(function() mp.Array("i", {1, "x"}) end))
    assert.matches(here .. "bad argument #2 to '__newindex' %(integer index expected, got number%)$",
                   err_of(function() a[1.5] = 1 end))
    assert.matches(here .. "bad argument #3 to '__newindex' %(number expected, got nil%)$",
                   err_of(function() a[1] = nil end))
    assert.matches(here .. "array index 4 out of range %(1%.%.3%)$", err_of(function() a[4] = 1 end))
    local c = mp.Array("c", 2)
    assert.matches(here .. "bad argument #3 to '__newindex' %(one character string expected%)$",
                   err_of(function() c[1] = "ab" end))
    assert.matches(here .. "bad argument #3 to '__newindex' %(byte must be in range%(0, 256%)%)$",
                   err_of(function() c[1] = 300 end))
    assert.matches(here .. "byte string too long$", err_of(function() c.value = "abc" end))
    -- the named form: argument #1, naming the field (as Pool's), not #2
    -- of a call that has one argument
    assert.matches(here .. "bad argument #1 to 'Value' %(field 'init': number expected, got " ..
                   "table%)$", err_of(function() mp.Value{typecode = "d", init = {}} end))
    -- a subclass: the line of its own code still
    local V = mp.Value:extend("V")
    assert.matches(here .. "bad argument #3 to '__newindex'", err_of(function() V("i").value = "x" end))
    -- nothing was stored by the failed writes; conversions still work
    assert.equal(1, v.value)
    a[1] = "7"
    a[2] = 2.0
    assert.same({7, 2, 0}, a:totable())
  end)

  it("Value typecodes keep their ranges", function()
    assert.equal(-1, mp.Value("b", 255).value)
    assert.equal(255, mp.Value("B", -1).value)
    assert.equal(65535, mp.Value("H", -1).value)
    assert.equal(-1, mp.Value("i", 0xffffffff).value)
    assert.equal(math.maxinteger, mp.Value("q", math.maxinteger).value)
    assert.equal(1.5, mp.Value("f", 1.5).value)
    assert.equal("x", mp.Value("c", "x").value)
    assert.is_true(mp.Value("?", true).value)
    assert.has_error(function() mp.Value("z", 1) end)
    assert.has_error(function() mp.Value("i", 1.5) end)
    assert.has_error(function() mp.RawValue("i", 1):get_lock() end)
  end)
end)

describe("multiprocessing constructors", function()
  local here = "^spec/multiprocessing_sync_spec%.lua:%d+: "

  it("reject unknown named fields and stray arguments, as Python's TypeError", function()
    local cases = {
      {"Lock", function() mp.Lock(5) end, "no arguments expected, got 1"},
      {"Lock", function() mp.Lock{x = 1} end, "unexpected field 'x'"},
      {"RLock", function() mp.RLock(nil, 1) end, "no arguments expected, got 2", 2},
      {"Event", function() mp.Event{x = 1} end, "unexpected field 'x'"},
      {"Event", function() mp.Event(true) end, "no arguments expected, got 1"},
      {"Semaphore", function() mp.Semaphore{valu = 2} end, "unexpected field 'valu'"},
      {"Semaphore", function() mp.Semaphore(1, 2) end, "at most 1 argument expected, got 2", 2},
      {"BoundedSemaphore", function() mp.BoundedSemaphore{vaule = 2} end, "unexpected field 'vaule'"},
      {"Condition", function() mp.Condition{lck = mp.Lock()} end, "unexpected field 'lck'"},
      {"Condition", function() mp.Condition(mp.Lock(), 1) end, "at most 1 argument expected, got 2", 2},
      {"Barrier", function() mp.Barrier{parties = 2, timout = 1} end, "unexpected field 'timout'"},
      {"Barrier", function() mp.Barrier(2, nil, 1, 4) end, "at most 3 arguments expected, got 4", 4},
      {"Value", function() mp.Value{typecode = "i", int = 3} end, "unexpected field 'int'"},
      {"Value", function() mp.Value("i", 1, true, 4) end, "at most 3 arguments expected, got 4", 4},
      {"RawValue", function() mp.RawValue{typecode = "i", lock = true} end, "unexpected field 'lock'"},
      {"RawValue", function() mp.RawValue("i", 1, false) end, "at most 2 arguments expected, got 3", 3},
      {"Array", function() mp.Array{typecode = "i", size = 3} end, "unexpected field 'size'"},
      {"Array", function() mp.Array("i", 3, true, 1) end, "at most 3 arguments expected, got 4", 4},
      {"RawArray", function() mp.RawArray("i", 3, false) end, "at most 2 arguments expected, got 3", 3},
      {"Queue", function() mp.Queue{maxsiz = 3} end, "unexpected field 'maxsiz'"},
      {"Queue", function() mp.Queue(3, 4) end, "at most 1 argument expected, got 2", 2},
      {"JoinableQueue", function() mp.JoinableQueue{maxsiz = 3} end, "unexpected field 'maxsiz'"},
      {"SimpleQueue", function() mp.SimpleQueue(5) end, "no arguments expected, got 1"},
      {"Pipe", function() mp.Pipe{duplx = false} end, "unexpected field 'duplx'"},
      {"Pipe", function() mp.Pipe(true, 1) end, "at most 1 argument expected, got 2", 2},
      {"Manager", function() mp.Manager(1) end, "no arguments expected, got 1"},
      {"SyncManager", function() mp.managers.SyncManager{address = "x"} end, "unexpected field 'address'"},
    }
    for _, c in ipairs(cases) do
      local pattern = ("bad argument #%d to '%s' (%s)"):format(c[4] or 1, c[1], c[3])
      local err = err_of(c[2])
      assert.matches(here, err)  -- at the caller's line
      assert.matches(pattern, err, 1, true)
    end
  end)

  it("keep the documented forms and trailing nils", function()
    mp.Lock(nil); mp.RLock{}; mp.Event()
    assert.equal(2, mp.Semaphore{value = 2}:get_value())
    assert.equal(3, mp.BoundedSemaphore(3, nil):get_value())
    mp.Condition{lock = mp.Lock()}
    assert.equal(2, mp.Barrier{parties = 2, action = function() end, timeout = 1}.parties)
    assert.equal(5, mp.Queue{maxsize = 5}.maxsize)
    assert.equal(6, mp.JoinableQueue(6, nil).maxsize)
    local a, b = mp.Pipe{duplex = false}
    a:close(); b:close()
    -- RawValue and RawArray take named fields too, and have no lock then either
    local rv = mp.RawValue{typecode = "i", init = 4}
    assert.equal(4, rv.value)
    assert.has_error(function() rv:get_lock() end)
    local ra = mp.RawArray{typecode_or_type = "i", size_or_initializer = {1, 2}}
    assert.same({1, 2}, ra:totable())
    assert.has_error(function() ra:get_lock() end)
    assert.equal(7, mp.RawValue("i", 7).value)
  end)

  it("check a subclass's init by what it passes on, not by its own arguments", function()
    local Q = mp.Queue:extend("NamedQueue")
    function Q:init(name, maxsize) Q.super.init(self, maxsize); self.qname = name end
    local q = Q("jobs", 2)
    assert.equal("jobs", q.qname)
    assert.equal(2, q.maxsize)
    local Ctr = mp.Value:extend("Ctr")
    function Ctr:init(start) Ctr.super.init(self, "i", start); self.start = start end
    assert.equal(5, Ctr(5).value)
  end)
end)

describe("multiprocessing read-only attributes", function()
  local here = "^spec/multiprocessing_sync_spec%.lua:%d+: "

  it("Barrier's parties, n_waiting and broken, as Python's properties", function()
    local Sub = mp.Barrier:extend("SubMpBarrier")
    for _, b in ipairs{mp.Barrier(2), Sub(2)} do
      local cls = getmetatable(b).__name
      for attr, v in pairs{parties = 9, n_waiting = 1, broken = true} do
        assert.matches(here .. ("attribute '%s' of '%s' objects is not writable$"):format(attr, cls),
                       err_of(function() b[attr] = v end))
      end
      assert.equal(2, b.parties)
      assert.equal(0, b.n_waiting)
      assert.is_false(b.broken)
      b.mine = 1
      assert.equal(1, b.mine)
    end
  end)

  it("Connection's closed, readable and writable; Value's and Array's typecode", function()
    local r, w = mp.Pipe(false)
    for _, attr in ipairs{"closed", "readable", "writable"} do
      assert.matches(here .. ("attribute '%s' of 'Connection' objects is not writable$"):format(attr),
                     err_of(function() r[attr] = true end))
    end
    assert.is_false(r.closed)
    assert.is_false(r.writable)
    r:close(); w:close()
    local v, a = mp.Value("i", 1), mp.Array("i", 2)
    assert.matches(here .. "attribute 'typecode' of 'Value' objects is not writable$",
                   err_of(function() v.typecode = "d" end))
    assert.matches(here .. "attribute 'typecode' of 'Array' objects is not writable$",
                   err_of(function() a.typecode = "d" end))
    assert.equal("i", v.typecode)
    assert.equal("i", a.typecode)
    v.value = 3  -- value stays writable
    assert.equal(3, v.value)
    v.tag = "own fields too"
    assert.equal("own fields too", v.tag)
  end)

  it("Queue's maxsize and is_shutdown (fixed in shared memory)", function()
    for _, q in ipairs{mp.Queue(3), mp.JoinableQueue(3)} do
      local cls = getmetatable(q).__name
      assert.matches(here .. ("attribute 'maxsize' of '%s' objects is not writable$"):format(cls),
                     err_of(function() q.maxsize = 5 end))
      assert.matches(here .. ("attribute 'is_shutdown' of '%s' objects is not writable$"):format(cls),
                     err_of(function() q.is_shutdown = true end))
      assert.equal(3, q.maxsize)
      assert.is_false(q.is_shutdown)
      q:close()
    end
  end)
end)
