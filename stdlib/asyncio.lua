-- The asyncio module: an event loop on Lua coroutines, after Python's
-- asyncio (see API.md). A task is a function run as a coroutine; inside it,
-- asyncio.sleep, task:join(), queue:get() and friends suspend the task (a
-- coroutine.yield to the loop) until what they wait for happens.
--
-- The scheduler is here; the native half (bindings/ct_aio_*.c) keeps the
-- timers in a heap, waits on epoll (detached, so other threads run), owns
-- the nonblocking sockets, and hands back integer ids of what became ready.
-- Every thread may run its own loop: all state is per loop, and the loop
-- running in each thread is looked up by thread ident.

local native = require("cthreads.native.asyncio")
local class = require("cthreads.class")
local threading = require("cthreads.threading")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_running, co_close = coroutine.running, coroutine.close
local pack, unpack, concat = table.pack, table.unpack, table.concat
local traceback = debug.traceback
local get_ident = threading.get_ident
local READ, WRITE, DRAIN = native.READ, native.WRITE, native.DRAIN
local time_scale = native.time_scale()

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
-- the task last resumed (by any thread): a cheap first guess for the
-- current task, trusted only if its coroutine is the running one
local last_task = false

-- the task whose coroutine is running, or nil
local function running_task()
  local co = co_running()
  local t = last_task
  if t and t._co == co then return t end
  local loop = running_loop[get_ident()]
  if loop then
    t = loop._current
    if t and t._co == co then return t end
  end
  return nil
end

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
local ONE_NIL = pack(nil)  -- shared: the results of a function returning nil
local POOL_MAX = 1024    -- idle coroutines a thread keeps for new tasks

local function report(text)
  io.stderr:write(text, "\n")
end

local function error_text(e)
  if type(e) == "string" then return e end
  local ok, s = pcall(tostring, e)
  return ok and s or "(error object is a " .. type(e) .. " value)"
end

-- ---- tasks --------------------------------------------------------------------
-- A task table holds its loop, its coroutine (from its first run on), the
-- function and its arguments (then its results: _vals), its state, and
-- what to undo if it is cancelled while waiting (_undo, _undo_arg). Done
-- callbacks live in the task's array part as fn, arg pairs, so waiting on
-- a task allocates nothing.

local Task = Object:extend("Task")
M.Task = Task
Task._cancel_msg = false
Task._cancelled = false
local task_count = 0

local function push_ready(loop, entry, value)
  local n = loop._rq_n + 1
  loop._rq_n = n
  loop._rq_t[n] = entry
  loop._rq_v[n] = value
end

-- wakes a waiting task: it resumes in the loop's next round with 'value'
local function wake(task, value)
  if task._state == WAITING then
    task._state = READY
    local loop = task._loop
    local n = loop._rq_n + 1
    loop._rq_n = n
    loop._rq_t[n] = task
    loop._rq_v[n] = value
  end
end

local function outside(what, level)
  local _, ismain = co_running()
  local where = ismain and "" or " (in a coroutine that is not an asyncio task)"
  error(what .. " called outside a task" .. where ..
        "; start one with asyncio.run(f) or loop:run_until_complete(f)", level + 1)
end

-- the task this coroutine runs, or an error saying 'what' needs one
local function current(what)
  local t = running_task()
  if t == nil then outside(what, 3) end
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
local function add_cb(task, fn, arg)
  local i = 1
  while task[i] ~= nil do i = i + 2 end
  task[i], task[i + 1] = fn, arg
end

local function remove_cb(task, fn, arg)
  local i = 1
  while task[i] ~= nil do
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
  local fn = task[1]
  while fn ~= nil do
    local arg = task[i + 1]
    task[i], task[i + 1] = nil, nil
    if fn then fn(task, arg) end
    i = i + 2
    fn = task[i]
  end
end

local function set_error(loop, task, err, tb)
  task._error, task._tb = err, tb
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
      local n = loop._rq_n + 1
      loop._rq_n = n
      loop._rq_t[n] = task
      loop._rq_v[n] = nil
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
  return after_step(loop, task, co_resume(co, f, unpack(args, 1, args.n)))
