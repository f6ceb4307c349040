-- The queue module (Lua half): the classes over the native queue
-- (bindings/ct_queue.c). Follows Python 3.13's queue; see API.md.
--
--   local q = queue.Queue(10)
--   q:put(item)           -- blocks while full; any value, nil included
--   local item = q:get()  -- blocks while empty
--   q:task_done(); q:join(); q:shutdown()

local native = require("cthreads.native.queue")
local class = require("cthreads.class")
local HANDLE = require("cthreads.native.threading").HANDLE
local Object, argerror = class.Object, class.argerror

local M = {}

M.Empty = class.error_kind("queue.Empty")
M.Full = class.error_kind("queue.Full")
M.ShutDown = class.error_kind("queue.ShutDown")
native.set_errors(M.Empty, M.Full, M.ShutDown)

-- maxsize from Queue(maxsize) or Queue{maxsize = n}
local MAXSIZE_FIELDS = class.fields("maxsize")
local function maxsize_arg(fname, ...)
  local v = ...
  local o = class.args(fname, MAXSIZE_FIELDS, 1, ...)
  if o ~= nil then v = o.maxsize end
  if v == nil then return 0 end
  if type(v) ~= "number" then
    argerror(1, fname, "number expected, got " .. type(v), 3)
  end
  local n = math.tointeger(v)
  if n == nil then argerror(1, fname, "number has no integer representation", 3) end
  return n
end

-- the native queue of one of the classes below, made by its init
local function setup(self, fname, order, ...)
  local maxsize = maxsize_arg(fname, ...)
  self[HANDLE] = native.new(order, maxsize, false)
  self.maxsize = maxsize
  self.is_shutdown = false
end

-- FIFO
local Queue = Object:extend("Queue")
function Queue:init(...) setup(self, "Queue", native.FIFO, ...) end
-- maxsize and is_shutdown are plain fields, as Python's attributes, so
-- assigning them is no error; but the native queue keeps the bound and the
-- flag it was given (Python's put() reads them each time). Making maxsize
-- a property (class.getters) would give Queue a function __index, which
-- makes the method lookups of an uncontended put and get pair cost about
-- half as much again as the pair did; reading the field in the native put
-- instead costs 8% of the pair (140 instructions of 1700).
Queue.put = native.put
Queue.get = native.get
Queue.put_nowait = native.put_nowait
Queue.get_nowait = native.get_nowait
Queue.qsize = native.qsize
Queue.empty = native.empty
Queue.full = native.full
Queue.task_done = native.task_done
Queue.join = native.join
function Queue:shutdown(immediate)
  class.checktype(immediate, "boolean", 1, "shutdown", true)
  native.shutdown(self, immediate)
  self.is_shutdown = true
end
M.Queue = Queue

-- LifoQueue and PriorityQueue are subclasses of Queue, as in Python: the
-- same methods over a native queue of another order.
-- LifoQueue: last in, first out
local LifoQueue = Queue:extend("LifoQueue")
function LifoQueue:init(...) setup(self, "LifoQueue", native.LIFO, ...) end
M.LifoQueue = LifoQueue

-- PriorityQueue: smallest first; equal ones in insertion order
local PriorityQueue = Queue:extend("PriorityQueue")
function PriorityQueue:init(...) setup(self, "PriorityQueue", native.PRIORITY, ...) end
M.PriorityQueue = PriorityQueue

-- unbounded FIFO without task accounting; SimpleQueue() takes no arguments
local SimpleQueue = Object:extend("SimpleQueue")
function SimpleQueue:init(...)
  class.args("SimpleQueue", class.NO_FIELDS, 0, ...)
  self[HANDLE] = native.new(native.FIFO, 0, true)
end
SimpleQueue.put = native.put
SimpleQueue.get = native.get
SimpleQueue.put_nowait = native.put_nowait
SimpleQueue.get_nowait = native.get_nowait
SimpleQueue.qsize = native.qsize
SimpleQueue.empty = native.empty
M.SimpleQueue = SimpleQueue

-- Queue.shutdown(5) (or q.shutdown()) raises a bad-argument error at the
-- script's line, as the native methods do, not one inside this file
class.guard(Queue, {"shutdown"})
-- a subclass whose init skips Queue.init is refused when constructed
for _, cls in ipairs{Queue, LifoQueue, PriorityQueue, SimpleQueue} do
  class.require_init(cls)
end

-- for tests: how many threads are blocked in get, put and join
M._waiting = native.waiting

return M
