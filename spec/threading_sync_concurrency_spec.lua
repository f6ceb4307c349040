-- Condition, Semaphore, Event and Barrier under many threads: counts and
-- invariants only, never timings. scripts/test/sync_repeat.sh runs this
-- file 20 times in a row.

local Thread = threading.Thread

local function run_threads(n, f)
  local ts, errs = {}, {}
  for i = 1, n do
    ts[i] = Thread{target = function()
      local ok, err = pcall(f, i)
      if not ok then errs[#errs + 1] = tostring(err) end
    end}
    ts[i]:start()
  end
  for i = 1, n do ts[i]:join() end
  assert.same({}, errs)
end

describe("Condition under load", function()
  for _, kind in ipairs{"Lock", "RLock"} do
    it("a bounded buffer on a Condition(" .. kind .. ") loses nothing", function()
      local c = threading.Condition(threading[kind]())
      local buf, cap = {}, 4
      local n, producers, consumers = 2000, 3, 3
      local taken = {}
      local finished = 0
      local ps = {}
      for p = 1, producers do
        ps[p] = Thread{target = function()
          for i = 1, n do
            c:acquire()
            while #buf >= cap do c:wait() end
            buf[#buf + 1] = p * 100000 + i
            c:notify_all()
            c:release()
          end
          c:with(function() finished = finished + 1; c:notify_all() end)
        end}
        ps[p]:start()
      end
      local cs = {}
      for k = 1, consumers do
        local mine = {}
        taken[k] = mine
        cs[k] = Thread{target = function()
          while true do
            c:acquire()
            c:wait_for(function() return #buf > 0 or finished == producers end)
            if #buf == 0 then c:release(); return end
            mine[#mine + 1] = table.remove(buf, 1)
            c:notify_all()
            c:release()
          end
        end}
        cs[k]:start()
      end
      for _, t in ipairs(ps) do t:join() end
      for _, t in ipairs(cs) do t:join() end
      local seen, count = {}, 0
      for _, list in ipairs(taken) do
        for _, item in ipairs(list) do
          assert(not seen[item], "taken twice")
          seen[item] = true
          count = count + 1
        end
      end
      assert.equal(producers * n, count)
    end)
  end

  it("notify(1) hand-offs with timeouts racing never lose a wake-up", function()
    local c = threading.Condition(threading.Lock())
    local tokens, n = 0, 3000
    local got = {0, 0, 0}
    run_threads(4, function(i)
      if i == 4 then
        for _ = 1, n do
          c:acquire(); tokens = tokens + 1; c:notify(); c:release()
        end
        return
      end
      while true do
        c:acquire()
        while tokens == 0 and (got[1] + got[2] + got[3]) < n do
          c:wait(0.001)
        end
        if tokens == 0 then c:release(); return end
        tokens = tokens - 1
        got[i] = got[i] + 1
        c:release()
      end
    end)
    assert.equal(n, got[1] + got[2] + got[3])
    assert.equal(0, tokens)
  end)
end)

describe("Semaphore under load", function()
  it("never lets more than its value in at once", function()
    local s = threading.BoundedSemaphore(3)
    local inside, max_inside = 0, 0
    local count_lock = threading.Lock()
    run_threads(8, function()
      for _ = 1, 300 do
        s:acquire()
        count_lock:acquire()
        inside = inside + 1
        if inside > max_inside then max_inside = inside end
        count_lock:release()
        if inside % 2 == 0 then time.sleep(0) end
        count_lock:acquire()
        inside = inside - 1
        count_lock:release()
        s:release()
      end
    end)
    assert.is_true(max_inside <= 3)
    assert.equal(0, inside)
    for _ = 1, 3 do assert.is_true(s:acquire(false)) end
    assert.is_false(s:acquire(false))
  end)

  it("releases and timed acquires balance exactly", function()
    local s = threading.Semaphore(0)
    local acquired = {0, 0, 0}
    local released = 0
    run_threads(4, function(i)
      if i == 4 then
        for _ = 1, 3000 do s:release(); released = released + 1 end
        return
      end
      local misses = 0
      while misses < 200 do
        if s:acquire(true, 0.002) then
          acquired[i] = acquired[i] + 1
          misses = 0
        elseif released == 3000 then
          misses = misses + 1
        end
      end
    end)
    assert.equal(3000, acquired[1] + acquired[2] + acquired[3])
    assert.is_false(s:acquire(false))
  end)
end)

describe("Event under load", function()
  it("rounds of set/clear release every waiter each round", function()
    local rounds, nwaiters = 200, 3
    local go = {}
    for r = 1, rounds do go[r] = threading.Event() end
    local arrived = threading.Semaphore(0)
    local passed = 0
    local lock = threading.Lock()
    local ts = {}
    for i = 1, nwaiters do
      ts[i] = Thread{target = function()
        for r = 1, rounds do
          arrived:release()
          assert(go[r]:wait(30))
          lock:with(function() passed = passed + 1 end)
        end
      end}
      ts[i]:start()
    end
    for r = 1, rounds do
      for _ = 1, nwaiters do arrived:acquire() end
      go[r]:set()
    end
    for i = 1, nwaiters do ts[i]:join() end
    assert.equal(rounds * nwaiters, passed)
  end)

  it("ping-pong through two events keeps strict alternation", function()
    local ping, pong = threading.Event(), threading.Event()
    local log = {}
    local n = 2000
    local t = Thread{target = function()
      for i = 1, n do
        ping:wait(); ping:clear()
        log[#log + 1] = -i
        pong:set()
      end
    end}
    t:start()
    for i = 1, n do
      log[#log + 1] = i
      ping:set()
      pong:wait(); pong:clear()
    end
    t:join()
    for i = 1, n do
      assert.equal(i, log[2 * i - 1])
      assert.equal(-i, log[2 * i])
    end
  end)
end)

describe("Barrier under load", function()
  it("many rounds with an action: every round complete", function()
    local parties, rounds = 4, 200
    local actions = 0
    local b = threading.Barrier(parties, function() actions = actions + 1 end)
    local arrivals = {}
    local lock = threading.Lock()
    run_threads(parties, function()
      for r = 1, rounds do
        lock:with(function() arrivals[r] = (arrivals[r] or 0) + 1 end)
        b:wait()
        assert(arrivals[r] == parties, "released before all arrived")
      end
    end)
    assert.equal(rounds, actions)
  end)
end)
