-- Stress: threads that start threads. Each of N threads keeps starting
-- short-lived children, handled in four ways: joined at once, joined with a
-- timeout until done, never joined (the handle dropped at once, so that it
-- can be collected before or after the child ends), and daemon children
-- that start a grandchild of their own. Collections run throughout, so
-- thread states are released from both sides (the ending thread and the
-- collected handle) in every order.
--   every child runs exactly once (a Lock-protected count per child);
--   default names Thread-N are never repeated;
--   join returns true once a child has ended, is_alive is then false;
--   at the end, after every child has signalled, enumerate() holds only
--   the main thread and active_count() is 1.
-- usage: cthreads threads.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("threads")

local CHILDREN = H.ops(1000)      -- children started per thread

local fail, check = H.fail, H.check

local lock = threading.Lock()
local runs = {}                   -- runs[id] = times child id ran
local names = {}                  -- names[name] = true
local expected = 0                -- children and grandchildren started
local ended = threading.Semaphore(0)  -- released once by each when it ends

local function record(id)
  local name = threading.current_thread().name
  lock:acquire()
  runs[id] = (runs[id] or 0) + 1
  if names[name] then fail("thread name %s given twice", name) end
  names[name] = true
  lock:release()
end

local function child(id, garbage)
  local t = {}
  for i = 1, garbage do t[i] = {i, tostring(i)} end
  record(id)
  ended:release()
end

local function start(target, ...)
  lock:acquire()
  expected = expected + 1
  lock:release()
  local t = threading.Thread{target = target, args = table.pack(...)}
  t:start()
  return t
end

H.run(N, function(tid)
  for k = 1, CHILDREN do
    local id = tid * 1000000 + k
    local how = k % 4
    if how == 0 then
      local t = start(child, id, 10)
      t:join()
      check(not t:is_alive(), "child %d alive after join", id)
    elseif how == 1 then
      local t = start(child, id, 50)
      while not t:join(0.001) do end
      check(not t:is_alive(), "child %d alive after a join that returned true", id)
    elseif how == 2 then
      start(child, id, 20)  -- dropped: collected whenever
    else
      lock:acquire()
      expected = expected + 1
      lock:release()
      local d = threading.Thread{daemon = true, target = function()
        record(id)
        start(child, id + 500000, 5)  -- a grandchild, never joined
        ended:release()
      end}
      d:start()
    end
    if k % 50 == 0 then collectgarbage() end
  end
end)

-- every child and grandchild says it has ended (then it still has to
-- leave the heap: wait until enumerate agrees)
for _ = 1, expected do
  if not ended:acquire(true, 60) then fail("a child never ended") break end
end
local deadline = time.monotonic() + 60
while threading.active_count() > 1 and time.monotonic() < deadline do
  collectgarbage()
  time.sleep(0.001)
end
check(threading.active_count() == 1, "active_count is %d at the end", threading.active_count())
check(#threading.enumerate() == 1, "enumerate lists %d threads at the end", #threading.enumerate())
local total = 0
for id, n in pairs(runs) do
  total = total + 1
  check(n == 1, "child %d ran %d times", id, n)
end
check(total == expected, "%d children ran, %d were started", total, expected)
collectgarbage()
collectgarbage()
H.finish(("%d threads started"):format(expected))
