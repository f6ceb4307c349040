-- The threading module (Lua half): Thread and the lock classes on top of
-- the native half (bindings/ct_thread.c, bindings/ct_lock.c). Follows
-- Python's threading; see API.md.

-- the exit code runs these after the script, which may have removed them
local pairs, ipairs, next, pcall, tostring = pairs, ipairs, next, pcall, tostring
local select = select
local table, io = table, io

local native = require("cthreads.native.threading")
local class = require("cthreads.class")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local HANDLE = native.HANDLE
local get_ident = native.get_ident
local traceback = debug.traceback
local unpack = table.unpack
-- what threads use when they run and fail: kept here, so that a script
-- that clears its globals (Lua's own test suite does) cannot break them
local pcall, xpcall, tostring, type = pcall, xpcall, tostring, type
local stderr = io.stderr

local M = {}

-- ---- helpers shared by the lock-like classes ------------------------------

local CLOSER = {}  -- key of a lock's cached to-be-closed handle
local closer_meta = {
  __name = "lock holder",
  __close = function(c) c.lock:release() end,
}

local Lock_is  -- Lock:is, once Lock exists (a userdata is a lock only if a Lock)

-- the cached closers of locks that are not tables (plain Lock() instances)
local closers = setmetatable({}, {__mode = "k"})

-- lock:hold() acquires and returns a to-be-closed value that releases:
--   do local _ <close> = lock:hold() ... end
local function check_lock(self, fname)
  local t = type(self)
  if (t ~= "table" and not (t == "userdata" and Lock_is(self)))
     or type(self.acquire) ~= "function" then
    argerror(1, fname, "lock expected, got " .. class.typename(self), 3)
  end
end

local function hold(self)
  check_lock(self, "hold")
  self:acquire()
  local is_table = type(self) == "table"
  local c
  if is_table then c = rawget(self, CLOSER) else c = closers[self] end
  if c == nil then
    c = setmetatable({lock = self}, closer_meta)
    if is_table then rawset(self, CLOSER, c) else closers[self] = c end
  end
  return c
end

local function with_finish(self, ok, ...)
  self:release()
  if not ok then error((...), 0) end
  return ...
end

-- lock:with(f, ...) runs f(...) holding the lock and returns its results
local function with(self, f, ...)
  check_lock(self, "with")
  checktype(f, "function", 1, "with")
  self:acquire()
  return with_finish(self, pcall(f, ...))
end

M._hold, M._with = hold, with

-- ---- Lock and RLock ----------------------------------------------------------

-- Lock() and RLock() take no arguments, as Python's
local NO_FIELDS = class.NO_FIELDS
local Lock = Object:extend("Lock")
function Lock:init(...)
  class.args("Lock", NO_FIELDS, 0, ...)
  self[HANDLE] = native.lock_new()
end
Lock.acquire = native.lock_acquire
Lock.release = native.lock_release
Lock.locked = native.lock_locked
Lock.hold = hold
Lock.with = with
Lock.acquire_lock, Lock.release_lock, Lock.locked_lock =
  Lock.acquire, Lock.release, Lock.locked  -- Python 2 names
function Lock:__tostring()
  return ("<%s %s object at %p>"):format(
    native.lock_locked(self) and "locked" or "unlocked",
    getmetatable(self).__name, self)
end
-- Lock() itself returns the native handle, with Lock as its metatable, not
-- a table holding it: then acquire and release find their lock without a
-- table lookup, which makes an uncontended acquire/release pair about a
-- third cheaper (scripts/bench/NOTES.md). Like Python's lock objects these
-- take no fields of their own. Subclasses of Lock make tables as usual.
do
  local class_meta = getmetatable(Lock)
  local construct = class_meta.__call
  local check_args = class.args
  class_meta.__call = function(cls, ...)
    if cls == Lock then
      if select("#", ...) ~= 0 then check_args("Lock", NO_FIELDS, 0, ...) end
      return native.lock_new(Lock)
    end
    return construct(cls, ...)
  end
end
Lock_is = function(v) return Lock:is(v) end
M.Lock = Lock
M.allocate_lock = Lock  -- Python's _thread name

local RLock = Object:extend("RLock")
function RLock:init(...)
  if select("#", ...) ~= 0 then class.args("RLock", NO_FIELDS, 0, ...) end
  self[HANDLE] = native.rlock_new()
end
RLock.acquire = native.rlock_acquire
RLock.release = native.rlock_release
RLock.locked = native.rlock_locked
RLock._is_owned = native.rlock_is_owned
RLock._release_save = native.rlock_release_save
RLock._acquire_restore = native.rlock_acquire_restore
RLock.hold = hold
RLock.with = with
function RLock:__tostring()
  return ("<%s %s object at %p>"):format(
    native.rlock_locked(self) and "locked" or "unlocked",
    getmetatable(self).__name, self)
end
M.RLock = RLock

-- the native methods' names in bad-argument errors: 'acquire', not
-- 'lock_acquire' (see class.name_methods)
class.name_methods("th", Lock, {"acquire", "release", "locked"})
class.name_methods("th", RLock, {"acquire", "release", "locked"})

-- ---- Thread ----------------------------------------------------------------

-- native counters (atomic with the GIL off): default names Thread-N and
-- Dummy-N, and the start order that enumerate() lists threads in
local THREAD_N, DUMMY_N, START_SEQ = 1, 2, 3
local next_count = native.next_count
local main_done  -- an Event set when the main chunk ends (made below)
local active = {}      -- ident -> Thread, for started threads not yet ended
-- Thread -> true from start() until (about) the thread has put itself in
-- 'active': only a thread itself writes its ident's entry there, because
-- an ident is reused once its thread ended, and start() storing a thread
-- that had already ended could overwrite a newer thread's entry (then
-- current_thread() named the wrong thread: found by the threads stress
-- under TSan). Weak, and stale entries are filtered by is_alive.
local starting = setmetatable({}, {__mode = "k"})
local shutting_down = false
-- set once the non-daemon threads have all ended at exit: the daemon threads
-- left are being abandoned, and what they raise from then on (a Pool
-- terminated by the exit under them) is not reported, as Python's daemon
-- threads are stopped silently at finalization
local abandoning = false

