-- The multiprocessing module (Lua half), on POSIX with the fork start
-- method: Process, the shared queues, locks and values, Pipe; Pool,
-- ThreadPool, Manager and multiprocessing.dummy come from mp_pool.lua,
-- mp_threadpool.lua, mp_manager.lua and mp_dummy.lua. The native half is
-- bindings/ct_mp*.c; shared state lives in an arena mapped before the first
-- fork (bindings/ct_shm.c) and values crossing processes go through the
-- codec (bindings/ct_codec.c). Follows Python's multiprocessing; see
-- API.md and docs/multiprocessing.md.

-- the exit code runs these after the script, which may have removed them
local pairs, ipairs, next, pcall, tostring = pairs, ipairs, next, pcall, tostring
local select = select
local table, io = table, io

local native = require("cthreads.native.multiprocessing")
local class = require("cthreads.class")
local threading = require("cthreads.threading")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local HANDLE = native.HANDLE
local getpid = os.getpid
local traceback = debug.traceback
local unpack = table.unpack

local M = {}
package.loaded["cthreads.multiprocessing"] = M  -- for mp_pool and the others

-- ---- error kinds ------------------------------------------------------------

M.ProcessError = class.error_kind("multiprocessing.ProcessError")
M.TimeoutError = class.error_kind("multiprocessing.TimeoutError")
M.AuthenticationError = class.error_kind("multiprocessing.AuthenticationError")
M.BufferTooShort = class.error_kind("multiprocessing.BufferTooShort")
-- Python's builtin EOFError, raised by Connection.recv at the end of a pipe
M.EOFError = class.error_kind("EOFError")
-- also a global, as Python's is a builtin: API.md says recv "raises EOFError"
rawset(_G, "EOFError", M.EOFError)

-- queue.Empty and queue.Full when the queue module exists, so that one
-- except clause catches both kinds of queue
local function queue_module()
  local q = package.loaded.queue or package.loaded["cthreads.queue"]
  if q == nil then
    local ok, mod = pcall(require, "cthreads.queue")
    if ok and type(mod) == "table" then q = mod end
  end
  return type(q) == "table" and q or nil
end
local qm = queue_module()
M.Empty = qm and qm.Empty or class.error_kind("queue.Empty")
M.Full = qm and qm.Full or class.error_kind("queue.Full")
M.BrokenBarrierError = threading.BrokenBarrierError
  or class.error_kind("threading.BrokenBarrierError")

M.ShutDown = qm and qm.ShutDown or class.error_kind("queue.ShutDown")

native.set_error_kinds{Empty = M.Empty, Full = M.Full, ShutDown = M.ShutDown,
                       EOFError = M.EOFError}

-- ---- helpers --------------------------------------------------------------------

local closers = setmetatable({}, {__mode = "k"})  -- lock -> its <close> handle
local closer_meta = {
  __name = "lock holder",
  __close = function(c) c.lock:release() end,
}

-- hold and with on something without acquire (a proxy's method called
-- with '.', AcquirerProxy.hold(5)): a bad-argument error, not an index
-- error inside
local function check_holdable(self, fname)
  local t = type(self)
  if (t ~= "table" and t ~= "userdata") or type(self.acquire) ~= "function" then
    argerror(1, fname, "lock expected, got " .. class.typename(self), 3)
  end
end

-- lock:hold(): acquires, returns a to-be-closed value that releases
local function hold(self)
  check_holdable(self, "hold")
  self:acquire()
  local c = closers[self]
  if c == nil then
    c = setmetatable({lock = self}, closer_meta)
    closers[self] = c
  end
  return c
end

local function with_finish(self, ok, ...)
  self:release()
  if not ok then error((...), 0) end
  return ...
end

-- lock:with(f, ...): runs f(...) holding the lock, returns its results
local function with(self, f, ...)
  check_holdable(self, "with")
  checktype(f, "function", 1, "with")
  self:acquire()
  return with_finish(self, pcall(f, ...))
end

M._hold, M._with = hold, with

-- lock:acquire(...) for the methods that hand their arguments on to their
-- lock's (Condition, Value, Array): the lock checks them; class.forward
-- gives its bad-argument error the script's line, not this file's
local function lock_acquire(lock, ...) return lock:acquire(...) end

-- a constructor's table of named fields (checked against the set
-- 'fields'), or nil for positional arguments (at most 'max' of them)
local args, fields, NO_FIELDS = class.args, class.fields, class.NO_FIELDS

-- ---- Process ----------------------------------------------------------------------

local Process = Object:extend("Process")
M.Process = Process

local children = {}      -- started Process objects not yet reaped -> start order
local start_seq = 0
-- Every thread that starts, joins or lists processes uses 'children': with
-- the GIL off, a table that another thread inserts into may be rehashed
-- under a traversal ("invalid key to 'next'"), so each use is under this
-- lock. A forked child makes its own (it may have inherited this one held).
local children_lock = threading.Lock()

local function add_child(p)
  children_lock:acquire()
  start_seq = start_seq + 1
  children[p] = start_seq
  children_lock:release()
