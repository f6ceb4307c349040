-- threading.Condition, Semaphore, BoundedSemaphore, Event and Timer:
-- every method, error and timeout path (API.md, "threading").

local Thread = threading.Thread
local cond_waiters = threading._native.cond_waiters
local event_sleepers = threading._native.event_sleepers

local function wait_until(pred)
  local t0 = time.monotonic()
  while not pred() do
    assert(time.monotonic() - t0 < 30, "timed out waiting for a condition")
    time.sleep(0.001)
  end
end

local function start(f)
  local t = Thread{target = f}
  t:start()
  return t
end

describe("threading.Condition", function()
  it("defaults to an RLock and forwards acquire/release/hold/with", function()
    local c = threading.Condition()
    assert.is_true(threading.RLock:is(c._lock))
    assert.is_true(c:acquire())
    assert.is_true(c:acquire())  -- reentrant
    c:release(); c:release()
    assert.is_false(c._lock:locked())
    do
      local _ <close> = c:hold()
      assert.is_true(c._lock:locked())
    end
    assert.is_false(c._lock:locked())
    assert.equal(5, c:with(function(x) return x + 1 end, 4))
    assert.is_false(c._lock:locked())
    assert.is_true(c:acquire(false))
    c:release()
  end)

  it("accepts a lock positionally or as a named field", function()
    local l = threading.Lock()
    assert.equal(l, threading.Condition(l)._lock)
    assert.equal(l, threading.Condition{lock = l}._lock)
  end)

  it("waiting or notifying without the lock is an error", function()
    for _, lock in ipairs{threading.Lock(), threading.RLock()} do
      local c = threading.Condition(lock)
      assert.has_error(function() c:wait() end, "cannot wait on un-acquired lock")
      assert.has_error(function() c:wait(0.01) end, "cannot wait on un-acquired lock")
      assert.has_error(function() c:notify() end, "cannot notify on un-acquired lock")
      assert.has_error(function() c:notify_all() end, "cannot notify on un-acquired lock")
      assert.has_error(function() c:wait_for(function() return false end, 0.01) end,
        "cannot wait on un-acquired lock")
    end
  end)

  it("an RLock held by another thread is not owned by this one", function()
    local c = threading.Condition()
    local held, go = threading.Event(), threading.Event()
    local t = start(function() c:acquire(); held:set(); go:wait(); c:release() end)
    held:wait()
    assert.has_error(function() c:wait(0.01) end, "cannot wait on un-acquired lock")
    go:set(); t:join()
  end)

  it("wait times out with false and holds the lock again", function()
    for _, lock in ipairs{threading.Lock(), threading.RLock()} do
      local c = threading.Condition(lock)
      c:acquire()
      local t0 = time.monotonic()
      assert.is_false(c:wait(0.05))
      assert.is_true(time.monotonic() - t0 >= 0.045)
      assert.is_true(lock:locked())
      assert.is_false(c:wait(0))
      c:release()
      assert.is_false(lock:locked())
    end
  end)

  it("wait releases an RLock fully and restores its depth", function()
    local r = threading.RLock()
    local c = threading.Condition(r)
    r:acquire(); r:acquire(); r:acquire()
    local other_got
    local t = start(function()
      other_got = r:acquire(true, 30)  -- possible only if wait released all levels
      c:notify()
      r:release()
    end)
    assert.is_true(c:wait(30))
    t:join()
    assert.is_true(other_got)
    r:release(); r:release()
    assert.is_true(r:locked())
    r:release()
    assert.is_false(r:locked())
  end)

  it("notify wakes one waiter, in arrival order", function()
    local c = threading.Condition(threading.Lock())
    local order, ts = {}, {}
    for i = 1, 3 do
      ts[i] = start(function()
        c:acquire()
        assert.is_true(c:wait(30))
        order[#order + 1] = i
        c:release()
      end)
      wait_until(function() return cond_waiters(c) == i end)
    end
    for n = 1, 3 do
      c:with(function() c:notify() end)
      ts[n]:join()
      assert.equal(n, #order)
    end
    assert.same({1, 2, 3}, order)
  end)

  it("notify(n), notify_all and notifyAll", function()
    local c = threading.Condition()
    local woke = 0
    local ts = {}
    for i = 1, 5 do
      ts[i] = start(function()
        c:acquire()
        c:wait()
        woke = woke + 1
        c:release()
      end)
    end
    wait_until(function() return cond_waiters(c) == 5 end)
    c:with(function() c:notify(2) end)
    wait_until(function() return cond_waiters(c) == 3 end)
    c:with(function() c:notify(0); c:notify(-1) end)  -- nothing
    assert.equal(3, cond_waiters(c))
    c:with(function() c:notify_all() end)
    for i = 1, 5 do ts[i]:join() end
    assert.equal(5, woke)
    c:with(function() c:notify(); c:notifyAll() end)  -- no waiters: fine
    assert.equal(c.notify_all, c.notifyAll)
  end)

  -- found by scripts/test/argsweep.lua under UBSan: notify counted n down
  -- past math.mininteger (a signed overflow)
  it("notify with math.mininteger wakes nobody", function()
    local c = threading.Condition()
    local t = start(function() c:with(function() c:wait() end) end)
    wait_until(function() return cond_waiters(c) == 1 end)
    c:with(function() c:notify(math.mininteger) end)
    assert.equal(1, cond_waiters(c))
    c:with(function() c:notify(math.maxinteger) end)
    t:join()
    assert.equal(0, cond_waiters(c))
  end)

  it("wait_for returns the predicate's value, with and without timeout", function()
    local c = threading.Condition()
    local value = nil
    c:acquire()
    assert.is_nil(c:wait_for(function() return value end, 0.02))
    assert.equal(false, c:wait_for(function() return false end, 0))
    value = "ready"
    assert.equal("ready", c:wait_for(function() return value end))
    c:release()
    local n = 0
    local t = start(function()
      for _ = 1, 3 do
        c:with(function() n = n + 1; c:notify() end)
      end
    end)
    c:acquire()
    assert.is_true(c:wait_for(function() return n == 3 end, 30))
    c:release()
    t:join()
  end)

  it("works with a lock object that is not a threading lock", function()
    local inner = threading.Lock()
    local calls = {acquire = 0, release = 0}
    local lock = {
      acquire = function(self, ...) calls.acquire = calls.acquire + 1; return inner:acquire(...) end,
      release = function(self) calls.release = calls.release + 1; return inner:release() end,
    }
    local c = threading.Condition(lock)
    assert.has_error(function() c:wait(0.01) end, "cannot wait on un-acquired lock")
    c:acquire()
    assert.is_false(c:wait(0.01))
    assert.is_true(inner:locked())
    local t = start(function() c:acquire(); c:notify(); c:release() end)
    assert.is_true(c:wait(30))
    c:release()
    t:join()
    assert.is_true(calls.acquire >= 4)
  end)

  it("uses _is_owned/_release_save/_acquire_restore of a lock that has them", function()
    local CountingRLock = threading.RLock:extend("CountingRLock")
    local saves = 0
    function CountingRLock:_release_save()
      saves = saves + 1
      return threading.RLock._release_save(self)
    end
    local r = CountingRLock()
    local c = threading.Condition(r)
    r:acquire(); r:acquire()
    assert.is_false(c:wait(0.01))
    assert.equal(1, saves)
    r:release(); r:release()
    assert.is_false(r:locked())
  end)

  it("works with a subclass of Lock that overrides acquire", function()
    local Counting = threading.Lock:extend("CountingLock2")
    function Counting:init() Counting.super.init(self); self.n = 0 end
    function Counting:acquire(...) self.n = self.n + 1; return Counting.super.acquire(self, ...) end
    local l = Counting()
    local c = threading.Condition(l)
    c:acquire()
    assert.is_false(c:wait(0.01))
    c:release()
    assert.is_true(l.n >= 2)  -- once by acquire, again to retake after wait
  end)

  it("checks its arguments", function()
    local c = threading.Condition()
    assert.has_error(function() c:wait("x") end, "bad argument #1 to 'wait' (number expected, got string)")
    c:acquire()
    assert.has_error(function() c:notify("x") end,
      "bad argument #1 to 'notify' (number expected, got string)")
    c:release()
    assert.has_error(function() c:wait_for(1) end,
      "bad argument #1 to 'wait_for' (function expected, got number)")
    assert.has_error(function() threading.Condition(5) end,
      "bad argument #1 to 'Condition' (lock expected, got number)")
    -- an object without acquire and release is refused at once
    for _, notlock in ipairs{queue.Queue(), io.stdout, {lock = queue.Queue()}} do
      local ok, err = pcall(threading.Condition, notlock)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'Condition' (lock expected (an object with acquire and release)",
                     err, 1, true)
    end
  end)

  -- found by scripts/test/argsweep.lua: positioned at threading_sync.lua,
  -- the line that handed the arguments on to the lock
  it("acquire's bad arguments are errors at the caller's line, numbered as its own", function()
    local here = "^spec/threading_sync_spec%.lua:%d+: "
    for _, lock in ipairs{threading.RLock(), threading.Lock()} do
      local c = threading.Condition(lock)
      local ok, err = pcall(function() c:acquire(5) end)
      assert.is_false(ok)
      assert.matches(here .. "bad argument #1 to 'acquire' %(boolean expected, got number%)$", err)
      ok, err = pcall(function() c:acquire(false, 1) end)
      assert.matches(here .. "bad argument #2 to 'acquire' %(can't specify", err)
      assert.is_true(c:acquire(true, 1))
      c:release()
    end
  end)

  -- was positioned at threading_sync.lua, the line that released the lock
  it("release of a lock not held is an error at the caller's line", function()
    local here = "^spec/threading_sync_spec%.lua:%d+: "
    local cases = {{threading.RLock(), "cannot release un%-acquired lock$"},
                   {threading.Lock(), "release unlocked lock$"}}
    for _, case in ipairs(cases) do
      local c = threading.Condition(case[1])
      local ok, err = pcall(function() c:release() end)
      assert.is_false(ok)
      assert.matches(here .. case[2], err)
      ok, err = pcall(function() c:with(function() c:release() end) end)
      assert.is_false(ok)
      assert.matches(here .. case[2], err)
    end
  end)

  it("can be subclassed", function()
    local Cond = threading.Condition:extend("MyCondition")
    function Cond:init() Cond.super.init(self, threading.Lock()); self.tag = "mine" end
    local c = Cond()
    c:acquire()
    assert.is_false(c:wait(0.001))
    c:release()
    assert.equal("mine", c.tag)
    assert.is_true(threading.Condition:is(c))
  end)
end)

describe("threading.Semaphore", function()
  it("counts: acquire blocks at zero, release adds", function()
    local s = threading.Semaphore(2)
    assert.is_true(s:acquire())
    assert.is_true(s:acquire())
    assert.is_false(s:acquire(false))
    s:release()
    assert.is_true(s:acquire(false))
    s:release(3)  -- more than the initial value: fine for Semaphore
    for _ = 1, 3 do assert.is_true(s:acquire(false)) end
    assert.is_false(s:acquire(false))
  end)

  it("defaults to 1 and accepts a named value", function()
    local s = threading.Semaphore()
    assert.is_true(s:acquire(false))
    assert.is_false(s:acquire(false))
    local n = threading.Semaphore{value = 0}
    assert.is_false(n:acquire(false))
  end)

  it("a timeout that expires returns false after waiting", function()
    local s = threading.Semaphore(0)
    local t0 = time.monotonic()
    assert.is_false(s:acquire(true, 0.05))
    assert.is_true(time.monotonic() - t0 >= 0.045)
    assert.is_false(s:acquire(true, 0))
  end)

  it("a blocked acquire is woken by release from another thread", function()
    local s = threading.Semaphore(0)
    local got = {}
    local ts = {}
    for i = 1, 3 do ts[i] = start(function() got[i] = s:acquire(true, 30) end) end
    s:release(3)
    for i = 1, 3 do ts[i]:join(); assert.is_true(got[i]) end
  end)

  it("hold and with", function()
    local s = threading.Semaphore(1)
    do
      local _ <close> = s:hold()
      assert.is_false(s:acquire(false))
    end
    assert.equal("x", s:with(function() return "x" end))
    assert.is_true(s:acquire(false))
  end)

  it("checks its arguments", function()
    local s = threading.Semaphore()
    assert.has_error(function() s:release(0) end,
      "bad argument #1 to 'release' (n must be one or more)")
    assert.has_error(function() s:acquire(false, 1) end,
      "bad argument #2 to 'acquire' (can't specify timeout for non-blocking acquire)")
    assert.has_error(function() s:acquire("x") end,
      "bad argument #1 to 'acquire' (boolean expected, got string)")
    assert.has_error(function() threading.Semaphore(-1) end,
      "bad argument #1 to 'Semaphore' (semaphore initial value must be >= 0)")
    assert.has_error(function() threading.Semaphore("x") end,
      "bad argument #1 to 'Semaphore' (number expected, got string)")
    assert.has_error(function() threading.Semaphore(1.5) end,
      "bad argument #1 to 'Semaphore' (number has no integer representation)")
    assert.has_error(function() threading.Semaphore(math.maxinteger) end,
      "bad argument #1 to 'Semaphore' (semaphore initial value too large (at most 2147483647))")
    -- a count that would overflow is refused, and the value stays as it was
    local big = threading.Semaphore(5)
    assert.has_error(function() big:release(math.maxinteger) end, "Semaphore value too large")
    assert.matches("value=5>", tostring(big))
  end)
end)

describe("threading.BoundedSemaphore", function()
  it("releasing above the initial value is an error", function()
    local s = threading.BoundedSemaphore(2)
    assert.has_error(function() s:release() end, "Semaphore released too many times")
    s:acquire(); s:acquire()
    s:release()
    assert.has_error(function() s:release(2) end, "Semaphore released too many times")
    s:release()
    assert.has_error(function() s:release() end, "Semaphore released too many times")
    assert.is_true(threading.Semaphore:is(s))
    s:acquire()
    assert.has_error(function() s:release(math.maxinteger) end, "Semaphore released too many times")
    assert.is_true(s:acquire(false))  -- one permit left: the failed release added none
    assert.is_false(s:acquire(false))
  end)

  it("defaults to 1", function()
    local s = threading.BoundedSemaphore()
    s:acquire()
    assert.is_false(s:acquire(false))
    s:release()
    assert.has_error(function() s:release() end, "Semaphore released too many times")
  end)
end)

describe("threading.Event", function()
  it("set, clear, is_set and isSet", function()
    local e = threading.Event()
    assert.is_false(e:is_set())
    e:set()
    assert.is_true(e:is_set())
    assert.is_true(e:isSet())
    e:set()  -- twice is fine
    e:clear()
    assert.is_false(e:is_set())
  end)

  it("wait returns true at once when set, false on timeout", function()
    local e = threading.Event()
    local t0 = time.monotonic()
    assert.is_false(e:wait(0.05))
    assert.is_true(time.monotonic() - t0 >= 0.045)
    assert.is_false(e:wait(0))
    e:set()
    assert.is_true(e:wait())
    assert.is_true(e:wait(0))
  end)

  it("set wakes every waiter", function()
    local e = threading.Event()
    local got, ts = {}, {}
    for i = 1, 4 do ts[i] = start(function() got[i] = e:wait(30) end) end
    e:set()
    for i = 1, 4 do ts[i]:join(); assert.is_true(got[i]) end
  end)

  it("a waiter woken by set returns true even if clear came first", function()
    local e = threading.Event()
    local got
    local t = start(function() got = e:wait(30) end)
    -- set and clear only once the waiter sleeps in wait: one that came to
    -- wait after them would wait the 30 s and return false
    wait_until(function() return event_sleepers(e) == 1 end)
    e:set(); e:clear()
    t:join()
    assert.is_true(got)
  end)

  it("checks its arguments", function()
    assert.has_error(function() threading.Event():wait("x") end,
      "bad argument #1 to 'wait' (number expected, got string)")
    assert.has_error(function() threading.Event.set(42) end)
  end)
end)

describe("threading.Timer", function()
  it("calls the function with args and kwargs after the interval", function()
    local got
    local t = threading.Timer(0.01, function(a, b, kw) got = {a, b, kw.k} end, {1, 2}, {k = 3})
    assert.is_true(Thread:is(t))
    t:start()
    assert.is_true(t:join(30))
    assert.same({1, 2, 3}, got)
    assert.is_true(t.finished:is_set())
  end)

  it("accepts named fields", function()
    local got
    local t = threading.Timer{interval = 0, ["function"] = function(x) got = x end,
                              args = {"named"}, name = "tm"}
    assert.equal("tm", t.name)
    t:start(); t:join()
    assert.equal("named", got)
  end)

  it("cancel before the interval ends stops the call", function()
    local called = false
    local t = threading.Timer(30, function() called = true end)
    t:start()
    t:cancel()
    assert.is_true(t:join(30))
    assert.is_false(called)
  end)

  it("cancel after the call does nothing", function()
    local n = 0
    local t = threading.Timer(0, function() n = n + 1 end)
    t:start(); t:join()
    t:cancel()
    assert.equal(1, n)
  end)

  it("checks its arguments", function()
    assert.has_error(function() threading.Timer("x", print) end,
      "bad argument #1 to 'Timer' (number expected, got string)")
    assert.has_error(function() threading.Timer(1, 2) end,
      "bad argument #2 to 'Timer' (function expected, got number)")
    assert.has_error(function() threading.Timer(1, print, 3) end,
      "bad argument #3 to 'Timer' (table expected, got number)")
    assert.has_error(function() threading.Timer(0/0, print) end,
      "bad argument #1 to 'Timer' (interval must be a number, not nan)")
  end)

  it("the named form's errors are argument #1, naming the field", function()
    assert.has_error(function() threading.Timer{interval = 1, ["function"] = 2} end,
      "bad argument #1 to 'Timer' (field 'function': function expected, got number)")
    assert.has_error(function() threading.Timer{interval = 1, target = 2} end,
      "bad argument #1 to 'Timer' (field 'target': function expected, got number)")
    assert.has_error(function() threading.Timer{interval = 1, target = print, kwargs = 3} end,
      "bad argument #1 to 'Timer' (field 'kwargs': table expected, got number)")
    assert.has_error(function() threading.Timer{target = print} end,
      "bad argument #1 to 'Timer' (field 'interval': number expected, got no value)")
  end)

  it("rejects unknown named fields and stray arguments", function()
    assert.has_error(function() threading.Timer{interval = 1, func = print} end,
      "bad argument #1 to 'Timer' (unexpected field 'func')")
    assert.has_error(function() threading.Timer(1, print, {}, {}, 5) end,
      "bad argument #5 to 'Timer' (at most 4 arguments expected, got 5)")
    -- the named form's documented fields, target as another name for function
    local t = threading.Timer{interval = 0, target = print, args = {}, kwargs = {},
                              name = "tm2", daemon = true}
    assert.are.equal(print, t["function"])
    assert.is_true(t.daemon)
  end)

  it("scales its interval by CTHREADS_TIME_SCALE", function()
    local proc = require("proc")
    local out, err, code = proc.run{"-e", [[
      local t0 = time.monotonic()
      local tm = threading.Timer(20, function() print("fired") end)
      tm:start(); tm:join()
      print(time.monotonic() - t0 < 10)
    ]], env = {CTHREADS_TIME_SCALE = "0.001"}}
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("fired\ntrue\n", out)
  end)
end)

describe("threading constructors", function()
  it("reject unknown named fields and stray arguments, as Python's TypeError", function()
    local cases = {
      {"Condition", function() threading.Condition{lok = threading.Lock()} end,
       "bad argument #1 to 'Condition' (unexpected field 'lok')"},
      {"Condition", function() threading.Condition(threading.Lock(), 1) end,
       "bad argument #2 to 'Condition' (at most 1 argument expected, got 2)"},
      {"Semaphore", function() threading.Semaphore{valu = 2} end,
       "bad argument #1 to 'Semaphore' (unexpected field 'valu')"},
      {"Semaphore", function() threading.Semaphore(1, 2) end,
       "bad argument #2 to 'Semaphore' (at most 1 argument expected, got 2)"},
      {"BoundedSemaphore", function() threading.BoundedSemaphore{value = 1, extra = 1} end,
       "bad argument #1 to 'BoundedSemaphore' (unexpected field 'extra')"},
      {"BoundedSemaphore", function() threading.BoundedSemaphore(1, nil, 3) end,
       "bad argument #3 to 'BoundedSemaphore' (at most 1 argument expected, got 3)"},
      {"Event", function() threading.Event{x = 1} end,
       "bad argument #1 to 'Event' (unexpected field 'x')"},
      {"Event", function() threading.Event(5) end,
       "bad argument #1 to 'Event' (no arguments expected, got 1)"},
    }
    for _, c in ipairs(cases) do
      assert.has_error(c[2], c[3])
    end
    -- at the caller's line
    local ok, err = pcall(function() threading.Event(1) end) local line = debug.getinfo(1, "l").currentline
    assert.is_false(ok)
    assert.matches(("threading_sync_spec.lua:%d: bad argument #1 to 'Event'"):format(line), err)
  end)

  it("keep their documented forms, trailing nils and plain-table locks", function()
    local l = threading.Lock()
    assert.are.equal(l, threading.Condition{lock = l}._lock)
    assert.are.equal(l, threading.Condition(l, nil)._lock)
    threading.Condition{}
    -- a lock made of a plain table with acquire and release is positional
    local plain = {acquire = function() return true end, release = function() end}
    assert.are.equal(plain, threading.Condition(plain)._lock)
    assert.is_true(threading.Semaphore{value = 0}:acquire(false) == false)
    assert.is_true(threading.BoundedSemaphore(2, nil):acquire(false))
    threading.Event(nil)
    threading.Event{}
  end)

  it("check a subclass's init by what it passes on, not by its own arguments", function()
    local Sem = threading.Semaphore:extend("NamedSem")
    function Sem:init(name, value, extra) Sem.super.init(self, value); self.label = name end
    local s = Sem("slots", 2, "ignored")
    assert.are.equal("slots", s.label)
    assert.is_true(s:acquire(false)); assert.is_true(s:acquire(false))
    assert.is_false(s:acquire(false))
    local Ev = threading.Event:extend("TaggedEvent")
    function Ev:init(tag) Ev.super.init(self); self.tag = tag end
    assert.are.equal("t", Ev("t").tag)
    local Bad = threading.Event:extend("BadEvent")
    function Bad:init(tag) Bad.super.init(self, tag) end
    assert.has_error(function() Bad("t") end,
      "bad argument #1 to 'Event' (no arguments expected, got 1)")
  end)
end)

describe("synchronisation waits and Ctrl-C", function()
  it("Event, Semaphore and Condition waits in the main thread raise 'interrupted!'", function()
    local proc = require("proc")
    local out, err, code = proc.lua([[
      local native = threading._native
      -- calls f(x) in pcall; another thread sends SIGINT once this one is
      -- asleep in the wait (asleep(x) says so; up to 30 s), not after a
      -- fixed delay: a Ctrl-C that came before the pcall would end the
      -- script. The thread starts inside the pcall all the same.
      local function try(f, x, asleep)
        local t = threading.Thread{target = function()
          local t0 = time.monotonic()
          while not asleep(x) and time.monotonic() - t0 < 30 do time.sleep(0.001) end
          time.sleep(0.01)  -- from counted as asleep to inside the futex wait
          io.popen("kill -INT " .. os.getpid()):close()
        end}
        local ok, e = pcall(function() t:start() return f(x) end)
        t:join()
        print(ok, (tostring(e):match("interrupted!")))
      end
      local e = threading.Event()
      try(e.wait, e, function(x) return native.event_sleepers(x) == 1 end)
      local s = threading.Semaphore(0)
      try(s.acquire, s, function(x) return native.sem_sleepers(x) == 1 end)
      local c = threading.Condition(threading.Lock())
      c:acquire()
      try(c.wait, c, function(x) return native.cond_waiters(x) == 1 end)
      print(c._lock:locked(), threading._native.cond_waiters(c))
      c:release()
    ]])
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("false\tinterrupted!\nfalse\tinterrupted!\nfalse\tinterrupted!\ntrue\t0\n", out)
  end)
end)
