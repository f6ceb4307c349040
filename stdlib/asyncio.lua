-- The asyncio module: an event loop on Lua coroutines, after Python's
-- asyncio (see API.md). A task is a function run as a coroutine; inside it,
-- asyncio.sleep, task:join(), queue:get() and friends suspend the task (a
-- coroutine.yield to the loop) until what they wait for happens.
--
-- This file has the tasks, the loop's rounds and the functions that wait;
-- the synchronisation primitives are in asyncio_sync.lua, the streams in
-- asyncio_streams.lua. The native half (bindings/ct_aio_*.c) resumes the
-- ready tasks (the common case of a switch, calling back here for the
-- rest), keeps the timers in a heap, waits on epoll (detached, so other
-- threads run) and owns the nonblocking sockets. Every thread may run its
-- own loop: all state is per loop, and the loop running in each thread is
-- looked up by thread ident.

local native = require("cthreads.native.asyncio")
local class = require("cthreads.class")
local threading = require("cthreads.threading")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local co_create, co_yield = coroutine.create, coroutine.yield
local co_running, co_close = coroutine.running, coroutine.close
local pack, unpack = table.pack, table.unpack
local rawget, select = rawget, select
local traceback = debug.traceback
local get_ident = threading.get_ident

local M = {}

-- ---- error kinds ------------------------------------------------------------

M.CancelledError = class.error_kind("asyncio.CancelledError")
M.TimeoutError = class.error_kind("asyncio.TimeoutError")
M.InvalidStateError = class.error_kind("asyncio.InvalidStateError")
M.IncompleteReadError = class.error_kind("asyncio.IncompleteReadError")
M.QueueEmpty = class.error_kind("asyncio.QueueEmpty")
M.QueueFull = class.error_kind("asyncio.QueueFull")
M.QueueShutDown = class.error_kind("asyncio.QueueShutDown")
local CancelledError = M.CancelledError

local function is_cancelled_error(e)
  return CancelledError:is(e)
end

-- ---- per-thread state ---------------------------------------------------------

local running_loop = {}  -- thread ident -> the loop running in that thread
local default_loop = {}  -- thread ident -> the loop get_event_loop() returns
local thread_pools = {}  -- thread ident -> idle task coroutines, {n = count}
-- the task whose coroutine is running, or nil (kept by the native
-- scheduler, bindings/ct_aio_sched.c, which resumes every task)
local running_task = native.current_task
local resume_task = native.resume_task

-- markers passed through coroutine.yield / resume
local WAIT = setmetatable({}, {__name = "asyncio wait"})      -- task arranged its wake-up
local DONE = setmetatable({}, {__name = "asyncio done"})      -- task function returned
local CANCEL = setmetatable({}, {__name = "asyncio cancel"})  -- raise CancelledError
local HANDLE = setmetatable({}, {__name = "asyncio handle"})  -- ready entry is a callback

-- Task states. READY covers both "queued to run" and "running";
-- CANCELLING is READY with a cancel() pending, which the task's next
-- resumption raises as CancelledError where it is suspended.
local PENDING, READY, CANCELLING, WAITING, FINISHED =
  "pending", "ready", "cancelling", "waiting", "finished"

local NOVALUES = pack()  -- shared: no arguments, no results
local FAILED = pack()    -- the _vals of a task that ended with an error
local ONE_NIL = pack(nil)  -- shared: the results of a function returning nil
local POOL_MAX = 1024    -- idle coroutines a thread keeps for new tasks

local function report(text)
  io.stderr:write(text, "\n")
end

local error_text = class.error_text

-- ---- tasks --------------------------------------------------------------------
-- A task table holds its loop, its coroutine (from its first run on), the
-- function and its arguments (then its results: _vals), its state, and
-- what to undo if it is cancelled while waiting (_undo, _undo_arg). Done
-- callbacks live in the task's array part as fn, arg pairs, so waiting on
-- a task allocates nothing.

-- Class(...) for a class whose objects only the library makes (Task,
-- Server, the streams): a clear error rather than an object that breaks
-- later, in tostring or in its first method
local function made_by(cls, how)
  local msg = ("asyncio.%s cannot be constructed directly; use %s"):format(
    rawget(cls, "__name"), how)
  cls.init = function() class.caller_error(msg) end
end

local Task = Object:extend("Task")
M.Task = Task
Task._cancel_msg = false
Task._cancelled = false
made_by(Task, "asyncio.create_task(f, ...) or loop:create_task(f, ...)")
local task_count = 0

-- The ready queue is one array of pairs: an entry (a task, or a callback
-- handle), then the value to resume the task with (false: nothing; CANCEL;
-- HANDLE for a callback). _rq_n counts slots, two per pair.
local function push_ready(loop, entry, value)
  local n = loop._rq_n + 2
  loop._rq_n = n
  local rq = loop._rq
  rq[n - 1] = entry
  rq[n] = value
end

-- wakes a waiting task: it resumes in the loop's next round
local function wake(task)
  if task._state == WAITING then
    task._state = READY
    local loop = task._loop
    local n = loop._rq_n + 2
    loop._rq_n = n
    local rq = loop._rq
    rq[n - 1] = task
    rq[n] = false
  end
