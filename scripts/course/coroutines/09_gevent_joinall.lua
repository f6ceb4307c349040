-- Ports: course 003 (English), "IO block switch example" (eat sleeps 2 s,
--        play_phone 1 s, with gevent.sleep; gevent.joinall([g1, g2])).
-- Teaches: while eat waits, play_phone runs, so the output is eat food 1,
-- play phone 1, play phone 2, eat food 2, and the whole takes 2 s, not 3.
-- gevent.joinall is asyncio.gather.
-- Run: cthreads --gil coroutines/09_gevent_joinall.lua

local function eat()
  print("eat food 1")
  asyncio.sleep(2)
  print("eat food 2")
end

local function play_phone()
  print("play phone 1")
  asyncio.sleep(1)
  print("play phone 2")
end

asyncio.run(function()
  local g1 = asyncio.create_task(eat)
  local g2 = asyncio.create_task(play_phone)
  asyncio.gather(g1, g2)   -- gevent.joinall([g1, g2])
  print("master")
end)
