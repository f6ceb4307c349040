-- Ports: course 001 (slides), 多线程 > 创建线程的两种方式 (MyThread printing 0..4).
-- Teaches: the two ways to create a thread: Thread{target = f}, or a subclass
-- that overrides run(). Two instances of the subclass each print 0..4; with
-- no sleep the lines of the two threads may or may not interleave.
-- Run: cthreads --gil threads/07_subclass_run_loop.lua

local MyThread = threading.Thread:extend("MyThread")

function MyThread:run()
  for i = 0, 4 do print(i) end
end

local t1 = MyThread()
local t2 = MyThread()
t1:start()
t2:start()
t1:join()
t2:join()
print("both threads printed 0..4")
