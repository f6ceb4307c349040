-- Ports: course 002 (Day 10), 进程间通信 > Pipe (f(conn) sends two lists, then
--        receives); also course 004 (notes), 管道 (send, recv, close).
-- Teaches: Pipe() gives two connected ends (双向管道, like the two ends of a
-- socket): whatever one end send()s, the other recv()s, in order. recv()
-- waits for a message; once the other end is closed (in every process) and
-- all is read, it raises EOFError.
-- The course's child waits for a second message the parent never sends, so
-- that program hangs in p.join(); here the parent sends a second one.
-- Run: cthreads --gil processes/14_pipe.lua

local function show(t)
  if type(t) ~= "table" then return tostring(t) end
  local parts = {}
  for i = 1, 3 do
    local v = t[i]
    parts[i] = type(v) == "string" and ("'" .. v .. "'") or tostring(v)
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function f(conn)
  conn:send({42, nil, "hello"})
  conn:send({41, nil, "hello"})
  print("from parent " .. conn:recv())
  print("from 2 " .. conn:recv())
  conn:close()
end

local parent_conn, child_conn = multiprocessing.Pipe()
local p = multiprocessing.Process{target = f, args = {child_conn}}
p:start()
child_conn:close()              -- the parent does not use the child's end
print(show(parent_conn:recv()))  -- [42, nil, 'hello']
parent_conn:send("hello son")
parent_conn:send("hello again")  -- (added: the child's second recv() needs it)
print(show(parent_conn:recv()))  -- [41, nil, 'hello']
p:join()
local ok, err = pcall(parent_conn.recv, parent_conn)
print(ok and "recv() after the child closed its end returned?!"
         or "recv() after the child closed its end: " .. tostring(err):gsub("^.-:%d+: ", ""))
