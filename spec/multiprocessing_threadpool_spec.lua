-- multiprocessing.pool.ThreadPool and multiprocessing.dummy: Pool's API over
-- threads that share the caller's heap.
local capture = require("capture")
local mp = multiprocessing
local ThreadPool = mp.pool.ThreadPool

local function square(x) return x * x end
local function identity(x) return x end
local here = "^spec/multiprocessing_threadpool_spec%.lua:%d+: "

local captured_stderr, count, lua_within = capture.stderr, capture.count, capture.lua_within

-- every worker thread of the pool has ended
local function assert_left(pool)
  for _, t in pairs(pool._workers) do assert.is_false(t:is_alive()) end
end

-- the message of the error that f raises, checked to name this file's line
local function error_here(f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.matches(here, err)
  return (err:gsub(here, ""))
end

describe("multiprocessing.pool.ThreadPool", function()
  it("is in multiprocessing.pool with Pool's classes, a subclass of Pool", function()
    assert.equal(mp.Pool, mp.pool.Pool)
    assert.equal(mp.AsyncResult, mp.pool.AsyncResult)
    assert.equal(mp.AsyncResult, mp.pool.ApplyResult)
    assert.equal(mp.MapResult, mp.pool.MapResult)
    assert.equal(mp.IMapIterator, mp.pool.IMapIterator)
    assert.equal(mp.TimeoutError, mp.pool.TimeoutError)
    assert.is_nil(mp.ThreadPool)  -- not a name of Python's multiprocessing
    assert.equal(mp.pool, require("multiprocessing.pool"))
    assert.equal(mp.managers, require("multiprocessing.managers"))
    local pool <close> = ThreadPool(2)
    assert.is_true(mp.Pool:is(pool))
    assert.is_true(ThreadPool:is(pool))
    assert.equal("<multiprocessing.pool.ThreadPool state=RUN pool_size=2>", tostring(pool))
  end)

  it("apply runs the function in a worker thread of this process", function()
    local pool <close> = ThreadPool(2)
    local a, pid, ident, name = pool:apply(function(x, y)
      return x + y, os.getpid(), threading.get_ident(), threading.current_thread().name
    end, {1, 2})
    assert.equal(3, a)
    assert.equal(os.getpid(), pid)
    assert.not_equal(threading.get_ident(), ident)
    assert.matches("^ThreadPoolWorker%-%d$", name)
    assert.same({nil, 2, n = 2}, table.pack(pool:apply(function() return nil, 2 end)))
  end)

  it("values are not copied: arguments and results are the caller's tables", function()
    local pool <close> = ThreadPool(2)
    local t = {}
    local got, arg = pool:apply(function(x) x.seen = true return {}, x end, {t})
    assert.equal(t, arg)
    assert.is_true(t.seen)
    assert.same({}, got)
    local tables = {{}, {}, {}}
    local back = pool:map(identity, tables)
    for i = 1, 3 do assert.equal(tables[i], back[i]) end
    assert.not_equal(tables, back)  -- map's list is a new one, as Python's
    local r = pool:starmap(function(a, b) return a == b and a end, {{t, t}})
    assert.equal(t, r[1])
    -- a value that cannot be sent to a process: a coroutine, and a
    -- function holding one
    local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
    assert.same({1, 2, 3}, pool:map(function() return co() end, {1, 2, 3}, 3))
    local thread = coroutine.create(function() end)
    assert.equal(thread, pool:apply(function() return thread end))
  end)

  it("map, starmap: any chunksize, empty input, an iterator as input", function()
    local pool <close> = ThreadPool(3)
    local items, arg_lists, squares = {}, {}, {}
    for i = 1, 101 do items[i], arg_lists[i], squares[i] = i, {i}, i * i end
    assert.same(squares, pool:map(square, items))  -- the default: chunks of 9
    for _, size in ipairs{1, 7, 100, 101, 1000} do
      assert.same(squares, pool:map(square, items, size))
      assert.same(squares, pool:starmap(square, arg_lists, size))
    end
    assert.same({}, pool:map(square, {}))
    assert.same({}, pool:starmap(square, {}))
    assert.same({2, 12}, pool:starmap(function(a, b) return a * b end, {{1, 2}, {3, 4}}))
    assert.same({4, 5}, pool:map(tonumber, ("4 5"):gmatch("%d+")))
    local count_args = function(...) return select("#", ...) end
    assert.same({3, 2, 4, 0}, pool:starmap(count_args, {{1, nil, 3}, {1, 2}, {n = 4}, {}}))
    assert.equal(3, pool:apply(count_args, {1, nil, 3}))
    -- nil results leave holes, as Pool's
    local holes = pool:map(function(x) if x % 2 == 0 then return x end end, {1, 2, 3, 4})
    assert.same({nil, 2, nil, 4}, {holes[1], holes[2], holes[3], holes[4]})
  end)

  it("map_async and starmap_async: get, callback with the list, wait, ready", function()
    local pool <close> = ThreadPool(2)
    local got, got_star = nil, nil
    local done = threading.Event()
    local m = pool:map_async(square, {1, 2, 3}, nil, function(list) got = list end)
    local s = pool:starmap_async(function(a, b) return a - b end, {{5, 1}, {9, 3}}, 1,
                                 function(list) got_star = list; done:set() end)
    assert.same({1, 4, 9}, m:get(30))
    assert.same({4, 6}, s:get(30))
    assert.is_true(m:wait(30))
    assert.is_true(done:wait(30))
    assert.is_true(m:ready())
    assert.is_true(m:successful())
    assert.equal(m:get(), got)  -- the callback's list is get's very list
    assert.same({4, 6}, got_star)
  end)

  it("imap keeps the order, imap_unordered gives every result", function()
    local pool <close> = ThreadPool(3)
    -- three tasks held by three events (one worker each), released 3, 2, 1
    local gates = {threading.Event(), threading.Event(), threading.Event()}
    local function gated(x)
      gates[x]:wait()
      return x * 10
    end
    local it = pool:imap(gated, {1, 2, 3})
    gates[3]:set()
    gates[2]:set()
    local ok, err = pcall(it.next, it, 0.01)  -- the first is still held
    assert.is_false(ok)
    assert.is_true(err == mp.TimeoutError)
    gates[1]:set()
    local got = {}
    for v, i in it do got[#got + 1] = {v, i} end
    assert.same({{10, 1}, {20, 2}, {30, 3}}, got)
    -- imap_unordered: in the order they finish, each one let go after the
    -- previous one was taken
    for _, g in ipairs(gates) do g:clear() end
    local un = pool:imap_unordered(gated, {1, 2, 3})
    local order = {}
    for _, x in ipairs{2, 3, 1} do
      gates[x]:set()
      order[#order + 1] = {un:next(30)}
    end
    assert.same({{20, 2}, {30, 3}, {10, 1}}, order)
    assert.equal(0, select("#", un:next(30)))
    local sum, n, seen = 0, 0, {}
    local list = {}
    for i = 1, 50 do list[i] = i end
    for v, i in pool:imap_unordered(square, list, 4) do
      sum, n = sum + v, n + 1
      seen[i] = v
    end
    assert.equal(50, n)
    for i = 1, 50 do assert.equal(i * i, seen[i]) end
    assert.equal(42925, sum)
  end)

  it("imap's iterator: next([timeout]) gives value and position, items() pairs", function()
    local pool <close> = ThreadPool(2)
    local it = pool:imap(square, {3, 4})
    assert.same({9, 1}, {it:next(30)})
    assert.same({16, 2}, {it:next(30)})
    assert.equal(0, select("#", it:next(30)))
    local got = {}
    for i, v in pool:imap(function(x) if x ~= 2 then return x end end, {1, 2, 3}):items() do
      got[#got + 1] = {i, v}
    end
    assert.same({{1, 1}, {2, nil}, {3, 3}}, got)
    assert.is_true(mp.IMapIterator:is(pool:imap_unordered(identity, {})))
  end)

  it("apply_async: callbacks run in one result thread, get, wait, ready, successful", function()
    local pool <close> = ThreadPool(3)
    local got, threads = {}, {}
    local results = {}
    for i = 1, 20 do
      results[i] = pool:apply_async(function(x) return x * 10 end, {i}, function(v)
        got[#got + 1] = v  -- one thread runs every callback: no lock needed
        threads[threading.current_thread()] = true
      end)
    end
    for i = 1, 20 do assert.equal(i * 10, results[i]:get(30)) end
    -- get returns once the callback has run
    table.sort(got)
    assert.equal(20, #got)
    for i = 1, 20 do assert.equal(i * 10, got[i]) end
    local handler = next(threads)
    assert.is_nil(next(threads, handler))
    assert.equal("ThreadPoolResultHandler", handler.name)
    assert.is_true(results[1]:ready())
    assert.is_true(results[1]:successful())
    assert.is_true(results[1]:wait(0))
    assert.equal(49, pool:apply_async{func = square, args = {7}}:get(30))
    assert.equal(12, pool:apply{func = function(a, b) return a * b end, args = {3, 4}})
    assert.matches("^<multiprocessing%.pool%.AsyncResult object at ", tostring(results[1]))
  end)

  it("a task's error: get raises it (the very value), with its traceback kept", function()
    local pool <close> = ThreadPool(1)
    local seen
    local function fails() error("task failed") end
    local r = pool:apply_async(fails, nil, nil, function(e) seen = e end)
    local ok, err = pcall(r.get, r, 30)
    assert.is_false(ok)
    assert.matches(here .. "task failed$", err)
    assert.equal(err, seen)
    assert.is_false(r:successful())
    assert.matches("task failed\nstack traceback:", r._traceback)
    assert.matches("\n%s*spec/multiprocessing_threadpool_spec%.lua:%d+: in ", r._traceback)
    -- an error value that is a table arrives as itself
    local e = {code = 42}
    ok, err = pcall(pool.apply, pool, function() error(e) end)
    assert.is_false(ok)
    assert.equal(e, err)
    -- an error kind, and a map with one failing element
    ok, err = pcall(pool.map, pool, function(x)
      if x == 3 then error(mp.ProcessError("three")) end
      return x
    end, {1, 2, 3, 4})
    assert.is_false(ok)
    assert.is_true(mp.ProcessError:is(err))
    local m = pool:map_async(function() error("in map") end, {1}, nil, nil, function(me) seen = me end)
    assert.is_true(m:wait(30))
    assert.matches("in map", seen)
    local it = pool:imap(function(x) if x == 2 then error("second") end return x end, {1, 2, 3})
    assert.equal(1, it:next(30))
    ok, err = pcall(it.next, it, 30)
    assert.is_false(ok)
    assert.matches("second", err)
    assert.equal(3, it:next(30))
    assert.equal(5, pool:apply(function() return 5 end))  -- the worker lives on
  end)

  it("a callback that raises is reported, the pool goes on", function()
    local pool <close> = ThreadPool(1)
    local text = captured_stderr(function()
      local r = pool:apply_async(identity, {1}, function() error("bad callback") end)
      assert.equal(1, r:get(30))
    end)
    assert.matches("Exception in a Pool callback:\n.*bad callback", text)
    assert.equal(2, pool:apply(identity, {2}))
  end)

  it("timeouts: get, wait and next give up; the results come later", function()
    local pool <close> = ThreadPool(1)
    local go = threading.Event()
    local r = pool:apply_async(function() go:wait() return "late" end)
    local it = pool:imap(identity, {"after"})
    local ok, err = pcall(r.get, r, 0.01)
    assert.is_false(ok)
    assert.is_true(err == mp.TimeoutError)
    assert.is_false(r:wait(0.01))
    assert.is_false(r:ready())
    local ok2, err2 = pcall(r.successful, r)
    assert.is_false(ok2)
    assert.matches("not ready", err2)
    ok, err = pcall(it.next, it, 0.01)
    assert.is_false(ok)
    assert.is_true(err == mp.TimeoutError)
    go:set()
    assert.equal("late", r:get(30))
    assert.same({"after", 1}, {it:next(30)})
  end)

  it("the initializer runs once in each worker thread, with initargs", function()
    local lock, inits = threading.Lock(), {}
    local pool = ThreadPool{processes = 3, initargs = {"tag"}, initializer = function(tag)
      lock:with(function() inits[#inits + 1] = {threading.get_ident(), tag} end)
    end}
    -- three tasks held together by a barrier run in three different workers
    local barrier = threading.Barrier(3)
    local rs = {}
    for i = 1, 3 do
      rs[i] = pool:apply_async(function() barrier:wait(30) return threading.get_ident() end)
    end
    local workers = {}
    for i = 1, 3 do workers[rs[i]:get(30)] = true end
    for _ = 1, 10 do pool:apply(identity, {1}) end
    pool:close()
    pool:join()
    assert.equal(3, #inits)
    for _, init in ipairs(inits) do
      assert.equal("tag", init[2])
      assert.is_true(workers[init[1]])  -- each worker once
    end
    -- positional form, and a callable table
    local called = 0
    local init = setmetatable({}, {__call = function(_, n)
      lock:with(function() called = called + n end)
    end})
    local p2 = ThreadPool(2, init, {5})
    p2:close()
    p2:join()
    assert.equal(10, called)
  end)

  it("an initializer that raises fails the pool's tasks, printed once", function()
    local seen
    local text = captured_stderr(function()
      local pool <close> = ThreadPool{processes = 2, initargs = {"x"},
                                      initializer = function(tag) error("no setup for " .. tag) end}
      local r = pool:apply_async(function() return 1 end, nil, nil, function(e) seen = e end)
      local ok, err = pcall(r.get, r, 30)
      assert.is_false(ok)
      assert.is_true(mp.ProcessError:is(err))
      assert.matches("ThreadPool initializer failed: .*no setup for x", tostring(err))
      assert.matches("ThreadPool initializer failed: .*no setup for x", tostring(seen))
      ok, err = pcall(pool.map, pool, square, {1, 2, 3})
      assert.is_false(ok)
      assert.matches("ThreadPool initializer failed", tostring(err))
      local it = pool:imap(square, {1, 2})
      for _ = 1, 2 do
        ok, err = pcall(it.next, it, 30)
        assert.is_false(ok)
        assert.matches("ThreadPool initializer failed", tostring(err))
      end
      pool:close()
      pool:join()  -- returns: the workers have left
      assert_left(pool)
    end)
    assert.equal(1, count(text, "multiprocessing.pool.ThreadPool: a worker's initializer failed:\n"))
    assert.equal(1, count(text, "stack traceback:"))
  end)

  it("close then join: queued work is done, no new tasks; join before close fails", function()
    local pool = ThreadPool(2)
    local go = threading.Event()
    local rs = {}
    for i = 1, 6 do rs[i] = pool:apply_async(function(x) go:wait() return x end, {i}) end
    assert.equal("Pool is still running", error_here(function() pool:join() end))
    pool:close()
    assert.equal("<multiprocessing.pool.ThreadPool state=CLOSE pool_size=2>", tostring(pool))
    assert.equal("Pool not running", error_here(function() pool:apply(square, {1}) end))
    for _, name in ipairs{"apply_async", "map", "map_async", "starmap", "starmap_async",
                          "imap", "imap_unordered"} do
      assert.equal("Pool not running",
                   error_here(function() local r = pool[name](pool, square, {{1}}) end))
    end
    go:set()
    pool:join()
    for i = 1, 6 do assert.equal(i, rs[i]:get(0)) end
    assert_left(pool)
    pool:close()  -- again: nothing
    pool:join()
  end)

  it("terminate fails the queued tasks, lets the running one finish; join waits", function()
    local pool = ThreadPool(1)
    local started, go = threading.Event(), threading.Event()
    local running = pool:apply_async(function() started:set() go:wait() return "finished" end)
    local failed = {}
    local queued = {
      pool:apply_async(square, {2}, nil, function(e) failed[#failed + 1] = e end),
      pool:map_async(square, {1, 2, 3}, 1),
    }
    local it = pool:imap(square, {1, 2})
    assert.is_true(started:wait(30))
    pool:terminate()  -- returns while the running task still runs
    assert.equal("TERMINATE", pool._state)
    for _, r in ipairs(queued) do
      assert.is_true(r:ready())
      local ok, err = pcall(r.get, r, 0)
      assert.is_false(ok)
      assert.is_true(mp.ProcessError:is(err))
      assert.matches("the pool was terminated before the task finished", tostring(err))
    end
    assert.equal(1, #failed)
    for _ = 1, 2 do assert.is_false(pcall(it.next, it, 30)) end
    assert.is_false(running:ready())
    assert.equal("Pool not running", error_here(function() pool:apply(square, {1}) end))
    go:set()
    pool:join()
    assert.equal("finished", running:get(0))
    assert_left(pool)
  end)

  it("terminate after close, twice, and on an idle pool", function()
    local pool = ThreadPool(2)
    assert.equal(4, pool:apply(square, {2}))
    pool:close()
    pool:terminate()
    pool:terminate()
    pool:join()
    pool:join()
    local idle = ThreadPool(2)
    idle:terminate()
    idle:join()
    assert_left(pool)
    assert_left(idle)
  end)

  it("<close> terminates the pool at the end of the block", function()
    local pool
    do
      local p <close> = ThreadPool(2)
      pool = p
      assert.same({1, 4}, p:map(square, {1, 2}))
    end
    assert.equal("TERMINATE", pool._state)
    pool:join()
    assert_left(pool)
  end)

  it("tasks share the caller's heap: locks, events, barriers and tables", function()
    local pool <close> = ThreadPool(4)
    local lock, counter = threading.Lock(), {n = 0}
    local n = 2000
    local list = {}
    for i = 1, n do list[i] = i end
    pool:map(function()
      lock:acquire()
      counter.n = counter.n + 1
      lock:release()
    end, list, 10)
    assert.equal(n, counter.n)
    -- four tasks meet at a barrier: they run at once, in four threads
    local barrier, idents = threading.Barrier(4), {}
    local rs = {}
    for i = 1, 4 do
      rs[i] = pool:apply_async(function()
        barrier:wait(30)
        return threading.get_ident()
      end)
    end
    for i = 1, 4 do idents[rs[i]:get(30)] = true end
    local k = 0
    for _ in pairs(idents) do k = k + 1 end
    assert.equal(4, k)
    -- a queue.Queue from the caller carries values both ways
    local inbox, outbox = queue.Queue(), queue.Queue()
    local r = pool:apply_async(function()
      local t = inbox:get()
      t.answer = 42
      outbox:put(t)
      return "done"
    end)
    local msg = {}
    inbox:put(msg)
    assert.equal(msg, outbox:get(true, 30))
    assert.equal(42, msg.answer)
    assert.equal("done", r:get(30))
  end)

  it("several threads use one pool at the same time", function()
    local pool <close> = ThreadPool(3)
    local results, threads = {}, {}
    for t = 1, 4 do
      threads[t] = threading.Thread{target = function()
        local list = {}
        for i = 1, 100 do list[i] = i + t end
        results[t] = pool:map(square, list, 7)
      end}
      threads[t]:start()
    end
    for t = 1, 4 do threads[t]:join() end
    for t = 1, 4 do
      assert.equal(100, #results[t])
      for i = 1, 100 do assert.equal((i + t) * (i + t), results[t][i]) end
    end
  end)

  it("bad arguments: the messages of Pool's, naming ThreadPool", function()
    -- the error that cls(...) raises (no pool is made: none is started)
    local function pool_error(cls, ...)
      local args = table.pack(...)
      return error_here(function()
        local p = cls(table.unpack(args, 1, args.n))
        p:terminate()
      end)
    end
    local cases = {
      {{processes = 1, initializer = 5}}, {{processes = "2"}}, {{processes = 1.5}},
      {{processes = 0}}, {{processes = 1, initargs = 5}}, {{bogus = 1}}, {{4}},
      {"2"}, {-1}, {1, 5}, {1, nil, 5}, {1, "f"},
    }
    for _, case in ipairs(cases) do
      local want = pool_error(mp.Pool, table.unpack(case, 1, 3)):gsub("'Pool'", "'ThreadPool'")
      assert.equal(want, pool_error(ThreadPool, table.unpack(case, 1, 3)))
    end
    assert.equal("bad argument #1 to 'ThreadPool' (field 'initializer': function expected, got number)",
                 pool_error(ThreadPool, {initializer = 5}))
    assert.equal("bad argument #3 to 'ThreadPool' (table expected, got number)",
                 pool_error(ThreadPool, 1, nil, 5))
    -- no maxtasksperchild: three arguments at most, as Python's
    assert.equal("bad argument #1 to 'ThreadPool' (unexpected field 'maxtasksperchild')",
                 pool_error(ThreadPool, {processes = 1, maxtasksperchild = 2}))
    assert.equal("bad argument #4 to 'ThreadPool' (at most 3 arguments expected, got 4)",
                 pool_error(ThreadPool, 1, nil, nil, 2))
  end)

  it("bad arguments to the methods: Pool's messages", function()
    local pool <close> = ThreadPool(1)
    local methods = {"map", "map_async", "starmap", "starmap_async", "imap", "imap_unordered"}
    for _, name in ipairs(methods) do
      local cases = {
        {0, "bad argument #3 to '%s' (chunksize must be a positive integer)"},
        {1.5, "bad argument #3 to '%s' (chunksize must be a positive integer)"},
        {"2", "bad argument #3 to '%s' (number expected, got string)"},
      }
      for _, case in ipairs(cases) do
        assert.equal(case[2]:format(name),
                     error_here(function() local r = pool[name](pool, identity, {{1}}, case[1]) end))
      end
      assert.equal(("bad argument #2 to '%s' (table expected, got function)"):format(name),
                   error_here(function() local r = pool[name](pool, identity, ipairs({1})) end))
      assert.equal(("bad argument #2 to '%s' (table or iterator expected, got number)"):format(name),
                   error_here(function() local r = pool[name](pool, identity, 5) end))
      assert.equal(("bad argument #1 to '%s' (function expected, got number)"):format(name),
                   error_here(function() local r = pool[name](pool, 5, {1}) end))
    end
    assert.equal("bad argument #2 to 'starmap' (element 1: table of arguments expected, got number)",
                 error_here(function() local r = pool:starmap(print, {1, 2}) end))
    assert.equal("bad argument #1 to 'apply_async' (function expected, got no value)",
                 error_here(function() local r = pool:apply_async(nil) end))
    assert.equal("bad argument #3 to 'apply_async' (function expected, got number)",
                 error_here(function() local r = pool:apply_async(print, {}, 5) end))
    assert.equal("bad argument #1 to 'get' (number expected, got string)",
                 error_here(function() local r = pool:apply_async(identity):get("x") end))
    -- a method called with '.' names the class that has it, as Python does
    local r = pool:apply_async(math.abs, {-1})
    local cases = {
      {function() local x = pool.close(5) end, "'close' %(Pool expected, got number%)"},
      {function() local x = pool.terminate() end, "'terminate' %(ThreadPool expected, got no value%)"},
      {function() local x = ThreadPool.terminate(mp.Pool) end,
       "'terminate' %(ThreadPool expected, got table%)"},
      {function() local x = pool.map(math.abs, {1}) end, "'map' %(Pool expected, got function%)"},
      {function() local x = pool.join(r) end, "'join' %(Pool expected, got AsyncResult%)"},
      {function() local x = r.get(5) end, "'get' %(AsyncResult expected, got number%)"},
    }
    for _, case in ipairs(cases) do
      assert.matches("^bad argument #1 to " .. case[2] .. "$", error_here(case[1]))
    end
    assert.equal(1, r:get(30))  -- the pool is untouched
    assert.equal("RUN", pool._state)
  end)

  it("a pool left open at exit, even with a task that never ends, does not hold the exit", function()
    local out, err, status = lua_within(60, [[
      local pool = multiprocessing.pool.ThreadPool(2)
      local started = threading.Event()
      pool:apply_async(function() started:set() threading.Event():wait() end)
      local queued = pool:apply_async(function() return 1 end)
      print(pool:apply(function() return "ok" end))
      started:wait()
    ]])
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("ok\n", out)
  end)

  it("a pool closed and joined, then collected, is finalized quietly", function()
    local out, err, status = lua_within(60, [[
      for _ = 1, 3 do
        local pool = multiprocessing.pool.ThreadPool(2)
        pool:map(function(x) return x end, {1, 2, 3})
        pool:close()
        pool:join()
      end
      local weak = setmetatable({}, {__mode = "v"})
      do
        local pool = multiprocessing.dummy.Pool(1)
        weak[1] = pool
        pool:terminate()
        pool:join()
      end
      for _ = 1, 3 do collectgarbage() end
      print("collected", weak[1] == nil)
    ]])
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("collected\ttrue\n", out)
  end)
end)

describe("multiprocessing.dummy", function()
  local dummy = mp.dummy

  it("has Python's names: threading's and queue's classes, a ThreadPool", function()
    assert.equal(dummy, require("multiprocessing.dummy"))
    for _, name in ipairs{"Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event",
                          "Condition", "Barrier"} do
      assert.equal(threading[name], dummy[name])
    end
    assert.equal(queue.Queue, dummy.Queue)
    assert.equal(queue.Queue, dummy.JoinableQueue)
    assert.equal(threading.current_thread, dummy.current_process)
    assert.equal(threading.current_thread(), dummy.current_process())
    dummy.freeze_support()
    local pool <close> = dummy.Pool(2)
    assert.is_true(ThreadPool:is(pool))
    assert.same({1, 4}, pool:map(square, {1, 2}))
    local named <close> = dummy.Pool{processes = 1, initializer = function() _G.DUMMY_INIT = true end}
    assert.is_true(named:apply(function() return _G.DUMMY_INIT end))
    assert.equal("bad argument #1 to 'Pool' (integer expected, got string)",
                 error_here(function() local p = dummy.Pool("x") end))
    assert.equal("bad argument #4 to 'Pool' (at most 3 arguments expected, got 4)",
                 error_here(function() local p = dummy.Pool(1, nil, nil, 4) end))
  end)

  it("Process is a thread with Process's API", function()
    local got = {}
    local p = dummy.Process{target = function(a, b) got[1] = a + b end, args = {1, 2}}
    assert.is_true(threading.Thread:is(p))
    assert.is_nil(p.exitcode)
    assert.is_false(p:is_alive())
    assert.is_false(p.daemon)
    p.daemon = true
    p:start()
    p:join()
    assert.equal(3, got[1])
    assert.equal(0, p.exitcode)
    assert.is_false(p:is_alive())
    assert.is_string(p.name)
    assert.equal("attribute 'exitcode' of 'DummyProcess' objects is not writable",
                 error_here(function() p.exitcode = 1 end))
    -- the positional form, with a name; a thread's own process
    local q = dummy.Process(function() got[2] = dummy.current_process().name end, "worker-x")
    q:start()
    q:join()
    assert.equal("worker-x", got[2])
    assert.equal("threads can only be started once", error_here(function() q:start() end))
    assert.equal("bad argument #1 to 'Process' (unexpected field 'targte')",
                 error_here(function() local x = dummy.Process{targte = print} end))
  end)

  it("active_children lists the running processes the caller started", function()
    local go = threading.Event()
    local ps = {}
    for i = 1, 3 do
      ps[i] = dummy.Process{target = function() go:wait() end}
      ps[i]:start()
    end
    local list = dummy.active_children()
    assert.equal(3, #list)
    for i = 1, 3 do assert.equal(ps[i], list[i]) end
    -- another thread's children are its own
    local other
    local t = threading.Thread{target = function() other = #dummy.active_children() end}
    t:start()
    t:join()
    assert.equal(0, other)
    go:set()
    for i = 1, 3 do ps[i]:join() end
    assert.same({}, dummy.active_children())
  end)

  it("only the thread that made a Process may start it", function()
    local p = dummy.Process{target = function() end}
    local err
    local t = threading.Thread{target = function()
      local ok, e = pcall(function() p:start() end)
      assert(not ok)
      err = e
    end}
    t:start()
    t:join()
    assert.matches(here .. "Parent is <Thread%(MainThread, started [^>]*> but current_process is "
                   .. "<Thread%(Thread%-%d+, started [^>]*>$", err)
    p:start()
    p:join()
  end)

  it("Value is a plain object with .value, Array a plain list", function()
    local v = dummy.Value("i", 5)
    assert.equal(5, v.value)
    v.value = v.value + 1
    assert.equal(6, v.value)
    assert.equal("<Value('i', 6)>", tostring(v))
    local named = dummy.Value{typecode = "d", value = 1.5}
    assert.equal(1.5, named.value)
    assert.equal(0, dummy.Value{typecode_or_type = "i", init = 0}.value)
    local t = {1, 2, 3}
    local a = dummy.Array("i", t)
    assert.same({1, 2, 3}, a)
    assert.not_equal(t, a)
    assert.same({4, 5}, dummy.Array{typecode = "i", sequence = {4, 5}})
    assert.equal("bad argument #2 to 'Array' (table expected, got number)",
                 error_here(function() local x = dummy.Array("i", 3) end))
    -- the named form's error names the field (found by the argument sweep)
    assert.equal("bad argument #1 to 'Array' (field 'init': table expected, got number)",
                 error_here(function() local x = dummy.Array{typecode = "i", init = 3} end))
    assert.equal("bad argument #4 to 'Value' (at most 3 arguments expected, got 4)",
                 error_here(function() local x = dummy.Value("i", 1, true, 5) end))
    -- shared by the threads, as everything is: a lock makes += safe
    local lock, counter = threading.Lock(), dummy.Value("i", 0)
    local pool <close> = dummy.Pool(4)
    local list = {}
    for i = 1, 500 do list[i] = i end
    pool:map(function() lock:with(function() counter.value = counter.value + 1 end) end, list)
    assert.equal(500, counter.value)
  end)

  it("Pipe: two connections passing values themselves", function()
    local a, b = dummy.Pipe()
    assert.is_false(b:poll())
    local msg = {}
    a:send(msg)
    assert.is_true(b:poll())
    assert.equal(msg, b:recv())
    b:send(nil)
    assert.is_true(a:poll(0))
    assert.is_nil(a:recv())
    assert.is_false(a:poll(0.01))
    -- a thread waits in recv and in poll until the other end sends
    local got, polled
    local t = threading.Thread{target = function()
      polled = b:poll(30)
      got = b:recv()
      b:send_bytes("pong")
    end}
    t:start()
    a:send_bytes("ping")
    assert.equal("pong", a:recv_bytes())
    t:join()
    assert.is_true(polled)
    assert.equal("ping", got)
    local c, d = dummy.Pipe{duplex = false}
    c:send(1)
    assert.equal(1, d:recv())
    c:close()
    assert.equal("bad argument #1 to 'Pipe' (boolean expected, got number)",
                 error_here(function() local x = dummy.Pipe(1) end))
  end)
end)
