-- multiprocessing.Manager: proxies from any process, and a server that only
-- this program's processes can use.
local children = require("children")
local proc = require("proc")
local mp = multiprocessing

local function no_children_left()
  assert.equal("", children.describe(children.settle(5)))
end

local function run_children(n, f, ...)
  local ps = {}
  for i = 1, n do
    ps[i] = mp.Process{target = f, args = table.pack(i, ...)}
    ps[i]:start()
  end
  for _, p in ipairs(ps) do
    if not p:join(30) then p:kill() p:join() end
    assert.equal(0, p.exitcode)
  end
end

local function mode_of(path)
  local p = io.popen("stat -c %a " .. proc.quote(path) .. " 2>/dev/null")
  local m = p:read("l")
  p:close()
  return m
end

describe("multiprocessing.Manager", function()
  after_each(no_children_left)

  it("shares a dict and a list with children (the course example)", function()
    local manager <close> = mp.Manager()
    local d = manager:dict()
    local l = manager:list({0, 1, 2, 3, 4})
    run_children(10, function(n, d, l)
      d[n] = n
      l:append(n)
    end, d, l)
    for i = 1, 10 do assert.equal(i, d[i]) end
    assert.equal(10, #d)
    assert.equal(15, #l)
    local sorted = l:copy()
    table.sort(sorted)
    assert.same({0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10}, table.move(sorted, 1, 15, 1, {}))
    assert.equal("{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10}", tostring(d))
  end)

  it("proxies support indexing, assignment, #, pairs, ipairs, table.insert", function()
    local manager <close> = mp.Manager()
    local d = manager:dict({a = 1})
    d.b = 2
    d["c"] = {nested = true}
    assert.equal(1, d.a)
    assert.is_true(d.c.nested)
    d.a = nil
    assert.is_nil(d.a)
    local keys = {}
    for k, v in pairs(d) do keys[#keys + 1] = k .. "=" .. tostring(type(v) == "table" or v) end
    table.sort(keys)
    assert.same({"b=2", "c=true"}, keys)
    assert.equal(2, #d)
    assert.equal(2, d:get("b"))
    assert.equal("dflt", d:get("zz", "dflt"))
    assert.equal(2, d:pop("b"))

    local l = manager:list()
    table.insert(l, "x")
    table.insert(l, "y")
    l[#l + 1] = "z"
    assert.equal(3, #l)
    assert.equal("y", l[2])
    l[2] = "Y"
    local seen = {}
    for i, v in ipairs(l) do seen[i] = v end
    assert.same({"x", "Y", "z"}, seen)
    seen = {}
    for i, v in pairs(l) do seen[i] = v end
    assert.same({"x", "Y", "z"}, seen)
    assert.equal("z", table.remove(l))
    assert.equal(2, #l)
    assert.equal("['x', 'Y']", tostring(l))
    assert.has_error(function() l[10] = 1 end)
  end)

  it("table.insert from many processes appends atomically", function()
    local manager <close> = mp.Manager()
    local l = manager:list()
    run_children(4, function(n, l)
      for j = 1, 25 do table.insert(l, n * 100 + j) end
    end, l)
    assert.equal(100, #l)
    local copy = l:copy()
    local seen = {}
    for i = 1, 100 do seen[copy[i]] = true end
    for n = 1, 4 do
      for j = 1, 25 do assert.is_true(seen[n * 100 + j]) end
    end
  end)

  it("Namespace, Value, Queue, Lock, Event proxies work from children", function()
    local manager <close> = mp.Manager()
    local ns = manager:Namespace()
    local v = manager:Value("i", 0)
    local q = manager:Queue()
    local lock = manager:Lock()
    local ev = manager:Event()
    ns.x = 1
    run_children(3, function(n, ns, v, q, lock, ev)
      lock:with(function() v.value = v.value + n end)
      q:put(n)
      ns["from" .. n] = true
      ev:set()
    end, ns, v, q, lock, ev)
    assert.equal(6, v.value)
    local got = {q:get(), q:get(), q:get()}
    table.sort(got)
    assert.same({1, 2, 3}, got)
    assert.is_true(ns.from2)
    assert.equal(1, ns.x)
    assert.is_true(ev:is_set())
    local ok, err = pcall(q.get, q, true, 0.01)
    assert.is_false(ok)
    assert.is_true(err == mp.Empty)
    assert.matches("^Namespace%(", tostring(ns))
  end)

  it("proxies can be sent through queues", function()
    local manager <close> = mp.Manager()
    local d = manager:dict()
    local inbox = mp.Queue()
    local p = mp.Process(function() local dd = inbox:get() dd.sent = "yes" end)
    p:start()
    inbox:put(d)
    p:join()
    assert.equal("yes", d.sent)
  end)

  it("listens in a private directory and cleans it up at shutdown", function()
    local manager = mp.Manager()
    local dir = manager.address:match("^(.*)/[^/]+$")
    assert.equal("700", mode_of(dir))
    assert.equal("600", mode_of(manager.address))
    local d = manager:dict()
    d.x = 1
    local server = manager._process
    manager:shutdown()
    assert.is_false(server:is_alive())
    assert.is_nil(mode_of(dir))
    local ok, err = pcall(function() return d.x end)
    assert.is_false(ok)
    assert.is_true(err == mp.ProcessError)
  end)

  it("refuses a wrong key, malformed and oversized messages, and keeps serving", function()
    local out, err, code = proc.lua([[
      local mp = multiprocessing
      local native = mp._native
      local manager <close> = mp.Manager()
      local d = manager:dict()
      d.before = 1
      -- a wrong key
      local c = native.connect(manager.address)
      native.conn_send_bytes(c, ("x"):rep(32))
      print("wrong key:", native.conn_recv_bytes(c))
      print("then:", pcall(native.conn_recv_bytes, c))
      native.conn_close(c)
      -- the right key, then garbage
      c = native.connect(manager.address)
      native.conn_send_bytes(c, manager._authkey)
      print("right key:", native.conn_recv_bytes(c))
      native.conn_send_bytes(c, "\255\1garbage")
      print("after garbage:", pcall(native.conn_recv, c))
      native.conn_close(c)
      -- the right key, then a message over the 64 MiB limit
      c = native.connect(manager.address)
      native.conn_send_bytes(c, manager._authkey)
      native.conn_recv_bytes(c)
      -- (the server hangs up after the header: the send may break)
      pcall(native.conn_send_bytes, c, ("y"):rep(70 * 1024 * 1024))
      print("after oversized:", pcall(native.conn_recv, c))
      native.conn_close(c)
      -- a connection that sends nothing and closes
      native.conn_close(native.connect(manager.address))
      -- still serving
      d.after = 2
      print("still serving:", d.before, d.after)
    ]])
    assert.equal(0, code)
    assert.matches("wrong key:\t#FAIL", out, 1, true)
    assert.matches("then:\tfalse\tEOFError", out, 1, true)
    assert.matches("right key:\t#OK", out, 1, true)
    assert.matches("after garbage:\tfalse\tEOFError", out, 1, true)
    assert.matches("after oversized:\tfalse", out, 1, true)
    assert.matches("still serving:\t1\t2", out, 1, true)
    assert.matches("refused a connection: wrong authentication key", err, 1, true)
    assert.matches("closed a connection: .*malformed", err)
    assert.matches("closed a connection: message too large", err, 1, true)
  end)

  it("is shut down at exit when left open", function()
    local out, _, code = proc.lua([[
      local m = multiprocessing.Manager()
      local d = m:dict()
      d.x = 1
      print(m._process.pid, m.address)
    ]])
    assert.equal(0, code)
    local pid, address = out:match("(%d+)%s+(%S+)")
    assert.is_false(children.exists(tonumber(pid)))
    assert.is_nil(mode_of(address))
  end)
end)
