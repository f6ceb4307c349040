-- Ports: course 001 (slides), 多线程 > 查看当前线程数量 (sing and dance threads).
-- Teaches: threading.enumerate() lists the threads alive now, the main thread
-- included; the main thread polls it once a second until only itself is left.
-- Expect 3 while both run, 2 after dance (2 s) ends, then 1.
-- Run: cthreads --gil threads/06_enumerate_thread_count.lua

local function sing()
  for i = 0, 2 do
    print(("正在唱歌...%d"):format(i))
    time.sleep(1)
  end
end

local function dance()
  for i = 0, 1 do
    print(("正在跳舞...%d"):format(i))
    time.sleep(1)
  end
end

print(("开始: %s"):format(time.time()))
local t1 = threading.Thread{target = sing}
local t2 = threading.Thread{target = dance}
t1:start()
t2:start()

while true do
  local length = #threading.enumerate()
  print(("当前线程数为: %d"):format(length))
  if length <= 1 then break end
  time.sleep(1)
end
