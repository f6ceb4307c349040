-- Ports: course 001 (slides), 线程共享全局变量 (g_nums list passed in args).
-- Teaches: a table passed to two threads is the same table in both: work1
-- appends 44 and work2, a second later, sees it.
-- Run: cthreads --gil threads/10_shared_list.lua

local function show(list) return "[" .. table.concat(list, ", ") .. "]" end

local function work1(nums)
  table.insert(nums, 44)
  print("-----in work1----- " .. show(nums))
end

local function work2(nums)
  time.sleep(1)   -- 延时一会保证另一线程执行 (let the other thread run first)
  print("-----in work2----- " .. show(nums))
end

local g_nums = {11, 22, 33}
local t1 = threading.Thread{target = work1, args = {g_nums}}
t1:start()
local t2 = threading.Thread{target = work2, args = {g_nums}}
t2:start()
