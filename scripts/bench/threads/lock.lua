-- An uncontended Lock: lock:acquire() then lock:release() in a loop, and
-- the same loop empty (its cost is printed apart and subtracted). Twin:
-- lock.py. usage: cthreads lock.lua [N [ROUNDS]]; prints the best time
-- per iteration: "pair S" (with the lock calls), "loop S" (empty), "net S".
local N = tonumber(arg[1]) or 1000000
local ROUNDS = tonumber(arg[2]) or 5
local clock = time.perf_counter

local lock = threading.Lock()

local function with_lock(n)
  local t0 = clock()
  for _ = 1, n do
    lock:acquire()
    lock:release()
  end
  return (clock() - t0) / n
end

local function empty(n)
  local t0 = clock()
  for _ = 1, n do end
  return (clock() - t0) / n
end

with_lock(1000)
local pair, loop = math.huge, math.huge
for _ = 1, ROUNDS do
  pair = math.min(pair, with_lock(N))
  loop = math.min(loop, empty(N))
end
print(("pair %.12f"):format(pair))
print(("loop %.12f"):format(loop))
print(("net %.12f"):format(pair - loop))
