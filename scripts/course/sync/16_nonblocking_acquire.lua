-- Ports: course 001 (slides), 同步和异步 > 异步2，通过循环控制 (mutex.acquire(False)
--        in a loop; "该干嘛干嘛" = "go do something else").
-- Teaches: a non-blocking acquire (acquire(false)) returns false at once when
-- the lock is taken, so the thread can do other work and try again instead
-- of sleeping in acquire(). Whichever thread gets the lock first counts to a
-- million; the other keeps trying. The course prints "该干嘛干嘛" on every
-- failed try (thousands of lines); this prints the first three and a count.
-- (In the course, test1's `else` belongs to its while loop, Python's
-- while-else, so only test2 ever prints it; the port keeps that.)
-- Usage: cthreads --gil sync/16_nonblocking_acquire.lua [N=1000000]

local N = math.tointeger(tonumber(arg and arg[1])) or 1000000
num = 0
local mutex = threading.Lock()

local function test1()
  while true do
    if mutex:acquire(false) then
      for _ = 1, N do num = num + 1 end
      print("1 " .. num)
      mutex:release()
      break
    end
  end
end

local function test2()
  local other_work = 0
  while true do
    if mutex:acquire(false) then
      for _ = 1, N do num = num + 1 end
      print("2 " .. num)
      mutex:release()
      break
    else
      other_work = other_work + 1
      if other_work <= 3 then print("该干嘛干嘛") end
    end
  end
  print(("(test2 found the lock taken %d times)"):format(other_work))
end

local p1 = threading.Thread{target = test1}
local p2 = threading.Thread{target = test2}
p1:start()
p2:start()
p1:join()
p2:join()
print(("total = %d (expected %d)"):format(num, 2 * N))
