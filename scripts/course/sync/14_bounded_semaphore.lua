-- Ports: course 002 (Day 10), semaphore(信号量) (BoundedSemaphore(5), 20 threads,
--        then `while threading.active_count() != 1: pass`).
-- Teaches: BoundedSemaphore(5) lets at most 5 threads run at once (最多允许5个
-- 线程同时运行), like Semaphore, and also catches a bug Semaphore allows:
-- releasing more times than acquired raises an error. The main thread waits
-- for the others by polling active_count() (a busy wait, as in the course;
-- join() is the better way).
-- Run: cthreads --gil sync/14_bounded_semaphore.lua

local inside, max_inside = 0, 0
local count_lock = threading.Lock()

local function run(n)
  semaphore:acquire()
  count_lock:with(function()
    inside = inside + 1
    if inside > max_inside then max_inside = inside end
  end)
  time.sleep(1)
  print(("run the thread: %s"):format(n))
  count_lock:with(function() inside = inside - 1 end)
  semaphore:release()
end

num = 0
semaphore = threading.BoundedSemaphore(5)   -- 最多允许5个线程同时运行
for i = 0, 19 do
  local t = threading.Thread{target = run, args = {i}}
  t:start()
end

while threading.active_count() ~= 1 do end   -- pass: spin until only main is left
print("----all threads done---")
print(num)
print(("max concurrent = %d (limit 5)"):format(max_inside))

local ok, err = pcall(semaphore.release, semaphore)   -- one release too many
print(ok and "extra release() was accepted?!"
         or "extra release() raised an error: " .. tostring(err):gsub("^.-:%d+: ", ""))
