-- Ports: course 000 (Day 3 / 第三天), 线程 > 加锁 (adder with addlock.acquire()
--        and addlock.release(), 100 threads).
-- Teaches: the fix for 01_adder_no_lock.lua: each read-add-write happens
-- while holding a Lock (互斥锁), so no update can be lost. The lock is passed
-- to the threads in args.
-- Run: cthreads --gil sync/04_adder_acquire_release.lua

count = 0

local function adder(addlock)
  addlock:acquire()
  count = count + 1
  addlock:release()
  time.sleep(0.1)
  addlock:acquire()
  count = count + 1
  addlock:release()
end

local addlock = threading.Lock()
local threads = {}
for _ = 1, 100 do
  local thread = threading.Thread{target = adder, args = {addlock}}
  thread:start()
  threads[#threads + 1] = thread
end
for _, thread in ipairs(threads) do thread:join() end

print(("count = %d (expected %d)"):format(count, 2 * #threads))
