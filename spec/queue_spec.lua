-- The queue module: every method, error and timeout path (API.md, "queue").
-- The many-thread runs are in queue_concurrency_spec.lua.

local Thread = threading.Thread

-- waits (a bounded time) until pred() holds; for "this thread is now
-- blocked" so that a spec exercises the blocked path
local function wait_until(pred)
  local t0 = time.monotonic()
  while not pred() do
    assert(time.monotonic() - t0 < 30, "timed out waiting for a condition")
    time.sleep(0.001)
  end
end

local function waiting(q) return queue._waiting(q) end

local function raised(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return err
end

describe("queue module", function()
  it("is a builtin and require('queue') returns it", function()
    assert.is_table(queue)
    assert.equal(queue, require("queue"))
  end)

  it("has error kinds that compare equal to the raised values", function()
    for _, name in ipairs{"Empty", "Full", "ShutDown"} do
      local kind = queue[name]
      assert.equal("queue." .. name, tostring(kind))
      local err = raised(error, kind)
      assert.is_true(err == kind)
      assert.is_true(kind:is(err))
    end
    assert.is_false(queue.Empty == queue.Full)
    assert.is_true(queue.Empty("with message") == queue.Empty)
  end)
end)

describe("queue.Queue", function()
  it("is FIFO with maxsize, qsize, empty and full", function()
    local q = queue.Queue()
    assert.equal(0, q.maxsize)
    assert.is_true(q:empty())
    assert.is_false(q:full())
    for i = 1, 100 do q:put(i) end
    assert.equal(100, q:qsize())
    assert.is_false(q:empty())
    assert.is_false(q:full())  -- unbounded
    for i = 1, 100 do assert.equal(i, q:get()) end
    assert.is_true(q:empty())
  end)

  it("accepts named fields", function()
    assert.equal(3, queue.Queue{maxsize = 3}.maxsize)
    assert.equal(0, queue.Queue{}.maxsize)
  end)

  it("keeps order across the ring buffer's wrap-around and growth", function()
    local q = queue.Queue()
    local nextin, nextout = 1, 1
    for round = 1, 50 do
      for _ = 1, round % 7 + 3 do q:put(nextin); nextin = nextin + 1 end
      for _ = 1, round % 5 + 1 do
        if not q:empty() then assert.equal(nextout, q:get()); nextout = nextout + 1 end
      end
    end
    while not q:empty() do assert.equal(nextout, q:get()); nextout = nextout + 1 end
    assert.equal(nextin, nextout)
  end)

  it("queues any value, nil included", function()
    local q = queue.Queue()
    local t, f, co = {}, function() end, coroutine.create(function() end)
    local values = {nil, false, true, 0, -1.5, "s", t, f, co, io.stdout}
    for i = 1, 10 do q:put(values[i]) end
    q:put()  -- no argument: nil too
    assert.equal(11, q:qsize())
    for i = 1, 10 do assert.equal(values[i], q:get()) end
    assert.is_nil(q:get())
    assert.is_true(q:empty())
  end)

  it("get returns exactly one value, nil when nil was queued", function()
    local q = queue.Queue()
    q:put(nil)
    assert.equal(1, select("#", q:get()))
  end)

  it("get_nowait and non-blocking get raise queue.Empty", function()
    local q = queue.Queue()
    assert.equal(queue.Empty, raised(q.get_nowait, q))
    assert.equal(queue.Empty, raised(q.get, q, false))
    assert.equal(queue.Empty, raised(q.get, q, false, 5))  -- timeout ignored
  end)

  it("a get timeout that expires raises queue.Empty after waiting", function()
    local q = queue.Queue()
    local t0 = time.monotonic()
    assert.equal(queue.Empty, raised(q.get, q, true, 0.05))
    assert.is_true(time.monotonic() - t0 >= 0.045)
    assert.equal(queue.Empty, raised(q.get, q, true, 0))
  end)

  it("a get timeout that does not expire returns the item", function()
    local q = queue.Queue()
    local t = Thread{target = function()
      wait_until(function() return (waiting(q)) == 1 end)
      q:put("late")
    end}
    t:start()
    assert.equal("late", q:get(true, 30))
    t:join()
  end)

  it("a bounded queue: put_nowait and non-blocking put raise queue.Full", function()
    local q = queue.Queue(2)
    assert.equal(2, q.maxsize)
    q:put(1); q:put_nowait(2)
    assert.is_true(q:full())
    assert.equal(queue.Full, raised(q.put_nowait, q, 3))
    assert.equal(queue.Full, raised(q.put, q, 3, false))
    assert.equal(2, q:qsize())
    assert.equal(1, q:get())
    assert.is_false(q:full())
  end)

  it("a put timeout that expires raises queue.Full after waiting", function()
    local q = queue.Queue(1)
    q:put(1)
    local t0 = time.monotonic()
    assert.equal(queue.Full, raised(q.put, q, 2, true, 0.05))
    assert.is_true(time.monotonic() - t0 >= 0.045)
    assert.equal(1, q:qsize())
  end)

  it("a put timeout that does not expire puts the item", function()
    local q = queue.Queue(1)
    q:put(1)
    local t = Thread{target = function()
      wait_until(function() return select(2, waiting(q)) == 1 end)
      assert.equal(1, q:get())
    end}
    t:start()
    q:put(2, true, 30)
    t:join()
    assert.equal(2, q:get_nowait())
  end)

  it("a blocked put resumes when a get makes room", function()
    local q = queue.Queue(1)
    q:put("a")
    local done = false
    local t = Thread{target = function() q:put("b"); done = true end}
    t:start()
    wait_until(function() return select(2, waiting(q)) == 1 end)
    assert.is_false(done)
    assert.equal("a", q:get())
    t:join()
    assert.is_true(done)
    assert.equal("b", q:get())
  end)

  it("maxsize <= 0 is unbounded", function()
    local q = queue.Queue(-3)
    for i = 1, 50 do q:put_nowait(i) end
    assert.is_false(q:full())
  end)

  it("negative timeouts wait forever (here: succeed at once)", function()
    local q = queue.Queue()
    q:put(1)
    assert.equal(1, q:get(true, -1))
    q:put(2, true, -1)
    assert.equal(2, q:get())
  end)

  it("task_done and join", function()
    local q = queue.Queue()
    q:join()  -- nothing put: returns at once
    for i = 1, 3 do q:put(i) end
    local joined = false
    local t = Thread{target = function() q:join(); joined = true end}
    t:start()
    for _ = 1, 3 do q:get() end
    wait_until(function() return select(3, waiting(q)) == 1 end)
    q:task_done(); q:task_done()
    assert.is_false(joined)
    q:task_done()
    t:join()
    assert.is_true(joined)
    q:join()
  end)

  it("task_done called too many times is an error", function()
    local q = queue.Queue()
    assert.has_error(function() q:task_done() end, "task_done() called too many times")
    q:put(1); q:get(); q:task_done()
    assert.has_error(function() q:task_done() end, "task_done() called too many times")
  end)

  it("checks its arguments", function()
    local q = queue.Queue()
    assert.has_error(function() q:put(1, "x") end,
      "bad argument #2 to 'put' (boolean expected, got string)")
    assert.has_error(function() q:put(1, true, "x") end,
      "bad argument #3 to 'put' (number expected, got string)")
    assert.has_error(function() q:get("x") end,
      "bad argument #1 to 'get' (boolean expected, got string)")
    assert.has_error(function() q:get(true, {}) end,
      "bad argument #2 to 'get' (number expected, got table)")
    assert.has_error(function() q:shutdown("x") end,
      "bad argument #1 to 'shutdown' (boolean expected, got string)")
    assert.has_error(function() queue.Queue("x") end,
      "bad argument #1 to 'Queue' (number expected, got string)")
    assert.has_error(function() queue.Queue(1.5) end,
      "bad argument #1 to 'Queue' (number has no integer representation)")
    assert.has_error(function() q.get({}) end,
      "bad argument #1 to 'get' (Queue expected, got table)")
    assert.has_error(function() queue.Queue.put(42) end)
    assert.has_error(function() queue.Queue.qsize(threading.Lock()) end)
  end)

  it("rejects unknown named fields and stray arguments, as Python's TypeError", function()
    for _, name in ipairs{"Queue", "LifoQueue", "PriorityQueue"} do
      local cls = queue[name]
      assert.has_error(function() cls{maxsiz = 3} end,
        ("bad argument #1 to '%s' (unexpected field 'maxsiz')"):format(name))
      assert.has_error(function() cls(3, 4) end,
        ("bad argument #2 to '%s' (at most 1 argument expected, got 2)"):format(name))
      assert.equal(3, cls(3, nil).maxsize)
      assert.equal(2, cls{maxsize = 2}.maxsize)
    end
    local ok, err = pcall(function() queue.Queue{maxsiz = 3} end) local line = debug.getinfo(1, "l").currentline
    assert.is_false(ok)
    assert.matches(("queue_spec.lua:%d: bad argument #1 to 'Queue'"):format(line), err)
    -- a subclass's own arguments are its init's business
    local Labelled = queue.Queue:extend("LabelledQueue")
    function Labelled:init(label, maxsize) Labelled.super.init(self, maxsize); self.label = label end
    local q = Labelled("jobs", 4)
    assert.equal("jobs", q.label)
    assert.equal(4, q.maxsize)
  end)

  it("maxsize stays a plain writable field, as Python's attribute", function()
    -- (the bound stays the constructor's: see stdlib/queue.lua)
    local q = queue.Queue(2)
    q.maxsize = 5
    assert.equal(5, q.maxsize)
    q.is_shutdown = false
    q.mine = 1
    assert.equal(1, q.mine)
  end)

  it("names the method in argument errors when called without ':'", function()
    -- pcall calls the method without a name: the error must still say
    -- 'get', not the native function's internal name (#2: self is #1)
    local q = queue.Queue()
    assert.equal("bad argument #2 to 'get' (boolean expected, got string)",
                 raised(q.get, q, "x"))
    assert.equal("bad argument #3 to 'put' (boolean expected, got string)",
                 raised(q.put, q, 1, "x"))
    assert.equal("bad argument #2 to 'get' (boolean expected, got string)",
                 raised(q.get, queue.LifoQueue(), "x"))
  end)

  -- found by scripts/test/argsweep.lua: Queue.shutdown (a Lua method) on
  -- something else failed inside queue.lua
  it("shutdown called on something else is a bad argument at the caller's line", function()
    for _, cls in ipairs{queue.Queue, queue.LifoQueue, queue.PriorityQueue} do
      for _, bad in ipairs{5, {}, threading.Lock()} do
        local ok, err = pcall(function() cls.shutdown(bad) end)
        assert.is_false(ok)
        assert.matches("^spec/queue_spec%.lua:%d+: bad argument #1 to 'shutdown' %(Queue expected",
                       err)
      end
    end
    local q = queue.Queue()
    q:shutdown()
    assert.is_true(q.is_shutdown)
  end)

  it("can be subclassed", function()
    local Counting = queue.Queue:extend("CountingQueue")
    function Counting:init(maxsize)
      Counting.super.init(self, maxsize)
      self.puts = 0
    end
    function Counting:put(item, ...)
      self.puts = self.puts + 1
      return Counting.super.put(self, item, ...)
    end
    local q = Counting(5)
    q:put("a"); q:put("b")
    assert.equal(2, q.puts)
    assert.equal(5, q.maxsize)
    assert.equal("a", q:get())
    assert.is_true(queue.Queue:is(q))
    assert.is_true(q:isinstance(Counting))
  end)
end)

describe("queue shutdown", function()
  it("put raises ShutDown; get drains, then raises ShutDown", function()
    local q = queue.Queue()
    q:put(1); q:put(2)
    assert.is_false(q.is_shutdown)
    q:shutdown()
    assert.is_true(q.is_shutdown)
    assert.equal(queue.ShutDown, raised(q.put, q, 3))
    assert.equal(queue.ShutDown, raised(q.put_nowait, q, 3))
    assert.equal(1, q:get())
    assert.equal(2, q:get_nowait())
    assert.equal(queue.ShutDown, raised(q.get, q))
    assert.equal(queue.ShutDown, raised(q.get_nowait, q))
    assert.equal(queue.ShutDown, raised(q.get, q, true, 0.01))
  end)

  it("immediate: get raises at once and the queue is drained", function()
    local q = queue.Queue()
    for i = 1, 5 do q:put(i) end
    q:shutdown(true)
    assert.equal(0, q:qsize())
    assert.equal(queue.ShutDown, raised(q.get, q))
    q:join()  -- the drained items count as done
  end)

  it("immediate releases join even with items taken but not done", function()
    local q = queue.Queue()
    q:put(1); q:put(2)
    q:get()  -- taken, task_done not called: join still waits for it
    q:shutdown(true)
    assert.has_error(function() q:task_done(); q:task_done() end,
      "task_done() called too many times")
    q:join()
  end)

  it("wakes getters blocked on an empty queue with ShutDown", function()
    local q = queue.Queue()
    local errs = {}
    local ts = {}
    for i = 1, 3 do
      ts[i] = Thread{target = function()
        local ok, err = pcall(q.get, q)
        errs[i] = ok and "no error" or err
      end}
      ts[i]:start()
    end
    wait_until(function() return (waiting(q)) == 3 end)
    q:shutdown()
    for i = 1, 3 do ts[i]:join(); assert.equal(queue.ShutDown, errs[i]) end
  end)

  it("wakes putters blocked on a full queue with ShutDown", function()
    local q = queue.Queue(1)
    q:put(0)
    local errs = {}
    local ts = {}
    for i = 1, 2 do
      ts[i] = Thread{target = function()
        local ok, err = pcall(q.put, q, i)
        errs[i] = ok and "no error" or err
      end}
      ts[i]:start()
    end
    wait_until(function() return select(2, waiting(q)) == 2 end)
    q:shutdown()
    for i = 1, 2 do ts[i]:join(); assert.equal(queue.ShutDown, errs[i]) end
    assert.equal(0, q:get())  -- not immediate: the item stays gettable
  end)

  it("immediate wakes blocked joiners", function()
    local q = queue.Queue()
    q:put(1)
    local t = Thread{target = function() q:join() end}
    t:start()
    wait_until(function() return select(3, waiting(q)) == 1 end)
    q:shutdown(true)
    assert.is_true(t:join(30))
  end)
end)

describe("queue class hierarchy", function()
  it("LifoQueue and PriorityQueue are subclasses of Queue, as in Python", function()
    local l, p, q = queue.LifoQueue(), queue.PriorityQueue(), queue.Queue()
    assert.is_true(l:isinstance(queue.Queue))
    assert.is_true(p:isinstance(queue.Queue))
    assert.is_true(queue.Queue:is(l))
    assert.is_true(queue.Queue:is(p))
    assert.equal(queue.Queue, queue.LifoQueue.super)
    assert.equal(queue.Queue, queue.PriorityQueue.super)
    -- but not the other way round, and not each other
    assert.is_false(queue.LifoQueue:is(q))
    assert.is_false(queue.PriorityQueue:is(l))
    assert.is_false(queue.Queue:is(queue.SimpleQueue()))  -- as in Python
    -- each keeps its own order
    for i = 1, 3 do l:put(i); p:put(4 - i); q:put(i) end
    assert.same({3, 1, 1}, {l:get(), p:get(), q:get()})
    assert.equal("LifoQueue", getmetatable(l).__name)
  end)

  it("Lua subclasses of LifoQueue and PriorityQueue work", function()
    local Tagged = queue.PriorityQueue:extend("Tagged")
    function Tagged:init(maxsize)
      Tagged.super.init(self, maxsize)
      self.tag = "t"
    end
    function Tagged:put(item, ...)
      return Tagged.super.put(self, {item}, ...)
    end
    local t = Tagged(2)
    t:put(5); t:put(1)
    assert.is_true(t:full())
    assert.equal(1, t:get()[1])
    assert.equal("t", t.tag)
    assert.is_true(t:isinstance(queue.Queue))
    assert.is_true(t:isinstance(queue.PriorityQueue))
    local Stack = queue.LifoQueue:extend("Stack")
    local s = Stack()
    s:put("a"); s:put("b")
    assert.equal("b", s:get())
    assert.is_true(queue.Queue:is(s))
    assert.has_error(function() Stack("x") end,
      "bad argument #1 to 'LifoQueue' (number expected, got string)")
  end)
end)

describe("queue.LifoQueue", function()
  it("is last in, first out, bounded like Queue", function()
    local q = queue.LifoQueue(3)
    assert.equal(3, q.maxsize)
    q:put(1); q:put(2); q:put(3)
    assert.is_true(q:full())
    assert.equal(queue.Full, raised(q.put_nowait, q, 4))
    assert.equal(3, q:get()); assert.equal(2, q:get())
    q:put(nil)
    assert.is_nil(q:get())
    assert.equal(1, q:get())
    assert.equal(queue.Empty, raised(q.get_nowait, q))
  end)

  it("grows past its initial capacity", function()
    local q = queue.LifoQueue()
    for i = 1, 1000 do q:put(i) end
    for i = 1000, 1, -1 do assert.equal(i, q:get()) end
  end)
end)

describe("queue.PriorityQueue", function()
  it("returns numbers smallest first", function()
    local q = queue.PriorityQueue()
    local input = {}
    for i = 1, 500 do input[i] = (i * 7919) % 1009 - 500 + (i % 3) * 0.5 end
    for _, v in ipairs(input) do q:put(v) end
    table.sort(input)
    for i = 1, #input do assert.equal(input[i], q:get()) end
  end)

  it("orders strings by <", function()
    local q = queue.PriorityQueue()
    for _, s in ipairs{"pear", "apple", "fig", "banana", "apple2"} do q:put(s) end
    local out = {}
    for i = 1, 5 do out[i] = q:get() end
    assert.same({"apple", "apple2", "banana", "fig", "pear"}, out)
  end)

  it("orders tables element by element, like Python tuples", function()
    local q = queue.PriorityQueue()
    local a, b, c, d, e = {1, "b"}, {2}, {1, "a"}, {1, "a", "x"}, {1}
    for _, t in ipairs{a, b, c, d, e} do q:put(t) end
    local out = {}
    for i = 1, 5 do out[i] = q:get() end
    assert.equal(e, out[1]); assert.equal(c, out[2]); assert.equal(d, out[3])
    assert.equal(a, out[4]); assert.equal(b, out[5])
  end)

  it("compares nested tables element by element too", function()
    local q = queue.PriorityQueue()
    local x, y = {{1, 2}, "y"}, {{1, 1}, "x"}
    q:put(x); q:put(y)
    assert.equal(y, q:get())
    assert.equal(x, q:get())
  end)

  it("gives equal priorities in insertion order", function()
    local q = queue.PriorityQueue()
    local items = {}
    for i = 1, 200 do
      items[i] = {i % 4, {payload = i}}  -- the payloads compare equal
      q:put(items[i])
    end
    local last = {}
    for _ = 1, 200 do
      local it = q:get()
      local prio, n = it[1], it[2].payload
      if last[prio] then assert.is_true(n > last[prio]) end
      last[prio] = n
    end
    -- and whole items that are equal too
    local p = queue.PriorityQueue()
    local t1, t2, t3 = {5}, {5}, {5}
    p:put(t1); p:put(t2); p:put(t3)
    assert.equal(t1, p:get()); assert.equal(t2, p:get()); assert.equal(t3, p:get())
  end)

  it("uses __lt for other values", function()
    local mt = {__lt = function(a, b) return a.rank < b.rank end}
    local function obj(r) return setmetatable({rank = r}, mt) end
    local q = queue.PriorityQueue()
    local o3, o1, o2 = obj(3), obj(1), obj(2)
    q:put(o3); q:put(o1); q:put(o2)
    assert.equal(o1, q:get()); assert.equal(o2, q:get()); assert.equal(o3, q:get())
  end)

  it("a comparison error raises and leaves the queue intact", function()
    local q = queue.PriorityQueue()
    q:put(1); q:put(2)
    assert.has_error(function() q:put("x") end)
    assert.has_error(function() q:put(function() end) end)
    assert.equal(2, q:qsize())
    assert.equal(1, q:get()); assert.equal(2, q:get())
    q:put(1)
    q:put(2)  -- the queue still works
    assert.equal(1, q:get())
  end)

  -- had no position at all ("attempt to compare string with number")
  it("a comparison error is positioned at the script's line that put", function()
    local q = queue.PriorityQueue()
    q:put(1)
    local ok, err = pcall(function() q:put("x") end)
    assert.is_false(ok)
    assert.matches("^spec/queue_spec%.lua:%d+: attempt to compare string with number$", err)
    -- a __lt's own error keeps its own position, once
    q = queue.PriorityQueue()
    local mt = {__lt = function() error("no order") end}
    q:put(setmetatable({}, mt))
    ok, err = pcall(function() q:put(setmetatable({}, mt)) end)
    assert.is_false(ok)
    assert.matches("^spec/queue_spec%.lua:%d+: no order$", err)
  end)

  it("an __lt that uses the same queue gets an error, not a deadlock", function()
    local q = queue.PriorityQueue()
    local mt = {__lt = function(a, b) q:qsize(); return a.v < b.v end}
    q:put(setmetatable({v = 1}, mt))
    assert.has_error(function() q:put(setmetatable({v = 2}, mt)) end)
    assert.equal(1, q:qsize())
  end)

  it("nil is a valid item (smallest of nothing: only alone)", function()
    local q = queue.PriorityQueue()
    q:put(nil)
    assert.equal(1, q:qsize())
    assert.is_nil(q:get())
  end)

  it("is bounded, with task_done/join and shutdown", function()
    local q = queue.PriorityQueue{maxsize = 2}
    q:put(2); q:put(1)
    assert.equal(queue.Full, raised(q.put_nowait, q, 0))
    assert.equal(1, q:get()); q:task_done()
    assert.equal(2, q:get()); q:task_done()
    q:join()
    q:put(5); q:put(4)
    q:shutdown(true)
    assert.equal(queue.ShutDown, raised(q.get, q))
  end)
end)

describe("queue.SimpleQueue", function()
  it("is an unbounded FIFO with put/get/qsize/empty", function()
    local q = queue.SimpleQueue()
    assert.is_true(q:empty())
    for i = 1, 20 do q:put(i) end
    q:put_nowait(nil)
    assert.equal(21, q:qsize())
    for i = 1, 20 do assert.equal(i, q:get()) end
    assert.is_nil(q:get_nowait())
    assert.equal(queue.Empty, raised(q.get_nowait, q))
    assert.equal(queue.Empty, raised(q.get, q, true, 0.01))
    assert.is_nil(q.task_done)
    assert.is_nil(q.maxsize)
  end)

  it("takes no arguments, as Python's SimpleQueue()", function()
    assert.has_error(function() queue.SimpleQueue(5) end,
      "bad argument #1 to 'SimpleQueue' (no arguments expected, got 1)")
    assert.has_error(function() queue.SimpleQueue{maxsize = 5} end,
      "bad argument #1 to 'SimpleQueue' (unexpected field 'maxsize')")
    assert.is_true(queue.SimpleQueue(nil):empty())
  end)

  it("put never blocks and accepts block/timeout", function()
    local q = queue.SimpleQueue()
    q:put(1, true, 0.1)
    q:put(2, false)
    assert.equal(1, q:get()); assert.equal(2, q:get())
  end)

  it("a blocked get is woken by a put from another thread", function()
    local q = queue.SimpleQueue()
    local t = Thread{target = function()
      wait_until(function() return (waiting(q)) == 1 end)
      q:put("x")
    end}
    t:start()
    assert.equal("x", q:get())
    t:join()
  end)
end)

describe("queue and Ctrl-C", function()
  it("a get blocked in the main thread raises 'interrupted!' and the queue still works", function()
    local proc = require("proc")
    -- SIGINT is sent once the main thread waits in the queue (up to 30 s),
    -- not after a fixed delay: a Ctrl-C before the pcall would end the script
    local out, err, code = proc.lua([[
      local q = queue.Queue(1)
      local function interrupter(which)  -- 1: a getter, 2: a putter
        return threading.Thread{target = function()
          local t0 = time.monotonic()
          while select(which, queue._waiting(q)) ~= 1 and time.monotonic() - t0 < 30 do
            time.sleep(0.001)
          end
          time.sleep(0.01)  -- from counted as waiting to inside the futex wait
          io.popen("kill -INT " .. os.getpid()):close()
        end}
      end
      local t = interrupter(1)
      t:start()
      local ok, e = pcall(q.get, q)
      print(ok, (tostring(e):match("interrupted!")))
      print(queue._waiting(q))
      q:put(1)
      print(q:get())
      t:join()
      q:put(2)
      t = interrupter(2)
      t:start()
      ok, e = pcall(q.put, q, 3)
      print(ok, (tostring(e):match("interrupted!")))
      print(q:get(), q:qsize())
      t:join()
    ]])
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("false\tinterrupted!\n0\t0\t0\n1\nfalse\tinterrupted!\n2\t0\n", out)
  end)
end)
