-- Ports: course 003 (English), "Global interpreter lock GIL" > compute-intensive
--        (work() sums range(1000000), run in several threads; Process imported
--        alongside); also course 001 (slides), GIL全局解释器锁.
-- Teaches: with the GIL (全局解释器锁) on, only one thread runs Lua at a time,
-- so CPU-bound work (计算密集型) in N threads takes as long as doing it N times
-- in a row: threads bring no speedup. Processes each have their own
-- interpreter (and GIL), so they use several cores (多进程可以应用多核). With
-- the GIL off (--no-gil) threads use several cores too.
-- Usage: cthreads --gil|--no-gil gil/01_cpu_bound.lua [workers=4] [n=10000000]
-- (The course's loop is a million; the default is ten million so that the
-- times are long enough to compare.)

local WORKERS = math.tointeger(tonumber(arg and arg[1])) or 4
local N = math.tointeger(tonumber(arg and arg[2])) or 10000000

local function work()
  local res = 0
  for i = 0, N - 1 do res = res + i end
  return res
end

local function timed(f)
  local t0 = time.perf_counter()
  f()
  return time.perf_counter() - t0
end

local serial = timed(function()
  for _ = 1, WORKERS do work() end
end)

local threads = timed(function()
  local t_l = {}
  for i = 1, WORKERS do
    t_l[i] = threading.Thread{target = work}
    t_l[i]:start()
  end
  for _, t in ipairs(t_l) do t:join() end
end)

local processes = timed(function()
  local p_l = {}
  for i = 1, WORKERS do
    p_l[i] = multiprocessing.Process{target = work}
    p_l[i]:start()
  end
  for _, p in ipairs(p_l) do p:join() end
end)

print(("GIL %s, %d cores, %d workers, each summing %d numbers"):format(
  threading.gil_enabled() and "on" or "off", multiprocessing.cpu_count(), WORKERS, N))
print(("in series:    run time is %.3f s"):format(serial))
print(("in threads:   run time is %.3f s (%.2fx the serial time)"):format(threads, threads / serial))
print(("in processes: run time is %.3f s (%.2fx the serial time)"):format(processes, processes / serial))