end

-- raises "'what' called outside a task" at the script's line that called
-- into the library, however deep inside it this is noticed (wait_for
-- calling wait); 'level' only where a native frame stands between (sleep)
local function outside(what, level)
  local _, ismain = co_running()
  -- a thread's body (a to_thread worker) is not a coroutine to the script
  local where = (ismain or not coroutine.isyieldable()) and ""
                or " (in a coroutine that is not an asyncio task)"
  local msg = what .. " called outside a task" .. where ..
              "; start one with asyncio.run(f) or loop:run_until_complete(f)"
  if level then error(msg, level + 1) end
  class.caller_error(msg)
end

-- the task this coroutine runs, or an error saying 'what' needs one
local function current(what)
  local t = running_task()
  if t == nil then outside(what) end
  return t
end

-- suspends 'task' until something wakes it; undo(task, arg) is called if
-- it is cancelled meanwhile, to take back whatever was registered
local function suspend(task, undo, arg)
  task._undo, task._undo_arg = undo, arg
  return co_yield(WAIT)
end

local function raise_cancelled(task)
  local msg = task._cancel_msg
  if msg then
    task._cancel_msg = false
    error(CancelledError(msg), 0)
  end
  error(CancelledError, 0)
end

local function nothing_to_undo() end

-- done callbacks: fn(task, arg) when the task ends; arg is never nil
-- (rawget: a missing index would go through the class's __index chain)
local function add_cb(task, fn, arg)
  local i = 1
  while rawget(task, i) ~= nil do i = i + 2 end
  task[i], task[i + 1] = fn, arg
end

local function remove_cb(task, fn, arg)
  local i = 1
  while rawget(task, i) ~= nil do
    if task[i] == fn and task[i + 1] == arg then
      task[i] = false
      return
    end
    i = i + 2
  end
end

local function finish(loop, task)
  task._state = FINISHED
  loop._tasks[task] = nil
  local i = 1
  local fn = rawget(task, 1)
  while fn ~= nil do
    local arg = task[i + 1]
    task[i], task[i + 1] = nil, nil
    if fn then fn(task, arg) end
    i = i + 2
    fn = rawget(task, i)
  end
end

local function set_error(loop, task, err, tb)
  task._vals, task._error, task._tb = FAILED, err, tb
  if CancelledError:is(err) then
    task._cancelled = true
  else
    loop._failed[task] = true  -- until someone retrieves it
  end
  finish(loop, task)
end

local function retrieved(task)
  task._loop._failed[task] = nil
end

local function finish_ok(loop, task, vals)
  local co = task._co
  task._co = false
  local pool = loop._pool
  local n = pool.n
  if n < POOL_MAX then  -- the coroutine waits in body() for its next task
    n = n + 1
    pool.n = n
    pool[n] = co
  end
  task._vals = vals
  finish(loop, task)
end

local function fail(loop, task, err)
  local co = task._co
  local tb
  if not CancelledError:is(err) then tb = traceback(co, error_text(err)) end
  co_close(co)  -- runs its pending to-be-closed variables
  task._co = false
  set_error(loop, task, err, tb)
end

local function after_step(loop, task, ok, tag, vals)
  if tag == WAIT then
    if task._state == CANCELLING then  -- cancelled while it ran
      task._undo(task, task._undo_arg)
      task._state = READY
      push_ready(loop, task, CANCEL)
    else
      task._state = WAITING
    end
  elseif ok then
    if tag == DONE then
      finish_ok(loop, task, vals)
    else  -- a bare coroutine.yield() in the task: let the others run
      local n = loop._rq_n + 2
      loop._rq_n = n
      local rq = loop._rq
      rq[n - 1] = task
      rq[n] = false
    end
  else
    fail(loop, task, tag)
  end
end

local function results(...)
  local n = select("#", ...)
  if n == 0 then return NOVALUES end
  if n == 1 and ... == nil then return ONE_NIL end
  return pack(...)
end

-- every task coroutine runs this; when a task's function returns, the
-- coroutine yields DONE with its results and waits for the next function
local function body(f, ...)
  return body(co_yield(DONE, results(f(...))))
end

local function cancelled_value(task)
  local msg = task._cancel_msg
  return msg and CancelledError(msg) or CancelledError
end

local function start(loop, task)
  local f = task._fn
  task._fn = false
  local co
  local pool = loop._pool
  local n = pool.n
  if n > 0 then
    co = pool[n]
    pool[n] = nil
    pool.n = n - 1
  else
    co = co_create(body)
  end
  task._co = co
  local args = task._vals
  task._vals = NOVALUES
  return after_step(loop, task, resume_task(task, co, f, unpack(args, 1, args.n)))
end

-- The native run_batch resumes READY tasks itself and calls these for the
-- rest: a task's first run, a pending cancellation, a task's end.
local function slow_step(loop, task, value)
  local state = task._state
  if state == PENDING then
    task._state = READY
    return start(loop, task)
  elseif state == CANCELLING then
    task._state = READY
    if task._fn then  -- cancelled before it started: never runs
      task._fn = false
      return set_error(loop, task, cancelled_value(task), nil)
    end
    return after_step(loop, task, resume_task(task, task._co, CANCEL))
  end
end

local function wait_cancelled(loop, task)  -- it suspended, but was cancelled
  task._undo(task, task._undo_arg)
  task._state = READY
  push_ready(loop, task, CANCEL)
end

local run_batch  -- the native scheduler, set up below

local function new_task(loop, f, ...)
  if loop._closed then class.caller_error("Event loop is closed") end
  task_count = task_count + 1
  local task = setmetatable({
    nil, nil,  -- room in the array part for a first done callback
    _loop = loop, _fn = f, _vals = select("#", ...) == 0 and NOVALUES or pack(...),
    _state = PENDING, _id = task_count, _co = false,
    _undo = nothing_to_undo, _undo_arg = false,
  }, Task)
  loop._tasks[task] = true
  local n = loop._rq_n + 2
  loop._rq_n = n
  local rq = loop._rq
  rq[n - 1] = task
  rq[n] = false
  return task
end

function Task:done()
  return self._state == FINISHED
end

function Task:cancelled()
  return self._cancelled
end

-- cancel([msg]) -> false if the task has already ended
function Task:cancel(msg)
  local state = self._state
  if state == FINISHED then return false end
  if msg ~= nil then self._cancel_msg = msg end
  if state == WAITING then
    self._undo(self, self._undo_arg)
    self._state = READY
    push_ready(self._loop, self, CANCEL)
  else
    self._state = CANCELLING
  end
  return true
end

-- result() -> the function's results; raises its error, CancelledError if
-- it was cancelled, InvalidStateError if it has not ended
function Task:result()
  if self._state ~= FINISHED then
    error(M.InvalidStateError("Result is not set."), 2)
  end
  if self._vals == FAILED then
    retrieved(self)
    error(self._error, 0)
  end
  local r = self._vals
  return unpack(r, 1, r.n)
end

-- exception() -> the error the task ended with, or nil
function Task:exception()
  if self._state ~= FINISHED then
    error(M.InvalidStateError("Exception is not set."), 2)
  end
  if self._cancelled then error(self._error, 0) end
  retrieved(self)
  return self._error
end

local function wake_waiter(_, waiter) wake(waiter) end
local function stop_waiting(me, task) remove_cb(task, wake_waiter, me) end

-- waits, inside a task, until 'task' has ended
local function wait_done(me, task, what)
  if task._state == FINISHED then return end
  if task == me then class.caller_error("a task cannot " .. what .. " itself") end
  if task._loop ~= me._loop then
    class.caller_error("the task belongs to a different event loop")
  end
  add_cb(task, wake_waiter, me)
  if suspend(me, stop_waiting, task) == CANCEL then raise_cancelled(me) end
end

-- join() -> the task's results, waiting for it to end (Python's await task)
function Task:join()
  if self._state ~= FINISHED then
    local me = running_task()
    if me == nil then outside("task:join()") end
    wait_done(me, self, "join")
  end
  return self:result()
