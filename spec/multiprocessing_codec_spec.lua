-- Values crossing processes: every supported type round-trips through
-- Queue and Pipe unchanged; anything else is refused with one message.
local children = require("children")
local mp = multiprocessing

local function no_children_left()
  assert.equal("", children.describe(children.settle(30)))
end

-- runs 'child' in a process, then 'parent'; the child is stopped and
-- reaped even when the parent part fails
local function with_child(child, parent)
  local p = mp.Process(child)
  p:start()
  local ok, res = pcall(parent)
  if not ok then p:kill() end
  p:join()
  if not ok then error(res, 0) end
  assert.equal(0, p.exitcode)
  return res
end

-- sends v to a child through transport ("Queue" or "Pipe"); the child runs
-- prepare(), receives it and sends answer(received) back, which is returned
local function through(transport, v, answer, prepare)
  prepare = prepare or function() end
  if transport == "Queue" then
    local inq, outq = mp.Queue(), mp.Queue()
    return with_child(function() prepare() outq:put(answer(inq:get())) end,
                      function() inq:put(v) return outq:get(true, 30) end)
  end
  local a, b = mp.Pipe()
  local back = with_child(function() prepare() b:send(answer(b:recv())) end,
                          function()
                            a:send(v)
                            assert.is_true(a:poll(30))
                            return a:recv()
                          end)
  a:close()
  b:close()
  return back
end

local function same(v) return v end

-- sends v to a child and back: the child gets it and sends it on
local function via_queue(v) return through("Queue", v, same) end
local function via_pipe(v) return through("Pipe", v, same) end

local function both(name, f)
  it(name .. " (Queue)", function() f(via_queue) end)
  it(name .. " (Pipe)", function() f(via_pipe) end)
end

-- sends v to a child that runs prepare() first; the child answers with
-- {check(v), v}; returns check's table and v as they came back
local function checked_by_child(transport, v, check, prepare)
  local r = through(transport, v, function(got) return {check(got), got} end, prepare)
  return r[1], r[2]
end

local function both_ways(name, f)
  for _, transport in ipairs({"Queue", "Pipe"}) do
    it(name .. " (" .. transport .. ")", function()
      f(function(v, check, prepare) return checked_by_child(transport, v, check, prepare) end)
    end)
  end
end

local Object = require("cthreads.class").Object

