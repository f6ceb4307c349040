-- asyncio's streams: start_server, open_connection, StreamReader and
-- StreamWriter over the native nonblocking sockets. Reading and writing
-- are native methods (bindings/ct_aio_stream.c) that suspend the task
-- themselves when they would block; the rest is here. Loaded by
-- stdlib/asyncio.lua, which passes the module table and the internals.

local native = require("cthreads.native.asyncio")
local class = require("cthreads.class")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local traceback = debug.traceback
local READ, WRITE = native.READ, native.WRITE

return function(M, core)  -- the rest of the file is this function's body
local running_task, outside = core.running_task, core.outside
local new_task, here, check_open, wake = core.new_task, core.here, core.check_open, core.wake
local report, error_text = core.report, core.error_text
local is_cancelled_error = core.is_cancelled_error

-- ---- streams ----------------------------------------------------------------------
-- A reader and a writer are tables holding their socket at [1], where the
-- native methods look for it. The native methods check that their self
-- is a StreamReader (or a StreamWriter), hence the classes in their
-- configuration.

local StreamReader = Object:extend("StreamReader")
M.StreamReader = StreamReader
local StreamWriter = Object:extend("StreamWriter")
M.StreamWriter = StreamWriter
core.made_by(StreamReader, "asyncio.open_connection or a start_server handler's reader")
core.made_by(StreamWriter, "asyncio.open_connection or a start_server handler's writer")

