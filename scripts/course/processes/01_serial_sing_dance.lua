-- Ports: course 001 (slides), 多进程 > 模拟多任务处理：一边唱歌一边跳舞 (sing calls
--        dance; no concurrency yet).
-- Teaches: the starting point: one process, one thread, everything in series
-- (串行). The dancing happens only between lines of singing, and the whole
-- thing takes 3 seconds. The next scripts run work at the same time, with
-- processes (多进程) or threads (多线程).
-- Run: cthreads --gil processes/01_serial_sing_dance.lua

local function dance()
  print("正在跳舞")
end

local function sing()
  for _ = 1, 3 do
    print("正在唱歌")
    dance()
    time.sleep(1)
  end
end

local t0 = time.monotonic()
sing()
print(("serial (串行): 3 songs and 3 dances, one after the other, in %.1f s"):format(time.monotonic() - t0))
