-- asyncio: tasks on Lua coroutines, the loop, primitives, streams, threads.
-- Deterministic asserts only: orders, results and errors, never timings.
local proc = require("proc")

local run = asyncio.run
local sleep = asyncio.sleep

-- runs 'code' in a fresh cthreads; returns stdout, stderr, exit code
local function script(code, env)
  local path = proc.script(code)
  local out, err, status = proc.run{path, env = env}
  os.remove(path)
  return out, err, status
end

-- For the specs about the order in which timers fire. A timer started with
-- a delay (call_later, sleep) takes its deadline from the clock when it is
-- started, so a stall of the process between two starts (tens of ms under
-- a sanitizer on a busy machine) moves the later deadlines back and can
-- reorder timers whose delays differ by less than the stall. f(unit) starts
-- its timers with delays in whole units and returns the clock span within
-- which it started them, and what it saw. A span under one unit fixes each
-- deadline to within less than a unit, so what f saw is what the delays
-- imply; a longer span proves nothing, and the round runs again with twice
-- the unit (the first round does unless the machine stalled right then).
local function with_unstalled_starts(f)
  local unit = 0.01
  for _ = 1, 8 do  -- units up to 1.28 s
    local span, seen = f(unit)
    if span < unit then return seen end
    unit = unit * 2
  end
  error("the timers' starts were stalled for longer than a unit in every round")
end

