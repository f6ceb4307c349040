-- Ports: course 003 (English), "from gevent import monkey; monkey.patch_all()"
--        (the same eat/play_phone calling time.sleep).
-- Teaches: a task that calls a blocking function (time.sleep) stops the whole
-- event loop: nothing else runs meanwhile, so the tasks run one after the
-- other. gevent's monkey.patch_all() replaces such functions with ones that
-- wait cooperatively; in Lua we can patch time.sleep ourselves with
-- asyncio.sleep (asyncio.to_thread(f, ...) does the same for any other
-- blocking call: it runs f on a real thread while the loop goes on).
-- Run: cthreads --gil coroutines/10_gevent_monkey_patch.lua

local slept = 0
local function eat()
  print("eat food 1")
  local t0 = time.monotonic(); time.sleep(2); slept = slept + time.monotonic() - t0
  print("eat food 2")
end

local function play_phone()
  print("play phone 1")
  local t0 = time.monotonic(); time.sleep(1); slept = slept + time.monotonic() - t0
  print("play phone 2")
end

local function run_both(title)
  print("-- " .. title)
  slept = 0
  local t0 = time.monotonic()
  asyncio.run(function()
    local g1 = asyncio.create_task(eat)
    local g2 = asyncio.create_task(play_phone)
    asyncio.gather(g1, g2)
  end)
  local elapsed = time.monotonic() - t0
  print(("master: %.2f s for %.2f s of sleeps: overlapped: %s"):format(
    elapsed, slept, elapsed < 0.85 * slept and "yes" or "no"))
end

run_both("time.sleep blocks the loop")

-- monkey.patch_all(), by hand: inside a task (a coroutine) time.sleep now
-- waits cooperatively; anywhere else (the event loop itself, for one) it is
-- still the real, blocking sleep
local blocking_sleep = time.sleep
time.sleep = function(s)
  if coroutine.isyieldable() then asyncio.sleep(s) else blocking_sleep(s) end
end
run_both("time.sleep patched to asyncio.sleep")
time.sleep = blocking_sleep
