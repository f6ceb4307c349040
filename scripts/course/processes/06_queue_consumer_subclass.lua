-- Ports: course 000 (Day 3 / 第三天), 多进程 > 队列和子类 (Consumer(Process) reading a
--        multiprocessing.Queue with get(block=False), class-level Lock).
-- Teaches: a multiprocessing.Queue carries data between processes (copies
-- of the values); a consumer that finds it empty gets queue.Empty and stops.
-- The course's loop prints once more after Empty (with stale data); the port
-- stops at once. The two consumers share out the ten items between them.
-- Run: cthreads --gil processes/06_queue_consumer_subclass.lua

local Consumer = multiprocessing.Process:extend("Consumer")
Consumer.lock = multiprocessing.Lock()   -- one lock for all consumers

function Consumer:init(id, q)
  Consumer.super.init(self)
  self.id = id
  self.post = q
end

function Consumer:run()
  while true do
    local ok, data = pcall(self.post.get, self.post, false)   -- get(block=False)
    if not ok then
      if data == queue.Empty then break end
      error(data, 0)
    end
    do
      local _ <close> = Consumer.lock:hold()
      print(("process id: %d,data:%d"):format(self.id, data))
    end
    time.sleep(0.1)
  end
end

local q = multiprocessing.Queue()
for i = 0, 9 do q:put(i) end

local consumers = {}
for i = 0, 1 do
  local c = Consumer(i, q)
  c:start()
  consumers[#consumers + 1] = c
end
for _, c in ipairs(consumers) do c:join() end
print(("both consumers done; queue empty: %s"):format(q:empty()))
