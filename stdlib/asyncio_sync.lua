-- asyncio's synchronisation primitives for tasks (one loop, no threads):
-- Event, Lock, Semaphore, BoundedSemaphore, Condition, Queue, LifoQueue,
-- PriorityQueue. Loaded by stdlib/asyncio.lua, which passes the module
-- table and the scheduler's internals.

local class = require("cthreads.class")
local threading = require("cthreads.threading")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local get_ident = threading.get_ident

return function(M, core)  -- the rest of the file is this function's body
local current, suspend, wake = core.current, core.suspend, core.wake
local raise_cancelled, CANCEL = core.raise_cancelled, core.CANCEL
local is_cancelled_error = core.is_cancelled_error

local function is_plain_table(v)
  return type(v) == "table" and getmetatable(v) == nil
end

-- the name of the class being constructed: a constructor's errors name
-- it (LifoQueue("x") says 'LifoQueue', not the 'Queue' whose init runs)
local function ctor_name(self)
  return rawget(getmetatable(self), "__name")
end

-- ---- synchronisation primitives ---------------------------------------------
-- Waiters are records {task, granted}; a cancelled waiter's record is
-- killed (task cleared) and skipped. A primitive belongs to the loop of the
-- first task that waits on it.

local function bind(prim, me, name)
  local loop = prim._loop
  if loop == nil then
    prim._loop = me._loop
  elseif loop ~= me._loop then
    class.caller_error(name .. " is bound to a different event loop")
  end
end

local function fifo() return {h = 1, t = 0} end

local function fifo_push(q, rec)
  local t = q.t + 1
  q.t = t
  q[t] = rec
end

-- the first live waiter, removed from the queue (nil when none)
local function fifo_pop_live(q)
  local h, t = q.h, q.t
  while h <= t do
    local rec = q[h]
    q[h] = nil
    h = h + 1
    if rec[1] then
      q.h = h
      return rec
    end
  end
  q.h, q.t = 1, 0
  return nil
end

local function fifo_each_live(q, f)
  for i = q.h, q.t do
    local rec = q[i]
    q[i] = nil
    if rec[1] then f(rec) end
  end
  q.h, q.t = 1, 0
end

local function kill_waiter(_, rec) rec[1] = false end

-- waits on queue 'q'; returns the record, raises CancelledError after
-- calling on_cancel(rec) if the task is cancelled
local function wait_on(me, q, on_cancel, prim)
  local rec = {me, false}
  fifo_push(q, rec)
  if suspend(me, kill_waiter, rec) == CANCEL then
    rec[1] = false
    if on_cancel then on_cancel(prim, rec) end
    raise_cancelled(me)
  end
  return rec
end

local function wake_rec(rec, granted)
  rec[2] = granted
  wake(rec[1])
end

-- Only the thread running a primitive's loop may change it: like Python's,
-- the primitives are not thread-safe (other threads go through
-- loop:call_soon_threadsafe). Checked before anything changes.
local function check_thread(prim)
  local thread = prim._loop._thread
  if thread and thread ~= get_ident() then
    error(("%s used from another thread than its event loop's; use " ..
           "loop:call_soon_threadsafe"):format(getmetatable(prim).__name), 3)
  end
end

-- Event ---------------------------------------------------------------------

local Event = Object:extend("Event")
M.Event = Event

function Event:init()
  self._flag = false
  self._waiters = fifo()
end

function Event:is_set() return self._flag end
Event.isSet = Event.is_set

function Event:set()
  if self._loop then check_thread(self) end
  if self._flag then return end
  self._flag = true
  fifo_each_live(self._waiters, function(rec) wake_rec(rec, true) end)
end

function Event:clear() self._flag = false end

-- wait() -> true once the event is set
function Event:wait()
  if self._flag then return true end
  local me = current("Event:wait")
  bind(self, me, "Event")
  wait_on(me, self._waiters)
  return true
end

-- Lock ----------------------------------------------------------------------
-- release() hands the lock straight to the first waiter (FIFO).

local Lock = Object:extend("Lock")
M.Lock = Lock

function Lock:init()
  self._locked = false
  self._waiters = fifo()
end

local function pass_on_lock(lock, rec)
  if rec[2] then lock:release() end  -- it was handed over, then cancelled
end

function Lock:acquire()
  if not self._locked then
    self._locked = true
    return true
  end
  local me = current("Lock:acquire")
  bind(self, me, "Lock")
  wait_on(me, self._waiters, pass_on_lock, self)
  return true
end

