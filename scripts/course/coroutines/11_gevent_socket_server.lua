-- Ports: course 003 (English), "gevent implements a single-threaded socket
--        concurrency" (server: accept loop spawning talk(conn, addr) per client,
--        replying with the message upper-cased; client: send input lines).
-- Teaches: one thread serves several clients at once: each connection gets
-- its own task (asyncio.start_server runs handler(reader, writer) per
-- client), and a task waiting for its client's next line lets the others
-- run. The server listens on 127.0.0.1, port 0 (the system picks a free
-- port, server.port tells which). The course's client sends what you type;
-- here CLIENTS clients each send three fixed lines.
-- Usage: cthreads --gil coroutines/11_gevent_socket_server.lua [clients=2]

local CLIENTS = math.tointeger(tonumber(arg and arg[1])) or 2
local MESSAGES = {"hello", "gevent", "bye"}
local served, replies = 0, 0

local function talk(reader, writer)   -- one task per connection
  served = served + 1
  local id = served
  while true do
    local line = reader:readline()
    if line == "" then break end        -- the client closed the connection
    local msg = line:gsub("\n$", "")
    print(("server: client %d msg: %s"):format(id, msg))
    writer:write(msg:upper() .. "\n")   -- conn.send(res.upper())
    writer:drain()
  end
  writer:close()
end

local function client(id, port)
  local reader, writer = asyncio.open_connection("127.0.0.1", port)
  for _, msg in ipairs(MESSAGES) do
    writer:write(msg .. "\n")
    writer:drain()
    local reply = reader:readline():gsub("\n$", "")
    print(("client %d got %s"):format(id, reply))
    replies = replies + 1
  end
  writer:close()
end

asyncio.run(function()
  local server = asyncio.start_server(talk, "127.0.0.1", 0)
  print("server listening on 127.0.0.1 port " .. server.port)
  local tasks = {}
  for i = 1, CLIENTS do tasks[i] = asyncio.create_task(client, i, server.port) end
  asyncio.gather(table.unpack(tasks))
  server:close()
end)
print(("one thread served %d clients: %d replies of %d"):format(served, replies, CLIENTS * #MESSAGES))