local methods = native.stream_methods{
  reader = StreamReader, writer = StreamWriter,
  WAIT = core.WAIT, CANCEL = core.CANCEL,
  raise_cancelled = core.raise_current_cancelled,
  -- Python's fields: partial (what was read), expected (nil for readuntil)
  incomplete = function(partial, expected)
    local e = M.IncompleteReadError(("%d bytes read on a total of %s expected bytes")
                                    :format(#partial, tostring(expected)))
    e.partial, e.expected = partial, math.tointeger(expected)
    return e
  end,
  undo_key = "_undo", undo_arg_key = "_undo_arg",
}
local sock_wait = methods.wait

-- read([n=-1]): up to n bytes, at least one unless the stream ended ("");
-- n < 0 reads until the end of the stream
StreamReader.read = methods.read
-- readline(): a line with its "\n"; at the end of the stream what is left
-- (a last line without "\n", or "")
StreamReader.readline = methods.readline
-- readuntil([sep="\n"]): data up to and including sep; IncompleteReadError
-- if the stream ends first
StreamReader.readuntil = methods.readuntil
-- readexactly(n): exactly n bytes; IncompleteReadError if the stream ends first
StreamReader.readexactly = methods.readexactly
StreamReader.at_eof = methods.at_eof

-- lines(): for line in reader:lines() do ... end (lines keep their "\n")
function StreamReader:lines()
  return function()
    local line = self:readline()
    if line ~= "" then return line end
  end
end

-- write(data): queued at once (never waits); drain() waits if too much is
-- pending, and raises if the connection was lost
StreamWriter.write = methods.write
StreamWriter.drain = methods.drain
-- wait_closed(): after close(), waits until the output is flushed and the
-- socket closed
StreamWriter.wait_closed = methods.wait_closed

-- writelines(list): every item is checked before any is written, so a
-- bad one (named by its index) writes nothing
function StreamWriter:writelines(list)
  checktype(list, "table", 1, "writelines")
  for i, d in ipairs(list) do
    local t = type(d)
    if t ~= "string" and t ~= "number" then
      argerror(1, "writelines", ("string expected at index %d, got %s"):format(
        i, class.typename(d)))
    end
  end
  for _, d in ipairs(list) do self:write(d) end
end

-- the native methods, named in errors when called without a name
-- (pcall(reader.read, nil)): see class.name_methods
class.name_methods("aio", StreamReader, {"read", "readline", "readuntil", "readexactly",
                                         "at_eof"})
class.name_methods("aio", StreamWriter, {"write", "drain", "wait_closed"})

local function wake_all(...)
  for i = 1, select("#", ...) do wake((select(i, ...))) end
end

-- close(): sends what is buffered, then closes; a task reading the same
-- connection gets "" from now on
function StreamWriter:close()
  wake_all(self[1]:close())
end

function StreamWriter:is_closing() return self[1]:is_closing() end
function StreamWriter:write_eof() self[1]:write_eof() end
function StreamWriter:can_write_eof() return true end

-- get_extra_info("peername" | "sockname") -> {host, port}
function StreamWriter:get_extra_info(name, default)
  local s = self[1]
  local host, port
  if name == "peername" then host, port = s:peername()
  elseif name == "sockname" then host, port = s:sockname() end
  if host == nil then return default end
  return {host, port}
end

StreamWriter.__close = StreamWriter.close

local function new_streams(loop, s)
  loop._socks[s:id()] = s
  local r = setmetatable({s}, StreamReader)
  local w = setmetatable({s}, StreamWriter)
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
  if me == nil then outside("asyncio.open_connection") end
  checktype(host, "string", 1, "open_connection", true)
  port = check_port(port, 2, "open_connection")
  local loop = me._loop
  local addrs, msg = native.resolve(host, port, false)
  if not addrs then class.caller_error(msg) end
  local last = "no address"
  for _, addr in ipairs(addrs) do
    local s, pending = native.connect(loop._h, addr)
    if s then
      loop._socks[s:id()] = s
      if pending then
        local ok, err = pcall(sock_wait, s, WRITE)
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
      if s then return new_streams(loop, s) end
    else
      last = pending
    end
  end
  -- (at the script's line, even when a task tail-calls this: error level
  -- 2 was the library's task runner then)
  class.caller_error(("cannot connect to %s:%d: %s"):format(host or "localhost", port, last))
end

local Server = Object:extend("Server")
M.Server = Server
core.made_by(Server, "asyncio.start_server(handler, host, port)")

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
  loop._socks[ls:id()] = ls
  while not ls:is_closed() do
    local ok, c = pcall(ls.accept, ls)
    if not ok then
      report("asyncio: " .. error_text(c))
      M.sleep(0.1)
    elseif c then
      new_task(loop, serve_client, server, new_streams(loop, c))
    else
      sock_wait(ls, READ)
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
  if backlog ~= nil and math.tointeger(backlog) == nil then
    argerror(4, "start_server", "number has no integer representation")
  end
  -- (the native listen takes an int: beyond it, the system's maximum)
  if backlog ~= nil then backlog = math.max(math.min(math.tointeger(backlog), 65535), 0) end
  local loop = here()
  check_open(loop)
  local addrs, msg = native.resolve(host, port, true)
  if not addrs then class.caller_error(msg) end
  local socks, last = {}, "no address"
  for _, addr in ipairs(addrs) do
    if port == 0 and #socks > 0 then  -- one ephemeral port for all addresses
      addr = native.with_port(addr, select(2, socks[1]:sockname()))
    end
    local s, err = native.listen(loop._h, addr, backlog or 100)
    if s then
      socks[#socks + 1] = s
    else
      last = err
    end
  end
  if #socks == 0 then
    class.caller_error(("cannot listen on %s:%d: %s"):format(host or "*", port, last))
  end
  local _, bound = socks[1]:sockname()
  local server = setmetatable({
    _loop = loop, _handler = handler, _socks = socks, _tasks = {},
    _conns = setmetatable({}, {__mode = "k"}), _closed = M.Event(),
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
  for _, s in ipairs(self._socks) do wake_all(s:abort()) end
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

-- never raises, even for a table made a Server by hand
function Server:__tostring()
  local closed = rawget(self, "_closed")
  local serving = Object.is(M.Event, closed) and not closed:is_set()
  return ("<Server port=%s %s>"):format(tostring(rawget(self, "port")),
                                        serving and "serving" or "closed")
end

end
