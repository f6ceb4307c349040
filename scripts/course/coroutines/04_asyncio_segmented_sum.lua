-- Ports: course 000 (Day 3 / 第三天), 协程 > asyncio > 分段累加 (addnum run twice
--        with run_until_complete).
-- Teaches: run_until_complete returns the task's result, so the two half
-- sums come back to the caller. The two tasks run one after the other; with
-- asyncio.gather they are run as concurrent tasks on one loop, and gather
-- returns their results in argument order. (addnum never waits on anything,
-- so nothing actually interleaves; see 08_gevent_spawn_sleep.lua.)
-- Run: cthreads --gil coroutines/04_asyncio_segmented_sum.lua

local function addnum(start, stop)
  local sum = 0
  for i = start, stop - 1 do sum = sum + i end
  return sum
end

local loop = asyncio.get_event_loop()
local s1 = loop:run_until_complete(addnum, 1, 51)
local s2 = loop:run_until_complete(addnum, 51, 101)
loop:close()
print(s1 + s2)

local results = asyncio.run(function()
  return asyncio.gather(function() return addnum(1, 51) end,
                        function() return addnum(51, 101) end)
end)
print(("with gather: %d + %d = %d"):format(results[1], results[2], results[1] + results[2]))
