-- Ports: course 000 (Day 3 / 第三天), queue 模块 (two producer and two consumer
--        functions sharing dataQueue).
-- Teaches: producers and consumers (生产者和消费者) talk only through a shared
-- queue.Queue, which does its own locking; the extra lock here only keeps
-- each consumer's print whole. The consumers stop when they find the queue
-- empty, which is racy (check, then get): a consumer may look before the
-- producers have put anything, or another consumer may take the last item
-- between empty() and get(block=False) (get then raises queue.Empty). So the
-- number consumed can vary; queues/08_task_done_join.lua shows the robust way.
-- Run: cthreads --gil queues/01_producer_consumer_functions.lua

local numconsumers = 2
local numproducers = 2
local nummessages = 4

local lock = threading.Lock()
local dataQueue = queue.Queue()
local consumed = 0

local function producer(idnum)
  for msgnum = 0, nummessages - 1 do
    dataQueue:put(("producer id=%d, count=%d"):format(idnum, msgnum))
  end
end

local function consumer(idnum)
  while not dataQueue:empty() do
    local ok, data = pcall(dataQueue.get, dataQueue, false)   -- get(block=False)
    if not ok then
      if data == queue.Empty then break end   -- another consumer got there first
      error(data, 0)
    end
    lock:with(function()
      print(("consumer %d got =>  %s"):format(idnum, data))
      consumed = consumed + 1
    end)
    time.sleep(0.1)
  end
end

local consumerThreads, producerThreads = {}, {}
for i = 0, numproducers - 1 do
  local t = threading.Thread{target = producer, args = {i}}
  producerThreads[#producerThreads + 1] = t
  t:start()
end
for i = 0, numconsumers - 1 do
  local t = threading.Thread{target = consumer, args = {i}}
  consumerThreads[#consumerThreads + 1] = t
  t:start()
end
for _, t in ipairs(producerThreads) do t:join() end
for _, t in ipairs(consumerThreads) do t:join() end
print(("consumed %d of %d messages, %d left in the queue"):format(
  consumed, numproducers * nummessages, dataQueue:qsize()))
