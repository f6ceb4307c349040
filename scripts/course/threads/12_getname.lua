-- Ports: course 002 (Day 10), 线程调用方法 (sayhi in two threads, getName()).
-- Teaches: getName() (Python 2 style; the name field is the modern form)
-- returns a thread's name, Thread-1 and Thread-2 here. The names print at
-- once, while the threads still sleep.
-- Run: cthreads --gil threads/12_getname.lua

local function sayhi(num)   -- 定义每个线程要运行的函数
  print(("running on number:%s"):format(num))
  time.sleep(3)
end

local t1 = threading.Thread{target = sayhi, args = {1}}   -- 生成一个线程实例
local t2 = threading.Thread{target = sayhi, args = {2}}
t1:start()
t2:start()
print(t1:getName())   -- 获取线程名
print(t2:getName())
