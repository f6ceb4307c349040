-- Ports: course 004 (notes), 线程队列 > q.task_done() and q.join().
-- Teaches: q.join() waits until every item put has been marked done with
-- task_done(), not merely taken with get(): a worker calls task_done() after
-- it has finished with an item, and only then does join() return (只有执行
-- q.task_done()之后，join才能疏通阻塞). One task_done() too many is an error.
-- Run: cthreads --gil queues/08_task_done_join.lua

local q = queue.Queue()
local handled = 0

local function worker()
  while true do
    local item = q:get()
    time.sleep(0.2)   -- pretend to work on it
    handled = handled + 1
    print(("worker finished item %s"):format(item))
    q:task_done()
  end
end

-- a daemon: it waits in get() forever and is abandoned when the program ends
threading.Thread{target = worker, daemon = true}:start()

for i = 1, 5 do q:put(i) end
q:join()   -- blocks until task_done() was called for all five
print(("q.join() returned: %d of 5 items done, queue empty: %s"):format(handled, q:empty()))

local ok, err = pcall(q.task_done, q)
print(ok and "an extra task_done() was accepted?!"
         or "an extra task_done() raised an error: " .. tostring(err):gsub("^.-:%d+: ", ""))
