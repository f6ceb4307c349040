-- Ports: course 001 (slides), 进程间通信-Queue > 进程池创建的进程之间通信 (writer and
--        reader in a Pool, sharing Manager().Queue()).
-- Teaches: pool workers are not children of each other, so they talk through
-- a Manager's queue (a proxy to a queue living in the manager's server
-- process) instead of a multiprocessing.Queue. The reader sleeps 3 s, then
-- takes what the writer left: the seven letters of "welcome".
-- Run: cthreads --gil processes/10_pool_manager_queue.lua

local function writer(q)
  for i in ("welcome"):gmatch(".") do
    print("开始写入 " .. i)
    q:put(i)
  end
end

local function reader(q)
  time.sleep(3)
  local n = q:qsize()
  for _ = 1, n do
    print("得到消息 " .. q:get())
  end
  return n
end

print("主进程启动")
local manager = multiprocessing.Manager()
local q = manager:Queue()
local po = multiprocessing.Pool()
local w = po:apply_async(writer, {q})
local r = po:apply_async(reader, {q})
po:close()
po:join()
w:get()   -- (added: get() raises here if a task failed, instead of failing silently)
print(("主进程结束: the reader got %d of 7 messages"):format(r:get()))
manager:shutdown()
