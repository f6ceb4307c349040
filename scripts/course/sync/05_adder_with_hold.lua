-- Ports: course 000 (Day 3 / 第三天), 线程 > 使用with 加锁.
-- Teaches: Python's `with addlock:` in Lua, two ways: a to-be-closed handle
-- (`local _ <close> = addlock:hold()`, released when the block ends, also on
-- an error), and a callback (`addlock:with(f)`). Either way the lock cannot
-- be left locked by mistake.
-- Run: cthreads --gil sync/05_adder_with_hold.lua

count = 0

local function adder(addlock)
  do
    local _ <close> = addlock:hold()   -- with addlock:
    count = count + 1
  end                                  -- released here
  time.sleep(0.1)
  addlock:with(function()              -- with addlock: (callback form)
    count = count + 1
  end)
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
