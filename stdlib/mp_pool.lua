-- multiprocessing.Pool: worker processes fed from one shared task queue,
-- results coming back on a shared result queue, as Python's Pool.
--
-- Each task has an id. A worker takes a task with queue_get_recorded(..., slots, i),
-- which records the id in its slot of a shared int64 array while unlinking
-- the message, so the task of a worker that dies (killed, os.exit) is known
-- at once. A handler thread in the parent reads the results, runs the
-- callbacks, and every tenth of a second checks the workers: the task of a
-- dead one fails with multiprocessing.ProcessError and a new worker takes
-- its place. Nothing waits forever: terminate() fails the tasks it cancels.

local mp = package.loaded["cthreads.multiprocessing"]
local class = require("cthreads.class")
local threading = require("cthreads.threading")
local native = mp._native
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local unpack, pack = table.unpack, table.pack
local traceback = debug.traceback
local monotonic = threading._time.monotonic
local getpid = os.getpid

local q_put, q_get = native.queue_put, native.queue_get
local q_put_tagged, q_get_recorded = native.queue_put_tagged, native.queue_get_recorded
local list_new, slice, move = native.list_new, native.slice, native.move
local vget, vset = native.value_get, native.value_set

local RUN, CLOSE, TERMINATE = "RUN", "CLOSE", "TERMINATE"
local CHECK_INTERVAL = 0.1

-- ---- the worker (runs in the child) -------------------------------------------

local function capture(err)
  local msg = class.error_text(err)
  return {err = err, tb = traceback(msg, 2)}
end

