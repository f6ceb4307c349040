-- Ports: course 001 (slides), 多进程 > multiprocessing模块提供了一个Process类
--        (Process(target=run, args=('test',)), start, name, join).
-- Teaches: a process (进程) runs a function in a new OS process with its own
-- memory; target is what it runs, args its arguments, name defaults to
-- Process-N, pid is its process id; join() waits for it to end, and exitcode
-- is then 0. (Lua needs no `if __name__ == "__main__":` guard: processes are
-- forked, the child does not re-run the script.)
-- Run: cthreads --gil processes/02_process_basics.lua

local function run(name)
  print(("子进程运行中, name = %s, pid = %d"):format(name, os.getpid()))
end

print(("父进程启动, pid = %d"):format(os.getpid()))
local p = multiprocessing.Process{target = run, args = {"test"}}
-- target: 调用对象; args: 调用对象的位置参数 (a table, no trailing comma needed)
print("子进程将要执行")
p:start()
print(p.name)   -- p.pid is the child's process id
p:join()
print(("子进程结束, exitcode = %s"):format(p.exitcode))
