-- Ports: course 003 (English), "Global interpreter lock GIL" > IO-intensive
--        (work() sleeps 2 s and prints os.getpid(), in many threads).
-- Teaches: for I/O-bound work (I/O密集型: waiting on sleep, disk, network) threads
-- do help, GIL or not: a thread that waits gives up the GIL, so all the waits
-- overlap and a hundred 2-second sleeps take about 2 seconds in all. Every
-- thread prints the same pid: threads live in one process.
-- Usage: cthreads --gil|--no-gil gil/02_io_bound.lua [threads=100]

local NTHREADS = math.tointeger(tonumber(arg and arg[1])) or 100
local SLEEP = 2

local pids = {}                 -- the set of pids the threads saw
local pids_lock = threading.Lock()
local function work()
  time.sleep(SLEEP)
  local pid = os.getpid()
  pids_lock:with(function() pids[pid] = true end)
end

local t_l = {}
local start_time = time.monotonic()
for i = 1, NTHREADS do
  t_l[i] = threading.Thread{target = work}
  t_l[i]:start()
end
for _, t in ipairs(t_l) do t:join() end
local elapsed = time.monotonic() - start_time

local npids = 0
for pid in pairs(pids) do npids = npids + 1; print("pid " .. pid) end
-- how long one sleep really lasted (CTHREADS_TIME_SCALE may shorten it)
local t0 = time.monotonic(); time.sleep(SLEEP); local one = time.monotonic() - t0
print(("run time is %.3f s for %d threads sleeping %d s each (%d distinct pid)"):format(
  elapsed, NTHREADS, SLEEP, npids))
print(("the sleeps overlapped: %s (in series they would take %.1f s)"):format(
  elapsed < 0.25 * one * NTHREADS and "yes" or "no", one * NTHREADS))
