-- What every stress script (spec/stress/*.lua) shares: its arguments, the
-- threads that run the workload, the failures they record and the verdict.
-- Loaded by path (dofile), so each script runs alone:
--   cthreads [--gil|--no-gil] spec/stress/tables.lua [N] [SCALE]
-- N threads (default 4) run a fixed number of operations, multiplied by
-- SCALE (default 1); exit 0 when every invariant holds, else the failures
-- are printed and the exit status is 1.

local H = {}

local MAX_SHOWN = 30  -- failures kept for printing; all are counted

local fail_lock = threading.Lock()
local failures, nfailures = {}, 0

-- records one failed invariant (any thread); the message is formatted here
function H.fail(fmt, ...)
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  fail_lock:acquire()
  nfailures = nfailures + 1
  if #failures < MAX_SHOWN then failures[#failures + 1] = msg end
  fail_lock:release()
end

function H.check(cond, fmt, ...)
  if not cond then H.fail(fmt, ...) end
  return cond
end

function H.failed() return nfailures end

-- N and SCALE from the command line, checked
function H.args(name)
  H.name = name
  local n = math.tointeger(tonumber(arg and arg[1] or 4))
  local scale = tonumber(arg and arg[2] or 1)
  if not n or n < 1 or not scale or scale <= 0 then
    io.stderr:write(("usage: cthreads %s.lua [N threads >= 1] [SCALE > 0]\n"):format(name))
    os.exit(2)
  end
  H.N, H.SCALE = n, scale
  -- with the GIL on, hand it over often, so that the threads interleave
  -- at many more points than with the default 5 ms (no effect GIL off)
  threading.setswitchinterval(tonumber(os.getenv("STRESS_SWITCH_INTERVAL")) or 5e-5)
  return n, scale
end

-- an operation count scaled by SCALE (at least 1)
function H.ops(base)
  return math.max(1, math.floor(base * H.SCALE + 0.5))
end

-- runs body(tid, N) in N threads (tid = 1..N) that start together (a
-- Barrier) and joins them all; an error raised by a body is a failure
function H.run(n, body)
  local start = threading.Barrier(n)
  local threads = {}
  for tid = 1, n do
    threads[tid] = threading.Thread{name = ("stress-%d"):format(tid), target = function()
      start:wait()
      local ok, err = xpcall(body, debug.traceback, tid, n)
      if not ok then H.fail("thread %d raised: %s", tid, tostring(err)) end
    end}
    threads[tid]:start()
  end
  for tid = 1, n do threads[tid]:join() end
end

-- number of keys of a table
function H.count(t)
  local c = 0
  for _ in pairs(t) do c = c + 1 end
  return c
end

-- prints the verdict and exits: 0 when nothing failed, else 1
function H.finish(summary)
  local mode = threading.gil_enabled() and "gil-on" or "gil-off"
  if nfailures == 0 then
    print(("%s N=%d SCALE=%g %s: ok%s"):format(H.name, H.N, H.SCALE, mode,
      summary and (", " .. summary) or ""))
    io.stdout:flush()
    os.exit(0)
  end
  print(("%s N=%d SCALE=%g %s: %d invariant(s) failed%s"):format(H.name, H.N, H.SCALE,
    mode, nfailures, nfailures > #failures and (", the first " .. #failures) or ""))
  for _, msg in ipairs(failures) do print("  " .. msg) end
  io.stdout:flush()
  os.exit(1)
end

return H
