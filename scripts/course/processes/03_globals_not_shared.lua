-- Ports: course 001 (slides), 多进程 > 全局变量在多个进程中不共享 (num = 1, run1 adds 5,
--        run2 adds 10).
-- Teaches: each process has its own copy of every variable (进程之间的数据是
-- 独立的): child 1 sees 6, child 2 sees 11, and the parent's num is still 1
-- afterwards. Threads, by contrast, share globals (threads/09_shared_global.lua).
-- Run: cthreads --gil processes/03_globals_not_shared.lua

num = 1

local function run1()
  num = num + 5
  print(("子进程1运行中, num = %d"):format(num))
end

local function run2()
  num = num + 10
  print(("子进程2运行中, num = %d"):format(num))
end

print("父进程启动")
local p1 = multiprocessing.Process{target = run1}
local p2 = multiprocessing.Process{target = run2}
print("子进程将要执行")
p1:start()
p2:start()
p1:join()
p2:join()
print("子进程结束")
print(("父进程: num = %d (unchanged: the children changed their own copies)"):format(num))
