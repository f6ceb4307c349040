-- Ports: course 000 (Day 3 / 第三天), 通过类使用线程 > 实例2; also course 004,
--        多线程 > 继承式调用 (Thread.__init__(self) in the constructor).
-- Teaches: a Thread subclass with its own constructor. Like Python's
-- super().__init__(), init() must call the parent's init before the thread is
-- used; fields set on self (self.id) are then visible in run().
-- Run: cthreads --gil threads/04_subclass_with_init.lua

local HelloWorld = threading.Thread:extend("HelloWorld")

function HelloWorld:init(id)
  HelloWorld.super.init(self)   -- Python: super(HelloWorld, self).__init__()
  self.id = id
end

function HelloWorld:run()
  time.sleep(2)
  print(("thread %d hellowrold"):format(self.id))
end

for i = 0, 4 do
  local t = HelloWorld(i)
  t:start()
end
print("main thread")
