-- Ports: course 003 (English), "Recursive lock RLock" (the deadlock example
--        with one RLock for both A and B, ten threads).
-- Teaches: an RLock (递归锁) counts how many times its owner acquired it; the
-- owner may acquire it again without blocking, and other threads get it only
-- when every acquire has been released. With one RLock instead of A and B
-- there is no lock order to get wrong, so no deadlock: the threads just take
-- turns (each holds it 2 s in func2, so ten threads take about 20 s).
-- Usage: cthreads --gil sync/11_rlock_no_deadlock.lua [threads=10]

local NTHREADS = math.tointeger(tonumber(arg and arg[1])) or 10
local mutex = threading.RLock()

local MyThread = threading.Thread:extend("MyThread")

function MyThread:run()
  self:func1()
  self:func2()
end

function MyThread:func1()
  mutex:acquire()
  print(("%s get A lock"):format(self.name))
  mutex:acquire()
  print(("%s get B lock"):format(self.name))
  mutex:release()
  mutex:release()
end

function MyThread:func2()
  mutex:acquire()
  print(("%s get B lock"):format(self.name))
  time.sleep(2)
  mutex:acquire()
  print(("%s get A lock"):format(self.name))
  mutex:release()
  mutex:release()
end

local threads = {}
for i = 1, NTHREADS do
  threads[i] = MyThread()
  threads[i]:start()
end
for _, t in ipairs(threads) do t:join() end
print(("no deadlock: all %d threads finished"):format(NTHREADS))
