-- Locals that closures capture: the same meaning in both GIL modes, and,
-- with the GIL off, never torn when the function that declared one writes
-- or reads it while other threads use it through a closure (such a local
-- lives in a cell then: see the README, "Free-threaded mode"). The racing
-- checks run in a child process, so that a crash fails a test instead of
-- ending the suite; they assert only on the values read, never on timing.

local proc = require("proc")

local function run(code)
  local out, err, status = proc.lua(code)
  assert.are.equal("", err)
  assert.are.equal(0, status)
  return out
end

describe("a captured local", function()
  it("is one variable for its function and all its closures", function()
    local x = 1
    local function get() return x end
    local function set(v) x = v end
    x = 2
    assert.are.equal(2, get())
    set("three")
    assert.are.equal("three", x)
    x = nil
    assert.is_nil(get())
  end)

  it("is a new variable in each loop iteration, in both kinds of for", function()
    local fs = {}
    for i = 1, 3 do fs[i] = function() i = i * 10; return i end end
    assert.are.same({10, 20, 30, 300}, {fs[1](), fs[2](), fs[3](), fs[3]()})
    local gs = {}
    for k, v in ipairs({"a", "b"}) do gs[k] = function() v = v .. "!"; return v end end
    assert.are.same({"a!", "b!", "a!!"}, {gs[1](), gs[2](), gs[1]()})
  end)

  it("works as a parameter, as self, in a recursive local function, after goto", function()
    local function counter(n) return function() n = n + 1; return n end end
    local c = counter(5)
    assert.are.same({6, 7}, {c(), c()})
    local obj = {}
    function obj:rebind() local function f() self = "rebound" end; f(); return self end
    assert.are.equal("rebound", obj:rebind())
    local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
    local first = fact
    fact = function() return -1 end
    assert.are.equal(-5, first(5))
    local made, k = {}, 0
    ::again::
    local v = k
    made[#made + 1] = function() v = v + 100; return v end
    k = k + 1
    if k < 3 then goto again end
    assert.are.same({100, 101, 102}, {made[1](), made[2](), made[3]()})
  end)

  it("is read and written by debug.getlocal and debug.setlocal", function()
    local z = 10
    local function getz() return z end
    z = 11
    local index
    for i = 1, 50 do
      local name, value = debug.getlocal(1, i)
      if name == "z" then index = i; assert.are.equal(11, value) break end
    end
    assert.is_not_nil(index)
    debug.setlocal(1, index, 42)
    assert.are.equal(42, z)
    assert.are.equal(42, getz())
  end)

  it("is named in error messages as a local", function()
    local chunk = "local a = nil; local f = function() return a end; a = nil; return a.b"
    local ok, err = pcall(load(chunk, "=chunk"))
    assert.is_false(ok)
    assert.are.equal("chunk:1: attempt to index a nil value (local 'a')", err)
    ok, err = pcall(load("local g; local h = function() g = 1 end; g()", "=chunk"))
    assert.are.equal("chunk:1: attempt to call a nil value (local 'g')", err)
  end)

  it("survives string.dump and load", function()
    local function make()
      local n = 0
      local function bump() n = n + 1; return n end
      bump()
      bump()
      return n
    end
    local copy = load(string.dump(make))
    assert.are.equal(2, copy())
  end)

  it("does not change how chunks load from readers, or what their errors say", function()
    local parts = {"local x = 1 ", "local f = function() x = x + 1 end ", "f() return x"}
    local i = 0
    local fn = assert(load(function() i = i + 1; return parts[i] end))
    assert.are.equal(2, fn())
    assert.is_nil(assert(load(function() return nil end))())
    local _, err = load("local a = 1\nlocal f = function() a = 2 end\nlocal = 3", "=c")
    assert.are.equal("c:3: <name> expected near '='", err)
  end)
end)

describe("a captured local shared by threads", function()
  it("is never torn while its function writes it and a thread reads it", function()
    local out = run([[
      local x = 0
      local stop, bad, tables = false, 0, 0
      local reader = threading.Thread{target = function()
        while not stop do
          local y = x
          if type(y) == "table" then
            if y.mark ~= "T" then bad = bad + 1 end
            tables = tables + 1
          elseif y ~= 0 and y ~= 0.5 then bad = bad + 1 end
        end
      end}
      reader:start()
      for _ = 1, 200000 do x = {mark = "T"}; x = 0.5 end
      stop = true
      reader:join()
      print(bad)
    ]])
    assert.are.equal("0\n", out)
  end)

  it("is never torn while a thread writes it and its function reads it", function()
    local out = run([[
      local x = 0
      local stop, bad = false, 0
      local writer = threading.Thread{target = function()
        while not stop do x = {mark = "T"}; x = 0.5; x = "s" end
      end}
      writer:start()
      for _ = 1, 200000 do
        local y = x
        if type(y) == "table" then
          if y.mark ~= "T" then bad = bad + 1 end
        elseif y ~= 0 and y ~= 0.5 and y ~= "s" then bad = bad + 1 end
      end
      stop = true
      writer:join()
      print(bad)
    ]])
    assert.are.equal("0\n", out)
  end)

  it("counts exactly under a Lock when the function and its threads all add", function()
    local out = run([[
      local count = 0
      local lock = threading.Lock()
      local threads = {}
      for i = 1, 3 do
        threads[i] = threading.Thread{target = function()
          for _ = 1, 20000 do lock:acquire(); count = count + 1; lock:release() end
        end}
        threads[i]:start()
      end
      for _ = 1, 20000 do lock:acquire(); count = count + 1; lock:release() end
      for i = 1, 3 do threads[i]:join() end
      print(count)
    ]])
    assert.are.equal("80000\n", out)
  end)
end)
