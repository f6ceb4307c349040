-- Ports: course 002 (Day 10), 生产者消费者模型 (producers alex and eric make
--        bones into a Queue(maxsize=4), consumer 李闯 eats them).
-- Teaches: a bounded queue (maxsize=4) is a blocking buffer: put() waits
-- while it is full and get() waits while it is empty, which balances fast
-- and slow sides (平衡了生产者和消费者的处理能力). The course loops forever
-- (`while q.qsize() < 5` is always true with maxsize 4); here each producer
-- makes BONES bones and the consumer eats them all.
-- Usage: cthreads --gil queues/04_producer_consumer_bones.lua [bones=3]

local BONES = math.tointeger(tonumber(arg and arg[1])) or 3
local q = queue.Queue(4)   -- Queue(maxsize=4)

local function consumer(name, total)
  for _ = 1, total do
    print(("%s 取到骨头[%s]吃了"):format(name, q:get()))
    time.sleep(0.5)
  end
  print(("%s ate %d bones"):format(name, total))
end

local function producer(name)
  for count = 0, BONES - 1 do
    print(("%s 生产了骨头 %d"):format(name, count))
    q:put(count)
    time.sleep(3)
  end
end

local p = threading.Thread{target = producer, args = {"alex"}}
local p2 = threading.Thread{target = producer, args = {"eric"}}
local c = threading.Thread{target = consumer, args = {"李闯", 2 * BONES}}
p:start()
p2:start()
c:start()
p:join(); p2:join(); c:join()
