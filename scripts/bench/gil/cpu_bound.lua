-- The course's CPU-bound demo: the loop `res = res + i` run once, twice in
-- sequence, then in two threads at once. With the GIL on the threads take
-- as long as the sequence. Twin: cpu_bound.py.
-- usage: cthreads cpu_bound.lua [N [ROUNDS]]; prints the best of the rounds
-- (wall time): "one S", "sequence S", "threads S", and "parallel X": the
-- CPU time the process used while the threads ran over the wall time (1.0
-- when the GIL lets one thread run at a time; this VM's vCPUs run at
-- different speeds, which moves the wall times but not this ratio)
local N = tonumber(arg[1]) or 20000000
local ROUNDS = tonumber(arg[2]) or 3
local clock = time.perf_counter

local function count(n)
  local res = 0
  for i = 1, n do res = res + i end
  return res
end

local function timed(f)
  local t0 = clock()
  f()
  return clock() - t0
end

local function sequence()
  count(N)
  count(N)
end

local function threads()
  local ts = {}
  for i = 1, 2 do
    ts[i] = threading.Thread{target = count, args = {N}}
    ts[i]:start()
  end
  for _, t in ipairs(ts) do t:join() end
end

count(N // 10)  -- warm up
local one, seq, thr = math.huge, math.huge, math.huge
local cpu, wall = 0, 0
for _ = 1, ROUNDS do
  one = math.min(one, timed(function() count(N) end))
  seq = math.min(seq, timed(sequence))
  local c0 = os.clock()
  local t = timed(threads)
  cpu, wall = cpu + os.clock() - c0, wall + t
  thr = math.min(thr, t)
end
print(("one %.6f"):format(one))
print(("sequence %.6f"):format(seq))
print(("threads %.6f"):format(thr))
print(("parallel %.3f"):format(cpu / wall))
