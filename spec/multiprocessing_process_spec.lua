-- multiprocessing.Process and the module functions (API.md, "multiprocessing").
local proc = require("proc")
local children = require("children")
local mp = multiprocessing

local function no_children_left()
  local left = children.settle(30)
  assert.equal("", children.describe(left))
end

-- waits (up to 30 s: an exit under a sanitizer on a busy machine is slow)
-- until the process has ended, without join
local function wait_ended(p)
  local deadline = time.monotonic() + 30
  while p.exitcode == nil and time.monotonic() < deadline do
    time.sleep(0.01)
  end
end

describe("multiprocessing.Process", function()
  after_each(no_children_left)

  it("runs target with args and kwargs in a child, exit code 0", function()
    local q = mp.Queue()
    local p = mp.Process{target = function(a, b, kw) q:put({a, b, kw.x, os.getpid()}) end,
                         args = {1, 2}, kwargs = {x = 3}}
    assert.is_nil(p.pid)
    assert.is_nil(p.exitcode)
    p:start()
    local got = q:get()
    assert.is_true(p:join())
    assert.same({1, 2, 3, p.pid}, got)
    assert.not_equal(os.getpid(), p.pid)
    assert.equal(0, p.exitcode)
    assert.is_false(p:is_alive())
  end)

  it("accepts positional arguments recognised by type", function()
    local q = mp.Queue()
    local p = mp.Process(function(x) q:put(x) end, "named", {42}, true)
    assert.equal("named", p.name)
    assert.is_true(p.daemon)
    p:start()
    assert.equal(42, q:get())
    p:join()
  end)

  it("names processes Process-N and sets daemon false by default", function()
    local p = mp.Process{target = function() end}
    assert.matches("^Process%-%d+$", p.name)
    assert.is_false(p.daemon)
    p.daemon = true
    assert.is_true(p.daemon)
  end)

  it("daemon cannot change once the process started", function()
    local go = mp.Event()
    local p = mp.Process{target = function() go:wait() end}
    p.daemon = true
    p.daemon = false
    p:start()
    local ok, err = pcall(function() p.daemon = true end)
    go:set()
    assert.is_true(p:join(30))
    assert.is_false(ok)
    assert.matches("process has already started", err, 1, true)
    assert.is_false(p.daemon)
    assert.has_error(function() p.daemon = true end, "process has already started")
    assert.is_nil(rawget(p, "daemon"))  -- kept behind the property
    -- the child may change its own, as in Python
    local q = mp.Queue()
    local c = mp.Process{target = function()
      local me = mp.current_process()
      me.daemon = true
      q:put(me.daemon)
    end}
    c:start()
    assert.is_true(q:get(true, 30))
    assert.is_true(c:join(30))
    assert.is_false(c.daemon)
    -- a subclass has the property too
    local D = mp.Process:extend("D")
    local d = D()
    d.daemon = true
    assert.is_true(d.daemon)
  end)

  it("pid, ident, sentinel and exitcode are read-only, as Python's properties", function()
    local W = mp.Process:extend("RoWorker")
    function W:init(id) W.super.init(self, {target = function() end}); self.id = id end
    for _, p in ipairs{mp.Process{target = function() end}, W(3)} do
      local cls = getmetatable(p).__name
      for _, started in ipairs{false, true} do
        if started then p:start(); assert.is_true(p:join(30)) end
        local before = {p.pid, p.ident, p.sentinel, p.exitcode}
        for attr, v in pairs{pid = 3, ident = 3, sentinel = 3, exitcode = 0} do
          local ok, err = pcall(function() p[attr] = v end) local line = debug.getinfo(1, "l").currentline
          assert.is_false(ok)
          assert.matches(("multiprocessing_process_spec.lua:%d: attribute '%s' of '%s' objects is not writable")
                         :format(line, attr, cls), err, 1, true)
        end
        assert.same(before, {p.pid, p.ident, p.sentinel, p.exitcode})
        if started then
          assert.is_number(p.pid)
          assert.equal(p.pid, p.ident)
          assert.equal(0, p.exitcode)
        else
          assert.is_nil(p.pid)
        end
      end
      p.name = "renamed"  -- what Python lets one assign still can be
      assert.equal("renamed", p.name)
      p.anything = 1
      assert.equal(1, p.anything)
    end
    assert.equal(os.getpid(), mp.current_process().pid)
    assert.has_error(function() mp.current_process().pid = 1 end,
                     "attribute 'pid' of 'Process' objects is not writable")
    -- the parent, seen from a child
    local q = mp.Queue()
    local c = mp.Process{target = function()
      local parent = mp.parent_process()
      local ok, err = pcall(function() parent.pid = 1 end)
      q:put({ok, tostring(err), parent.pid, parent.ident})
    end}
    c:start()
    local got = q:get(true, 30)
    assert.is_true(c:join(30))
    assert.is_false(got[1])
    assert.matches("attribute 'pid' of 'ParentProcess' objects is not writable", got[2], 1, true)
    assert.equal(os.getpid(), got[3])
    assert.equal(os.getpid(), got[4])
  end)

  it("gives exit code 1 and the traceback on stderr for an uncaught error", function()
    local out, err, code = proc.lua([[
      local p = multiprocessing.Process{target = function() error("boom in child") end,
                                        name = "Bad"}
      p:start()
      p:join()
      print(p.exitcode)
    ]])
    assert.equal(0, code)
    assert.equal("1\n", out)
    assert.matches("Process Bad:", err, 1, true)
    assert.matches("boom in child", err, 1, true)
    assert.matches("stack traceback", err, 1, true)
  end)

  it("gives -N when the child is killed by signal N", function()
    local ev = mp.Event()
    local p = mp.Process(function() ev:wait() end)
    p:start()
    p:terminate()
    p:join()
    assert.equal(-15, p.exitcode)
    local p2 = mp.Process(function() ev:wait() end)
    p2:start()
    p2:kill()
    assert.is_true(p2:join(10))
    assert.equal(-9, p2.exitcode)
  end)

  it("gives the code of os.exit", function()
    local p = mp.Process(function() os.exit(7) end)
    p:start()
    p:join()
    assert.equal(7, p.exitcode)
  end)

  it("reports exitcode and is_alive correctly without join", function()
    local go = mp.Event()
    local p = mp.Process(function() go:wait() end)
    p:start()
    assert.is_true(p:is_alive())
    assert.is_nil(p.exitcode)
    go:set()
    wait_ended(p)
    assert.equal(0, p.exitcode)
    assert.is_false(p:is_alive())
    assert.is_true(p:join())
  end)

  it("join with a timeout returns false while the child runs", function()
    local go = mp.Event()
    local p = mp.Process(function() go:wait() end)
    p:start()
    assert.is_false(p:join(0.05))
    go:set()
    assert.is_true(p:join())
  end)

  it("refuses to start twice and to join an unstarted process", function()
    local p = mp.Process(function() end)
    assert.has_error(function() p:join() end)
    p:start()
    assert.has_error(function() p:start() end, "cannot start a process twice")
    p:join()
    local closed = mp.Process(function() end)
    closed:close()
    assert.has_error(function() closed:start() end, "process object is closed")
  end)

  it("after close, its methods and pid and exitcode raise, as Python's", function()
    local p = mp.Process(function() end)
    p:start()
    p:join()
    local pid = p.pid
    p:close()
    for _, f in ipairs{
      function() return p:is_alive() end, function() return p:join() end,
      function() return p:terminate() end, function() return p:kill() end,
      function() return p.pid end, function() return p.ident end,
      function() return p.exitcode end,
    } do
      assert.has_error(f, "process object is closed")
    end
    assert.matches("pid=" .. pid .. " .* closed>$", tostring(p))
    assert.equal("Process-" .. p.name:match("%d+$"), p.name)  -- still readable
  end)

  it("can be subclassed with run", function()
    local Worker = mp.Process:extend("Worker")
    function Worker:init(q, id)
      Worker.super.init(self)
      self.q, self.id = q, id
    end
    function Worker:run() self.q:put({self.name, self.id}) end
    local q = mp.Queue()
    local w = Worker(q, 5)
    w:start()
    local got = q:get()
    w:join()
    assert.same({w.name, 5}, got)
    assert.equal(0, w.exitcode)
    assert.is_true(w:isinstance(mp.Process))
  end)

  it("names a subclass's processes after the class, sharing the counter", function()
    local Worker = mp.Process:extend("Worker")
    local w1 = Worker()
    local p = mp.Process()
    local w2 = Worker()
    local n = tonumber(w1.name:match("^Worker%-(%d+)$"))
    assert.is_number(n)   -- Python: type(self).__name__ + '-N'
    assert.equal("Process-" .. (n + 1), p.name)
    assert.equal("Worker-" .. (n + 2), w2.name)
    -- a subclass of the subclass, and one that calls init with a name
    local Sub = Worker:extend("SubWorker")
    assert.matches("^SubWorker%-%d+$", Sub().name)
    local Named = mp.Process:extend("Named")
    function Named:init() Named.super.init(self, {name = "mine"}) end
    assert.equal("mine", Named().name)
    -- the name is the class's in the child too, with the child's own counter
    local q = mp.Queue()
    local c = Worker{target = function() q:put(Worker().name) end}
    c:start()
    assert.equal(c.name .. ":1", q:get(true, 30))
    assert.is_true(c:join(30))
  end)

  it("has current_process and parent_process in the child", function()
    local q = mp.Queue()
    assert.equal("MainProcess", mp.current_process().name)
    assert.is_nil(mp.parent_process())
    local p = mp.Process{target = function()
      local cur, par = mp.current_process(), mp.parent_process()
      q:put({cur.name, cur.pid, par.pid, par.name, par:is_alive()})
    end, name = "kid"}
    p:start()
    local got = q:get()
    p:join()
    assert.same({"kid", p.pid, os.getpid(), "MainProcess", true}, got)
  end)

  it("lists active children and reaps ended ones", function()
    local go = mp.Event()
    local a = mp.Process(function() go:wait() end)
    local b = mp.Process(function() end)
    a:start()
    b:start()
    b:join()
    local list = mp.active_children()
    assert.equal(1, #list)
    assert.equal(a, list[1])
    go:set()
    a:join()
    assert.equal(0, #mp.active_children())
  end)

  it("has cpu_count and the fork start method", function()
    assert.is_true(math.type(mp.cpu_count()) == "integer" and mp.cpu_count() >= 1)
    assert.equal("fork", mp.get_start_method())
  end)

  it("forks safely while other threads run: the child has only its own thread", function()
    local stop = false
    local ready = threading.Lock()
    ready:acquire()
    local held = threading.Lock()
    local t = threading.Thread{target = function()
      held:acquire()         -- a lock held by a thread that the child lacks
      ready:release()
      while not stop do time.sleep(0.001) end
      held:release()
    end}
    t:start()
    ready:acquire()
    local q = mp.Queue()
    local p = mp.Process(function()
      local list = threading.enumerate()
      q:put({#list, list[1] == threading.current_thread(),
             t:is_alive(), t:join(), threading.main_thread() == threading.current_thread()})
    end)
    p:start()
    local got = q:get()
    p:join()
    stop = true
    t:join()
    assert.same({1, true, false, true, true}, got)
    assert.equal(0, p.exitcode)
  end)

  it("starts processes from a thread other than the main thread", function()
    local q = mp.Queue()
    local code
    local t = threading.Thread{target = function()
      local p = mp.Process(function() q:put(#threading.enumerate()) end)
      p:start()
      p:join()
      code = p.exitcode
    end}
    t:start()
    t:join()
    assert.equal(1, q:get())
    assert.equal(0, code)
  end)

  it("terminates daemon children and joins the others when the program ends", function()
    local out, _, code = proc.lua([[
      local mp = multiprocessing
      local d = mp.Process{target = function() time.sleep(100) end, daemon = true}
      d:start()
      local q = mp.Queue()
      local n = mp.Process{target = function() time.sleep(0.2) q:put("done") end}
      n:start()
      print(d.pid, n.pid)
    ]])
    assert.equal(0, code)
    local dpid, npid = out:match("(%d+)%s+(%d+)")
    assert.is_false(children.exists(tonumber(dpid)))
    assert.is_false(children.exists(tonumber(npid)))
  end)

  it("terminates daemon children when the program calls os.exit", function()
    local out, _, code = proc.lua([[
      local d = multiprocessing.Process{target = function() time.sleep(100) end, daemon = true}
      d:start()
      print(d.pid)
      io.stdout:flush()
      os.exit(3)
    ]])
    assert.equal(3, code)
    assert.is_false(children.exists(tonumber(out:match("%d+"))))
  end)

  -- waits (up to 10 s) until none of the processes 'pids' exists
  local function wait_gone(pids)
    for _ = 1, 500 do
      local alive = 0
      for _, pid in ipairs(pids) do
        if children.exists(pid) then alive = alive + 1 end
      end
      if alive == 0 then return end
      time.sleep(0.02)
    end
  end

  it("pool workers and manager servers leave when their program is killed", function()
    local out = proc.lua([[
      local pool = multiprocessing.Pool(2)
      local m = multiprocessing.Manager()
      for _, p in pairs(pool._workers) do print(p.pid) end
      print(m._process.pid)
      io.stdout:flush()
      os.execute("kill -9 " .. os.getpid())
    ]])
    local pids = {}
    for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
    assert.equal(3, #pids)
    wait_gone(pids)
    for _, pid in ipairs(pids) do assert.is_false(children.exists(pid)) end
  end)

  it("pool workers leave even when their program died before they first ran", function()
    -- a worker's first os.getppid() is delayed until its parent is dead:
    -- it once took that (init's pid) as its parent's and never left
    local path = proc.script([[
      local getppid, first = os.getppid, true
      os.getppid = function()
        if first then first = false time.sleep(0.5) end
        return getppid()
      end
      local pool = multiprocessing.Pool(2)
      local f = assert(io.open(arg[1], "w"))
      for _, p in pairs(pool._workers) do f:write(p.pid, "\n") end
      f:close()
      os.execute("kill -9 " .. os.getpid())
    ]])
    local pidfile = os.tmpname()
    -- through sh, so that a worker left behind holds no pipe of ours
    proc.run{bin = "sh", "-c", proc.quote(proc.bin) .. " " .. proc.quote(path) .. " "
             .. proc.quote(pidfile) .. " >/dev/null 2>&1"}
    os.remove(path)
    local f = assert(io.open(pidfile))
    local pids = {}
    for pid in f:read("a"):gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
    f:close()
    os.remove(pidfile)
    assert.equal(2, #pids)
    wait_gone(pids)
    local left = {}
    for _, pid in ipairs(pids) do
      if children.exists(pid) then
        left[#left + 1] = pid
        os.execute("kill -9 " .. pid)  -- not left running after a failure
      end
    end
    assert.same({}, left)
  end)

  it("leaves no process behind when the main chunk fails", function()
    local out, _, code = proc.lua([[
      local d = multiprocessing.Process{target = function() time.sleep(100) end, daemon = true}
      d:start()
      print(d.pid)
      io.stdout:flush()
      error("main fails")
    ]])
    assert.equal(1, code)
    assert.is_false(children.exists(tonumber(out:match("%d+"))))
  end)
end)
