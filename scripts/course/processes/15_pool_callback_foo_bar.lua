-- Ports: course 002 (Day 10), 进程池 (Pool(5), apply_async(func=Foo, args=(i,),
--        callback=Bar) for ten tasks).
-- Teaches: "end" prints first, because apply_async does not wait; each
-- result (i + 100) then reaches the callback Bar in the parent as its task
-- finishes, five at a time. Without pool.join() the program would end before
-- the tasks (如果注释, 那么程序直接关闭).
-- Run: cthreads --gil processes/15_pool_callback_foo_bar.lua

local function Foo(i)
  time.sleep(2)
  return i + 100
end

local got = {}
local function Bar(arg)
  print("-->exec done: " .. arg)
  got[#got + 1] = arg
end

local pool = multiprocessing.Pool(5)
for i = 0, 9 do
  pool:apply_async(Foo, {i}, Bar)
  -- pool:apply(Foo, {i})   -- the blocking form: one task at a time
end
print("end")
pool:close()
pool:join()   -- 进程池中进程执行完毕后再关闭
table.sort(got)
print("callbacks got: " .. table.concat(got, " "))