end

local function step(loop, task, value)
  last_task = task
  loop._current = task
  local state = task._state
  if state ~= READY then
    if state == PENDING then
      task._state = READY
      return start(loop, task)
    elseif state == CANCELLING then
      task._state = READY
      if task._fn then  -- cancelled before it started: never runs
        task._fn = false
        return set_error(loop, task, cancelled_value(task), nil)
      end
      value = CANCEL
    else
      return
    end
  end
  return after_step(loop, task, co_resume(task._co, value))
end

local function new_task(loop, f, ...)
  if loop._closed then error("Event loop is closed", 3) end
  task_count = task_count + 1
  local task = setmetatable({
    _loop = loop, _fn = f, _vals = select("#", ...) == 0 and NOVALUES or pack(...),
    _state = PENDING, _id = task_count, _co = false,
    _undo = nothing_to_undo, _undo_arg = false,
  }, Task)
  loop._tasks[task] = true
  local n = loop._rq_n + 1
  loop._rq_n = n
  loop._rq_t[n] = task
  loop._rq_v[n] = nil
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
  if self._error ~= nil then
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

local function wake_waiter(_, waiter) wake(waiter, nil) end
local function stop_waiting(me, task) remove_cb(task, wake_waiter, me) end

-- waits, inside a task, until 'task' has ended
local function wait_done(me, task, what)
  if task._state == FINISHED then return end
  if task == me then error("a task cannot " .. what .. " itself", 3) end
  if task._loop ~= me._loop then
    error("the task belongs to a different event loop", 3)
  end
  add_cb(task, wake_waiter, me)
  if suspend(me, stop_waiting, task) == CANCEL then raise_cancelled(me) end
end

-- join() -> the task's results, waiting for it to end (Python's await task)
function Task:join()
  if self._state ~= FINISHED then
    local me = running_task()
    if me == nil then outside("task:join()", 2) end
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
  return self._name or ("Task-%d"):format(self._id)
end

function Task:set_name(name)
  self._name = tostring(name)
end

function Task:get_loop()
  return self._loop
end

function Task:__tostring()
  local state = self._state
  if state == FINISHED then
    state = self._cancelled and "cancelled" or (self._error ~= nil and "failed" or "finished")
  elseif state == CANCELLING then
    state = "ready"
  end
  return ("<Task %s %s>"):format(state, self:get_name())
end

-- Python's await: a task is joined, a function is called in this task
function M.await(x, ...)
  local me = running_task()
  if me == nil then outside("asyncio.await", 2) end
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
  self._rq_t, self._rq_v, self._rq_n = {}, {}, 0
  self._pool = false   -- the running thread's pool of idle coroutines
  self._current = false  -- the task last resumed
  self._spare_t, self._spare_v = {}, {}
  self._timers = {}   -- timer id -> task to wake, or a plain {fn, arg}
  self._rd, self._wr = {}, {}  -- socket id -> the task waiting on it
  self._nio = 0       -- how many tasks wait on sockets
  self._posted = {}   -- id posted by a thread -> {fn, arg}
  self._nthreads = 0  -- to_thread calls not yet back
  self._socks = setmetatable({}, {__mode = "v"})  -- socket id -> socket
  self._tasks = {}     -- tasks not yet ended
  self._failed = {}   -- tasks that failed, error not yet retrieved
  self._io_out, self._tm_out, self._po_out = {}, {}, {}
  self._running, self._stopping, self._closed = false, false, false
end

local function check_open(loop)
  if loop._closed then error("Event loop is closed", 3) end
end

local function wake_io(slots, id, loop)
  local t = slots[id]
  if t then
    slots[id] = nil
    loop._nio = loop._nio - 1
    wake(t, nil)
  end
end

