-- Ports: course 001 (slides), 线程同步--消息队列 (Pro and Con threads; the queue
--        starts with 500 products; producers add 100 at a time while it holds
--        fewer than 1000, consumers take 3 at a time while it holds more than 100).
-- Teaches: the producer/consumer pattern (生产者消费者模式, 做包子/吃包子): the queue
-- is the buffer that decouples them (解耦); producers and consumers never
-- talk to each other directly. The course's threads loop forever; here each
-- producer does ROUNDS rounds of 100 and each consumer ROUNDS rounds of 3,
-- so the final count is exact: 500 + 2*100*ROUNDS made, 5*3*ROUNDS eaten.
-- Usage: cthreads --gil queues/03_producer_consumer_qsize.lua [rounds=2]

local ROUNDS = math.tointeger(tonumber(arg and arg[1])) or 2
local q = queue.Queue()   -- 创建一个队列。线程中能用，进程中不能使用
local made, eaten = 0, 0
local tally = threading.Lock()

local Pro = threading.Thread:extend("Pro")
function Pro:run()
  local count = 0
  for _ = 1, ROUNDS do
    if q:qsize() < 1000 then
      for _ = 1, 100 do
        count = count + 1
        local msg = "生成产品" .. count
        q:put(msg)   -- 队列中添加新产品
        print(self.name .. " " .. msg)
      end
      tally:with(function() made = made + 100 end)
    end
    time.sleep(1)
  end
end

local Con = threading.Thread:extend("Con")
function Con:run()
  for _ = 1, ROUNDS do
    if q:qsize() > 100 then
      for _ = 1, 3 do
        local msg = self.name .. "消费了" .. q:get()
        print(msg)
        tally:with(function() eaten = eaten + 1 end)
        time.sleep(1)
      end
    end
  end
end

for i = 0, 499 do          -- 创建500个产品放到队列里
  q:put("初始产品" .. i)
end
local threads = {}
for _ = 1, 2 do threads[#threads + 1] = Pro() end   -- 两个生产者线程
for _ = 1, 5 do threads[#threads + 1] = Con() end   -- 5个消费者线程
for _, t in ipairs(threads) do t:start() end
for _, t in ipairs(threads) do t:join() end
print(("made %d (plus 500 at the start), eaten %d, left in the queue %d"):format(made, eaten, q:qsize()))
