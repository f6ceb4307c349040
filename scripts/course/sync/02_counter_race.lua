-- Ports: course 001 (slides), 执行1000000次的bug (two threads each add 1 to the
--        global num a million times, with no lock).
-- Teaches: a race condition (竞争条件, 线程非安全): `num = num + 1` reads num,
-- adds, and writes it back; when two threads run truly in parallel (GIL off,
-- two cores or more) one thread's write overwrites the other's, and updates
-- are lost: the total ends below 2,000,000, differently on each run. With the
-- GIL on the threads take turns, and whether updates are lost depends on
-- where the interpreter switches threads (here it switches only between
-- statements, so usually none are): print the total and compare.
-- The course prints num right after start(), before the threads are done; the
-- port does that too, then joins them and prints the real total.
-- Usage: cthreads --gil|--no-gil sync/02_counter_race.lua [N=1000000]

local N = math.tointeger(tonumber(arg and arg[1])) or 1000000

num = 0

local function test1()
  for _ = 1, N do num = num + 1 end
end

local function test2()
  for _ = 1, N do num = num + 1 end
end

local p1 = threading.Thread{target = test1}
p1:start()
local p2 = threading.Thread{target = test2}
p2:start()
print(("---num = %d--- (printed at once, like the course: the threads are still counting)"):format(num))

p1:join()
p2:join()
local expected = 2 * N
print(("GIL %s"):format(threading.gil_enabled() and "on" or "off"))
print(("total = %d (expected %d)"):format(num, expected))
if num < expected then
  print(("lost %d updates"):format(expected - num))
else
  print("no updates lost this time")
end
