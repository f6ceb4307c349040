-- Ports: course 004 (notes), 线程队列 (put/get of 12, "hello", {"name":"yuan"};
--        Queue(5) and put(..., False); get(block=False); LifoQueue;
--        PriorityQueue of [3,12], [2,"hello"], [4,{"nmae":"yuan"}]; qsize, empty,
--        full, get_nowait, put_nowait).
-- Teaches: the queue methods one by one, and the two errors: put on a full
-- queue without blocking raises queue.Full, get on an empty queue without
-- blocking raises queue.Empty (instead of waiting forever).
-- Run: cthreads --gil queues/07_queue_methods.lua

local function show(v)
  if type(v) ~= "table" then return tostring(v) end
  if v.name or v.nmae then return "{name: " .. (v.name or v.nmae) .. "}" end
  local parts = {}
  for i = 1, #v do parts[i] = show(v[i]) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function try(what, f, ...)   -- run f, say which queue error it raised
  local ok, err = pcall(f, ...)
  if ok then
    print(what .. ": no error")
  elseif err == queue.Full then
    print(what .. ": raised queue.Full")
  elseif err == queue.Empty then
    print(what .. ": raised queue.Empty")
  else
    error(err, 0)
  end
end

local q = queue.Queue()        -- 创建队列
q:put(12)                      -- 放入数据
q:put("hello")
q:put({name = "yuan"})
print("qsize: " .. q:qsize())
print("get: " .. show(q:get()) .. ", " .. show(q:get()) .. ", " .. show(q:get()))

q = queue.Queue(5)             -- 最多put5个参数
for i = 1, 5 do q:put(i) end
print("full: " .. tostring(q:full()))
try("put('hello', False) on a full queue", q.put, q, "hello", false)
try("put_nowait(6)", q.put_nowait, q, 6)
for _ = 1, 5 do q:get_nowait() end
print("empty: " .. tostring(q:empty()))
try("get(block=False) on an empty queue", q.get, q, false)
try("get_nowait()", q.get_nowait, q)

q = queue.LifoQueue()          -- 先进后出
q:put(1); q:put(2); q:put(3)
print("LifoQueue: " .. q:get() .. " " .. q:get() .. " " .. q:get())

q = queue.PriorityQueue()      -- 优先级: [数字，数据], smaller numbers first
q:put({3, 12})
q:put({2, "hello"})
q:put({4, {nmae = "yuan"}})
local first = q:get()
print("PriorityQueue: " .. show(first) .. " " .. show(q:get()) .. " " .. show(q:get()))
print("the data of the first item (q.get()[1] in Python): " .. first[2])
