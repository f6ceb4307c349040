-- greenlet-style coroutines for the course scripts (coroutines/05..07):
-- Python's greenlet lets any greenlet switch() straight to any other
-- (symmetric coroutines). Lua's coroutines are asymmetric (resume/yield), so
-- switch() inside a greenlet yields to a small loop in the main program that
-- resumes the target. As in greenlet, a greenlet that returns goes back to
-- its parent, here always the main program, whose switch() call returns.
--
--   local greenlet = require("greenlet")
--   local gr1 = greenlet(function(...) ... gr2:switch(x) ... end)
--   gr1:switch(args)          -- from the main program: runs until control
--                             -- comes back to it; returns what it got
local greenlet = {}
greenlet.__index = greenlet

local running = nil   -- the greenlet running now; nil while in the main program

local function new(f)
  return setmetatable({co = coroutine.create(f)}, greenlet)
end

-- the main program's side: resume greenlets until one finishes
local function run_from_main(target, args)
  while true do
    running = target
    local r = table.pack(coroutine.resume(target.co, table.unpack(args, 1, args.n)))
    running = nil
    if not r[1] then error(r[2], 0) end
    if coroutine.status(target.co) == "dead" then
      return table.unpack(r, 2, r.n)   -- it returned: back to the parent (main)
    end
    target, args = r[2], r[3]          -- it switched to another greenlet
  end
end

-- g:switch(...): run g, passing it ... (its arguments the first time, the
-- results of its own pending switch() call afterwards)
function greenlet:switch(...)
  if coroutine.status(self.co) == "dead" then
    error("cannot switch to a greenlet that has finished", 2)
  end
  if running == nil then
    return run_from_main(self, table.pack(...))
  end
  return coroutine.yield(self, table.pack(...))
end

function greenlet:dead()
  return coroutine.status(self.co) == "dead"
end

return setmetatable({new = new}, {__call = function(_, f) return new(f) end})
