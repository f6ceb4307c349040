-- Ports: course 003 (English), "Switch pass parameter" (eat and play_phone;
--        gr1.switch(name='egon'), gr2.switch('alex')).
-- Teaches: the first switch() into a greenlet passes its function's
-- arguments; a later switch() into it resumes it where it paused.
-- Run: cthreads --gil coroutines/07_greenlet_switch_args.lua

package.path = (arg[0]:match("^(.*)[/\\]") or ".") .. "/../lib/?.lua;" .. package.path
local greenlet = require("greenlet")

local gr1, gr2

local function eat(name)
  print(("%s eat food 1"):format(name))
  gr2:switch("alex")   -- starts play_phone("alex")
  print(("%s eat food 2"):format(name))
  gr2:switch()         -- resumes play_phone
end

local function play_phone(name)
  print(("%s play 1"):format(name))
  gr1:switch()         -- resumes eat
  print(("%s play 2"):format(name))
end

gr1 = greenlet(eat)
gr2 = greenlet(play_phone)
gr1:switch("egon")     -- gr1.switch(name='egon')
