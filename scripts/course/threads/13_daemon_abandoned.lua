-- Ports: course 002 (Day 10), 守护线程 (thread m with setDaemon(True)).
-- Teaches: daemon threads (守护线程) are abandoned when the main thread ends.
-- m starts five workers, joining each for at most 1 s; the main thread waits
-- for m only 2 s (join(timeout=2)) and ends: m and the workers it started
-- (daemons too: a thread inherits daemon from the thread that creates it) are
-- cut off, so fewer than five "starting thread" lines appear and the program
-- still exits cleanly with status 0.
-- Run: cthreads --gil threads/13_daemon_abandoned.lua

-- join timeouts follow CTHREADS_TIME_SCALE like the sleeps, so the timing
-- relations (and what gets cut off) stay the same when the test speeds it up
local SCALE = tonumber(os.getenv("CTHREADS_TIME_SCALE")) or 1

local function run(n)
  print(("[%s]------running----"):format(n))
  time.sleep(2)
  print("--done--")
end

local function main()
  for i = 0, 4 do
    local t = threading.Thread{target = run, args = {i}}
    t:start()
    t:join(1 * SCALE)
    print("starting thread " .. t:getName())
  end
end

local m = threading.Thread{target = main}
m:setDaemon(true)   -- 将main线程设置为Daemon线程 (must be before start)
m:start()
m:join(2 * SCALE)
print(("m is a daemon: %s, still alive: %s"):format(m.daemon, m:is_alive()))
print("---main thread done----")
