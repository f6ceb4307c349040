-- Ports: course 001 (slides), 进程池 (Pool(3), apply_async(work, (i,)) for ten
--        tasks, close, join).
-- Teaches: a process pool (进程池) keeps a fixed number of worker processes
-- (here 3) and hands them tasks as they become free, so ten 3-second tasks
-- take about four rounds. apply_async returns at once (异步, non-blocking);
-- close() stops new tasks; join() waits for all, and must come after close().
-- The workers are forked copies of this program, including the random
-- generator's state, so each task reseeds it (Python does that for you).
-- Run: cthreads --gil processes/07_pool_apply_async.lua

local function work(num)
  math.randomseed(os.getpid(), num)
  print(math.random() * num)
  time.sleep(3)
  return os.getpid()   -- (added: which worker ran it)
end

local po = multiprocessing.Pool(3)   -- 最大进程数为3 (default: the number of CPU cores)
local results = {}
for i = 0, 9 do
  results[#results + 1] = po:apply_async(work, {i})   -- 每次循环会用空出来的子进程去调用目标
end
po:close()   -- 进程池关闭之后不再接收新的请求
po:join()    -- 等待po中所有子进程结束，必须放在close后面

local workers, n = {}, 0
for _, r in ipairs(results) do
  local pid = r:get()
  if not workers[pid] then workers[pid], n = true, n + 1 end
end
print(("%d tasks ran in %d worker processes (Pool(3))"):format(#results, n))
