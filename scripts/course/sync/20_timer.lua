-- Ports: course 003 (English), "timer" (Timer(3, hello)).
-- Teaches: a Timer is a thread that calls a function after a delay (指定n秒后
-- 执行操作); cancel() before it fires stops it.
-- Run: cthreads --gil sync/20_timer.lua

local function hello()
  print("Hello, world")
end

local t = threading.Timer(3, hello)
t:start()   -- after 3 seconds, "Hello, world" will be printed

local never = threading.Timer(5, function() print("this timer was cancelled: never printed") end)
never:start()
never:cancel()

t:join()
never:join()
print("timer fired once; the cancelled one never did")
