-- multiprocessing.dummy: the multiprocessing API over threads, as Python
-- 3.13's multiprocessing/dummy: Process is a Thread (DummyProcess), Pool a
-- ThreadPool, the locks, events, conditions, barriers and queues are
-- threading's and queue's, Value a plain object with .value and Array a
-- plain list. Nothing is copied between "processes": they share the heap.

local mp = package.loaded["cthreads.multiprocessing"]
local class = require("cthreads.class")
local threading = require("cthreads.threading")
local queue = require("cthreads.queue")
local threadpool = require("cthreads.mp_threadpool")
local Object, checktype = class.Object, class.checktype
local Thread, current_thread = threading.Thread, threading.current_thread

local M = {}

-- ---- Process ------------------------------------------------------------------

-- the children each thread started: thread -> set of DummyProcess (weak:
-- one that ended and is not referenced is forgotten)
local children = setmetatable({}, {__mode = "k"})

-- Process{target=, args=, kwargs=, name=, daemon=} or Process(target, [name],
-- [args], [kwargs], [daemon]), as multiprocessing.Process: a Thread that
-- only the thread that made it may start, with an exitcode
local DummyProcess = Thread:extend("DummyProcess")
function DummyProcess:init(...)
  Thread.init(self, class.worker_options("Process", ...))
  self._parent = current_thread()
end

function DummyProcess:start()
  local cur = current_thread()
  if self._parent ~= cur then
    error(("Parent is %s but current_process is %s"):format(tostring(self._parent),
                                                           tostring(cur)), 2)
  end
  local mine = children[cur]
  if mine == nil then
    mine = setmetatable({}, {__mode = "k"})
    children[cur] = mine
  end
  mine[self] = true
  return Thread.start(self)
end

-- exitcode, read-only: 0 once it has ended, nil before (a thread has no
-- exit status); Thread's properties (daemon, ident, ...) are inherited
class.getters(DummyProcess, setmetatable({
  exitcode = function(self)
    if self._started and not self:is_alive() then return 0 end
    return nil
  end,
}, {__index = rawget(Thread, "__getters")}),
  setmetatable({}, {__index = rawget(Thread, "__setters")}))

class.guard(DummyProcess, {"start"})
class.require_init(DummyProcess)  -- (a subclass has to call its init)
M.Process, M.DummyProcess = DummyProcess, DummyProcess

M.current_process = current_thread

