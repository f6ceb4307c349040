-- The machine's own ceiling for threads.lua's figures: the same program in
-- N forked processes at once instead of N threads (each child has one
-- thread, so it runs Lua's stock paths and shares nothing). On a machine
-- whose cores slow each other down (a shared cache, a noisy host, a VM's
-- virtual CPUs) N processes do not reach Nx either, and threads cannot do
-- better than that.
-- usage: cthreads processes.lua PROGRAM SIZE N
-- Prints "time S" (wall seconds from releasing the children, all forked and
-- waiting on an Event, to the moment the last one finished its program, as
-- the child reads the monotonic clock: its exit is not counted) and "checksum C" (every child's
-- must agree; exit 1 otherwise).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local load_program = dofile(dir .. "/program.lua")
local path, size, n = arg[1], tonumber(arg[2]), math.tointeger(tonumber(arg[3]))
if not (path and size and n and n >= 1) then
  io.stderr:write("usage: cthreads processes.lua PROGRAM SIZE N\n")
  os.exit(2)
end

local mp = multiprocessing
local go, ready, sums = mp.Event(), mp.Semaphore(0), mp.Queue()
local children = {}
for i = 1, n do
  local program, lines = load_program(path, size)  -- a bad path fails here, not in a child
  children[i] = mp.Process{target = function ()
    ready:release()
    go:wait()
    program()
    local finished = time.perf_counter()
    for _, l in ipairs(lines) do
      local c = l:match("^checksum (.*)$")
      if c then sums:put({c, finished}) return end
    end
    sums:put({"(no checksum)", finished})
  end}
  children[i]:start()
end
for i = 1, n do
  if not ready:acquire(true, 60) then
    io.stderr:write(("child %d did not start\n"):format(i))
    for _, c in ipairs(children) do c:kill() end
    os.exit(1)
  end
end
local t0 = time.perf_counter()
go:set()
local results = {}
for i = 1, n do
  local ok, r = pcall(sums.get, sums, true, 600)
  if not ok then
    io.stderr:write(("no result from %d of the children (a child failed)\n"):format(n - i + 1))
    for _, c in ipairs(children) do c:kill() end
    os.exit(1)
  end
  results[i] = r
end
for _, c in ipairs(children) do c:join() end

local first, last = nil, t0
for i = 1, n do
  local c = results[i][1]
  last = math.max(last, results[i][2])
  first = first or c
  if c ~= first or children[i].exitcode ~= 0 then
    io.stderr:write(("child %d: checksum %s, exit code %s\n")
      :format(i, tostring(c), tostring(children[i].exitcode)))
    os.exit(1)
  end
end
print(("time %.6f"):format(last - t0))
print("checksum " .. first)
