-- Ports: course 000 (Day 3 / 第三天), 多进程 > multiprocessing 模块 (whoami with a
--        Lock in five processes); also course 004 (notes), 进程同步 同步锁Lock.
-- Teaches: a multiprocessing.Lock created before the processes start is
-- shared by all of them (进程锁仍能影响全部进程), so only one child prints at a
-- time. Each child has its own pid. (The course prints __name__; the port
-- prints the process name instead.)
-- Run: cthreads --gil processes/05_whoami_lock.lua

local function whoami(label, lock)
  local msg = "%s: name:%s, pid:%s"
  local _ <close> = lock:hold()   -- with lock:
  print(msg:format(label, multiprocessing.current_process().name, os.getpid()))
end

local lock = multiprocessing.Lock()
local children = {}
for i = 1, 5 do
  local p = multiprocessing.Process{target = whoami, args = {"child", lock}}
  p:start()
  children[i] = p
end
for _, p in ipairs(children) do p:join() end
print(("parent %d: all %d children printed, one at a time"):format(os.getpid(), #children))
