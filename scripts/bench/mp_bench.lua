-- multiprocessing benchmarks, the twin of mp_bench.py (run both with
-- mp_bench.sh, which prints the ratios). Each line: name, value, unit,
-- "higher" or "lower" (which way is better). Best of REPEAT runs.
-- usage: cthreads mp_bench.lua [scale]   (scale < 1 for a quick run)
local mp = multiprocessing
local now = time.perf_counter
local scale = tonumber(arg and arg[1]) or 1
local REPEAT = 5

local function best(f)
  local b
  for _ = 1, REPEAT do
    local v = f()
    if b == nil or v < b then b = v end
  end
  return b
end

local function report(name, value, unit, better)
  print(("%s\t%.6g\t%s\t%s"):format(name, value, unit, better))
  io.stdout:flush()
end

local function noop() end

-- process start + join
local N = math.max(10, math.floor(100 * scale))
report("process start+join", best(function()
  local t0 = now()
  for _ = 1, N do
    local p = mp.Process{target = noop}
    p:start()
    p:join()
  end
  return (now() - t0) / N * 1e3
end), "ms", "lower")

-- Queue throughput between two processes
local M = math.max(1000, math.floor(100000 * scale))
report("Queue throughput", 1 / best(function()
  local q = mp.Queue()
  local t0 = now()
  local p = mp.Process{target = function()
    for i = 1, M do q:put(i) end
    q:put(nil)
  end}
  p:start()
  while q:get() ~= nil do end
  p:join()
  return (now() - t0) / M
end), "items/s", "higher")

-- Pipe throughput between two processes
report("Pipe throughput", 1 / best(function()
  local a, b = mp.Pipe()
  local t0 = now()
  local p = mp.Process{target = function()
    for i = 1, M do b:send(i) end
    b:send(nil)
  end}
  p:start()
  while a:recv() ~= nil do end
  p:join()
  a:close()
  b:close()
  return (now() - t0) / M
end), "msgs/s", "higher")

local function double(x) return x * 2 end
local pool = mp.Pool(2)
pool:map(double, {1, 2, 3})

-- Pool(2):map over 100,000 items
local items = {}
for i = 1, math.max(1000, math.floor(100000 * scale)) do items[i] = i end
report("Pool(2).map 100k items", best(function()
  local t0 = now()
  local r = pool:map(double, items)
  assert(#r == #items)
  return (now() - t0) * 1e3
end), "ms", "lower")

-- 1,000 apply_async calls
local K = math.max(100, math.floor(1000 * scale))
report("1000 apply_async", best(function()
  local t0 = now()
  local rs = {}
  for i = 1, K do rs[i] = pool:apply_async(double, {i}) end
  for i = 1, K do assert(rs[i]:get() == 2 * i) end
  return (now() - t0) * 1e3
end), "ms", "lower")
pool:close()
pool:join()

-- Manager dict operations (a set and a get each)
local manager = mp.Manager()
local d = manager:dict()
local D = math.max(200, math.floor(2000 * scale))
report("Manager dict ops", 1 / best(function()
  local t0 = now()
  for i = 1, D do d[i] = i end
  for i = 1, D do assert(d[i] == i) end
  return (now() - t0) / (2 * D)
end), "ops/s", "higher")
manager:shutdown()

-- the CPU-bound demo: count(n) in two processes at once, against one call
local C = math.floor(30000000 * scale)
local function count(n)
  local res = 0
  for i = 1, n do res = res + i end
  return res
end
report("CPU demo: 2 processes / 1 call", best(function()
  local t0 = now()
  count(C)
  local one = now() - t0
  t0 = now()
  local ps = {}
  for i = 1, 2 do
    ps[i] = mp.Process{target = count, args = {C}}
    ps[i]:start()
  end
  for i = 1, 2 do ps[i]:join() end
  return (now() - t0) / one
end), "x", "lower")
