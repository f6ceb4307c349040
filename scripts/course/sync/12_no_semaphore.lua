-- Ports: course 001 (slides), 信号量: the first example (foo in 100 threads,
--        "此时无法控制同时进入的线程数").
-- Teaches: without a semaphore nothing limits how many threads are inside
-- foo at once: all 100 sleep at the same time. The script counts the threads
-- inside foo and prints the most seen at once (compare 13_semaphore.lua).
-- Usage: cthreads --gil sync/12_no_semaphore.lua [threads=100]

local NTHREADS = math.tointeger(tonumber(arg and arg[1])) or 100

local inside, max_inside = 0, 0
local count_lock = threading.Lock()

local function enter()
  count_lock:with(function()
    inside = inside + 1
    if inside > max_inside then max_inside = inside end
  end)
end
local function leave()
  count_lock:with(function() inside = inside - 1 end)
end

local function foo()
  enter()
  time.sleep(2)
  print("ok " .. time.ctime())
  leave()
end

local threads = {}
for i = 1, NTHREADS do
  threads[i] = threading.Thread{target = foo}
  threads[i]:start()   -- 此时无法控制同时进入的线程数 (no limit)
end
for _, t in ipairs(threads) do t:join() end
print(("max concurrent = %d (no limit, %d threads)"):format(max_inside, NTHREADS))