local Thread = Object:extend("Thread")
M.Thread = Thread

-- Thread{target=, args=, kwargs=, name=, daemon=} or
-- Thread(target, [name], [args], [kwargs], [daemon]) where the optional
-- ones are recognised by type (Python's positional order, group left out).
function Thread:init(...)
  local o = class.worker_options("Thread", ...)
  self.target = o.target
  self.args = o.args or {}
  self.kwargs = o.kwargs
  if o.name ~= nil then self.name = tostring(o.name)
  else self.name = ("Thread-%d"):format(next_count(THREAD_N)) end
  if o.daemon ~= nil then self.daemon = o.daemon
  else self.daemon = M.current_thread().daemon end
  self._initialized = true
  self._started = false
end

-- Python's properties (class.getters): 'daemon', which assigning once the
-- thread has started is an error (the native thread took its value at
-- start), and the read-only 'ident' and 'native_id'. Their values live in
-- '_daemon', '_ident' and '_native_id' (read as fields: a getter calling
-- rawget costs half as much again).
class.getters(Thread, {
  daemon = function(self) return self._daemon end,
  ident = function(self) return self._ident end,
  native_id = function(self) return self._native_id end,
}, {
  daemon = class.daemon_setter(function(self) return rawget(self, "_started") end,
                               "cannot set daemon status of active thread"),
})

function Thread:run()
  if self.target ~= nil then
    return class.call_target(self.target, self.args, self.kwargs)
  end
end

local function capture(err)
  local msg = class.error_text(err)
  return {error = err, traceback = traceback(msg, 2)}
end

-- the hook's argument: API.md's fields, and Python's ExceptHookArgs names
-- (exc_type: an error kind's kind, else the Lua type of the error)
local function hook_args(self, info)
  local e = info.error
  local kind = type(e) == "table" and rawget(e, "kind")
  return {thread = self, error = e, traceback = info.traceback,
          exc_type = kind or type(e), exc_value = e, exc_traceback = info.traceback}
end

local function report(self, info)
  if abandoning and rawget(self, "_daemon") then return end
  if type(info) ~= "table" then  -- a memory error skips the handler
    info = {error = info, traceback = tostring(info)}
  end
  local ok, err = pcall(M.excepthook, hook_args(self, info))
  if not ok then
    stderr:write("Exception in threading.excepthook:\n", tostring(err), "\n")
    M.__excepthook__(hook_args(self, info))
  end
end

-- runs in the new OS thread
local function bootstrap(self)
  -- with the GIL off this runs while start() may not have stored them yet
  self._ident, self._native_id = get_ident(), native.get_native_id()
  active[get_ident()] = self
  local ok, info = xpcall(self.run, capture, self)
  if not ok then report(self, info) end
  active[self._ident or get_ident()] = nil
end

function Thread:start()
  if rawget(self, "_initialized") == nil then
    error("thread.init() was not called (call Thread.init(self) in your init)", 2)
  end
  if self._started then error("threads can only be started once", 2) end
  self._started = true
  self._seq = next_count(START_SEQ)
  local h, ident, native_id = native.start(self, tostring(self.name),
                                           self.daemon and true or false, bootstrap)
  self[HANDLE] = h
  self._ident, self._native_id = ident, native_id
  if not native.done(h) then starting[self] = true end
end

function Thread:join(timeout)
  class.checktimeout(timeout, 1, "join")
  if not self._started then error("cannot join thread before it is started", 2) end
  if self.ident == get_ident() then error("cannot join current thread", 2) end
  local h = rawget(self, HANDLE)
  if h == nil then  -- the main thread or a dummy
    -- the main thread ends with the main chunk, as in Python
    if rawget(self, "_is_main") then return main_done:wait(timeout) end
    -- a dummy (a thread not started by this module) only at exit
    if timeout ~= nil and timeout >= 0 then M._time.sleep(timeout) return false end
    error("cannot join a thread not started by the threading module", 2)
  end
  return native.join(h, timeout)
end

function Thread:is_alive()
  if not self._started or rawget(self, "_stopped") then return false end
  local h = rawget(self, HANDLE)
  if h == nil then return not (self._is_main and shutting_down) end
  return not native.done(h)
end

function Thread:__tostring()
  local status = "initial"
  if self._started then
    status = self:is_alive() and "started" or "stopped"
  end
  if self.daemon then status = status .. " daemon" end
  if self.ident then status = status .. " " .. tostring(self.ident) end
  return ("<%s(%s, %s)>"):format(getmetatable(self).__name, tostring(self.name), status)
end

-- Python 2 style names
function Thread:getName() return self.name end
function Thread:setName(name)
  self.name = tostring(name)
  if self.ident == get_ident() then native.set_name(self.name) end
end
Thread.isAlive = Thread.is_alive
function Thread:isDaemon() return self.daemon end
function Thread:setDaemon(daemonic)
  checktype(daemonic, "boolean", 1, "setDaemon")
  if self._started then error("cannot set daemon status of active thread", 2) end
  self.daemon = daemonic
end

-- Thread.join(5) and the like: a bad-argument error, not an index error
-- deep inside (the wrapper tail-calls, so error levels are unchanged)
for _, name in ipairs{"start", "run", "join", "is_alive", "getName", "setName",
                      "isAlive", "isDaemon", "setDaemon"} do
  local method = Thread[name]
  Thread[name] = function(self, ...)
    class.checkself(self, Thread, name)
    return method(self, ...)
  end
end

-- the main thread, and dummies for threads not started by this module
-- (daemon is kept in _daemon, behind the property: it cannot change now)
local main = setmetatable({name = "MainThread", _daemon = false, _started = true,
                           _initialized = true, _is_main = true, _seq = 0,
                           _ident = native.main_ident, _native_id = native.get_native_id()},
                          Thread)
active[native.main_ident] = main

local function dummy()
  local t = setmetatable({name = ("Dummy-%d"):format(next_count(DUMMY_N)), _daemon = true,
                          _started = true, _initialized = true, _seq = math.huge,
                          _ident = get_ident(), _native_id = native.get_native_id()},
                         Thread)
  active[t.ident] = t
  return t
end

function M.current_thread()
  return active[get_ident()] or dummy()
end

function M.main_thread() return main end

-- the started threads not yet ended, each once
local function alive_threads()
  local list, seen = {}, {}
  for _, t in pairs(active) do
    if not seen[t] and t:is_alive() then list[#list + 1], seen[t] = t, true end
  end
  for t in pairs(starting) do
    if not seen[t] and t:is_alive() then list[#list + 1], seen[t] = t, true end
  end
  return list
end

function M.enumerate()
  local list = alive_threads()
  table.sort(list, function(a, b) return a._seq < b._seq end)
  return list
end

function M.active_count() return #M.enumerate() end

M.get_ident = get_ident
M.get_native_id = native.get_native_id
M.gil_enabled = native.gil_enabled
M.setswitchinterval = native.setswitchinterval
M.getswitchinterval = native.getswitchinterval
M.TIMEOUT_MAX = 1e9

function M.__excepthook__(args)
  checktype(args, "table", 1, "excepthook")
  local name = args.thread and args.thread.name or get_ident()
  stderr:write(("Exception in thread %s:\n%s\n"):format(
    tostring(name), args.traceback or tostring(args.error)))
end
M.excepthook = M.__excepthook__

-- Python 2 aliases
M.currentThread = M.current_thread
M.activeCount = M.active_count

-- called by the runtime when the main chunk ends: wait for every
-- non-daemon thread, including ones started while waiting, unless
-- 'abandon' (a Ctrl-C ended the script: they are left running, like daemons)
function M._shutdown(abandon)
  shutting_down = true
  main_done:set()
  while not abandon do
    local waiting
    for _, t in ipairs(alive_threads()) do
      if t ~= main and not t.daemon and rawget(t, HANDLE) and t:is_alive() then
        waiting = t
        break
      end
    end
    if waiting == nil then break end
    waiting:join()
  end
  abandoning = true
end

-- called in a child process right after fork (multiprocessing): only the
-- calling thread exists there; it becomes the main thread
function M._after_fork()
  local cur = M.current_thread()
  for t in pairs(starting) do starting[t] = nil end  -- none exists here
  for ident, t in pairs(active) do
    if t ~= cur then
      active[ident] = nil
      if rawget(t, HANDLE) == nil then t._stopped = true end  -- main or dummy
    end
  end
  if cur ~= main then
    main._is_main = nil
    main = cur
    cur._is_main = true
  end
  cur._native_id = native.get_native_id()
  shutting_down, abandoning = false, false
end

M._time = require("cthreads.native.time")
M._native = native
M._active = active

-- Condition, Semaphore, BoundedSemaphore, Event, Timer, Barrier, Local
require("cthreads.threading_sync")(M)
main_done = M.Event()

-- a subclass whose init skips these classes' init is refused when it is
-- constructed (not Local's: it runs a subclass's init per thread, and its
-- own is empty)
for _, cls in ipairs{M.Thread, M.Lock, M.RLock, M.Condition, M.Semaphore,
                     M.BoundedSemaphore, M.Event, M.Timer, M.Barrier} do
  class.require_init(cls)
end

return M
