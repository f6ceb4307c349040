-- Ports: course 000 (Day 3 / 第三天), 线程 > 通过函数使用线程 > 实例2 同种任务并行.
-- Teaches: the same function run by five threads at once, each with its own
-- argument (args). All five sleep at the same time, so the whole program takes
-- about 2 seconds, not 10; the order of their lines is up to the scheduler.
-- Run: cthreads --gil threads/02_same_task_five_threads.lua

local function helloworld(id)
  time.sleep(2)
  print(("thread %d helloworld"):format(id))
end

for i = 0, 4 do
  local t = threading.Thread{target = helloworld, args = {i}}
  t:start()
end
print("main thread")
