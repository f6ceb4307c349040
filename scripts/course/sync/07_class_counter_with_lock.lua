-- Ports: course 000 (Day 3 / 第三天), 通过类使用线程 > 加锁 (class-level addlock).
-- Teaches: a Lock stored as a class field is one lock shared by all the
-- instances; `with HelloWorld.addlock:` becomes HelloWorld.addlock:hold().
-- Run: cthreads --gil sync/07_class_counter_with_lock.lua

local HelloWorld = threading.Thread:extend("HelloWorld")
HelloWorld.count = 0
HelloWorld.addlock = threading.Lock()

function HelloWorld:run()
  do
    local _ <close> = HelloWorld.addlock:hold()
    HelloWorld.count = HelloWorld.count + 1
  end
  time.sleep(0.5)
  do
    local _ <close> = HelloWorld.addlock:hold()
    HelloWorld.count = HelloWorld.count + 1
  end
end

local threads = {}
for _ = 1, 5 do
  local t = HelloWorld()
  t:start()
  threads[#threads + 1] = t
end
for _, t in ipairs(threads) do t:join() end

print(("count = %d (expected %d)"):format(HelloWorld.count, 2 * #threads))
