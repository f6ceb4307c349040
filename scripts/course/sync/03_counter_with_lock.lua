-- Ports: course 001 (slides), 线程同步-互斥锁 (test1/test2 with mutex.acquire());
--        also course 003 "line lock" (r.acquire(); ...; r.release()) and course
--        004 进程同步/线程锁 notes on Lock.
-- Teaches: a mutex (互斥锁, threading.Lock) makes the read-add-write of the
-- race in 02_counter_race.lua safe: only the thread holding the lock touches
-- num, so the total is exact with the GIL on or off. Here each thread holds
-- the lock for its whole loop, so the threads run one after the other.
-- The course uses 1000 per thread; the default is a million to match the race.
-- Usage: cthreads --gil|--no-gil sync/03_counter_with_lock.lua [N=1000000]

local N = math.tointeger(tonumber(arg and arg[1])) or 1000000

num = 0
local mutex = threading.Lock()   -- 创建锁

local function test1()
  if mutex:acquire() then        -- 锁定
    for _ = 1, N do num = num + 1 end
    mutex:release()              -- 释放
  end
end

local function test2()
  if mutex:acquire() then
    for _ = 1, N do num = num + 1 end
    mutex:release()
  end
end

local p1 = threading.Thread{target = test1}
p1:start()
local p2 = threading.Thread{target = test2}
p2:start()
print(("num = %d (printed at once, like the course)"):format(num))
p1:join()
p2:join()
print(("total = %d (expected %d)"):format(num, 2 * N))