end

local function call_soon_cb(task, fn) task._loop:call_soon(fn, task) end

function Task:add_done_callback(fn)
  checktype(fn, "function", 1, "add_done_callback")
  if self._state == FINISHED then
    self._loop:call_soon(fn, self)
  else
    add_cb(self, call_soon_cb, fn)
  end
end

function Task:get_name()
  return self._name or ("Task-%s"):format(self._id or "?")
end

function Task:set_name(name)
  self._name = tostring(name)
end

function Task:get_loop()
  return self._loop
end

-- never raises, even for a table made a Task by hand
function Task:__tostring()
  local state = self._state or "?"
  if state == FINISHED then
    state = self._cancelled and "cancelled" or (self._vals == FAILED and "failed" or "finished")
  elseif state == CANCELLING then
    state = "ready"
  end
  return ("<Task %s %s>"):format(state, self:get_name())
end

-- Python's await: a task is joined, a function is called in this task
function M.await(x, ...)
  local me = running_task()
  if me == nil then outside("asyncio.await") end
  if getmetatable(x) == Task or Task:is(x) then return x:join() end
  checktype(x, "function", 1, "await")
  return x(...)
end

-- ---- callbacks --------------------------------------------------------------

local Handle = Object:extend("TimerHandle")
M.Handle = Handle

local function new_handle(loop, f, ...)
  return setmetatable({_loop = loop, _fn = f, _args = pack(...),
                       _cancelled = false, _timer = false}, Handle)
end

function Handle:cancel()
  if self._cancelled then return end
  self._cancelled = true
  local id = self._timer
  if id then
    self._timer = false
    local loop = self._loop
    loop._timers[id] = nil
    if not loop._closed then loop._h:timer_cancel(id) end
  end
end

function Handle:cancelled() return self._cancelled end
function Handle:when() return self._when end

local function run_handle(h)
  if h._cancelled then return end
  local args = h._args
  local ok, err = xpcall(h._fn, traceback, unpack(args, 1, args.n))
  if not ok then report("asyncio: exception in callback:\n" .. error_text(err)) end
