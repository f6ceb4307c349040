-- multiprocessing.Pool: results, errors, callbacks, and workers that die.
local children = require("children")
local proc = require("proc")
local capture = require("capture")
local mp = multiprocessing

local function no_children_left()
  assert.equal("", children.describe(children.settle(30)))
end

local function square(x) return x * x end
local function identity(x) return x end
local here = "^spec/multiprocessing_pool_spec%.lua:%d+: "

local captured_stderr, count, lua_within = capture.stderr, capture.count, capture.lua_within

describe("multiprocessing.Pool", function()
  after_each(no_children_left)

  it("apply runs a function in a worker and returns its results", function()
    local pool <close> = mp.Pool(2)
    local a, b = pool:apply(function(x, y) return x + y, os.getpid() end, {1, 2})
    assert.equal(3, a)
    assert.not_equal(os.getpid(), b)
    assert.equal("RUN", pool._state)
  end)

  it("map, starmap, chunksize, empty input, an iterator as input", function()
    local pool <close> = mp.Pool(2)
    local list = {}
    for i = 1, 1000 do list[i] = i end
    local r = pool:map(square, list)
    assert.equal(1000, #r)
    for i = 1, 1000 do assert.equal(i * i, r[i]) end
    assert.same({1, 4, 9}, pool:map(square, {1, 2, 3}, 1))
    assert.same({}, pool:map(square, {}))
    assert.same({2, 12}, pool:starmap(function(a, b) return a * b end, {{1, 2}, {3, 4}}))
    assert.same({4, 5}, pool:map(tonumber, ("4 5"):gmatch("%d+")))  -- an iterator
    assert.same({2.0, 3.0}, pool:map(math.sqrt, {4, 9}))
  end)

  it("imap keeps the order, imap_unordered gives every result", function()
    local pool <close> = mp.Pool(2)
    local got = {}
    for v in pool:imap(square, {1, 2, 3, 4, 5}, 2) do got[#got + 1] = v end
    assert.same({1, 4, 9, 16, 25}, got)
    local sum, n, seen = 0, 0, {}
    for v, i in pool:imap_unordered(square, {1, 2, 3, 4, 5}) do
      sum, n = sum + v, n + 1
      seen[i] = v
    end
    assert.equal(55, sum)
    assert.equal(5, n)
    assert.same({1, 4, 9, 16, 25}, seen)
  end)

  it("imap's iterator: next([timeout]) gives value and position, items() pairs", function()
    local pool <close> = mp.Pool(2)
    local it = pool:imap(square, {3, 4})
    assert.same({9, 1}, {it:next(30)})
    assert.same({16, 2}, {it:next(30)})
    assert.equal(0, select("#", it:next(30)))  -- all returned
    -- a nil result would end `for v in ...`; items() goes on past it
    local got = {}
    for i, v in pool:imap(function(x) if x ~= 2 then return x end end, {1, 2, 3}):items() do
      got[#got + 1] = {i, v}
    end
    assert.same({{1, 1}, {2, nil}, {3, 3}}, got)
  end)

  it("imap's next: a negative timeout or nil waits for the result", function()
    local pool <close> = mp.Pool(2)
    local go = mp.Event()
    local it = pool:imap(function(x) go:wait() return x * 10 end, {1, 2, 3})
    local un = pool:imap_unordered(function(x) go:wait() return x end, {7})
    go:set()
    assert.same({10, 1}, {it:next(-1)})
    assert.same({20, 2}, {it:next(-0.5)})
    assert.same({30, 3}, {it:next(nil)})
    assert.same({7, 1}, {un:next(-1)})
    assert.equal(0, select("#", it:next(-1)))  -- all returned
  end)

  it("starmap unpacks each argument list as apply does, holes included", function()
    local pool <close> = mp.Pool(2)
    local count = function(...) return select("#", ...) end
    assert.equal(3, pool:apply(count, {1, nil, 3}))
    assert.same({3, 2, 4, 0}, pool:starmap(count, {{1, nil, 3}, {1, 2}, {n = 4}, {}}))
    local r = pool:starmap(function(a, b, c) return tostring(a) .. tostring(b) .. tostring(c) end,
                           {{1, nil, 3}, {nil, nil, "z"}})
    assert.same({"1nil3", "nilnilz"}, r)
    assert.same({3}, pool:starmap_async(count, {{1, nil, 3}}):get(30))
    -- the caller's lists are left as they were
    local lists = {{1, nil, 3}}
    pool:starmap(count, lists)
    assert.is_nil(lists[1].n)
  end)

  it("starmap with an element that is not a table raises a bad-argument error", function()
    local pool <close> = mp.Pool(1)
    local ok, err = pcall(function() pool:starmap(print, {1, 2}) end)
    assert.is_false(ok)
    assert.matches(here .. "bad argument #2 to 'starmap' %(element 1: table of arguments expected, got number%)$",
                   err)
    ok, err = pcall(function() pool:starmap_async(print, {{1}, "x"}) end)
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'starmap_async' (element 2: table of arguments expected, got string)",
                   err, 1, true)
    assert.same({2}, pool:starmap(function(a, b) return a + b end, {{1, 1}}))  -- still works
  end)

  it("apply_async: callbacks run in the parent, get, wait, ready, successful", function()
    local pool <close> = mp.Pool(2)
    local got, pids = {}, {}
    local results = {}
    for i = 1, 10 do
      results[i] = pool:apply_async(function(x) return x * 10 end, {i},
                                    function(v) got[#got + 1] = v pids[#pids + 1] = os.getpid() end)
    end
    for i = 1, 10 do assert.equal(i * 10, results[i]:get(30)) end
    for _, r in ipairs(results) do assert.is_true(r:wait(30)) end
    table.sort(got)
    assert.same({10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, got)
    for _, pid in ipairs(pids) do assert.equal(os.getpid(), pid) end
    assert.is_true(results[1]:ready())
    assert.is_true(results[1]:successful())
    -- the named-field form of the course
    local r = pool:apply_async{func = square, args = {7}}
    assert.equal(49, r:get(30))
  end)

  it("reports a worker's error to the caller and to error_callback", function()
    local pool <close> = mp.Pool(1)
    local seen
    local r = pool:apply_async(function() error("worker failed") end, nil, nil,
                               function(e) seen = e end)
    local ok, err = pcall(r.get, r, 30)
    assert.is_false(ok)
    assert.matches("worker failed", err)
    assert.matches("worker failed", seen)
    assert.is_false(r:successful())
    local ok2, err2 = pcall(pool.map, pool, function(x)
      if x == 3 then error(mp.ProcessError("three")) end
      return x
    end, {1, 2, 3, 4})
    assert.is_false(ok2)
    assert.is_true(err2 == mp.ProcessError)
    assert.is_true(mp.ProcessError:is(err2))  -- Kind:is holds across processes too
    assert.equal(5, pool:apply(function() return 5 end))  -- still works
  end)

  it("get with a timeout raises multiprocessing.TimeoutError", function()
    local pool <close> = mp.Pool(1)
    local go = mp.Event()
    local r = pool:apply_async(function() go:wait(30) return "late" end)
    local ok, err = pcall(r.get, r, 0.01)
    assert.is_false(ok)
    assert.is_true(err == mp.TimeoutError)
    assert.is_false(r:ready())
    assert.has_error(function() r:successful() end)
    go:set()
    assert.equal("late", r:get(30))
  end)

  it("a worker killed mid-task: the task fails, the worker is replaced", function()
    local pool <close> = mp.Pool(2)
    local started = mp.Queue()
    local r = pool:apply_async(function() started:put(os.getpid()) time.sleep(60) end)
    local victim = started:get(true, 30)
    os.execute("kill -9 " .. victim)
    local ok, err = pcall(r.get, r, 30)
    assert.is_false(ok)
    assert.is_true(err == mp.ProcessError)
    assert.matches("exitcode %-9", tostring(err))
    -- still two working workers, none of them the dead one
    local pids = {}
    local rs = {}
    local gate = mp.Barrier(2)
    for i = 1, 2 do rs[i] = pool:apply_async(function() gate:wait(30) return os.getpid() end) end
    for i = 1, 2 do pids[i] = rs[i]:get(30) end
    assert.not_equal(pids[1], pids[2])
    assert.not_equal(victim, pids[1])
    assert.not_equal(victim, pids[2])
  end)

  it("a worker that calls os.exit fails its task; map over it fails, nothing hangs", function()
    local pool <close> = mp.Pool(2)
    local ok, err = pcall(pool.map, pool, function(x)
      if x == 7 then os.exit(3) end
      return x
    end, {1, 2, 3, 4, 5, 6, 7, 8}, 1)
    assert.is_false(ok)
    assert.matches("exitcode 3", tostring(err))
    assert.same({2, 4}, pool:map(function(x) return x * 2 end, {1, 2}))
  end)

  it("close then join waits for queued work; no new tasks after close", function()
    local pool = mp.Pool(2)
    local rs = {}
    for i = 1, 6 do rs[i] = pool:apply_async(function(x) time.sleep(0.01) return x end, {i}) end
    pool:close()
    assert.has_error(function() pool:apply(square, {1}) end, "Pool not running")
    -- the error points at the caller's line, not inside the library
    local ok, err = pcall(function() local r = pool:map(square, {1}); return r end)
    assert.is_false(ok)
    assert.matches("multiprocessing_pool_spec%.lua:%d+: Pool not running", err)
    pool:join()
    for i = 1, 6 do assert.equal(i, rs[i]:get(0)) end
    assert.equal(0, #mp.active_children())
  end)

  it("join returns when a worker leaves while another is still busy", function()
    local pool = mp.Pool(2)
    local release = mp.Event()
    local busy = pool:apply_async(function() release:wait(30) return "slow" end)
    local quick = pool:apply_async(function() return "quick" end)
    assert.equal("quick", quick:get(30))
    pool:close()           -- the idle worker takes its sentinel and leaves
    -- until the pool has seen it gone (it checks every 0.1 s), the busy
    -- worker still busy: waited for, not a sleep that a stall could outlast
    local deadline = time.monotonic() + 30
    while true do
      local n = 0
      for _ in pairs(pool._workers) do n = n + 1 end
      if n == 1 then break end
      assert(time.monotonic() < deadline, "the pool never noticed the worker left")
      time.sleep(0.005)
    end
    release:set()
    pool:join()            -- must not wait for a needless replacement
    assert.equal("slow", busy:get(0))
    assert.equal(0, #mp.active_children())
  end)

  it("terminate stops the workers and fails unfinished tasks", function()
    local pool = mp.Pool(1)
    local r = pool:apply_async(function() time.sleep(60) end)
    local r2 = pool:apply_async(square, {2})
    pool:terminate()
    pool:join()
    assert.is_false(pcall(r.get, r, 5))
    local ok, err = pcall(r2.get, r2, 5)
    assert.is_false(ok)
    assert.is_true(err == mp.ProcessError)
  end)

  it("maxtasksperchild replaces workers as they retire", function()
    local pool <close> = mp.Pool{processes = 1, maxtasksperchild = 2}
    local pids = {}
    for i = 1, 6 do pids[i] = pool:apply(function() return os.getpid() end) end
    assert.equal(pids[1], pids[2])
    assert.not_equal(pids[2], pids[3])
    assert.equal(pids[3], pids[4])
  end)

  it("runs initializer in each worker", function()
    local pool <close> = mp.Pool{processes = 2, initializer = function(v) _G.WORKER_TAG = v end,
                                 initargs = {"tagged"}}
    assert.equal("tagged", pool:apply(function() return _G.WORKER_TAG end))
  end)

  it("a daemon thread still using a pool at exit is abandoned quietly", function()
    -- the exit terminates the pool under the daemon thread, whose map then
    -- fails: nothing is reported, as for Python's daemon threads; an error
    -- in a non-daemon thread is still reported
    local out, err, status = lua_within(60, [[
      local pool = multiprocessing.Pool(2)
      local mapped = threading.Event()
      threading.Thread{target = function()
        while true do
          pool:map(function(x) return x * 2 end, {1, 2, 3, 4})
          mapped:set()
        end
      end, daemon = true}:start()
      mapped:wait()
      threading.Thread{target = function() error("reported") end}:start()
      print("main done")
    ]])
    assert.equal("main done\n", out)
    assert.equal(0, status)
    assert.matches("Exception in thread Thread%-2", err)
    assert.matches("reported", err)
    assert.equal(1, count(err, "Exception in thread"))
  end)

  it("the course example: apply_async with callback, close, join", function()
    -- the tasks wait for "end" to be printed (an event, where a sleep of
    -- 0.01 s in Foo could end before a stalled main thread printed it)
    local out = proc.lua([[
      local printed = multiprocessing.Event()
      local function Foo(i) printed:wait(30) return i + 100 end
      local function Bar(arg) print("-->exec done:", arg) end
      local pool = multiprocessing.Pool(5)
      for i = 0, 9 do pool:apply_async{func = Foo, args = {i}, callback = Bar} end
      print("end")
      printed:set()
      pool:close()
      pool:join()
    ]])
    local n = 0
    for _ in out:gmatch("%-%->exec done:") do n = n + 1 end
    assert.equal(10, n)
    assert.matches("^end\n", out)
  end)

  it("a method called with '.' instead of ':' is a bad-argument error naming it", function()
    local pool <close> = mp.Pool(1)
    local r = pool:apply_async(math.abs, {-1})
    local cases = {
      {function() r.get(5) end, "'get' %(AsyncResult expected, got number%)"},
      {function() r.ready() end, "'ready' %(AsyncResult expected, got no value%)"},
      {function() pool.close(5) end, "'close' %(Pool expected, got number%)"},
      {function() pool.map(math.abs, {1}) end, "'map' %(Pool expected, got function%)"},
      {function() pool:imap(math.abs, {1}).next() end, "'next' %(IMapIterator expected"},
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.matches("bad argument #1 to " .. case[2], err)
    end
    assert.equal(1, r:get(30))
  end)

  it("a huge chunksize is one chunk: map, starmap and imap finish", function()
    local pool <close> = mp.Pool(2)
    local add = function(a, b) return a + b end
    for _, size in ipairs{math.maxinteger, math.maxinteger - 1, 3, 4} do
      -- the async forms with a time limit first: a hang fails, not blocks
      assert.same({1, 2, 3}, pool:map_async(identity, {1, 2, 3}, size):get(30))
      assert.same({3, 7}, pool:starmap_async(add, {{1, 2}, {3, 4}}, size):get(30))
      local it = pool:imap(identity, {1, 2, 3}, size)
      assert.same({1, 2, 3}, {(it:next(30)), (it:next(30)), (it:next(30))})
      local un, sum = pool:imap_unordered(identity, {1, 2, 3}, size), 0
      for _ = 1, 3 do sum = sum + un:next(30) end
      assert.equal(6, sum)
      assert.same({1, 2, 3}, pool:map(identity, {1, 2, 3}, size))
      assert.same({3, 7}, pool:starmap(add, {{1, 2}, {3, 4}}, size))
    end
  end)

  it("terminate with an imap of a huge chunksize unfinished returns", function()
    local out, err, status = lua_within(60, [[
      local pool = multiprocessing.Pool(1)
      local go = multiprocessing.Event()
      local it = pool:imap(function(x) go:wait(30) return x end, {1, 2, 3}, math.maxinteger - 1)
      pool:terminate()
      print(pcall(it.next, it, 30))
      print(pcall(it.next, it, 30))
    ]])
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal(("false\tmultiprocessing.ProcessError: the pool was terminated before the task finished\n"):rep(2),
                 out)
  end)

  it("chunksize must be an integer >= 1: bad-argument errors naming the method", function()
    local pool <close> = mp.Pool(1)
    local methods = {"map", "map_async", "starmap", "starmap_async", "imap", "imap_unordered"}
    local cases = {
      {0, "chunksize must be a positive integer"},
      {-1, "chunksize must be a positive integer"},
      {math.mininteger, "chunksize must be a positive integer"},
      {1.5, "chunksize must be a positive integer"},
      {2.0, "chunksize must be a positive integer"},
      {"2", "number expected, got string"},
      {true, "number expected, got boolean"},
    }
    for _, name in ipairs(methods) do
      for _, case in ipairs(cases) do
        local ok, err = pcall(function() local r = pool[name](pool, identity, {{1}}, case[1]) end)
        assert.is_false(ok)
        assert.equal(("bad argument #3 to '%s' (%s)"):format(name, case[2]), err:gsub(here, ""))
        assert.matches(here, err)
      end
    end
    assert.same({{1}}, pool:map(identity, {{1}}, 1))  -- still works
  end)

  it("the input must be a table or an iterator: ipairs(t) is a bad argument", function()
    local pool <close> = mp.Pool(1)
    local t = {1, 2}
    for _, name in ipairs{"map", "map_async", "starmap", "starmap_async", "imap", "imap_unordered"} do
      local cases = {
        {function() local r = pool[name](pool, identity, ipairs(t)) end, "table expected, got function"},
        {function() local r = pool[name](pool, identity, pairs(t)) end, "table expected, got function"},
        {function() local r = pool[name](pool, identity, 5) end, "table or iterator expected, got number"},
        {function() local r = pool[name](pool, identity) end, "table or iterator expected, got no value"},
      }
      for _, case in ipairs(cases) do
        local ok, err = pcall(case[1])
        assert.is_false(ok)
        assert.equal(("bad argument #2 to '%s' (%s)"):format(name, case[2]), err:gsub(here, ""))
        assert.matches(here, err)
      end
    end
    assert.same({4, 5}, pool:map(tonumber, ("4 5"):gmatch("%d+"), 1))  -- an iterator still is
  end)

  it("an initializer that raises fails the pool's tasks, and no worker is started again", function()
    local seen, seen_map
    local text = captured_stderr(function()
      local pool <close> = mp.Pool{processes = 2, initargs = {"x"},
                                   initializer = function(tag) error("no setup for " .. tag) end}
      local r = pool:apply_async(function() return 1 end, nil, nil, function(e) seen = e end)
      local ok, err = pcall(r.get, r, 30)  -- a time limit: a hang fails, not blocks
      assert.is_false(ok)
      assert.is_true(mp.ProcessError:is(err))
      assert.matches("Pool initializer failed: .*no setup for x", tostring(err))
      assert.is_false(r:successful())
      assert.matches("Pool initializer failed: .*no setup for x", tostring(seen))
      -- later tasks fail the same way, at once, in every form
      ok, err = pcall(pool.apply, pool, function() return 1 end)
      assert.is_false(ok)
      assert.matches("Pool initializer failed: .*no setup for x", tostring(err))
      ok, err = pcall(pool.map, pool, square, {1, 2, 3})
      assert.is_false(ok)
      assert.matches("Pool initializer failed: .*no setup for x", tostring(err))
      local m = pool:map_async(square, {1}, nil, nil, function(e) seen_map = e end)
      assert.is_true(m:wait(30))
      assert.matches("Pool initializer failed: .*no setup for x", tostring(seen_map))
      local it = pool:imap(square, {1, 2, 3}, 2)
      for _ = 1, 3 do
        ok, err = pcall(it.next, it, 30)
        assert.is_false(ok)
        assert.matches("Pool initializer failed", tostring(err))
      end
      assert.equal(0, select("#", it:next(30)))
      pool:close()
      pool:join()  -- returns: the workers are gone, none replaced
      assert.equal(2, pool._spawned)
      assert.equal(0, #mp.active_children())
    end)
    -- the traceback once, not once per worker or per respawn
    assert.equal(1, count(text, "initializer failed:\n"))
    assert.equal(1, count(text, "stack traceback:"))
    assert.equal(1, count(text, ": no setup for x\n"))
  end)

  it("an initializer that raises in a replacement worker breaks the pool; terminate returns", function()
    local text = captured_stderr(function()
      local started = mp.Value("i", 0)
      local pool <close> = mp.Pool{processes = 1, maxtasksperchild = 1, initializer = function()
        started.value = started.value + 1
        if started.value > 1 then error("second start") end
      end}
      assert.equal(1, pool:apply_async(function() return 1 end):get(30))
      local r = pool:apply_async(function() return 2 end)
      local ok, err = pcall(r.get, r, 30)
      assert.is_false(ok)
      assert.matches("Pool initializer failed: .*second start", tostring(err))
      assert.equal(2, pool._spawned)
      pool:terminate()
      pool:join()
      assert.equal(0, #mp.active_children())
    end)
    assert.equal(1, count(text, "stack traceback:"))
  end)

  it("Pool{} arguments: errors are argument #1 naming the field; unknown fields", function()
    local function pool_error(...)
      local args = table.pack(...)
      local ok, err = pcall(function()
        local p = mp.Pool(table.unpack(args, 1, args.n))
        p:terminate()
      end)
      assert.is_false(ok)
      assert.matches(here, err)
      return (err:gsub(here, ""))
    end
    local named = {
      {{processes = 1, initializer = 5}, "field 'initializer': function expected, got number"},
      {{processes = "2"}, "field 'processes': integer expected, got string"},
      {{processes = 1.5}, "field 'processes': integer expected, got number"},
      {{processes = 0}, "field 'processes': number of processes must be at least 1"},
      {{processes = 1, initargs = 5}, "field 'initargs': table expected, got number"},
      {{processes = 1, maxtasksperchild = 0},
       "field 'maxtasksperchild': maxtasksperchild must be a positive int or nil"},
      {{processes = 1, maxtasksperchild = "2"},
       "field 'maxtasksperchild': maxtasksperchild must be a positive int or nil"},
      {{bogus = 1}, "unexpected field 'bogus'"},
      {{process = 2}, "unexpected field 'process'"},
      {{4}, "unexpected field '1'"},
    }
    for _, case in ipairs(named) do
      assert.equal("bad argument #1 to 'Pool' (" .. case[2] .. ")", pool_error(case[1]))
    end
    -- positional: the argument's own number, as before
    assert.equal("bad argument #1 to 'Pool' (integer expected, got string)", pool_error("2"))
    assert.equal("bad argument #2 to 'Pool' (function expected, got number)", pool_error(1, 5))
    assert.equal("bad argument #3 to 'Pool' (table expected, got number)", pool_error(1, nil, 5))
    assert.equal("bad argument #4 to 'Pool' (maxtasksperchild must be a positive int or nil)",
                 pool_error(1, nil, nil, 0))
    -- a stray positional argument (Python: "takes from 1 to 6 positional arguments")
    assert.equal("bad argument #5 to 'Pool' (at most 4 arguments expected, got 5)",
                 pool_error(1, nil, nil, nil, 2))
    -- the named form with defaults, and a callable table as initializer
    local init = setmetatable({}, {__call = function() _G.POOL_INIT = "called" end})
    local pool <close> = mp.Pool{processes = 1, initializer = init}
    assert.equal("called", pool:apply(function() return _G.POOL_INIT end))
  end)

  it("a method given something else than its object is a bad argument #1", function()
    local pool <close> = mp.Pool(1)
    local r = pool:apply_async(math.abs, {-1})
    local it = pool:imap(identity, {1})
    local f = identity
    local cases = {
      {function() local x = mp.Pool.terminate({}) end, "'terminate' %(Pool expected, got table%)"},
      {function() local x = mp.Pool.close(r) end, "'close' %(Pool expected, got AsyncResult%)"},
      {function() local x = mp.Pool.join(it) end, "'join' %(Pool expected, got IMapIterator%)"},
      {function() local x = mp.Pool.map(nil, f, {1}) end, "'map' %(Pool expected, got no value%)"},
      {function() local x = mp.Pool.apply(threading.Lock(), f, {}) end,
       "'apply' %(Pool expected, got Lock%)"},
      {function() local x = mp.Pool.imap_unordered(setmetatable({}, {}), f, {1}) end,
       "'imap_unordered' %(Pool expected, got table%)"},
      {function() local x = mp.AsyncResult.get({}) end, "'get' %(AsyncResult expected, got table%)"},
      {function() local x = mp.AsyncResult.wait(pool) end, "'wait' %(AsyncResult expected, got Pool%)"},
      {function() local x = mp.IMapIterator.next(nil) end, "'next' %(IMapIterator expected, got no value%)"},
      {function() local x = mp.IMapIterator.items(r) end, "'items' %(IMapIterator expected, got AsyncResult%)"},
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.matches(here .. "bad argument #1 to " .. case[2] .. "$", err)
    end
    assert.equal(1, r:get(30))
    assert.equal(1, it:next(30))
    assert.equal("RUN", pool._state)
  end)

  -- found by scripts/test/argsweep.lua: Pool(math.maxinteger) failed
  -- inside ("cthreads/mp_pool.lua:N: bad argument #2 to 'value_new'"), and
  -- the result classes made by hand failed inside later ('list_new')
  it("a number of processes no system can have is a bad argument", function()
    local err = select(2, pcall(function() local p = mp.Pool(math.maxinteger) end))
    assert.matches(here .. "bad argument #1 to 'Pool' %(number of processes too large", err)
    err = select(2, pcall(function() local p = mp.Pool{processes = (1 << 22) + 1} end))
    assert.matches(here .. "bad argument #1 to 'Pool' %(field 'processes': number of processes " ..
                   "too large %(at most 4194304%)%)$", err)
  end)

  it("AsyncResult, MapResult and IMapIterator made by hand need a Pool", function()
    for _, name in ipairs{"AsyncResult", "MapResult", "IMapIterator"} do
      for _, bad in ipairs{false, 5, {}} do
        local err = select(2, pcall(function() local r = mp[name](bad, 1) end))
        assert.matches(here .. "bad argument #1 to '" .. name .. "' %(Pool expected, got ", err)
      end
    end
    local pool <close> = mp.Pool(1)
    for _, name in ipairs{"MapResult", "IMapIterator"} do
      for _, bad in ipairs{"x", -1, 1.5} do
        local err = select(2, pcall(function() local r = mp[name](pool, bad) end))
        assert.matches(here .. "bad argument #2 to '" .. name .. "' %(number of items expected", err)
      end
    end
    -- made by the pool, as always
    assert.equal(4, pool:apply_async(square, {2}):get(30))
    assert.same({1, 4}, pool:map_async(square, {1, 2}):get(30))
    assert.equal(9, pool:imap(square, {3}):next(30))
  end)

  it("a pool closed and joined, then collected, is finalized without a crash", function()
    -- its result thread's handle may be finalized before the pool itself;
    -- after one collection the pool is still in the exit's list, after two not
    for _, collections in ipairs{1, 2} do
      local out, err, status = lua_within(60, ([[
        for _ = 1, 3 do
          local pool = multiprocessing.Pool(1)
          pool:close()
          pool:join()
        end
        for _ = 1, %d do collectgarbage() end
        print("collected")
      ]]):format(collections))
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("collected\n", out)
    end
  end)

  it("a pool left open is stopped at exit", function()
    local out, _, code = proc.lua([[
      local pool = multiprocessing.Pool(2)
      print(pool:apply(function() return "ok" end))
      for _, p in pairs(pool._workers) do print(p.pid) end
    ]])
    assert.equal(0, code)
    local pids = {}
    for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
    assert.equal(2, #pids)
    for _, pid in ipairs(pids) do assert.is_false(children.exists(pid)) end
  end)
end)
