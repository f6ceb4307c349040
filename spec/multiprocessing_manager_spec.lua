-- multiprocessing.Manager: proxies from any process, and a server that only
-- this program's processes can use.
local children = require("children")
local err_of = require("errors").err_of
local proc = require("proc")
local mp = multiprocessing
local time = require("time")

local function no_children_left()
  assert.equal("", children.describe(children.settle(30)))
end

-- starts n children running f(i, ...); join_all waits for them
local function start_children(n, f, ...)
  local ps = {}
  for i = 1, n do
    ps[i] = mp.Process{target = f, args = table.pack(i, ...)}
    ps[i]:start()
  end
  return ps
end

local function join_all(ps)
  for _, p in ipairs(ps) do
    if not p:join(30) then p:kill() p:join() end
    assert.equal(0, p.exitcode)
  end
end

local function run_children(n, f, ...)
  join_all(start_children(n, f, ...))
end

-- polls until f() is true (up to 30 s): for states no event announces
local function wait_until(f)
  local deadline = time.monotonic() + 30
  while not f() do
    assert.is_true(time.monotonic() < deadline, "gave up waiting")
    time.sleep(0.005)
  end
end

local function sorted(t)
  t = table.move(t, 1, t.n or #t, 1, {})
  table.sort(t)
  return t
end

local function mode_of(path)
  local p = io.popen("stat -c %a " .. proc.quote(path) .. " 2>/dev/null")
  local m = p:read("l")
  p:close()
  return m
end

describe("multiprocessing.Manager", function()
  after_each(no_children_left)

  it("shares a dict and a list with children (the course example)", function()
    local manager <close> = mp.Manager()
    local d = manager:dict()
    local l = manager:list({0, 1, 2, 3, 4})
    run_children(10, function(n, d, l)
      d[n] = n
      l:append(n)
    end, d, l)
    for i = 1, 10 do assert.equal(i, d[i]) end
    assert.equal(10, #d)
    assert.equal(15, #l)
    local sorted = l:copy()
    table.sort(sorted)
    assert.same({0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10}, table.move(sorted, 1, 15, 1, {}))
    assert.equal("{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10}", tostring(d))
  end)

  it("proxies support indexing, assignment, #, pairs, ipairs, table.insert", function()
    local manager <close> = mp.Manager()
    local d = manager:dict({a = 1})
    d.b = 2
    d["c"] = {nested = true}
    assert.equal(1, d.a)
    assert.is_true(d.c.nested)
    d.a = nil
    assert.is_nil(d.a)
    local keys = {}
    for k, v in pairs(d) do keys[#keys + 1] = k .. "=" .. tostring(type(v) == "table" or v) end
    table.sort(keys)
    assert.same({"b=2", "c=true"}, keys)
    assert.equal(2, #d)
    assert.equal(2, d:get("b"))
    assert.equal("dflt", d:get("zz", "dflt"))
    assert.equal(2, d:pop("b"))

    local l = manager:list()
    table.insert(l, "x")
    table.insert(l, "y")
    l[#l + 1] = "z"
    assert.equal(3, #l)
    assert.equal("y", l[2])
    l[2] = "Y"
    local seen = {}
    for i, v in ipairs(l) do seen[i] = v end
    assert.same({"x", "Y", "z"}, seen)
    seen = {}
    for i, v in pairs(l) do seen[i] = v end
    assert.same({"x", "Y", "z"}, seen)
    assert.equal("z", table.remove(l))
    assert.equal(2, #l)
    assert.equal("['x', 'Y']", tostring(l))
    assert.has_error(function() l[10] = 1 end)
  end)

  it("table.insert from many processes appends atomically", function()
    local manager <close> = mp.Manager()
    local l = manager:list()
    run_children(4, function(n, l)
      for j = 1, 25 do table.insert(l, n * 100 + j) end
    end, l)
    assert.equal(100, #l)
    local copy = l:copy()
    local seen = {}
    for i = 1, 100 do seen[copy[i]] = true end
    for n = 1, 4 do
      for j = 1, 25 do assert.is_true(seen[n * 100 + j]) end
    end
  end)

  it("table.insert from threads sharing one proxy appends atomically", function()
    -- each thread's '#l' pairs with its own 'l[#l + 1] = v', not with
    -- another thread's
    local manager <close> = mp.Manager()
    for round = 1, 3 do
      local l = manager:list()
      local start = threading.Event()
      local ts = {}
      for n = 1, 4 do
        ts[n] = threading.Thread{target = function()
          start:wait()
          for j = 1, 50 do table.insert(l, n * 1000 + round * 100 + j) end
        end}
        ts[n]:start()
      end
      start:set()
      for _, t in ipairs(ts) do t:join() end
      assert.equal(200, #l)
      local seen = {}
      for _, v in ipairs(l:copy()) do seen[v] = true end
      for n = 1, 4 do
        for j = 1, 50 do assert.is_true(seen[n * 1000 + round * 100 + j]) end
      end
    end
    -- and coroutines in one thread, interleaved between '#l' and the store
    local l = manager:list()
    local cos = {}
    for n = 1, 2 do
      cos[n] = coroutine.wrap(function()
        local len = #l
        coroutine.yield()
        l[len + 1] = n
      end)
    end
    cos[1](); cos[2](); cos[1](); cos[2]()
    assert.same({1, 2}, {l[1], l[2]})
  end)

  it("dict, list and Namespace take a table or nothing", function()
    local manager <close> = mp.Manager()
    local here = "^spec/multiprocessing_manager_spec%.lua:%d+: "
    assert.matches(here .. "bad argument #1 to 'dict' %(table expected, got number%)$",
                   err_of(function() manager:dict(5) end))
    assert.matches(here .. "bad argument #1 to 'list' %(table expected, got string%)$",
                   err_of(function() manager:list("x") end))
    assert.matches(here .. "bad argument #1 to 'Namespace' %(table expected, got boolean%)$",
                   err_of(function() manager:Namespace(true) end))
    assert.equal(1, manager:dict({a = 1}).a)
    assert.equal(2, #manager:list({1, 2}))
    assert.equal(0, #manager:dict())
    assert.equal(3, manager:Namespace({x = 3}).x)
  end)

  it("Lock, Event, Queue, Semaphore refuse stray arguments and misspelt fields", function()
    local manager <close> = mp.Manager()
    local here = "^spec/multiprocessing_manager_spec%.lua:%d+: "
    local function err(f) return err_of(function() local r = f() return r end) end
    assert.matches(here .. "bad argument #1 to 'Lock' %(no arguments expected, got 1%)$",
                   err(function() return manager:Lock(5) end))
    assert.matches(here .. "bad argument #1 to 'Event' %(no arguments expected, got 1%)$",
                   err(function() return manager:Event(true) end))
    assert.matches(here .. "bad argument #2 to 'Semaphore' %(at most 1 argument expected, got 2%)$",
                   err(function() return manager:Semaphore(1, 2) end))
    assert.matches(here .. "bad argument #1 to 'JoinableQueue' %(unexpected field 'maxsiz'%)$",
                   err(function() return manager:JoinableQueue{maxsiz = 3} end))
    local q = manager:Queue{maxsize = 1}
    q:put(1)
    assert.equal(mp.Full, select(2, pcall(q.put_nowait, q, 2)))
    assert.equal(2, manager:BoundedSemaphore{value = 2}:get_value())
  end)

  it("any key is the dict's: '_id', '_address', '_authkey' are not the proxy's own", function()
    local manager <close> = mp.Manager()
    local d = manager:dict({_id = "a"})
    local a = manager:Array("i", 2)
    local ns = manager:Namespace({x = 1})
    assert.equal("a", d._id)
    d._address, d._authkey, d._len = 1, 2, 3
    a._len, a._typecode = 99, "d"       -- not the array's length or type
    ns._mine = "local"                  -- '_' names stay on the proxy, as in Python
    assert.same({_address = 1, _authkey = 2, _id = "a", _len = 3}, d:copy())
    assert.equal(2, #a)
    assert.is_nil(a[3])
    assert.equal("local", ns._mine)
    local q = mp.Queue()
    run_children(1, function(_, d, a, ns, q)
      d._id = "from the child"
      a[2] = 7
      q:put({d:copy(), #a, ns.x})
    end, d, a, ns, q)
    local seen = q:get()
    assert.same({_address = 1, _authkey = 2, _id = "from the child", _len = 3}, seen[1])
    assert.same({2, 1}, {seen[2], seen[3]})
    assert.same({0, 7}, a:tolist())
    q:put(d)                            -- a proxy sent through a queue still works
    local d2 = q:get()
    d2.k = "v"
    assert.equal("v", d.k)
  end)

  it("Value and Array take named fields as the local ones do", function()
    local manager <close> = mp.Manager()
    assert.equal(3, manager:Value{typecode = "i", init = 3}.value)
    assert.equal(4, manager:Value{typecode_or_type = "i", value = 4}.value)
    assert.equal(3, #manager:Array{typecode = "i", size_or_table = 3})
    assert.same({1, 2}, manager:Array{typecode_or_type = "d", size_or_initializer = {1, 2}}:tolist())
  end)

  it("Namespace, Value, Queue, Lock, Event proxies work from children", function()
    local manager <close> = mp.Manager()
    local ns = manager:Namespace()
    local v = manager:Value("i", 0)
    local q = manager:Queue()
    local lock = manager:Lock()
    local ev = manager:Event()
    ns.x = 1
    run_children(3, function(n, ns, v, q, lock, ev)
      lock:with(function() v.value = v.value + n end)
      q:put(n)
      ns["from" .. n] = true
      ev:set()
    end, ns, v, q, lock, ev)
    assert.equal(6, v.value)
    local got = {q:get(), q:get(), q:get()}
    table.sort(got)
    assert.same({1, 2, 3}, got)
    assert.is_true(ns.from2)
    assert.equal(1, ns.x)
    assert.is_true(ev:is_set())
    local ok, err = pcall(q.get, q, true, 0.01)
    assert.is_false(ok)
    assert.is_true(err == mp.Empty)
    assert.matches("^Namespace%(", tostring(ns))
  end)

  it("Queue proxy: task_done, join and shutdown as queue.Queue's", function()
    local manager <close> = mp.Manager()
    local q = manager:Queue(1)
    q:put("a")
    assert.equal(queue.Full, select(2, pcall(q.put_nowait, q, "b")))
    assert.equal("a", q:get())
    q:task_done()
    q:join()
    q:put("b")
    -- a proxy method named shutdown shuts the queue, not the manager
    q:shutdown()
    assert.equal(queue.ShutDown, select(2, pcall(q.put, q, "c")))
    assert.equal("b", q:get())
    assert.equal(queue.ShutDown, select(2, pcall(q.get, q)))
    local j = manager:JoinableQueue()
    j:put(1)
    j:shutdown(true)
    j:join()
    assert.equal(0, j:qsize())
    assert.equal(2, manager:dict{x = 2}.x)  -- the manager still serves
  end)

  it("a proxy's errors name its method, at the caller's line", function()
    local manager <close> = mp.Manager()
    local l, q = manager:Lock(), manager:Queue()
    local ok, err = pcall(function() local x = l:acquire("x") return x end)
    assert.is_false(ok)
    assert.matches("^[^:]*_spec%.lua:%d+: bad argument #1 to 'acquire' %(boolean expected", err)
    ok, err = pcall(function() local x = q:get(true, "x") return x end)
    assert.matches("^[^:]*_spec%.lua:%d+: bad argument #2 to 'get' %(number expected", err)
    ok, err = pcall(function() l:release() end)
    assert.matches("^[^:]*_spec%.lua:%d+: release unlocked lock$", err)
    local c = manager:Condition{lock = manager:Lock()}  -- the named form
    c:acquire()
    ok, err = pcall(function() c:wait_for(function() return true end, "x") end)
    assert.matches("bad argument #2 to 'wait_for' %(number expected", err)
    c:release()
  end)

  it("a method called with '.' instead of ':' is a bad-argument error naming it", function()
    local manager <close> = mp.Manager()
    local cases = {
      {function() manager.dict(5) end, "'dict' %(SyncManager expected, got number%)"},
      {function() manager.shutdown() end, "'shutdown' %(SyncManager expected, got no value%)"},
      {function() manager:Queue().get(5) end, "'get' %(QueueProxy expected, got number%)"},
      {function() manager:Lock().acquire() end, "'acquire' %(AcquirerProxy expected"},
      {function() manager:Event().set(1) end, "'set' %(EventProxy expected"},
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.matches("bad argument #1 to " .. case[2], err)
    end
  end)

  -- found by scripts/test/argsweep.lua: these failed inside the library
  -- ("attempt to index a nil value (local 'st')", "bad argument #1 to
  -- 'rawget'", "attempt to call a nil value (method 'acquire')") or named
  -- another method ('copy' for totable)
  it("every proxy method called with '.' on something else names itself", function()
    local manager <close> = mp.Manager()
    local classes = mp.managers
    local cases = {
      {classes.ArrayProxy._methods.tolist, "tolist", "ArrayProxy"},
      {classes.ArrayProxy._methods.totable, "totable", "ArrayProxy"},
      {classes.BarrierProxy._methods.wait, "wait", "BarrierProxy"},
      {classes.ConditionProxy._methods.wait, "wait", "ConditionProxy"},
      {classes.ConditionProxy._methods.wait_for, "wait_for", "ConditionProxy"},
      {classes.ConditionProxy._methods.notify, "notify", "ConditionProxy"},
      {classes.ConditionProxy._methods.notifyAll, "notifyAll", "ConditionProxy"},
      {classes.DictProxy._methods.totable, "totable", "DictProxy"},
      {classes.DictProxy._methods.has_key, "has_key", "DictProxy"},
      {classes.ListProxy._methods.totable, "totable", "ListProxy"},
      {classes.EventProxy._methods.isSet, "isSet", "EventProxy"},
      {classes.AcquirerProxy._methods.hold, "hold", "lock"},
      {classes.AcquirerProxy._methods.with, "with", "lock"},
      {classes.ConditionProxy._methods.hold, "hold", "lock"},
      {classes.SemaphoreProxy._methods.with, "with", "lock"},
    }
    for _, case in ipairs(cases) do
      for _, bad in ipairs{5, {}} do
        local err = err_of(function() case[1](bad, function() end) end)
        assert.matches("^[^:]*_spec%.lua:%d+: bad argument #1 to '" .. case[2] .. "' %(" ..
                       case[3] .. " expected, got ", err)
      end
    end
  end)

  it("a dict key no table can hold is an error at the caller's line", function()
    local manager <close> = mp.Manager()
    local d = manager:dict()
    local here = "^[^:]*_spec%.lua:%d+: "
    assert.matches(here .. "table index is nil$", err_of(function() d[nil] = 1 end))
    assert.matches(here .. "table index is NaN$", err_of(function() d[0 / 0] = 1 end))
    assert.matches(here .. "table index is nil$", err_of(function() d:setdefault(nil, 1) end))
    local ns = manager:Namespace()
    assert.matches(here .. "table index is NaN$", err_of(function() ns[0 / 0] = 1 end))
    local v, a = manager:Value("i", 1), manager:Array("i", 2)
    assert.matches(here .. "table index is nil$", err_of(function() v[nil] = 1 end))
    assert.matches(here .. "table index is nil$", err_of(function() a[nil] = 1 end))
    -- reading one is nil, as a table's; setdefault on a key that is set
    -- does not assign
    assert.is_nil(d[nil])
    d.k = 1
    assert.equal(1, d:setdefault("k", 2))
    assert.same({"k"}, d:keys())
  end)

  it("list methods check their arguments here, naming themselves", function()
    local manager <close> = mp.Manager()
    local l = manager:list{1, 2}
    local here = "^[^:]*_spec%.lua:%d+: bad argument #1 to '"
    assert.matches(here .. "extend' %(table expected, got number%)",
                   err_of(function() l:extend(5) end))
    assert.matches(here .. "insert' %(number expected, got string%)",
                   err_of(function() l:insert("x", 1) end))
    assert.matches(here .. "insert' %(number has no integer representation%)",
                   err_of(function() l:insert(1.5, 1) end))
    assert.matches(here .. "sort' %(function expected, got number%)",
                   err_of(function() l:sort(5) end))
    -- a whole float too big for an integer is an index out of range
    assert.matches("IndexError: list index out of range",
                   err_of(function() l:pop(1e308) end))
    assert.matches("IndexError: list index out of range",
                   err_of(function() l[math.huge] = 1 end))
    -- what they accept still works; insert keeps Python's clamping
    l:extend{3}
    l:insert(math.maxinteger, 4)
    l:insert(2.0, 9)
    l:sort(function(a, b) return a > b end)
    assert.same({9, 4, 3, 2, 1}, {table.unpack(l:copy(), 1, #l)})
  end)

  it("JoinableQueue names itself in its maxsize errors", function()
    local manager <close> = mp.Manager()
    assert.matches("^[^:]*_spec%.lua:%d+: bad argument #1 to 'JoinableQueue' %(number " ..
                   "expected, got string%)", err_of(function() manager:JoinableQueue("x") end))
    assert.matches("bad argument #1 to 'JoinableQueue' %(number has no integer",
                   err_of(function() manager:JoinableQueue{maxsize = 0.5} end))
    assert.matches("bad argument #1 to 'Queue' %(number has no integer",
                   err_of(function() manager:Queue(1e308) end))
    local q = manager:JoinableQueue(2.0)  -- a whole float is the integer
    q:put(1)
    q:put(2)
    assert.is_true(q:full())
  end)

  it("SyncManager() waits for start(), as in Python", function()
    local m = mp.managers.SyncManager()
    assert.matches("not running", select(2, pcall(m.dict, m)))
    assert.is_nil(m.address)
    m:start()
    local d = m:dict{x = 1}
    assert.equal(1, d.x)
    -- address is read-only, as Python's BaseManager.address
    local address = m.address
    assert.is_string(address)
    local ok0, err0 = pcall(function() m.address = "/tmp/x" end) local line = debug.getinfo(1, "l").currentline
    assert.is_false(ok0)
    assert.matches(("multiprocessing_manager_spec.lua:%d: attribute 'address' of 'SyncManager' objects is not writable")
                   :format(line), err0, 1, true)
    assert.equal(address, m.address)
    assert.has_error(function() mp.Manager(m) end,
      "bad argument #1 to 'Manager' (no arguments expected, got 1)")
    local ok, err = pcall(m.start, m)
    assert.is_false(ok)
    assert.is_true(mp.ProcessError:is(err))
    m:shutdown()
    assert.is_false(pcall(m.start, m))
  end)

  it("proxies can be sent through queues", function()
    local manager <close> = mp.Manager()
    local d = manager:dict()
    local inbox = mp.Queue()
    local p = mp.Process(function() local dd = inbox:get() dd.sent = "yes" end)
    p:start()
    inbox:put(d)
    p:join()
    assert.equal("yes", d.sent)
  end)

  it("listens in a private directory and cleans it up at shutdown", function()
    local manager = mp.Manager()
    local dir = manager.address:match("^(.*)/[^/]+$")
    assert.equal("700", mode_of(dir))
    assert.equal("600", mode_of(manager.address))
    local d = manager:dict()
    d.x = 1
    local server = manager._process
    manager:shutdown()
    assert.is_false(server:is_alive())
    assert.is_nil(mode_of(dir))
    local ok, err = pcall(function() return d.x end)
    assert.is_false(ok)
    assert.is_true(err == mp.ProcessError)
  end)

  it("refuses a wrong key, malformed and oversized messages, and keeps serving", function()
    local out, err, code = proc.lua([[
      local mp = multiprocessing
      local native = mp._native
      local manager <close> = mp.Manager()
      local d = manager:dict()
      d.before = 1
      -- a wrong key
      local c = native.connect(manager.address)
      native.conn_send_bytes(c, ("x"):rep(32))
      print("wrong key:", native.conn_recv_bytes(c))
      print("then:", pcall(native.conn_recv_bytes, c))
      native.conn_close(c)
      -- the right key, then garbage
      c = native.connect(manager.address)
      native.conn_send_bytes(c, manager._authkey)
      print("right key:", native.conn_recv_bytes(c))
      native.conn_send_bytes(c, "\255\1garbage")
      print("after garbage:", pcall(native.conn_recv, c))
      native.conn_close(c)
      -- the right key, then a message over the 64 MiB limit
      c = native.connect(manager.address)
      native.conn_send_bytes(c, manager._authkey)
      native.conn_recv_bytes(c)
      -- (the server hangs up after the header: the send may break)
      pcall(native.conn_send_bytes, c, ("y"):rep(70 * 1024 * 1024))
      print("after oversized:", pcall(native.conn_recv, c))
      native.conn_close(c)
      -- a connection that sends nothing and closes
      native.conn_close(native.connect(manager.address))
      -- still serving
      d.after = 2
      print("still serving:", d.before, d.after)
    ]])
    assert.equal(0, code)
    assert.matches("wrong key:\t#FAIL", out, 1, true)
    assert.matches("then:\tfalse\tEOFError", out, 1, true)
    assert.matches("right key:\t#OK", out, 1, true)
    assert.matches("after garbage:\tfalse\tEOFError", out, 1, true)
    assert.matches("after oversized:\tfalse", out, 1, true)
    assert.matches("still serving:\t1\t2", out, 1, true)
    assert.matches("refused a connection: wrong authentication key", err, 1, true)
    assert.matches("closed a connection: .*malformed", err)
    assert.matches("closed a connection: message too large", err, 1, true)
  end)

  it("is shut down at exit when left open", function()
    local out, _, code = proc.lua([[
      local m = multiprocessing.Manager()
      local d = m:dict()
      d.x = 1
      print(m._process.pid, m.address)
    ]])
    assert.equal(0, code)
    local pid, address = out:match("(%d+)%s+(%S+)")
    assert.is_false(children.exists(tonumber(pid)))
    assert.is_nil(mode_of(address))
  end)
end)

describe("multiprocessing.Manager Condition", function()
  after_each(no_children_left)

  it("children wait_for a predicate; notify_all from the parent wakes them", function()
    local manager <close> = mp.Manager()
    local cond = manager:Condition()
    local ns = manager:Namespace()
    local arrived = manager:Value("i", 0)
    local woken = manager:list()
    ns.go = false
    local ps = start_children(3, function(n, cond, ns, arrived, woken)
      cond:with(function()
        arrived.value = arrived.value + 1
        cond:notify_all()  -- the parent waits for all three
        local ok = cond:wait_for(function() return ns.go end, 30)
        woken:append(ok and n or -n)
      end)
    end, cond, ns, arrived, woken)
    cond:with(function()
      assert.is_true(cond:wait_for(function() return arrived.value == 3 end, 30))
      ns.go = true
      cond:notify_all()
    end)
    join_all(ps)
    assert.same({1, 2, 3}, sorted(woken:copy()))
  end)

  it("notify(n) wakes n waiters, one at a time", function()
    local manager <close> = mp.Manager()
    local cond = manager:Condition()
    local tickets = manager:Value("i", 0)
    local waiting = manager:Value("i", 0)
    local served = manager:list()
    local ps = start_children(2, function(n, cond, tickets, waiting, served)
      cond:acquire()
      waiting.value = waiting.value + 1
      cond:notify_all()
      assert(cond:wait_for(function() return tickets.value > 0 end, 30))
      tickets.value = tickets.value - 1
      served:append(n)
      cond:notify_all()  -- tells the parent
      cond:release()
    end, cond, tickets, waiting, served)
    cond:with(function()
      assert.is_true(cond:wait_for(function() return waiting.value == 2 end, 30))
      for i = 1, 2 do
        -- only the children wait now (the parent holds the lock): one wakes
        tickets.value = tickets.value + 1
        cond:notify(1)
        assert.is_true(cond:wait_for(function() return #served == i end, 30))
      end
    end)
    join_all(ps)
    assert.same({1, 2}, sorted(served:copy()))
    assert.equal(0, tickets.value)
  end)

  it("wait and wait_for time out with false; wait_for returns the predicate's value", function()
    local manager <close> = mp.Manager()
    local cond = manager:Condition()
    assert.is_true(cond:acquire())
    assert.is_false(cond:wait(0.02))
    assert.is_false(cond:wait_for(function() return false end, 0.02))
    assert.is_nil(cond:wait_for(function() return nil end, 0))
    assert.equal(42, cond:wait_for(function() return 42 end))
    cond:release()
    -- the default lock is an RLock: taken twice, waited on, still held twice
    cond:acquire()
    cond:acquire()
    assert.is_false(cond:wait(0.01))
    cond:release()
    cond:release()
    assert.has_error(function() cond:release() end)
  end)

  it("uses a manager Lock given to it, shared with the Lock proxy", function()
    local manager <close> = mp.Manager()
    local lock = manager:Lock()
    local cond = manager:Condition(lock)
    local ns = manager:Namespace()
    cond:acquire()
    assert.is_true(lock:locked())
    cond:release()
    assert.is_false(lock:locked())
    lock:acquire()  -- the Condition's lock, taken through the Lock proxy
    local ps = start_children(1, function(_, lock, cond, ns)
      lock:with(function()
        ns.x = "from child"
        cond:notify()
      end)
    end, lock, cond, ns)
    assert.is_true(cond:wait_for(function() return ns.x ~= nil end, 30))
    assert.equal("from child", ns.x)
    lock:release()
    join_all(ps)
  end)

  it("raises on a bad lock, a bad timeout, and an un-acquired lock", function()
    local manager <close> = mp.Manager()
    local cond = manager:Condition()
    local other <close> = mp.Manager()
    for _, lock in ipairs{threading.Lock(), mp.Lock(), manager:Semaphore(), other:Lock(), 5} do
      local ok, err = pcall(manager.Condition, manager, lock)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'Condition' (Lock or RLock of this manager expected", err, 1, true)
    end
    assert.matches("cannot wait on un-acquired lock", select(2, pcall(cond.wait, cond, 0.01)), 1, true)
    assert.matches("cannot notify on un-acquired lock", select(2, pcall(cond.notify, cond)), 1, true)
    cond:acquire()
    assert.matches("bad argument #1 to 'wait'", select(2, pcall(cond.wait, cond, "x")), 1, true)
    assert.matches("bad argument #1 to 'notify'", select(2, pcall(cond.notify, cond, 1.5)), 1, true)
    assert.matches("bad argument #1 to 'wait_for'", select(2, pcall(cond.wait_for, cond, 1)), 1, true)
    cond:release()
  end)
end)

describe("multiprocessing.Manager Barrier", function()
  after_each(no_children_left)

  it("gives the parties of each round the indexes 0..parties-1, and runs the action once", function()
    local manager <close> = mp.Manager()
    local actions = manager:Value("i", 0)
    local b = manager:Barrier(4, function() actions.value = actions.value + 1 end)
    assert.equal(4, b.parties)
    local indexes = manager:list()
    run_children(4, function(_, b, indexes)
      for round = 1, 3 do indexes:append(round * 10 + b:wait(30)) end
    end, b, indexes)
    assert.same({10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33}, sorted(indexes:copy()))
    assert.equal(3, actions.value)
    assert.equal(0, b.n_waiting)
    assert.is_false(b.broken)
  end)

  it("abort breaks it: waiters and later callers get threading.BrokenBarrierError", function()
    local manager <close> = mp.Manager()
    local b = manager:Barrier(3)
    local errors = manager:list()
    local ps = start_children(2, function(_, b, errors)
      local ok, err = pcall(b.wait, b, 30)
      errors:append(not ok and err == threading.BrokenBarrierError and "broken" or tostring(err))
    end, b, errors)
    wait_until(function() return b.n_waiting == 2 end)
    b:abort()
    join_all(ps)
    assert.same({"broken", "broken"}, sorted(errors:copy()))
    assert.is_true(b.broken)
    assert.equal(0, b.n_waiting)
    local ok, err = pcall(b.wait, b)
    assert.is_false(ok)
    assert.is_true(err == threading.BrokenBarrierError)
    assert.is_true(err == mp.BrokenBarrierError)
    -- reset makes it usable again
    b:reset()
    assert.is_false(b.broken)
    local indexes = manager:list()
    run_children(3, function(_, b, indexes) indexes:append(b:wait(30)) end, b, indexes)
    assert.same({0, 1, 2}, sorted(indexes:copy()))
  end)

  it("reset releases the waiters with BrokenBarrierError and leaves it unbroken", function()
    local manager <close> = mp.Manager()
    local b = manager:Barrier(2)
    local errors = manager:list()
    local ps = start_children(1, function(_, b, errors)
      local ok, err = pcall(b.wait, b, 30)
      errors:append(not ok and err == threading.BrokenBarrierError)
    end, b, errors)
    wait_until(function() return b.n_waiting == 1 end)
    b:reset()
    join_all(ps)
    assert.same({true}, sorted(errors:copy()))
    assert.is_false(b.broken)
    assert.equal(0, b.n_waiting)
  end)

  it("a wait that times out breaks it; a failing action breaks it", function()
    local manager <close> = mp.Manager()
    local b = manager:Barrier(2)
    local ok, err = pcall(b.wait, b, 0.02)
    assert.is_false(ok)
    assert.is_true(err == threading.BrokenBarrierError)
    assert.is_true(b.broken)
    -- the Barrier's own timeout
    local bt = manager:Barrier(2, nil, 0.02)
    assert.is_true(select(2, pcall(bt.wait, bt)) == threading.BrokenBarrierError)
    -- the last party gets the action's error, the others BrokenBarrierError
    local bf = manager:Barrier(2, function() error("action failed", 0) end)
    local errors = manager:list()
    run_children(2, function(_, bf, errors)
      local _, e = pcall(bf.wait, bf, 30)
      errors:append(e == threading.BrokenBarrierError and "broken" or tostring(e))
    end, bf, errors)
    local got = errors:copy()
    if got[2] == "broken" then got[1], got[2] = got[2], got[1] end
    assert.equal("broken", got[1])
    assert.matches("action failed$", got[2])
    assert.is_true(bf.broken)
  end)

  it("raises on bad arguments", function()
    local manager <close> = mp.Manager()
    assert.matches("bad argument #1 to 'Barrier' (parties must be >= 1)",
                   select(2, pcall(manager.Barrier, manager, 0)), 1, true)
    assert.matches("bad argument #1 to 'Barrier' (integer expected, got string)",
                   select(2, pcall(manager.Barrier, manager, "x")), 1, true)
    assert.matches("bad argument #2 to 'Barrier' (function expected, got number)",
                   select(2, pcall(manager.Barrier, manager, 2, 5)), 1, true)
    local b = manager:Barrier{parties = 2}
    assert.equal(2, b.parties)
    assert.matches("bad argument #1 to 'wait'", select(2, pcall(b.wait, b, "x")), 1, true)
    assert.is_false(b.broken)
  end)
end)

describe("multiprocessing.Manager Array", function()
  after_each(no_children_left)

  it("children's updates under a manager Lock add up exactly", function()
    local manager <close> = mp.Manager()
    local a = manager:Array("i", 5)      -- a[1]: everyone's total; a[n + 1]: child n's
    local d = manager:Array("d", {0.5})
    local lock = manager:Lock()
    run_children(4, function(n, a, d, lock)
      for _ = 1, 50 do
        lock:with(function()
          a[1] = a[1] + 1
          d[1] = d[1] + 0.25
        end)
        a[n + 1] = a[n + 1] + 2   -- only this child writes there
      end
    end, a, d, lock)
    assert.same({200, 100, 100, 100, 100}, a:tolist())
    assert.equal(50.5, d[1])
  end)

  it("indexes 1..#a like a local Array: ipairs, pairs, totable, tostring", function()
    local manager <close> = mp.Manager()
    local a = manager:Array("i", {3, 1, 2})
    assert.equal(3, #a)
    assert.equal("i", a.typecode)
    assert.equal(1, a[2])
    assert.equal(1, a[2.0])
    assert.is_nil(a[0])
    assert.is_nil(a[4])
    assert.is_nil(a[1.5])
    a[3] = 30
    local seen = {}
    for i, v in ipairs(a) do seen[i] = v end
    assert.same({3, 1, 30}, seen)
    seen = {}
    for i, v in pairs(a) do seen[i] = v end
    assert.same({3, 1, 30}, seen)
    assert.same({3, 1, 30}, a:totable())
    assert.equal("array('i', [3, 1, 30])", tostring(a))
    local empty = manager:Array("d", 0)
    assert.equal(0, #empty)
    assert.same({}, empty:tolist())
    -- conversions as a local Array: wrap to the width, floats, bytes, booleans
    local b = manager:Array("b", 1)
    b[1] = 200
    assert.equal(-56, b[1])
    local f = manager:Array("d", 1)
    f[1] = 3
    assert.equal("float", math.type(f[1]))
    local c = manager:Array("c", "hi")
    assert.equal("hi", c.value)
    c[2] = "o"
    assert.equal("ho", c.value)
    c.value = "y"
    assert.equal("y", c[1])
    local q = manager:Array("?", {true, false})
    assert.same({true, false}, q:tolist())
    -- a proxy sent through a queue
    local inbox = mp.Queue()
    local p = mp.Process(function() local x = inbox:get() x[1] = 99 end)
    p:start()
    inbox:put(a)
    p:join()
    assert.equal(99, a[1])
  end)

  it("raises on bad typecodes, sizes, indexes and values", function()
    local manager <close> = mp.Manager()
    local A = manager.Array
    assert.matches("bad argument #1 to 'Array' (unknown typecode 'z'", err_of(A, manager, "z", 3), 1, true)
    assert.matches("bad argument #1 to 'Array' (unknown typecode no value", err_of(A, manager), 1, true)
    assert.matches("bad argument #2 to 'Array' (size must not be negative)",
                   err_of(A, manager, "i", -1), 1, true)
    assert.matches("bad argument #2 to 'Array' (size or table expected, got string)",
                   err_of(A, manager, "i", "abc"), 1, true)
    assert.matches("bad argument #2 to 'Array' (element 2: number expected, got string)",
                   err_of(A, manager, "i", {1, "x"}), 1, true)
    assert.matches("bad argument #2 to 'Array' (element 1: number has no integer representation)",
                   err_of(A, manager, "l", {1.5}), 1, true)
    local a = manager:Array("i", 3)
    assert.matches("array index 4 out of range (1..3)", err_of(function() a[4] = 1 end), 1, true)
    assert.matches("array index 0 out of range (1..3)", err_of(function() a[0] = 1 end), 1, true)
    assert.matches("integer index expected, got number", err_of(function() a[1.5] = 1 end), 1, true)
    assert.matches("number expected, got string", err_of(function() a[1] = "x" end), 1, true)
    assert.matches("number has no integer representation", err_of(function() a[1] = 1.5 end), 1, true)
    assert.matches("number expected, got nil", err_of(function() a[1] = nil end), 1, true)
    local c = manager:Array("c", 2)
    assert.matches("one character string expected", err_of(function() c[1] = "ab" end), 1, true)
    assert.matches("byte must be in range(0, 256)", err_of(function() c[1] = 300 end), 1, true)
    assert.matches("byte string too long", err_of(function() c.value = "abc" end), 1, true)
    a[1] = "7"   -- a numeric string is converted, as the local Array does
    a[2] = 2.0
    assert.same({7, 2, 0}, a:tolist())
  end)
end)
