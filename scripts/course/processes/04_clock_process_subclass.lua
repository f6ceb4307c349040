-- Ports: course 001 (slides), 多进程 > ClockProcess(multiprocessing.Process) with run().
-- Teaches: the class way to make a process: subclass Process and override
-- run(); each instance is a process object (等同于实例化一个进程对象), and
-- start() runs run() in the child.
-- Run: cthreads --gil processes/04_clock_process_subclass.lua

local ClockProcess = multiprocessing.Process:extend("ClockProcess")

function ClockProcess:run()
  local n = 5
  while n > 0 do
    print(n)
    time.sleep(1)
    n = n - 1
  end
end

local p = ClockProcess()
p:start()
p:join()
print(("countdown over, exitcode = %s"):format(p.exitcode))
