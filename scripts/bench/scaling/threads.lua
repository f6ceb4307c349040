-- Runs a benchmark program (speed/*.lua, count.lua) in N threads at once,
-- each thread doing the whole one-thread amount of work on its own copy
-- (see program.lua), as CPython's scaling benchmark does.
-- usage: cthreads threads.lua PROGRAM SIZE N
-- Prints "time S": wall seconds from releasing the threads (all started
-- and waiting on an Event) to the last join; "parallel X": the process'
-- CPU time over that wall time (about 1 with the GIL on, up to min(N,
-- cores) with it off); "checksum C": the program's checksum, which every
-- thread must agree on (exit 1 otherwise).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local load_program = dofile(dir .. "/program.lua")
local path, size, n = arg[1], tonumber(arg[2]), math.tointeger(tonumber(arg[3]))
if not (path and size and n and n >= 1) then
  io.stderr:write("usage: cthreads threads.lua PROGRAM SIZE N\n")
  os.exit(2)
end

local function checksum(lines)
  for _, l in ipairs(lines) do
    local c = l:match("^checksum (.*)$")
    if c then return c end
  end
  return nil
end

local go = threading.Event()
local results, workers = {}, {}
for i = 1, n do
  results[i] = false  -- every slot exists before the threads write theirs
  local program, lines = load_program(path, size)
  workers[i] = threading.Thread{name = "worker-" .. i, target = function ()
    go:wait()
    program()
    results[i] = checksum(lines) or "(no checksum)"
  end}
  workers[i]:start()
end
local c0, t0 = os.clock(), time.perf_counter()
go:set()
for _, w in ipairs(workers) do w:join() end
local wall = time.perf_counter() - t0
local cpu = os.clock() - c0

for i = 2, n do
  if results[i] ~= results[1] then
    io.stderr:write(("checksum mismatch: thread 1 %s, thread %d %s\n")
      :format(tostring(results[1]), i, tostring(results[i])))
    os.exit(1)
  end
end
if not results[1] then os.exit(1) end  -- the thread failed (excepthook printed it)
print(("time %.6f"):format(wall))
print(("parallel %.3f"):format(cpu / wall))
print("checksum " .. results[1])
