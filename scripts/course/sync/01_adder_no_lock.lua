-- Ports: course 000 (Day 3 / 第三天), 线程 > 实例3 线程间同步 (ten adder threads,
--        no lock).
-- Teaches: threads share the global count. Each `count = count + 1` is three
-- steps (read, add, write) that another thread could split; here the steps
-- are short and far apart (0.5 s sleep between them), so the total usually
-- comes out right, but nothing guarantees it: see 02_counter_race.lua for
-- the same bug made visible, and 04_adder_acquire_release.lua for the fix.
-- Run: cthreads --gil sync/01_adder_no_lock.lua

count = 0

local function adder()
  count = count + 1
  time.sleep(0.5)
  count = count + 1
end

local threads = {}
for _ = 1, 10 do
  local thread = threading.Thread{target = adder}
  thread:start()
  threads[#threads + 1] = thread
end
for _, thread in ipairs(threads) do thread:join() end

print(("count = %d (expected %d)"):format(count, 2 * #threads))
