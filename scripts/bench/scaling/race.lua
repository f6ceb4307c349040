-- The race: two threads each add 1 to the global `count` N times with
-- `count = count + 1` (a read, an add and a write: not atomic), released
-- together; then the same with every update under one Lock.
-- usage: cthreads race.lua [N]
-- Prints "unlocked C" and "locked C" (the final counts: 2N when no update
-- was lost), "expected 2N", and the wall time of each part.
local N = math.tointeger(tonumber(arg[1])) or 1000000

local function race(body)
  count = 0
  local go = threading.Event()
  local ts = {}
  for i = 1, 2 do
    ts[i] = threading.Thread{target = function () go:wait(); body() end}
    ts[i]:start()
  end
  local t0 = time.perf_counter()
  go:set()
  for _, t in ipairs(ts) do t:join() end
  return count, time.perf_counter() - t0
end

local unlocked, t_unlocked = race(function ()
  for _ = 1, N do count = count + 1 end
end)

local lock = threading.Lock()
local locked, t_locked = race(function ()
  for _ = 1, N do
    lock:acquire()
    count = count + 1
    lock:release()
  end
end)

print("expected " .. 2 * N)
print("unlocked " .. unlocked)
print("locked " .. locked)
print(("unlocked_time %.6f"):format(t_unlocked))
print(("locked_time %.6f"):format(t_locked))
