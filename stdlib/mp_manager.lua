-- multiprocessing.Manager: a server process holding shared objects (dict,
-- list, Namespace, Queue, Lock, Value...) that other processes use through
-- proxies, as Python's SyncManager.
--
-- The server listens on a Unix socket in a fresh directory only the user
-- can enter (mode 0700, the socket 0600). Every connection must first send
-- the manager's authentication key (32 random bytes from /dev/urandom,
-- compared in constant time); a wrong key, a malformed message or one
-- bigger than MAX_MESSAGE closes that connection with a line on stderr,
-- and the server goes on serving the others. Each connection has its own
-- thread in the server, so a blocking call (a Queue get, a Lock acquire)
-- holds up only its caller.
--
-- Proxies are plain objects holding the server's address, key and an
-- object id; they can be passed to children (inherited by fork) and sent
-- through queues and pipes. Each thread of each process opens its own
-- connection on first use. A proxy keeps those three under the key
-- PROXY_STATE, a table rather than a string, so that no dict key or
-- attribute name ('_id', ...) can reach them; the codec sends that key by
-- name (it is a field of this module), so the receiver's proxy uses its own.

local mp = package.loaded["cthreads.multiprocessing"]
local class = require("cthreads.class")
local threading = require("cthreads.threading")
local queue = require("cthreads.queue")
local native = mp._native
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local typename = class.typename
local unpack, pack = table.unpack, table.pack
local getpid = os.getpid
local HANDLE = native.HANDLE

local M = {}
local PROXY_STATE = {}
M._PROXY_STATE = PROXY_STATE
local MAX_MESSAGE = 64 * 1024 * 1024
local AUTH_OK, AUTH_FAIL = "#OK", "#FAIL"
M.MAX_MESSAGE = MAX_MESSAGE

local function log(fmt, ...)
  io.stderr:write(("multiprocessing manager (pid %d): "):format(getpid()),
                  fmt:format(...), "\n")
  io.stderr:flush()
end

-- ---- Python-like text of a value (print(d) on a proxy) -----------------------