describe("asyncio", function()
  it("is a builtin global and a module", function()
    assert.are.equal(asyncio, require("asyncio"))
    assert.is_function(asyncio.run)
  end)

  describe("run and the loop", function()
    it("run returns the main task's results", function()
      local a, b, c = run(function(x, y) return x + y, "two", nil end, 1, 2)
      assert.are.equal(3, a)
      assert.are.equal("two", b)
      assert.is_nil(c)
    end)

    it("run raises the main task's error", function()
      local ok, err = pcall(run, function() error("failed here") end)
      assert.is_false(ok)
      assert.matches("failed here", err)
      local kind = require("cthreads.class").error_kind("my.Error")
      ok, err = pcall(run, function() error(kind("x")) end)
      assert.is_true(err == kind)
    end)

    it("get_event_loop and run_until_complete, the course's way", function()
      local loop = asyncio.get_event_loop()
      local said = {}
      loop:run_until_complete(function() said[#said + 1] = "Hello World!" end)
      local function addnum(s, e)
        local sum = 0
        for i = s, e - 1 do sum = sum + i end
        return sum
      end
      local s1 = loop:run_until_complete(addnum, 1, 51)
      local s2 = loop:run_until_complete(addnum, 51, 101)
      loop:close()
      assert.are.same({"Hello World!"}, said)
      assert.are.equal(5050, s1 + s2)
      assert.is_true(loop:is_closed())
      assert.has_error(function() loop:run_until_complete(addnum, 1, 2) end,
                       "Event loop is closed")
      assert.are_not.equal(loop, asyncio.get_event_loop())  -- a new one now
    end)

    it("run_until_complete accepts a task of the loop", function()
      local loop = asyncio.new_event_loop()
      local t = loop:create_task(function(x) sleep(0) return x * 2 end, 21)
      assert.are.equal(42, loop:run_until_complete(t))
      assert.are.equal(42, t:result())
      loop:close()
    end)

    it("call_soon, call_later in delay order, cancel, stop and run_forever", function()
      local seen = with_unstalled_starts(function(unit)
        local loop = asyncio.new_event_loop()
        local seen = {}
        local t0 = loop:time()
        loop:call_later(3 * unit, function() seen[#seen + 1] = "c"; loop:stop() end)
        loop:call_later(unit, function(x) seen[#seen + 1] = x end, "a")
        local h = loop:call_later(2 * unit, function() seen[#seen + 1] = "cancelled" end)
        loop:call_later(2 * unit, function() seen[#seen + 1] = "b" end)
        local span = loop:time() - t0
        loop:call_soon(function() seen[#seen + 1] = "soon" end)
        h:cancel()
        assert.is_true(h:cancelled())
        loop:run_forever()
        loop:close()
        return span, seen
      end)
      assert.are.same({"soon", "a", "b", "c"}, seen)
    end)

    it("a task may stop run_forever", function()
      local loop = asyncio.new_event_loop()
      local seen = {}
      loop:create_task(function()
        sleep(0.001)
        seen[#seen + 1] = "task"
        loop:stop()
      end)
      loop:run_forever()
      assert.are.same({"task"}, seen)
      assert.is_false(loop:is_running())
      loop:close()
    end)

    it("a callback that raises is reported and the loop goes on", function()
      local out, err = script([[
        local loop = asyncio.new_event_loop()
        loop:call_soon(function() error("callback broke") end)
        loop:call_soon(function() print("next"); loop:stop() end)
        loop:run_forever()
      ]])
      assert.are.equal("next\n", out)
      assert.matches("callback broke", err)
    end)

    it("call_soon_threadsafe wakes the loop from another thread", function()
      local got = run(function()
        local loop = asyncio.get_running_loop()
        local ev = asyncio.Event()
        local th = threading.Thread{target = function()
          loop:call_soon_threadsafe(function() ev:set() end)
        end}
        th:start()
        ev:wait()
        th:join()
        return ev:is_set()
      end)
      assert.is_true(got)
    end)

    it("asyncio.run cancels the tasks left and closes the loop", function()
      local cleaned, loop = false, nil
      run(function()
        loop = asyncio.get_running_loop()
        asyncio.create_task(function()
          local ok, err = pcall(sleep, 100)
          cleaned = not ok and err == asyncio.CancelledError
          error(err, 0)
        end)
        sleep(0)
      end)
      assert.is_true(cleaned)
      assert.is_true(loop:is_closed())
    end)

    it("each thread gets its own loop", function()
      local mine = asyncio.get_event_loop()
      local theirs
      local th = threading.Thread{target = function() theirs = asyncio.get_event_loop() end}
      th:start()
      th:join()
      assert.is_truthy(theirs)
      assert.are_not.equal(mine, theirs)
      assert.are.equal(mine, asyncio.get_event_loop())
    end)
  end)

  describe("sleeping", function()
    it("wakes tasks in deadline order, equal deadlines first come first", function()
      local order = with_unstalled_starts(function(unit)
        local order, t0, t1 = {}, nil, nil
        run(function()
          local loop = asyncio.get_running_loop()
          local ts = {}
          for i, spec in ipairs{{"c", 3}, {"a", 1}, {"b1", 2}, {"b2", 2}} do
            ts[i] = asyncio.create_task(function()
              if i == 1 then t0 = loop:time() end
              sleep(spec[2] * unit)
              order[#order + 1] = spec[1]
            end)
          end
          -- created last: runs right after the four have called sleep
          ts[5] = asyncio.create_task(function() t1 = loop:time() end)
          for _, t in ipairs(ts) do t:join() end
        end)
        return t1 - t0, order
      end)
      assert.are.same({"a", "b1", "b2", "c"}, order)
    end)

    -- found by scripts/test/argsweep.lua: a loop whose next timer was
    -- further than a time_t can count (1e308, math.huge) died with "event
    -- loop wait failed: Invalid argument" (the wait's timespec overflowed)
    it("a timer at 1e308 s or math.huge leaves the loop waiting, woken by a thread", function()
      for _, far in ipairs{1e308, math.huge, 2.0 ^ 63} do
        local loop = asyncio.new_event_loop()
        local fired = false
        loop:call_later(far, function() fired = true end)
        local th = threading.Thread{target = function()
          time.sleep(0.02)
          loop:call_soon_threadsafe(function() loop:stop() end)
        end}
        th:start()
        loop:run_forever()  -- waits on that timer until the thread stops it
        th:join()
        loop:close()
        assert.is_false(fired)
        -- a task sleeping that long, cancelled from another thread
        local result = run(function()
          local t = asyncio.create_task(function() sleep(far) end)
          local l = asyncio.get_running_loop()
          local th2 = threading.Thread{target = function()
            time.sleep(0.02)
            l:call_soon_threadsafe(function() t:cancel() end)
          end}
          th2:start()
          local ok, err = pcall(t.join, t)
          th2:join()
          return not ok and asyncio.CancelledError:is(err)
        end)
        assert.is_true(result)
      end
    end)

    it("sleep(0) takes turns round-robin", function()
      local order = {}
      run(function()
        local function w(name)
          for i = 1, 3 do
            order[#order + 1] = name .. i
            sleep(0)
          end
        end
        asyncio.gather(function() w("a") end, function() w("b") end)
      end)
      assert.are.same({"a1", "b1", "a2", "b2", "a3", "b3"}, order)
    end)

    it("a bare coroutine.yield() in a task lets the others run", function()
      local order = {}
      run(function()
        local t = asyncio.create_task(function() order[#order + 1] = "other" end)
        coroutine.yield()
        order[#order + 1] = "main"
        t:join()
      end)
      assert.are.same({"other", "main"}, order)
    end)

    it("returns its result argument", function()
      assert.are.equal("r", run(function() return sleep(0.001, "r") end))
    end)

    it("is not scaled by CTHREADS_TIME_SCALE (only time.sleep and Timer are)", function()
      local out = script([[
        local t0 = time.monotonic()
        asyncio.run(function()
          asyncio.sleep(0.05)
          asyncio.wait_for(function() asyncio.sleep(0.02) end, 0.5)
          local loop = asyncio.get_event_loop()
          local ev = asyncio.Event()
          loop:call_later(0.02, function() ev:set() end)
          ev:wait()
        end)
        print(time.monotonic() - t0 >= 0.09)
      ]], {CTHREADS_TIME_SCALE = "0.0001"})
      assert.are.equal("true\n", out)
    end)
  end)

  describe("tasks", function()
    it("join returns results, result/done report them", function()
      run(function()
        local t = asyncio.create_task(function(a, b) sleep(0.001) return a, b end, 1, 2)
        assert.is_false(t:done())
        assert.has_error(function() t:result() end)
        local a, b = t:join()
        assert.are.same({1, 2}, {a, b})
        assert.is_true(t:done())
        assert.are.same({1, 2}, {t:result()})
        assert.is_false(t:cancelled())
      end)
    end)

    it("join raises the task's error, the same value", function()
      local E = require("cthreads.class").error_kind("test.E")
      run(function()
        local t = asyncio.spawn(function() sleep(0) error(E("bad")) end)
        local ok, err = pcall(t.join, t)
        assert.is_false(ok)
        assert.is_true(err == E)
        assert.is_true(t:exception() == E)
      end)
    end)

    it("await is join for a task and a call for a function", function()
      run(function()
        local t = asyncio.create_task(function() return 5 end)
        assert.are.equal(5, asyncio.await(t))
        assert.are.equal(7, asyncio.await(function(x) sleep(0) return x end, 7))
      end)
    end)

    it("a task cannot join itself", function()
      run(function()
        local me = asyncio.current_task()
        assert.has_error(function() me:join() end, "a task cannot join itself")
        local _, err = pcall(function() me:join() end)
        assert.matches("asyncio_spec%.lua:%d+: a task cannot join itself", err)
      end)
    end)

    it("names and tostring", function()
      run(function()
        local t = asyncio.create_task(function() end)
        assert.matches("^Task%-%d+$", t:get_name())
        t:set_name("worker")
        assert.are.equal("worker", t:get_name())
        assert.matches("worker", tostring(t))
        t:join()
      end)
    end)

    it("to-be-closed variables of a failing task are closed", function()
      local closed = false
      run(function()
        local t = asyncio.create_task(function()
          local _ <close> = setmetatable({}, {__close = function() closed = true end})
          sleep(0)
          error("x")
        end)
        pcall(t.join, t)
      end)
      assert.is_true(closed)
    end)

    it("an error nobody retrieves is reported when run ends", function()
      local _, err = script([[
        asyncio.run(function()
          asyncio.create_task(function() error("lost error") end)
          asyncio.sleep(0)
          asyncio.sleep(0)
        end)
      ]])
      assert.matches("Task exception was never retrieved", err)
      assert.matches("lost error", err)
    end)
  end)

  describe("gather", function()
    it("returns results in argument order, tasks or functions", function()
      local r = run(function()
        local slow = asyncio.create_task(function() sleep(0.02) return "slow" end)
        return asyncio.gather(slow, function() return "fast" end,
                              function() sleep(0.01) return "mid" end)
      end)
      assert.are.same({"slow", "fast", "mid", n = 3}, r)
    end)

    it("keeps nil results in place", function()
      local r = run(function()
        return asyncio.gather(function() return nil end, function() return 2 end)
      end)
      assert.are.equal(2, r.n)
      assert.is_nil(r[1])
      assert.are.equal(2, r[2])
    end)

    it("of nothing is an empty table", function()
      assert.are.same({n = 0}, run(function() return asyncio.gather() end))
    end)

    it("raises the first error; the other tasks keep running", function()
      local finished = false
      run(function()
        -- 'other' and 'second' wait on events that are set only after gather
        -- has raised, so no stall of the loop can make them end first
        local release, fail = asyncio.Event(), asyncio.Event()
        local other = asyncio.create_task(function() release:wait() finished = true end)
        local second = asyncio.create_task(function() fail:wait() error("second") end)
        local ok, err = pcall(asyncio.gather, other,
                              function() sleep(0.001) error("first") end, second)
        assert.is_false(ok)
        assert.matches("first", err)
        assert.is_false(other:done())
        assert.is_false(second:done())
        release:set()
        fail:set()
        other:join()
        assert.matches("second", select(2, pcall(second.join, second)))
      end)
      assert.is_true(finished)
    end)

    it("a later error of its tasks, after the first one raised, is not reported", function()
      -- Python's gather marks the errors that come after it raised as
      -- retrieved: no "Task exception was never retrieved" at the end
      local out, err = script([[
        asyncio.run(function()
          local release = asyncio.Event()
          local second = asyncio.create_task(function() release:wait() error("second") end)
          local ok, e = pcall(asyncio.gather, function() error("first") end, second,
                              function() release:wait() error("third") end)
          print(ok, (tostring(e):match("first")))
          release:set()
          asyncio.sleep(0)
          asyncio.sleep(0)
          print(second:done())
        end)
      ]])
      assert.are.equal("false\tfirst\ntrue\n", out)
      assert.are.equal("", err)
    end)

    it("return_exceptions puts errors in the results", function()
      local r = run(function()
        return asyncio.gather{function() return 1 end, function() error("e2", 0) end,
                              return_exceptions = true}
      end)
      assert.are.equal(1, r[1])
      assert.are.equal("e2", r[2])
    end)

    it("checks its arguments", function()
      run(function()
        assert.has_error(function() asyncio.gather(1) end,
          "bad argument #1 to 'gather' (task or function expected, got number)")
      end)
    end)
  end)

  describe("cancellation", function()
    it("raises CancelledError where the task waits", function()
      local seen
      run(function()
        local t = asyncio.create_task(function()
          local ok, err = pcall(sleep, 10)
          seen = err
          error(err, 0)
        end)
        sleep(0)
        assert.is_true(t:cancel())
        local ok, err = pcall(t.join, t)
        assert.is_false(ok)
        assert.is_true(err == asyncio.CancelledError)
        assert.is_true(t:cancelled())
        assert.is_true(t:done())
        assert.is_false(t:cancel())  -- already done
        assert.has_error(function() t:result() end)
      end)
      assert.is_true(seen == asyncio.CancelledError)
    end)

    it("a task cancelled before it starts never runs", function()
      local ran = false
      run(function()
        local t = asyncio.create_task(function() ran = true end)
        t:cancel("stop")
        local ok, err = pcall(t.join, t)
        assert.is_false(ok)
        assert.is_true(asyncio.CancelledError:is(err))
        assert.matches("stop", tostring(err))
      end)
      assert.is_false(ran)
    end)

    it("a task may catch it and go on", function()
      local r = run(function()
        local t = asyncio.create_task(function()
          local ok = pcall(sleep, 10)
          if not ok then return "caught" end
        end)
        sleep(0)
        t:cancel()
        return t:join()
      end)
      assert.are.equal("caught", r)
    end)

    it("reaches a task waiting on a queue, an event, a lock or another task", function()
      run(function()
        local q, ev, lock = asyncio.Queue(), asyncio.Event(), asyncio.Lock()
        lock:acquire()
        local forever = asyncio.create_task(function() ev:wait() end)
        local waits = {
          function() q:get() end, function() ev:wait() end,
          function() lock:acquire() end, function() forever:join() end,
        }
        local ts = {}
        for i, f in ipairs(waits) do ts[i] = asyncio.create_task(f) end
        sleep(0.001)
        for _, t in ipairs(ts) do t:cancel() end
        local r = asyncio.gather{ts[1], ts[2], ts[3], ts[4], return_exceptions = true}
        for i = 1, 4 do assert.is_true(r[i] == asyncio.CancelledError) end
        -- the primitives still work after their waiters were cancelled
        lock:release()
        assert.is_true(lock:acquire())
        q:put_nowait(1)
        assert.are.equal(1, q:get())
        forever:cancel()
      end)
    end)

    it("a lock handed to a waiter that is cancelled before it runs passes on", function()
      run(function()
        local lock = asyncio.Lock()
        lock:acquire()
        local got = {}
        local b = asyncio.create_task(function() lock:acquire() got[#got + 1] = "b" end)
        local c = asyncio.create_task(function()
          lock:acquire() got[#got + 1] = "c" lock:release()
        end)
        sleep(0)       -- both wait
        lock:release() -- handed to b, which has not run yet
        b:cancel()
        c:join()
        assert.is_true(b:cancelled())
        assert.are.same({"c"}, got)
        assert.is_false(lock:locked())
      end)
    end)

    it("a cancelled gather cancels its children", function()
      run(function()
        local a = asyncio.create_task(function() sleep(10) end)
        local g = asyncio.create_task(function() return asyncio.gather(a) end)
        sleep(0.001)
        g:cancel()
        pcall(g.join, g)
        pcall(a.join, a)
        assert.is_true(g:cancelled())
        assert.is_true(a:cancelled())
      end)
    end)

    it("a task may cancel itself; it raises at the next wait", function()
      local after
      run(function()
        local t = asyncio.create_task(function()
          asyncio.current_task():cancel()
          after = "still running"
          sleep(0)
          after = "not reached"
        end)
        pcall(t.join, t)
        assert.is_true(t:cancelled())
      end)
      assert.are.equal("still running", after)
    end)
  end)

  describe("wait_for", function()
    it("returns the results when in time", function()
      local a, b = run(function()
        return asyncio.wait_for(function() sleep(0.001) return 1, 2 end, 10)
      end)
      assert.are.same({1, 2}, {a, b})
    end)

    it("raises TimeoutError and cancels the task when late", function()
      run(function()
        local t = asyncio.create_task(function() sleep(10) end)
        local ok, err = pcall(asyncio.wait_for, t, 0.01)
        assert.is_false(ok)
        assert.is_true(err == asyncio.TimeoutError)
        assert.is_true(asyncio.TimeoutError:is(err))
        assert.is_true(t:cancelled())
      end)
    end)

    it("passes the task's error on", function()
      run(function()
        local ok, err = pcall(asyncio.wait_for, function() error("inner") end, 10)
        assert.is_false(ok)
        assert.matches("inner", err)
      end)
    end)

    it("without a timeout waits as long as it takes", function()
      assert.are.equal(3, run(function()
        return asyncio.wait_for(function() sleep(0.001) return 3 end)
      end))
    end)
  end)

  describe("wait and as_completed", function()
    it("wait returns done and pending lists", function()
      run(function()
        local fast = asyncio.create_task(function() return 1 end)
        local slow = asyncio.create_task(function() sleep(10) end)
        local done, pending = asyncio.wait({fast, slow}, 0.01)
        assert.are.same({fast}, done)
        assert.are.same({slow}, pending)
        done, pending = asyncio.wait({fast, slow}, nil, asyncio.FIRST_COMPLETED)
        assert.are.same({fast}, done)
        slow:cancel()
        done, pending = asyncio.wait({fast, slow})
        assert.are.equal(2, #done)
        assert.are.equal(0, #pending)
        local bad = asyncio.create_task(function() sleep(0.001) error("x") end)
        local never = asyncio.create_task(function() sleep(10) end)
        done, pending = asyncio.wait({never, bad}, nil, asyncio.FIRST_EXCEPTION)
        assert.are.same({bad}, done)
        assert.are.same({never}, pending)
        never:cancel()
        pcall(bad.join, bad)
      end)
    end)

    it("as_completed gives the tasks in the order they end", function()
      local order = run(function()
        -- the tasks end in an order set by events, each only after the one
        -- before has ended (sleeps of different lengths could be reordered
        -- by a stall between their starts)
        local evs, ts = {}, {}
        for i = 1, 3 do
          evs[i] = asyncio.Event()
          ts[i] = asyncio.create_task(function() evs[i]:wait() return i end)
        end
        local ender = asyncio.create_task(function()
          for _, i in ipairs{2, 3, 1} do
            evs[i]:set()
            ts[i]:join()
          end
        end)
        local order = {}
        for t in asyncio.as_completed(ts) do order[#order + 1] = t:join() end
        ender:join()
        return order
      end)
      assert.are.same({2, 3, 1}, order)
    end)

    it("as_completed raises TimeoutError after its timeout", function()
      run(function()
        local slow = asyncio.create_task(function() sleep(10) end)
        local quick = asyncio.create_task(function() return "q" end)
        local it = asyncio.as_completed({slow, quick}, 0.01)
        assert.are.equal("q", it():join())
        local ok, err = pcall(it)
        assert.is_false(ok)
        assert.is_true(err == asyncio.TimeoutError)
        slow:cancel()
      end)
    end)
  end)

  describe("Queue", function()
    it("carries items from producer to consumer in order", function()
      local got = {}
      run(function()
        local q = asyncio.Queue(2)
        local function producer()
          for i = 1, 10 do q:put(i) end
          q:put(nil)  -- nil is a valid item; "stop" follows
          q:put("stop")
        end
        local function consumer()
          while true do
            local item = q:get()
            q:task_done()
            if item == "stop" then break end
            got[#got + 1] = item == nil and "nil" or item
          end
        end
        asyncio.gather(producer, consumer)
        q:join()
        assert.is_true(q:empty())
      end)
      assert.are.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "nil"}, got)
    end)

    it("maxsize blocks put until a get makes room", function()
      local log = {}
      run(function()
        local q = asyncio.Queue(1)
        local p = asyncio.create_task(function()
          q:put("a"); log[#log + 1] = "put a"
          q:put("b"); log[#log + 1] = "put b"
        end)
        sleep(0.001)
        assert.is_true(q:full())
        log[#log + 1] = "get " .. q:get()
        p:join()
        log[#log + 1] = "get " .. q:get()
      end)
      assert.are.same({"put a", "get a", "put b", "get b"}, log)
    end)

    it("nowait forms raise QueueEmpty and QueueFull", function()
      run(function()
        local q = asyncio.Queue(1)
        assert.has_error(function() q:get_nowait() end, asyncio.QueueEmpty)
        q:put_nowait(1)
        assert.has_error(function() q:put_nowait(2) end, asyncio.QueueFull)
        assert.are.equal(1, q:qsize())
        assert.are.equal(1, q.maxsize)
      end)
    end)

    it("task_done too often is an error; join waits for all done", function()
      run(function()
        local q = asyncio.Queue()
        assert.has_error(function() q:task_done() end, "task_done() called too many times")
        for i = 1, 3 do q:put_nowait(i) end
        local done = 0
        asyncio.create_task(function()
          while true do
            q:get()
            sleep(0)
            done = done + 1
            q:task_done()
          end
        end)
        q:join()
        assert.are.equal(3, done)
      end)
    end)

    it("shutdown ends waiting getters with QueueShutDown", function()
      run(function()
        local q = asyncio.Queue()
        local t = asyncio.create_task(function() return q:get() end)
        sleep(0)
        q:shutdown()
        local ok, err = pcall(t.join, t)
        assert.is_false(ok)
        assert.is_true(err == asyncio.QueueShutDown)
        assert.has_error(function() q:put_nowait(1) end, asyncio.QueueShutDown)
      end)
    end)

    it("LifoQueue and PriorityQueue", function()
      run(function()
        local l = asyncio.LifoQueue()
        for i = 1, 3 do l:put_nowait(i) end
        assert.are.same({3, 2, 1}, {l:get_nowait(), l:get_nowait(), l:get_nowait()})
        local p = asyncio.PriorityQueue()
        p:put_nowait({2, "b"}); p:put_nowait({1, "z"}); p:put_nowait({1, "a"})
        assert.are.same({1, "a"}, p:get_nowait())
        assert.are.same({1, "z"}, p:get_nowait())
        assert.are.same({2, "b"}, p:get_nowait())
      end)
    end)

    it("PriorityQueue: an item that cannot be compared leaves the queue as it was", function()
      local q = asyncio.PriorityQueue()
      q:put_nowait(1); q:put_nowait(3)
      local ok, err = pcall(q.put_nowait, q, "a")
      assert.is_false(ok)
      assert.are.equal(2, q:qsize())
      q:put_nowait(2)
      assert.are.same({1, 2, 3}, {q:get_nowait(), q:get_nowait(), q:get_nowait()})
      assert.is_true(q:empty())
      assert.has_error(function() q:get_nowait() end, asyncio.QueueEmpty)
      -- the comparison's error, as queue.PriorityQueue raises it
      assert.are.equal("attempt to compare string with number", err)
      -- a get whose comparison fails (a raising __lt) takes nothing either
      local refuse = false
      local Item = {__lt = function(a, b)
        if refuse and a.odd and b.odd then error("incomparable", 0) end
        return a.v < b.v
      end}
      local function item(v, odd) return setmetatable({v = v, odd = odd}, Item) end
      q:put_nowait(item(1)); q:put_nowait(item(2, true)); q:put_nowait(item(3, true))
      refuse = true
      assert.has_error(function() q:get_nowait() end, "incomparable")
      assert.are.equal(3, q:qsize())
      refuse = false
      assert.are.same({1, 2, 3}, {q:get_nowait().v, q:get_nowait().v, q:get_nowait().v})
    end)

    it("PriorityQueue: a woken put that cannot compare its item passes its turn on", function()
      local got = run(function()
        local q = asyncio.PriorityQueue(2)
        q:put_nowait(1); q:put_nowait(2)
        local bad = asyncio.create_task(function() return pcall(q.put, q, "a") end)
        local good = asyncio.create_task(function() q:put(0); return "put" end)
        sleep(0)  -- both wait: the queue is full
        local first = q:get_nowait()  -- room for one: the first putter's turn
        local ok, err = bad:join()
        return {first, ok, err, good:join(), q:qsize(), q:get_nowait(), q:get_nowait()}
      end)
      assert.are.same({1, false, "attempt to compare string with number", "put", 2, 0, 2}, got)
    end)
  end)

  describe("Event, Lock, Semaphore, Condition", function()
    it("Event wakes every waiter", function()
      local woke = 0
      run(function()
        local ev = asyncio.Event()
        local ts = {}
        for i = 1, 3 do ts[i] = asyncio.create_task(function() ev:wait() woke = woke + 1 end) end
        sleep(0.001)
        assert.are.equal(0, woke)
        ev:set()
        asyncio.gather(ts[1], ts[2], ts[3])
        assert.is_true(ev:is_set())
        ev:clear()
        assert.is_false(ev:is_set())
      end)
      assert.are.equal(3, woke)
    end)

    it("Lock keeps tasks out of a section across sleeps, first come first served", function()
      local log = {}
      run(function()
        local lock = asyncio.Lock()
        local function section(name)
          log[#log + 1] = name .. " in"
          sleep(0.001)
          log[#log + 1] = name .. " out"
        end
        local function worker(name)
          local _ <close> = lock:hold()
          section(name)
        end
        asyncio.gather(function() worker("a") end, function() worker("b") end,
                       function() lock:with(section, "c") end)
        assert.is_false(lock:locked())
        assert.has_error(function() lock:release() end, "Lock is not acquired")
      end)
      assert.are.same({"a in", "a out", "b in", "b out", "c in", "c out"}, log)
    end)

    it("Semaphore(n) lets n tasks in at once", function()
      local inside, most = 0, 0
      run(function()
        local sem = asyncio.Semaphore(2)
        local fs = {}
        for i = 1, 6 do
          fs[i] = function()
            sem:acquire()
            inside = inside + 1
            if inside > most then most = inside end
            sleep(0.001)
            inside = inside - 1
            sem:release()
          end
        end
        asyncio.gather(table.unpack(fs))
      end)
      assert.are.equal(2, most)
    end)

    it("BoundedSemaphore refuses extra releases", function()
      local sem = asyncio.BoundedSemaphore(1)
      assert.has_error(function() sem:release() end, "BoundedSemaphore released too many times")
    end)

    it("Condition notify wakes a waiter that holds the lock again", function()
      local r = run(function()
        local cond = asyncio.Condition()
        local items = {}
        local c = asyncio.create_task(function()
          local _ <close> = cond:hold()
          cond:wait_for(function() return #items > 0 end)
          return table.remove(items, 1), cond:locked()
        end)
        sleep(0.001)
        cond:with(function() items[1] = "x"; cond:notify() end)
        return {c:join()}
      end)
      assert.are.same({"x", true}, r)
    end)
  end)

  describe("streams", function()
    local function upper_echo(reader, writer)
      while true do
        local line = reader:readline()
        if line == "" then break end
        writer:write(line:upper())
        writer:drain()
      end
      writer:close()
    end

    it("an echo server serves several clients at once", function()
      local replies = run(function()
        local server = asyncio.start_server(upper_echo, "127.0.0.1", 0)
        assert.is_true(server.port > 0)
        local started = 0
        local all_in = asyncio.Event()
        local function client(i)
          local r, w = asyncio.open_connection("127.0.0.1", server.port)
          started = started + 1
          if started == 5 then all_in:set() end
          all_in:wait()  -- all five connections are open at once
          local got = {}
          for k = 1, 3 do
            w:write(("c%d m%d\n"):format(i, k))
            w:drain()
            got[k] = r:readline()
          end
          w:close()
          return table.concat(got)
        end
        local fs = {}
        for i = 1, 5 do fs[i] = function() return client(i) end end
        local res = asyncio.gather(table.unpack(fs))
        server:close()
        return res
      end)
      for i = 1, 5 do
        assert.are.equal(("C%d M1\nC%d M2\nC%d M3\n"):format(i, i, i), replies[i])
      end
    end)

    it("serves more connections at once than one poll reports", function()
      local n = run(function()
        local server = asyncio.start_server(upper_echo, "127.0.0.1", 0)
        local opened, go = 0, asyncio.Event()
        local fs = {}
        for i = 1, 300 do
          fs[i] = function()
            local r, w = asyncio.open_connection("127.0.0.1", server.port)
            opened = opened + 1
            if opened == 300 then go:set() end
            go:wait()  -- all 300 connections are open at once
            w:write("x" .. i .. "\n")
            local line = r:readline()
            w:close()
            return line == ("X" .. i .. "\n")
          end
        end
        local res = asyncio.gather(table.unpack(fs))
        server:close()
        local ok = 0
        for i = 1, 300 do if res[i] then ok = ok + 1 end end
        return ok
      end)
      assert.are.equal(300, n)
    end)

    it("a server on all interfaces answers on IPv4 and IPv6 at the same port", function()
      run(function()
        local server = asyncio.start_server(function(r, w)
          w:write("hi " .. r:readline())
          w:close()
        end, nil, 0)
        for _, host in ipairs{"127.0.0.1", "::1"} do
          local ok, r, w = pcall(asyncio.open_connection, host, server.port)
          if ok then  -- (a machine without IPv6 refuses ::1: nothing to test)
            w:write(host .. "\n")
            assert.are.equal("hi " .. host .. "\n", r:read())
            w:close()
          else
            assert.are_not.equal("127.0.0.1", host)
          end
        end
        server:close()
      end)
    end)

    it("read(n), readexactly, readuntil, read() to the end", function()
      run(function()
        local server = asyncio.start_server(function(_, w)
          w:write("abcdefgh|tail without newline")
          w:close()
        end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        assert.are.equal("abc", r:readexactly(3))
        local some = r:read(2)
        assert.is_true(#some >= 1 and #some <= 2)
        local upto = r:readuntil("|")
        assert.are.equal("abcdefgh|", "abc" .. some .. upto)
        assert.are.equal("tail without newline", r:read())
        assert.are.equal("", r:read())
        assert.are.equal("", r:readline())
        assert.is_true(r:at_eof())
        w:close()
        server:close()
      end)
    end)

    it("readline returns a last line without newline, then ''", function()
      run(function()
        local server = asyncio.start_server(function(_, w)
          w:write("one\ntwo")
          w:close()
        end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        local lines = {}
        for line in r:lines() do lines[#lines + 1] = line end
        assert.are.same({"one\n", "two"}, lines)
        w:close()
        server:close()
      end)
    end)

    it("readexactly past the end raises IncompleteReadError", function()
      run(function()
        local server = asyncio.start_server(function(_, w) w:write("12345") w:close() end,
                                           "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        local ok, err = pcall(r.readexactly, r, 10)
        assert.is_false(ok)
        assert.is_true(err == asyncio.IncompleteReadError)
        assert.are.equal("12345", err.partial)  -- Python's fields
        assert.are.equal(10, err.expected)
        w:close()
        server:close()
      end)
    end)

    it("big writes arrive whole (drain waits for the buffer)", function()
      local n = run(function()
        local server = asyncio.start_server(function(r, w)
          local data = r:read()
          w:write(tostring(#data))
          w:close()
        end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        local chunk = ("x"):rep(64 * 1024)
        for _ = 1, 64 do
          w:write(chunk)
          w:drain()
        end
        w:write_eof()
        local answer = r:read()
        w:close()
        server:close()
        return tonumber(answer)
      end)
      assert.are.equal(64 * 64 * 1024, n)
    end)

    it("write_eof ends the stream after what is still buffered", function()
      local n, err = run(function()
        local server = asyncio.start_server(function(r, w)
          w:write(tostring(#r:read()))
          w:close()
        end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        w:write(("y"):rep(3 * 1024 * 1024))  -- more than the kernel takes at once
        w:write_eof()                         -- no drain(): sent after the data
        local answer = r:read()
        local _, e = pcall(w.write, w, "z")
        w:close()
        server:close()
        return tonumber(answer), e
      end)
      assert.are.equal(3 * 1024 * 1024, n)
      assert.matches("cannot write after write_eof", err)
    end)

    it("peername and sockname", function()
      run(function()
        local seen
        local server = asyncio.start_server(function(_, w)
          seen = w:get_extra_info("peername")
          w:close()
        end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        r:read()
        local mine = w:get_extra_info("sockname")
        assert.are.same(mine, seen)
        assert.are.equal("127.0.0.1", mine[1])
        assert.are.equal(server.port, w:get_extra_info("peername")[2])
        w:close()
        server:close()
      end)
    end)

    it("a closed connection reads '' and refuses writes", function()
      run(function()
        local server = asyncio.start_server(function(_, w) w:close() end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        assert.are.equal("", r:readline())  -- the server hung up
        assert.are.equal("", r:read(10))
        w:close()
        assert.has_error(function() w:write("x") end, "write to a closed connection")
        assert.are.equal("", r:read(10))
        assert.is_true(w:is_closing())
        server:close()
      end)
    end)

    it("a method called on something else than its stream is a bad-argument error", function()
      run(function()
        local server = asyncio.start_server(function(r, w)
          w:write(r:read()); w:close()
        end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        local cases = {
          {function() asyncio.StreamReader.read(nil) end, "'read' %(StreamReader expected, got nil%)"},
          {function() r.readline() end, "'readline' %(StreamReader expected, got nil%)"},
          {function() r.readexactly(w, 1) end, "'readexactly' %(StreamReader expected, got StreamWriter%)"},
          {function() r.readuntil({}) end, "'readuntil' %(StreamReader expected, got table%)"},
          {function() r.at_eof(5) end, "'at_eof' %(StreamReader expected, got number%)"},
          {function() w.write(r, "x") end, "'write' %(StreamWriter expected, got StreamReader%)"},
          {function() w.drain() end, "'drain' %(StreamWriter expected, got nil%)"},
          {function() w.wait_closed(nil) end, "'wait_closed' %(StreamWriter expected, got nil%)"},
          {function() w.close() end, "'close' %(StreamWriter expected, got no value%)"},
          {function() w.writelines(r, {}) end, "'writelines' %(StreamWriter expected, got StreamReader%)"},
        }
        for _, case in ipairs(cases) do
          local ok, err = pcall(case[1])
          assert.is_false(ok)
          assert.matches("bad argument #1 to " .. case[2], err)
        end
        -- without a name to go by (pcall(f, ...)), the method is still named
        local ok, err = pcall(r.read, nil)
        assert.is_false(ok)
        assert.are.equal("bad argument #1 to 'read' (StreamReader expected, got nil)", err)
        -- writelines names the bad item and writes nothing
        assert.has_error(function() w:writelines({"a", {}}) end,
          "bad argument #1 to 'writelines' (string expected at index 2, got table)")
        w:writelines({"b", 1})
        w:write_eof()
        assert.are.equal("b1", r:read())
        w:close()
        server:close()
      end)
    end)

    it("writing to a connection the peer reset raises 'connection lost'", function()
      run(function()
        local server = asyncio.start_server(function(_, w) w:close() end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        r:read()
        local ok, err
        local loop = asyncio.get_running_loop()
        local deadline = loop:time() + 30
        repeat  -- the first writes may still be accepted
          ok, err = pcall(function() w:write("data\n") w:drain() end)
          if not ok then break end
          sleep(0.001)
        until loop:time() > deadline
        assert.is_false(ok)
        assert.matches("connection lost", err)
        w:close()
        server:close()
      end)
    end)

    it("closing a writer wakes a task reading the same connection", function()
      run(function()
        local server = asyncio.start_server(function(r) r:read() end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        local t = asyncio.create_task(function() return r:readline() end)
        sleep(0.001)
        w:close()
        assert.are.equal("", t:join())
        server:close()
      end)
    end)

    it("a handler that raises is reported and the server keeps serving", function()
      local out, err = script([[
        asyncio.run(function()
          local server = asyncio.start_server(function(r, w)
            local line = r:readline()
            if line == "boom\n" then error("handler exploded") end
            w:write("ok " .. line)
            w:close()
          end, "127.0.0.1", 0)
          local r, w = asyncio.open_connection("127.0.0.1", server.port)
          w:write("boom\n")
          io.write("first: [", r:readline(), "]\n")
          w:close()
          r, w = asyncio.open_connection("127.0.0.1", server.port)
          w:write("again\n")
          io.write("second: ", r:readline())
          w:close()
          server:close()
        end)
      ]])
      assert.are.equal("first: []\nsecond: ok again\n", out)
      assert.matches("handler exploded", err)
    end)

    it("connecting to a closed port raises a clear error", function()
      run(function()
        local server = asyncio.start_server(function() end, "127.0.0.1", 0)
        local port = server.port
        sleep(0)  -- the server's accept task is waiting
        server:close()
        assert.is_false(server:is_serving())
        sleep(0)
        assert.are.same({asyncio.current_task()}, asyncio.all_tasks())
        local ok, err = pcall(asyncio.open_connection, "127.0.0.1", port)
        assert.is_false(ok)
        assert.matches("cannot connect to 127.0.0.1:" .. port, err)
      end)
    end)

    it("two tasks may not read one connection at once", function()
      run(function()
        local server = asyncio.start_server(function(r) r:read() end, "127.0.0.1", 0)
        local r, w = asyncio.open_connection("127.0.0.1", server.port)
        local t = asyncio.create_task(function() return r:readline() end)
        sleep(0.001)
        assert.has_error(function() r:readline() end)
        w:close()
        t:join()
        server:close()
      end)
    end)
  end)

  describe("threads", function()
    it("to_thread runs on a real thread while the loop serves others", function()
      local r = run(function()
        local go = threading.Lock()
        go:acquire()
        local t = asyncio.create_task(asyncio.to_thread, function(a, b)
          -- waits for a task of the loop: only possible if the loop runs on
          return go:acquire(true, 10), a + b,
                 threading.current_thread() ~= threading.main_thread()
        end, 1, 2)
        sleep(0.001)
        go:release()
        return {t:join()}
      end)
      assert.are.same({true, 3, true}, r)
    end)

    it("to_thread passes the thread's error on", function()
      run(function()
        local ok, err = pcall(asyncio.to_thread, function() error("in thread") end)
        assert.is_false(ok)
        assert.matches("in thread", err)
      end)
    end)

    it("two threads run their own loops at the same time", function()
      local flags, results = {}, {}
      local function side(i)
        results[i] = asyncio.run(function()
          local loop = asyncio.get_running_loop()
          flags[i] = true
          -- each loop waits for the other one to have started
          local spins = 0
          while not flags[3 - i] and spins < 20000 do
            sleep(0.0005)
            spins = spins + 1
          end
          local q = asyncio.Queue()
          asyncio.create_task(function() for k = 1, 3 do q:put(k * i) end end)
          local sum = 0
          for _ = 1, 3 do sum = sum + q:get() end
          return {sum = sum, other_seen = flags[3 - i] == true,
                  own_loop = loop == asyncio.get_event_loop()}
        end)
      end
      local ths = {}
      for i = 1, 2 do
        ths[i] = threading.Thread{target = side, args = {i}}
        ths[i]:start()
      end
      for i = 1, 2 do ths[i]:join() end
      assert.are.same({sum = 6, other_seen = true, own_loop = true}, results[1])
      assert.are.same({sum = 12, other_seen = true, own_loop = true}, results[2])
    end)
  end)

  describe("bad use", function()
    it("waiting outside a task is a clear error", function()
      assert.has_error(function() sleep(1) end,
        "asyncio.sleep called outside a task; start one with asyncio.run(f) or loop:run_until_complete(f)")
      local ok, err = pcall(asyncio.gather)
      assert.matches("asyncio.gather called outside a task", err)
      ok, err = pcall(asyncio.wait_for, function() end, 1)
      assert.matches("asyncio.wait_for called outside a task", err)
      ok, err = pcall(asyncio.to_thread, print)
      assert.matches("asyncio.to_thread called outside a task", err)
      ok, err = pcall(asyncio.open_connection, "127.0.0.1", 1)
      assert.matches("called outside a task", err)
      local loop = asyncio.new_event_loop()
      local t = loop:create_task(function() end)
      ok, err = pcall(t.join, t)
      assert.matches("task:join%(%) called outside a task", err)
      loop:run_until_complete(t)
      assert.is_nil(t:join())  -- done: no wait, so no task needed
      loop:close()
      local q = asyncio.Queue()
      ok, err = pcall(q.get, q)
      assert.matches("Queue:get called outside a task", err)
      assert.is_false(ok)
      q:put_nowait(1)
      ok, err = pcall(q.join, q)
      assert.is_false(ok)
      assert.matches("Queue:join called outside a task", err)
    end)

    it("a method called with '.' instead of ':' is a bad-argument error naming it", function()
      local loop = asyncio.new_event_loop()
      local cases = {
        {function() asyncio.Lock().release() end, "'release' %(Lock expected, got no value%)"},
        {function() asyncio.Queue().put_nowait(1) end, "'put_nowait' %(Queue expected, got number%)"},
        {function() asyncio.LifoQueue().qsize() end, "'qsize' %(Queue expected, got no value%)"},
        {function() asyncio.Event().set() end, "'set' %(Event expected, got no value%)"},
        {function() asyncio.Semaphore().acquire() end, "'acquire' %(Semaphore expected"},
        {function() asyncio.BoundedSemaphore().release() end,
         "'release' %(BoundedSemaphore expected"},
        {function() asyncio.Condition().notify() end, "'notify' %(Condition expected"},
        {function() loop.run_until_complete(print) end,
         "'run_until_complete' %(EventLoop expected, got function%)"},
        {function() loop.call_later(1, print) end, "'call_later' %(EventLoop expected, got number%)"},
        {function() loop:create_task(print).cancel() end, "'cancel' %(Task expected, got no value%)"},
      }
      for _, case in ipairs(cases) do
        local ok, err = pcall(case[1])
        assert.is_false(ok)
        assert.matches("bad argument #1 to " .. case[2], err)
      end
      loop:close()
    end)

    it("every method called on a wrong self is a bad-argument error naming it", function()
      -- all the methods, inherited and aliases (Event.isSet) included
      local function methods(cls)
        local names, seen = {}, {}
        local c = cls
        while c do
          for k, v in pairs(c) do
            if type(k) == "string" and type(v) == "function" and not seen[k]
               and not k:match("^_") and k ~= "init" and k ~= "extend" and k ~= "is"
               and k ~= "isinstance" then
              seen[k] = true
              names[#names + 1] = k
            end
          end
          c = rawget(c, "super")
        end
        table.sort(names)
        return names
      end
      local classes = {"Event", "Lock", "Semaphore", "BoundedSemaphore", "Condition", "Queue",
                       "LifoQueue", "PriorityQueue", "Task", "EventLoop", "Handle",
                       "StreamReader", "StreamWriter", "Server"}
      local checked = 0
      for _, name in ipairs(classes) do
        local cls = asyncio[name]
        for _, m in ipairs(methods(cls)) do
          for _, self in ipairs{false, 5} do
            local ok, err = pcall(cls[m], self or nil)  -- no name but the method's own
            assert.is_false(ok, name .. "." .. m)
            assert.matches("bad argument #1 to '" .. m .. "' %(%w+ expected, got ", err,
                           1, false, name .. "." .. m)
            checked = checked + 1
          end
        end
      end
      assert.is_true(checked > 100)
      assert.has_error(function() asyncio.Event.isSet(nil) end,
        "bad argument #1 to 'isSet' (Event expected, got no value)")
    end)

    it("constructors name themselves in their errors", function()
      local cases = {
        {"Queue", "number expected, got string"},
        {"LifoQueue", "number expected, got string"},
        {"PriorityQueue", "number expected, got string"},
        {"Semaphore", "number expected, got string"},
        {"BoundedSemaphore", "number expected, got string"},
      }
      for _, case in ipairs(cases) do
        local ok, err = pcall(asyncio[case[1]], "x")
        assert.is_false(ok)
        assert.are.equal(("bad argument #1 to '%s' (%s)"):format(case[1], case[2]), err)
      end
      assert.has_error(function() asyncio.LifoQueue(1.5) end,
        "bad argument #1 to 'LifoQueue' (number has no integer representation)")
      assert.has_error(function() asyncio.BoundedSemaphore(-1) end,
        "bad argument #1 to 'BoundedSemaphore' (initial value must be a non-negative integer)")
    end)

    it("Task, Server and the streams are not constructed directly; tostring never raises", function()
      for _, name in ipairs{"Task", "Server", "StreamReader", "StreamWriter"} do
        local ok, err = pcall(asyncio[name], 5)
        assert.is_false(ok)
        assert.matches("^asyncio%." .. name .. " cannot be constructed directly; use ", err)
      end
      assert.has_error(function() asyncio.Task(print) end,
        "asyncio.Task cannot be constructed directly; use asyncio.create_task(f, ...) or " ..
        "loop:create_task(f, ...)")
      -- a table made one by hand still prints
      assert.are.equal("<Task ? Task-?>", tostring(setmetatable({}, asyncio.Task)))
      assert.are.equal("<Server port=nil closed>", tostring(setmetatable({}, asyncio.Server)))
      run(function()
        local server = asyncio.start_server(function() end, "127.0.0.1", 0)
        assert.are.equal(("<Server port=%d serving>"):format(server.port), tostring(server))
        server:close()
        assert.are.equal(("<Server port=%d closed>"):format(server.port), tostring(server))
        assert.matches("^<Task ready Task%-%d+>$", tostring(asyncio.current_task()))
      end)
    end)

    it("all_tasks and current_task take an EventLoop or nothing", function()
      assert.has_error(function() asyncio.all_tasks(5) end,
        "bad argument #1 to 'all_tasks' (EventLoop expected, got number)")
      assert.has_error(function() asyncio.current_task("x") end,
        "bad argument #1 to 'current_task' (EventLoop expected, got string)")
      local other = asyncio.new_event_loop()
      run(function()
        local me = asyncio.current_task()
        local loop = asyncio.get_running_loop()
        assert.are.equal(me, asyncio.current_task(loop))
        assert.is_nil(asyncio.current_task(other))  -- not that loop's
        assert.are.same({me}, asyncio.all_tasks(loop))
        assert.are.same({}, asyncio.all_tasks(other))
      end)
      other:close()
    end)

    it("NaN seconds are bad arguments, as for time.sleep", function()
      local nan = 0 / 0
      run(function()
        assert.has_error(function() sleep(nan) end,
          "bad argument #1 to 'sleep' (sleep length must be a number, not nan)")
        assert.has_error(function() asyncio.wait_for(function() end, nan) end,
          "bad argument #2 to 'wait_for' (timeout must be a number, not nan)")
        assert.has_error(function() asyncio.wait({function() end}, nan) end,
          "bad argument #2 to 'wait' (timeout must be a number, not nan)")
        assert.has_error(function() asyncio.as_completed({function() end}, nan) end,
          "bad argument #2 to 'as_completed' (timeout must be a number, not nan)")
        local loop = asyncio.get_running_loop()
        assert.has_error(function() loop:call_later(nan, print) end,
          "bad argument #1 to 'call_later' (delay must be a number, not nan)")
        assert.has_error(function() loop:call_at(nan, print) end,
          "bad argument #1 to 'call_at' (when must be a number, not nan)")
        assert.are.equal("slept", sleep(0, "slept"))  -- and 0 still just yields
      end)
    end)

    it("constructors take named fields and check their numbers", function()
      assert.are.equal(3, asyncio.Semaphore{value = 3}._value)
      local lock = asyncio.Lock()
      assert.are.equal(lock, asyncio.Condition{lock = lock}._lock)
      assert.is_true(asyncio.Lock:is(asyncio.Condition{}._lock))
      assert.are.equal(2, asyncio.BoundedSemaphore{value = 2}._bound)
      assert.are.equal(2, asyncio.Queue(2.0).maxsize)
      assert.has_error(function() asyncio.Queue(1.5) end,
        "bad argument #1 to 'Queue' (number has no integer representation)")
    end)

    it("...and from a to_thread worker, without calling it a coroutine", function()
      run(function()
        local ok, err = asyncio.to_thread(function() return pcall(sleep, 1) end)
        assert.is_false(ok)
        assert.matches("asyncio.sleep called outside a task;", err)
      end)
    end)

    it("...also from a plain coroutine inside a task", function()
      run(function()
        local co = coroutine.wrap(function() sleep(0) end)
        local ok, err = pcall(co)
        assert.is_false(ok)
        assert.matches("not an asyncio task", err)
      end)
    end)

    it("checks arguments", function()
      run(function()
        assert.has_error(function() sleep("x") end,
          "bad argument #1 to 'sleep' (number expected, got string)")
      end)
      assert.has_error(function() asyncio.run(42) end,
        "bad argument #1 to 'run' (function expected, got number)")
      assert.has_error(function() asyncio.create_task() end,
        "bad argument #1 to 'create_task' (function expected, got no value)")
      assert.has_error(function() asyncio.start_server(print, "127.0.0.1", 70000) end,
        "bad argument #3 to 'start_server' (port must be an integer in 0..65535)")
    end)

    -- found by scripts/test/argsweep.lua
    it("start_server's backlog must be an integer; a huge or negative one is clamped", function()
      run(function()
        local ok, err = pcall(function() asyncio.start_server(print, "127.0.0.1", 0, 0.5) end)
        assert.is_false(ok)
        assert.matches("^spec/asyncio_spec%.lua:%d+: bad argument #4 to 'start_server' %(number " ..
                       "has no integer representation%)$", err)
        for _, backlog in ipairs{math.maxinteger, -1, 2.0} do
          local server = asyncio.start_server(function(_, w) w:write("hi") w:close() end,
                                              "127.0.0.1", 0, backlog)
          local r, w = asyncio.open_connection("127.0.0.1", server.port)
          assert.equal("hi", r:read())
          w:close()
          server:close()
        end
      end)
    end)

    it("Condition:wait_for outside a task names wait_for, at the caller's line", function()
      local c = asyncio.Condition()
      local ok, err = pcall(function() local r = c:wait_for(function() end) return r end)
      assert.is_false(ok)
      assert.matches("^spec/asyncio_spec%.lua:%d+: Condition:wait_for called outside a task", err)
    end)

    it("a connection error is not positioned in the library, also when tail-called", function()
      local ok, err = pcall(run, function()
        return asyncio.open_connection("127.0.0.1", 0)  -- port 0: always refused
      end)
      assert.is_false(ok)
      assert.matches("cannot connect to 127.0.0.1:0", err)
      assert.is_nil(err:find("cthreads/", 1, true))
      ok, err = pcall(run, function()
        local r = asyncio.open_connection("127.0.0.1", 0)
        return r
      end)
      assert.matches("^spec/asyncio_spec%.lua:%d+: cannot connect to 127.0.0.1:0", err)
    end)

    it("running a loop inside a running loop is an error", function()
      run(function()
        assert.has_error(function() asyncio.run(function() end) end,
          "asyncio.run() cannot be called from a running event loop")
        local loop = asyncio.get_running_loop()
        assert.has_error(function() loop:run_until_complete(function() end) end,
          "This event loop is already running")
        assert.has_error(function() loop:close() end, "Cannot close a running event loop")
      end)
    end)

    it("a primitive belongs to one loop", function()
      local ev = asyncio.Event()
      run(function()
        asyncio.create_task(function() ev:wait() end)
        sleep(0)
        ev:set()
      end)
      assert.has_error(function() run(function() ev:clear(); ev:wait() end) end,
        "Event is bound to a different event loop")
    end)

    it("waking a task of another thread's loop directly is an error", function()
      local msg = run(function()
        local loop = asyncio.get_running_loop()
        local ev = asyncio.Event()
        local err
        local th = threading.Thread{target = function()
          local ok, e = pcall(ev.set, ev)
          err = not ok and e
          loop:call_soon_threadsafe(ev.set, ev)  -- the right way
        end}
        local waiter = asyncio.create_task(ev.wait, ev)
        sleep(0)
        th:start()
        waiter:join()
        th:join()
        return err
      end)
      assert.matches("Event used from another thread than its event loop's", msg)
    end)

    it("a main task that can never finish is a deadlock error, not a hang", function()
      local ok, err = pcall(run, function() asyncio.Event():wait() end)
      assert.is_false(ok)
      assert.matches("deadlock", err)
    end)
  end)
end)
