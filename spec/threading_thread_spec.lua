-- threading.Thread and the module functions (API.md, "threading").
local proc = require("proc")

describe("threading.Thread", function()
  it("runs target with args and kwargs", function()
    local got
    local t = threading.Thread{target = function(a, b, kw) got = {a, b, kw.x} end,
                               args = {1, 2}, kwargs = {x = 3}}
    t:start()
    assert.is_true(t:join())
    assert.same({1, 2, 3}, got)
  end)

  it("accepts positional arguments recognised by type", function()
    local got
    local t = threading.Thread(function(a) got = a end, "named", {42}, true)
    assert.equal("named", t.name)
    assert.is_true(t.daemon)
    t:start(); t:join()
    assert.equal(42, got)
  end)

  it("names threads Thread-N by default and keeps given names", function()
    local t = threading.Thread{target = function() end}
    assert.matches("^Thread%-%d+$", t.name)
    local u = threading.Thread{target = function() end, name = "w1"}
    assert.equal("w1", u.name)
    assert.equal("w1", u:getName())
    u:setName("w2")
    assert.equal("w2", u.name)
  end)

  it("sets ident and native_id at start, and get_ident matches in the thread", function()
    local inside, inside_native, cur
    local t = threading.Thread{target = function()
      inside = threading.get_ident()
      inside_native = threading.get_native_id()
      cur = threading.current_thread()
    end}
    assert.is_nil(t.ident)
    t:start()
    assert.is_number(t.ident)
    assert.is_number(t.native_id)
    t:join()
    assert.equal(t.ident, inside)
    assert.equal(t.native_id, inside_native)
    assert.equal(t, cur)
    assert.not_equal(threading.get_ident(), t.ident)
  end)

  it("is_alive is false before start, true while running, false after join", function()
    local ev_go, ev_in = threading.Lock(), threading.Lock()
    ev_go:acquire(); ev_in:acquire()
    local t = threading.Thread{target = function() ev_in:release(); ev_go:acquire() end}
    assert.is_false(t:is_alive())
    t:start()
    ev_in:acquire()              -- the thread is running
    assert.is_true(t:is_alive())
    assert.is_true(t:isAlive())
    ev_go:release()
    t:join()
    assert.is_false(t:is_alive())
  end)

  it("join with a timeout returns false while the thread runs", function()
    local gate = threading.Lock()
    gate:acquire()
    local t = threading.Thread{target = function() gate:acquire() end}
    t:start()
    assert.is_false(t:join(0.01))
    assert.is_false(t:join(0))
    gate:release()
    assert.is_true(t:join(5))
    assert.is_true(t:join())
  end)

  it("cannot be started twice", function()
    local t = threading.Thread{target = function() end}
    t:start()
    assert.has_error(function() t:start() end, "threads can only be started once")
    t:join()
  end)

  it("cannot join before start, or join itself", function()
    local t = threading.Thread{target = function() end}
    assert.has_error(function() t:join() end, "cannot join thread before it is started")
    local err
    local self_join = threading.Thread{target = function()
      local ok, e = pcall(function() threading.current_thread():join() end)
      err = e
    end}
    self_join:start(); self_join:join()
    assert.matches("cannot join current thread", err)
  end)

  it("can be subclassed with run and init", function()
    local Worker = threading.Thread:extend("Worker")
    local seen = {}
    local lock = threading.Lock()
    function Worker:init(id)
      Worker.super.init(self)
      self.id = id
    end
    function Worker:run()
      lock:acquire(); seen[#seen + 1] = self.id; lock:release()
    end
    local ws = {}
    for i = 1, 5 do ws[i] = Worker(i); ws[i]:start() end
    for _, w in ipairs(ws) do w:join() end
    table.sort(seen)
    assert.same({1, 2, 3, 4, 5}, seen)
    assert.is_true(ws[1]:isinstance(threading.Thread))
    assert.is_true(Worker:is(ws[1]))
    assert.is_true(threading.Thread:is(ws[1]))
    assert.matches("^<Worker%(", tostring(ws[1]))
  end)

  it("refuses to start a subclass whose init skipped Thread.init", function()
    local Bad = threading.Thread:extend("Bad")
    function Bad:init() end
    assert.has_error(function() Bad():start() end)
  end)

  it("checks constructor and join arguments", function()
    assert.has_error(function() threading.Thread{target = 42} end,
      "bad argument #1 to 'Thread' (function expected, got number)")
    assert.has_error(function() threading.Thread{target = print, args = 1} end)
    assert.has_error(function() threading.Thread{daemon = "yes"} end)
    local t = threading.Thread{target = function() end}
    t:start()
    assert.has_error(function() t:join("soon") end,
      "bad argument #1 to 'join' (number expected, got string)")
    t:join()
  end)

  it("rejects a misspelt field in the named form", function()
    assert.has_error(function() threading.Thread{targt = print} end,
      "bad argument #1 to 'Thread' (unexpected field 'targt')")
  end)

  it("rejects a stray positional argument (a second name, a third table)", function()
    assert.has_error(function() threading.Thread(print, "a", "b") end,
      "bad argument #3 to 'Thread' (unexpected string)")
    assert.has_error(function() threading.Thread(print, {}, {}, {}) end,
      "bad argument #4 to 'Thread' (unexpected table)")
    assert.has_error(function() threading.Thread(print, true, false) end,
      "bad argument #3 to 'Thread' (unexpected boolean)")
  end)

  it("ident and native_id are read-only, as Python's properties, also in subclasses", function()
    local W = threading.Thread:extend("ReadOnlyW")
    function W:init(id) W.super.init(self); self.id = id end
    for _, t in ipairs{threading.Thread{target = function() end}, W(7)} do
      local cls = getmetatable(t).__name
      for _, started in ipairs{false, true} do
        if started then t:start(); t:join() end
        local ident, native_id = t.ident, t.native_id
        for attr, v in pairs{ident = 5, native_id = 1} do
          -- raised at the assignment's line, naming the attribute and the class
          local ok, err = pcall(function() t[attr] = v end) local line = debug.getinfo(1, "l").currentline
          assert.is_false(ok)
          assert.matches(("threading_thread_spec.lua:%d: attribute '%s' of '%s' objects is not writable")
                         :format(line, attr, cls), err, 1, true)
        end
        assert.are.equal(ident, t.ident)
        assert.are.equal(native_id, t.native_id)
        if started then assert.is_number(t.ident) else assert.is_nil(t.ident) end
      end
      -- what Python lets one assign still can be
      t.name = "renamed"
      assert.are.equal("renamed", t.name)
      t.anything = 1
      assert.are.equal(1, t.anything)
    end
    local w = W(8)
    assert.are.equal(8, w.id)
    w.daemon = true
    assert.is_true(w.daemon)
    assert.has_error(function() threading.current_thread().ident = 1 end,
                     "attribute 'ident' of 'Thread' objects is not writable")
    assert.has_error(function() threading.Timer(1, print).native_id = 1 end,
                     "attribute 'native_id' of 'Timer' objects is not writable")
  end)

  it("start returns nothing, as in Python (the REPL prints nothing)", function()
    local t = threading.Thread{target = function() end}
    assert.are.equal(0, select("#", t:start()))
    t:join()
  end)

  it("gives unique default names to threads made by several threads at once", function()
    local names, lock = {}, threading.Lock()
    local go = threading.Event()
    local makers = {}
    for i = 1, 4 do
      makers[i] = threading.Thread{target = function()
        go:wait()
        local mine = {}
        for j = 1, 200 do mine[j] = threading.Thread{target = print}.name end
        lock:with(function() for _, n in ipairs(mine) do names[#names + 1] = n end end)
      end}
      makers[i]:start()
    end
    go:set()
    for _, m in ipairs(makers) do m:join() end
    local seen, distinct = {}, 0
    for _, n in ipairs(names) do
      if not seen[n] then seen[n] = true; distinct = distinct + 1 end
    end
    assert.are.equal(800, #names)
    assert.are.equal(800, distinct)
  end)

  it("a NaN timeout is a bad argument everywhere, never a hang", function()
    local nan = 0 / 0
    local msg = "timeout must be a number, not nan"
    local lock = threading.Lock()
    lock:acquire()
    local cond = threading.Condition()
    cond:acquire()
    local t = threading.Thread{target = function() end}
    t:start()
    for _, f in ipairs{
      function() lock:acquire(true, nan) end,
      function() threading.RLock():acquire(true, nan) end,
      function() threading.Event():wait(nan) end,
      function() cond:wait(nan) end,
      function() cond:wait_for(function() return false end, nan) end,
      function() threading.Semaphore(0):acquire(true, nan) end,
      function() threading.Barrier(2):wait(nan) end,
      function() threading.Barrier(2, nil, nan) end,
      function() queue.Queue():get(true, nan) end,
      function() t:join(nan) end,
      function() threading.main_thread():join(nan) end,
    } do
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.matches(msg, err, 1, true)
    end
    assert.has_error(function() time.sleep(nan) end,
      "bad argument #1 to 'sleep' (sleep length must be a number, not nan)")
    cond:release()
    t:join()
  end)

  it("daemon is settable before start and inherited from the creator", function()
    local t = threading.Thread{target = function() end}
    assert.is_false(t.daemon)
    t:setDaemon(true)
    assert.is_true(t:isDaemon())
    local child_daemon
    t.target = function()
      child_daemon = threading.Thread{target = function() end}.daemon
    end
    t:start(); t:join()
    assert.is_true(child_daemon)
    assert.has_error(function() t:setDaemon(false) end, "cannot set daemon status of active thread")
  end)

  it("assigning daemon after start is an error, as in Python, also for subclasses", function()
    local W = threading.Thread:extend("DaemonW")
    function W:init() W.super.init(self) self.extra = 1 end
    for _, t in ipairs{threading.Thread{target = function() end}, W()} do
      t.daemon = true
      assert.is_true(t.daemon)
      t:start(); t:join()
      assert.has_error(function() t.daemon = false end,
                       "cannot set daemon status of active thread")
      assert.is_true(t.daemon)
      t.other = "fields stay assignable"
      assert.are.equal("fields stay assignable", t.other)
    end
  end)

  it("a finalizer may join a thread whose handle was finalized first", function()
    -- finalizers run in the reverse order of their objects' creation, so
    -- the thread's native handle (made by start) goes before 'holder'
    local joined = {}
    do
      local holder = setmetatable({}, {__gc = function(h)
        joined[#joined + 1] = {h.t:join(), h.t:is_alive()}
      end})
      holder.t = threading.Thread{target = function() end}
      holder.t:start()
      holder.t:join()
    end
    for _ = 1, 3 do collectgarbage() end
    assert.same({{true, false}}, joined)
  end)

  it("many finished threads do not keep their native state alive", function()
    -- each ended thread's state is freed once its handle is collected; this
    -- checks the life cycle stays sound (the memory figure is in
    -- scripts/bench/threads/start_join.lua)
    for round = 1, 3 do
      local ts = {}
      for i = 1, 200 do
        ts[i] = threading.Thread{target = function() return i end}
        ts[i]:start()
      end
      for i = 1, 200 do assert.is_true(ts[i]:join(30)) end
      ts = nil
      collectgarbage()
      assert.equal(1, threading.active_count(), "round " .. round)
    end
  end)
end)

describe("the main thread", function()
  it("cannot change its daemon flag, so new threads stay non-daemon", function()
    assert.has_error(function() threading.main_thread().daemon = true end,
                     "cannot set daemon status of active thread")
    assert.is_false(threading.main_thread().daemon)
    assert.is_false(threading.Thread{target = print}.daemon)
  end)

  it("can be joined from another thread: the join returns when the main chunk ends", function()
    local path = proc.script([[
      local running = threading.Event()
      local t = threading.Thread{target = function()
        print("while main runs:", threading.main_thread():join(0.01))
        running:set()
        print("joined:", threading.main_thread():join())
      end}
      t:start()
      running:wait()
      print("main chunk ends")
    ]])
    local out, err, status = proc.run{path}
    os.remove(path)
    assert.are.equal(0, status, err)
    assert.are.equal("while main runs:\tfalse\nmain chunk ends\njoined:\ttrue\n", out)
  end)
end)

describe("threading module functions", function()
  it("main_thread and current_thread in the main thread", function()
    local m = threading.main_thread()
    assert.equal("MainThread", m.name)
    assert.equal(m, threading.current_thread())
    assert.equal(m, threading.currentThread())
    assert.equal(threading.get_ident(), m.ident)
    assert.is_true(m:is_alive())
  end)

  it("enumerate and active_count include running threads and main", function()
    local gate, ready = threading.Lock(), threading.Lock()
    gate:acquire()
    local n0 = threading.active_count()
    local ts = {}
    for i = 1, 3 do
      ready:acquire()
      ts[i] = threading.Thread{target = function() ready:release(); gate:acquire(); gate:release() end}
      ts[i]:start()
    end
    ready:acquire()  -- the last one is running
    ready:release()
    assert.equal(n0 + 3, threading.active_count())
    assert.equal(n0 + 3, threading.activeCount())
    local names = {}
    for _, t in ipairs(threading.enumerate()) do names[t] = true end
    for i = 1, 3 do assert.is_true(names[ts[i]]) end
    assert.is_true(names[threading.main_thread()])
    gate:release()
    for _, t in ipairs(ts) do t:join() end
    assert.equal(n0, threading.active_count())
  end)

  it("switch interval is settable and checked", function()
    local old = threading.getswitchinterval()
    assert.near(0.005, old, 1e-9)
    threading.setswitchinterval(0.001)
    assert.near(0.001, threading.getswitchinterval(), 1e-9)
    threading.setswitchinterval(old)
    assert.has_error(function() threading.setswitchinterval(0) end)
    assert.has_error(function() threading.setswitchinterval("x") end)
  end)

  it("gil_enabled reflects the mode", function()
    assert.equal(os.getenv("CTHREADS_GIL") ~= "0", threading.gil_enabled())
  end)

  it("is also returned by require", function()
    assert.equal(threading, require("threading"))
    assert.equal(time, require("time"))
  end)
end)

describe("errors in threads", function()
  it("reach excepthook with thread, error and traceback; other threads go on", function()
    local old = threading.excepthook
    local got
    local lock = threading.Lock()
    threading.excepthook = function(args) lock:acquire(); got = args; lock:release() end
    local ok_done = false
    local bad = threading.Thread{target = function() error("boom") end, name = "bad"}
    local good = threading.Thread{target = function() ok_done = true end}
    bad:start(); good:start()
    bad:join(); good:join()
    threading.excepthook = old
    assert.is_true(ok_done)
    assert.equal(bad, got.thread)
    assert.matches("boom", got.error)
    assert.matches("stack traceback", got.traceback)
    -- Python's ExceptHookArgs names too
    assert.equal(got.error, got.exc_value)
    assert.equal(got.traceback, got.exc_traceback)
    assert.equal("string", got.exc_type)
  end)

  it("error(nil) and error kinds reach the hook (exc_type: the kind)", function()
    local out, err, code = proc.lua([[
      local t = threading.Thread{target = function() error(nil) end}
      threading.excepthook = function(a) print(a.error, a.traceback ~= nil) end
      t:start(); t:join()
      local kinds = {}
      threading.excepthook = function(a) kinds[#kinds + 1] = a.exc_type end
      t = threading.Thread{target = function() error(queue.Empty("x")) end}
      t:start(); t:join()
      print(kinds[1] == queue.Empty)
    ]])
    assert.equal(0, code, err)
    assert.equal("nil\ttrue\ntrue\n", out)
  end)

  it("the default hook prints 'Exception in thread NAME:' and the process continues", function()
    local out, err, code = proc.lua([[
      local t = threading.Thread{target = function() error("kaput") end, name = "T9"}
      t:start(); t:join()
      print("still here")
    ]])
    assert.equal(0, code)
    assert.equal("still here\n", out)
    assert.matches("Exception in thread T9:", err, 1, true)
    assert.matches("kaput", err)
  end)
end)

describe("program exit", function()
  it("waits for non-daemon threads", function()
    -- the thread prints only after "main done" (an event, not a sleep that
    -- a stalled main thread could outlast), then outlives the main chunk
    local out, _, code = proc.lua([[
      local printed = threading.Event()
      threading.Thread{target = function()
        printed:wait()
        time.sleep(0.05)
        print("late")
      end}:start()
      print("main done")
      printed:set()
    ]])
    assert.equal(0, code)
    assert.equal("main done\nlate\n", out)
  end)

  it("abandons daemon threads cleanly", function()
    local out, err, code = proc.lua([[
      threading.Thread{target = function() while true do end end, daemon = true}:start()
      threading.Thread{target = function() time.sleep(100) end, daemon = true}:start()
      print("bye")
    ]])
    assert.equal(0, code)
    assert.equal("bye\n", out)
    assert.equal("", err)
  end)

  it("still waits for threads after an error in the main chunk, and exits 1", function()
    local out, err, code = proc.lua([[
      threading.Thread{target = function() time.sleep(0.05); print("finished") end}:start()
      error("main failed")
    ]])
    assert.equal(1, code)
    assert.equal("finished\n", out)
    assert.matches("main failed", err)
  end)
end)