local function deadlock_check(loop)
  if loop._main == nil or loop._rq_n > 0 or loop._stopping then return end
  if loop._nio > 0 or loop._nthreads > 0 or loop._h:ntimers() > 0 then return end
  if threading.active_count() > 1 then return end  -- a thread may still call in
  error("asyncio: deadlock: every task is waiting and no timer, socket or " ..
        "thread can wake one (" .. loop._main:get_name() .. " can never finish)", 0)
end

-- one round: wait for I/O and timers (not at all if tasks are ready), then
-- run every task and callback that was ready when the round began
local function run_once(loop)
  local block = loop._rq_n == 0 and not loop._stopping
  if block then deadlock_check(loop) end
  local io_out, tm_out, po_out = loop._io_out, loop._tm_out, loop._po_out
  local nio, ntm, npo = loop._h:poll(block, io_out, tm_out, po_out)
  if nio > 0 then
    local rd, wr = loop._rd, loop._wr
    for i = 1, 2 * nio, 2 do
      local id, bits = io_out[i], io_out[i + 1]
      if bits & READ ~= 0 then wake_io(rd, id, loop) end
      if bits & (WRITE | DRAIN) ~= 0 then wake_io(wr, id, loop) end
    end
  end
  if ntm > 0 then
    local timers = loop._timers
    for i = 1, ntm do
      local id = tm_out[i]
      local x = timers[id]
      if x then
        timers[id] = nil
        if rawget(x, "_state") then wake(x, nil) else x[1](x[2]) end
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
  local qt, qv = loop._rq_t, loop._rq_v
  loop._rq_t, loop._rq_v, loop._rq_n = loop._spare_t, loop._spare_v, 0
  for i = 1, n do
    local t, v = qt[i], qv[i]
    qt[i], qv[i] = nil, nil
    if v == HANDLE then run_handle(t) else step(loop, t, v) end
  end
  loop._spare_t, loop._spare_v = qt, qv
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

-- call_later(delay, f, ...): delay in seconds, scaled by CTHREADS_TIME_SCALE
function Loop:call_later(delay, f, ...)
  checktype(delay, "number", 1, "call_later")
  checktype(f, "function", 2, "call_later")
  check_open(self)
  local d = delay * time_scale
  local id = self._h:timer_after(d)
  return timer_handle(self, id, self._h:time() + d, new_handle(self, f, ...))
end

-- call_at(when, f, ...): 'when' on the loop:time() clock
function Loop:call_at(when, f, ...)
  checktype(when, "number", 1, "call_at")
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
  for _, s in pairs(self._socks) do s:abort() end
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

function M.current_task()
  return running_task()
end

function M.all_tasks(loop)
  loop = loop or here()
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
    if t._state == FINISHED and not t._cancelled and t._error ~= nil then
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

-- sleep(s, [result]): suspends the task for s seconds (scaled by
-- CTHREADS_TIME_SCALE); 0 just lets the other ready tasks run
function M.sleep(s, result)
  local co = co_running()
  local me = last_task
  if not me or me._co ~= co then
    me = running_task()
    if me == nil then outside("asyncio.sleep", 2) end
  end
  if s == 0 then
    if co_yield() == CANCEL then raise_cancelled(me) end
    return result
  end
  checktype(s, "number", 1, "sleep")
  if s < 0 or s ~= s then
    if co_yield() == CANCEL then raise_cancelled(me) end
    return result
  end
  local loop = me._loop
  local id = loop._h:timer_after(s * time_scale)
  loop._timers[id] = me
  if suspend(me, undo_timer, id) == CANCEL then raise_cancelled(me) end
  return result
end

local function is_plain_table(v)
  return type(v) == "table" and getmetatable(v) == nil
end

local function gather_cb(t, st)
  if st.dead then return end
  st.left = st.left - 1
  if t._error ~= nil and not st.first then st.first = t end
  if st.left == 0 or (st.first and not st.return_exceptions) then
    st.dead = true
    wake(st.waiter, nil)
  end
end

local function undo_gather(_, st) st.dead = true end

