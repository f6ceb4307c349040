-- Ports: course 003 (English), "Queue Method Example" (Queue(3), LifoQueue(),
--        PriorityQueue() with (10,'a'), (9,'b'), (11,'c')); also course 001
--        (slides), 线程同步-消息队列: the three kinds of queue (FIFO, LIFO, 优先级).
-- Teaches: the three queues differ only in the order items come out: FIFO
-- (先进先出) in order of put, LIFO (后进先出) like a stack, priority (优先级)
-- smallest first. Any value can be queued, tables included.
-- Run: cthreads --gil queues/06_fifo_lifo_priority.lua

local function repr(v)   -- Python-like printing of what comes out
  if type(v) == "string" then return "'" .. v .. "'" end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for i = 1, #v do parts[i] = repr(v[i]) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function drain(title, q)
  local out = {}
  while not q:empty() do out[#out + 1] = repr(q:get()) end
  print(title .. ": " .. table.concat(out, "  "))
end

local q = queue.Queue(3)   -- 先进先出 first in, first out
q:put(1); q:put("Hyh"); q:put({1, 2, 3, 4})
drain("Queue (FIFO)", q)

q = queue.LifoQueue()      -- 后进先出 last in, first out
q:put(1); q:put("Hyh"); q:put({1, 2, 3, 4})
drain("LifoQueue (LIFO)", q)

q = queue.PriorityQueue()  -- 优先级: the smaller the number, the higher the priority
q:put({10, "a"}); q:put({9, "b"}); q:put({11, "c"})
drain("PriorityQueue", q)
