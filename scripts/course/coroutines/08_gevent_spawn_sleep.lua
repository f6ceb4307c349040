-- Ports: course 001 (slides), 协程 > gevent (A and B spawned, each printing and
--        calling gevent.sleep(1) forever; g1.join(), g2.join()).
-- Teaches: gevent-style automatic switching, here with asyncio: a task that
-- waits (asyncio.sleep, 耗时操作) gives control to the other tasks instead of
-- blocking, so A and B take turns and their sleeps overlap: ROUNDS rounds
-- take about ROUNDS seconds, not twice that. create_task is gevent.spawn (the
-- task starts running at the next switch), join() is g.join(). The course
-- loops forever; this runs ROUNDS rounds.
-- Usage: cthreads --gil coroutines/08_gevent_spawn_sleep.lua [rounds=3]

local ROUNDS = math.tointeger(tonumber(arg and arg[1])) or 3
local slept = 0   -- seconds spent in asyncio.sleep, summed over both tasks

local function nap(s)   -- asyncio.sleep, timed
  local t0 = time.monotonic()
  asyncio.sleep(s)
  slept = slept + (time.monotonic() - t0)
end

local function A()
  for _ = 1, ROUNDS do
    print(".....A.....")
    nap(1)   -- 用来模拟一个耗时操作: the loop runs other tasks meanwhile
  end
end

local function B()
  for _ = 1, ROUNDS do
    print(".....B.....")
    nap(1)
  end
end

local t0 = time.monotonic()
asyncio.run(function()
  local g1 = asyncio.create_task(A)   -- gevent.spawn(A)
  local g2 = asyncio.create_task(B)
  g1:join()                           -- 等待协程执行结束
  g2:join()
end)
local elapsed = time.monotonic() - t0
print(("%d rounds in %.2f s, %.2f s of sleeps in all: the sleeps overlapped: %s"):format(
  ROUNDS, elapsed, slept, elapsed < 0.75 * slept and "yes" or "no"))
