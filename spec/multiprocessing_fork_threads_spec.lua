-- fork from several threads at once, while others make shared objects:
-- with the GIL off the forking thread once took the fork hooks' native
-- locks before stopping the world, and a thread blocked on one of them
-- (another fork, a new Value) could never park: all hung.
local proc = require("proc")
local children = require("children")

-- runs 'code' in a fresh cthreads under a 60 s timeout; it must exit 0
-- with nothing on stderr; returns its stdout
local function run_clean(code)
  local path = proc.script(code)
  local out, err, status = proc.run{bin = "timeout", "60", proc.bin, path}
  os.remove(path)
  assert.equal("", err)
  assert.equal(0, status)
  return out
end

describe("multiprocessing fork from threads", function()
  after_each(function()
    assert.equal("", children.describe(children.settle(30)))
  end)

  it("does not deadlock when threads start processes and make Values together", function()
    local out = run_clean([[
      local mp = multiprocessing
      local q = mp.Queue()
      local ts = {}
      for k = 1, 4 do
        ts[k] = threading.Thread{target = function()
          for _ = 1, 10 do
            local p = mp.Process{target = function() q:put(k) end}
            p:start()
            p:join()
            assert(p.exitcode == 0)
          end
        end}
        ts[k]:start()
      end
      local stop = false
      local maker = threading.Thread{target = function()
        while not stop do mp.Value("i", 1) collectgarbage("step") end
      end}
      maker:start()
      for k = 1, 4 do ts[k]:join() end
      stop = true
      maker:join()
      local s = 0
      for _ = 1, 40 do s = s + q:get(true, 5) end
      print(s)
    ]])
    assert.equal("100\n", out)
  end)

  it("keeps its list of children whole while threads start, join and list them", function()
    -- the list is one table: with the GIL off, active_children's traversal
    -- met another thread's insert ("invalid key to 'next'") in every run
    local out = run_clean([[
      local mp = multiprocessing
      local ts = {}
      for k = 1, 4 do
        ts[k] = threading.Thread{target = function()
          for _ = 1, 40 do
            local p = mp.Process{target = function() end}
            p:start()
            p:join()
          end
        end}
        ts[k]:start()
      end
      local done, lists = threading.Event(), 0
      local watcher = threading.Thread{target = function()
        while not done:is_set() do
          mp.active_children()
          lists = lists + 1
        end
      end}
      watcher:start()
      for k = 1, 4 do ts[k]:join() end
      done:set()
      watcher:join()
      print(lists > 0, #mp.active_children())
    ]])
    assert.equal("true\t0\n", out)
  end)
end)
