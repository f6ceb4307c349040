-- Thread start + join: the cost of threading.Thread{target=f}:start()
-- then :join() with an empty f, one thread at a time. Twin: start_join.py.
-- usage: cthreads start_join.lua [N [ROUNDS]]; prints the time per thread
-- of each round ("round S") and the best ("best S").
local N = tonumber(arg[1]) or 2000
local ROUNDS = tonumber(arg[2]) or 5
local Thread, clock = threading.Thread, time.perf_counter

local function noop() end

local function round(n)
  local t0 = clock()
  for _ = 1, n do
    local t = Thread{target = noop}
    t:start()
    t:join()
  end
  return (clock() - t0) / n
end

round(50)  -- warm up
local best = math.huge
for _ = 1, ROUNDS do
  local t = round(N)
  print(("round %.9f"):format(t))
  best = math.min(best, t)
end
print(("best %.9f"):format(best))
