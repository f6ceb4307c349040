-- Ports: course 001 (slides), 多线程 > MyThread with self.name ("I`m" .. name .. "@" .. i).
-- Teaches: a thread's name attribute (name属性): Thread-N by default; inside
-- run(), self is the Thread object, so self.name is its name.
-- Run: cthreads --gil threads/08_thread_name_in_run.lua

local MyThread = threading.Thread:extend("MyThread")

function MyThread:run()
  for i = 0, 2 do
    time.sleep(1)
    local msg = "I`m" .. self.name .. "@" .. tostring(i)
    print(msg)
  end
end

local t = MyThread()
t:start()