end

local function fire_handle(h)
  h._timer = false
  push_ready(h._loop, h, HANDLE)
end

-- ---- the event loop ---------------------------------------------------------

local Loop = Object:extend("EventLoop")
M.EventLoop = Loop

function Loop:init()
  self._h = native.new_loop()
  self._rq, self._rq_n = {}, 0  -- ready queue (see push_ready)
  self._pool = false   -- the running thread's pool of idle coroutines
  self._spare = {}     -- the other ready array, swapped each round
  self._timers = {}   -- timer id -> task to wake, or a plain {fn, arg}
  self._posted = {}   -- id posted by a thread -> {fn, arg}
  self._nthreads = 0  -- to_thread calls not yet back
  self._socks = setmetatable({}, {__mode = "v"})  -- socket id -> socket
  self._tasks = {}     -- tasks not yet ended
  self._failed = {}   -- tasks that failed, error not yet retrieved
  self._io_out, self._tm_out, self._po_out = {}, {}, {}
  self._running, self._stopping, self._closed = false, false, false
end

local function check_open(loop)
  if loop._closed then class.caller_error("Event loop is closed") end
end

-- The loop would wait with nothing that could end the wait (no timer, no
-- task waiting on a socket or a thread) but some other thread calling in.
-- Without other threads, and with a main task to finish, that is a
-- deadlock: an error rather than a hang.
local function deadlock_check(loop)
  if loop._main == nil then return end
  if threading.active_count() > 1 then return end  -- a thread may still call in
  if loop._h:has_posted() then return end  -- one did, then ended
  error("asyncio: deadlock: every task is waiting and no timer, socket or " ..
        "thread can wake one (" .. loop._main:get_name() .. " can never finish)", 0)
end

-- one round: wait for I/O and timers (not at all if tasks are ready), then
-- run every task and callback that was ready when the round began
local function run_once(loop)
  local h = loop._h
  local io_out, tm_out, po_out = loop._io_out, loop._tm_out, loop._po_out
  local nio, ntm, npo = h:poll(loop._rq_n == 0 and not loop._stopping,
                               io_out, tm_out, po_out)
  if nio < 0 then  -- it would wait forever
    deadlock_check(loop)
    nio, ntm, npo = h:poll(2, io_out, tm_out, po_out)
  end
  for i = 1, nio do wake(io_out[i]) end
  if ntm > 0 then
    local timers = loop._timers
    for i = 1, ntm do
      local id = tm_out[i]
      local x = timers[id]
      if x then
        timers[id] = nil
        if rawget(x, "_state") then wake(x) else x[1](x[2]) end
      end
    end
  end
  if npo > 0 then
    local posted = loop._posted
    for i = 1, npo do
      local id = po_out[i]
      local rec = posted[id]
      if rec then
        posted[id] = nil
        rec[1](rec[2])
      end
    end
  end
  local n = loop._rq_n
  if n == 0 then return end
  local rq = loop._rq
  loop._rq, loop._rq_n = loop._spare, 0
  run_batch(loop, rq, n)
  loop._spare = rq
end

