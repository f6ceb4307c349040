-- The collector while threads run, in both GIL modes. With the GIL off
-- collections are generational by default (young and major ones, each
-- whole in a stop-the-world), so old tables, upvalues and cells get new
-- objects from other threads between collections: what they hold must
-- survive every collection, and weak entries must go once unreachable.
-- Deterministic: threads are joined before anything is checked; the
-- collections come from the garbage each thread makes as it goes.

local Thread = threading.Thread

-- runs f(i) in n threads and joins them
local function in_threads(n, f)
  local ts = {}
  for i = 1, n do
    ts[i] = Thread{target = f, args = {i}}
    ts[i]:start()
  end
  for i = 1, n do ts[i]:join() end
end

local function garbage(n)
  local g
  for i = 1, n do g = {i, tostring(i)} end
  return g
end

describe("the collector with threads running", function()
  it("keeps new keys and values that threads store into old tables", function()
    local shared = {}
    collectgarbage()
    collectgarbage()  -- 'shared' is old now
    in_threads(2, function(tid)
      for j = 1, 3000 do
        local key = {tid = tid, j = j}    -- a new table as the key
        shared[key] = {tostring(j), j}    -- and a new table as the value
        shared[tid * 100000 + j] = "v" .. j
        if j % 100 == 0 then garbage(500) end
      end
    end)
    collectgarbage()
    local tables, strings = 0, 0
    for k, v in pairs(shared) do
      if type(k) == "table" then
        assert.equal(tostring(k.j), v[1])
        assert.equal(k.j, v[2])
        tables = tables + 1
      else
        assert.equal("v" .. (k % 100000), v)
        strings = strings + 1
      end
    end
    assert.equal(6000, tables)
    assert.equal(6000, strings)
  end)

  it("keeps new objects that threads store into old upvalues", function()
    local last = {}
    local function set(v) last[v.tid] = v end
    local cell = nil
    local function setcell(v) cell = v end
    collectgarbage()
    collectgarbage()  -- 'last', 'set' and the cell are old now
    in_threads(2, function(tid)
      for j = 1, 3000 do
        set({tid = tid, j = j, s = "s" .. j})
        setcell({tid = tid, j = j})
        if j % 100 == 0 then garbage(500) end
      end
    end)
    collectgarbage()
    for tid = 1, 2 do
      assert.equal(3000, last[tid].j)
      assert.equal("s3000", last[tid].s)
    end
    assert.equal(3000, cell.j)
  end)

  it("drops weak-keyed entries whose keys became unreachable", function()
    local weak = setmetatable({}, {__mode = "k"})
    local kept = {}
    in_threads(2, function(tid)
      local mine = {}
      kept[tid] = mine
      for j = 1, 5000 do
        local obj = {tid = tid, j = j}
        weak[obj] = j
        if j % 50 == 0 then mine[#mine + 1] = obj end
        if j % 1000 == 0 then garbage(2000) end
      end
    end)
    collectgarbage()
    collectgarbage()
    local n = 0
    for k, v in pairs(weak) do
      assert.equal(k.j, v)
      assert.equal(k, kept[k.tid][v // 50])
      n = n + 1
    end
    assert.equal(200, n)
  end)

  it("reports the previous mode when switched, with threads running", function()
    local started, go = threading.Event(), threading.Event()
    local t = Thread{target = function() started:set(); go:wait() end}
    t:start()
    started:wait()
    collectgarbage("generational")  -- the default; another spec may have switched
    assert.equal("generational", collectgarbage("incremental"))
    collectgarbage()
    garbage(10000)
    assert.equal("incremental", collectgarbage("generational"))
    collectgarbage()
    garbage(10000)
    assert.equal("generational", collectgarbage("generational"))
    go:set()
    t:join()
  end)
end)
