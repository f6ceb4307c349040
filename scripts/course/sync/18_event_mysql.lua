-- Ports: course 003 (English), "event object" example (two conn_mysql
--        threads wait; check_mysql sets the event after 1-3 s).
-- Teaches: Event.wait() blocks until another thread calls set(); then all
-- the waiting threads go on at once (all blocking threads are activated).
-- Run: cthreads --gil sync/18_event_mysql.lua

math.randomseed(os.time())
local event = threading.Event()

local function conn_mysql()
  print(("%s waiting for link MySQL..."):format(threading.current_thread():getName()))
  event:wait()
  print(("MySQL initialization succeeded, %s started connection..."):format(
    threading.current_thread():getName()))
end

local function check_mysql()
  print("checking mysql...")
  time.sleep(math.random(1, 3))
  event:set()
  time.sleep(math.random(1, 3))
end

local t1 = threading.Thread{target = conn_mysql}
local t2 = threading.Thread{target = conn_mysql}
local t3 = threading.Thread{target = check_mysql}
t1:start(); t2:start(); t3:start()
t1:join(); t2:join(); t3:join()
print("both connections started after the event was set")
