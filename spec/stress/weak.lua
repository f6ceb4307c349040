-- Stress: weak tables shared by N threads while collections run.
-- Every thread creates objects and enters each in four shared weak
-- tables: weak keys (object -> number), weak values (number -> object),
-- an ephemeron table (object -> a table holding the object) and a table
-- weak in both (object -> object). It keeps one object in KEEP strongly
-- reachable for a while (in a ring of the last WINDOW kept, which the
-- others read) and drops the rest, and it allocates and collects as it
-- goes. While the threads run,
-- every kept object (its own and the others') must still be in all four
-- tables with the right value; after the join and two full collections
-- exactly the kept objects remain: the unreachable ones vanished, the
-- reachable ones stayed.
-- usage: cthreads weak.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("weak")

local OPS = H.ops(15000)          -- objects created per thread
local KEEP = 10                   -- one object in KEEP stays reachable...
local WINDOW = 500                -- ...among the last WINDOW kept by each thread
local COLLECT_EVERY = OPS // 3    -- collectgarbage() in each thread, 3 times
local ID = 100000000              -- object id = tid * ID + j

local fail = H.fail

local wk = setmetatable({}, {__mode = "k"})
local wv = setmetatable({}, {__mode = "v"})
local eph = setmetatable({}, {__mode = "k"})
local wkv = setmetatable({}, {__mode = "kv"})
local kept = {}                   -- kept[tid] = list of reachable objects

local function check_kept(obj, when)
  local id = obj.id
  if wk[obj] ~= id then fail("%s: weak-key entry of reachable object %d is %s", when, id, tostring(wk[obj])) end
  if wv[id] ~= obj then fail("%s: weak-value entry of reachable object %d is %s", when, id, tostring(wv[id])) end
  local e = eph[obj]
  if type(e) ~= "table" or e[1] ~= obj then fail("%s: ephemeron entry of reachable object %d is %s", when, id, tostring(e)) end
  if wkv[obj] ~= obj then fail("%s: weak key-and-value entry of reachable object %d is %s", when, id, tostring(wkv[obj])) end
end

H.run(N, function(tid)
  local mine, nkept = {}, 0
  kept[tid] = mine
  for j = 1, OPS do
    local id = tid * ID + j
    local obj = {id = id, payload = {j}}
    wk[obj] = id
    wv[id] = obj
    eph[obj] = {obj}
    wkv[obj] = obj
    if j % KEEP == 0 then
      mine[nkept % WINDOW + 1] = obj      -- the object it replaces is dropped
      nkept = nkept + 1
    end

    -- a value found under a weak key must belong to it
    local probe = wv[tid * ID + math.max(1, j - (j * 37) % 64)]
    if probe ~= nil and (type(probe) ~= "table" or probe.payload[1] ~= probe.id - tid * ID) then
      fail("weak-value table gave a wrong object: %s", tostring(probe))
    end
    if j % 50 == 0 then
      for _ = 1, 3 do
        local other = kept[(j + tid) % N + 1]
        local n = other and #other or 0
        if n > 0 then check_kept(other[(j * 31) % n + 1], "during the run") end
      end
    end
    if j % COLLECT_EVERY == 0 then collectgarbage() end
    if j % 100 == 0 then local garbage = {} for i = 1, 200 do garbage[i] = {i} end end
  end
end)

collectgarbage()
collectgarbage()
local total = 0
for tid = 1, N do
  for _, obj in ipairs(kept[tid] or {}) do
    check_kept(obj, "after the join")
    total = total + 1
  end
end
local expected = N * math.min(OPS // KEEP, WINDOW)
H.check(total == expected, "%d objects kept, expected %d", total, expected)
for name, t in pairs{["weak keys"] = wk, ["weak values"] = wv, ephemeron = eph, ["weak keys and values"] = wkv} do
  local left = H.count(t)
  H.check(left == total, "the %s table has %d entries after two full collections, %d objects are reachable",
    name, left, total)
end

H.finish(("%d objects, %d kept"):format(N * OPS, total))
