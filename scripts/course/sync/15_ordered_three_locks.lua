-- Ports: course 001 (slides), 线程同步-多个线程有序执行 (Task1/2/3 with lock1, lock2,
--        lock3; lock2 and lock3 start locked).
-- Teaches: locks as signals to run threads in a fixed order (同步: 确定调用的
-- 顺序): each task waits for its own lock and then releases the next task's
-- (any thread may release a Lock), so the output is always Task1, Task2,
-- Task3, Task1, ... The course loops forever; this runs ROUNDS rounds.
-- Usage: cthreads --gil sync/15_ordered_three_locks.lua [rounds=3]

local ROUNDS = math.tointeger(tonumber(arg and arg[1])) or 3
local order = {}   -- which task printed, in order (checked at the end)

local lock1 = threading.Lock()
local lock2 = threading.Lock()
lock2:acquire()    -- 创建另外一把锁，并且锁上
local lock3 = threading.Lock()
lock3:acquire()    -- 再创建一把锁并锁上

-- a Task class: waits on `mine`, prints, then releases `next`
local Task = threading.Thread:extend("Task")
function Task:init(number, mine, next)
  Task.super.init(self)
  self.number, self.mine, self.next = number, mine, next
end
function Task:run()
  for _ = 1, ROUNDS do
    if self.mine:acquire() then
      print(("-----Task%d-----"):format(self.number))
      order[#order + 1] = self.number
      time.sleep(1)
      self.next:release()
    end
  end
end

local t1 = Task(1, lock1, lock2)
local t2 = Task(2, lock2, lock3)
local t3 = Task(3, lock3, lock1)
t1:start(); t2:start(); t3:start()
t1:join(); t2:join(); t3:join()

local kept = #order == 3 * ROUNDS
for i, n in ipairs(order) do
  if n ~= (i - 1) % 3 + 1 then kept = false end
end
print(("order: %s (%s)"):format(table.concat(order, " "), kept and "kept" or "NOT kept"))
