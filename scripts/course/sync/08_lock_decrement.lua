-- Ports: course 002 (Day 10), 线程锁 (addNum: 100 threads each take 1 from num).
-- Teaches: lock only around the change (修改数据前加锁, 修改后释放): every
-- thread reads num without the lock (usually all see 100: they read it
-- before the first 1-second sleep ends), then subtracts under the lock, so
-- the final value is exactly 0.
-- Run: cthreads --gil sync/08_lock_decrement.lua

local function addNum()
  print("--get num: " .. num)   -- 在每个线程中都获取这个全局变量
  time.sleep(1)
  lock:acquire()                -- 修改数据前加锁
  num = num - 1                 -- 对此公共变量进行-1操作
  lock:release()                -- 修改后释放
end

num = 100                       -- 设定一个共享变量
lock = threading.Lock()         -- 生成全局锁
local thread_list = {}
for _ = 1, 100 do
  local t = threading.Thread{target = addNum}
  t:start()
  thread_list[#thread_list + 1] = t
end
for _, t in ipairs(thread_list) do t:join() end   -- 等待所有线程执行完毕

print("final num: " .. num)
