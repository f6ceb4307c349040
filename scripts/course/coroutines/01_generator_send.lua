-- Ports: course 000 (Day 3 / 第三天), 协程 > yield (helloWorld generators driven
--        with next() and send()); also course 004 (notes), 协程 (yield, 协作式).
-- Teaches: a coroutine (协程, 微线程) is a function that can pause at yield and
-- be resumed later, keeping its local state. Python's generator
-- `p = yield` + g.send(i) is Lua's `local p = coroutine.yield()` + g(i)
-- (coroutine.wrap): the first call runs it up to its first yield (next(g)),
-- each later call hands a value in. One thread, no locks: the coroutines
-- switch only where they yield (cooperative, 非抢占式).
-- Run: cthreads --gil coroutines/01_generator_send.lua

local function helloWorld(n)
  return coroutine.wrap(function()
    while true do
      local p = coroutine.yield()
      print(("hello world %d: %d"):format(n, p))
    end
  end)
end

local g1 = helloWorld(1)
local g2 = helloWorld(2)
local g3 = helloWorld(3)

g1()   -- next(g1): run to the first yield
g2()
g3()
for i = 0, 4 do
  g1(i)   -- g1.send(i)
  g2(i)
  g3(i)
end
