-- Ports: course 001 (slides), 同步和异步 > 异步1，无需等待线程执行.
-- Teaches: asynchronous (异步) calls: the main chunk starts two threads and
-- goes on without waiting for them, so "主方法执行完毕" (main done) prints
-- before the threads finish; the program still waits for them at exit.
-- Run: cthreads --gil threads/11_async_no_wait.lua

local function thead(num)   -- (sic)
  print(("线程%s开始执行"):format(num))
  time.sleep(3)
  print(("线程%s执行完毕"):format(num))
end

print("主方法开始执行")
local poll = {}
for i = 1, 2 do
  poll[#poll + 1] = threading.Thread{target = thead, args = {i}}
end
for _, n in ipairs(poll) do
  n:start()   -- 准备就绪,等待cpu执行 (ready, waiting for the CPU)
end
print("主方法执行完毕")
