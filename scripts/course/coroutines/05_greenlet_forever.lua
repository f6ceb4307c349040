-- Ports: course 001 (slides), 协程 > greenlet (t1 prints A and switches to gr2,
--        t2 prints b and switches to gr1, each sleeping 1 s; forever).
-- Teaches: greenlet: coroutines that hand control to each other explicitly
-- with switch() (协程自己主动让出CPU; 调到上次执行的地方继续执行: switching
-- back resumes where the greenlet left off). Only one runs at a time, in one
-- thread. The course loops forever; this runs ROUNDS rounds, and when gr1
-- ends, control returns to the main program (gr1's parent) and gr2 is left
-- suspended. lib/greenlet.lua builds switch() from Lua coroutines.
-- Usage: cthreads --gil coroutines/05_greenlet_forever.lua [rounds=3]

package.path = (arg[0]:match("^(.*)[/\\]") or ".") .. "/../lib/?.lua;" .. package.path
local greenlet = require("greenlet")

local ROUNDS = math.tointeger(tonumber(arg and arg[1])) or 3
local gr1, gr2

local function t1()
  for _ = 1, ROUNDS do
    print(".....A.....")
    gr2:switch()
    time.sleep(1)
  end
end

local function t2()
  while true do
    print(".....b.....")
    gr1:switch()   -- 调到上次执行的地方继续执行
    time.sleep(1)
  end
end

gr1 = greenlet(t1)   -- 创建一个greenlet对象
gr2 = greenlet(t2)
gr1:switch()         -- 此时会执行1函数
print(("back in main after %d rounds: gr1 finished: %s, gr2 finished: %s"):format(
  ROUNDS, gr1:dead(), gr2:dead()))