-- the processes the calling thread started that are still running, in the
-- order they were started
function M.active_children()
  local mine, list = children[current_thread()], {}
  if mine == nil then return list end
  for p in pairs(mine) do
    if p:is_alive() then list[#list + 1] = p else mine[p] = nil end
  end
  table.sort(list, function(a, b) return a._seq < b._seq end)
  return list
end

function M.freeze_support() end

-- ---- synchronisation and queues: threading's and queue's ------------------------

for _, name in ipairs{"Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event",
                      "Condition", "Barrier"} do
  M[name] = threading[name]
end
M.Queue = queue.Queue
M.JoinableQueue = queue.Queue  -- Python's queue.Queue has task_done and join

-- ---- Pipe ------------------------------------------------------------------------

-- a Connection receives from one list of messages and sends to another
-- (both ends of a Pipe share the two), each guarded by a Condition
local Connection = Object:extend("Connection")
local function channel() return {cond = threading.Condition(), first = 1, last = 0} end

function Connection:init(inbox, outbox)
  self._in, self._out = inbox, outbox
end

-- send(obj): obj itself goes to the other end (nothing is copied)
function Connection:send(obj)
  local ch = self._out
  ch.cond:acquire()
  ch.last = ch.last + 1
  ch[ch.last] = {obj}  -- boxed: nil is a message too
  ch.cond:notify()
  ch.cond:release()
end

-- recv(): the next message, waiting for one
function Connection:recv()
  local ch = self._in
  ch.cond:acquire()
  while ch.first > ch.last do ch.cond:wait() end
  local box = ch[ch.first]
  ch[ch.first] = nil
  ch.first = ch.first + 1
  ch.cond:release()
  return box[1]
end

-- poll([timeout=0]): whether a message is waiting, after waiting up to
-- timeout seconds for one (nil: no wait, as Python's default 0.0)
function Connection:poll(timeout)
  class.checktimeout(timeout, 1, "poll")
  local ch = self._in
  ch.cond:acquire()
  if ch.first > ch.last and timeout ~= nil and timeout > 0 then
    ch.cond:wait_for(function() return ch.first <= ch.last end, timeout)
  end
  local ready = ch.first <= ch.last
  ch.cond:release()
  return ready
end

Connection.send_bytes, Connection.recv_bytes = Connection.send, Connection.recv
function Connection:close() end  -- as Python's: nothing to release
Connection.__close = Connection.close
class.guard(Connection, {"send", "recv", "poll", "send_bytes", "recv_bytes", "close"})

-- Pipe([duplex=true]) -> two Connections; both can send and receive, as
-- Python's (which ignores duplex here)
local PIPE_FIELDS = class.fields("duplex")
function M.Pipe(...)
  local duplex = ...
  local o = class.args("Pipe", PIPE_FIELDS, 1, ...)
  if o ~= nil then duplex = o.duplex end
  checktype(duplex, "boolean", 1, "Pipe", true)
  local a, b = channel(), channel()
  return Connection(a, b), Connection(b, a)
end
M.Connection = Connection

-- ---- Value and Array -------------------------------------------------------------

-- the arguments of Value or Array: the table of fields of the named form
-- (or nil), typecode, value or sequence, lock (the fields' names are those
-- multiprocessing.Value and Array take, and Python's)
local function value_args(fname, set, ...)
  local typecode, value, lock = ...
  local o = class.args(fname, set, 3, ...)
  if o ~= nil then
    typecode, lock = class.first_field(o, "typecode", "typecode_or_type"), o.lock
    value = class.first_field(o, "value", "init", "sequence", "size_or_table",
                              "size_or_initializer")
  end
  return o, typecode, value, lock
end

-- Value(typecode, value, [lock]): a plain object with a .value field, as
-- Python's (no shared memory, no lock: the typecode is only kept)
local Value = Object:extend("Value")
local VALUE_FIELDS = class.fields("typecode", "typecode_or_type", "value", "init", "lock")
function Value:init(...)
  local _, typecode, value = value_args("Value", VALUE_FIELDS, ...)
  self._typecode = typecode
  self.value = value
end
local function repr(v)
  if type(v) == "string" then return ("'%s'"):format(v) end
  return tostring(v)
end
function Value:__tostring()
  return ("<Value(%s, %s)>"):format(repr(self._typecode), repr(self.value))
end
M.Value = Value

-- Array(typecode, sequence, [lock]) -> a new plain list holding the
-- sequence's elements (Python's is an array.array)
local ARRAY_FIELDS = class.fields("typecode", "typecode_or_type", "sequence", "init",
                                  "size_or_table", "size_or_initializer", "lock")
-- the fields of the positional arguments, for class.named_errors
local ARRAY_ARGS = {{"typecode", "typecode_or_type"},
                    {"sequence", "init", "size_or_table", "size_or_initializer"}, "lock"}
local function copy_sequence(_, sequence)
  checktype(sequence, "table", 2, "Array")
  return table.move(sequence, 1, sequence.n or #sequence, 1, {})
end
function M.Array(...)
  local o, typecode, sequence, lock = value_args("Array", ARRAY_FIELDS, ...)
  return class.named_errors("Array", o, ARRAY_ARGS, copy_sequence, typecode, sequence, lock)
end

-- ---- Pool ------------------------------------------------------------------------

-- Pool([processes], [initializer], [initargs]) or Pool{...} -> a ThreadPool
function M.Pool(...)
  return mp.pool.ThreadPool(threadpool.options("Pool", ...))
end

mp.dummy = M
return M
