-- Ports: course 002 (Day 10), queue队列 (PriorityQueue(maxsize=3) with [1,"alex"],
--        [5,"eric"], [3,"liumj"]).
-- Teaches: a PriorityQueue returns the smallest item first; tables compare
-- element by element like Python lists, so {1, "alex"} < {3, "liumj"}. The
-- queue holds 3 items at most, so after three puts full() is true.
-- (The course's other two lines, commented out there: queue.Queue(2) is
-- first in, first out; queue.LifoQueue() last in, first out; see
-- 06_fifo_lifo_priority.lua.)
-- Run: cthreads --gil queues/05_priority_queue_lists.lua

local function repr(item)   -- print a {priority, name} pair like Python's list
  return ("[%d, '%s']"):format(item[1], item[2])
end

local q = queue.PriorityQueue(3)
q:put({1, "alex"})
q:put({5, "eric"})
q:put({3, "liumj"})
print(q:empty())
print(q:full())
print(repr(q:get()))
print(repr(q:get()))
print(repr(q:get()))
