-- Stress: coroutines resumed from several threads.
--   shared: a few coroutines that loop forever (work, then yield their
--           step number) are resumed by every thread at once. Resuming one
--           that another thread is running must fail with "cannot resume
--           non-suspended coroutine" (Lua's own error, GIL on or off), never
--           crash and never kill the coroutine; each successful resume
--           returns the next step: across all threads the steps returned
--           for one coroutine are 1, 2, 3, ... each exactly once, and their
--           number is the number of successful resumes
--   wrap:   the same through coroutine.wrap (an error raised, caught)
--   status: coroutine.status of a shared coroutine is always suspended,
--           normal or running
--   own:    each thread's own generators, coroutines raising errors, and
--           coroutine.close, with exact results
-- usage: cthreads coroutines.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("coroutines")

local OPS = H.ops(60000)          -- resumes per thread
local SHARED = math.max(2, N // 2)
local WORK = 100                  -- loop iterations inside each step

local fail = H.fail
local BUSY = "cannot resume non-suspended coroutine"

local function stepper(id)
  return function()
    local step = 0
    while true do
      step = step + 1
      local x = 0
      for i = 1, WORK do x = x + i end
      if x ~= WORK * (WORK + 1) // 2 then error("arithmetic went wrong inside coroutine " .. id) end
      coroutine.yield(id, step)
    end
  end
end

local cos, wraps = {}, {}
for id = 1, SHARED do
  cos[id] = coroutine.create(stepper(id))
  wraps[id] = coroutine.wrap(stepper(SHARED + id))
end

local got = {}                    -- got[tid][id] = steps this thread received
local stats = {}                  -- stats[tid] = {ok =, busy =}

local function own_coroutines(tid, j)
  local gen = coroutine.wrap(function(n) for i = 1, n do coroutine.yield(i * tid) end return "end" end)
  local sum = 0
  local v = gen(5)
  while v ~= "end" do sum = sum + v; v = gen() end
  if sum ~= 15 * tid then fail("generator summed %s, expected %d", tostring(sum), 15 * tid) end
  local bad = coroutine.create(function(x) coroutine.yield(x); error({code = x}) end)
  local ok1, y = coroutine.resume(bad, j)
  local ok2, e = coroutine.resume(bad)
  if not ok1 or y ~= j or ok2 or type(e) ~= "table" or e.code ~= j or coroutine.status(bad) ~= "dead" then
    fail("erroring coroutine: %s %s %s %s %s", ok1, y, ok2, tostring(e), coroutine.status(bad))
  end
  local closing = coroutine.create(function() coroutine.yield() end)
  coroutine.resume(closing)
  local closed = coroutine.close(closing)
  if closed ~= true or coroutine.status(closing) ~= "dead" then
    fail("coroutine.close gave %s, status %s", tostring(closed), coroutine.status(closing))
  end
end

H.run(N, function(tid)
  local mine, st = {}, {ok = 0, busy = 0, wrap_ok = 0, wrap_busy = 0}
  got[tid], stats[tid] = mine, st
  for id = 1, SHARED do mine[id] = {} end
  for j = 1, OPS do
    local id = (j + tid) % SHARED + 1
    local ok, a, b = coroutine.resume(cos[id])
    if ok then
      if a ~= id or math.type(b) ~= "integer" then
        fail("coroutine %d yielded %s, %s", id, tostring(a), tostring(b))
      else
        local steps = mine[id]
        steps[#steps + 1] = b
        st.ok = st.ok + 1
      end
    elseif a == BUSY then
      st.busy = st.busy + 1
    else
      fail("resuming shared coroutine %d failed with: %s", id, tostring(a))
    end
    local s = coroutine.status(cos[(j * 3 + tid) % SHARED + 1])
    if s ~= "suspended" and s ~= "normal" and s ~= "running" then fail("status of a shared coroutine: %s", s) end

    if j % 4 == 0 then
      local wok, wa = pcall(wraps[id])
      if wok then
        if wa ~= SHARED + id then fail("wrapped coroutine %d yielded %s", id, tostring(wa)) end
        st.wrap_ok = st.wrap_ok + 1
      elseif type(wa) == "string" and wa:find(BUSY, 1, true) then
        st.wrap_busy = st.wrap_busy + 1
      else
        fail("calling wrapped coroutine %d raised: %s", id, tostring(wa))
      end
    end
    if j % 50 == 0 then own_coroutines(tid, j) end
  end
end)

-- every step 1..last handed out exactly once per coroutine
local resumes, busy, wrap_busy = 0, 0, 0
for tid = 1, N do
  local st = stats[tid] or {ok = 0, busy = 0, wrap_busy = 0}
  resumes, busy, wrap_busy = resumes + st.ok, busy + st.busy, wrap_busy + st.wrap_busy
end
local handed = 0
for id = 1, SHARED do
  local all = {}
  for tid = 1, N do for _, step in ipairs((got[tid] or {})[id] or {}) do all[#all + 1] = step end end
  table.sort(all)
  for i, step in ipairs(all) do
    if step ~= i then fail("coroutine %d: steps received, sorted, have %d at place %d", id, step, i); break end
  end
  handed = handed + #all
  local ok, a, next_step = coroutine.resume(cos[id])
  if not ok or a ~= id or next_step ~= #all + 1 then
    fail("coroutine %d: its next step is %s, %d were received", id, tostring(next_step), #all)
  end
end
H.check(handed == resumes, "%d steps received, %d resumes succeeded", handed, resumes)
H.check(resumes + busy == N * OPS, "%d resumes succeeded and %d found it busy, %d made", resumes, busy, N * OPS)

H.finish(("%d resumes, %d found the coroutine busy (%d through wrap)"):format(resumes, busy, wrap_busy))
