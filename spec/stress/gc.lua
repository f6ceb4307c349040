-- Stress: collections forced from every thread during allocation storms.
-- Each thread keeps a tree of its own alive (and the main thread a shared
-- one) while it allocates garbage fast: tables, strings, closures,
-- coroutines, tables of garbage; it calls collectgarbage() (a full cycle),
-- "step", "count", "isrunning", switches between "incremental" and
-- "generational", sets the pause and step multiplier, and stops and
-- restarts the collector. Live data must
-- survive every collection intact (the trees' checksums), garbage values
-- must read back what was written while they were alive, and each
-- collectgarbage option must return what the manual says.
-- usage: cthreads gc.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("gc")

local ROUNDS = H.ops(60)          -- storm rounds per thread
local GARBAGE = 2000              -- objects allocated per round
local DEPTH = 10                  -- depth of each kept tree

local fail = H.fail

local function tree(depth, id)
  if depth == 0 then return {id = id} end
  return {id = id, left = tree(depth - 1, id * 2), right = tree(depth - 1, id * 2 + 1)}
end
local function checksum(t)
  if not t.left then return t.id end
  return t.id + checksum(t.left) + checksum(t.right)
end

local shared_tree = tree(DEPTH, 1)
local SHARED_SUM = checksum(shared_tree)
local collections, counts_down = 0, 0
local stat_lock = threading.Lock()

H.run(N, function(tid)
  local mine = tree(DEPTH, tid)
  local want = checksum(mine)
  local last_count = collectgarbage("count")
  local mine_collections, mine_down = 0, 0
  for r = 1, ROUNDS do
    -- the storm: garbage of every kind, checked while alive
    local keep = {}
    for i = 1, GARBAGE do
      local k = i % 5
      local v
      if k == 0 then v = {i, tid, r}
      elseif k == 1 then v = ("g%d:%d:%d"):format(tid, r, i)
      elseif k == 2 then local c = i; v = function() return c end
      elseif k == 3 then v = coroutine.create(function() return i end)
      else v = {x = {y = {z = i}}} end
      if i % 100 == 0 then keep[#keep + 1] = v end
    end
    for n, v in ipairs(keep) do
      local i = n * 100
      local k = i % 5
      local ok
      if k == 0 then ok = v[1] == i and v[2] == tid and v[3] == r
      elseif k == 1 then ok = v == ("g%d:%d:%d"):format(tid, r, i)
      elseif k == 2 then ok = v() == i
      elseif k == 3 then local s, x = coroutine.resume(v); ok = s and x == i
      else ok = v.x.y.z == i end
      if not ok then fail("garbage object %d of round %d (kind %d) changed while alive", i, r, k) end
    end

    -- the collector's interface, from every thread at once
    local what = (r + tid) % 6
    if what == 0 then
      local res = collectgarbage()
      if res ~= 0 then fail("collectgarbage() returned %s", tostring(res)) end
      mine_collections = mine_collections + 1
    elseif what == 1 then
      local res = collectgarbage("step", 10)
      if type(res) ~= "boolean" then fail("collectgarbage('step') returned %s", tostring(res)) end
    elseif what == 2 then
      local prev = collectgarbage(r % 2 == 0 and "generational" or "incremental")
      if prev ~= "generational" and prev ~= "incremental" then fail("mode switch returned %s", tostring(prev)) end
    elseif what == 3 then
      collectgarbage("stop")
      local t = {}
      for i = 1, 100 do t[i] = {i} end
      collectgarbage("restart")
      if #t ~= 100 or t[100][1] ~= 100 then fail("allocation while stopped lost data") end
    elseif what == 4 then
      local running = collectgarbage("isrunning")
      if type(running) ~= "boolean" then fail("isrunning returned %s", tostring(running)) end
      -- the collector's settings, set by several threads at once
      local prev = collectgarbage("setpause", 180 + 4 * (tid % 8))
      if math.type(prev) ~= "integer" or prev < 100 or prev > 220 then fail("setpause returned %s", tostring(prev)) end
      prev = collectgarbage("setstepmul", 100 + 4 * (r % 8))
      if math.type(prev) ~= "integer" or prev < 100 or prev > 140 then fail("setstepmul returned %s", tostring(prev)) end
      prev = collectgarbage("incremental", 200, 100, 13)
      if prev ~= "generational" and prev ~= "incremental" then fail("mode switch returned %s", tostring(prev)) end
    else
      local res = collectgarbage("collect")
      if res ~= 0 then fail("collectgarbage('collect') returned %s", tostring(res)) end
      mine_collections = mine_collections + 1
    end
    local count = collectgarbage("count")
    if math.type(count) ~= "float" or count <= 0 or count ~= count then
      fail("collectgarbage('count') = %s", tostring(count))
    end
    if count < last_count then mine_down = mine_down + 1 end
    last_count = count

    if r % 5 == 0 then
      local sum = checksum(mine)
      if sum ~= want then fail("thread %d's tree sums to %s after round %d, expected %d", tid, sum, r, want) end
      local shared = checksum(shared_tree)
      if shared ~= SHARED_SUM then fail("the shared tree sums to %s, expected %d", shared, SHARED_SUM) end
    end
  end
  if checksum(mine) ~= want then fail("thread %d's tree changed", tid) end
  stat_lock:acquire()
  collections, counts_down = collections + mine_collections, counts_down + mine_down
  stat_lock:release()
end)

collectgarbage("restart")
collectgarbage("incremental")
H.check(collectgarbage("isrunning") == true, "the collector is not running after restart")
H.check(checksum(shared_tree) == SHARED_SUM, "the shared tree changed")
local before = collectgarbage("count")
collectgarbage()
collectgarbage()
local after = collectgarbage("count")
H.check(after <= before, "memory in use grew over two full collections with nothing allocated: %.0f KB -> %.0f KB",
  before, after)

H.finish(("%d full collections called, memory in use fell %d times"):format(collections, counts_down))
