-- Ports: course 003 (English), One: "two ways to open a thread" (work(name)
--        as a target, and class work(Thread) with __init__ and run).
-- Teaches: a thread from a function with args, and from a subclass whose
-- constructor sets the thread's name. multiprocessing.Process is started the
-- same two ways (see processes/02_process_basics.lua and
-- processes/04_clock_process_subclass.lua).
-- Run: cthreads --gil threads/14_two_ways_to_start.lua

local function work(name)
  print(("%s say hello"):format(name))
end

local t = threading.Thread{target = work, args = {"Hyh"}}
t:start()
t:join()
print("main thread")

local Work = threading.Thread:extend("Work")
function Work:init(name)
  Work.super.init(self)   -- Python: super().__init__()
  self.name = name        -- the Thread's own name field
end
function Work:run()
  print(("%s say hello"):format(self.name))
end

local w = Work("Hyh")
w:start()
w:join()
print("main thread")
