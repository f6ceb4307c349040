-- Ports: course 001 (slides), 进程间通信-Queue (q = Queue(3), three puts, full()),
--        and the slides on qsize/empty/full/get/put_nowait/get_nowait.
-- Teaches: a multiprocessing.Queue with a maximum size (最多可接受3条消息):
-- after three messages full() is true; put without blocking then raises
-- queue.Full, and get on an empty queue without blocking raises queue.Empty.
-- Run: cthreads --gil processes/08_queue_full.lua

local function raised(f, ...)   -- the name of the queue error f raises
  local ok, err = pcall(f, ...)
  if ok then return "nothing" end
  if err == queue.Full then return "queue.Full" end
  if err == queue.Empty then return "queue.Empty" end
  error(err, 0)
end

local q = multiprocessing.Queue(3)   -- 初始化一个Queue对象，最多可接受3条消息
q:put("消息1")                        -- 添加的消息数据类型不限
q:put("消息2")
q:put("消息3")
print(q:full())
print("put_nowait on a full queue raises " .. raised(q.put_nowait, q, "消息4"))
print("qsize: " .. q:qsize())
while not q:empty() do print("get: " .. q:get()) end
print("get_nowait on an empty queue raises " .. raised(q.get_nowait, q))