describe("multiprocessing values", function()
  after_each(no_children_left)

  both("keeps nil, booleans, integers and floats apart", function(send)
    local t = send({n = 9, nil, true, false, 0, -1, math.maxinteger, math.mininteger,
                    1.0, -2.5})
    assert.equal(9, t.n)
    assert.is_nil(t[1])
    assert.is_true(t[2])
    assert.is_false(t[3])
    assert.equal("integer", math.type(t[4]))
    assert.equal(math.maxinteger, t[6])
    assert.equal(math.mininteger, t[7])
    assert.equal("float", math.type(t[8]))
    assert.equal(1.0, t[8])
    assert.equal(-2.5, t[9])
    assert.is_nil(send(nil))
    assert.is_true(send(true))
    assert.equal(3, send(3))
  end)

  both("keeps lists of numbers, however they are laid out", function(send)
    local ints, floats, mixed = {}, {}, {}
    for i = 1, 1000 do
      ints[i] = i * 7 - 3000
      floats[i] = i / 8
      mixed[i] = (i % 2 == 0) and i or i + 0.5
    end
    ints[500] = math.mininteger
    ints[501] = math.maxinteger
    floats[10] = 0 / 0
    floats[11] = -0.0
    local short = {1, 2, 3}
    local tail = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
    tail.name, tail[12], tail[20] = "t", 12, 20
    local t = send({ints = ints, floats = floats, mixed = mixed, short = short, tail = tail})
    assert.same(ints, t.ints)
    for i = 1, 1000 do
      assert.equal("integer", math.type(t.ints[i]))
      if i ~= 10 then assert.equal(floats[i], t.floats[i]) end
      assert.equal("float", math.type(t.floats[i]))
      assert.equal(mixed[i], t.mixed[i])
      assert.equal(math.type(mixed[i]), math.type(t.mixed[i]))
    end
    assert.is_true(t.floats[10] ~= t.floats[10])
    assert.equal(-math.huge, 1 / t.floats[11])
    assert.same(short, t.short)
    assert.same(tail, t.tail)
  end)

  both("keeps special floats", function(send)
    local t = send({math.huge, -math.huge, 0 / 0, -0.0, 1e-300})
    assert.equal(math.huge, t[1])
    assert.equal(-math.huge, t[2])
    assert.is_true(t[3] ~= t[3])
    assert.equal(-math.huge, 1 / t[4])
    assert.equal(1e-300, t[5])
  end)

  both("keeps strings, binary ones and long ones", function(send)
    local bin = {}
    for i = 0, 255 do bin[#bin + 1] = string.char(i) end
    bin = table.concat(bin)
    local long = ("x"):rep(3 * 1024 * 1024)
    local t = send({"", "hello", "a\0b", bin, long})
    assert.equal("", t[1])
    assert.equal("hello", t[2])
    assert.equal("a\0b", t[3])
    assert.equal(bin, t[4])
    assert.equal(long, t[5])
  end)

  both("keeps nested tables and any keys", function(send)
    local v = {1, 2, {3, {4, {5}}}, name = "x", [1.5] = "f", [true] = "b",
               [{k = 1}] = "tablekey", list = {}}
    local t = send(v)
    assert.same({1, 2, {3, {4, {5}}}}, {t[1], t[2], t[3]})
    assert.equal("x", t.name)
    assert.equal("f", t[1.5])
    assert.equal("b", t[true])
    assert.same({}, t.list)
    local found
    for k, val in pairs(t) do
      if type(k) == "table" then found = {k.k, val} end
    end
    assert.same({1, "tablekey"}, found)
  end)

  both("keeps shared and cyclic references", function(send)
    local shared = {1}
    local v = {a = shared, b = shared, list = {shared}}
    v.self = v
    local t = send(v)
    assert.equal(t.a, t.b)
    assert.equal(t.a, t.list[1])
    assert.equal(t, t.self)
    assert.not_equal(v, t)
  end)

  both("keeps metatables", function(send)
    local Point = {}
    Point.__index = Point
    function Point:sum() return self.x + self.y end
    Point.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, Point) end
    local p1, p2 = setmetatable({x = 1, y = 2}, Point), setmetatable({x = 10, y = 20}, Point)
    local t = send({p1, p2})
    assert.equal(3, t[1]:sum())
    assert.equal(getmetatable(t[1]), getmetatable(t[2]))
    assert.equal(33, (t[1] + t[2]):sum())
  end)

  both("sends Lua functions with their upvalues", function(send)
    local base = 100
    local function add(x) return x + base end
    local counter = 0
    local function inc() counter = counter + 1 return counter end
    local function get() return counter end
    local t = send({add = add, inc = inc, get = get})
    assert.equal(105, t.add(5))
    t.inc()
    t.inc()
    assert.equal(2, t.get())  -- the upvalue is still shared by both
    assert.equal(0, counter)  -- a copy: ours is untouched
  end)

  both("sends recursive functions and maps _ENV to the receiver's globals", function(send)
    local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
    local function env_check() return _ENV == _G and print ~= nil and string.format("%d", 7) end
    local t = send({fact = fact, env = env_check})
    assert.equal(720, t.fact(6))
    assert.equal("7", t.env())
  end)

  both("copies an _ENV that is not the globals like any upvalue", function(send)
    local make = load([[
      local _ENV = {x = 5, tostring = tostring}
      return function() x = x + 1; return x, tostring(_ENV.print) end
    ]])
    local f = make()
    local g = send(f)
    assert.same({6, "nil"}, {g()})   -- its own copy of {x = 5}, no print in it
    assert.same({6, "nil"}, {f()})   -- ours is untouched
    -- an environment over the globals (metatable __index = _G) keeps its
    -- own fields and reads the receiver's globals through it
    local layered = load([[
      local _ENV = setmetatable({y = 7}, {__index = _G})
      return function() return y, print ~= nil, _G == _G end
    ]])()
    assert.same({7, true, true}, {send(layered)()})
    -- the globals themselves stay the receiver's
    local env_of_g = load("return function() return _ENV end")()
    assert.equal(_G, send(env_of_g)())
  end)

  both("sends standard library values by name", function(send)
    local t = send({print, math.sqrt, string.format, io.stdout, math, mp.Queue, threading.Lock})
    assert.equal(print, t[1])
    assert.equal(math.sqrt, t[2])
    assert.equal(string.format, t[3])
    assert.equal(io.stdout, t[4])
    assert.equal(math, t[5])
    assert.equal(mp.Queue, t[6])
    assert.equal(threading.Lock, t[7])
  end)

  both("keeps error kinds comparable", function(send)
    local t = send({mp.TimeoutError, mp.Empty, mp.ProcessError("why")})
    assert.equal(mp.TimeoutError, t[1])
    assert.equal(mp.Empty, t[2])
    assert.is_true(t[3] == mp.ProcessError)
    assert.equal("multiprocessing.ProcessError: why", tostring(t[3]))
  end)

  both("keeps raised error values recognisable by Kind:is", function(send)
    local t = send({queue.Empty("nothing"), mp.ProcessError("why"), threading.BrokenBarrierError})
    assert.is_true(queue.Empty:is(t[1]))
    assert.is_true(t[1] == queue.Empty)
    assert.is_true(mp.ProcessError:is(t[2]))
    assert.is_false(queue.Full:is(t[1]))
    assert.is_true(threading.BrokenBarrierError:is(t[3]))
    -- the shared metatable of error values arrives as itself
    assert.equal(getmetatable(queue.Empty), getmetatable(t[1]))
  end)

  both("sends multiprocessing objects that keep working", function(send)
    local q, lock, v, ev = mp.Queue(), mp.Lock(), mp.Value("i", 5), mp.Event()
    local t = send({q = q, lock = lock, v = v, ev = ev})
    t.q:put("through the copy")
    assert.equal("through the copy", q:get())
    assert.is_true(t.lock:acquire())
    assert.is_false(lock:acquire(false))
    lock:release()
    t.v.value = 9
    assert.equal(9, v.value)
    t.ev:set()
    assert.is_true(ev:is_set())
  end)

  both_ways("instances keep their class, the receiver's own, both ways", function(exchange)
    local Point = Object:extend("Point")
    function Point:init(x, y) self.x, self.y = x, y end
    function Point:sum() return self.x + self.y end
    local P3 = Point:extend("P3")
    local P4 = P3:extend("P4")  -- a subclass of a subclass
    local shared = Point(1, 2)
    local v = {p = shared, again = shared, deep = P4(3, 4), cls = P3,
               nested = {{Point(5, 6)}, {list = {P3(7, 8)}}}}
    v.nested.back = v  -- a cycle through the instances' table
    local seen, back = exchange(v, function(got)
      return {Point:is(got.p), got.p:isinstance(Point), getmetatable(got.p) == Point,
              got.p == got.again, getmetatable(got.deep) == P4, P3:is(got.deep),
              got.cls == P3, getmetatable(got.nested[1][1]) == Point,
              getmetatable(got.nested[2].list[1]) == P3, got.nested.back == got,
              got.deep:sum()}
    end)
    assert.same({true, true, true, true, true, true, true, true, true, true, 7}, seen)
    assert.equal(Point, getmetatable(back.p))
    assert.equal(back.p, back.again)
    assert.not_equal(shared, back.p)  -- the instance itself is a copy
    assert.equal(P4, getmetatable(back.deep))
    assert.is_true(Point:is(back.deep))
    assert.equal(P3, back.cls)
    assert.equal(Point, getmetatable(back.nested[1][1]))
    assert.equal(P3, getmetatable(back.nested[2].list[1]))
    assert.equal(back, back.nested.back)
    assert.equal(15, back.nested[2].list[1]:sum())
  end)

  both_ways("class fields are the receiver's class's", function(exchange)
    local Counter = Object:extend("Counter")
    Counter.count = 1
    Counter.registry = {}
    function Counter:total() return Counter.count end
    local c = Counter()
    Counter.count = 2  -- after the child started: ours only
    local seen, back = exchange(c, function(got)
      return {got.count, got:total(), got.registry == Counter.registry}
    end, function() Counter.count = 100 end)
    assert.same({100, 100, true}, seen)
    assert.equal(2, back.count)
    assert.equal(Counter.registry, back.registry)
    Counter.count = 3
    assert.equal(3, back:total())
  end)

  it("a class made after the fork arrives as a copy, the same one for every message", function()
    local Point = Object:extend("Point")
    function Point:sum() return self.x + self.y end
    local q, reply = mp.Queue(), mp.Queue()
    local first, second, cls
    with_child(function()
      local Late = Point:extend("Late")
      function Late:twice() return 2 * self:sum() end
      q:put(setmetatable({x = 1, y = 2}, Late))
      q:put({setmetatable({x = 3, y = 4}, Late), Late})
      -- our own Late comes back as itself
      local mine = reply:get()
      q:put({getmetatable(mine) == Late, Late:is(mine)})
    end, function()
      first = q:get(true, 30)
      local msg = q:get(true, 30)
      second, cls = msg[1], msg[2]
      assert.equal("Late", getmetatable(first).__name)
      assert.equal(6, first:twice())
      assert.is_true(Point:is(first))  -- its base is ours
      assert.equal(Point, getmetatable(first).super)
      assert.equal(getmetatable(first), getmetatable(second))
      assert.equal(cls, getmetatable(second))
      assert.is_true(cls:is(first))
      reply:put(second)
      assert.same({true, true}, q:get(true, 30))
    end)
  end)

  it("instances pass between children, each getting its own class", function()
    local Point = Object:extend("Point")
    Point.where = "parent"
    local q, results = mp.Queue(), mp.Queue()
    local sender = mp.Process(function() q:put({Point(), Point}) end)
    local receiver = mp.Process(function()
      Point.where = "receiver"
      local got = q:get(true, 30)
      results:put({getmetatable(got[1]) == Point, got[2] == Point, got[1].where})
    end)
    sender:start()
    receiver:start()
    local r = results:get(true, 30)
    sender:join()
    receiver:join()
    assert.same({true, true, "receiver"}, r)
    assert.equal(0, sender.exitcode)
    assert.equal(0, receiver.exitcode)
  end)

  it("Pool tasks and results keep their classes, even classes made after the workers", function()
    local Point = Object:extend("Point")
    function Point:init(x) self.x = x end
    local pool <close> = mp.Pool(2)
    local Late = Point:extend("Late")
    local r = pool:map(function(x) return Point(x * 2) end, {1, 2, 3})
    assert.equal(Point, getmetatable(r[1]))
    assert.equal(6, r[3].x)
    r = pool:apply(function(a, b) return {a, b, getmetatable(b).__name, Point:is(b)} end,
                   {Point(1), Late(2)})
    assert.equal(Point, getmetatable(r[1]))
    assert.equal(Late, getmetatable(r[2]))  -- a copy there, ours again here
    assert.same({"Late", true}, {r[3], r[4]})
    pool:close()
    pool:join()
  end)

  it("a Manager keeps instances, of classes made before or after it started", function()
    local Point = Object:extend("Point")
    function Point:init(x) self.x = x end
    function Point:get() return self.x end
    local m <close> = mp.Manager()
    local Late = Point:extend("Late")
    local d, l = m:dict(), m:list()
    d.p, d.late = Point(1), Late(2)
    l:append(Late(3))
    assert.equal(Point, getmetatable(d.p))
    assert.equal(Late, getmetatable(d.late))
    assert.equal(Late, getmetatable(l[1]))
    assert.equal(3, l[1]:get())
    local ok = with_child(function()
      assert(getmetatable(d.late) == Late and Point:is(d.p))
    end, function() return true end)
    assert.is_true(ok)
  end)

  it("a class holding a value that cannot be sent goes by reference alone", function()
    local Account = Object:extend("Account")
    Account.lock = threading.Lock()  -- not sendable: the class cannot be copied
    function Account:init(n) self.n = n end
    local Sub = Account:extend("Sub")
    local back = via_queue({Account(1), Sub(2), Account})
    assert.equal(Account, getmetatable(back[1]))
    assert.equal(Sub, getmetatable(back[2]))
    assert.equal(Account, back[3])
    assert.equal(Account.lock, back[2].lock)
    -- a receiver without the class cannot take it, and says which
    local q = mp.Queue()
    with_child(function()
      local Late = Account:extend("Late")
      Late.co = coroutine.create(print)
      q:put(Late(3))
      q:put("after")
    end, function()
      local ok, err = pcall(q.get, q, true, 30)
      assert.is_false(ok)
      assert.matches("received an object of class 'Late', which this process does not have",
                     err, 1, true)
      assert.equal("after", q:get(true, 30))
    end)
  end)

  it("refuses malformed class messages", function()
    local a, b = mp.Pipe()
    local cases = {
      "\14",                      -- no identity
      "\14\5ab",                   -- a truncated identity
      "\14\1x\3abc",               -- a class that is not a table
      "\14\1x",                   -- no table
      "\15\1x\1Y",                -- by reference, from nowhere
      "\15\1x",                   -- by reference, no name
    }
    for _, bytes in ipairs(cases) do
      a:send_bytes(bytes)
      local ok, err = pcall(b.recv, b)
      assert.is_false(ok)
      assert.is_string(err)
    end
    a:send("still fine")
    assert.equal("still fine", b:recv())
    a:close()
    b:close()
  end)

  it("passes objects made after a child started to that child", function()
    local inbox = mp.Queue()
    local q, v
    with_child(function()
      local msg = inbox:get()       -- a queue and a value made after the fork
      msg.v.value = 42
      msg.q:put("reply")
    end, function()
      q, v = mp.Queue(), mp.Value("i", 0)
      inbox:put({q = q, v = v})
      assert.equal("reply", q:get(true, 10))
    end)
    assert.equal(42, v.value)
  end)

  it("sends a Connection to a process that inherited it, refuses it elsewhere", function()
    local a, b = mp.Pipe()
    local q, back = mp.Queue(), mp.Queue()
    with_child(function()
      local c = q:get()
      c:send("through a sent connection")
      local ok, err = pcall(q.get, q)  -- made after this process started
      back:put(tostring(err))
    end, function()
      q:put(b)
      assert.is_true(a:poll(30))
      assert.equal("through a sent connection", a:recv())
      local x, y = mp.Pipe()
      q:put(y)
      assert.matches("did not inherit", back:get(true, 30))
      x:close()
      y:close()
    end)
    a:close()
    b:close()
  end)

  it("sends a received Connection back to the process that made it", function()
    local a, b = mp.Pipe()
    local q, back = mp.Queue(), mp.Queue()
    with_child(function()
      local c = q:get()   -- a duplicate, under another descriptor number
      b:close()           -- and the inherited one gone
      back:put(c)
    end, function()
      q:put(b)
      local c = back:get(true, 30)
      a:send("to the returned end")
      assert.is_true(c:poll(30))
      assert.equal("to the returned end", c:recv())
      c:send("from it")
      assert.equal("from it", a:recv())
      c:close()
    end)
    a:close()
    b:close()
  end)

  it("refuses values that cannot cross, with one message", function()
    local q = mp.Queue()
    local a, b = mp.Pipe()
    local co = coroutine.create(print)
    local f = io.tmpfile()
    local cases = {
      {co, "thread"},
      {{nested = {co}}, "thread"},
      {f, "userdata"},
      {threading.Lock(), "userdata"},
      {function() return co end, "thread"},
    }
    for _, case in ipairs(cases) do
      local msg = ("cannot send a value of type %s to another process"):format(case[2])
      local ok, err = pcall(q.put, q, case[1])
      assert.is_false(ok)
      assert.equal(msg, err)
      ok, err = pcall(a.send, a, case[1])
      assert.is_false(ok)
      assert.equal(msg, err)
    end
    f:close()
    assert.is_true(q:empty())
    assert.is_false(b:poll())
    a:close()
    b:close()
  end)
end)
