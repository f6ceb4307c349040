-- Ports: course 000 (Day 3 / 第三天), queue 模块 > 类 (Producer and Consumer
--        subclasses of threading.Thread).
-- Teaches: the same producer/consumer as 01_producer_consumer_functions.lua,
-- written as Thread subclasses with constructors; the print lock is a class
-- field (Consumer.lock) shared by all consumers. The same empty-check race
-- applies, so the count consumed can vary.
-- Run: cthreads --gil queues/02_producer_consumer_classes.lua

local numconsumers = 2
local numproducers = 2
local nummessages = 4

local dataQueue = queue.Queue()
local consumed = 0

local Producer = threading.Thread:extend("Producer")
function Producer:init(idnum, nummessages)
  Producer.super.init(self)
  self.idnum = idnum
  self.nummessages = nummessages
end
function Producer:run()
  for msgnum = 0, self.nummessages - 1 do
    dataQueue:put(("producer id=%d, count=%d"):format(self.idnum, msgnum))
  end
end

local Consumer = threading.Thread:extend("Consumer")
Consumer.lock = threading.Lock()
function Consumer:init(idnum)
  Consumer.super.init(self)
  self.idnum = idnum
end
function Consumer:run()
  while not dataQueue:empty() do
    local ok, data = pcall(dataQueue.get, dataQueue, false)
    if not ok then
      if data == queue.Empty then break end
      error(data, 0)
    end
    do
      local _ <close> = Consumer.lock:hold()
      print(("consumer %d got =>  %s"):format(self.idnum, data))
      consumed = consumed + 1
    end
    time.sleep(0.1)
  end
end

local consumerThreads, producerThreads = {}, {}
for i = 0, numproducers - 1 do
  local t = Producer(i, nummessages)
  producerThreads[#producerThreads + 1] = t
  t:start()
end
for i = 0, numconsumers - 1 do
  local t = Consumer(i)
  consumerThreads[#consumerThreads + 1] = t
  t:start()
end
for _, t in ipairs(producerThreads) do t:join() end
for _, t in ipairs(consumerThreads) do t:join() end
print(("consumed %d of %d messages, %d left in the queue"):format(
  consumed, numproducers * nummessages, dataQueue:qsize()))
