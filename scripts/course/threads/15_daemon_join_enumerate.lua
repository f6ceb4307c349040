-- Ports: course 003 (English), "thread other method" (setDaemon, join,
--        enumerate, active_count, current_thread().getName()).
-- Teaches: after join() the worker is gone, so enumerate() (the threads alive
-- now, a list) holds only the main thread and active_count() is 1.
-- Run: cthreads --gil threads/15_daemon_join_enumerate.lua

local function work()
  time.sleep(2)
  print(("%s say hello"):format(threading.current_thread():getName()))
end

local t = threading.Thread{target = work}
t:setDaemon(true)   -- 设置成守护线程 (daemon thread)
t:start()
t:join()
local names = {}
for _, th in ipairs(threading.enumerate()) do names[#names + 1] = th.name end
print("enumerate: {" .. table.concat(names, ", ") .. "}")   -- 当前活跃的线程对象
print("active_count: " .. threading.active_count())           -- 当前活跃的线程数目
print("main thread " .. threading.current_thread():getName())
