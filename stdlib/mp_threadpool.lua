-- multiprocessing.pool.ThreadPool: Pool's API over worker threads, as
-- Python's (a subclass of Pool). The tasks, their results and the
-- callbacks are Pool's (mp_pool.lua): the same argument checks, chunking,
-- AsyncResult, MapResult and IMapIterator. What differs is the transport:
-- threads share the heap, so a task goes to the workers on a queue.SimpleQueue
-- as it is (nothing is copied: a function need not be sendable, and a table
-- returned is the caller's very table), and results come back on another,
-- read by one result thread that runs the callbacks, as in Python.
--
-- A thread cannot be killed: terminate() fails the queued tasks and lets
-- each worker leave once its current task is done, without waiting for it
-- (Python does the same); join() waits for them. The workers are daemon
-- threads, so a pool still busy at exit does not hold the exit up.

local mp = package.loaded["cthreads.multiprocessing"]
local class = require("cthreads.class")
local threading = require("cthreads.threading")
local queue = require("cthreads.queue")
local base = require("cthreads.mp_pool")
local Pool, TERMINATE, INIT_ID = base.Pool, base.TERMINATE, base.INIT_ID
local run_task, result_message = base.run_task, base.result_message
local complete = base.complete
local getpid = os.getpid

-- what a worker puts on the result queue as it leaves: the result thread
-- ends once every worker has left
local WORKER_LEFT = {}

-- the body of a worker thread: the initializer once, then tasks until it
-- takes a sentinel (nil). An initializer that raises reports its error,
-- which breaks the pool as Pool's does, and the worker leaves.
local function worker(taskq, resultq, initializer, initargs)
  local ok, res = base.call_initializer(initializer, initargs)
  if ok then
    while true do
      local task = taskq:get()
      if task == nil then break end
      resultq:put(result_message(task[1], run_task(task[2], task[3], task[4], task[5])))
    end
  else
    resultq:put(result_message(INIT_ID, false, res))
  end
  resultq:put(WORKER_LEFT)
end

-- the result thread: completes the tasks (running their callbacks) until
-- every worker has left. Its end is marked, as Pool's (a pool is garbage
-- only once this thread has ended, and then has nothing to stop).
local function handle_results(self)
  local resultq, left = self._resultq, 0
  while left < self._processes do
    local msg = resultq:get()
    if msg == WORKER_LEFT then left = left + 1
    else complete(self, msg[1], msg[2], msg[3], msg[4]) end
  end
end

local function result_thread(self)
  local ok, err = pcall(handle_results, self)
  self._handler_done = true
  if not ok then error(err, 0) end
end

local ThreadPool = Pool:extend("ThreadPool")
ThreadPool._title = "ThreadPool"
ThreadPool._Event, ThreadPool._Semaphore = threading.Event, threading.Semaphore

local FIELDS = {"processes", "initializer", "initargs"}
local FIELD = class.fields(table.unpack(FIELDS))

-- the checked options of ThreadPool(...), or of multiprocessing.dummy.Pool(...)
-- (fname names the one called in bad-argument errors)
local function options(fname, ...)
  local o, bad = base.pool_options(fname, FIELDS, FIELD, ...)
  base.check_pool_options(o, bad)
  return o
end

-- ThreadPool([processes=cpu_count()], [initializer], [initargs]) or
-- ThreadPool{processes=, initializer=, initargs=}
function ThreadPool:init(...)
  local o = options("ThreadPool", ...)
  local n = base.setup(self, o)
  self._taskq = queue.SimpleQueue()
  self._resultq = queue.SimpleQueue()
  for i = 1, n do
    local t = threading.Thread{target = worker, daemon = true, name = "ThreadPoolWorker-" .. i,
                               args = {self._taskq, self._resultq, o.initializer, o.initargs}}
    t:start()
    self._workers[i] = t
  end
  self._handler = threading.Thread{target = result_thread, args = {self}, daemon = true,
                                   name = "ThreadPoolResultHandler"}
  self._handler:start()
  mp._finalizers[self] = ThreadPool.terminate
end

-- queues a task, or a sentinel (nil: Pool's close sends one per worker)
function ThreadPool:_put_task(task)
  self._taskq:put(task)
end

-- terminate(): the queued tasks fail at once; the running ones go on (a
-- thread cannot be stopped) and their results are delivered; each worker
-- leaves after its task. Returns without waiting for them: join() does.
function ThreadPool:terminate()
  if self._owner ~= getpid() then return end
  mp._finalizers[self] = nil
  if self._state == TERMINATE then return end
  self._state = TERMINATE
  if self._handler_done then return end  -- every worker has left already
  local taskq, ids = self._taskq, {}
  while not taskq:empty() do
    local ok, task = pcall(taskq.get_nowait, taskq)
    if not ok then break end  -- a worker took the last one
    if task ~= nil then ids[#ids + 1] = task[1] end
  end
  for _ = 1, self._processes do taskq:put(nil) end
  for _, id in ipairs(ids) do
    complete(self, id, false, mp.ProcessError("the pool was terminated before the task finished"))
  end
end

-- Lua-side methods called with '.' instead of ':' raise a bad-argument
-- error naming the method (the others are Pool's, and say Pool, as Python's)
class.guard(ThreadPool, {"terminate"})
class.require_init(ThreadPool)  -- (a subclass has to call its init)

mp.pool.ThreadPool = ThreadPool

return {ThreadPool = ThreadPool, options = options}