-- a chunk's results, and their number (the list may hold nils); no 'n'
-- field: adding one to a big list makes Lua rehash it
local function run_chunk(func, items, star, n)
  local out = list_new(n)
  for i = 1, n do
    -- a starmap argument list with holes carries its length (star_args)
    if star then out[i] = (func(unpack(items[i], 1, items[i].n or #items[i])))
    else out[i] = (func(items[i])) end
  end
  return {out, n}
end

-- runs one task of the given kind: true and its results (a packed list for
-- apply, {list, n} for a chunk), or false and the error captured
local function run_task(kind, func, args, n)
  if kind == "apply" then
    return xpcall(function() return pack(func(unpack(args, 1, args.n or #args))) end, capture)
  end
  return xpcall(run_chunk, capture, func, args, kind == "starmap", n)
end

-- a result message: {id, true, values} or {id, false, error, traceback}
local function result_message(id, ok, res)
  if ok then return {id, true, res} end
  return {id, false, res.err, res.tb}
end

local function send_result(resultq, id, ok, res)
  local sent, err = pcall(q_put, resultq, result_message(id, ok, res))
  if not sent then
    -- the value or the error cannot cross: report that instead
    q_put(resultq, {id, false, mp.ProcessError(tostring(err)), tostring(err)})
  end
end

local ORPHAN_CHECK = 1.0  -- seconds between checks that the parent lives
-- A worker's slot holds the id of the task it runs, 0 when idle, and this
-- when it left after taking a sentinel (close): such a worker is done for
-- good, while any other that ends (killed, or retired by maxtasksperchild)
-- is replaced, so that each of the pool's places takes exactly one sentinel.
local LEFT_ON_SENTINEL = -1
-- The slot's mark of a worker whose initializer raised: it is not replaced
-- (its successor would fail the same way, forever); the pool is broken.
local INIT_FAILED = -2
-- the task id of the message that carries the initializer's error
local INIT_ID = 0

-- calls the initializer, if any: true, or false and the error captured
local function call_initializer(initializer, initargs)
  if initializer == nil then return true end
  initargs = initargs or {}
  return xpcall(initializer, capture, unpack(initargs, 1, initargs.n or #initargs))
end

-- runs the initializer; false when it raised, after reporting its error
-- (the worker then leaves quietly: the parent prints the traceback once).
-- The parent reads the slot of dead workers only, so the mark goes first:
-- should the message fail, the worker is still not replaced.
local function run_initializer(resultq, slots, index, initializer, initargs)
  local ok, res = call_initializer(initializer, initargs)
  if ok then return true end
  vset(slots, index, INIT_FAILED)
  send_result(resultq, INIT_ID, false, res)
  return false
end

local function worker(taskq, resultq, slots, index, initializer, initargs, maxtasks)
  -- the pid the parent had before the fork: os.getppid() here would be
  -- init's already if the parent died before this worker ran
  local parent_pid = mp.parent_process().pid
  -- The worker inherited its parent's whole heap: with generational
  -- collection it is marked once, not at every cycle of the worker's churn.
  collectgarbage("generational")
  if not run_initializer(resultq, slots, index, initializer, initargs) then return end
  local done = 0
  while maxtasks == nil or done < maxtasks do
    local got, task = pcall(q_get_recorded, taskq, true, ORPHAN_CHECK, slots, index)
    if not got then
      if task ~= mp.Empty then error(task, 0) end
      if os.getppid() ~= parent_pid then break end  -- the pool's owner died
      goto continue
    end
    if task == nil then  -- the sentinel: say so, or we would be replaced
      vset(slots, index, LEFT_ON_SENTINEL)
      break
    end
    local id = task[1]
    local ok, res = run_task(task[2], task[3], task[4], task[5])
    send_result(resultq, id, ok, res)
    vset(slots, index, 0)
    done = done + 1
    ::continue::
  end
end

-- ---- results ----------------------------------------------------------------------

local AsyncResult = Object:extend("AsyncResult")
mp.AsyncResult = AsyncResult

-- the results are made by the Pool's methods; made by hand, one needs a
-- Pool (and the rest as those pass it), else a bad-argument error here
-- rather than an error deep inside later
local function check_result_args(fname, pool, n)
  if not mp.Pool:is(pool) then
    argerror(1, fname, "Pool expected, got " .. class.typename(pool), 3)
  end
  if n ~= nil and (math.type(n) ~= "integer" or n < 0) then
    argerror(2, fname, "number of items expected (an integer >= 0), got " .. class.typename(n), 3)
  end
end

function AsyncResult:init(pool, callback, error_callback)
  if getmetatable(self) == AsyncResult then check_result_args("AsyncResult", pool) end
  self._pool = pool
  self._event = pool._Event()
  self._callback = callback
  self._error_callback = error_callback
end

function AsyncResult:ready() return self._event:is_set() end

function AsyncResult:wait(timeout)
  class.checktimeout(timeout, 1, "wait")
  return self._event:wait(timeout)
end

function AsyncResult:successful()
  if not self:ready() then error(("%s not ready"):format(tostring(self)), 2) end
  return self._success
end

-- get([timeout]): the results, or raises the task's error, or
-- multiprocessing.TimeoutError
function AsyncResult:get(timeout)
  class.checktimeout(timeout, 1, "get")
  if not self._event:wait(timeout) then error(mp.TimeoutError, 2) end
  if self._success then
    local v = self._value
    return unpack(v, 1, v.n)
  end
  error(self._value, 0)
end

local function report_callback_error(err)
  io.stderr:write("Exception in a Pool callback:\n", tostring(err), "\n")
end

-- claims the right to set the result: true for the first caller only (the
-- handler thread and terminate() may race on a map's chunks)
local function claim(self)
  local lock = self._pool._lock
  lock:acquire()
  local first = not self._claimed
  self._claimed = true
  lock:release()
  return first
end

-- called once, in the parent (the handler thread, or terminate)
function AsyncResult:_set(success, value, tb)
  if not claim(self) then return end
  self._success = success
  self._value = value
  self._traceback = tb
  local cb
  if success then cb = self._callback else cb = self._error_callback end
  if cb then
    local arg = value
    if success then arg = value[1] end  -- the (first) result, or map's list
    local ok, err = xpcall(cb, traceback, arg)
    if not ok then report_callback_error(err) end
  end
  self._event:set()
end

function AsyncResult:__tostring()
  return ("<multiprocessing.pool.%s object at %p>"):format(getmetatable(self).__name, self)
end

-- map_async's result: chunks fill a list
local MapResult = AsyncResult:extend("MapResult")
mp.MapResult = MapResult
function MapResult:init(pool, n, callback, error_callback)
  check_result_args("MapResult", pool, n)
  AsyncResult.init(self, pool, callback, error_callback)
  self._is_map = true
  self._list = list_new(n)  -- a plain list, as Python's (nil results leave holes)
  self._left = 0
end
function MapResult:_chunk(start, ok, values, tb)
  if self._claimed then return end
  if not ok then
    self:_set(false, values, tb)
    return
  end
  move(values[1], values[2], self._list, start)
  local lock = self._pool._lock
  lock:acquire()
  self._left = self._left - 1
  local last = self._left == 0
  lock:release()
  if last then self:_set(true, {self._list, n = 1}) end
end

-- imap's result: an iterator, as Python's: `for v in it do ... end` gives the
-- results (with the input's position as a second value); it:next([timeout]);
-- it:items() for `for i, v in ...`, which a nil result does not end early
local IMapIterator = Object:extend("IMapIterator")
mp.IMapIterator = IMapIterator
function IMapIterator:init(pool, total, ordered)
  check_result_args("IMapIterator", pool, total)
  self._pool = pool
  self._total = total
  self._ordered = ordered
  self._items = {}         -- position -> {ok, value}
  self._order = {}         -- completion order of positions (unordered)
  self._yielded = 0
  self._sem = pool._Semaphore(0)  -- one release per item arrived
  self._taken = 0
end
-- records one item; the caller holds the pool's lock
local function imap_item(self, pos, item)
  self._items[pos] = item
  self._order[#self._order + 1] = pos
end
-- Called by the result thread, and by a caller submitting to a broken pool
-- while that thread fails the pending chunks: the lock keeps _order whole.
function IMapIterator:_chunk(start, ok, values, tb)
  local lock, n = self._pool._lock, 0
  lock:acquire()
  if ok then
    local list = values[1]
    n = values[2]
    for i = 1, n do imap_item(self, start + i - 1, {true, list[i]}) end
  else
    -- a failed chunk: each of its positions raises the error
    n = math.min(self._chunksize or 1, self._total - start + 1)
    for i = 1, n do imap_item(self, start + i - 1, {false, values, tb}) end
  end
  lock:release()
  for _ = 1, n do self._sem:release() end
end
-- next([timeout]) -> value, position; nothing when all were returned
function IMapIterator:next(timeout)
  class.checktimeout(timeout, 1, "next")
  if self._yielded >= self._total then return end
  local pos
  if self._ordered then
    pos = self._yielded + 1
    local deadline = timeout and timeout >= 0 and monotonic() + timeout or nil
    while self._items[pos] == nil do
      local left = deadline and deadline - monotonic()  -- nil: wait forever
      if left and left <= 0 then error(mp.TimeoutError, 2) end
      if not self._sem:acquire(true, left) then error(mp.TimeoutError, 2) end
      self._taken = self._taken + 1
    end
  else
    while self._taken <= self._yielded do
      if not self._sem:acquire(true, timeout) then error(mp.TimeoutError, 2) end
      self._taken = self._taken + 1
    end
    pos = self._order[self._yielded + 1]
  end
  self._yielded = self._yielded + 1
  local item = self._items[pos]
  self._items[pos] = nil
  if not item[1] then error(item[2], 0) end
  return item[2], pos
end
IMapIterator.__next = IMapIterator.next
function IMapIterator:__call()
  return self:next()
end
-- items() -> an iterator of position, value (a nil value does not end it)
function IMapIterator:items()
  return function()
    local v, pos = self:next()
    if pos == nil then return nil end
    return pos, v
  end
end

-- ---- the pool -------------------------------------------------------------------------

local Pool = Object:extend("Pool")
mp.Pool = Pool
Pool._finalize_order = 15  -- before managers, as Python's exit priorities
Pool._title = "Pool"       -- in messages and tostring: ThreadPool's says ThreadPool
-- the classes of an AsyncResult's event and an IMapIterator's semaphore
-- (ThreadPool's are threading's)
Pool._Event, Pool._Semaphore = mp.Event, mp.Semaphore

-- the input (argument #2) as a list and its length: a table, or an
-- iterator function (("1 2"):gmatch("%d+")) read to its end. 'after' is
-- the next argument: a generic-for triple (ipairs(t), pairs(t)) puts its
-- state there, and such an iterator cannot be read without it.
local function to_list(iterable, after, fname)
  local t = type(iterable)
  if t == "table" then  -- read only: no copy needed
    return iterable, iterable.n or #iterable
  elseif t == "function" and (after == nil or type(after) == "number") then
    local list, len = {}, 0
    for v in iterable do
      len = len + 1
      list[len] = v
    end
    return list, len
  elseif t == "function" then
    argerror(2, fname, "table expected, got function", 3)
  end
  argerror(2, fname, "table or iterator expected, got " .. class.typename(iterable), 3)
end

-- chunksize (argument #3): nil or an integer >= 1, as Python's; a huge one
-- is one chunk, so it is cut to the input's length (no bound overflows)
local function check_chunksize(chunksize, len, fname)
  if chunksize == nil then return nil end
  if type(chunksize) ~= "number" then
    argerror(3, fname, "number expected, got " .. class.typename(chunksize), 3)
  end
  if math.type(chunksize) ~= "integer" or chunksize < 1 then
    argerror(3, fname, "chunksize must be a positive integer", 3)
  end
  return math.min(chunksize, math.max(len, 1))
end

local function spawn_worker(self, index)
  local p = mp.Process{
    target = worker,
    args = {self._taskq, self._resultq, self._slots, index, self._initializer,
            self._initargs, self._maxtasks},
    name = "ForkPoolWorker-" .. (self._spawned + 1),
    daemon = true,
  }
  self._spawned = self._spawned + 1
  vset(self._slots, index, 0)
  p:start()
  self._workers[index] = p
end

local handler_loop, result_thread

local POOL_FIELDS = {"processes", "initializer", "initargs", "maxtasksperchild"}
local POOL_FIELD = {}
for i, name in ipairs(POOL_FIELDS) do POOL_FIELD[name] = i end

-- The arguments of constructor 'fname' (the list of field names 'names',
-- and their set 'set': Pool's, or ThreadPool's three) as one table, and
-- the function that raises a bad-argument error about the i-th: in the
-- named form (a plain table alone) that is argument #1 naming the field,
-- as Thread{} and Process{} do
local function pool_options(fname, names, set, ...)
  local first = ...
  if select("#", ...) == 1 and class.is_plain_table(first) then
    class.check_fields(fname, first, set)  -- a misspelt one: an error
    return first, function(i, msg)
      argerror(1, fname, ("field '%s': %s"):format(names[i], msg), 3)
    end
  end
  class.check_count(fname, #names, ...)
  local o = {}
  for i, name in ipairs(names) do o[name] = (select(i, ...)) end
  return o, function(i, msg) argerror(i, fname, msg, 3) end
end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- the type error of an optional argument, or nil
local function type_problem(v, want, ok)
  if v == nil or ok then return nil end
  return ("%s expected, got %s"):format(want, type(v))
end

local MAX_PROCESSES = 1 << 22

-- checks the options; bad(i, msg) raises about the i-th
local function check_pool_options(o, bad)
  local n = o.processes
  if n ~= nil and math.type(n) ~= "integer" then bad(1, "integer expected, got " .. type(n)) end
  if n ~= nil and n < 1 then bad(1, "number of processes must be at least 1") end
  -- more processes than Linux can ever have at once (PID_MAX_LIMIT, 2^22)
  -- is no pool (Pool(math.maxinteger) failed inside, allocating its slots)
  if n ~= nil and n > MAX_PROCESSES then
    bad(1, ("number of processes too large (at most %d)"):format(MAX_PROCESSES))
  end
  local problem = type_problem(o.initializer, "function", callable(o.initializer))
  if problem then bad(2, problem) end
  problem = type_problem(o.initargs, "table", type(o.initargs) == "table")
  if problem then bad(3, problem) end
  local m = o.maxtasksperchild
  if m ~= nil and (math.type(m) ~= "integer" or m < 1) then
    bad(4, "maxtasksperchild must be a positive int or nil")
  end
end

-- the state that Pool and ThreadPool (mp_threadpool.lua) both keep, from
-- the checked options o; returns the number of workers
local function setup(self, o)
  local n = o.processes or mp.cpu_count() or 1
  self._processes = n
  self._initializer = o.initializer
  self._initargs = o.initargs
  self._workers = {}
  self._pending = {}       -- task id -> {result, start}
  self._lock = threading.Lock()
  self._npending = 0
  self._next_id = 0
  self._state = RUN
  self._owner = getpid()
  return n
end

-- Pool([processes=cpu_count()], [initializer], [initargs], [maxtasksperchild])
-- or Pool{processes=, initializer=, initargs=, maxtasksperchild=}
function Pool:init(...)
  local o, bad = pool_options("Pool", POOL_FIELDS, POOL_FIELD, ...)
  check_pool_options(o, bad)
  local n = setup(self, o)
  self._maxtasks = o.maxtasksperchild
  self._taskq = mp.SimpleQueue()
  self._resultq = mp.SimpleQueue()
  self._slots = native.value_new("q", n)
  self._spawned = 0
  for i = 1, n do spawn_worker(self, i) end
  self._handler = threading.Thread{target = result_thread, args = {self}, daemon = true,
                                   name = "PoolResultHandler"}
  self._handler:start()
  mp._finalizers[self] = Pool.terminate
end

function Pool:_check_running()
  if self._state ~= RUN then class.caller_error("Pool not running") end
end

-- gives a task's outcome to its result (a part of it from 'start' for map)
local function finish(result, start, ok, value, tb)
  if start == nil then result:_set(ok, value, tb)
  else result:_chunk(start, ok, value, tb) end
end

-- queues one task for 'result' (whose part starts at 'start')
-- The task table is shared by the callers (submit) and the result thread
-- (complete): '_lock' guards it, never held while user code runs.
-- A broken pool (an initializer raised) fails the task at once.
local function submit(self, result, start, kind, func, args, n)
  local lock = self._lock
  lock:acquire()
  local broken = self._broken
  local id
  if broken == nil then
    self._next_id = self._next_id + 1
    id = self._next_id
    self._pending[id] = {result, start}
    self._npending = self._npending + 1
  end
  lock:release()
  if broken then return finish(result, start, false, broken[1], broken[2]) end
  local ok, err = pcall(self._put_task, self, {id, kind, func, args, n}, id)
  if not ok then
    lock:acquire()
    self._pending[id] = nil
    self._npending = self._npending - 1
    lock:release()
    error(err, 0)
  end
end

-- queues a task message, tagged with its id (taking it records the id in
-- the worker's slot)
function Pool:_put_task(task, id)
  q_put_tagged(self._taskq, task, true, nil, id)
end

local break_pool

local function complete(self, id, ok, value, tb)
  if id == INIT_ID then return break_pool(self, value, tb) end
  local lock = self._lock
  lock:acquire()
  local entry = self._pending[id]
  if entry ~= nil then
    self._pending[id] = nil
    self._npending = self._npending - 1
  end
  lock:release()
  if entry == nil then return end  -- already failed (its worker died)
  finish(entry[1], entry[2], ok, value, tb)
end

-- the pending task ids, taken under the lock
local function pending_ids(self)
  local ids = {}
  self._lock:acquire()
  for id in pairs(self._pending) do ids[#ids + 1] = id end
  self._lock:release()
  return ids
end

-- An initializer raised in a worker (err, traceback tb): the pool is
-- broken. Pending and later tasks fail with the error, and no worker is
-- started again (each would raise the same, forever); the traceback is
-- printed once, however many workers report it.
break_pool = function(self, err, tb)
  local failure = mp.ProcessError(self._title .. " initializer failed: " .. class.error_text(err))
  self._lock:acquire()
  local first = self._broken == nil
  if first then self._broken = {failure, tb} end
  self._lock:release()
  if not first then return end
  io.stderr:write("multiprocessing.pool.", self._title, ": a worker's initializer failed:\n",
                  tb or class.error_text(err), "\n")
  io.stderr:flush()
  for _, id in ipairs(pending_ids(self)) do complete(self, id, false, failure, tb) end
end

-- the results already in the queue
local function drain(self)
  while not self._resultq:empty() do
    local ok, msg = pcall(q_get, self._resultq, false)
    if not ok then break end
    complete(self, msg[1], msg[2], msg[3], msg[4])
  end
end

-- whether the worker that left place i (its slot's last value 'id') gets
-- a successor: not after a sentinel, a failed initializer, or terminate
local function replaced(self, id)
  return id ~= LEFT_ON_SENTINEL and id ~= INIT_FAILED and self._state ~= TERMINATE
         and self._broken == nil
end

-- dead workers: fail their task, start another in their place
local function maintain(self)
  local dead = {}
  for i, p in pairs(self._workers) do
    if p.exitcode ~= nil then dead[#dead + 1] = i end
  end
  for _, i in ipairs(dead) do
    local code = self._workers[i].exitcode
    local id = vget(self._slots, i)
    if id > 0 then
      drain(self)  -- its result may be in the queue already: read it first
      complete(self, id, false, mp.ProcessError(
        ("a worker process died (exitcode %d) while running the task"):format(code)),
        nil)
      vset(self._slots, i, 0)
    elseif id == INIT_FAILED then
      drain(self)  -- the initializer's error, sent before the worker left
      if self._broken == nil then break_pool(self, "the initializer failed", nil) end
    end
    self._workers[i] = nil
    if replaced(self, id) then spawn_worker(self, i) end
  end
end

handler_loop = function(self)
  local last = monotonic()
  while true do
    local ok, msg = pcall(q_get, self._resultq, true, CHECK_INTERVAL)
    if ok then complete(self, msg[1], msg[2], msg[3], msg[4])
    elseif msg ~= mp.Empty then
      io.stderr:write("multiprocessing.Pool: cannot read a result: ", tostring(msg), "\n")
    end
    if self._state == TERMINATE then break end
    local now = monotonic()
    if not ok or now - last >= CHECK_INTERVAL then
      last = now
      maintain(self)
      if self._state == CLOSE and next(self._workers) == nil then
        drain(self)
        break
      end
    end
  end
end

-- the result thread's body. Its end is marked: the pool is garbage only
-- once the thread has ended (the thread holds it), and then its finalizer
-- has nothing to stop and must not join the thread, whose handle may have
-- been finalized first in the same collection.
result_thread = function(self)
  local ok, err = pcall(handler_loop, self)
  self._handler_done = true
  if not ok then error(err, 0) end
end

-- apply_async(func, [args], [callback], [error_callback]) or
-- apply_async{func=, args=, kwds=, callback=, error_callback=}
function Pool:apply_async(func, args, callback, error_callback)
  local kwds
  if type(func) == "table" and getmetatable(func) == nil and args == nil then
    local o = func
    func, args, kwds, callback, error_callback =
      o.func or o[1], o.args, o.kwds, o.callback, o.error_callback
  end
  checktype(func, "function", 1, "apply_async")
  checktype(args, "table", 2, "apply_async", true)
  checktype(callback, "function", 3, "apply_async", true)
  checktype(error_callback, "function", 4, "apply_async", true)
  self:_check_running()
  args = args or {}
  local a = {unpack(args, 1, args.n or #args)}
  a.n = args.n or #args
  if kwds ~= nil then a.n = a.n + 1; a[a.n] = kwds end
  local result = AsyncResult(self, callback, error_callback)
  submit(self, result, nil, "apply", func, a)
  return result
end

function Pool:apply(func, args, kwds)
  if type(func) == "table" and getmetatable(func) == nil and args == nil then
    return self:apply_async(func):get()
  end
  -- checked here too, so that the error names 'apply' and the caller's line
  checktype(func, "function", 1, "apply")
  checktype(args, "table", 2, "apply", true)
  return self:apply_async{func = func, args = args, kwds = kwds}:get()
end

local function default_chunksize(self, len)
  local chunksize, extra = len // (self._processes * 4), len % (self._processes * 4)
  if extra > 0 then chunksize = chunksize + 1 end
  return chunksize
end

-- starmap's argument lists, checked, their lengths counted as apply counts
-- them (args.n or #args) in the caller's process: a list with holes ({1,
-- nil, 3}) need not have the same border once copied to the worker, so
-- such a list is sent as a copy with its length in 'n'
local function star_args(list, len, fname)
  local out
  for i = 1, len do
    local args = list[i]
    if type(args) ~= "table" then
      argerror(2, fname, ("element %d: table of arguments expected, got %s")
                         :format(i, class.typename(args)), 3)
    end
    if args.n == nil then
      local n = #args
      for j = n - 1, 1, -1 do
        if args[j] == nil then
          if out == nil then out = table.move(list, 1, len, 1, {}) end  -- the caller's stays
          local a = table.move(args, 1, n, 1, {})
          a.n = n
          out[i] = a
          break
        end
      end
    end
  end
  return out or list
end

local function map_async(self, fname, kind, func, iterable, chunksize, callback, error_callback)
  checktype(func, "function", 1, fname)
  local list, len = to_list(iterable, chunksize, fname)
  if kind == "starmap" then list = star_args(list, len, fname) end
  chunksize = check_chunksize(chunksize, len, fname)
  checktype(callback, "function", 4, fname, true)
  checktype(error_callback, "function", 5, fname, true)
  self:_check_running()
  chunksize = chunksize or default_chunksize(self, len)
  local result = MapResult(self, len, callback, error_callback)
  if len == 0 then
    result:_set(true, {{}, n = 1})
    return result
  end
  local nchunks = (len + chunksize - 1) // chunksize
  result._left = nchunks
  for c = 0, nchunks - 1 do
    local start = c * chunksize + 1
    local stop = math.min(start + chunksize - 1, len)
    submit(self, result, start, kind, func, slice(list, start, stop), stop - start + 1)
  end
  return result
end

function Pool:map_async(func, iterable, chunksize, callback, error_callback)
  return map_async(self, "map_async", "map", func, iterable, chunksize, callback, error_callback)
end

function Pool:map(func, iterable, chunksize)
  return (map_async(self, "map", "map", func, iterable, chunksize):get())
end

function Pool:starmap_async(func, iterable, chunksize, callback, error_callback)
  return map_async(self, "starmap_async", "starmap", func, iterable, chunksize,
                   callback, error_callback)
end

function Pool:starmap(func, iterable, chunksize)
  return (map_async(self, "starmap", "starmap", func, iterable, chunksize):get())
end

local function imap(self, fname, func, iterable, chunksize, ordered)
  checktype(func, "function", 1, fname)
  local list, len = to_list(iterable, chunksize, fname)
  chunksize = check_chunksize(chunksize, len, fname)
  self:_check_running()
  chunksize = chunksize or 1
  local it = IMapIterator(self, len, ordered)
  it._chunksize = chunksize
  for start = 1, len, chunksize do
    local stop = math.min(start + chunksize - 1, len)
    submit(self, it, start, "map", func, slice(list, start, stop), stop - start + 1)
  end
  return it
end

-- imap(func, iterable, [chunksize=1]) -> iterator of position, value in order
function Pool:imap(func, iterable, chunksize)
  return imap(self, "imap", func, iterable, chunksize, true)
end

-- imap_unordered: the same, in the order the results arrive
function Pool:imap_unordered(func, iterable, chunksize)
  return imap(self, "imap_unordered", func, iterable, chunksize, false)
end

-- close(): no more tasks; the workers leave once the queued ones are done
function Pool:close()
  if self._state == RUN then
    self._state = CLOSE
    -- the sentinels carry the mark as their tag: taking one sets the slot
    for _ = 1, self._processes do self:_put_task(nil, LEFT_ON_SENTINEL) end
  end
end

-- waits for the result thread, unless this is it or it has ended
local function join_handler(self)
  local h = self._handler
  if h and not self._handler_done and h ~= threading.current_thread() then h:join() end
end

-- terminate(): stops the workers now; unfinished tasks fail

function Pool:terminate()
  if self._owner ~= getpid() then return end
  mp._finalizers[self] = nil
  -- Once the result thread has ended with every worker gone, there is
  -- nothing to stop; nor may the thread, the lock or the queues be used:
  -- at exit, or when the pool is garbage, they may be finalized already.
  if self._handler_done and next(self._workers) == nil then
    self._state = TERMINATE
    return
  end
  if self._state ~= TERMINATE then
    self._state = TERMINATE
    for _, p in pairs(self._workers) do
      if p.exitcode == nil then pcall(p.terminate, p) end
    end
  end
  join_handler(self)
  for _, p in pairs(self._workers) do pcall(p.join, p) end
  self._workers = {}
  for _, id in ipairs(pending_ids(self)) do
    complete(self, id, false, mp.ProcessError("the pool was terminated before the task finished"))
  end
end

-- join(): after close() or terminate(), waits for the workers to leave
function Pool:join()
  if self._state == RUN then error("Pool is still running", 2) end
  join_handler(self)
  for _, p in pairs(self._workers) do pcall(p.join, p) end
end

Pool.__close = function(self) self:terminate() end
Pool.__gc = function(self)
  if rawget(self, "_owner") == getpid() and rawget(self, "_state") ~= TERMINATE
     and not rawget(self, "_handler_done") then
    pcall(getmetatable(self).terminate, self)  -- Pool's, or ThreadPool's
  end
end

function Pool:__tostring()
  return ("<multiprocessing.pool.%s state=%s pool_size=%d>"):format(
    self._title, tostring(self._state), self._processes or 0)
end

-- Lua-side methods called with '.' instead of ':' (pool.close()) raise a
-- bad-argument error naming the method
class.guard(AsyncResult, {"ready", "wait", "successful", "get"})
class.guard(IMapIterator, {"next", "items"})
class.guard(Pool, {"apply", "apply_async", "map", "map_async", "starmap", "starmap_async",
                   "imap", "imap_unordered", "close", "terminate", "join"})
-- a subclass whose init skips Pool.init is refused when constructed
class.require_init(Pool)

-- Python's module multiprocessing.pool (ThreadPool is added by
-- mp_threadpool.lua); ApplyResult is AsyncResult's own name there
mp.pool = {Pool = Pool, AsyncResult = AsyncResult, ApplyResult = AsyncResult,
           MapResult = MapResult, IMapIterator = IMapIterator, TimeoutError = mp.TimeoutError}

-- the pieces that ThreadPool (mp_threadpool.lua) shares
return {
  Pool = Pool, TERMINATE = TERMINATE, INIT_ID = INIT_ID,
  run_task = run_task, result_message = result_message, call_initializer = call_initializer,
  pool_options = pool_options, check_pool_options = check_pool_options, setup = setup,
  complete = complete,
}
