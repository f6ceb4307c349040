-- The class system (API.md, "Classes").

describe("classes", function()
  local Object = require("cthreads.class").Object

  it("extend, init, super, is, isinstance", function()
    local Animal = Object:extend("Animal")
    function Animal:init(name) self.name = name end
    function Animal:speak() return self.name .. " makes a sound" end
    local Dog = Animal:extend("Dog")
    function Dog:init(name) Dog.super.init(self, name); self.kind = "dog" end
    function Dog:speak() return Dog.super.speak(self) .. ": woof" end
    local d = Dog("rex")
    assert.equal("rex makes a sound: woof", d:speak())
    assert.equal("dog", d.kind)
    assert.is_true(Dog:is(d)); assert.is_true(Animal:is(d))
    assert.is_false(Dog:is(Animal("cat")))
    assert.is_true(d:isinstance(Animal))
    assert.is_false(Dog:is(42))
    assert.equal(Animal, Dog.super)
  end)

  it("class fields are shared by all instances", function()
    local Worker = threading.Thread:extend("Worker")
    Worker.count = 0
    Worker.lock = threading.Lock()
    function Worker:run()
      Worker.lock:with(function() Worker.count = Worker.count + 1 end)
    end
    local ws = {}
    for i = 1, 4 do ws[i] = Worker(); ws[i]:start() end
    for _, w in ipairs(ws) do w:join() end
    assert.equal(4, Worker.count)
    assert.equal(Worker.lock, ws[1].lock)
  end)

  it("metamethods are inherited by subclasses", function()
    local A = Object:extend("A")
    function A:__tostring() return "an A" end
    local B = A:extend("B")
    assert.equal("an A", tostring(B()))
    assert.matches("class 'B'", tostring(B))
  end)

  it("a metamethod defined on a class after it was extended reaches every subclass", function()
    local Base = Object:extend("Base")
    local Sub = Base:extend("Sub")
    local Leaf = Sub:extend("Leaf")
    local before = Leaf()  -- instances made earlier see it too
    assert.matches("^<Leaf object at ", tostring(before))
    function Base:__tostring() return "a " .. getmetatable(self).__name end
    assert.equal("a Base", tostring(Base()))
    assert.equal("a Sub", tostring(Sub()))
    assert.equal("a Leaf", tostring(before))
    -- defined again, as Python rebinds a dunder
    function Base:__tostring() return "base2" end
    assert.equal("base2", tostring(Leaf()))
    -- a subclass made afterwards starts with it
    assert.equal("base2", tostring(Leaf:extend("Later")()))
  end)

  it("every kind of metamethod is passed down, through any way of assigning it", function()
    local Base = Object:extend("Base")
    local Leaf = Base:extend("Mid"):extend("Leaf")
    local a, b = Leaf(), Leaf()
    a.n, b.n = 1, 2
    Base.__eq = function(x, y) return x.n % 2 == y.n % 2 end
    Base.__lt = function(x, y) return x.n < y.n end
    Base.__le = function(x, y) return x.n <= y.n end
    Base.__len = function(x) return x.n * 10 end
    Base.__concat = function(x, y) return tostring(x.n) .. "+" .. tostring(y.n) end
    Base.__call = function(x, y) return x.n + y end
    Base.__add = function(x, y) return x.n + y.n end
    Base.__unm = function(x) return -x.n end
    Base["__idiv"] = function() return "idiv" end  -- a key that is not a constant
    rawset(Base, "__mod", function() return "raw" end)  -- raw: not passed down
    local closed = {}
    Base.__close = function(x) closed[#closed + 1] = x.n end
    assert.is_false(a == b)
    b.n = 3
    assert.is_true(a == b)
    assert.is_true(a < b)
    assert.is_true(a <= b)
    assert.equal(10, #a)
    assert.equal("1+3", a .. b)
    assert.equal(8, a(7))
    assert.equal(4, a + b)
    assert.equal(-3, -b)
    assert.equal("idiv", a // b)
    assert.has_error(function() return a % b end)
    do local _ <close> = a end
    assert.same({1}, closed)
  end)

  it("a subclass's own metamethod wins over its base's, whenever either is defined", function()
    local Base = Object:extend("Base")
    local Sub = Base:extend("Sub")
    local Leaf = Sub:extend("Leaf")
    local Other = Base:extend("Other")
    function Sub:__tostring() return "sub's own" end
    function Base:__tostring() return "base's" end
    assert.equal("base's", tostring(Base()))
    assert.equal("sub's own", tostring(Sub()))
    assert.equal("sub's own", tostring(Leaf()))  -- inherits from the nearest
    assert.equal("base's", tostring(Other()))
    function Base:__tostring() return "base's again" end
    assert.equal("sub's own", tostring(Leaf()))
    assert.equal("base's again", tostring(Other()))
    -- defined on the subclass after the base's
    function Other:__tostring() return "other's own" end
    function Base:__tostring() return "base's third" end
    assert.equal("other's own", tostring(Other()))
  end)

  it("a metamethod set to nil is no longer inherited; the next one up is", function()
    local Base = Object:extend("Base")
    local Sub = Base:extend("Sub")
    local Leaf = Sub:extend("Leaf")
    Base.__eq = function() return true end
    function Base:__tostring() return "base" end
    function Sub:__tostring() return "sub" end
    assert.is_true(Leaf() == Leaf())
    Base.__eq = nil
    assert.is_false(Leaf() == Leaf())
    assert.is_nil(rawget(Leaf, "__eq"))
    Sub.__tostring = nil  -- Base's again
    assert.equal("base", tostring(Leaf()))
    Base.__tostring = nil  -- Object's default
    assert.matches("^<Leaf object at ", tostring(Leaf()))
    assert.matches("^<Base object at ", tostring(Base()))
  end)

  it("builtin classes' subclasses pass metamethods down too", function()
    local T = threading.Thread:extend("T")
    local U = T:extend("U")
    function T:__tostring() return "T:" .. self.name end
    assert.equal("T:u1", tostring(U{name = "u1"}))
    local t = U{target = function() end}
    t:start()
    t:join()
    -- Thread's own __newindex still reaches U
    assert.has_error(function() t.daemon = true end, "cannot set daemon status of active thread")
  end)

  it("subclasses are tracked weakly: a class no longer used is collected", function()
    local Base = Object:extend("Base")
    local alive = setmetatable({}, {__mode = "k"})
    for i = 1, 20 do
      local cls = Base:extend("Tmp" .. i)
      alive[cls] = true
      alive[cls:extend("TmpSub" .. i)] = true
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(alive))
    function Base:__tostring() return "still works" end
    assert.equal("still works", tostring(Base:extend("After")()))
  end)

  it("extend checks its argument", function()
    assert.has_error(function() Object:extend(42) end,
      "bad argument #1 to 'extend' (string expected, got number)")
  end)

  -- found by scripts/test/argsweep.lua: through a class's own extend
  -- (Local's, Array's) the error was positioned inside the library
  it("extend's errors are at the caller's line, through a class's own extend too", function()
    for _, cls in ipairs{Object, threading.Local, multiprocessing.Array, queue.Queue} do
      local ok, err = pcall(function() cls:extend(42) end)
      assert.is_false(ok)
      assert.matches("^spec/class_spec%.lua:%d+: bad argument #1 to 'extend' %(string expected, " ..
                     "got number%)$", err)
    end
  end)

  it("properties: a getter without a setter is read-only, in subclasses too", function()
    local class = require("cthreads.class")
    local Point = Object:extend("Point")
    function Point:init(x) self._x = x; self._y = 0 end
    class.getters(Point, {
      x = function(self) return self._x end,
      y = function(self) return self._y end,
    }, {
      y = function(self, v)
        if type(v) ~= "number" then error("y must be a number", 2) end
        self._y = v
      end,
    })
    local Point3 = Point:extend("Point3")
    function Point3:init(x, z) Point3.super.init(self, x); self.z = z end
    local Deeper = Point3:extend("Deeper")
    for _, p in ipairs{Point(1), Point3(1, 2), Deeper(1, 2)} do
      local cls = getmetatable(p).__name
      local ok, err = pcall(function() p.x = 5 end) local line = debug.getinfo(1, "l").currentline
      assert.is_false(ok)
      assert.equal(("spec/class_spec.lua:%d: attribute 'x' of '%s' objects is not writable")
                   :format(line, cls), err)
      assert.equal(1, p.x)
      assert.is_nil(rawget(p, "x"))
      p.y = 7  -- through its setter
      assert.equal(7, p.y)
      ok, err = pcall(function() p.y = "a" end) line = debug.getinfo(1, "l").currentline
      assert.equal(("spec/class_spec.lua:%d: y must be a number"):format(line), err)
      p.color = "red"  -- other fields as usual
      assert.equal("red", rawget(p, "color"))
    end
    assert.equal(2, Point3(1, 2).z)
  end)

  it("args: named fields checked against a set, positional ones counted", function()
    local class = require("cthreads.class")
    local fields = class.fields("a", "b")
    local function f(...) return class.args("F", fields, 2, ...) end
    assert.is_nil(f())
    assert.is_nil(f(1, 2))
    assert.is_nil(f(1, 2, nil, nil))  -- trailing nils are no arguments
    assert.same({a = 1}, f{a = 1})
    assert.same({a = 1}, f({a = 1}, nil))
    assert.has_error(function() f{c = 1} end, "bad argument #1 to 'F' (unexpected field 'c')")
    assert.has_error(function() f(1, 2, 3) end,
      "bad argument #3 to 'F' (at most 2 arguments expected, got 3)")
    assert.has_error(function() f(1, 2, nil, 4) end,
      "bad argument #4 to 'F' (at most 2 arguments expected, got 4)")
    -- a plain table with more arguments after it is positional
    assert.is_nil(f({}, 2))
    local function g(...) return class.args("G", class.NO_FIELDS, 0, ...) end
    assert.has_error(function() g(1) end, "bad argument #1 to 'G' (no arguments expected, got 1)")
    assert.same({}, g{})
  end)
  -- were "bad argument #1 to 'put' (Queue expected, got NoInitQueue)", or an
  -- index error inside the library ("attempt to index a nil value (local
  -- 'lock')"): now said as Thread:start says it
  it("a subclass whose init skipped its parent's: constructing one says so", function()
    local here = "^spec/class_spec%.lua:%d+: "
    local mp, aio = multiprocessing, asyncio
    local classes = {
      queue.Queue, queue.LifoQueue, queue.PriorityQueue, queue.SimpleQueue,
      threading.Thread, threading.Lock, threading.RLock, threading.Condition,
      threading.Semaphore, threading.BoundedSemaphore, threading.Event,
      threading.Timer, threading.Barrier,
      mp.Process, mp.Lock, mp.RLock, mp.Semaphore, mp.BoundedSemaphore, mp.Event,
      mp.Condition, mp.Barrier, mp.Value, mp.Array, mp.Queue, mp.JoinableQueue,
      mp.SimpleQueue, mp.Pool, mp.pool.ThreadPool, mp.dummy.Process,
      aio.Event, aio.Lock, aio.Semaphore, aio.BoundedSemaphore, aio.Condition,
      aio.Queue, aio.LifoQueue, aio.PriorityQueue,
    }
    for _, cls in ipairs(classes) do
      local Sub = cls:extend("NoInit")
      function Sub:init() end
      local ok, err = pcall(function() local o = Sub(); return o end)
      assert.is_false(ok)
      assert.matches(here .. rawget(cls, "__name"):gsub("%p", "%%%0")
                     .. "%.init%(%) was not called %(call NoInit%.super%.init%(self%) in your init%)$", err)
      -- below a subclass that does call it, the same
      local Good = cls:extend("Good")
      function Good:init(...) Good.super.init(self, ...) end
      local Bad = Good:extend("NoInit")
      function Bad:init() end
      ok, err = pcall(function() local o = Bad(); return o end)
      assert.is_false(ok)
      assert.matches("was not called (call NoInit.super.init(self) in your init)", err, 1, true)
    end
    -- a subclass that calls it constructs, and leaves no mark in the object
    local Q = queue.Queue:extend("Q")
    function Q:init(n) Q.super.init(self, n); self.extra = true end
    local q = Q(3)
    assert.equals(3, q.maxsize)
    q:put(1)
    assert.equals(1, q:get())
    local keys = {}
    for k in pairs(q) do if type(k) == "table" then keys[#keys + 1] = k end end
    assert.same({}, keys)
    -- an instance of another class is still the wrong type
    local ok, err = pcall(function() queue.Queue.put(threading.Thread(), 1) end)
    assert.is_false(ok)
    assert.matches("Queue expected, got Thread", err, 1, true)
  end)
end)
