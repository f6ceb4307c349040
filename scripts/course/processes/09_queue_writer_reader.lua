-- Ports: course 001 (slides), 进程间通信-Queue (write and read processes).
-- Teaches: one process writes into a multiprocessing.Queue, another reads;
-- the parent waits for the writer before starting the reader (等待接收完毕),
-- so the reader finds all three values. (The course's question: with two
-- readers, who stops when? See queues/08_task_done_join.lua.)
-- Run: cthreads --gil processes/09_queue_writer_reader.lua

local function write(q)
  for _, value in ipairs{"a", "b", "c"} do
    print("开始写入: " .. value)
    q:put(value)
    time.sleep(1)
  end
end

local function read(q)
  while true do
    if not q:empty() then
      print("读取到的是 " .. q:get())
      time.sleep(1)
    else
      break
    end
  end
end

local q = multiprocessing.Queue()
local pw = multiprocessing.Process{target = write, args = {q}}
local pr = multiprocessing.Process{target = read, args = {q}}
pw:start()
pw:join()   -- 等待接收完毕
pr:start()
pr:join()
print("接收完毕!")
