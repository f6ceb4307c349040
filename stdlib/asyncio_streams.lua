-- asyncio's streams: start_server, open_connection, StreamReader and
-- StreamWriter over the native nonblocking sockets (bindings/ct_aio_sock.c).
-- A read that would block registers the task as the socket's reader and
-- suspends it until epoll says the socket is readable. Loaded by
-- stdlib/asyncio.lua, which passes the module table and the internals.

local native = require("cthreads.native.asyncio")
local class = require("cthreads.class")
local Object, checktype, argerror = class.Object, class.checktype, class.argerror
local concat = table.concat
local traceback = debug.traceback
local READ, WRITE, DRAIN = native.READ, native.WRITE, native.DRAIN

return function(M, core)  -- the rest of the file is this function's body
local running_task, outside, suspend = core.running_task, core.outside, core.suspend
local raise_cancelled, CANCEL = core.raise_cancelled, core.CANCEL
local new_task, here, check_open = core.new_task, core.here, core.check_open
local wake_io, report, error_text = core.wake_io, core.report, core.error_text
local is_cancelled_error = core.is_cancelled_error

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

end