-- gather(t1, t2, ...) or gather{t1, t2, ..., return_exceptions = true}:
-- waits for all; a table of their (first) results in argument order. The
-- first error raises at once (the others keep running) unless
-- return_exceptions, which puts errors in the table instead.
function M.gather(...)
  local me = running_task()
  if me == nil then outside("asyncio.gather", 2) end
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
    if t._error ~= nil then
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
    wake(st.waiter, nil)
  end
end

local function wait_for_done(_, st)
  if not st.dead then
    st.dead = true
    wake(st.waiter, nil)
  end
end

local function undo_wait_for(task, st)
  st.dead = true
  if st.timer then undo_timer(task, st.timer) end
end

-- wait_for(task_or_function, timeout): the task's results, or after
-- 'timeout' seconds (scaled) it is cancelled and TimeoutError raised
function M.wait_for(x, timeout)
  local me = running_task()
  if me == nil then outside("asyncio.wait_for", 2) end
  local loop = me._loop
  local t
  if getmetatable(x) == Task or Task:is(x) then
    t = x
  else
    checktype(x, "function", 1, "wait_for")
    t = new_task(loop, x)
  end
  checktype(timeout, "number", 2, "wait_for", true)
  if timeout == nil or timeout < 0 then return t:join() end
  if t._state ~= FINISHED then
    if t._loop ~= loop then argerror(1, "wait_for", "task of another event loop") end
    local st = {waiter = me, dead = false, timed_out = false, timer = false}
    add_cb(t, wait_for_done, st)
    local id = loop._h:timer_after(timeout * time_scale)
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
  if task then wake(task, nil) end
end

local function undo_job(_, job) job.task = false end

-- to_thread(f, ...): runs f(...) on a new thread; the task waits (the loop
-- keeps serving the others) and gets its results or its error
function M.to_thread(f, ...)
  local me = running_task()
  if me == nil then outside("asyncio.to_thread", 2) end
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

-- ---- synchronisation primitives ---------------------------------------------
-- Waiters are records {task, granted}; a cancelled waiter's record is
-- killed (task cleared) and skipped. A primitive belongs to the loop of the
-- first task that waits on it.

local function bind(prim, me, name)
  local loop = prim._loop
  if loop == nil then
    prim._loop = me._loop
  elseif loop ~= me._loop then
    error(name .. " is bound to a different event loop", 3)
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
  wake(rec[1], nil)
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
  checktype(value, "number", 1, "Semaphore", true)
  value = value or 1
  if value < 0 or math.type(value) ~= "integer" and value ~= math.floor(value) then
    argerror(1, "Semaphore", "initial value must be a non-negative integer")
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
  if lock ~= nil and not Lock:is(lock) then
    argerror(1, "Condition", "asyncio.Lock expected, got " .. type(lock))
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
  checktype(predicate, "function", 1, "wait_for")
  local r = predicate()
  while not r do
    self:wait()
    r = predicate()
  end
  return r
end

function Condition:notify(n)
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
  if is_plain_table(maxsize) then maxsize = maxsize.maxsize end
  checktype(maxsize, "number", 1, "Queue", true)
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

function Queue:put_nowait(item)
  if self._is_shutdown then error(M.QueueShutDown, 2) end
  if self:full() then error(M.QueueFull, 2) end
  self:_put(item)
  self._unfinished = self._unfinished + 1
  self._finished:clear()
  wake_next(self._getters)
end

function Queue:put(item)
  while self:full() do
    if self._is_shutdown then error(M.QueueShutDown, 2) end
    local me = current("Queue:put")
    bind(self, me, "Queue")
    wait_on(me, self._putters, pass_on_putter, self)
  end
  if self._is_shutdown then error(M.QueueShutDown, 2) end
  self:_put(item)
  self._unfinished = self._unfinished + 1
  self._finished:clear()
  wake_next(self._getters)
end

function Queue:get_nowait()
  if self:_qsize() == 0 then
    if self._is_shutdown then error(M.QueueShutDown, 2) end
    error(M.QueueEmpty, 2)
  end
  local item = self:_get()
  wake_next(self._putters)
  return item
end

