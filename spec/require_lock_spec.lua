-- The import lock (README, "Free-threaded mode"): `require` runs a module's
-- body once however many threads ask for it at once, a failed load lets a
-- waiting thread try again, and two threads each loading a module the
-- other requires get an error in one of them instead of hanging.
local proc = require("proc")

local serial = 0
local function fresh_name(what)
  serial = serial + 1
  return ("cthreads_spec_%s_%d_%d"):format(what, serial, math.random(1 << 30))
end

local function run_threads(n, f)
  local threads, results = {}, {}
  for i = 1, n do
    threads[i] = threading.Thread{target = function() results[i] = table.pack(pcall(f, i)) end}
    threads[i]:start()
  end
  for i = 1, n do threads[i]:join() end
  return results
end

describe("require with several threads", function()
  it("runs a module's body once while others wait for it, all getting its value", function()
    local name = fresh_name("once")
    local runs = 0
    local inside, release = threading.Event(), threading.Event()
    package.preload[name] = function()
      runs = runs + 1
      inside:set()
      release:wait()  -- the other threads arrive while the body runs
      return {loaded = true}
    end
    local waiting = threading.Semaphore(0)
    local results = {}
    local threads = {}
    for i = 1, 4 do
      threads[i] = threading.Thread{target = function()
        if i > 1 then inside:wait() end
        waiting:release()
        results[i] = require(name)
      end}
      threads[i]:start()
    end
    for _ = 1, 4 do waiting:acquire() end
    release:set()
    for i = 1, 4 do threads[i]:join() end
    assert.equal(1, runs)
    for i = 1, 4 do assert.equal(package.loaded[name], results[i]) end
    assert.is_true(results[1].loaded)
    package.loaded[name], package.preload[name] = nil, nil
  end)

  it("lets a waiting thread load the module itself when the first load fails", function()
    local name = fresh_name("retry")
    local runs = 0
    local inside, release = threading.Event(), threading.Event()
    package.preload[name] = function()
      runs = runs + 1
      if runs == 1 then
        inside:set()
        release:wait()
        error("first load fails")
      end
      return "second load"
    end
    local got
    local first = threading.Thread{target = function()
      got = table.pack(pcall(require, name))
    end}
    first:start()
    inside:wait()
    local waiter_result
    local second = threading.Thread{target = function()
      waiter_result = require(name)
    end}
    second:start()
    -- `second` either waits for `first`'s load and, once it fails, loads
    -- the module itself, or starts after the failure and loads it: either
    -- way it ends with the second load's value
    release:set()
    first:join()
    second:join()
    assert.is_false(got[1])
    assert.matches("first load fails", got[2])
    assert.equal("second load", waiter_result)
    assert.equal(2, runs)
    package.loaded[name], package.preload[name] = nil, nil
  end)

  it("raises a deadlock error in one of two threads requiring each other's module", function()
    local a, b = fresh_name("cycle_a"), fresh_name("cycle_b")
    local both_loading = threading.Barrier(2)
    local first_a, first_b = true, true
    package.preload[a] = function()
      if first_a then
        first_a = false
        both_loading:wait()
        require(b)
      end
      return "a"
    end
    package.preload[b] = function()
      if first_b then
        first_b = false
        both_loading:wait()
        require(a)
      end
      return "b"
    end
    local results = run_threads(2, function(i) return require(i == 1 and a or b) end)
    local failures, successes = 0, 0
    for i = 1, 2 do
      if results[i][1] then
        successes = successes + 1
        assert.equal(i == 1 and "a" or "b", results[i][2])
      else
        failures = failures + 1
        assert.matches("deadlock requiring module", results[i][2])
      end
    end
    assert.equal(1, failures)
    assert.equal(1, successes)
    for _, n in ipairs({a, b}) do package.loaded[n], package.preload[n] = nil, nil end
  end)

  it("keeps stock require's results and errors", function()
    local name = fresh_name("plain")
    package.preload[name] = function(modname, extra) return {modname, extra} end
    local m, extra = require(name)
    assert.equal(name, m[1])
    assert.equal(":preload:", m[2])
    assert.equal(":preload:", extra)
    assert.equal(m, (require(name)))
    assert.equal(1, select("#", require(name)))
    assert.error_matches(function() require(fresh_name("missing")) end, "module '.*' not found")
    assert.error_matches(function() require() end, "bad argument #1 to 'require'")
    package.loaded[name], package.preload[name] = nil, nil
  end)

  it("works in a forked child while another thread was loading a module", function()
    local out, err, code = proc.lua([[
      package.preload.slow = function()
        inside:set(); release:wait(); return "slow"
      end
      inside, release = threading.Event(), threading.Event()
      local t = threading.Thread{target = function() require("slow") end}
      t:start()
      inside:wait()
      local p = multiprocessing.Process{target = function()
        -- the loading thread does not exist here: its load is forgotten
        package.preload.slow = function() return "child's" end
        io.write(require("slow"), "\n")
      end}
      p:start(); p:join()
      release:set(); t:join()
      print(require("slow"), p.exitcode)
    ]])
    assert.equal(0, code, err)
    assert.equal("child's\nslow\t0\n", out)
  end)
end)
