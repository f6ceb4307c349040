-- Stress: __gc finalizers of objects made and dropped by N threads.
-- Every object made gets a finalizer (through one of two metatables; the
-- second's finalizer allocates and resurrects its object for a while).
-- Each finalizer counts its run under a Lock, per object: it must run
-- exactly once for every object, never for an object still reachable,
-- and not again for a resurrected one. Objects are dropped where they
-- are made, or handed to a shared slot that another thread overwrites;
-- one in KEEP stays reachable until the threads end. Collections come
-- from the allocation itself and from collectgarbage() in the threads.
-- After the join, with everything dropped, two full collections: then
-- every finalizer has run, once.
-- usage: cthreads finalizers.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("finalizers")

local OPS = H.ops(40000)          -- objects made per thread
local KEEP = 20                   -- one in KEEP stays reachable to the end
local SLOTS = 64                  -- shared hand-off slots
local COLLECT_EVERY = OPS // 12   -- collectgarbage() in each thread, 12 times
local TOTAL = N * OPS

local fail = H.fail

-- ran[id]: finalizer runs; graveyard[id]: resurrected objects. Both are
-- filled up front, so the finalizers assign existing slots and allocate
-- nothing while they hold fin_lock
local ran, graveyard = {}, {}
for id = 1, TOTAL do ran[id] = 0; graveyard[id] = false end
local fin_lock = threading.Lock()
local fin_count, resurrected = 0, 0

local function count(o, resurrecting)
  fin_lock:acquire()
  fin_count = fin_count + 1
  ran[o.id] = ran[o.id] + 1
  if resurrecting then resurrected = resurrected + 1 end
  fin_lock:release()
end
local plain = {__gc = function(o) count(o, false) end}
local resurrecting = {__gc = function(o)
  local note = {o.id, tostring(o.id)}   -- a finalizer may allocate
  if note[1] ~= o.id then o.bad = true end
  graveyard[o.id] = o                   -- reachable again, never finalized again
  count(o, true)
end}

-- a resurrected object must be intact
local function check_resurrected(id)
  local o = graveyard[id]
  if o and (o.bad or o.id ~= id) then fail("resurrected object %d is damaged", id) end
end

local handoff = {}
local kept = {}

H.run(N, function(tid)
  local mine = {}
  kept[tid] = mine
  local base = (tid - 1) * OPS
  local buried = 0                      -- graveyard released up to base + buried
  for j = 1, OPS do
    local id = base + j
    local o = setmetatable({id = id, pad = {j}}, j % 3 == 0 and resurrecting or plain)
    if j % KEEP == 0 then mine[#mine + 1] = o
    elseif j % 2 == 0 then handoff[(j * 7 + tid) % SLOTS + 1] = o end
    if j % 500 == 0 then
      -- reachable objects are never finalized (the last 200 kept, and 50 more)
      local n = #mine
      for i = math.max(1, n - 199), n do
        if ran[mine[i].id] ~= 0 then fail("object %d was finalized while reachable", mine[i].id) end
      end
      for i = 1, math.min(n, 50) do
        local k = mine[(i * 7919 + j) % n + 1]
        if ran[k.id] ~= 0 then fail("object %d was finalized while reachable", k.id) end
      end
    end
    if j % COLLECT_EVERY == 0 then
      collectgarbage()
      -- let go of older resurrected objects (they die without a second
      -- finalizer run), so the heap does not grow with the run
      for id = base + buried + 1, base + j - 1000 do
        check_resurrected(id)
        graveyard[id] = false
      end
      buried = j - 1000
    end
  end
end)

-- the kept objects were reachable all along
for tid = 1, N do
  for _, o in ipairs(kept[tid] or {}) do
    if ran[o.id] ~= 0 then fail("kept object %d was finalized while reachable (%d runs)", o.id, ran[o.id]) end
  end
end
for id = 1, TOTAL do check_resurrected(id) end

-- drop everything, then every finalizer must have run exactly once
kept, handoff = nil, nil
for id = 1, TOTAL do graveyard[id] = false end
collectgarbage()
collectgarbage()
local never, twice = 0, 0
for id = 1, TOTAL do
  local r = ran[id]
  if r == 0 then never = never + 1
  elseif r ~= 1 then
    twice = twice + 1
    if twice <= 5 then fail("the finalizer of object %d ran %d times", id, r) end
  end
end
H.check(never == 0, "%d of %d finalizers never ran after two full collections", never, TOTAL)
H.check(fin_count == TOTAL, "finalizers counted %d runs, %d objects were made", fin_count, TOTAL)

H.finish(("%d finalizers, %d objects resurrected on the way"):format(fin_count, resurrected))
