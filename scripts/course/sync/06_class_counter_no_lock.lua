-- Ports: course 000 (Day 3 / 第三天), 通过类使用线程 > 实例3 (HelloWorld.count).
-- Teaches: a class field (类属性) is shared by every instance, so all five
-- threads update the same HelloWorld.count, without a lock (see
-- 07_class_counter_with_lock.lua for the safe version).
-- Run: cthreads --gil sync/06_class_counter_no_lock.lua

local HelloWorld = threading.Thread:extend("HelloWorld")
HelloWorld.count = 0

function HelloWorld:run()
  HelloWorld.count = HelloWorld.count + 1
  time.sleep(0.5)
  HelloWorld.count = HelloWorld.count + 1
end

local threads = {}
for _ = 1, 5 do
  local t = HelloWorld()
  t:start()
  threads[#threads + 1] = t
end
for _, t in ipairs(threads) do t:join() end

print(("count = %d (expected %d)"):format(HelloWorld.count, 2 * #threads))