function Queue:get()
  while self:_qsize() == 0 do
    if self._is_shutdown then error(M.QueueShutDown, 2) end
    local me = current("Queue:get")
    bind(self, me, "Queue")
    wait_on(me, self._getters, pass_on_getter, self)
  end
  local item = self:_get()
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
  if self._unfinished > 0 then self._finished:wait() end
end

-- shutdown([immediate=false]): put raises QueueShutDown from now on; get
-- too once the queue is empty (at once with immediate, which drops items)
function Queue:shutdown(immediate)
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
function PriorityQueue:_put(item)
  local heap = self._heap
  self._seq = self._seq + 1
  local e = {item, self._seq}
  local i = self._n + 1
  self._n = i
  while i > 1 do
    local p = i // 2
    if not before(e, heap[p]) then break end
    heap[i] = heap[p]
    i = p
  end
  heap[i] = e
end
function PriorityQueue:_get()
  local heap, n = self._heap, self._n
  local top = heap[1]
  local last = heap[n]
  heap[n] = nil
  n = n - 1
  self._n = n
  if n > 0 then
    local i = 1
    while true do
      local c = 2 * i
      if c > n then break end
      if c < n and before(heap[c + 1], heap[c]) then c = c + 1 end
      if not before(heap[c], last) then break end
      heap[i] = heap[c]
      i = c
    end
    heap[i] = last
  end
  return top[1]
end

-- ---- streams ---------------------------------------------------------------------

-- waits until the socket is ready for 'bit'; rec = {slots, id, sock, bit}
local function undo_io(task, rec)
  local slots = rec[1]
  if slots[rec[2]] == task then
    slots[rec[2]] = nil
    task._loop._nio = task._loop._nio - 1
  end
  rec[3]:unwant(rec[4])
end

local function wait_io(conn, rec, what)
  local me = running_task()
  if me == nil then outside(what, 3) end
  local loop = conn._loop
  if me._loop ~= loop then error("the connection belongs to another event loop", 3) end
  local slots, id = rec[1], rec[2]
  if slots[id] then
    error(what .. " called while another task is already waiting on this connection", 3)
  end
  if rec[3]:want(rec[4]) then return end  -- ready already
  slots[id] = me
  loop._nio = loop._nio + 1
  if suspend(me, undo_io, rec) == CANCEL then raise_cancelled(me) end
end

-- the reading and writing halves share one connection record
local function new_conn(loop, s)
  local id = s:id()
  loop._socks[id] = s
  local conn = {_loop = loop, _s = s, _id = id}
  conn._rdrec = {loop._rd, id, s, READ}
  conn._wrrec = {loop._wr, id, s, WRITE}
  conn._dnrec = {loop._wr, id, s, DRAIN}
  return conn
end

-- wakes whoever waits on a connection that just closed
local function wake_closed(conn)
  local loop = conn._loop
  wake_io(loop._rd, conn._id, loop)
  wake_io(loop._wr, conn._id, loop)
end

local StreamReader = Object:extend("StreamReader")
M.StreamReader = StreamReader

