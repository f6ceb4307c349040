-- Ports: course 004 (notes), 进程池 apply---阻塞，同步方法 / apply_async---异步方法
--        (Pool(5), apply_async(func, args, callback)).
-- Teaches: apply() blocks until its task is done, so tasks run one at a time
-- even in a pool of five; apply_async() returns at once, the five tasks run
-- together, and the callback (run in the parent, 主进程) gets each result.
-- Run: cthreads --gil processes/17_pool_apply_vs_apply_async.lua

local function square(i)
  time.sleep(1)
  return i * i
end

local pool = multiprocessing.Pool(5)   -- 进程池内进程数为5

local t0 = time.monotonic()
local sync_results = {}
for i = 1, 5 do sync_results[i] = pool:apply(square, {i}) end
local t_apply = time.monotonic() - t0

t0 = time.monotonic()
local callbacks = 0
local handles = {}
for i = 1, 5 do
  handles[i] = pool:apply_async(square, {i}, function() callbacks = callbacks + 1 end)
end
pool:close()
pool:join()
local t_async = time.monotonic() - t0
local async_results = {}
for i, h in ipairs(handles) do async_results[i] = h:get() end

print("apply:       " .. table.concat(sync_results, " ") .. " (one at a time)")
print("apply_async: " .. table.concat(async_results, " ") .. " (five at once)")
print(("apply took %.1f times as long as apply_async"):format(t_apply / t_async))
print(("callback ran %d times"):format(callbacks))
