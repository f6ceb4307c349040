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
local function maxsize_arg(fname, ...)
  local v = ...
  if select("#", ...) == 1 and type(v) == "table" and getmetatable(v) == nil then
    v = v.maxsize
  end
  if v == nil then return 0 end
  if type(v) ~= "number" then
    argerror(1, fname, "number expected, got " .. type(v), 3)
  end
  local n = math.tointeger(v)
  if n == nil then argerror(1, fname, "number has no integer representation", 3) end
  return n
end

local function define(name, order)
  local cls = Object:extend(name)
  function cls:init(...)
    local maxsize = maxsize_arg(name, ...)
    self[HANDLE] = native.new(order, maxsize, false)
    self.maxsize = maxsize
    self.is_shutdown = false
  end
  cls.put = native.put
  cls.get = native.get
  cls.put_nowait = native.put_nowait
  cls.get_nowait = native.get_nowait
  cls.qsize = native.qsize
  cls.empty = native.empty
  cls.full = native.full
  cls.task_done = native.task_done
  cls.join = native.join
  function cls:shutdown(immediate)
    class.checktype(immediate, "boolean", 1, "shutdown", true)
    native.shutdown(self, immediate)
    self.is_shutdown = true
  end
  return cls
end

-- FIFO
M.Queue = define("Queue", native.FIFO)
-- last in, first out
M.LifoQueue = define("LifoQueue", native.LIFO)
-- smallest first; equal ones in insertion order
M.PriorityQueue = define("PriorityQueue", native.PRIORITY)

-- unbounded FIFO without task accounting
local SimpleQueue = Object:extend("SimpleQueue")
function SimpleQueue:init()
  self[HANDLE] = native.new(native.FIFO, 0, true)
end
SimpleQueue.put = native.put
SimpleQueue.get = native.get
SimpleQueue.put_nowait = native.put_nowait
SimpleQueue.get_nowait = native.get_nowait
SimpleQueue.qsize = native.qsize
SimpleQueue.empty = native.empty
M.SimpleQueue = SimpleQueue

-- for tests: how many threads are blocked in get, put and join
M._waiting = native.waiting

return M
