-- Ports: course 001 (slides), GIL全局解释器锁 > "Python已经有一个GIL来保证同一时间只能
--        有一个线程来执行了，为什么我还要学互斥锁？" (no code in the course).
-- Teaches: the GIL and a Lock protect different things (保护的数据不一样): the
-- GIL keeps the interpreter's own data safe, not your program's. A thread
-- that reads counter, waits (sleep, I/O: the GIL is let go), and writes
-- counter + 1 overwrites what others wrote meanwhile, GIL on or off. Only a
-- Lock around the whole read-wait-write makes it right.
-- Usage: cthreads --gil|--no-gil gil/03_gil_is_not_your_lock.lua [threads=10] [times=20]

local NTHREADS = math.tointeger(tonumber(arg and arg[1])) or 10
local TIMES = math.tointeger(tonumber(arg and arg[2])) or 20
local expected = NTHREADS * TIMES

local function run(step)
  counter = 0
  local ts = {}
  for i = 1, NTHREADS do
    ts[i] = threading.Thread{target = function()
      for _ = 1, TIMES do step() end
    end}
    ts[i]:start()
  end
  for _, t in ipairs(ts) do t:join() end
  return counter
end

local function unsafe_step()
  local v = counter
  time.sleep(0.01)   -- any blocking call here lets other threads run
  counter = v + 1
end

local lock = threading.Lock()
local function locked_step()
  local _ <close> = lock:hold()
  local v = counter
  time.sleep(0.01)
  counter = v + 1
end

print(("GIL %s"):format(threading.gil_enabled() and "on" or "off"))
local got = run(unsafe_step)
print(("no lock:   counter = %d (expected %d): %d updates lost"):format(got, expected, expected - got))
got = run(locked_step)
print(("with Lock: counter = %d (expected %d)"):format(got, expected))