end

local function forget_child(p)
  children_lock:acquire()
  children[p] = nil
  children_lock:release()
end

-- the started children not yet reaped, and their start order
local function children_list()
  local list, order = {}, {}
  children_lock:acquire()
  for p, seq in pairs(children) do
    list[#list + 1] = p
    order[p] = seq
  end
  children_lock:release()
  return list, order
end
local finalizers = setmetatable({}, {__mode = "k"})  -- object -> function (at exit)
M._finalizers = finalizers

local main_process = setmetatable({
  name = "MainProcess", _daemon = false, _started = true, _initialized = true,
  _identity = {}, _counter = 0, _is_main = true, _pid = getpid(),
}, Process)
local current = main_process
local parent = nil

-- Process{target=, args=, kwargs=, name=, daemon=} or Process(target, [name],
-- [args], [kwargs], [daemon]) with the optional ones recognised by type
-- (Python's positional order, group left out; a leading nil is group=None)
function Process:init(...)
  local o = class.worker_options("Process", ...)
  current._counter = current._counter + 1
  local identity = {unpack(current._identity)}
  identity[#identity + 1] = current._counter
  self._identity = identity
  self._counter = 0
  self.target = o.target
  self.args = o.args or {}
  self.kwargs = o.kwargs
  if o.name ~= nil then self.name = tostring(o.name)
  else  -- the class's name, as Python's type(self).__name__: Worker-1
    self.name = tostring(rawget(getmetatable(self), "__name") or "Process")
                .. "-" .. table.concat(identity, ":")
  end
  if o.daemon ~= nil then self.daemon = o.daemon
  else self.daemon = current.daemon end
  self._parent_pid = getpid()
  self._parent_name = current.name
  self._initialized = true
end

function Process:run()
  if self.target ~= nil then
    return class.call_target(self.target, self.args, self.kwargs)
  end
end

local function capture(err)
  local msg = class.error_text(err)
  return traceback(msg, 2)
end

local ParentProcess

-- runs in the child right after fork; returns the exit code
local function bootstrap(self)
  threading._after_fork()
  parent = ParentProcess(self._parent_name, self._parent_pid)
  current = self
  children = {}
  children_lock = threading.Lock()
  for obj in pairs(finalizers) do finalizers[obj] = nil end
  self._pid = getpid()
  self._counter = 0
  self._popen_owner = nil
  local code = 0
  local ok, tb = xpcall(self.run, capture, self)
  if not ok then
    io.stderr:write(("Process %s:\n%s\n"):format(tostring(self.name), tb))
    io.stderr:flush()
    code = 1
  end
  local sok, serr = pcall(threading._shutdown)
  if not sok then io.stderr:write(tostring(serr), "\n") end
  sok, serr = pcall(M._shutdown)
  if not sok then io.stderr:write(tostring(serr), "\n") end
  return code
end

-- reaps children that have ended
local function cleanup()
  for _, p in ipairs((children_list())) do
    local h = rawget(p, HANDLE)
    if h == nil or native.poll(h) ~= nil then forget_child(p) end
  end
end

function Process:start()
  if rawget(self, "_initialized") == nil then
    error("Process.init() was not called (call Process.init(self) in your init)", 2)
  end
  if self._closed then error("process object is closed", 2) end
  if self._started then error("cannot start a process twice", 2) end
  if self._parent_pid ~= getpid() then
    error("can only start a process object created by current process", 2)
  end
  if current.daemon then error("daemonic processes are not allowed to have children", 2) end
  cleanup()
  self._started = true
  local h, pid = native.fork(bootstrap, self, self.daemon and true or false)
  self[HANDLE] = h
  self._pid = pid
  add_child(self)
end

-- after close() the process's methods and pid/exitcode raise, as Python's
local function check_open(self)
  if rawget(self, "_closed") then class.caller_error("process object is closed") end
end

local function own_handle(self, what)
  check_open(self)
  if self._parent_pid ~= getpid() then
    error("can only " .. what .. " a child process", 3)
  end
  local h = rawget(self, HANDLE)
  if h == nil then error("can only " .. what .. " a started process", 3) end
  return h
end

function Process:join(timeout)
  class.checktimeout(timeout, 1, "join")
  check_open(self)
  if self == current then error("cannot join current process", 2) end
  local h = own_handle(self, "join")
  local done = native.join(h, timeout)
  if done then forget_child(self) end
  return done
end

function Process:is_alive()
  check_open(self)
  if self == current then return true end
  if not self._started then return false end
  if self._parent_pid ~= getpid() then error("can only test a child process", 2) end
  local h = rawget(self, HANDLE)
  if h == nil then return false end
  if native.poll(h) == nil then return true end
  forget_child(self)
  return false
end

function Process:terminate()
  local h = own_handle(self, "terminate")
  native.signal(h, native.SIGTERM)
end

function Process:kill()
  local h = own_handle(self, "kill")
  native.signal(h, native.SIGKILL)
end

function Process:close()
  local h = rawget(self, HANDLE)
  if h ~= nil and native.poll(h) == nil then
    error("Cannot close a process while it is still running. "
          .. "You should first call join() or terminate().", 2)
  end
  self._closed = true
end

-- Python's properties (class.getters): 'daemon', as Thread's
-- (threading.lua): the value lives in '_daemon', and assigning it once
-- this process started the child is an error (Python: "process has
-- already started"); the child itself may change its own (its Process
-- object is not started there as far as Python is concerned), and so may
-- the main process. 'pid' (and 'ident', its other name, and 'sentinel',
-- the pid here) and 'exitcode' are read-only, as in Python; the pid lives
-- in '_pid'.
local function process_pid(self) return self._pid end
local function open_process_pid(self)
  check_open(self)
  return self._pid
end
class.getters(Process, {
  daemon = function(self) return self._daemon end,
  pid = open_process_pid,
  ident = open_process_pid,
  sentinel = open_process_pid,
  exitcode = function(self)
    check_open(self)
    local h = rawget(self, HANDLE)
    if h == nil then return nil end
    if self._parent_pid ~= getpid() then return nil end
    return native.poll(h)
  end,
}, {
  daemon = class.daemon_setter(function(self)
    return rawget(self, "_started") and rawget(self, "_parent_pid") == getpid()
  end, "process has already started"),
})

function Process:__tostring()
  local status
  if self == current then status = "started"
  elseif rawget(self, "_closed") then status = "closed"
  elseif not self._started then status = "initial"
  else
    local code = self.exitcode
    if code == nil then status = "started"
    else status = "stopped exitcode=" .. tostring(code) end
  end
  local s = ("<%s name='%s'"):format(getmetatable(self).__name, tostring(self.name))
  if self._pid then s = s .. " pid=" .. self._pid end
  if self._parent_pid then s = s .. " parent=" .. self._parent_pid end
  s = s .. " " .. status
  if self.daemon then s = s .. " daemon" end
  return s .. ">"
end

-- the parent, as seen from a child
ParentProcess = Object:extend("ParentProcess")
function ParentProcess:init(name, pid)
  self.name = name
  self._pid = pid
  self.daemon = false
end
-- pid and ident read-only, as Process's
class.getters(ParentProcess, {pid = process_pid, ident = process_pid})
function ParentProcess:is_alive()
  return os.getppid() == self.pid
end
function ParentProcess:join(timeout)
  local deadline = timeout and timeout >= 0 and threading._time.monotonic() + timeout
  while self:is_alive() do
    if deadline and threading._time.monotonic() >= deadline then return false end
    threading._time.sleep(0.01)
  end
  return true
end
ParentProcess.__tostring = function(self)
  return ("<_ParentProcess name='%s' parent=%s %s>"):format(
    tostring(self.name), tostring(self.pid), self:is_alive() and "started" or "stopped")
end
M._ParentProcess = ParentProcess

function M.current_process() return current end
function M.parent_process() return parent end

function M.active_children()
  cleanup()
  local list, order = children_list()
  table.sort(list, function(a, b) return order[a] < order[b] end)
  return list
end

M.cpu_count = native.cpu_count
function M.get_start_method() return "fork" end
function M.get_all_start_methods() return {"fork"} end
function M.set_start_method(method)
  if method ~= "fork" then  -- (at the script's line, through get_context too)
    class.caller_error(("cannot use the '%s' start method: only 'fork' is supported")
                       :format(tostring(method)))
  end
end
function M.get_context(method)
  if method ~= nil then M.set_start_method(method) end
  return M
end
function M.freeze_support() end

-- multiprocessing's exit function (ct_close, and the end of every child):
-- finalizes pools and managers, terminates daemon children, joins the rest.
-- After a Ctrl-C ('abandon': one ended the script; or one while joining)
-- the children still running are terminated instead.
function M._shutdown(abandon)
  local objs = {}
  for obj, f in pairs(finalizers) do objs[#objs + 1] = {obj, f} end
  table.sort(objs, function(a, b) return (a[1]._finalize_order or 0) > (b[1]._finalize_order or 0) end)
  for _, of in ipairs(objs) do
    finalizers[of[1]] = nil
    local ok, err = pcall(of[2], of[1])
    if not ok then io.stderr:write("multiprocessing: error at exit: ", tostring(err), "\n") end
  end
  for _, p in ipairs(M.active_children()) do
    if p.daemon then pcall(p.terminate, p) end
  end
  local ok, err = true, nil
  if not abandon then
    ok, err = pcall(function()
      for _, p in ipairs(M.active_children()) do p:join() end
    end)
    if ok then return end
  end
  for _, p in ipairs(M.active_children()) do pcall(p.terminate, p) end
  if not ok then error(err, 0) end
end

-- ---- Lock, RLock ------------------------------------------------------------------

local function lock_tostring(self)
  return ("<%s(%s) object at %p>"):format(getmetatable(self).__name,
    native.locked(self) and "locked" or "unlocked", self)
end

-- Lock() and RLock() take no arguments, as Python's
local Lock = Object:extend("Lock")
function Lock:init(...)
  if select("#", ...) ~= 0 then args("Lock", NO_FIELDS, 0, ...) end
  self[HANDLE] = native.lock_new()
end
Lock.acquire = native.lock_acquire
Lock.release = native.lock_release
Lock.locked = native.locked
Lock._is_owned = native.is_mine
Lock.hold = hold
Lock.with = with
Lock.__tostring = lock_tostring
M.Lock = Lock

local RLock = Object:extend("RLock")
function RLock:init(...)
  if select("#", ...) ~= 0 then args("RLock", NO_FIELDS, 0, ...) end
  self[HANDLE] = native.rlock_new()
end
RLock.acquire = native.rlock_acquire
RLock.release = native.rlock_release
RLock.locked = native.locked
RLock._is_owned = native.is_mine
RLock._count = native.rlock_count
RLock.hold = hold
RLock.with = with
RLock.__tostring = lock_tostring
M.RLock = RLock

local function check_lock(lock, n, fname)
  if not (Lock:is(lock) or RLock:is(lock)) then
    argerror(n, fname, "multiprocessing.Lock or RLock expected, got " .. type(lock), 3)
  end
  return lock
end

-- ---- Semaphore, BoundedSemaphore, Event ----------------------------------------------

-- the initial value of Semaphore(value) or Semaphore{value = n}
local SEMAPHORE_FIELDS = fields("value")
local function check_value(fname, ...)
  local value = ...
  local o = args(fname, SEMAPHORE_FIELDS, 1, ...)
  if o ~= nil then value = o.value end
  if value == nil then return 1 end
  if math.type(value) ~= "integer" then
    argerror(1, fname, "integer expected, got " .. type(value), 3)
  end
  if value < 0 then argerror(1, fname, "semaphore initial value must be >= 0", 3) end
  if value > 0x7fffffff then  -- a 32-bit futex word in shared memory
    argerror(1, fname, "semaphore initial value too large (at most 2147483647)", 3)
  end
  return value
end

local Semaphore = Object:extend("Semaphore")
function Semaphore:init(...)
  self[HANDLE] = native.sem_new(check_value("Semaphore", ...), false)
end
Semaphore.acquire = native.sem_acquire
Semaphore.release = native.sem_release
Semaphore.get_value = native.sem_value
Semaphore.hold = hold
Semaphore.with = with
function Semaphore:__tostring()
  return ("<%s(value=%d) object at %p>"):format(getmetatable(self).__name,
    native.sem_value(self), self)
end
M.Semaphore = Semaphore

local BoundedSemaphore = Semaphore:extend("BoundedSemaphore")
function BoundedSemaphore:init(...)
  self[HANDLE] = native.sem_new(check_value("BoundedSemaphore", ...), true)
end
M.BoundedSemaphore = BoundedSemaphore

local Event = Object:extend("Event")
function Event:init(...)
  if select("#", ...) ~= 0 then args("Event", NO_FIELDS, 0, ...) end
  self[HANDLE] = native.event_new()
end
Event.set = native.event_set
Event.clear = native.event_clear
Event.is_set = native.event_is_set
Event.isSet = native.event_is_set
Event.wait = native.event_wait
function Event:__tostring()
  return ("<%s(%s) object at %p>"):format(getmetatable(self).__name,
    native.event_is_set(self) and "set" or "unset", self)
end
M.Event = Event

-- ---- Condition ------------------------------------------------------------------------

local monotonic = threading._time.monotonic

local Condition = Object:extend("Condition")
local CONDITION_FIELDS = fields("lock")
function Condition:init(...)
  local lock = ...
  local o = args("Condition", CONDITION_FIELDS, 1, ...)
  if o ~= nil then lock = o.lock end
  if lock == nil then lock = RLock() end
  self._lock = check_lock(lock, 1, "Condition")
  self[HANDLE] = native.cond_new()
end
function Condition:acquire(...)  -- (see sync_acquire)
  local lock = self._lock
  if select("#", ...) == 0 then return lock:acquire() end
  return class.forward(lock_acquire, lock, ...)
end
function Condition:release() return self._lock:release() end
Condition.hold = hold
Condition.with = with
function Condition:wait(timeout)
  class.checktimeout(timeout, 1, "wait")
  return native.cond_wait(self, self._lock, timeout)
end
function Condition:wait_for(predicate, timeout)
  checktype(predicate, "function", 1, "wait_for")
  class.checktimeout(timeout, 2, "wait_for")
  local result = predicate()
  local deadline = timeout and timeout >= 0 and monotonic() + timeout
  while not result do
    local wait_time
    if deadline then
      wait_time = deadline - monotonic()
      if wait_time <= 0 then break end
    end
    native.cond_wait(self, self._lock, wait_time)
    result = predicate()
  end
  return result
end
function Condition:notify(n)
  if n ~= nil and math.type(n) ~= "integer" then
    argerror(1, "notify", "integer expected, got " .. type(n), 2)
  end
  native.cond_notify(self, self._lock, n or 1)
end
function Condition:notify_all()
  native.cond_notify(self, self._lock, math.maxinteger)
end
Condition.notifyAll = Condition.notify_all
function Condition:__tostring()
  return ("<%s(%s) object at %p>"):format(getmetatable(self).__name,
    tostring(self._lock), self)
end
M.Condition = Condition

-- ---- Barrier (threading's algorithm on a shared Condition and two ints) ---------

local FILLING, DRAINING, RESETTING, BROKEN = 0, 1, -1, -2
local vget, vset = native.value_get, native.value_set

local Barrier = Object:extend("Barrier")
local BARRIER_FIELDS = fields("parties", "action", "timeout")
local BARRIER_ARGS = {"parties", "action", "timeout"}  -- (for class.named_errors)
local function check_barrier(parties, action, timeout)
  if math.type(parties) ~= "integer" then
    argerror(1, "Barrier", "integer expected, got " .. type(parties), 2)
  end
  if parties < 1 then argerror(1, "Barrier", "parties must be >= 1", 2) end
  checktype(action, "function", 2, "Barrier", true)
  class.checktimeout(timeout, 3, "Barrier")
end
function Barrier:init(...)
  local parties, action, timeout = ...
  local o = args("Barrier", BARRIER_FIELDS, 3, ...)
  if o ~= nil then parties, action, timeout = o.parties, o.action, o.timeout end
  class.named_errors("Barrier", o, BARRIER_ARGS, check_barrier, parties, action, timeout)
  self._cond = Condition(Lock())
  self._state = native.value_new("i", 2)  -- state, count
  self._parties = parties
  self._action = action
  self._timeout = timeout
end
local function bstate(self) return vget(self._state, 1) end
local function bcount(self) return vget(self._state, 2) end

local function bbreak(self)
  vset(self._state, 1, BROKEN)
  self._cond:notify_all()
end

function Barrier:wait(timeout)
  class.checktimeout(timeout, 1, "wait")
  if timeout == nil then timeout = self._timeout end
  local cond = self._cond
  cond:acquire()
  local ok, res = pcall(function()
    while bstate(self) == DRAINING or bstate(self) == RESETTING do cond:wait() end
    if bstate(self) < 0 then error(M.BrokenBarrierError, 0) end
    local index = bcount(self)
    vset(self._state, 2, index + 1)
    local inner_ok, err = pcall(function()
      if index + 1 == self._parties then
        local aok, aerr = true, nil
        if self._action then aok, aerr = pcall(self._action) end
        if not aok then bbreak(self) error(aerr, 0) end
        vset(self._state, 1, DRAINING)
        cond:notify_all()
      else
        if not cond:wait_for(function() return bstate(self) ~= FILLING end, timeout) then
          bbreak(self)
          error(M.BrokenBarrierError, 0)
        end
        if bstate(self) < 0 then error(M.BrokenBarrierError, 0) end
      end
    end)
    vset(self._state, 2, bcount(self) - 1)
    if bcount(self) == 0 and (bstate(self) == RESETTING or bstate(self) == DRAINING) then
      vset(self._state, 1, FILLING)
      cond:notify_all()
    end
    if not inner_ok then error(err, 0) end
    return index
  end)
  cond:release()
  if not ok then error(res, 2) end
  return res
end

function Barrier:reset()
  self._cond:with(function()
    if bcount(self) > 0 then
      if bstate(self) == FILLING or bstate(self) == BROKEN then
        vset(self._state, 1, RESETTING)
      end
    else
      vset(self._state, 1, FILLING)
    end
    self._cond:notify_all()
  end)
end

function Barrier:abort()
  self._cond:with(bbreak, self)
end

-- read-only properties, as Python's (assigning one raises)
class.getters(Barrier, {
  parties = function(self) return self._parties end,
  n_waiting = function(self)
    if bstate(self) == FILLING then return bcount(self) end
    return 0
  end,
  broken = function(self) return bstate(self) == BROKEN end,
})
M.Barrier = Barrier

-- ---- Value and Array ------------------------------------------------------------------

local vlen, vtotable, vtryset = native.value_len, native.value_totable, native.value_tryset
local caller_error = class.caller_error

-- self[i] = v (i nil: a Value's element) for an assignment: a bad index
-- or value raises a bad-argument error of '__newindex' at the caller's
-- line, an index out of range an error there
local function assign(self, i, v)
  local n, msg = vtryset(self, i, v)
  if n == nil then return end
  if n == 0 then caller_error(msg) end
  argerror(n, "__newindex", msg, 2)
end

-- the same in a constructor: bad-argument errors of 'fname' (argument 2),
-- 'what' saying which element
local function init_set(self, i, v, fname, what)
  local n, msg = vtryset(self, i, v)
  if n == nil then return end
  argerror(2, fname, what and what .. msg or msg, 3)
end

local field = class.first_field

local function value_lock(lock, fname)
  if lock == nil or lock == true then return RLock() end
  if lock == false then return nil end
  return check_lock(lock, 3, fname)
end

local function check_typecode(tc, fname)
  if type(tc) ~= "string" or native.value_elsize(tc) == 0 then
    argerror(1, fname, ("unknown typecode %s (b B h H i I l L q Q f d c ?)"):format(
      type(tc) == "string" and "'" .. tc .. "'" or type(tc)), 3)
  end
  return tc
end

local function get_lock(self)
  local lock = rawget(self, "_lock")
  if lock == nil then error("this object has no lock (made with lock=false)", 2) end
  return lock
end
local function sync_acquire(self, ...)  -- (lock_acquire: see Condition's)
  local lock = get_lock(self)
  if select("#", ...) == 0 then return lock:acquire() end
  return class.forward(lock_acquire, lock, ...)
end
local function sync_release(self) return get_lock(self):release() end

-- Value(typecode, [init], [lock=true]) or Value{typecode=, init=, lock=}
-- (also Python's typecode_or_type= and value=); v.value reads and writes it
local Value = Object:extend("Value")
local VALUE_FIELDS = fields("typecode", "typecode_or_type", "init", "value", "lock")
local RAW_VALUE_FIELDS = fields("typecode", "typecode_or_type", "init", "value")

-- typecode, value, lock from the arguments of Value or RawValue
local function value_args(fname, set, max, ...)
  local typecode, value, lock = ...
  local o = args(fname, set, max, ...)
  if o ~= nil then
    typecode, value = field(o, "typecode", "typecode_or_type"), field(o, "init", "value")
    lock = o.lock
  end
  return o, typecode, value, lock
end
-- the fields of the positional arguments, for class.named_errors
local VALUE_ARGS = {{"typecode", "typecode_or_type"}, {"init", "value"}, "lock"}

local function setup_value(self, fname, typecode, value, lock)
  rawset(self, "_typecode", check_typecode(typecode, fname))
  rawset(self, HANDLE, native.value_new(typecode, 1))
  if value ~= nil then init_set(self, nil, value, fname) end
  rawset(self, "_lock", value_lock(lock, fname))
end

function Value:init(...)
  local o, typecode, value, lock = value_args("Value", VALUE_FIELDS, 3, ...)
  class.named_errors("Value", o, VALUE_ARGS, setup_value, self, "Value", typecode, value, lock)
end
-- properties: value (read and written in shared memory), typecode (read-only)
class.getters(Value, {
  value = function(self) return vget(self) end,
  typecode = function(self) return self._typecode end,
}, {
  value = function(self, v)  -- assign(self, nil, v), one call less
    local n, msg = vtryset(self, nil, v)
    if n == nil then return end
    if n == 0 then caller_error(msg) end
    argerror(n, "__newindex", msg, 2)
  end,
})
Value.get_lock = get_lock
function Value:get_obj() return self end
Value.acquire = sync_acquire
Value.release = sync_release
Value.hold = hold
Value.with = with
function Value:__tostring()
  return ("<Synchronized wrapper for %s(%s)>"):format(rawget(self, "_typecode"), tostring(vget(self)))
end
M.Value = Value

-- RawValue(typecode, [init]) or RawValue{typecode=, init=}: a Value without a lock
function M.RawValue(...)
  local o, typecode, value = value_args("RawValue", RAW_VALUE_FIELDS, 2, ...)
  local v = setmetatable({}, Value)
  class.named_errors("RawValue", o, VALUE_ARGS, setup_value, v, "RawValue", typecode, value,
                     false)
  return v
end

-- Array(typecode, size_or_table, [lock=true]) or Array{typecode=,
-- size_or_table=, lock=} (also Python's typecode_or_type= and
-- size_or_initializer=, and init=); a[i] for i in 1..#a
local Array = Object:extend("Array")
local array_methods = Array
local ARRAY_FIELDS = fields("typecode", "typecode_or_type", "size_or_table",
                            "size_or_initializer", "init", "lock")
local RAW_ARRAY_FIELDS = fields("typecode", "typecode_or_type", "size_or_table",
                                "size_or_initializer", "init")

-- typecode, init, lock from the arguments of Array or RawArray
local function array_args(fname, set, max, ...)
  local typecode, init, lock = ...
  local o = args(fname, set, max, ...)
  if o ~= nil then
    typecode = field(o, "typecode", "typecode_or_type")
    init = field(o, "size_or_table", "size_or_initializer", "init")
    lock = o.lock
  end
  return o, typecode, init, lock
end
local ARRAY_ARGS = {{"typecode", "typecode_or_type"},
                    {"size_or_table", "size_or_initializer", "init"}, "lock"}

local function setup_array(self, fname, typecode, init, lock)
  check_typecode(typecode, fname)
  local n
  if math.type(init) == "integer" then n = init
  elseif type(init) == "table" then n = #init
  elseif type(init) == "string" and typecode == "c" then n = #init
  else argerror(2, fname, "size or table expected, got " .. type(init), 2) end
  if n < 0 then argerror(2, fname, "size must not be negative", 2) end
  if n > (1 << 34) then argerror(2, fname, "array size out of range", 2) end
  rawset(self, "_typecode", typecode)
  rawset(self, HANDLE, native.value_new(typecode, n))
  if type(init) == "table" then
    for i = 1, n do init_set(self, i, init[i], fname, ("element %d: "):format(i)) end
  elseif type(init) == "string" then
    native.value_setbytes(self, init)
  end
  rawset(self, "_lock", value_lock(lock, fname))
end

function Array:init(...)
  local o, typecode, init, lock = array_args("Array", ARRAY_FIELDS, 3, ...)
  class.named_errors("Array", o, ARRAY_ARGS, setup_array, self, "Array", typecode, init, lock)
end
-- indexing for Array and its subclasses ('methods' is the class)
local function array_index(methods)
  return function(self, k)
    if type(k) == "number" then  -- outside 1..#a: nil, as a table (ipairs stops)
      if k >= 1 and k <= vlen(self) and k == math.floor(k) then return vget(self, k) end
      return nil
    end
    if k == "value" and rawget(self, "_typecode") == "c" then return native.value_bytes(self) end
    if k == "typecode" then return rawget(self, "_typecode") end
    return methods[k]
  end
end
Array.__index = array_index(array_methods)
function Array.extend(parent, name)  -- a subclass keeps the indexing
  local cls = Object.extend(parent, name)
  cls.__index = array_index(cls)
  return cls
end
Array.__newindex = function(self, k, v)
  if type(k) == "number" then assign(self, k, v)
  elseif k == "value" and rawget(self, "_typecode") == "c" then
    checktype(v, "string", 3, "__newindex")
    if #v > vlen(self) then caller_error("byte string too long") end
    native.value_setbytes(self, v)
  elseif k == "typecode" then error(class.not_writable(self, k), 2)  -- read-only
  elseif k == nil or k ~= k then  -- a table's error, at the script's line
    caller_error(k == nil and "table index is nil" or "table index is NaN")
  else rawset(self, k, v) end
end
Array.__len = vlen
Array.__pairs = function(self)
  local n = vlen(self)
  return function(_, i)
    i = i + 1
    if i <= n then return i, vget(self, i) end
  end, self, 0
end
Array.totable = vtotable
Array.tolist = vtotable
Array.get_lock = get_lock
function Array:get_obj() return self end
Array.acquire = sync_acquire
Array.release = sync_release
Array.hold = hold
Array.with = with
function Array:__tostring()
  local t = vtotable(self)
  for i = 1, #t do t[i] = tostring(t[i]) end
  return ("<SynchronizedArray wrapper for %s[%d]{%s}>"):format(
    rawget(self, "_typecode"), #t, table.concat(t, ", "))
end
M.Array = Array

-- RawArray(typecode, size_or_table) or RawArray{typecode=, size_or_table=}:
-- an Array without a lock
function M.RawArray(...)
  local o, typecode, init = array_args("RawArray", RAW_ARRAY_FIELDS, 2, ...)
  local a = setmetatable({}, Array)
  class.named_errors("RawArray", o, ARRAY_ARGS, setup_array, a, "RawArray", typecode, init,
                     false)
  return a
end

-- ---- Queue, JoinableQueue, SimpleQueue -------------------------------------------------

-- Queue([maxsize]) or Queue{maxsize = n}, and JoinableQueue the same
local Queue = Object:extend("Queue")
local QUEUE_FIELDS = fields("maxsize")
local function setup_queue(self, fname, ...)
  local maxsize = ...
  local o = args(fname, QUEUE_FIELDS, 1, ...)
  if o ~= nil then maxsize = o.maxsize end
  if maxsize ~= nil and math.type(maxsize) ~= "integer" then
    argerror(1, fname, "integer expected, got " .. type(maxsize), 2)
  end
  self[HANDLE] = native.queue_new(maxsize or 0)
  self._maxsize = maxsize or 0
end
function Queue:init(...) setup_queue(self, "Queue", ...) end
Queue.put = native.queue_put
Queue.get = native.queue_get
function Queue:put_nowait(obj) return native.queue_put(self, obj, false) end
function Queue:get_nowait() return native.queue_get(self, false) end
Queue.qsize = native.queue_qsize
Queue.empty = native.queue_empty
Queue.full = native.queue_full
Queue.close = native.queue_close
-- shutdown([immediate=false]): as queue.Queue's (Python 3.13), seen by
-- every process; the field is_shutdown reads the shared flag
function Queue:shutdown(immediate)
  checktype(immediate, "boolean", 1, "shutdown", true)
  native.queue_shutdown(self, immediate)
end
-- read-only properties: is_shutdown, and maxsize (fixed in shared memory
-- when the queue is made; Python's multiprocessing queues have it as the
-- private _maxsize, which assigning changes nothing either)
class.getters(Queue, {
  is_shutdown = native.queue_is_shutdown,
  maxsize = function(self) return self._maxsize end,
})
function Queue:join_thread() end         -- no feeder thread to wait for
function Queue:cancel_join_thread() end
function Queue:__tostring()
  return ("<%s object at %p>"):format(getmetatable(self).__name, self)
end
M.Queue = Queue

local JoinableQueue = Queue:extend("JoinableQueue")
function JoinableQueue:init(...) setup_queue(self, "JoinableQueue", ...) end
JoinableQueue.task_done = native.queue_task_done
JoinableQueue.join = native.queue_join
M.JoinableQueue = JoinableQueue

-- an unbounded Queue without task accounting: the queue API (block and
-- timeout included, which Python's lacks) less maxsize and full
local SimpleQueue = Object:extend("SimpleQueue")
function SimpleQueue:init(...)
  args("SimpleQueue", NO_FIELDS, 0, ...)
  self[HANDLE] = native.queue_new(0)
end
SimpleQueue.put = native.queue_put
SimpleQueue.get = native.queue_get
SimpleQueue.put_nowait = Queue.put_nowait
SimpleQueue.get_nowait = Queue.get_nowait
SimpleQueue.empty = native.queue_empty
SimpleQueue.close = native.queue_close
SimpleQueue.qsize = native.queue_qsize
M.SimpleQueue = SimpleQueue

-- ---- Pipe and Connection ------------------------------------------------------------------

local Connection = Object:extend("Connection")
Connection.send = native.conn_send
Connection.recv = native.conn_recv
Connection.send_bytes = native.conn_send_bytes
Connection.recv_bytes = native.conn_recv_bytes
Connection.poll = native.conn_poll
Connection.close = native.conn_close
Connection.__close = native.conn_close
function Connection:fileno()
  local closed, _, _, fd = native.conn_info(self)
  if closed then error("handle is closed", 2) end
  return fd
end
class.getters(Connection, {
  closed = function(self) return (native.conn_info(self)) end,
  readable = function(self) return (select(2, native.conn_info(self))) end,
  writable = function(self) return (select(3, native.conn_info(self))) end,
})
function Connection:__tostring()
  return ("<Connection object at %p>"):format(self)
end
M.Connection = Connection

local function wrap_conn(h)
  local c = setmetatable({}, Connection)
  c[HANDLE] = h
  return c
end
M._wrap_conn = wrap_conn

-- Pipe([duplex=true]) -> conn1, conn2 (simplex: conn1 receives, conn2 sends)
local PIPE_FIELDS = fields("duplex")
function M.Pipe(...)
  local duplex = ...
  local o = args("Pipe", PIPE_FIELDS, 1, ...)
  if o ~= nil then duplex = o.duplex end
  checktype(duplex, "boolean", 1, "Pipe", true)
  local a, b = native.pipe_new(duplex ~= false)
  return wrap_conn(a), wrap_conn(b)
end

-- Lua-side methods called with '.' instead of ':' (p.start()) raise a
-- bad-argument error naming the method, as the native ones do
local guard = class.guard
guard(Process, {"start", "run", "join", "is_alive", "terminate", "kill", "close"})
for _, cls in ipairs{Lock, RLock, Semaphore, Value, Array} do
  guard(cls, {"acquire", "release", "hold", "with", "get_lock"})
end
guard(Condition, {"acquire", "release", "hold", "with", "wait", "wait_for",
                  "notify", "notify_all", "notifyAll"})
guard(Connection, {"fileno"})
guard(Barrier, {"wait", "reset", "abort"})
guard(Queue, {"put_nowait", "get_nowait", "shutdown"})
guard(SimpleQueue, {"put_nowait", "get_nowait"})
-- a subclass whose init skips its parent's is refused when constructed
for _, cls in ipairs{Process, Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition,
                     Barrier, Value, Array, Queue, JoinableQueue, SimpleQueue} do
  class.require_init(cls)
end

-- the native methods' names in bad-argument errors: 'get', not 'queue_get'
local function method_names(cls, names) class.name_methods("mp", cls, names) end
method_names(Queue, {"put", "get", "qsize", "empty", "full", "close"})
method_names(JoinableQueue, {"task_done", "join"})
method_names(Lock, {"acquire", "release", "locked"})
method_names(RLock, {"acquire", "release"})
method_names(Semaphore, {"acquire", "release", "get_value"})
method_names(Event, {"set", "clear", "is_set", "wait"})
method_names(Connection, {"send", "recv", "send_bytes", "recv_bytes", "poll", "close"})
method_names(Array, {"tolist"})  -- (and totable, the same function)

-- ---- Pool, Manager ------------------------------------------------------------------------

M._native = native
M._dumps = native.dumps
M._loads = native.loads

require("cthreads.mp_pool")
require("cthreads.mp_threadpool")
require("cthreads.mp_manager")
require("cthreads.mp_dummy")

-- the submodules, as Python's: require("multiprocessing.pool") and the
-- others give the tables that multiprocessing.pool and the others are
for _, name in ipairs{"pool", "managers", "dummy"} do
  package.loaded["multiprocessing." .. name] = M[name]
end

return M
