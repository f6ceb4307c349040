-- Ports: course 001 (slides), 信号量 (s1 = threading.Semaphore(5), foo in 20
--        threads); also course 003 (English), "Semaphore" (Semaphore(5),
--        func printing getName() + ' get semaphore').
-- Teaches: a semaphore (信号量) is a counter: acquire() takes one (blocking at
-- 0), release() gives one back, so at most 5 threads are inside foo at any
-- moment. The script counts them and prints the most seen at once: 5.
-- Usage: cthreads --gil sync/13_semaphore.lua [threads=20]

local NTHREADS = math.tointeger(tonumber(arg and arg[1])) or 20
local LIMIT = 5

local s1 = threading.Semaphore(LIMIT)
local inside, max_inside = 0, 0
local count_lock = threading.Lock()

local function foo()
  if s1:acquire() then
    count_lock:with(function()
      inside = inside + 1
      if inside > max_inside then max_inside = inside end
    end)
    print(threading.current_thread():getName() .. " get semaphore, ok " .. time.ctime())
    time.sleep(2)
    count_lock:with(function() inside = inside - 1 end)
    s1:release()
  end
end

local threads = {}
for i = 1, NTHREADS do
  threads[i] = threading.Thread{target = foo}
  threads[i]:start()   -- 此时可以控制同时进入的线程数 (now capped)
end
for _, t in ipairs(threads) do t:join() end
print(("max concurrent = %d (limit %d)"):format(max_inside, LIMIT))