function Lock:release()
  if self._loop then check_thread(self) end
  if not self._locked then error("Lock is not acquired", 2) end
  local rec = fifo_pop_live(self._waiters)
  if rec then wake_rec(rec, true) else self._locked = false end
end

function Lock:locked() return self._locked end
Lock.hold = threading._hold
Lock.with = threading._with

function Lock:__tostring()
  return ("<asyncio.Lock %s>"):format(self._locked and "locked" or "unlocked")
end

-- Semaphore -----------------------------------------------------------------

local Semaphore = Object:extend("Semaphore")
M.Semaphore = Semaphore

function Semaphore:init(value)
  local name = ctor_name(self)
  if is_plain_table(value) then value = value.value end
  checktype(value, "number", 1, name, true)
  value = value or 1
  if value < 0 or math.type(value) ~= "integer" and value ~= math.floor(value) then
    argerror(1, name, "initial value must be a non-negative integer")
  end
  self._value = math.tointeger(value)
  self._waiters = fifo()
end

local function pass_on_sem(sem, rec)
  if rec[2] then sem:release() end
end

function Semaphore:acquire()
  if self._value > 0 then
    self._value = self._value - 1
    return true
  end
  local me = current("Semaphore:acquire")
  bind(self, me, "Semaphore")
  wait_on(me, self._waiters, pass_on_sem, self)
  return true
end

function Semaphore:release()
  if self._loop then check_thread(self) end
  local rec = fifo_pop_live(self._waiters)
  if rec then wake_rec(rec, true) else self._value = self._value + 1 end
end

function Semaphore:locked() return self._value == 0 end
Semaphore.hold = threading._hold
Semaphore.with = threading._with

local BoundedSemaphore = Semaphore:extend("BoundedSemaphore")
M.BoundedSemaphore = BoundedSemaphore

function BoundedSemaphore:init(value)
  BoundedSemaphore.super.init(self, value)
  self._bound = self._value
end

function BoundedSemaphore:release()
  if self._value >= self._bound then
    error("BoundedSemaphore released too many times", 2)
  end
  BoundedSemaphore.super.release(self)
end

-- Condition -------------------------------------------------------------------

local Condition = Object:extend("Condition")
M.Condition = Condition

function Condition:init(lock)
  if is_plain_table(lock) then lock = lock.lock end
  if lock ~= nil and not Lock:is(lock) then
    argerror(1, ctor_name(self), "asyncio.Lock expected, got " .. type(lock))
  end
  self._lock = lock or Lock()
  self._waiters = fifo()
end

function Condition:acquire() return self._lock:acquire() end
function Condition:release() return self._lock:release() end
function Condition:locked() return self._lock:locked() end
Condition.hold = threading._hold
Condition.with = threading._with

-- wait(): releases the lock, waits for notify, takes the lock back
function Condition:wait()
  local me = current("Condition:wait")
  if not self._lock._locked then error("cannot wait on un-acquired lock", 2) end
  bind(self, me, "Condition")
  self._lock:release()
  local ok, err = pcall(wait_on, me, self._waiters)
  -- take the lock back even when cancelled, as Python does
  while true do
    local got, e2 = pcall(self._lock.acquire, self._lock)
    if got then break end
    if not is_cancelled_error(e2) then error(e2, 0) end
    err, ok = e2, false
  end
  if not ok then error(err, 0) end
  return true
end

