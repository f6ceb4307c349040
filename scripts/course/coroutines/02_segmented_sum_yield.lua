-- Ports: course 000 (Day 3 / 第三天), 协程 > 分段累加 (addnum(1, 51) and
--        addnum(51, 101) advanced in turns with send; the sums come back in
--        StopIteration.value).
-- Teaches: two coroutines interleaved by hand: each adds one number per
-- resume and yields, so the two halves of 1..100 are summed in alternation.
-- When a coroutine's function returns, that last resume gives back its
-- return value (Python: StopIteration.value).
-- Run: cthreads --gil coroutines/02_segmented_sum_yield.lua

local function addnum(start, stop)
  return coroutine.create(function()
    local sum = 0
    for i = start, stop - 1 do
      sum = sum + i
      coroutine.yield()
    end
    return sum
  end)
end

local g1 = addnum(1, 51)
local g2 = addnum(51, 101)
local sum1, sum2

-- send(1) to g: resume it; when it has finished, keep what it returned
local function send(g, value)
  local ok, result = coroutine.resume(g, value)
  assert(ok, result)
  if coroutine.status(g) == "dead" then return result end
end

coroutine.resume(g1)   -- next(g1)
coroutine.resume(g2)   -- next(g2)
for _ = 1, 50 do
  sum1 = send(g1, 1) or sum1
  sum2 = send(g2, 1) or sum2
end
print(sum1 + sum2)
