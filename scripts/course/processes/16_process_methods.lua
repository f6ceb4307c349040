-- Ports: course 004 (notes), 多进程 multiprocessing > 实例方法 (is_alive, join(timeout),
--        start, run, terminate) and 属性 (daemon, name, pid).
-- Teaches: a process's life from the parent's side: not alive before start(),
-- alive after; join(timeout) gives up after timeout seconds if it is still
-- running; terminate() stops it at once (不管任务是否完成) with SIGTERM, so its
-- exitcode is -15; a normal end gives exitcode 0. A daemon process is
-- terminated when the parent ends.
-- Run: cthreads --gil processes/16_process_methods.lua

local SCALE = tonumber(os.getenv("CTHREADS_TIME_SCALE")) or 1   -- the join timeout follows the sleeps

local function sleeper(seconds)
  time.sleep(seconds)
end

local p = multiprocessing.Process{target = sleeper, args = {60}, name = "sleeper"}
print(("name: %s, daemon: %s, alive before start: %s"):format(p.name, p.daemon, p:is_alive()))
p:start()
print(("started: pid is a number: %s, is_alive: %s"):format(math.type(p.pid) == "integer", p:is_alive()))
p:join(0.5 * SCALE)
print(("after join(0.5): still alive: %s, exitcode: %s"):format(p:is_alive(), p.exitcode))
p:terminate()
p:join()
print(("after terminate(): alive: %s, exitcode: %s"):format(p:is_alive(), p.exitcode))

local quick = multiprocessing.Process{target = sleeper, args = {0.1}}
quick:start()
quick:join()
print(("a process that ends normally: exitcode: %s"):format(quick.exitcode))

local d = multiprocessing.Process{target = sleeper, args = {2}}
d.daemon = true   -- P.daemon = True, before start()
d:start()
print(("daemon process started: %s; it is terminated when this program ends"):format(d:is_alive()))
