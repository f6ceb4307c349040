-- Ports: course 002 (Day 10), Event > 交通指挥灯实例 (lighter and car threads).
-- Teaches: an Event (事件) is a flag threads can wait on: the light thread
-- set()s it on green and clear()s it on red; the car thread's wait() returns
-- at once while it is set and blocks while it is clear, so the car drives on
-- green (and yellow) and stops at red.
-- The course's light loops forever with 30 green, 4 yellow and 26 red ticks
-- of 0.5 s; this one uses 6 green, 2 yellow and 4 red ticks and runs CYCLES
-- cycles, then tells the car to stop.
-- Usage: cthreads --gil sync/17_traffic_light_event.lua [cycles=2]

local CYCLES = math.tointeger(tonumber(arg and arg[1])) or 2
local GREEN, YELLOW, RED = 6, 2, 4   -- ticks of 0.5 s in each colour

local event = threading.Event()
local done = false   -- set by the light when its cycles are over
local runs = 0

local function lighter()
  local count = 0
  local cycles = 0
  while cycles < CYCLES do
    if count < GREEN then
      if not event:is_set() then event:set() end
      print("绿灯-- green")
    elseif count < GREEN + YELLOW then
      print("黄灯-- yellow")
    elseif count < GREEN + YELLOW + RED then
      if event:is_set() then event:clear() end
      print("红灯-- red")
    end
    count = count + 1
    if count == GREEN + YELLOW + RED then count, cycles = 0, cycles + 1 end
    time.sleep(0.5)
  end
  done = true
  event:set()   -- let a waiting car see that we are done
end

local function car(n)
  while true do
    if not event:is_set() then print(("car [%s] waits at the red light"):format(n)) end
    event:wait()
    if done then break end
    print(("car [%s] is running..."):format(n))
    runs = runs + 1
    time.sleep(1)
  end
end

local red_light = threading.Thread{target = lighter}
red_light:start()
local c1 = threading.Thread{target = car, args = {2}}
c1:start()
red_light:join()
c1:join()
print(("light: %d cycles done; car [2] ran %d times"):format(CYCLES, runs))
