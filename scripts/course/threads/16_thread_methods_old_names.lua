-- Ports: course 004 (notes), 多线程 threading: setDaemon, Thread实例对象的方法
--        (isAlive, getName, setName) and threading模块提供的一些方法
--        (currentThread, enumerate, activeCount).
-- Teaches: the Python 2 names that old course material uses; each has a
-- modern form (is_alive, name, daemon, current_thread, active_count).
-- Run: cthreads --gil threads/16_thread_methods_old_names.lua

local release = threading.Lock()
release:acquire()   -- the worker waits on this until we let it go

local t1 = threading.Thread{target = function()
  release:acquire()   -- blocks until the main thread releases it
  release:release()
end}
t1:setName("worker")   -- setName(): 设置线程名
t1:setDaemon(true)     -- 把t1设成守护线程: must come before start()
print("before start: isAlive = " .. tostring(t1:isAlive()))
t1:start()
print("running: isAlive = " .. tostring(t1:isAlive()) ..
      ", getName = " .. t1:getName() .. ", isDaemon = " .. tostring(t1:isDaemon()))
print("currentThread: " .. threading.currentThread():getName())
print("activeCount: " .. threading.activeCount() ..
      " (= #enumerate(): " .. #threading.enumerate() .. ")")
release:release()
t1:join()   -- join(): wait for t1 to end
print("after join: isAlive = " .. tostring(t1:isAlive()) ..
      ", activeCount = " .. threading.activeCount())