local function repr(v, seen, as_dict)
  local t = type(v)
  if t == "string" then return ("'%s'"):format(v:gsub("\\", "\\\\"):gsub("'", "\\'")) end
  if t == "nil" then return "None" end
  if t == "boolean" then return v and "True" or "False" end
  if t ~= "table" or getmetatable(v) ~= nil then return tostring(v) end
  seen = seen or {}
  if seen[v] then return "..." end
  seen[v] = true
  local n = v.n or #v
  local parts = {}
  local is_list = not as_dict and (n > 0 or next(v) == nil)
  if is_list then
    for k in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) and k ~= "n" then
        is_list = false
        break
      end
    end
  end
  if is_list then
    for i = 1, n do parts[i] = repr(v[i], seen) end
    seen[v] = nil
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  for _, k in ipairs(keys) do parts[#parts + 1] = repr(k, seen) .. ": " .. repr(v[k], seen) end
  seen[v] = nil
  return "{" .. table.concat(parts, ", ") .. "}"
end
M._repr = repr

-- ---- the server's objects ------------------------------------------------------

-- a list keeps its length in 'n' so that it can hold nil
local function list_len(l) return l.n end

local handlers = {}

-- a key that no table can hold: the error Lua gives for a table, sent
-- back to the script (raised here, it came with this file's line)
local function check_key(k)
  if k == nil then error("table index is nil", 0) end
  if k ~= k then error("table index is NaN", 0) end
end

handlers.dict = {
  getitem = function(d, k) return d[k] end,
  setitem = function(d, k, v) check_key(k) d[k] = v end,
  delitem = function(d, k) d[k] = nil end,
  get = function(d, k, default)
    local v = d[k]
    if v == nil then return default end
    return v
  end,
  len = function(d)
    local n = 0
    for _ in pairs(d) do n = n + 1 end
    return n
  end,
  keys = function(d)
    local r = {}
    for k in pairs(d) do r[#r + 1] = k end
    return r
  end,
  values = function(d)
    local r = {}
    for _, v in pairs(d) do r[#r + 1] = v end
    return r
  end,
  items = function(d)
    local r = {}
    for k, v in pairs(d) do r[#r + 1] = {k, v} end
    return r
  end,
  copy = function(d)
    local r = {}
    for k, v in pairs(d) do r[k] = v end
    return r
  end,
  pop = function(d, k, ...)
    local v = d[k]
    if v == nil then
      if select("#", ...) > 0 then return (...) end
      error(("KeyError: %s"):format(repr(k)), 0)
    end
    d[k] = nil
    return v
  end,
  popitem = function(d)
    local k, v = next(d)
    if k == nil then error("KeyError: 'popitem(): dictionary is empty'", 0) end
    d[k] = nil
    return {k, v}
  end,
  setdefault = function(d, k, default)
    if d[k] == nil then check_key(k) d[k] = default end
    return d[k]
  end,
  update = function(d, t)
    if type(t) == "table" then
      for k, v in pairs(t) do d[k] = v end
    end
  end,
  clear = function(d)
    for k in pairs(d) do d[k] = nil end
  end,
  contains = function(d, k) return d[k] ~= nil end,
  repr = function(d) return repr(d, nil, true) end,
}

local function list_index(l, i, allow_end)
  if math.type(i) ~= "integer" then
    if type(i) == "number" and i == math.floor(i) then
      -- a whole float too big for an integer (1e308, math.huge) is out of range
      i = math.tointeger(i)
      if i == nil then error("IndexError: list index out of range", 0) end
    else error("list indices must be integers", 0) end
  end
  if i < 1 or i > l.n + (allow_end and 1 or 0) then
    error("IndexError: list index out of range", 0)
  end
  return i
end

handlers.list = {
  getitem = function(l, i)
    if math.type(i) ~= "integer" or i < 1 or i > l.n then return nil end
    return l[i]
  end,
  setitem = function(l, i, v)
    i = list_index(l, i, true)
    if i == l.n + 1 then  -- just past the end: append
      l.n = i
      l[i] = v
    elseif v == nil and i == l.n then  -- table.remove's last step
      l[i] = nil
      l.n = i - 1
    else
      l[i] = v
    end
  end,
  append = function(l, v)
    l.n = l.n + 1
    l[l.n] = v
  end,
  extend = function(l, t)
    for i = 1, t.n or #t do
      l.n = l.n + 1
      l[l.n] = t[i]
    end
  end,
  insert = function(l, i, v)
    if i > l.n + 1 then i = l.n + 1 end
    if i < 1 then i = 1 end
    table.move(l, i, l.n, i + 1)
    l[i] = v
    l.n = l.n + 1
  end,
  pop = function(l, i)
    if l.n == 0 then error("IndexError: pop from empty list", 0) end
    i = i and list_index(l, i) or l.n
    local v = l[i]
    table.move(l, i + 1, l.n, i)
    l[l.n] = nil
    l.n = l.n - 1
    return v
  end,
  remove = function(l, v)
    for i = 1, l.n do
      if l[i] == v then
        table.move(l, i + 1, l.n, i)
        l[l.n] = nil
        l.n = l.n - 1
        return
      end
    end
    error("ValueError: list.remove(x): x not in list", 0)
  end,
  index = function(l, v)
    for i = 1, l.n do
      if l[i] == v then return i end
    end
    error(("ValueError: %s is not in list"):format(repr(v)), 0)
  end,
  count = function(l, v)
    local c = 0
    for i = 1, l.n do
      if l[i] == v then c = c + 1 end
    end
    return c
  end,
  reverse = function(l)
    local n = l.n
    for i = 1, n // 2 do l[i], l[n - i + 1] = l[n - i + 1], l[i] end
  end,
  sort = function(l, cmp)
    local t = table.move(l, 1, l.n, 1, {})
    table.sort(t, cmp)
    table.move(t, 1, l.n, 1, l)
  end,
  clear = function(l)
    for i = 1, l.n do l[i] = nil end
    l.n = 0
  end,
  len = list_len,
  copy = function(l) return table.move(l, 1, l.n, 1, {n = l.n}) end,
  contains = function(l, v)
    for i = 1, l.n do
      if l[i] == v then return true end
    end
    return false
  end,
  repr = function(l) return repr(l) end,
}

handlers.namespace = {
  getattr = function(ns, k) return ns[k] end,
  setattr = function(ns, k, v) check_key(k) ns[k] = v end,
  delattr = function(ns, k) ns[k] = nil end,
  copy = function(ns)
    local r = {}
    for k, v in pairs(ns) do r[k] = v end
    return r
  end,
  repr = function(ns)
    local keys = {}
    for k in pairs(ns) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do keys[i] = k .. "=" .. repr(ns[k]) end
    return "Namespace(" .. table.concat(keys, ", ") .. ")"
  end,
}

handlers.value = {
  get = function(v) return v.value end,
  set = function(v, x) v.value = x end,
  repr = function(v) return ("Value('%s', %s)"):format(v.typecode, repr(v.value)) end,
}

-- An error of a forwarded method, as the client should see it: without
-- the server's position inside this library, and a bad argument named as
-- the proxy's method. A native method called here (not with ':') counts
-- self among its arguments: its number drops by one, so that
-- q:get(true, "x") has its bad argument #2, as on a queue of this process.
local function client_error(e, name, native_method)
  if type(e) ~= "string" then return e end
  e = e:gsub("^cthreads/[%w_]+%.lua:%d+: ", "")
  return (e:gsub("^bad argument #(%d+) to '[^']*'", function(n)
    n = tonumber(n)
    if native_method and n > 1 then n = n - 1 end
    return ("bad argument #%d to '%s'"):format(n, name)
  end))
end

local function forward(...)
  local names = {...}
  local t = {}
  for _, name in ipairs(names) do
    t[name] = function(obj, ...)
      local f = obj[name]
      local r = pack(pcall(f, obj, ...))
      if not r[1] then
        error(client_error(r[2], name, debug.getinfo(f, "S").what == "C"), 0)
      end
      return unpack(r, 2, r.n)
    end
  end
  t.repr = function(obj) return tostring(obj) end
  return t
end

handlers.condition = forward("acquire", "release", "wait", "notify", "notify_all")

local barrier_fields = {parties = true, n_waiting = true, broken = true}
handlers.barrier = forward("wait", "reset", "abort")
handlers.barrier.getattr = function(b, k)
  if not barrier_fields[k] then error(("'Barrier' has no attribute '%s'"):format(tostring(k)), 0) end
  return b[k]
end

-- an Array is a multiprocessing.RawArray in the server (the same typecodes,
-- conversions and wrapping as a local one); proxies check indexes and
-- values before sending, the server checks them again
local vget, vset = native.value_get, native.value_set
handlers.array = {
  getitem = function(a, i)
    if math.type(i) ~= "integer" or i < 1 or i > #a then return nil end
    return vget(a, i)
  end,
  setitem = function(a, i, v) vset(a, i, v) end,
  len = function(a) return #a end,
  tolist = function(a) return native.value_totable(a) end,
  getvalue = function(a) return a.value end,
  setvalue = function(a, s) a.value = s end,
  repr = function(a)
    local t = native.value_totable(a)
    for i = 1, #t do t[i] = repr(t[i]) end
    return ("array('%s', [%s])"):format(a.typecode, table.concat(t, ", "))
  end,
}

handlers.queue = forward("put", "get", "put_nowait", "get_nowait", "qsize", "empty",
                         "full", "task_done", "join", "shutdown")
handlers.lock = forward("acquire", "release", "locked")
handlers.event = forward("set", "clear", "is_set", "wait")
handlers.semaphore = forward("acquire", "release", "get_value")

-- objects whose methods may block run without the server lock; the others
-- (dict, list, namespace, value, array) run under it, one operation at a time,
-- as Python's server runs them under its GIL
local blocking_kinds = {queue = true, lock = true, event = true, semaphore = true,
                        condition = true, barrier = true}

-- in the server process: its objects and address (for a Condition made on
-- a Lock of the same manager)
local served = nil

local function served_lock(lock)
  local st = served and type(lock) == "table" and rawget(lock, PROXY_STATE)
  local entry = st and st.address == served.address and served.objects[st.id]
  if not entry or entry[2] ~= "lock" then
    error("Condition: the lock must be a Lock or RLock of this manager", 0)
  end
  return entry[1]
end

-- makers: type name -> function(args...) -> server object, handler kind
local makers = {
  dict = function(init)
    local d = {}
    if type(init) == "table" then for k, v in pairs(init) do d[k] = v end end
    return d, "dict"
  end,
  list = function(init)
    local l = {n = 0}
    if type(init) == "table" then
      for i = 1, init.n or #init do l[i] = init[i] end
      l.n = init.n or #init
    end
    return l, "list"
  end,
  Namespace = function(init)
    local ns = {}
    if type(init) == "table" then for k, v in pairs(init) do ns[k] = v end end
    return ns, "namespace"
  end,
  Value = function(typecode, value)
    return {typecode = typecode, value = value}, "value"
  end,
  -- a queue.Queue in the server, as Python's (task_done, join and
  -- shutdown for both)
  Queue = function(maxsize) return queue.Queue(maxsize), "queue" end,
  JoinableQueue = function(maxsize) return queue.Queue(maxsize), "queue" end,
  Lock = function() return threading.Lock(), "lock" end,
  RLock = function() return threading.RLock(), "lock" end,
  Event = function() return mp.Event(), "event" end,
  Semaphore = function(v) return mp.Semaphore(v), "semaphore" end,
  BoundedSemaphore = function(v) return mp.BoundedSemaphore(v), "semaphore" end,
  Condition = function(lock)
    if lock == nil then return threading.Condition(threading.RLock()), "condition" end
    return threading.Condition(served_lock(lock)), "condition"
  end,
  Barrier = function(parties, action, timeout)
    return threading.Barrier(parties, action, timeout), "barrier"
  end,
  Array = function(typecode, init) return mp.RawArray(typecode, init), "array" end,
}

-- ---- the server process --------------------------------------------------------------

local AUTH_TIMEOUT = 10  -- seconds a new connection has to send the key

local function serve_connection(conn, authkey, objects, state)
  native.conn_set_maxmsg(conn, 1024)
  if not native.conn_poll(conn, AUTH_TIMEOUT) then
    log("refused a connection: no authentication key within %d s", AUTH_TIMEOUT)
    native.conn_close(conn)
    return
  end
  local ok, key = pcall(native.conn_recv_bytes, conn)
  if not ok or not native.consteq(key, authkey) then
    log("refused a connection: %s", ok and "wrong authentication key"
                                     or tostring(key))
    pcall(native.conn_send_bytes, conn, AUTH_FAIL)
    native.conn_close(conn)
    return
  end
  native.conn_send_bytes(conn, AUTH_OK)
  native.conn_set_maxmsg(conn, MAX_MESSAGE)
  while true do
    local rok, req = pcall(native.conn_recv, conn)
    if not rok then
      if req ~= mp.EOFError then log("closed a connection: %s", tostring(req)) end
      break
    end
    if type(req) ~= "table" or type(req[1]) ~= "string" then
      log("closed a connection: malformed request")
      break
    end
    local op, id = req[1], req[2]
    local reply
    -- the manager's own requests carry no object id (a proxy's method
    -- named "shutdown" is not the manager's)
    if op == "create" and type(id) == "string" then
      local maker = makers[id]
      if maker == nil then
        reply = {false, "unknown manager type " .. tostring(id)}
      else
        local cok, obj, kind = pcall(maker, unpack(req, 3, req.n))
        if cok then
          state.lock:acquire()
          state.next_id = state.next_id + 1
          local id = state.next_id
          objects[id] = {obj, kind}
          state.lock:release()
          reply = {true, id, kind}
        else
          reply = {false, obj}
        end
      end
    elseif op == "shutdown" and id == nil then
      pcall(native.conn_send, conn, {true})
      state.shutdown()
      return
    elseif op == "ping" and id == nil then
      reply = {true}
    else
      local entry = objects[id]
      local h = entry and handlers[entry[2]][op]
      if h == nil then
        reply = {false, entry and ("'%s' has no method '%s'"):format(entry[2], op)
                        or "no such shared object"}
      elseif blocking_kinds[entry[2]] then
        reply = pack(pcall(h, entry[1], unpack(req, 3, req.n)))
      else
        state.lock:acquire()
        reply = pack(pcall(h, entry[1], unpack(req, 3, req.n)))
        state.lock:release()
      end
    end
    local sok, err = pcall(native.conn_send, conn, reply)
    if not sok then
      if reply[1] then  -- the result cannot be sent: say so instead
        sok = pcall(native.conn_send, conn, {false, tostring(err)})
      end
      if not sok then break end
    end
  end
  native.conn_close(conn)
end

local function run_server(path, authkey, ready, parent_pid)
  local objects, state = {}, {next_id = 0, lock = threading.Lock()}
  served = {objects = objects, address = path}
  local listener = native.listen(path)
  state.shutdown = function()
    native.unlink(path)
    native._exit(0)
  end
  ready:send("ready")
  ready:close()
  while true do
    local conn = native.accept(listener, 1.0)
    if conn == nil then
      if os.getppid() ~= parent_pid then  -- orphaned: the owner died
        native.unlink(path)
        native._exit(0)
      end
    else
      threading.Thread{target = serve_connection, args = {conn, authkey, objects, state},
                       daemon = true, name = "ManagerConnection"}:start()
    end
  end
end

-- ---- clients: connections per process and thread ---------------------------------------

local conns = {pid = getpid()}  -- address -> ident -> connection

local function connect(address, authkey)
  local c, err = native.connect(address)
  if c == nil then error(mp.ProcessError("cannot reach the manager: " .. err), 0) end
  native.conn_send_bytes(c, authkey)
  local ok, answer = pcall(native.conn_recv_bytes, c)
  if not ok or answer ~= AUTH_OK then
    native.conn_close(c)
    error(mp.AuthenticationError("the manager refused the connection"), 0)
  end
  return c
end
M._connect = connect

local function connection(address, authkey)
  if conns.pid ~= getpid() then conns = {pid = getpid()} end  -- forked: our own
  local by_thread = conns[address]
  if by_thread == nil then
    by_thread = {}
    conns[address] = by_thread
  end
  local ident = threading.get_ident()
  local c = by_thread[ident]
  if c == nil then
    c = connect(address, authkey)
    by_thread[ident] = c
  end
  return c
end

local function request(address, authkey, msg)
  local c = connection(address, authkey)
  local ok, err = pcall(native.conn_send, c, msg)
  if not ok then
    conns[address][threading.get_ident()] = nil
    if type(err) == "string" and err:find("Broken pipe") then
      error(mp.ProcessError("the manager is not running"), 3)
    end
    error(err, 3)
  end
  local rok, reply = pcall(native.conn_recv, c)
  if not rok then
    conns[address][threading.get_ident()] = nil
    if reply == mp.EOFError then error(mp.ProcessError("the manager is not running"), 3) end
    error(reply, 3)
  end
  if reply[1] then return unpack(reply, 2, reply.n or #reply) end
  class.caller_error(reply[2])  -- at the script's line that called the proxy
end

-- ---- proxies -------------------------------------------------------------------------------

local BaseProxy = Object:extend("BaseProxy")
M.BaseProxy = BaseProxy

local function call(self, op, ...)
  local st = rawget(self, PROXY_STATE)
  return request(st.address, st.authkey, pack(op, st.id, ...))
end
BaseProxy._callmethod = function(self, op, args)
  return call(self, op, unpack(args or {}, 1, args and (args.n or #args) or 0))
end

local function proxy_tostring(self)
  local ok, s = pcall(call, self, "repr")
  if ok then return s end
  return ("<%s object, id %s (%s)>"):format(getmetatable(self).__name,
                                            tostring(rawget(self, PROXY_STATE).id), tostring(s))
end

-- a proxy class: methods are forwarded; 'index'/'newindex' handle keys
local function proxy_class(name, methods, index, newindex, len)
  local cls = BaseProxy:extend(name)
  local m = {}
  for _, op in ipairs(methods) do
    m[op] = function(self, ...)
      if getmetatable(self) ~= cls then class.checkself(self, cls, op) end
      return call(self, op, ...)
    end
  end
  m._callmethod = BaseProxy._callmethod
  cls._methods = m
  cls.__index = function(self, k)
    local f = m[k]
    if f ~= nil then return f end
    local c = cls[k]
    if c ~= nil then return c end
    if index then return index(self, k) end
    return nil
  end
  if newindex then cls.__newindex = newindex end
  if len then cls.__len = len end
  cls.__tostring = proxy_tostring
  M[name] = cls
  return cls
end

-- a field of the proxy itself; a nil or NaN key raises a table's error
-- at the script's line (rawset raised it without a position)
local function set_own(self, k, v)
  if k == nil or k ~= k then
    class.caller_error(k == nil and "table index is nil" or "table index is NaN")
  end
  rawset(self, k, v)
end

-- cls._methods[name] = f(self, ...), for cls's proxies only: called on
-- anything else (a method called with '.'), a bad-argument error naming it
local function add_method(cls, name, f)
  cls._methods[name] = function(self, ...)
    if getmetatable(self) ~= cls then class.checkself(self, cls, name) end
    return f(self, ...)
  end
end

-- coroutine -> {proxy -> #proxy just read by that coroutine}: per caller,
-- so that threads (or coroutines) sharing one proxy each pair their own
-- '#l' with their own 'l[#l + 1] = v'. Only a coroutine itself writes its
-- entry of the outer table.
local last_len = setmetatable({}, {__mode = "k"})
local running = coroutine.running

local function my_last_len()
  local co = running()
  local mine = last_len[co]
  if mine == nil then
    mine = setmetatable({}, {__mode = "k"})
    last_len[co] = mine
  end
  return mine
end

local DictProxy = proxy_class("DictProxy",
  {"get", "keys", "values", "items", "copy", "pop", "popitem", "setdefault",
   "update", "clear", "contains"},
  function(self, k) return call(self, "getitem", k) end,
  function(self, k, v)
    if v == nil then call(self, "delitem", k) else call(self, "setitem", k, v) end
  end,
  function(self) return call(self, "len") end)
DictProxy.__pairs = function(self)
  local items = call(self, "items")
  local i = 0
  return function()
    i = i + 1
    local kv = items[i]
    if kv then return kv[1], kv[2] end
  end, self, nil
end
-- aliases, naming themselves in errors
add_method(DictProxy, "has_key", function(self, ...) return call(self, "contains", ...) end)
add_method(DictProxy, "totable", function(self, ...) return call(self, "copy", ...) end)

local ListProxy = proxy_class("ListProxy",
  {"append", "extend", "insert", "pop", "remove", "index", "count", "reverse",
   "sort", "clear", "copy", "contains"},
  function(self, k)
    if type(k) == "number" then return call(self, "getitem", k) end
    return nil
  end,
  function(self, k, v)
    -- table.insert(l, v) reads #l then sets l[#l + 1]: make that an atomic
    -- append, whatever other processes did in between
    local mine = my_last_len()
    local n = mine[self]
    mine[self] = nil
    if n ~= nil and k == n + 1 then call(self, "append", v)
    else call(self, "setitem", k, v) end
  end,
  function(self)
    local n = call(self, "len")
    my_last_len()[self] = n
    return n
  end)
ListProxy.__pairs = function(self)
  local items = call(self, "copy")
  local i = 0
  return function()
    i = i + 1
    if i <= items.n then return i, items[i] end
  end, self, nil
end
add_method(ListProxy, "totable", function(self, ...) return call(self, "copy", ...) end)
-- arguments the server's list cannot take, refused here (the server's
-- table code failed on them with its own errors)
add_method(ListProxy, "extend", function(self, t)
  checktype(t, "table", 1, "extend")
  return call(self, "extend", t)
end)
add_method(ListProxy, "insert", function(self, i, v)
  checktype(i, "number", 1, "insert")
  if math.tointeger(i) == nil then
    argerror(1, "insert", "number has no integer representation", 2)
  end
  return call(self, "insert", math.tointeger(i), v)
end)
add_method(ListProxy, "sort", function(self, cmp)
  checktype(cmp, "function", 1, "sort", true)
  return call(self, "sort", cmp)
end)

-- names starting with '_' stay on the proxy itself, as in Python
local function private_name(k) return type(k) == "string" and k:sub(1, 1) == "_" end
proxy_class("NamespaceProxy", {"copy"},
  function(self, k)
    if private_name(k) then return nil end
    return call(self, "getattr", k)
  end,
  function(self, k, v)
    if private_name(k) then rawset(self, k, v)
    elseif v == nil then call(self, "delattr", k) else call(self, "setattr", k, v) end
  end)

local ValueProxy = proxy_class("ValueProxy", {"get", "set"},
  function(self, k)
    if k == "value" then return call(self, "get") end
    return nil
  end,
  function(self, k, v)
    if k == "value" then call(self, "set", v) else set_own(self, k, v) end
  end)
ValueProxy._methods.get_lock = nil

proxy_class("QueueProxy", {"put", "get", "put_nowait", "get_nowait", "qsize", "empty",
                           "full", "task_done", "join", "shutdown"})

local AcquirerProxy = proxy_class("AcquirerProxy", {"acquire", "release", "locked"})
AcquirerProxy._methods.hold = mp._hold
AcquirerProxy._methods.with = mp._with

proxy_class("EventProxy", {"set", "clear", "is_set", "wait"})
add_method(M.EventProxy, "isSet", function(self, ...) return call(self, "is_set", ...) end)

local SemaphoreProxy = proxy_class("SemaphoreProxy", {"acquire", "release", "get_value"})
SemaphoreProxy._methods.hold = mp._hold
SemaphoreProxy._methods.with = mp._with

local monotonic = threading._time.monotonic

local function check_timeout(timeout, n, fname)
  class.checktimeout(timeout, n, fname)
end

local ConditionProxy = proxy_class("ConditionProxy",
  {"acquire", "release", "notify_all"})
local cm = ConditionProxy._methods
cm.hold, cm.with = mp._hold, mp._with
add_method(ConditionProxy, "notifyAll", function(self) return call(self, "notify_all") end)
add_method(ConditionProxy, "wait", function(self, timeout)
  check_timeout(timeout, 1, "wait")
  return call(self, "wait", timeout)
end)
add_method(ConditionProxy, "notify", function(self, n)
  if n ~= nil and math.type(n) ~= "integer" then
    argerror(1, "notify", "integer expected, got " .. typename(n), 2)
  end
  return call(self, "notify", n or 1)
end)
-- the predicate runs here, in the caller's process, between waits on the
-- server (as Python's ConditionProxy does)
add_method(ConditionProxy, "wait_for", function(self, predicate, timeout)
  checktype(predicate, "function", 1, "wait_for")
  check_timeout(timeout, 2, "wait_for")
  local result = predicate()
  local deadline = timeout and timeout >= 0 and monotonic() + timeout
  while not result do
    local wait = nil
    if deadline then
      wait = deadline - monotonic()
      if wait <= 0 then break end
    end
    call(self, "wait", wait)
    result = predicate()
  end
  return result
end)

local BarrierProxy = proxy_class("BarrierProxy", {"reset", "abort"},
  function(self, k)
    if k == "parties" or k == "n_waiting" or k == "broken" then
      return call(self, "getattr", k)
    end
    return nil
  end)
add_method(BarrierProxy, "wait", function(self, timeout)
  check_timeout(timeout, 1, "wait")
  return call(self, "wait", timeout)
end)

-- Array proxies keep the typecode and the length (both fixed) so that
-- '#', range errors and value checks cost no round trip
local function array_value_error(tc, v)
  if tc == "?" then return nil end
  local t = type(v)
  local vtype = v == nil and "nil" or typename(v)
  if tc == "c" then
    if t == "number" then
      local b = math.tointeger(v)
      if b == nil then return "number has no integer representation" end
      if b < 0 or b > 255 then return "byte must be in range(0, 256)" end
      return nil
    end
    if t ~= "string" then return "string expected, got " .. vtype end
    if #v ~= 1 then return "one character string expected" end
    return nil
  end
  local x = t == "string" and tonumber(v) or v
  if type(x) ~= "number" then return "number expected, got " .. vtype end
  if tc ~= "f" and tc ~= "d" and math.tointeger(x) == nil then
    return "number has no integer representation"
  end
  return nil
end

local ArrayProxy = proxy_class("ArrayProxy", {},
  function(self, k)
    if type(k) == "number" then  -- outside 1..#a: nil, as a local Array
      if k >= 1 and k <= rawget(self, PROXY_STATE).len and k == math.floor(k) then
        return call(self, "getitem", math.tointeger(k))
      end
      return nil
    end
    if k == "typecode" then return rawget(self, PROXY_STATE).typecode end
    if k == "value" and rawget(self, PROXY_STATE).typecode == "c" then return call(self, "getvalue") end
    return nil
  end,
  function(self, k, v)
    local tc = rawget(self, PROXY_STATE).typecode
    if type(k) == "number" then
      local i = math.tointeger(k)
      if i == nil then argerror(2, "__newindex", "integer index expected, got number", 2) end
      local n = rawget(self, PROXY_STATE).len
      if i < 1 or i > n then
        error(("array index %d out of range (1..%d)"):format(i, n), 2)
      end
      local bad = array_value_error(tc, v)
      if bad then argerror(3, "__newindex", bad, 2) end
      call(self, "setitem", i, v)
    elseif k == "value" and tc == "c" then
      checktype(v, "string", 3, "__newindex")
      if #v > rawget(self, PROXY_STATE).len then error("byte string too long", 2) end
      call(self, "setvalue", v)
    else
      set_own(self, k, v)
    end
  end,
  function(self) return rawget(self, PROXY_STATE).len end)
add_method(ArrayProxy, "tolist", function(self) return call(self, "tolist") end)
add_method(ArrayProxy, "totable", function(self) return call(self, "tolist") end)
ArrayProxy.__pairs = function(self)
  local items = call(self, "tolist")
  return function(_, i)
    i = i + 1
    if items[i] ~= nil then return i, items[i] end
  end, self, 0
end

local proxy_of = {
  dict = "DictProxy", list = "ListProxy", namespace = "NamespaceProxy",
  value = "ValueProxy", queue = "QueueProxy", lock = "AcquirerProxy",
  event = "EventProxy", semaphore = "SemaphoreProxy", condition = "ConditionProxy",
  barrier = "BarrierProxy", array = "ArrayProxy",
}

-- ---- the manager -----------------------------------------------------------------------------

local named = class.first_field  -- the first of a constructor's named fields set

local Manager = Object:extend("SyncManager")
M.SyncManager = Manager
Manager._finalize_order = 0

-- SyncManager() makes a manager that start() starts, as in Python;
-- multiprocessing.Manager() returns one started. Neither takes arguments
-- here (no address, authkey or serializer to choose).
function Manager:init(...)
  class.args("SyncManager", class.NO_FIELDS, 0, ...)
  self._state = "initial"
end
-- address: read-only, as Python's BaseManager.address (nil until started)
class.getters(Manager, {address = function(self) return self._address end})

function Manager:start()
  if self._state ~= "initial" then
    class.caller_error(mp.ProcessError(self._state == "started" and "Already started server"
                                       or "the manager was shut down"))
  end
  if mp.current_process().daemon then
    class.caller_error("daemonic processes are not allowed to have children")
  end
  local dir = native.private_dir()
  self._address = dir .. "/manager.sock"
  self._dir = dir
  self._authkey = native.urandom(32)
  self._owner = getpid()
  local r, w = mp.Pipe(false)
  local parent_pid = getpid()
  local address, authkey = self.address, self._authkey
  self._process = mp.Process{
    target = function() r:close() run_server(address, authkey, w, parent_pid) end,
    name = "SyncManager-" .. (mp.current_process()._counter + 1),
    daemon = true,
  }
  self._process:start()
  w:close()
  local ok, msg = pcall(r.recv, r)
  r:close()
  if not ok or msg ~= "ready" then
    self._process:join(1)
    native.rmdir(dir)
    class.caller_error(mp.ProcessError("the manager process failed to start"))
  end
  self._state = "started"
  mp._finalizers[self] = Manager.shutdown
end

function Manager:_create(typeid, ...)
  if self._state ~= "started" then error("the manager is not running", 3) end
  local id, kind = request(self.address, self._authkey, pack("create", typeid, ...))
  local cls = M[proxy_of[kind]]
  return setmetatable({[PROXY_STATE] = {address = self.address, authkey = self._authkey,
                                        id = id}}, cls)
end

-- dict([t]), list([t]), Namespace([t]): a table to copy, or nothing
-- (Python: dict(5) is a TypeError)
for _, typeid in ipairs{"dict", "list", "Namespace"} do
  Manager[typeid] = function(self, init)
    if init ~= nil and type(init) ~= "table" then
      argerror(1, typeid, "table expected, got " .. typename(init), 2)
    end
    return self:_create(typeid, init)
  end
end

-- Value(typecode, value) or Value{typecode=, init=} (or Python's names)
function Manager:Value(typecode, value)
  if class.is_plain_table(typecode) and value == nil then
    local o = typecode
    typecode, value = named(o, "typecode", "typecode_or_type"), named(o, "init", "value")
  end
  return self:_create("Value", typecode, value)
end

-- the server makes these with the local constructors; their arguments
-- are checked here, so that a stray one is an error at the script's line
local MAXSIZE, VALUE = class.fields("maxsize"), class.fields("value")
for typeid, sig in pairs{Queue = {MAXSIZE, 1}, JoinableQueue = {MAXSIZE, 1},
                         Lock = {class.NO_FIELDS, 0}, RLock = {class.NO_FIELDS, 0},
                         Event = {class.NO_FIELDS, 0}, Semaphore = {VALUE, 1},
                         BoundedSemaphore = {VALUE, 1}} do
  local fields, max = sig[1], sig[2]
  Manager[typeid] = function(self, ...)
    local o = class.args(typeid, fields, max, ...)
    if fields == MAXSIZE then  -- (else the server's queue.Queue named itself)
      local v = ...
      if o ~= nil then v = o.maxsize end
      if v ~= nil and type(v) ~= "number" then
        argerror(1, typeid, "number expected, got " .. typename(v), 2)
      elseif v ~= nil and math.tointeger(v) == nil then
        argerror(1, typeid, "number has no integer representation", 2)
      end
    end
    return self:_create(typeid, ...)
  end
end

-- Condition([lock]): lock is nil (an RLock in the server) or a Lock or
-- RLock proxy of this manager, which the server's Condition then uses
function Manager:Condition(lock)
  if class.is_plain_table(lock) then lock = named(lock, "lock") end
  if lock ~= nil and not (getmetatable(lock) == AcquirerProxy and
                          rawget(lock, PROXY_STATE).address == self.address) then
    argerror(1, "Condition", "Lock or RLock of this manager expected, got "
                             .. typename(lock), 2)
  end
  return self:_create("Condition", lock)
end

-- Barrier(parties, [action], [timeout]); the action runs in the server
local function check_barrier(parties, action, timeout)  -- -> parties
  if math.type(parties) ~= "integer" then
    local i = math.tointeger(parties)
    if i == nil then
      argerror(1, "Barrier", type(parties) == "number" and "number has no integer representation"
                             or "integer expected, got " .. typename(parties), 2)
    end
    parties = i
  end
  if parties < 1 then argerror(1, "Barrier", "parties must be >= 1", 2) end
  checktype(action, "function", 2, "Barrier", true)
  class.checktimeout(timeout, 3, "Barrier")
  return parties
end

function Manager:Barrier(parties, action, timeout)
  local o
  if class.is_plain_table(parties) then
    o = parties
    parties, action, timeout = o.parties, o.action, o.timeout
  end
  parties = class.named_errors("Barrier", o, {"parties", "action", "timeout"}, check_barrier,
                               parties, action, timeout)
  return self:_create("Barrier", parties, action, timeout)
end

-- Array(typecode, size_or_table): typecodes and conversions as
-- multiprocessing.Array; indexed 1..#a
local function check_array(typecode, init)  -- -> the length
  if type(typecode) ~= "string" or native.value_elsize(typecode) == 0 then
    argerror(1, "Array", ("unknown typecode %s (b B h H i I l L q Q f d c ?)"):format(
      type(typecode) == "string" and "'" .. typecode .. "'" or typename(typecode)), 2)
  end
  local n
  if math.type(init) == "integer" then n = init
  elseif type(init) == "table" then
    n = #init
    for i = 1, n do
      local bad = array_value_error(typecode, init[i])
      if bad then argerror(2, "Array", ("element %d: %s"):format(i, bad), 2) end
    end
  elseif type(init) == "string" and typecode == "c" then n = #init
  else argerror(2, "Array", "size or table expected, got " .. typename(init), 2) end
  if n < 0 then argerror(2, "Array", "size must not be negative", 2) end
  if n > (1 << 34) then argerror(2, "Array", "array size out of range", 2) end
  return n
end

function Manager:Array(typecode, init)
  local o
  if class.is_plain_table(typecode) and init == nil then
    o = typecode
    typecode = named(o, "typecode", "typecode_or_type")
    init = named(o, "size_or_table", "size_or_initializer", "init")
  end
  local n = class.named_errors("Array", o, {{"typecode", "typecode_or_type"},
    {"size_or_table", "size_or_initializer", "init"}}, check_array, typecode, init)
  local a = self:_create("Array", typecode, init)
  local st = rawget(a, PROXY_STATE)
  st.typecode, st.len = typecode, n
  return a
end

function Manager:shutdown()
  if self._owner ~= getpid() or self._state ~= "started" then return end
  self._state = "shutdown"
  mp._finalizers[self] = nil
  pcall(request, self.address, self._authkey, {"shutdown"})
  if not self._process:join(1) then
    self._process:terminate()
    self._process:join()
  end
  native.unlink(self.address)
  native.rmdir(self._dir)
  if conns[self.address] then
    for _, c in pairs(conns[self.address]) do native.conn_close(c) end
    conns[self.address] = nil
  end
end

Manager.__close = Manager.shutdown
Manager.__gc = function(self)
  if rawget(self, "_owner") == getpid() and rawget(self, "_state") == "started" then
    pcall(Manager.shutdown, self)
  end
end

function Manager:__tostring()
  return ("<SyncManager address=%s state=%s>"):format(tostring(self.address),
                                                     tostring(self._state))
end

mp.Manager = function(...)
  class.args("Manager", class.NO_FIELDS, 0, ...)
  local m = Manager()
  m:start()
  return m
end

-- Lua-side methods called with '.' instead of ':' raise a bad-argument
-- error naming the method
class.guard(Manager, {"start", "shutdown", "dict", "list", "Namespace", "Value", "Array",
                      "Queue", "JoinableQueue", "Lock", "RLock", "Event", "Semaphore",
                      "BoundedSemaphore", "Condition", "Barrier"})
-- a subclass whose init skips Manager's is refused when constructed
class.require_init(Manager)
mp.managers = M

return M
