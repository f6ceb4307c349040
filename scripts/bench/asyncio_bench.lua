-- asyncio benchmark, the twin of asyncio_bench.py (same workloads, same
-- output): one line per workload, "name cpu wall unit", each the best of
-- 'rounds': the process's CPU time (user + system; what other load on the
-- machine does not change) and the wall-clock time, per operation.
--   cthreads scripts/bench/asyncio_bench.lua [rounds=3] [scale=1]
-- Run both through scripts/bench/asyncio_bench.sh to see the ratios.

local rounds = tonumber(arg[1]) or 3
local scale = tonumber(arg[2]) or 1   -- <1 for a quick check
local wall, cpu = time.perf_counter, os.clock

-- now() -> a pair of clocks; since(t0) -> {cpu, wall} elapsed
local function now() return {cpu(), wall()} end
local function since(t0) return {cpu() - t0[1], wall() - t0[2]} end
local sleep, gather, create_task = asyncio.sleep, asyncio.gather, asyncio.create_task

local NTASKS = math.floor(10000 * scale)
local SWITCHES = 20
local RTT = math.floor(20000 * scale)
local CLIENTS, CLIENT_RTT = 10, math.floor(2000 * scale)

local function best(f)
  local b = {math.huge, math.huge}
  for _ = 1, rounds do
    local t = asyncio.run(f)
    b = {math.min(b[1], t[1]), math.min(b[2], t[2])}
  end
  return b
end

-- prints the best times over 'per' operations, times 'factor'
local function report(name, t, per, factor, unit)
  print(("%s %.1f %.1f %s"):format(name, t[1] / per * factor, t[2] / per * factor, unit))
end

-- 10,000 tasks, each sleeping 0 once: creation, one switch, completion
report("spawn_sleep0", best(function()
  local t0 = now()
  local ts = {}
  for i = 1, NTASKS do ts[i] = create_task(sleep, 0) end
  gather(table.unpack(ts))
  return since(t0)
end), NTASKS, 1e9, "ns/task")

-- 10,000 tasks taking turns: the cost of one task switch
local function switcher()
  for _ = 1, SWITCHES do sleep(0) end
end
report("task_switch", best(function()
  local ts = {}
  for i = 1, NTASKS do ts[i] = create_task(switcher) end
  sleep(0)  -- all started
  local t0 = now()
  gather(table.unpack(ts))
  return since(t0)
end), NTASKS * SWITCHES, 1e9, "ns/switch")

-- 10,000 tasks each sleeping 1 ms: timers; the figure is the whole time
report("sleep_1ms", best(function()
  local t0 = now()
  local ts = {}
  for i = 1, NTASKS do ts[i] = create_task(sleep, 0.001) end
  gather(table.unpack(ts))
  return since(t0)
end), 1, 1e3, "ms/10k")

-- line echo over loopback TCP
local function echo_handler(reader, writer)
  while true do
    local line = reader:readline()
    if line == "" then break end
    writer:write(line)
    writer:drain()
  end
  writer:close()
end

local function echo_client(port, n)
  local reader, writer = asyncio.open_connection("127.0.0.1", port)
  for _ = 1, n do
    writer:write("hello, echo server\n")
    writer:drain()
    reader:readline()
  end
  writer:close()
end

local function echo(nclients, n)
  return function()
    local server = asyncio.start_server(echo_handler, "127.0.0.1", 0)
    local fs = {}
    for i = 1, nclients do fs[i] = function() echo_client(server.port, n) end end
    local t0 = now()
    gather(table.unpack(fs))
    local t = since(t0)
    server:close()
    return t
  end
end

report("echo_rtt", best(echo(1, RTT)), RTT, 1e6, "us/roundtrip")
report("echo_10clients", best(echo(CLIENTS, CLIENT_RTT)), CLIENTS * CLIENT_RTT, 1e6,
       "us/roundtrip")
