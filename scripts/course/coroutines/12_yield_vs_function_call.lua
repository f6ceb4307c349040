-- Ports: course 003 (English), "Four, coroutine" (producer calling consumer
--        100,000,000 times, then sending to a yield-based consumer, with timing).
-- Teaches: the course's claim is that a function call builds and frees a
-- frame each time, while a coroutine keeps its frame and just switches; it
-- times both. Which is cheaper depends on the language: measure. In Lua a
-- plain call is cheap, and resuming a coroutine costs a bit more. (The
-- course's 100,000,000 items take minutes; the default is a million.)
-- Usage: cthreads --gil coroutines/12_yield_vs_function_call.lua [items=1000000]

local N = math.tointeger(tonumber(arg and arg[1])) or 1000000

local function consumer(item)
  local x, y, z = 1111111111111, 222222222222222, 3333333333333333
  local x1, x2, x3 = 122324234534534, 21324354654654, 3243565432435
  return item
end

local function producer(target, n)
  for item = 1, n do target(item) end
end

local function coroutine_consumer()   -- the @init decorator: create and prime it
  local g = coroutine.wrap(function()
    local x, y, z = 1111111111111, 222222222222222, 3333333333333333
    local x1, x2, x3 = 122324234534534, 21324354654654, 3243565432435
    while true do
      local item = coroutine.yield()
    end
  end)
  g()   -- next(g)
  return g
end

local t0 = time.perf_counter()
producer(consumer, N)
local t_call = time.perf_counter() - t0

t0 = time.perf_counter()
producer(coroutine_consumer(), N)   -- target.send(item) is g(item)
local t_yield = time.perf_counter() - t0

print(("function calls: run time is %.3f s"):format(t_call))
print(("coroutine send: run time is %.3f s"):format(t_yield))
print(("%d items: a coroutine switch costs %.2fx a call here"):format(N, t_yield / t_call))
