-- Thread start + join: the cost of threading.Thread{target=f}:start()
-- then :join() with an empty f, one thread at a time. Twin: start_join.py.
-- usage: cthreads start_join.lua [N [ROUNDS]]; prints the time per thread
-- of each round ("round S") and the best ("best S"), then how much the
-- process grew per thread over all rounds ("rss_per_thread BYTES", from
-- /proc; a leak per thread shows here).
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

-- the resident set size in KB, or nil where /proc is missing
local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local kb = f:read("a"):match("VmRSS:%s+(%d+)")
  f:close()
  return tonumber(kb)
end

round(50)  -- warm up
collectgarbage()
local rss0 = rss_kb()
local best = math.huge
for _ = 1, ROUNDS do
  local t = round(N)
  print(("round %.9f"):format(t))
  best = math.min(best, t)
end
print(("best %.9f"):format(best))
collectgarbage()
collectgarbage()
local rss1 = rss_kb()
if rss0 and rss1 then
  print(("rss_per_thread %.0f"):format((rss1 - rss0) * 1024 / (N * ROUNDS)))
end
