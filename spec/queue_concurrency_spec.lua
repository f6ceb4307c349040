-- The queue under many threads: nothing lost, nothing duplicated (every
-- item counted and checksummed), task_done/join, shutdown while threads
-- are blocked. Deterministic asserts only. scripts/test/sync_repeat.sh
-- runs this file 20 times in a row.

local Thread = threading.Thread

local function start(f, ...)
  local t = Thread{target = f, args = table.pack(...)}
  t:start()
  return t
end

-- checks that the lists of items taken hold every item in 'expected'
-- (a set of item -> true) exactly once
local function check_all_once(taken_lists, expected, expected_count)
  local seen, count, sum, want_sum = {}, 0, 0, 0
  for item in pairs(expected) do want_sum = want_sum + item end
  for _, list in ipairs(taken_lists) do
    for _, item in ipairs(list) do
      assert(not seen[item], "item taken twice: " .. tostring(item))
      assert(expected[item], "item never put: " .. tostring(item))
      seen[item] = true
      count = count + 1
      sum = sum + item
    end
  end
  assert.equal(expected_count, count)
  assert.equal(want_sum, sum)
end

-- producers put n items each (item = producer * 1e6 + i); consumers take
-- until they get one sentinel each (ending = "sentinel") or until the
-- queue is shut down after the producers end (ending = "shutdown")
local function run(Class, maxsize, producers, consumers, n, ending)
  local q = Class(maxsize)
  local SENTINEL = {}
  local taken = {}
  local cthreads, pthreads = {}, {}
  for c = 1, consumers do
    local mine = {}
    taken[c] = mine
    cthreads[c] = start(function()
      while true do
        local ok, item = pcall(q.get, q)
        if not ok then
          assert(item == queue.ShutDown, tostring(item))
          return
        end
        if item == SENTINEL then return end
        mine[#mine + 1] = item
      end
    end)
  end
  local expected = {}
  for p = 1, producers do
    for i = 1, n do expected[p * 1000000 + i] = true end
    pthreads[p] = start(function()
      for i = 1, n do q:put(p * 1000000 + i) end
    end)
  end
  for _, t in ipairs(pthreads) do t:join() end
  if ending == "shutdown" then
    q:shutdown()
  else
    for _ = 1, consumers do q:put(SENTINEL) end
  end
  for _, t in ipairs(cthreads) do t:join() end
  check_all_once(taken, expected, producers * n)
  assert.equal(0, q:qsize())
end

describe("queue producers and consumers", function()
  local N = 4000
  for _, case in ipairs{
    {"1:1", 1, 1}, {"2:2", 2, 2}, {"4:1", 4, 1}, {"1:4", 1, 4},
  } do
    local name, np, nc = case[1], case[2], case[3]
    it(name .. " unbounded Queue, nothing lost or duplicated", function()
      run(queue.Queue, 0, np, nc, N, "sentinel")
    end)
    it(name .. " Queue(maxsize=10), nothing lost or duplicated", function()
      run(queue.Queue, 10, np, nc, N, "sentinel")
    end)
    it(name .. " Queue(maxsize=1), ended by shutdown", function()
      run(queue.Queue, 1, np, nc, N // 8, "shutdown")
    end)
  end
  it("2:2 LifoQueue(maxsize=5)", function()
    run(queue.LifoQueue, 5, 2, 2, N, "shutdown")
  end)
  it("2:2 PriorityQueue(maxsize=5)", function()
    run(queue.PriorityQueue, 5, 2, 2, N, "shutdown")
  end)
  it("2:2 SimpleQueue", function()
    run(function() return queue.SimpleQueue() end, nil, 2, 2, N, "sentinel")
  end)
end)

describe("queue timeouts racing with puts", function()
  it("consumers polling with short timeouts lose nothing", function()
    local q = queue.Queue(8)
    local n, producers, consumers = 3000, 2, 3
    local done = false
    local taken, cthreads, pthreads, expected = {}, {}, {}, {}
    for c = 1, consumers do
      local mine = {}
      taken[c] = mine
      cthreads[c] = start(function()
        while true do
          local ok, item = pcall(q.get, q, true, 0.0005)
          if ok then
            mine[#mine + 1] = item
          else
            assert(item == queue.Empty, tostring(item))
            if done and q:empty() then return end
          end
        end
      end)
    end
    for p = 1, producers do
      for i = 1, n do expected[p * 1000000 + i] = true end
      pthreads[p] = start(function()
        for i = 1, n do
          local item = p * 1000000 + i
          while true do  -- put with a short timeout, retried on Full
            local ok, err = pcall(q.put, q, item, true, 0.0005)
            if ok then break end
            assert(err == queue.Full, tostring(err))
          end
        end
      end)
    end
    for _, t in ipairs(pthreads) do t:join() end
    done = true
    for _, t in ipairs(cthreads) do t:join() end
    check_all_once(taken, expected, producers * n)
  end)

  it("non-blocking get_nowait/put_nowait loops lose nothing", function()
    local q = queue.Queue(4)
    local n = 3000
    local taken = {}
    local producer = start(function()
      for i = 1, n do
        while not pcall(q.put_nowait, q, i) do time.sleep(0) end
      end
    end)
    local consumer = start(function()
      while #taken < n do
        local ok, item = pcall(q.get_nowait, q)
        if ok then taken[#taken + 1] = item else time.sleep(0) end
      end
    end)
    producer:join(); consumer:join()
    local expected = {}
    for i = 1, n do expected[i] = true end
    check_all_once({taken}, expected, n)
    for i = 1, n do assert.equal(i, taken[i]) end  -- FIFO with one of each
  end)
end)

describe("queue task_done and join with workers", function()
  it("join returns once every item is processed", function()
    local q = queue.Queue()
    local processed = {0, 0, 0, 0}
    local workers = {}
    for w = 1, 4 do
      workers[w] = Thread{daemon = true, target = function()
        while true do
          local ok, item = pcall(q.get, q)
          if not ok then return end  -- ShutDown at the end
          processed[w] = processed[w] + item
          q:task_done()
        end
      end}
      workers[w]:start()
    end
    for round = 1, 5 do
      for i = 1, 1000 do q:put(1) end
      q:join()
      local total = 0
      for w = 1, 4 do total = total + processed[w] end
      assert.equal(round * 1000, total)
    end
    q:shutdown()
    for w = 1, 4 do workers[w]:join() end
  end)

  it("several joiners are all released", function()
    local q = queue.Queue(3)
    local joiners = {}
    local released = {}
    for i = 1, 3 do
      q:put(i)
      joiners[i] = start(function() q:join(); released[i] = true end)
    end
    for _ = 1, 3 do q:get(); q:task_done() end
    for i = 1, 3 do joiners[i]:join(); assert.is_true(released[i]) end
  end)
end)

describe("queue shutdown under load", function()
  it("blocked putters and getters all end; every item put is taken once", function()
    local q = queue.Queue(2)
    local n = 2000
    local put_ok, taken = {}, {}
    local pthreads, cthreads = {}, {}
    for p = 1, 3 do
      local mine = {}
      put_ok[p] = mine
      pthreads[p] = start(function()
        for i = 1, n do
          local item = p * 1000000 + i
          local ok, err = pcall(q.put, q, item)
          if not ok then
            assert(err == queue.ShutDown, tostring(err))
            return
          end
          mine[#mine + 1] = item
        end
      end)
    end
    -- the consumer that takes the 500th item in all shuts the queue down
    -- mid-stream (counting per consumer could leave both waiting forever
    -- when one of them takes nearly everything)
    local total, total_lock = 0, threading.Lock()
    for c = 1, 2 do
      local mine = {}
      taken[c] = mine
      cthreads[c] = start(function()
        while true do
          local ok, item = pcall(q.get, q)
          if not ok then
            assert(item == queue.ShutDown, tostring(item))
            return
          end
          mine[#mine + 1] = item
          local last = total_lock:with(function() total = total + 1; return total == 500 end)
          if last then q:shutdown() end
        end
      end)
    end
    for _, t in ipairs(pthreads) do t:join() end
    for _, t in ipairs(cthreads) do t:join() end
    local expected, count = {}, 0
    for _, list in ipairs(put_ok) do
      for _, item in ipairs(list) do expected[item] = true; count = count + 1 end
    end
    check_all_once(taken, expected, count)
    assert.equal(0, q:qsize())
  end)

  it("immediate shutdown ends blocked getters at once and drops the rest", function()
    local q = queue.Queue()
    local errs, cthreads = {}, {}
    for c = 1, 4 do
      cthreads[c] = start(function()
        local ok, err = pcall(q.get, q)
        errs[c] = ok and "no error" or err
      end)
    end
    local t0 = time.monotonic()
    while select(1, queue._waiting(q)) < 4 do
      assert(time.monotonic() - t0 < 30)
      time.sleep(0.001)
    end
    q:shutdown(true)
    for c = 1, 4 do cthreads[c]:join(); assert.equal(queue.ShutDown, errs[c]) end
  end)
end)
