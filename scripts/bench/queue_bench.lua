-- Queue and synchronisation benchmarks (the Python twin is queue_bench.py;
-- scripts/bench/queue.sh runs both and prints the ratios).
--   cthreads --gil scripts/bench/queue_bench.lua [scale] [name,name...]
-- Prints one line per figure: name, value, unit; with names, only those
-- (scripts/bench/queue_ab.sh compares two builds this way).
local scale = tonumber(arg and arg[1]) or 1
local only = nil
if arg and arg[2] then
  only = {}
  for name in arg[2]:gmatch("[^,]+") do only[name] = true end
end
local N_ITEMS = math.floor(200000 * scale)   -- throughput runs
local N_ROUND = math.floor(20000 * scale)    -- ping-pong round trips
local N_LOCK = math.floor(200000 * scale)    -- lock acquisitions per thread
local REPEAT = 3                             -- best of

local clock = time.perf_counter
local Thread = threading.Thread

local function best(f)
  local b = math.huge
  for _ = 1, REPEAT do
    local dt = f()
    if dt < b then b = dt end
  end
  return b
end

local function report(name, value, unit)
  print(("%s\t%.6g\t%s"):format(name, value, unit))
end

-- 1 producer -> 1 consumer
local function throughput(maxsize)
  return best(function()
    local q = queue.Queue(maxsize)
    local n = N_ITEMS
    local producer = Thread{target = function()
      for i = 1, n do q:put(i) end
    end}
    local t0 = clock()
    producer:start()
    for _ = 1, n do q:get() end
    local dt = clock() - t0
    producer:join()
    return dt
  end)
end

local function pingpong_queues()
  return best(function()
    local q1, q2 = queue.Queue(), queue.Queue()
    local n = N_ROUND
    local echo = Thread{target = function()
      for _ = 1, n do q2:put(q1:get()) end
    end}
    echo:start()
    local t0 = clock()
    for i = 1, n do
      q1:put(i)
      q2:get()
    end
    local dt = clock() - t0
    echo:join()
    return dt
  end)
end

local function pingpong_events()
  return best(function()
    local ping, pong = threading.Event(), threading.Event()
    local n = N_ROUND
    local echo = Thread{target = function()
      for _ = 1, n do
        ping:wait(); ping:clear()
        pong:set()
      end
    end}
    echo:start()
    local t0 = clock()
    for _ = 1, n do
      ping:set()
      pong:wait(); pong:clear()
    end
    local dt = clock() - t0
    echo:join()
    return dt
  end)
end

local function pingpong_condition()
  return best(function()
    local cv = threading.Condition()
    local turn = 0  -- 1: the echo thread's turn
    local n = N_ROUND
    local echo = Thread{target = function()
      cv:acquire()
      for _ = 1, n do
        while turn ~= 1 do cv:wait() end
        turn = 0
        cv:notify()
      end
      cv:release()
    end}
    echo:start()
    local t0 = clock()
    cv:acquire()
    for _ = 1, n do
      turn = 1
      cv:notify()
      while turn ~= 0 do cv:wait() end
    end
    cv:release()
    local dt = clock() - t0
    echo:join()
    return dt
  end)
end

local function contended_lock()
  return best(function()
    local lock = threading.Lock()
    local count = 0
    local n = N_LOCK
    local function work()
      for _ = 1, n do
        lock:acquire()
        count = count + 1
        lock:release()
      end
    end
    local other = Thread{target = work}
    local t0 = clock()
    other:start()
    work()
    other:join()
    local dt = clock() - t0
    assert(count == 2 * n)
    return dt
  end)
end

local benchmarks = {
  {"queue_throughput_unbounded", function() return N_ITEMS / throughput(0) end, "items/s"},
  {"queue_throughput_maxsize100", function() return N_ITEMS / throughput(100) end, "items/s"},
  {"pingpong_queue", function() return pingpong_queues() / N_ROUND * 1e6 end, "us/round-trip"},
  {"pingpong_event", function() return pingpong_events() / N_ROUND * 1e6 end, "us/round-trip"},
  {"pingpong_condition", function() return pingpong_condition() / N_ROUND * 1e6 end, "us/round-trip"},
  {"lock_contended_2threads", function() return 2 * N_LOCK / contended_lock() end, "acquires/s"},
}
for _, b in ipairs(benchmarks) do
  if only == nil or only[b[1]] then report(b[1], b[2](), b[3]) end
end
