-- Ports: course 000 (Day 3 / 第三天), 通过类使用线程 > 实例1
--        (继承threading.Thread 重写run方法).
-- Teaches: the second way to make a thread: subclass threading.Thread and
-- override run(); start() runs run() in the new thread.
-- Run: cthreads --gil threads/03_subclass_hello.lua

local HelloWorld = threading.Thread:extend("HelloWorld")

function HelloWorld:run()
  time.sleep(2)
  print("hellowrold")   -- (sic, as in the course)
end

local t = HelloWorld()
t:start()
print("main thread")
