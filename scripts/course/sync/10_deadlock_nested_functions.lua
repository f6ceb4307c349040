-- Ports: course 003 (English), "Deadlock Example" (class mythread with func1:
--        A then B, func2: B, sleep 2, then A; ten threads).
-- Teaches: the classic deadlock (死锁): the first thread (usually Thread-1)
-- finishes func1, takes B in func2 and sleeps; meanwhile another thread takes
-- A in func1 and waits for B; the first one wakes and waits for A. The
-- course output stops there ("stuck").
-- Here every acquire has a timeout: a thread that waits too long says so,
-- drops what it holds and stops, so the program ends and reports the deadlock.
-- Compare 11_rlock_no_deadlock.lua, where one RLock replaces A and B.
-- Usage: cthreads --gil sync/10_deadlock_nested_functions.lua [threads=10]

local NTHREADS = math.tointeger(tonumber(arg and arg[1])) or 10
local SCALE = tonumber(os.getenv("CTHREADS_TIME_SCALE")) or 1   -- timeouts follow the sleeps
local PATIENCE = 4

local mutexA = threading.Lock()
local mutexB = threading.Lock()
local stuck = 0
local stuck_lock = threading.Lock()

-- acquire with patience: false (and a report) when it took too long
local function take(lock, label, who)
  if lock:acquire(true, PATIENCE * SCALE) then return true end
  print(("%s gave up waiting for lock %s after %g s: stuck in a deadlock (死锁)")
    :format(who, label, PATIENCE))
  stuck_lock:with(function() stuck = stuck + 1 end)
  return false
end

local MyThread = threading.Thread:extend("MyThread")

function MyThread:run()
  if self:func1() then self:func2() end
end

function MyThread:func1()
  if not take(mutexA, "A", self.name) then return false end
  print(("%s get A lock"):format(self.name))
  local ok = take(mutexB, "B", self.name)
  if ok then
    print(("%s get B lock"):format(self.name))
    mutexB:release()
  end
  mutexA:release()
  return ok
end

function MyThread:func2()
  if not take(mutexB, "B", self.name) then return end
  print(("%s get B lock"):format(self.name))
  time.sleep(2)
  if take(mutexA, "A", self.name) then
    print(("%s get A lock"):format(self.name))
    mutexA:release()
  end
  mutexB:release()
end

local threads = {}
for i = 1, NTHREADS do
  threads[i] = MyThread()
  threads[i]:start()
end
for _, t in ipairs(threads) do t:join() end
if stuck > 0 then
  print(("deadlock detected: %d acquire(s) timed out (without timeouts the program hangs)"):format(stuck))
else
  print("no deadlock this time")
end
