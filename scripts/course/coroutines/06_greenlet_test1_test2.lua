-- Ports: course 003 (English), "Greenlet implement thread switching" (test1
--        and test2 switching to each other twice).
-- Teaches: the order of execution follows the switch() calls exactly: test1
-- first, test2 first, test1 second, test2 second. When test2 returns, control
-- goes back to the main program; test1 never gets its last turn.
-- Run: cthreads --gil coroutines/06_greenlet_test1_test2.lua

package.path = (arg[0]:match("^(.*)[/\\]") or ".") .. "/../lib/?.lua;" .. package.path
local greenlet = require("greenlet")

local gr1, gr2

local function test1()
  print("test1,first")
  gr2:switch()
  print("test1,second")
  gr2:switch()
end

local function test2()
  print("test2,first")
  gr1:switch()
  print("test2,second")
end

gr1 = greenlet(test1)
gr2 = greenlet(test2)
gr1:switch()
print(("main: test2 finished: %s, test1 finished: %s"):format(gr2:dead(), gr1:dead()))
