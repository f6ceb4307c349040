-- Ports: course 000 (Day 3 / 第三天), 线程 > 通过函数使用线程 > 实例1.
-- Teaches: a thread (线程) runs a function beside the main thread (主线程).
-- start() returns at once, so the main thread prints "main thread" first and
-- the new thread prints "helloworld" when its 2-second sleep ends; the
-- program then waits for it before exiting (it is not a daemon).
-- Run: cthreads --gil threads/01_hello_thread.lua

local function helloworld()
  time.sleep(2)
  print("helloworld")
end

local t = threading.Thread{target = helloworld}
t:start()
print("main thread")
