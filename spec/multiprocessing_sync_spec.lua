-- multiprocessing's queues, Pipe, locks, events, conditions, barriers and
-- shared values, used across processes.
local children = require("children")
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

  it("SimpleQueue: put, get, empty", function()
    local q = mp.SimpleQueue()
    assert.is_true(q:empty())
    local p = spawn(function() q:put("hi") end)
    assert.equal("hi", q:get())
    assert.is_true(q:empty())
    join_all({p})
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
