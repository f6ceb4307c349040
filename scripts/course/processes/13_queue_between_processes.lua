-- Ports: course 002 (Day 10), 进程间通信 (f(q) puts [42, None, 'hello'] into a
--        multiprocessing.Queue); also course 004 (notes), 进程队列.
-- Teaches: processes do not share memory (不同进程间内存是不共享的), so data
-- goes through a queue: the child puts a table and the parent gets a copy of
-- it, nil in the middle included.
-- Run: cthreads --gil processes/13_queue_between_processes.lua

local function f(q)
  q:put({42, nil, "hello"})
end

local function show(t)   -- the three slots, like Python prints the list
  local parts = {}
  for i = 1, 3 do
    local v = t[i]
    parts[i] = type(v) == "string" and ("'" .. v .. "'") or tostring(v)
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local q = multiprocessing.Queue()
local p = multiprocessing.Process{target = f, args = {q}}
p:start()
print(show(q:get()))   -- prints "[42, nil, 'hello']"
p:join()
