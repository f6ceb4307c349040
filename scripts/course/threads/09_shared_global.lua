-- Ports: course 001 (slides), 线程共享全局变量 (num = 100, work1 adds 3, work2 reads).
-- Teaches: threads of one process share global variables: work2 sees the 103
-- that work1 left. (Processes do not share them: see
-- processes/03_globals_not_shared.lua.)
-- Run: cthreads --gil threads/09_shared_global.lua

num = 100   -- a global, like the course's module-level num

local function work1()
  for _ = 1, 3 do num = num + 1 end
  print(("---in work1,num is %d"):format(num))
end

local function work2()
  print(("---in work2,num is %d"):format(num))
end

print(("---线程创建之前 num is %d"):format(num))
local t1 = threading.Thread{target = work1}
t1:start()
time.sleep(1)   -- 延时一会保证线程1中的任务做完 (let thread 1 finish first)
local t2 = threading.Thread{target = work2}
t2:start()
