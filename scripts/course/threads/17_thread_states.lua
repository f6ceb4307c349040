-- Ports: course 001 (slides), 线程的五种状态 (the five thread states; no code in
--        the course: this script shows each state).
-- Teaches: new (新状态: created, not started), runnable/running (可运行/运行),
-- blocked (阻塞: here waiting for a lock), dead (死亡: run() returned). A dead
-- thread cannot be started again: start() raises an error.
-- Run: cthreads --gil threads/17_thread_states.lua

local gate = threading.Lock()
gate:acquire()

local t = threading.Thread{name = "T", target = function()
  print("running: in run(), is_alive = " .. tostring(threading.current_thread():is_alive()))
  gate:acquire()   -- blocked here until the main thread releases the gate
  print("running again after being blocked")
end}

print("new: is_alive = " .. tostring(t:is_alive()))
t:start()
time.sleep(0.5)
print("blocked on a lock: is_alive = " .. tostring(t:is_alive()))
gate:release()
t:join()
print("dead: is_alive = " .. tostring(t:is_alive()))
local ok, err = pcall(t.start, t)
print("start() again: " .. (ok and "started?!" or tostring(err):gsub("^.-:%d+: ", "")))
