-- GIL wake-up latency: one thread sleeps 1 ms in a loop while another runs
-- a CPU-bound loop; the delay of each wake-up is the time the sleep really
-- took less 1 ms (the OS timer's slack, plus the wait for the GIL). Run
-- with no CPU-bound thread too, for the OS's part alone. Twin: wakeup.py.
-- usage: cthreads wakeup.lua [SAMPLES]; prints "idle_median S", "idle_p99 S",
-- "busy_median S", "busy_p99 S", "busy_max S"
local SAMPLES = tonumber(arg[1]) or 300
local clock = time.perf_counter

local function sample(n)
  local d = {}
  for k = 1, n do
    local t0 = clock()
    time.sleep(0.001)
    d[k] = clock() - t0 - 0.001
  end
  table.sort(d)
  return d
end

local function quantile(sorted, q)
  return sorted[math.max(1, math.ceil(q * #sorted))]
end

local idle = sample(SAMPLES)

local stop = false
local spinner = threading.Thread{target = function()
  local x = 0
  while not stop do
    for i = 1, 1000 do x = x + i end
  end
end}
spinner:start()
time.sleep(0.02)  -- the spinner is running and holds the GIL
local busy = sample(SAMPLES)
stop = true
spinner:join()

print(("idle_median %.9f"):format(quantile(idle, 0.5)))
print(("idle_p99 %.9f"):format(quantile(idle, 0.99)))
print(("busy_median %.9f"):format(quantile(busy, 0.5)))
print(("busy_p99 %.9f"):format(quantile(busy, 0.99)))
print(("busy_max %.9f"):format(busy[#busy]))
