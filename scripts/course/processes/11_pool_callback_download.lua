-- Ports: course 001 (slides), 同步和异步 > 异步3，通过回调机制 (Pool(3), download with
--        callback=alterUser).
-- Teaches: a callback (回调): when a task finishes, what it returned is handed
-- to the callback, which runs in the parent (主进程) while the other tasks may
-- still be downloading; the parent never waits for one task in particular.
-- Run: cthreads --gil processes/11_pool_callback_download.lua

local function download(f)
  math.randomseed(os.getpid())   -- a forked worker starts with the parent's random state
  for i = 1, 3 do
    print(("%s下载文件%d"):format(f, i))
    time.sleep(math.random(1, 3))
  end
  return "下载完成"
end

local callbacks = 0
local function alterUser(msg)
  callbacks = callbacks + 1
  print(msg)
end

local p = multiprocessing.Pool(3)
-- 当func执行完毕后，return的东西会给到回调函数callback
p:apply_async(download, {"线程1"}, alterUser)
p:apply_async(download, {"线程2"}, alterUser)
p:apply_async(download, {"线程3"}, alterUser)
p:close()
p:join()
print(("%d callbacks ran in the parent process %d"):format(callbacks, os.getpid()))
