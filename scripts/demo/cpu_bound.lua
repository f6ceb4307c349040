-- The course's CPU-bound demo: the same loop run twice in sequence, then
-- in two threads at once. With the GIL on the threads take as long as the
-- sequence (the GIL serialises them); with it off they run in parallel.
-- usage: cthreads [--gil|--no-gil] cpu_bound.lua [N]
local N = tonumber(arg and arg[1]) or 30000000

local function count(n)
  local res = 0
  for i = 1, n do res = res + i end
  return res
end

local t0 = time.perf_counter()
count(N); count(N)
local seq = time.perf_counter() - t0

t0 = time.perf_counter()
local ts = {}
for i = 1, 2 do
  ts[i] = threading.Thread{target = count, args = {N}}
  ts[i]:start()
end
for _, t in ipairs(ts) do t:join() end
local par = time.perf_counter() - t0

print(("GIL %s: two calls in sequence %.3f s, in two threads %.3f s, speedup %.2fx")
  :format(threading.gil_enabled() and "on" or "off", seq, par, seq / par))