function Condition:wait_for(predicate)
  current("Condition:wait_for")  -- (not reported as wait's, inside)
  checktype(predicate, "function", 1, "wait_for")
  local r = predicate()
  while not r do
    self:wait()
    r = predicate()
  end
  return r
end

function Condition:notify(n)
  checktype(n, "number", 1, "notify", true)
  if self._loop then check_thread(self) end
  if not self._lock._locked then error("cannot notify on un-acquired lock", 2) end
  n = n or 1
  while n > 0 do
    local rec = fifo_pop_live(self._waiters)
    if rec == nil then break end
    wake_rec(rec, true)
    n = n - 1
  end
end

function Condition:notify_all() self:notify(math.huge) end

-- Queue -------------------------------------------------------------------------
-- Items in a ring of indices (nil is a valid item); getters and putters
-- wait in FIFO order and re-check when woken.

local Queue = Object:extend("Queue")
M.Queue = Queue

function Queue:init(maxsize)
  local name = ctor_name(self)
  if is_plain_table(maxsize) then maxsize = maxsize.maxsize end
  checktype(maxsize, "number", 1, name, true)
  if maxsize and math.type(maxsize) ~= "integer" then
    if maxsize ~= math.floor(maxsize) then
      argerror(1, name, "number has no integer representation")
    end
    maxsize = math.tointeger(maxsize)
  end
  self.maxsize = maxsize or 0
  self._getters, self._putters = fifo(), fifo()
  self._unfinished = 0
  self._finished = Event()
  self._finished:set()
  self._is_shutdown = false
  self:_init()
end

function Queue:_init()
  self._items, self._h, self._t = {}, 1, 0
end
function Queue:_qsize() return self._t - self._h + 1 end
function Queue:_put(item)
  local t = self._t + 1
  self._t = t
  self._items[t] = item
end
function Queue:_get()
  local h = self._h
  local item = self._items[h]
  self._items[h] = nil
  if h == self._t then self._h, self._t = 1, 0 else self._h = h + 1 end
  return item
end

function Queue:qsize() return self:_qsize() end
function Queue:empty() return self:_qsize() == 0 end
function Queue:full()
  return self.maxsize > 0 and self:_qsize() >= self.maxsize
end

local function wake_next(q)
  local rec = fifo_pop_live(q)
  if rec then wake_rec(rec, true) end
end

-- a woken waiter that was cancelled passes its turn on
local function pass_on_getter(self, rec)
  if rec[2] and self:_qsize() > 0 then wake_next(self._getters) end
end
local function pass_on_putter(self, rec)
  if rec[2] and not self:full() then wake_next(self._putters) end
end

-- the end of a put or get after a wait: the _put or _get ran in pcall.
-- If it raised (a PriorityQueue item that cannot be compared), nothing
-- changed, so the room or the item this task was woken for is still
-- there: the next waiter gets the turn, then the error is raised.
local function after_turn(waiters, ok, ...)
  if ok then return ... end
  wake_next(waiters)
  error((...), 0)
end

function Queue:put_nowait(item)
  if self._loop then check_thread(self) end
  if self._is_shutdown then error(M.QueueShutDown, 2) end
  if self:full() then error(M.QueueFull, 2) end
  self:_put(item)
  self._unfinished = self._unfinished + 1
  self._finished:clear()
  wake_next(self._getters)
end

function Queue:put(item)
  if self._loop then check_thread(self) end
  local waited = false
  while self:full() do
    if self._is_shutdown then error(M.QueueShutDown, 2) end
    local me = current("Queue:put")
    bind(self, me, "Queue")
    wait_on(me, self._putters, pass_on_putter, self)
    waited = true
  end
  if self._is_shutdown then error(M.QueueShutDown, 2) end
  if waited then
    after_turn(self._putters, pcall(self._put, self, item))
  else
    self:_put(item)
  end
  self._unfinished = self._unfinished + 1
  self._finished:clear()
  wake_next(self._getters)
end

function Queue:get_nowait()
  if self._loop then check_thread(self) end
  if self:_qsize() == 0 then
    if self._is_shutdown then error(M.QueueShutDown, 2) end
    error(M.QueueEmpty, 2)
  end
  local item = self:_get()
  wake_next(self._putters)
  return item
end

function Queue:get()
  if self._loop then check_thread(self) end
  local waited = false
  while self:_qsize() == 0 do
    if self._is_shutdown then error(M.QueueShutDown, 2) end
    local me = current("Queue:get")
    bind(self, me, "Queue")
    wait_on(me, self._getters, pass_on_getter, self)
    waited = true
  end
  local item
  if waited then
    item = after_turn(self._getters, pcall(self._get, self))
  else
    item = self:_get()
  end
  wake_next(self._putters)
  return item
end

function Queue:task_done()
  if self._unfinished <= 0 then error("task_done() called too many times", 2) end
  self._unfinished = self._unfinished - 1
  if self._unfinished == 0 then self._finished:set() end
end

-- join(): waits until every item put has been marked task_done
function Queue:join()
  if self._unfinished > 0 then
    current("Queue:join")  -- outside a task: an error naming join
    self._finished:wait()
  end
end

-- shutdown([immediate=false]): put raises QueueShutDown from now on; get
-- too once the queue is empty (at once with immediate, which drops items)
function Queue:shutdown(immediate)
  if self._loop then check_thread(self) end
  self._is_shutdown = true
  if immediate then
    while self:_qsize() > 0 do
      self:_get()
      if self._unfinished > 0 then self._unfinished = self._unfinished - 1 end
    end
    if self._unfinished == 0 then self._finished:set() end
  end
  fifo_each_live(self._getters, function(rec) wake_rec(rec, true) end)
  fifo_each_live(self._putters, function(rec) wake_rec(rec, true) end)
end

function Queue:__tostring()
  return ("<%s maxsize=%d qsize=%d>"):format(getmetatable(self).__name,
                                              self.maxsize, self:_qsize())
end

local LifoQueue = Queue:extend("LifoQueue")
M.LifoQueue = LifoQueue
function LifoQueue:_init() self._items, self._n = {}, 0 end
function LifoQueue:_qsize() return self._n end
function LifoQueue:_put(item)
  local n = self._n + 1
  self._n = n
  self._items[n] = item
end
function LifoQueue:_get()
  local n = self._n
  local item = self._items[n]
  self._items[n] = nil
  self._n = n - 1
  return item
end

-- PriorityQueue: smallest first; numbers and strings by <, tables element
-- by element like Python tuples, others by __lt; ties in insertion order
local function less(a, b)
  local ta, tb = type(a), type(b)
  if ta == "table" and tb == "table" and getmetatable(a) == nil and getmetatable(b) == nil then
    local n = math.max(#a, #b)
    for i = 1, n do
      local x, y = a[i], b[i]
      if x == nil then return true end
      if y == nil then return false end
      if x ~= y then return less(x, y) end
    end
    return false
  end
  return a < b
end

local PriorityQueue = Queue:extend("PriorityQueue")
M.PriorityQueue = PriorityQueue
function PriorityQueue:_init() self._heap, self._n, self._seq = {}, 0, 0 end
function PriorityQueue:_qsize() return self._n end
local function before(x, y)
  if less(x[1], y[1]) then return true end
  if less(y[1], x[1]) then return false end
  return x[2] < y[2]
end

-- The heap is changed only after every comparison is made: an item that
-- cannot be compared (a string among numbers, a raising __lt) leaves the
-- queue as it was, as queue.PriorityQueue does. The comparisons run in
-- pcall, and their error is raised without this file's position.
local function compare_error(err)
  if type(err) == "string" then err = err:gsub("^cthreads/[%w_]+%.lua:%d+: ", "") end
  error(err, 0)
end

-- where entry e, added at slot n, ends up going up (comparing only)
local function up_place(heap, n, e)
  local i = n
  while i > 1 do
    local p = i // 2
    if not before(e, heap[p]) then break end
    i = p
  end
  return i
end

-- where 'last' ends up going down from the root of heap[1..n] (comparing
-- only); the path is the ancestors of that slot
local function down_place(heap, n, last)
  local i = 1
  while true do
    local c = 2 * i
    if c > n then break end
    if c < n and before(heap[c + 1], heap[c]) then c = c + 1 end
    if not before(heap[c], last) then break end
    i = c
  end
  return i
end

function PriorityQueue:_put(item)
  local heap = self._heap
  local seq, n = self._seq + 1, self._n + 1
  local e = {item, seq}
  local ok, pos = pcall(up_place, heap, n, e)
  if not ok then compare_error(pos) end
  local i = n
  while i > pos do  -- the parents on the path move down one level
    heap[i] = heap[i // 2]
    i = i // 2
  end
  heap[pos] = e
  self._n, self._seq = n, seq
end

function PriorityQueue:_get()
  local heap, n = self._heap, self._n
  local top, last = heap[1], heap[n]
  local ok, pos = pcall(down_place, heap, n - 1, last)
  if not ok then compare_error(pos) end
  local depth, a = 0, pos
  while a > 1 do a, depth = a // 2, depth + 1 end
  for d = depth - 1, 0, -1 do  -- the path's entries move up, from the top
    local c = pos >> d
    heap[c >> 1] = heap[c]
  end
  heap[n] = nil
  if pos < n then heap[pos] = last end
  self._n = n - 1
  return top[1]
end

-- a method called with '.' instead of ':' (lock.release()) raises a
-- bad-argument error naming it, not an index error inside the library
local guard = class.guard
guard(Event, {"is_set", "isSet", "set", "clear", "wait"})
for _, cls in ipairs{Lock, Semaphore} do
  guard(cls, {"acquire", "release", "locked", "hold", "with"})
end
guard(BoundedSemaphore, {"release"})  -- the rest it inherits, guarded
guard(Condition, {"acquire", "release", "locked", "hold", "with", "wait", "wait_for",
                  "notify", "notify_all"})
guard(Queue, {"qsize", "empty", "full", "put_nowait", "put", "get_nowait", "get",
              "task_done", "join", "shutdown"})
-- a subclass whose init skips its parent's is refused when constructed
for _, cls in ipairs{Event, Lock, Semaphore, BoundedSemaphore, Condition, Queue, LifoQueue,
                     PriorityQueue} do
  class.require_init(cls)
end

end