local function report_failed(loop)
  local list = {}
  for t in pairs(loop._failed) do list[#list + 1] = t end
  table.sort(list, function(a, b) return a._id < b._id end)
  for _, t in ipairs(list) do
    loop._failed[t] = nil
    report(("Task exception was never retrieved: %s\n%s"):format(
      t:get_name(), t._tb or error_text(t._error)))
  end
end

local function run_rounds(loop)
  repeat run_once(loop) until loop._stopping
end

local function check_can_run(loop, level)
  if loop._closed then error("Event loop is closed", level + 1) end
  if loop._running then error("This event loop is already running", level + 1) end
  if running_loop[get_ident()] then
    error("Cannot run the event loop while another loop is running", level + 1)
  end
end

-- runs rounds until stop(); errors of the loop itself (Ctrl-C, a deadlock)
-- propagate after the loop is marked idle again
local function run(loop)
  local me = get_ident()
  loop._running, loop._thread = true, me
  local pool = thread_pools[me]
  if pool == nil then
    pool = {n = 0}
    thread_pools[me] = pool
  end
  loop._pool = pool
  running_loop[me] = loop
  local ok, err = pcall(run_rounds, loop)
  loop._running, loop._stopping, loop._thread = false, false, nil
  running_loop[me] = nil
  if not ok then error(err, 0) end
end

local function stop_loop(_, loop) loop._stopping = true end

function Loop:run_until_complete(f, ...)
  check_can_run(self, 2)
  local task
  if getmetatable(f) == Task or Task:is(f) then
    if f._loop ~= self then argerror(1, "run_until_complete", "task of another loop") end
    task = f
  else
    checktype(f, "function", 1, "run_until_complete")
    task = new_task(self, f, ...)
  end
  if task._state ~= FINISHED then
    add_cb(task, stop_loop, self)
    local prev = self._main
    self._main = task
    local ok, err = pcall(run, self)
    self._main = prev
    remove_cb(task, stop_loop, self)
    if not ok then error(err, 0) end
    if task._state ~= FINISHED then
      error("Event loop stopped before the task completed", 2)
    end
  end
  return task:result()
end

function Loop:run_forever()
  check_can_run(self, 2)
  run(self)
end

function Loop:stop()
  self._stopping = true
end

function Loop:is_running() return self._running end
function Loop:is_closed() return self._closed end
function Loop:time() return self._h:time() end

function Loop:create_task(f, ...)
  checktype(f, "function", 1, "create_task")
  return new_task(self, f, ...)
end

function Loop:call_soon(f, ...)
  checktype(f, "function", 1, "call_soon")
  check_open(self)
  local h = new_handle(self, f, ...)
  push_ready(self, h, HANDLE)
  return h
end

local function timer_handle(loop, id, when, h)
  h._timer, h._when = id, when
  loop._timers[id] = {fire_handle, h}
  return h
end

-- a number of seconds, not NaN: a NaN delay would fire at once, and a
-- NaN deadline would break the order of the loop's timer heap
local function checkseconds(v, n, fname, what)
  checktype(v, "number", n, fname)
  if v ~= v then argerror(n, fname, what .. " must be a number, not nan", 3) end
  return v
end

-- call_later(delay, f, ...): delay in seconds
function Loop:call_later(delay, f, ...)
  checkseconds(delay, 1, "call_later", "delay")
  checktype(f, "function", 2, "call_later")
  check_open(self)
  local id = self._h:timer_after(delay)
  return timer_handle(self, id, self._h:time() + delay, new_handle(self, f, ...))
end

-- call_at(when, f, ...): 'when' on the loop:time() clock
function Loop:call_at(when, f, ...)
  checkseconds(when, 1, "call_at", "when")
  checktype(f, "function", 2, "call_at")
  check_open(self)
  return timer_handle(self, self._h:timer_at(when), when, new_handle(self, f, ...))
end

-- call_soon_threadsafe(f, ...): from any thread; f runs on the loop's thread
function Loop:call_soon_threadsafe(f, ...)
  checktype(f, "function", 1, "call_soon_threadsafe")
  check_open(self)
  local h = new_handle(self, f, ...)
  local id = self._h:post_id()
  self._posted[id] = {run_handle, h}
  if not native.post(self._h, id) then self._posted[id] = nil end
  return h
end

-- close(): ends what is still pending (their to-be-closed variables run),
-- closes the sockets and the native loop
function Loop:close()
  if self._running then error("Cannot close a running event loop", 2) end
  if self._closed then return end
  self._closed = true
  for t in pairs(self._tasks) do
    if t._co then pcall(co_close, t._co) end
  end
  for _, s in pairs(self._socks) do s:abort() end  -- (their waiters end with the loop)
  report_failed(self)
  self._h:close()
  for ident, l in pairs(default_loop) do
    if l == self then default_loop[ident] = nil end
  end
end

function Loop:__close() self:close() end

function Loop:__tostring()
  return ("<EventLoop running=%s closed=%s>"):format(self._running, self._closed)
end

-- ---- loops per thread ----------------------------------------------------------

function M.new_event_loop() return Loop() end

-- the running loop of this thread, else its current one (made on demand)
function M.get_event_loop()
  local me = get_ident()
  local l = running_loop[me]
  if l then return l end
  l = default_loop[me]
  if l == nil or l._closed then
    l = Loop()
    default_loop[me] = l
  end
  return l
end

function M.set_event_loop(loop)
  if loop ~= nil and not Loop:is(loop) then
    argerror(1, "set_event_loop", "event loop expected, got " .. type(loop))
  end
  default_loop[get_ident()] = loop
end

function M.get_running_loop()
  local l = running_loop[get_ident()]
  if l == nil then error("no running event loop", 2) end
  return l
end

-- the loop for new tasks and servers: the caller's task's, the running
-- one, or this thread's current one
local function here()
  local t = running_task()
  if t then return t._loop end
  return M.get_event_loop()
end

-- an optional loop argument: a bad-argument error, not one deep inside
local function optloop(loop, fname)
  if loop ~= nil and not Loop:is(loop) then
    argerror(1, fname, "EventLoop expected, got " .. class.typename(loop), 3)
  end
  return loop
end

-- current_task([loop]) -> the running task (nil if it is not loop's)
function M.current_task(loop)
  optloop(loop, "current_task")
  local t = running_task()
  if t and loop and t._loop ~= loop then return nil end
  return t
end

function M.all_tasks(loop)
  loop = optloop(loop, "all_tasks") or here()
  local list = {}
  for t in pairs(loop._tasks) do list[#list + 1] = t end
  table.sort(list, function(a, b) return a._id < b._id end)
  return list
end

function M.create_task(f, ...)
  checktype(f, "function", 1, "create_task")
  return new_task(here(), f, ...)
end
M.spawn = M.create_task
M.ensure_future = function(x, ...)
  if getmetatable(x) == Task or Task:is(x) then return x end
  checktype(x, "function", 1, "ensure_future")
  return new_task(here(), x, ...)
end

-- cancels what is left and lets it finish (asyncio.run's clean-up)
local function cancel_all(loop)
  local left = M.all_tasks(loop)
  if #left == 0 then return end
  for _, t in ipairs(left) do t:cancel() end
  local main = new_task(loop, function()
    for _, t in ipairs(left) do
      if t._state ~= FINISHED then wait_done(running_task(), t, "join") end
    end
  end)
  loop:run_until_complete(main)
  for _, t in ipairs(left) do
    if t._state == FINISHED and not t._cancelled and t._vals == FAILED then
      loop._failed[t] = nil
      report(("asyncio: unhandled error during asyncio.run() shutdown: %s\n%s"):format(
        t:get_name(), t._tb or error_text(t._error)))
    end
  end
end

-- run(f, ...): f(...) as the main task of a new loop; its results
function M.run(f, ...)
  checktype(f, "function", 1, "run")
  local me = get_ident()
  if running_loop[me] then
    error("asyncio.run() cannot be called from a running event loop", 2)
  end
  local loop = Loop()
  local prev = default_loop[me]
  default_loop[me] = loop
  local res = pack(pcall(loop.run_until_complete, loop, f, ...))
  local ok, err = pcall(cancel_all, loop)
  for _, th in pairs(loop._workers or {}) do th:join() end
  loop:close()
  default_loop[me] = prev
  if me ~= threading.main_thread().ident then thread_pools[me] = nil end
  if not res[1] then error(res[2], 0) end
  if not ok then error(err, 0) end
  return unpack(res, 2, res.n)
end

-- ---- sleeping, gathering, timeouts --------------------------------------------

local function undo_timer(task, id)
  local loop = task._loop
  loop._timers[id] = nil
  loop._h:timer_cancel(id)
end

-- sleep(s, [result]): suspends the task for s seconds; 0 just lets the other ready tasks run. sleep(0) in
-- a task is native (the native sleep calls this for everything else, so
-- error levels count it).
local function sleep_slow(s, result)
  local me = running_task()
  if me == nil then outside("asyncio.sleep", 3) end
  if type(s) ~= "number" then
    argerror(1, "sleep", "number expected, got " .. (s == nil and "no value" or type(s)), 3)
  end
  -- NaN is an error, as for time.sleep (it would not wait at all)
  if s ~= s then argerror(1, "sleep", "sleep length must be a number, not nan", 3) end
  if s <= 0 then
    if co_yield() == CANCEL then raise_cancelled(me) end
    return result
  end
  local loop = me._loop
  local id = loop._h:timer_after(s)
  loop._timers[id] = me
  if suspend(me, undo_timer, id) == CANCEL then raise_cancelled(me) end
  return result
end

local function is_plain_table(v)
  return type(v) == "table" and getmetatable(v) == nil
end

local function gather_cb(t, st)
  if st.dead then
    -- gather has already returned or raised: as in Python, a later
    -- error of one of its tasks counts as retrieved (no "never
    -- retrieved" report at the loop's close)
    if t._vals == FAILED then retrieved(t) end
    return
  end
  st.left = st.left - 1
  if t._vals == FAILED and not st.first then st.first = t end
  if st.left == 0 or (st.first and not st.return_exceptions) then
    st.dead = true
    wake(st.waiter)
  end
end

local function undo_gather(_, st) st.dead = true end

-- gather(t1, t2, ...) or gather{t1, t2, ..., return_exceptions = true}:
-- waits for all; a table of their (first) results in argument order. The
-- first error raises at once (the others keep running) unless
-- return_exceptions, which puts errors in the table instead.
function M.gather(...)
  local me = running_task()
  if me == nil then outside("asyncio.gather") end
  local args, n = {...}, select("#", ...)
  local return_exceptions = false
  if n == 1 and is_plain_table(args[1]) then
    args = args[1]
    n = args.n or #args
    return_exceptions = args.return_exceptions and true or false
  end
  local loop = me._loop
  local tasks = {}
  for i = 1, n do
    local x = args[i]
    if getmetatable(x) == Task or Task:is(x) then
      if x._loop ~= loop then argerror(i, "gather", "task of another event loop") end
      tasks[i] = x
    elseif type(x) == "function" then
      tasks[i] = new_task(loop, x)
    else
      argerror(i, "gather", "task or function expected, got " ..
               (x == nil and "nil" or type(x)))
    end
  end
  if n == 0 then return {n = 0} end
  local st = {left = n, waiter = me, first = false, dead = false,
              return_exceptions = return_exceptions}
  for i = 1, n do
    local t = tasks[i]
    if t._state == FINISHED then
      gather_cb(t, st)
    else
      add_cb(t, gather_cb, st)
    end
  end
  if not st.dead then
    local v = suspend(me, undo_gather, st)
    if v == CANCEL then
      st.dead = true
      for i = 1, n do tasks[i]:cancel() end
      raise_cancelled(me)
    end
  end
  st.dead = true
  if st.first and not return_exceptions then
    retrieved(st.first)
    error(st.first._error, 0)
  end
  local results = {n = n}
  for i = 1, n do
    local t = tasks[i]
    if t._vals == FAILED then
      retrieved(t)
      results[i] = t._error
    else
      results[i] = t._vals[1]
    end
  end
  return results
end

local function wait_for_fired(st)
  st.timed_out = true
  st.timer = false
  if not st.dead then
    st.dead = true
    wake(st.waiter)
  end
end

local function wait_for_done(_, st)
  if not st.dead then
    st.dead = true
    wake(st.waiter)
  end
end

local function undo_wait_for(task, st)
  st.dead = true
  if st.timer then undo_timer(task, st.timer) end
end

-- wait_for(task_or_function, timeout): the task's results, or after
-- 'timeout' seconds (never scaled) it is cancelled and TimeoutError raised
function M.wait_for(x, timeout)
  local me = running_task()
  if me == nil then outside("asyncio.wait_for") end
  local loop = me._loop
  local t
  if getmetatable(x) == Task or Task:is(x) then
    t = x
  else
    checktype(x, "function", 1, "wait_for")
    t = new_task(loop, x)
  end
  class.checktimeout(timeout, 2, "wait_for")
  if timeout == nil or timeout < 0 then return t:join() end
  if t._state ~= FINISHED then
    if t._loop ~= loop then argerror(1, "wait_for", "task of another event loop") end
    local st = {waiter = me, dead = false, timed_out = false, timer = false}
    add_cb(t, wait_for_done, st)
    local id = loop._h:timer_after(timeout)
    st.timer = id
    loop._timers[id] = {wait_for_fired, st}
    local v = suspend(me, undo_wait_for, st)
    st.dead = true
    remove_cb(t, wait_for_done, st)
    if st.timer then undo_timer(me, st.timer) end
    if v == CANCEL then
      t:cancel()
      raise_cancelled(me)
    end
    if t._state ~= FINISHED then  -- timed out: cancel it and let it finish
      t:cancel()
      wait_done(me, t, "wait for")
      if t._cancelled then
        error(M.TimeoutError(("timed out after %g s"):format(timeout)), 2)
      end
    end
  end
  return t:result()
end

M.FIRST_COMPLETED = "FIRST_COMPLETED"
M.FIRST_EXCEPTION = "FIRST_EXCEPTION"
M.ALL_COMPLETED = "ALL_COMPLETED"

local function wait_cb(t, st)
  if st.dead then return end
  st.left = st.left - 1
  if st.left == 0 or st.when == M.FIRST_COMPLETED
     or (st.when == M.FIRST_EXCEPTION and t._vals == FAILED) then
    st.dead = true
    wake(st.waiter)
  end
end

local function wait_timeout(st)
  st.timer = false
  if not st.dead then
    st.dead = true
    wake(st.waiter)
  end
end

local function undo_wait(task, st)
  st.dead = true
  if st.timer then undo_timer(task, st.timer) end
end

-- wait(tasks, [timeout], [return_when=ALL_COMPLETED]) -> done, pending:
-- two lists of the tasks (functions become tasks), in the order given.
-- Unlike wait_for, nothing is cancelled and no error is raised.
function M.wait(tasks, timeout, return_when)
  local me = running_task()
  if me == nil then outside("asyncio.wait") end
  checktype(tasks, "table", 1, "wait")
  class.checktimeout(timeout, 2, "wait")
  return_when = return_when or M.ALL_COMPLETED
  if return_when ~= M.ALL_COMPLETED and return_when ~= M.FIRST_COMPLETED
     and return_when ~= M.FIRST_EXCEPTION then
    argerror(3, "wait", "invalid return_when value: " .. tostring(return_when))
  end
  local loop = me._loop
  local list = {}
  for i = 1, tasks.n or #tasks do
    local x = tasks[i]
    if getmetatable(x) == Task or Task:is(x) then list[i] = x
    else
      checktype(x, "function", 1, "wait")
      list[i] = new_task(loop, x)
    end
  end
  if #list == 0 then argerror(1, "wait", "set of tasks is empty") end
  local st = {left = 0, waiter = me, when = return_when, dead = false, timer = false}
  local ready = false
  for _, t in ipairs(list) do
    if t._state == FINISHED then
      if return_when == M.FIRST_COMPLETED
         or (return_when == M.FIRST_EXCEPTION and t._vals == FAILED) then
        ready = true
      end
    else
      st.left = st.left + 1
    end
  end
  if st.left > 0 and not ready and not (timeout and timeout <= 0) then
    for _, t in ipairs(list) do
      if t._state ~= FINISHED then add_cb(t, wait_cb, st) end
    end
    if timeout and timeout >= 0 then
      local id = loop._h:timer_after(timeout)
      st.timer = id
      loop._timers[id] = {wait_timeout, st}
    end
    local v = suspend(me, undo_wait, st)
    st.dead = true
    if st.timer then undo_timer(me, st.timer) end
    for _, t in ipairs(list) do remove_cb(t, wait_cb, st) end
    if v == CANCEL then raise_cancelled(me) end
  end
  local done, pending = {}, {}
  for _, t in ipairs(list) do
    if t._state == FINISHED then done[#done + 1] = t else pending[#pending + 1] = t end
  end
  return done, pending
end

-- as_completed(tasks, [timeout]) -> an iterator over the tasks (functions
-- become tasks) in the order they end: for t in asyncio.as_completed(ts)
-- do local r = t:join() ... end. After 'timeout' it raises TimeoutError.
function M.as_completed(tasks, timeout)
  local me = running_task()
  if me == nil then outside("asyncio.as_completed") end
  checktype(tasks, "table", 1, "as_completed")
  class.checktimeout(timeout, 2, "as_completed")
  local loop = me._loop
  local order = M.Queue()
  local n = tasks.n or #tasks
  for i = 1, n do
    local t = tasks[i]
    if not (getmetatable(t) == Task or Task:is(t)) then
      checktype(t, "function", 1, "as_completed")
      t = new_task(loop, t)
    end
    if t._state == FINISHED then order:put_nowait(t)
    else add_cb(t, function(done) order:put_nowait(done) end, order) end
  end
  local deadline = timeout and timeout >= 0 and loop._h:time() + timeout
  local given = 0
  return function()
    if given == n then return nil end
    given = given + 1
    if not deadline then return order:get() end
    local left = deadline - loop._h:time()
    local ok, t = pcall(M.wait_for, function() return order:get() end,
                        left > 0 and left or 0)
    if not ok then error(t, 2) end
    return t
  end
end

-- ---- to_thread ---------------------------------------------------------------

local function run_job(job, h, id)
  job.res = pack(pcall(job.f, unpack(job.args, 1, job.args.n)))
  job.f, job.args = nil, nil
  native.post(h, id)
end

local function job_back(job)
  local loop = job.loop
  loop._nthreads = loop._nthreads - 1
  loop._workers[job.id] = nil
  local task = job.task
  if task then wake(task) end
end

local function undo_job(_, job) job.task = false end

-- to_thread(f, ...): runs f(...) on a new thread; the task waits (the loop
-- keeps serving the others) and gets its results or its error
function M.to_thread(f, ...)
  local me = running_task()
  if me == nil then outside("asyncio.to_thread") end
  checktype(f, "function", 1, "to_thread")
  local loop = me._loop
  local h = loop._h
  local id = h:post_id()
  local job = {f = f, args = pack(...), task = me, loop = loop, id = id}
  loop._posted[id] = {job_back, job}
  loop._workers = loop._workers or {}
  local th = threading.Thread{target = run_job, args = {job, h, id, n = 3},
                              name = "asyncio-to_thread-" .. id}
  th:start()
  loop._workers[id] = th
  loop._nthreads = loop._nthreads + 1
  if suspend(me, undo_job, job) == CANCEL then raise_cancelled(me) end
  local r = job.res
  if r[1] then return unpack(r, 2, r.n) end
  error(r[2], 0)
end

-- ---- the native scheduler -------------------------------------------------------

run_batch, M.sleep = native.scheduler{
  state_key = "_state", co_key = "_co", rq_key = "_rq", rqn_key = "_rq_n", h_key = "_h",
  READY = READY, WAITING = WAITING, CANCELLING = CANCELLING,
  WAIT = WAIT, DONE = DONE, HANDLE = HANDLE, CANCEL = CANCEL,
  slow_step = slow_step, wait_cancelled = wait_cancelled,
  finish = finish_ok, fail = fail, run_handle = run_handle,
  sleep_slow = sleep_slow,
  raise_cancelled = function() raise_cancelled(running_task()) end,
}

-- ---- the rest of the module ----------------------------------------------------

local internals = {
  running_task = running_task, outside = outside, current = current,
  suspend = suspend, wake = wake, raise_cancelled = raise_cancelled,
  CANCEL = CANCEL, is_cancelled_error = is_cancelled_error,
  new_task = new_task, here = here, check_open = check_open, made_by = made_by,
  report = report, error_text = error_text, WAIT = WAIT,
  raise_current_cancelled = function() raise_cancelled(running_task()) end,
}
require("cthreads.asyncio_sync")(M, internals)
require("cthreads.asyncio_streams")(M, internals)

-- a method called with '.' instead of ':' (loop.stop()) raises a
-- bad-argument error naming it, not an index error inside the library
class.guard(Task, {"done", "cancelled", "cancel", "result", "exception", "join",
                   "add_done_callback", "get_name", "set_name", "get_loop"})
class.guard(Handle, {"cancel", "cancelled", "when"})
class.guard(Loop, {"run_until_complete", "run_forever", "stop", "is_running", "is_closed",
                   "time", "create_task", "call_soon", "call_later", "call_at",
                   "call_soon_threadsafe", "close"})
class.guard(M.StreamReader, {"lines"})
class.guard(M.StreamWriter, {"writelines", "close", "is_closing", "write_eof",
                             "can_write_eof", "get_extra_info"})
class.guard(M.Server, {"is_serving", "close", "close_clients", "wait_closed",
                       "serve_forever", "start_serving", "get_loop"})

return M
