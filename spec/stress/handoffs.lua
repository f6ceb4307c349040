-- Stress: hand-offs through a Condition and a bounded queue are exact.
-- Condition (on its default RLock, taken twice, and on a Lock): N-1 threads
-- wait while one thread notifies 1, 2 or all under the lock, first with
-- plain waits, then with some of them timing out. Plain waits: the
-- notifier knows how many waiters are in the condition's list (each
-- registers under the lock before waiting), so notify(k) wakes exactly
-- min(k, listed): never more woken than notified, none left at the end.
-- With timeouts (a waiter that times out may still be counted as listed
-- for a moment) only the bound holds: never more woken than notified.
-- Queue: half the threads put numbered items into a Queue(4), half take
-- them, both sides with short timeouts; every item arrives exactly once.
-- usage: cthreads handoffs.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("handoffs")

local ROUNDS = H.ops(400)         -- waits per waiting thread, per condition
local ITEMS = H.ops(4000)         -- items per producer

local fail, check = H.fail, H.check

-- one phase on 'cv': N-1 waiters, one notifier; 'timed': some waits time out
local function condition_rounds(name, cv, reenter, timed)
  local listed, granted, woken, timeouts, finished = 0, 0, 0, 0, 0
  local waiters = N - 1
  local function waiter(tid)
    for r = 1, ROUNDS do
      cv:acquire()
      if reenter then cv:acquire() end
      listed = listed + 1
      local timeout = timed and (r + tid) % 3 == 0 and 0.0005 or nil
      local got = cv:wait(timeout)
      if got then
        woken = woken + 1
        check(woken <= granted, "%s: %d woken, only %d notified", name, woken, granted)
      else
        check(timeout ~= nil, "%s: a wait without timeout returned false", name)
        timeouts = timeouts + 1
      end
      if timed then listed = listed - 1 end  -- it returned: not listed now
      if reenter then cv:release() end
      cv:release()
    end
    cv:acquire()
    finished = finished + 1
    cv:release()
  end
  local function notifier()
    local k = 0
    while true do
      cv:acquire()
      if finished == waiters then cv:release(); break end
      k = k % 3 + 1
      local n = listed
      if k == 3 then cv:notify_all() else cv:notify(k); n = math.min(k, listed) end
      if not timed then listed = listed - n end  -- exactly these left the list
      granted = granted + n
      cv:release()
      if n == 0 then time.sleep(0) end
    end
  end
  H.run(N, function(tid)
    if tid == 1 then notifier() else waiter(tid) end
  end)
  check(woken + timeouts == waiters * ROUNDS, "%s: %d + %d waits, %d expected",
        name, woken, timeouts, waiters * ROUNDS)
  if not timed then
    check(woken == granted, "%s: %d woken, %d notified", name, woken, granted)
    check(listed == 0, "%s: %d still listed", name, listed)
  end
end

if N >= 2 then
  for _, timed in ipairs{false, true} do
    local suffix = timed and ", timeouts" or ""
    condition_rounds("Condition(RLock)" .. suffix, threading.Condition(), true, timed)
    condition_rounds("Condition(Lock)" .. suffix,
                     threading.Condition(threading.Lock()), false, timed)
  end
end

-- queue: producers and consumers with timeouts
do
  local q = queue.Queue(4)
  local producers = math.max(N // 2, 1)
  local consumers = math.max(N - producers, 1)
  local seen = {}
  local seen_lock = threading.Lock()
  local taken = 0
  local function producer(p)
    for i = 1, ITEMS do
      local item = p * ITEMS + i
      while true do
        local ok, err = pcall(q.put, q, item, true, 0.0005)
        if ok then break end
        if err ~= queue.Full then fail("put raised %s", tostring(err)); return end
      end
    end
  end
  local function consumer()
    while true do
      local ok, item = pcall(q.get, q, true, 0.0005)
      if ok then
        if item == false then return end
        seen_lock:acquire()
        check(seen[item] == nil, "item %s taken twice", tostring(item))
        seen[item] = true
        taken = taken + 1
        seen_lock:release()
      elseif item ~= queue.Empty then
        fail("get raised %s", tostring(item)); return
      end
    end
  end
  local workers = {}
  for c = 1, consumers do
    workers[c] = threading.Thread{target = consumer}
    workers[c]:start()
  end
  H.run(producers, producer)
  for _ = 1, consumers do q:put(false) end
  for c = 1, consumers do workers[c]:join() end
  check(taken == producers * ITEMS, "queue: %d items taken, %d put", taken,
        producers * ITEMS)
end

H.finish(("%d waits per waiter, %d items per producer"):format(ROUNDS, ITEMS))
