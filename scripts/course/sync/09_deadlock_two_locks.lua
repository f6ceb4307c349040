-- Ports: course 001 (slides), 线程同步（死锁）(MyThread1 takes mutexA then mutexB,
--        MyThread2 takes mutexB then mutexA).
-- Teaches: deadlock (死锁): two threads each hold one lock and wait for the
-- other's, like two diners with one chopstick each (两个人每人一根筷子). The
-- course version hangs forever. Here the second acquire has a timeout, so a
-- thread that waits too long reports the deadlock, gives up, and releases
-- its lock; the program then ends. The fix is to take locks in one fixed
-- order everywhere (or use one RLock, see 11_rlock_no_deadlock.lua).
-- (The course's MyThread2 sleeps before taking mutexB, which makes the
-- deadlock depend on timing; here it sleeps after, so each thread surely
-- holds its first lock when it asks for the second.)
-- Run: cthreads --gil sync/09_deadlock_two_locks.lua

-- how long a thread waits for its second lock before calling it a deadlock;
-- scaled like the sleeps (CTHREADS_TIME_SCALE) so the test can speed it up
local SCALE = tonumber(os.getenv("CTHREADS_TIME_SCALE")) or 1
local PATIENCE = 3

local mutexA = threading.Lock()
local mutexB = threading.Lock()
local gave_up = {}
local report_lock = threading.Lock()

local function give_up(name, holding, wanted)
  print(("%s---holds %s, waited %g s for %s: deadlock (死锁), giving up")
    :format(name, holding, PATIENCE, wanted))
  report_lock:with(function() gave_up[#gave_up + 1] = name end)
end

local MyThread1 = threading.Thread:extend("MyThread1")
function MyThread1:run()
  if mutexA:acquire() then
    print(self.name .. "---do1---up---")
    time.sleep(1)
    if mutexB:acquire(true, PATIENCE * SCALE) then
      print(self.name .. "---do1---down---")
      mutexB:release()
    else
      give_up(self.name, "mutexA", "mutexB")
    end
    mutexA:release()
  end
end

local MyThread2 = threading.Thread:extend("MyThread2")
function MyThread2:run()
  if mutexB:acquire() then
    print(self.name .. "---do2---up---")
    time.sleep(1)
    if mutexA:acquire(true, PATIENCE * SCALE) then
      print(self.name .. "---do2---down---")
      mutexA:release()
    else
      give_up(self.name, "mutexB", "mutexA")
    end
    mutexB:release()
  end
end

local t1 = MyThread1()
local t2 = MyThread2()
t1:start()
t2:start()
t1:join()
t2:join()
if #gave_up > 0 then
  print(("deadlock detected: %s gave up waiting (without the timeouts both threads would wait forever)")
    :format(table.concat(gave_up, " and ")))
else
  print("no deadlock this time")
end
