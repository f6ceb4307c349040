-- Single-thread speed while other threads run: times a benchmark program
-- (speed/*.lua) in the main thread, alone (BUSY = 0) or while BUSY other
-- threads run a CPU-bound loop the whole time.
-- usage: cthreads beside.lua PROGRAM SIZE BUSY
-- Prints "wall S" (the program's wall time: its own "time" line is the
-- process' CPU time, which would count the busy threads) and "checksum C".
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local load_program = dofile(dir .. "/program.lua")
local path, size, busy = arg[1], tonumber(arg[2]), math.tointeger(tonumber(arg[3]))
if not (path and size and busy and busy >= 0) then
  io.stderr:write("usage: cthreads beside.lua PROGRAM SIZE BUSY\n")
  os.exit(2)
end

local state = {stop = false}
local spinners = {}
for i = 1, busy do
  local running = threading.Event()
  spinners[i] = threading.Thread{name = "busy-" .. i, target = function ()
    running:set()
    local s = 0
    repeat
      for k = 1, 100000 do s = s + k end
    until state.stop
  end}
  spinners[i]:start()
  running:wait()
end

local program, lines = load_program(path, size)
local t0 = time.perf_counter()
program()
local wall = time.perf_counter() - t0
state.stop = true
for _, t in ipairs(spinners) do t:join() end

print(("wall %.6f"):format(wall))
for _, l in ipairs(lines) do
  if l:match("^checksum ") then print(l) end
end
