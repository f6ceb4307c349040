-- Stress: the debug library on the states of threads that are running.
--   Each thread publishes its own state (coroutine.running()) and a
--   coroutine it keeps resuming, then works: recursion, calls, its own
--   coroutines, errors caught. Meanwhile it points debug.getinfo,
--   getlocal, setlocal, traceback, sethook and gethook at the other
--   threads' states and coroutines. A state that another thread runs is
--   refused with "cannot use a coroutine that another thread is running"
--   (never read while it changes: that crashed); a suspended coroutine
--   can be inspected, and its locals written, by any thread that holds it.
--   What must hold: the only errors are that refusal (and "level out of
--   range" for a frame that has gone); each thread's own computations come
--   out exact, whatever the others did; every thread's result is right.
-- usage: cthreads debug.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("debug")

local OPS = H.ops(1500)          -- rounds per thread
local fail = H.fail
local BUSY = "cannot use a coroutine that another thread is running"

local states, cos = {}, {}
local ready = threading.Barrier(N)

local function expected_error(err)
  return type(err) == "string" and (err:find(BUSY, 1, true) or err:find("level out of range", 1, true))
end

-- recursion whose result is checked: locals the others may read
local function rec(n, acc)
  local depth, tag = n, "rec"
  if n == 0 then return acc end
  return rec(n - 1, acc + depth) + 0
end

-- a coroutine that yields its step, with a local named 'mark' that other
-- threads may overwrite while it is suspended (it is not used for results)
local function stepper()
  return coroutine.create(function()
    local step, mark = 0, "m"
    while true do
      step = step + 1
      coroutine.yield(step)
    end
  end)
end

local refused, inspected = {}, {}

H.run(N, function(tid)
  states[tid] = coroutine.running()
  cos[tid] = stepper()
  ready:wait()
  local nref, nins = 0, 0
  local own = stepper()
  for j = 1, OPS do
    -- own work
    local depth = j % 30
    local got = rec(depth, 0)
    if got ~= depth * (depth + 1) // 2 then fail("thread %d: rec(%d) gave %s", tid, depth, tostring(got)) end
    local ok, step = coroutine.resume(own)
    if not ok or step ~= j then fail("thread %d: own coroutine gave %s %s at %d", tid, tostring(ok), tostring(step), j) end
    local perr = select(2, pcall(error, {j}))
    if type(perr) ~= "table" or perr[1] ~= j then fail("thread %d: pcall lost its error", tid) end
    -- inspect another thread's state and another's coroutine
    local other = (tid + j) % N + 1
    for _, target in ipairs({states[other], cos[other]}) do
      local ok2, err = pcall(function()
        local lvl = j % 4
        local info = debug.getinfo(target, lvl, "nSltufrL")
        if info then
          local name, v = debug.getlocal(target, lvl, 1)
          if name == "mark" then debug.setlocal(target, lvl, 1, v) end
          debug.getlocal(target, lvl, -1)
        end
        debug.traceback(target, "m", lvl)
        if j % 10 == 0 then debug.sethook(target, function() end, "l", 100) debug.sethook(target) end
        debug.gethook(target)
        coroutine.resume(target)
      end)
      if ok2 then nins = nins + 1
      elseif expected_error(err) then nref = nref + 1
      else fail("thread %d: inspecting thread %d: %s", tid, other, tostring(err)) end
    end
  end
  refused[tid], inspected[tid] = nref, nins
end)

local nref, nins = 0, 0
for tid = 1, N do nref, nins = nref + (refused[tid] or 0), nins + (inspected[tid] or 0) end
H.finish(("%d inspections, %d refused"):format(nins, nref))