-- read([n=-1]): up to n bytes, at least one unless the stream ended ("");
-- n < 0 reads until the end of the stream
function StreamReader:read(n)
  checktype(n, "number", 1, "read", true)
  n = n or -1
  if n == 0 then return "" end
  local s, rec = self._conn._s, self._conn._rdrec
  if n < 0 then
    local parts = {}
    while true do
      local chunk = s:read(65536)
      if chunk == "" then break end
      if chunk then parts[#parts + 1] = chunk
      else wait_io(self._conn, rec, "StreamReader:read") end
    end
    return concat(parts)
  end
  while true do
    local r = s:read(n)
    if r then return r end
    wait_io(self._conn, rec, "StreamReader:read")
  end
end

-- readline(): a line with its "\n"; at the end of the stream what is left
-- (a last line without "\n", or "")
function StreamReader:readline()
  local s, rec = self._conn._s, self._conn._rdrec
  while true do
    local r, partial = s:readuntil("\n")
    if r then return r end
    if r == nil then return partial end
    wait_io(self._conn, rec, "StreamReader:readline")
  end
end

local function incomplete(partial, expected)
  return M.IncompleteReadError(("%d bytes read on a total of %s expected bytes")
                               :format(#partial, tostring(expected)))
end

-- readuntil([sep="\n"]): data up to and including sep; IncompleteReadError
-- if the stream ends first
function StreamReader:readuntil(sep)
  checktype(sep, "string", 1, "readuntil", true)
  sep = sep or "\n"
  local s, rec = self._conn._s, self._conn._rdrec
  while true do
    local r, partial = s:readuntil(sep)
    if r then return r end
    if r == nil then error(incomplete(partial, "undefined"), 2) end
    wait_io(self._conn, rec, "StreamReader:readuntil")
  end
end

-- readexactly(n): exactly n bytes; IncompleteReadError if the stream ends first
function StreamReader:readexactly(n)
  checktype(n, "number", 1, "readexactly")
  if n < 0 then argerror(1, "readexactly", "readexactly size can not be less than zero") end
  local s, rec = self._conn._s, self._conn._rdrec
  while true do
    local r, partial = s:readexactly(n)
    if r then return r end
    if r == nil then error(incomplete(partial, n), 2) end
    wait_io(self._conn, rec, "StreamReader:readexactly")
  end
end

function StreamReader:at_eof() return self._conn._s:at_eof() end

-- lines(): for line in reader:lines() do ... end (lines keep their "\n")
function StreamReader:lines()
  return function()
    local line = self:readline()
    if line ~= "" then return line end
  end
end

local StreamWriter = Object:extend("StreamWriter")
M.StreamWriter = StreamWriter

-- write(data): queued at once (never waits); drain() waits if too much is pending
function StreamWriter:write(data)
  if type(data) ~= "string" then
    if type(data) == "number" then data = tostring(data)
    else checktype(data, "string", 1, "write") end
  end
  self._conn._s:write(data)
end

function StreamWriter:writelines(list)
  checktype(list, "table", 1, "writelines")
  for _, d in ipairs(list) do self:write(d) end
end

-- drain(): waits until the output buffer is low enough; raises if the
-- connection was lost
function StreamWriter:drain()
  local conn = self._conn
  local s = conn._s
  while s:must_drain() do wait_io(conn, conn._dnrec, "StreamWriter:drain") end
end

function StreamWriter:close()
  local conn = self._conn
  conn._s:close()
  wake_closed(conn)
end

function StreamWriter:is_closing() return self._conn._s:is_closing() end

-- wait_closed(): waits until the output is flushed and the socket closed
function StreamWriter:wait_closed()
  local conn = self._conn
  local s = conn._s
  while not s:is_closed() do wait_io(conn, conn._dnrec, "StreamWriter:wait_closed") end
end

function StreamWriter:write_eof() self._conn._s:write_eof() end
function StreamWriter:can_write_eof() return true end

-- get_extra_info("peername" | "sockname") -> {host, port}
function StreamWriter:get_extra_info(name, default)
  local s = self._conn._s
  local host, port
  if name == "peername" then host, port = s:peername()
  elseif name == "sockname" then host, port = s:sockname() end
  if host == nil then return default end
  return {host, port}
end

StreamWriter.__close = StreamWriter.close

local function new_streams(conn)
  local r = setmetatable({_conn = conn}, StreamReader)
  local w = setmetatable({_conn = conn}, StreamWriter)
  return r, w
end

local function check_port(port, n, fname)
  checktype(port, "number", n, fname)
  if math.type(port) ~= "integer" and port ~= math.floor(port) or port < 0 or port > 65535 then
    argerror(n, fname, "port must be an integer in 0..65535")
  end
  return math.tointeger(port)
end

-- open_connection(host, port) -> reader, writer
function M.open_connection(host, port)
  local me = running_task()
  if me == nil then outside("asyncio.open_connection", 2) end
  checktype(host, "string", 1, "open_connection", true)
  port = check_port(port, 2, "open_connection")
  local loop = me._loop
  local addrs, msg = native.resolve(host, port, false)
  if not addrs then error(msg, 2) end
  local last = "no address"
  for _, addr in ipairs(addrs) do
    local s, pending = native.connect(loop._h, addr)
    if s then
      local conn = new_conn(loop, s)
      if pending then
        local ok, err = pcall(wait_io, conn, conn._wrrec, "asyncio.open_connection")
        if not ok then
          s:abort()
          error(err, 0)
        end
        local e = s:connect_error()
        if e then
          s:abort()
          s = nil
          last = e
        end
      end
      if s then return new_streams(conn) end
    else
      last = pending
    end
  end
  error(("cannot connect to %s:%d: %s"):format(host or "localhost", port, last), 2)
end

local Server = Object:extend("Server")
M.Server = Server

local function serve_client(server, reader, writer)
  local conns = server._conns
  conns[writer] = true
  local ok, err = xpcall(server._handler, function(e)
    return {e = e, tb = traceback(error_text(e), 2)}
  end, reader, writer)
  conns[writer] = nil
  if not ok then
    if is_cancelled_error(err.e) then
      writer:close()
      error(err.e, 0)
    end
    report("asyncio: error in connection handler (the server keeps serving):\n" .. err.tb)
    writer:close()
  end
end

local function accept_loop(server, ls)
  local loop = server._loop
  local conn = new_conn(loop, ls)
  while true do
    local ok, c = pcall(ls.accept, ls)
    if not ok then
      report("asyncio: " .. error_text(c))
      M.sleep(0.1)
    elseif c then
      local r, w = new_streams(new_conn(loop, c))
      new_task(loop, serve_client, server, r, w)
    else
      wait_io(conn, conn._rdrec, "accept")
    end
  end
end

-- start_server(handler, [host], port) -> Server (field 'port': the bound
-- port); handler(reader, writer) runs as a new task for each connection
function M.start_server(handler, host, port, backlog)
  checktype(handler, "function", 1, "start_server")
  checktype(host, "string", 2, "start_server", true)
  port = check_port(port, 3, "start_server")
  checktype(backlog, "number", 4, "start_server", true)
  local loop = here()
  check_open(loop)
  local addrs, msg = native.resolve(host, port, true)
  if not addrs then error(msg, 2) end
  local socks, last = {}, "no address"
  for _, addr in ipairs(addrs) do
    local s, err = native.listen(loop._h, addr, backlog or 100)
    if s then
      socks[#socks + 1] = s
      if port == 0 then break end  -- one ephemeral port, not one per address
    else
      last = err
    end
  end
  if #socks == 0 then
    error(("cannot listen on %s:%d: %s"):format(host or "*", port, last), 2)
  end
  local _, bound = socks[1]:sockname()
  local server = setmetatable({
    _loop = loop, _handler = handler, _socks = socks, _tasks = {},
    _conns = setmetatable({}, {__mode = "k"}), _closed = Event(),
    port = bound, sockets = {},
  }, Server)
  for i, s in ipairs(socks) do
    local h, p = s:sockname()
    server.sockets[i] = {h, p}
    server._tasks[i] = new_task(loop, accept_loop, server, s)
  end
  return server
end

function Server:is_serving() return not self._closed:is_set() end

-- close(): stops listening; connections already open go on
function Server:close()
  if self._closed:is_set() then return end
  for _, t in ipairs(self._tasks) do t:cancel() end
  for _, s in ipairs(self._socks) do s:abort() end
  self._closed:set()
end

-- close_clients(): closes every connection still open (Python 3.13)
function Server:close_clients()
  for w in pairs(self._conns) do w:close() end
end

function Server:wait_closed()
  if not self._closed:is_set() then self._closed:wait() end
end

-- serve_forever(): waits, in a task, until the server is closed
function Server:serve_forever()
  self._closed:wait()
end

function Server:start_serving() end
function Server:get_loop() return self._loop end
Server.__close = Server.close

function Server:__tostring()
  return ("<Server port=%s %s>"):format(tostring(self.port),
                                        self:is_serving() and "serving" or "closed")
end

return M
