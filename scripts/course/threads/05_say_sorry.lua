-- Ports: course 001 (slides), 多线程: the two slides with current_thread().name
--        (主线程%s启动) and saySorry started in five threads.
-- Teaches: every process starts with one thread, the main thread (主线程,
-- named MainThread); current_thread() returns the Thread object of whoever
-- calls it, so each child prints its own name (Thread-N).
-- Run: cthreads --gil threads/05_say_sorry.lua

local function saySorry()
  print(("子线程%s启动"):format(threading.current_thread().name))
  time.sleep(1)
  print("亲爱的，我错了，我能吃饭了吗？")
end

print(("主线程%s启动"):format(threading.current_thread().name))
for _ = 1, 5 do
  local t = threading.Thread{target = saySorry}   -- what the thread runs
  t:start()
end
