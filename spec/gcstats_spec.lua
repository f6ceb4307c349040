-- Time spent collecting garbage: the "gc s" column and the pause summary
-- of --stats, and GC boxes in --trace (vm/patches/0004, ct_gcstats.c).
local proc = require("proc")
local json = require("dkjson")

local churn = [[
  local keep = {}
  for i = 1, 200000 do keep[i % 1000] = {i, tostring(i)} end
  collectgarbage()
  local t = threading.Thread{target = function()
    local s = {} for i = 1, 50000 do s[#s + 1] = {i} end
    collectgarbage()
  end}
  t:start(); t:join()
]]

describe("GC pauses", function()
  it("--stats prints each thread's GC time and the pause count, median and max", function()
    local _, err, code = proc.run{"--stats", "-e", churn}
    assert.equal(0, code)
    assert.matches("gc s", err, 1, true)
    local count, median, max = err:match("GC pauses: (%d+), median ([%d.]+) ms, max ([%d.]+) ms")
    assert.is_truthy(count, err)
    assert.is_true(tonumber(count) >= 2)  -- at least the two full collections
    assert.is_true(tonumber(median) <= tonumber(max))
    -- both threads collected (each called collectgarbage)
    local rows = 0
    for line in err:gmatch("[^\n]+") do
      if line:match("^%d+%s") then
        local gc = tonumber(line:match("([%d.]+)%s*$"))
        if gc and gc > 0 then rows = rows + 1 end
      end
    end
    assert.is_true(rows >= 2, err)
  end)

  it("--trace has GC events inside the threads' timelines", function()
    local file = os.tmpname()
    local _, err, code = proc.run{"--trace=" .. file, "-e", churn}
    assert.equal(0, code, err)
    local f = assert(io.open(file))
    local doc = json.decode(f:read("a"))
    f:close()
    os.remove(file)
    local events = doc.traceEvents or doc
    local gc_tids = {}
    for _, e in ipairs(events) do
      if e.name == "GC" then
        assert.equal("X", e.ph)
        assert.is_true(e.dur >= 0)
        gc_tids[e.tid] = true
      end
    end
    local n = 0
    for _ in pairs(gc_tids) do n = n + 1 end
    assert.is_true(n >= 2)
  end)
end)
