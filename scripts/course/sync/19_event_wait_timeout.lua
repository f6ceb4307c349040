-- Ports: course 003 (English), "wait (time) sets the timeout" (conn_mysql
--        loops on event.wait(0.1) while the event is not set).
-- Teaches: Event.wait(timeout) returns after at most timeout seconds (false
-- when the event is still clear), so a thread can wait and do something
-- between tries; here each try prints a line, and a thread counts its tries.
-- Run: cthreads --gil sync/19_event_wait_timeout.lua

local SCALE = tonumber(os.getenv("CTHREADS_TIME_SCALE")) or 1   -- the wait timeout follows the sleeps
math.randomseed(os.time())
local event = threading.Event()

local function conn_mysql()
  local name = threading.current_thread():getName()
  local tries = 0
  while not event:is_set() do
    print(("%s wait for connection mysql..."):format(name))
    tries = tries + 1
    event:wait(0.1 * SCALE)
  end
  print(("MySQL initialization succeeded, %s started connection after %d tries"):format(name, tries))
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
print("both connections started")
