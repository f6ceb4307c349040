-- The course's CPU-bound demo: the loop `res = res + i` run once, twice in
-- sequence, then in two threads at once. With the GIL on the threads take
-- as long as the sequence. Twin: cpu_bound.py.
-- usage: cthreads cpu_bound.lua [N]; prints "one S", "sequence S", "threads S"
local N = tonumber(arg[1]) or 20000000
local clock = time.perf_counter

local function count(n)
  local res = 0
  for i = 1, n do res = res + i end
  return res
end

count(N // 10)  -- warm up
local t0 = clock()
count(N)
local one = clock() - t0

t0 = clock()
count(N)
count(N)
local sequence = clock() - t0

t0 = clock()
local ts = {}
for i = 1, 2 do
  ts[i] = threading.Thread{target = count, args = {N}}
  ts[i]:start()
end
for _, t in ipairs(ts) do t:join() end
local threads = clock() - t0

print(("one %.6f"):format(one))
print(("sequence %.6f"):format(sequence))
print(("threads %.6f"):format(threads))
