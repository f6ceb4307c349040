-- threading's synchronisation classes beyond Lock and RLock: Condition,
-- Semaphore, BoundedSemaphore, Event, Timer, Barrier, Local. The waiting
-- is native (bindings/ct_condition.c, ct_semaphore.c, ct_event.c); this
-- file gives them Python's interface. Installed into the threading module
-- by stdlib/threading.lua:  require("cthreads.threading_sync")(M)

local class = require("cthreads.class")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local checktimeout = class.checktimeout
local select = select

return function(M)
  local native = M._native
  local HANDLE = native.HANDLE
  local hold, with = M._hold, M._with
  local Lock, RLock, Thread = M.Lock, M.RLock, M.Thread
  local monotonic = M._time.monotonic
  local unpack = table.unpack

  -- a constructor's table of named fields (checked against the set
  -- 'fields'), or nil for positional arguments (at most 'max' of them)
  local args, fields, NO_FIELDS = class.args, class.fields, class.NO_FIELDS

  local function check_integer(v, n, fname)
    checktype(v, "number", n, fname)
    local i = math.tointeger(v)
    if i == nil then argerror(n, fname, "number has no integer representation", 3) end
    return i
  end

  -- ---- Condition ----------------------------------------------------------

  local Condition = Object:extend("Condition")

  -- how the native side can release and retake the lock: 1 a Lock, 2 an
  -- RLock (natively, unless methods were overridden), 0 any other object
  -- with acquire/release (through its methods)
  local function lock_mode(lock)
    if type(lock) ~= "table" or rawget(lock, HANDLE) == nil then return 0 end
    if lock.acquire == Lock.acquire and lock.release == Lock.release
       and Lock:is(lock) then
      return 1
    end
    if lock.acquire == RLock.acquire and lock.release == RLock.release
       and lock._is_owned == RLock._is_owned
       and lock._release_save == RLock._release_save
       and lock._acquire_restore == RLock._acquire_restore and RLock:is(lock) then
      return 2
    end
    return 0
  end

  -- Condition([lock]) or Condition{lock = l}; the default lock is an RLock
  local CONDITION_FIELDS = fields("lock")
  function Condition:init(...)
    local lock = ...
    if class.is_plain_table(lock) and rawget(lock, "acquire") ~= nil then
      class.check_count("Condition", 1, ...)  -- a lock made of a plain table
    else
      local o = args("Condition", CONDITION_FIELDS, 1, ...)
      if o ~= nil then lock = o.lock end
    end
    if lock == nil then lock = RLock() end
    local t = type(lock)
    if t ~= "table" and t ~= "userdata" then
      argerror(1, "Condition", "lock expected, got " .. t, 3)
    end
    -- anything with acquire and release will do, as in Python; a queue or
    -- a file is refused here rather than failing at its first use
    local ok, acq, rel = pcall(function() return lock.acquire, lock.release end)
    if not (ok and acq ~= nil and rel ~= nil) then
      argerror(1, "Condition", "lock expected (an object with acquire and release), got "
                               .. class.typename(lock), 3)
    end
    self._lock = lock
    self[HANDLE] = native.cond_new(lock, lock_mode(lock))
  end

  -- (arguments are checked by the lock's acquire; forward gives its
  -- bad-argument error the script's line)
  local forward = class.forward
  local function lock_acquire(lock, ...) return lock:acquire(...) end
  function Condition:acquire(...)
    local lock = self._lock
    if select("#", ...) == 0 then return lock:acquire() end
    return forward(lock_acquire, lock, ...)
  end
  -- (its error, releasing a lock not held, is the script's too)
  local function lock_release(lock) return lock:release() end
  function Condition:release() return forward(lock_release, self._lock) end
  Condition.hold = hold
  Condition.with = with
  Condition.wait = native.cond_wait
  Condition.notify = native.cond_notify
  Condition.notify_all = native.cond_notify_all
  Condition.notifyAll = native.cond_notify_all  -- Python 2 name

  -- wait_for(predicate, [timeout]) -> the predicate's last result
  function Condition:wait_for(predicate, timeout)
    checktype(predicate, "function", 1, "wait_for")
    checktimeout(timeout, 2, "wait_for")
    local result = predicate()
    local deadline
    while not result do
      local wait = nil
      if timeout ~= nil and timeout >= 0 then
        if deadline == nil then deadline = monotonic() + timeout end
        wait = deadline - monotonic()
        if wait <= 0 then break end
      end
      self:wait(wait)
      result = predicate()
    end
    return result
  end

  function Condition:__tostring()
    return ("<%s(%s, %d)>"):format(getmetatable(self).__name, tostring(self._lock),
                                   native.cond_waiters(self))
  end
  M.Condition = Condition

  -- ---- Semaphore and BoundedSemaphore -----------------------------------

  local Semaphore = Object:extend("Semaphore")

  local SEM_MAX = 0x7fffffff  -- the native count is a 32-bit futex word
  local SEMAPHORE_FIELDS = fields("value")
  local function semaphore_value(fname, ...)
    local value = ...
    local o = args(fname, SEMAPHORE_FIELDS, 1, ...)
    if o ~= nil then value = o.value end
    if value == nil then return 1 end
    value = check_integer(value, 1, fname)
    if value < 0 then argerror(1, fname, "semaphore initial value must be >= 0", 3) end
    if value > SEM_MAX then
      argerror(1, fname, "semaphore initial value too large (at most " .. SEM_MAX .. ")", 3)
    end
    return value
  end

  function Semaphore:init(...)
    self[HANDLE] = native.sem_new(semaphore_value("Semaphore", ...), false)
  end
  Semaphore.acquire = native.sem_acquire
  Semaphore.release = native.sem_release
  Semaphore.hold = hold
  Semaphore.with = with
  function Semaphore:__tostring()
    return ("<%s at %p: value=%d>"):format(getmetatable(self).__name, self,
                                           native.sem_value(self))
  end
  M.Semaphore = Semaphore

  local BoundedSemaphore = Semaphore:extend("BoundedSemaphore")
  function BoundedSemaphore:init(...)
    local value = semaphore_value("BoundedSemaphore", ...)
    self[HANDLE] = native.sem_new(value, true)
    self._initial_value = value
  end
  function BoundedSemaphore:__tostring()
    return ("<%s at %p: value=%d/%d>"):format(getmetatable(self).__name, self,
                                              native.sem_value(self), self._initial_value)
  end
  M.BoundedSemaphore = BoundedSemaphore

  -- ---- Event ---------------------------------------------------------------

  local Event = Object:extend("Event")
  function Event:init(...)
    if select("#", ...) ~= 0 then args("Event", NO_FIELDS, 0, ...) end
    self[HANDLE] = native.event_new()
  end
  Event.set = native.event_set
  Event.clear = native.event_clear
  Event.is_set = native.event_is_set
  Event.isSet = native.event_is_set  -- Python 2 name
  Event.wait = native.event_wait
  function Event:__tostring()
    return ("<%s at %p: %s>"):format(getmetatable(self).__name, self,
                                     native.event_is_set(self) and "set" or "unset")
  end
  M.Event = Event

  -- ---- Timer ---------------------------------------------------------------

  -- Timer(interval, f, [args], [kwargs]) or
  -- Timer{interval =, ["function"] = f (or target = f), args =, kwargs =}:
  -- a Thread that calls f after 'interval' seconds unless cancelled.
  local Timer = Thread:extend("Timer")
  local TIMER_FIELDS = fields("interval", "function", "target", "args", "kwargs",
                              "name", "daemon")
  -- the positional arguments' checks (named_errors names the fields)
  local TIMER_ARGS = {"interval", {"function", "target"}, "args", "kwargs"}
  local function check_timer(interval, f, args, kwargs)
    checktype(interval, "number", 1, "Timer")
    if interval ~= interval then argerror(1, "Timer", "interval must be a number, not nan", 3) end
    checktype(f, "function", 2, "Timer")
    checktype(args, "table", 3, "Timer", true)
    checktype(kwargs, "table", 4, "Timer", true)
  end
  function Timer:init(...)
    local interval, f, args, kwargs = ...
    local o = class.args("Timer", TIMER_FIELDS, 4, ...)
    if o ~= nil then
      interval, f, args, kwargs = o.interval, o["function"] or o.target, o.args, o.kwargs
    end
    Thread.init(self)
    if o ~= nil and o.name ~= nil then self.name = tostring(o.name) end
    if o ~= nil and o.daemon ~= nil then
      checktype(o.daemon, "boolean", 1, "Timer")
      self.daemon = o.daemon
    end
    class.named_errors("Timer", o, TIMER_ARGS, check_timer, interval, f, args, kwargs)
    self.interval = interval
    self["function"] = f
    self.args = args or {}
    self.kwargs = kwargs
    self.finished = Event()
  end

  function Timer:cancel() self.finished:set() end

  function Timer:run()
    local delay = self.interval * native.time_scale()
    if delay < 0 then delay = 0 end
    self.finished:wait(delay)
    if not self.finished:is_set() then
      class.call_target(self["function"], self.args, self.kwargs)
    end
    self.finished:set()
  end
  M.Timer = Timer

  -- ---- Barrier -------------------------------------------------------------

  M.BrokenBarrierError = class.error_kind("threading.BrokenBarrierError")
  local Broken = M.BrokenBarrierError

  -- states, as in Python: filling, draining (releasing the waiters),
  -- resetting (waiters leave with an error), broken
  local FILLING, DRAINING, RESETTING, BROKEN = 0, 1, -1, -2

  local Barrier = Object:extend("Barrier")

  -- Barrier(parties, [action], [timeout]) or Barrier{parties =, action =, timeout =}
  local BARRIER_FIELDS = fields("parties", "action", "timeout")
  local BARRIER_ARGS = {"parties", "action", "timeout"}
  local function check_barrier(parties, action, timeout)  -- -> parties
    parties = check_integer(parties, 1, "Barrier")
    if parties < 1 then argerror(1, "Barrier", "parties must be >= 1", 3) end
    checktype(action, "function", 2, "Barrier", true)
    checktimeout(timeout, 3, "Barrier")
    return parties
  end
  function Barrier:init(...)
    local parties, action, timeout = ...
    local o = args("Barrier", BARRIER_FIELDS, 3, ...)
    if o ~= nil then parties, action, timeout = o.parties, o.action, o.timeout end
    parties = class.named_errors("Barrier", o, BARRIER_ARGS, check_barrier, parties, action,
                                 timeout)
    self._cond = Condition(Lock())
    self._parties = parties
    self._action = action
    self._timeout = timeout
    self._state = FILLING
    self._count = 0
  end

  -- read-only properties, as Python's (assigning one raises)
  class.getters(Barrier, {
    parties = function(self) return self._parties end,
    n_waiting = function(self)
      return self._state == FILLING and self._count or 0
    end,
    broken = function(self) return self._state == BROKEN end,
  })

  local function set_broken(self)
    self._state = BROKEN
    self._cond:notify_all()
  end

  -- the last party to arrive: run the action, then let everyone go
  local function release_all(self)
    local action = self._action
    if action ~= nil then
      local ok, err = pcall(action)
      if not ok then
        set_broken(self)
        error(err, 0)
      end
    end
    self._state = DRAINING
    self._cond:notify_all()
  end

  local function wait_release(self, timeout)
    local cond = self._cond
    local done = cond:wait_for(function() return self._state ~= FILLING end, timeout)
    if not done then
      set_broken(self)
      error(Broken, 0)
    end
    if self._state < 0 then error(Broken, 0) end
  end

  -- leaving: the last one out refills the barrier after draining/resetting
  local function leave(self)
    self._count = self._count - 1
    if self._count == 0 and (self._state == DRAINING or self._state == RESETTING) then
      self._state = FILLING
      self._cond:notify_all()
    end
  end

  local function wait_body(self, timeout)
    local cond = self._cond
    while self._state == DRAINING or self._state == RESETTING do cond:wait() end
    if self._state < 0 then error(Broken, 0) end
    local index = self._count
    self._count = index + 1
    local ok, err = pcall(function()
      if index + 1 == self._parties then release_all(self)
      else wait_release(self, timeout) end
    end)
    leave(self)
    if not ok then error(err, 0) end
    return index
  end

  -- wait([timeout]) -> this thread's arrival index, 0..parties-1
  function Barrier:wait(timeout)
    checktimeout(timeout, 1, "wait")
    if timeout == nil then timeout = self._timeout end
    return self._cond:with(wait_body, self, timeout)
  end

  function Barrier:reset()
    self._cond:with(function()
      if self._count > 0 then
        if self._state == FILLING or self._state == BROKEN then
          self._state = RESETTING
        end
      else
        self._state = FILLING
      end
      self._cond:notify_all()
    end)
  end

  function Barrier:abort()
    self._cond:with(set_broken, self)
  end

  function Barrier:__tostring()
    if self.broken then
      return ("<%s at %p: broken>"):format(getmetatable(self).__name, self)
    end
    return ("<%s at %p: waiters=%d/%d>"):format(getmetatable(self).__name, self,
                                               self.n_waiting, self.parties)
  end
  M.Barrier = Barrier

  -- ---- Local ---------------------------------------------------------------

  -- Fields of a Local are separate per thread: each thread sees its own
  -- table, made on its first access. A subclass's init runs again, with
  -- the constructor's arguments, in every thread that uses the object.
  local Local = Object:extend("Local")
  local locals = setmetatable({}, {__mode = "k"})  -- object -> its state

  local current_thread = M.current_thread

  local function thread_fields(self)
    local st = locals[self]
    local t = current_thread()
    local fields = st.per_thread[t]
    if fields == nil then
      fields = {}
      st.per_thread[t] = fields
      local init = getmetatable(self).init
      if init ~= Local.init then init(self, unpack(st.args, 1, st.args.n)) end
    end
    return fields
  end

  local function local_index(cls)
    return function(self, k)
      local v = thread_fields(self)[k]
      if v ~= nil then return v end
      return cls[k]
    end
  end

  Local.__index = local_index(Local)
  function Local:__newindex(k, v) thread_fields(self)[k] = v end
  function Local:__pairs() return next, thread_fields(self), nil end

  -- Python's local() takes no arguments; a subclass with an init of its
  -- own takes what that init takes
  local function local_construct(cls, ...)
    if select("#", ...) ~= 0 and cls.init == Local.init then
      args(tostring(rawget(cls, "__name")), NO_FIELDS, 0, ...)
    end
    local obj = setmetatable({}, cls)
    -- the per-thread tables are weak by thread object, so a thread's
    -- fields go away with it
    locals[obj] = {args = table.pack(...), per_thread = setmetatable({}, {__mode = "k"})}
    locals[obj].per_thread[current_thread()] = {}
    cls.init(obj, ...)
    return obj
  end

  function Local.extend(parent, name)
    local cls = Object.extend(parent, name)
    cls.__index = local_index(cls)
    getmetatable(cls).__call = local_construct
    return cls
  end
  getmetatable(Local).__call = local_construct

  function Local:__tostring()
    return ("<%s object at %p>"):format(rawget(getmetatable(self), "__name"), self)
  end
  M.Local = Local
  M["local"] = Local

  -- Lua-side methods called on something that is not an instance
  -- (Barrier.wait(5)) raise a bad-argument error, not an index error inside
  local guard = class.guard
  -- (and in a subclass whose init skipped theirs, say so)
  guard(Condition, {"acquire", "release", "wait_for"}, "_lock")
  guard(Barrier, {"wait", "reset", "abort"}, "_cond")
  guard(Timer, {"cancel", "run"}, "finished")

  -- the native methods' names in bad-argument errors: 'acquire', not
  -- 'sem_acquire' (see class.name_methods)
  class.name_methods("th", Condition, {"wait", "notify", "notify_all"})
  class.name_methods("th", Semaphore, {"acquire", "release"})
  class.name_methods("th", Event, {"set", "clear", "is_set", "wait"})
end
