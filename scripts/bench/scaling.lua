-- What turning the GIL off buys (issue 3), GIL on and GIL off measured side
-- by side in one run, each cthreads figure beside lua5.4's or python3's:
--   cpu    CPU-bound scaling: the course's `res = res + i` loop, nbody and
--          fib in 1, 2, 4, 8, 16 threads, each thread doing the one-thread
--          amount of work; speedup = one-thread time x N / N-thread time
--          (as CPython's scaling benchmark computes it); python3 (GIL) runs
--          the loop and fib in 1 and 2 threads for reference;
--   speed  single-thread speed of `--gil` and `--no-gil` against lua5.4 on
--          speed/'s programs, and each program's wall time with the GIL off
--          while one other thread runs a CPU-bound loop against it alone;
--   alloc  allocation-heavy programs (binary-trees, string building) in 1
--          and 2 threads, with the GC pause figures of `--stats`;
--   race   `count = count + 1` on a global from 2 threads, 1,000,000 times
--          each: the updates lost, and the exact count under a Lock.
-- Until `cthreads --no-gil` works it prints "GIL off: not available (...)"
-- where the GIL-off figures would be. Every program prints a checksum that
-- must equal lua5.4's (and python3's): a difference, or a wrong count under
-- the Lock, fails the run (exit 1); a missed goal prints "GOAL MISSED".
--
-- usage: lua5.4 scripts/bench/scaling.lua [--quick|--smoke] [--rounds=N] [cpu|speed|alloc|race]
--   --quick  smaller inputs, 1, 2 and 4 threads only, 5 rounds (a few minutes)
--   --rounds=N  rounds of the CPU-bound tables (default 3, --quick 5): more
--            rounds steady the medians on a machine whose speed moves
--   --smoke  tiny inputs, 1 and 2 threads, one run each: checks that it
--            all works, measures nothing (scripts/test/bench_smoke.sh)
-- env: CTHREADS, LUA, PYTHON (the interpreters)
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local B = require("benchlib")

local opts = B.parse_args(arg)
local rounds_arg
for _, a in ipairs(arg) do
  local n = a:match("^%-%-rounds=(%d+)$")
  if n and tonumber(n) >= 1 then rounds_arg = tonumber(n)
  elseif a:match("^%-%-rounds") then
    io.stderr:write("scaling.lua: --rounds=N needs a whole number N >= 1\n")
    os.exit(2)
  end
end
B.need_cthreads()
local selected = {}
for _, n in ipairs(opts.names) do selected[n] = true end
local function wanted(n) return next(selected) == nil or selected[n] end

-- inputs per thread and repetitions, by profile
local P
if opts.smoke then
  P = {threads = {1, 2}, reps = 1, py_reps = 1, speed_col = 4, race_n = 100000, race_runs = 1,
       count = 200000, fib = 18, nbody = 1000, binarytrees = 6, strings = 1000}
elseif opts.quick then
  P = {threads = {1, 2, 4}, reps = 5, py_reps = 1, speed_col = 3, race_n = 1000000, race_runs = 1,
       count = 8000000, fib = 28, nbody = 20000, binarytrees = 11, strings = 20000}
else
  P = {threads = {1, 2, 4, 8, 16}, reps = 3, py_reps = 2, speed_col = 2, race_n = 1000000,
       race_runs = 3, count = 20000000, fib = 31, nbody = 60000, binarytrees = 13,
       strings = 50000}
end
if rounds_arg then P.reps = rounds_arg end

local have_python = B.have(B.python)
local ct = B.quote(B.cthreads)
local py = B.quote(B.python)
local lua = B.quote(B.lua)
local function script(rel) return B.quote(B.dir .. "/" .. rel) end

-- the modes: GIL on always; GIL off when `cthreads --no-gil` runs
local MODES = {{label = "GIL on", flag = "--gil"}}
local off_out, off_ok = B.run(ct .. " --no-gil -e ''")
local off_reason
if off_ok then
  MODES[2] = {label = "GIL off", flag = "--no-gil"}
else
  off_reason = off_out:match("[^\n]+") or "exit status not 0"
end
-- where the GIL-off figures would be (the whole reason is printed once, at the top)
local function say_off_missing()
  if off_reason then print("GIL off: not available (`cthreads --no-gil` fails: see the top)") end
end

-- a goal's verdict; --smoke's inputs are too small for one
local function goal(ok)
  if opts.smoke then return "not judged (--smoke)" end
  return B.goal(ok)
end

local failed = false
local mismatches = {}

-- the checksum lua5.4 prints for a program and input, computed once
local references = {}
local function reference(program, size)
  local key = program .. " " .. size
  if not references[key] then
    local f = B.measure(lua .. " " .. script(program) .. " " .. size, "checksum")
    references[key] = f.checksum
  end
  return references[key]
end

-- records a checksum that differs from the expected one; returns the
-- marker for the table row ("" when it agrees)
local function check(what, got, want)
  if got == want then return "" end
  mismatches[#mismatches + 1] = ("%s: %s, expected (lua5.4) %s"):format(what, got, want)
  return " CHECKSUM MISMATCH"
end

-- like B.measure, also returning the whole output
local function measure_out(cmd, ...)
  local out, ok = B.run(cmd)
  local f = B.fields(out)
  for _, k in ipairs({...}) do
    if f[k] == nil then ok = false end
  end
  if not ok then
    io.stderr:write("benchmark failed: ", cmd, "\n", out, "\n")
    os.exit(1)
  end
  return f, out
end

local function x(v) return v == v and ("%.2fx"):format(v) or "n/a" end

local nproc = B.run("nproc"):match("%d+") or "?"
print(("== Scaling (issue 3): cthreads GIL on vs GIL off%s; nproc %s")
  :format(opts.smoke and " (--smoke: tiny inputs, the figures mean nothing)" or "", nproc))
if off_reason then print(("GIL off: not available (%s)"):format(off_reason)) end
if not have_python then print(("(%s not found: no python3 columns)"):format(B.python)) end
print()

-- ---- 1. CPU-bound scaling -------------------------------------------------

local CPU = {
  {name = "count", program = "scaling/count.lua", size = P.count, py = "count",
   what = "the course's loop `res = res + i`, %d iterations per thread"},
  {name = "nbody", program = "speed/nbody.lua", size = P.nbody,
   what = "nbody, %d steps per thread"},
  {name = "fib", program = "speed/fib.lua", size = P.fib, py = "fib",
   what = "naive recursive fib(%d) per thread"},
}

-- The host moves this VM's speed by up to 2x from one second to the next, so
-- the speedups are taken within a round: each round measures 1..N threads in
-- both modes and the same work in 1..N processes one right after another,
-- and a round's speedup compares runs made seconds apart. The table gives the
-- best time of all rounds and the median of the rounds' speedups (a "best
-- of" taken separately for 1 and N threads pairs a lucky 1-thread run with
-- an ordinary N-thread one).
local function scaling(w)
  local want = reference(w.program, w.size)
  -- best[m][n] = {time=, parallel=}; m: mode index, n: thread count;
  -- round[m][r][n] = the time of round r
  local best, round = {}, {}
  for m = 1, #MODES do best[m], round[m] = {}, {} end
  local proc_best, proc_round = {}, {}
  for r = 1, P.reps do
    for m = 1, #MODES do round[m][r] = {} end
    proc_round[r] = {}
    for _, n in ipairs(P.threads) do
      for i = 1, #MODES do
        local m = r % 2 == 1 and i or #MODES + 1 - i
        local f = B.measure(("%s %s %s %s %d %d"):format(ct, MODES[m].flag,
          script("scaling/threads.lua"), script(w.program), w.size, n),
          "time", "parallel", "checksum")
        local mark = check(("%s, %d threads, %s"):format(w.name, n, MODES[m].label),
                           f.checksum, want)
        local t = tonumber(f.time)
        round[m][r][n] = t
        if not best[m][n] or t < best[m][n].time then
          best[m][n] = {time = t, parallel = tonumber(f.parallel), mark = ""}
        end
        if mark ~= "" then best[m][n].mark = mark end
      end
      -- the ceiling: the same work in N processes (see scaling/processes.lua)
      local f = B.measure(("%s --gil %s %s %d %d"):format(ct, script("scaling/processes.lua"),
        script(w.program), w.size, n), "time", "checksum")
      check(("%s, %d processes"):format(w.name, n), f.checksum, want)
      proc_round[r][n] = tonumber(f.time)
      proc_best[n] = math.min(proc_best[n] or math.huge, proc_round[r][n])
    end
  end
  local py_best = {}
  if w.py and have_python then
    for _ = 1, P.py_reps do
      for _, n in ipairs({1, 2}) do
        local f = B.measure(("%s %s %s %d %d"):format(py, script("scaling/threads.py"),
          w.py, w.size, n), "time", "checksum")
        check(("%s, %d threads, python3"):format(w.name, n), f.checksum, want)
        py_best[n] = math.min(py_best[n] or math.huge, tonumber(f.time))
      end
    end
  end

  local function speedup1(times, n) return times[1] * n / times[n] end
  -- the median over the rounds of each round's speedup
  local function median_speedup(rounds, n)
    local each = {}
    for r = 1, #rounds do each[r] = speedup1(rounds[r], n) end
    return B.median(each)
  end
  local head1, head2 = {""}, {"threads"}
  for _, mode in ipairs(MODES) do
    for _, c in ipairs({mode.label, "", ""}) do head1[#head1 + 1] = c end
    for _, c in ipairs({"time", "speedup", "cpu/wall"}) do head2[#head2 + 1] = c end
  end
  for _, c in ipairs({"processes", ""}) do head1[#head1 + 1] = c end
  for _, c in ipairs({"time", "speedup"}) do head2[#head2 + 1] = c end
  if w.py and have_python then
    for _, c in ipairs({"python3", ""}) do head1[#head1 + 1] = c end
    for _, c in ipairs({"time", "speedup"}) do head2[#head2 + 1] = c end
  end
  local rows = {head1, head2}
  for _, n in ipairs(P.threads) do
    local row = {tostring(n)}
    for m = 1, #MODES do
      for _, c in ipairs({B.dur(best[m][n].time), x(median_speedup(round[m], n)),
                          ("%.2f"):format(best[m][n].parallel) .. best[m][n].mark}) do
        row[#row + 1] = c
      end
    end
    row[#row + 1] = B.dur(proc_best[n])
    row[#row + 1] = x(median_speedup(proc_round, n))
    if w.py and have_python then
      row[#row + 1] = py_best[n] and B.dur(py_best[n]) or "-"
      row[#row + 1] = py_best[n] and x(speedup1(py_best, n)) or "-"
    end
    rows[#rows + 1] = row
  end
  print(("== CPU-bound scaling: %s (nproc %s; %d rounds: best time, median speedup%s)"):format(
    w.what:format(w.size), nproc, P.reps,
    w.py and have_python and (", python3: best of %d"):format(P.py_reps) or ""))
  B.table(rows)
  say_off_missing()
  local on2 = median_speedup(round[1], 2)
  print(("goal: --gil, 2 threads no more than 1.05x one thread (%s): %s")
    :format(x(on2), goal(on2 <= 1.05)))
  if MODES[2] then
    local off2 = median_speedup(round[2], 2)
    local proc2 = median_speedup(proc_round, 2)
    print(("goal: GIL off, 2 threads at least 1.85x one thread (%s): %s")
      :format(x(off2), goal(off2 >= 1.85)))
    print(("     (the machine's ceiling, 2 processes: %s; GIL-off threads reach %.0f%% of it)")
      :format(x(proc2), off2 / proc2 * 100))
    local each = {}
    for r = 1, P.reps do
      each[r] = ("%.2f/%.2f"):format(speedup1(round[2][r], 2), speedup1(proc_round[r], 2))
    end
    print("     (each round, GIL-off threads/processes: " .. table.concat(each, " ") .. ")")
  end
  print()
end

if wanted("cpu") then
  for _, w in ipairs(CPU) do scaling(w) end
  print("(time: wall time for N threads each doing the one-thread amount, the best of the\n"
    .. " rounds; speedup: one-thread time x N / N-thread time within a round, the median of\n"
    .. " the rounds; cpu/wall: CPU time used over wall time, ~1 when one\n"
    .. " thread runs at a time, up to min(N, cores) when they run in parallel;\n"
    .. " processes: the same program in N forked processes at once, the most this\n"
    .. " machine's cores give when nothing is shared)")
  print()
end

-- ---- 2. Single-thread speed ---------------------------------------------

local speed_times = {}  -- lua5.4's best time per program, for the second table

local function speed_set()
  local its = {{name = "lua5.4", cmd = lua}}
  for _, mode in ipairs(MODES) do
    its[#its + 1] = {name = "cthreads " .. mode.flag, cmd = ct .. " " .. mode.flag}
  end
  local head = {"program", "input", "lua5.4"}
  for k = 2, #its do
    head[#head + 1] = its[k].name
    head[#head + 1] = "ratio"
  end
  local rows, ratios, spreads = {head}, {}, {}
  for k = 2, #its do ratios[k] = {} end
  for _, bench in ipairs(B.SPEED) do
    local name, size = bench[1], bench[P.speed_col]
    local best, sums = B.speed_best(its, name, size, P.reps, spreads)
    speed_times[name] = best[1]
    local row = {name, tostring(size), B.dur(best[1])}
    for k = 2, #its do
      local ratio = best[k] / best[1]
      ratios[k][#ratios[k] + 1] = ratio
      row[#row + 1] = B.dur(best[k])
      row[#row + 1] = ("%.3f"):format(ratio)
        .. check(("%s %s, %s"):format(name, size, its[k].name), sums[k], sums[1])
    end
    rows[#rows + 1] = row
  end
  local gm_row, gm = {"geometric mean", "", ""}, {}
  for k = 2, #its do
    gm[k] = B.geomean(ratios[k])
    gm_row[#gm_row + 1] = ""
    gm_row[#gm_row + 1] = ("%.3f"):format(gm[k])
  end
  rows[#rows + 1] = gm_row
  print(("== Single-thread speed: cthreads against lua5.4 (speed/ programs, best of %d runs, CPU time)")
    :format(P.reps))
  B.table(rows)
  if #spreads > 0 then
    print(("(noise: the second best run is %.1f%% slower than the best, median)")
      :format(B.median(spreads) * 100))
  end
  say_off_missing()
  print(("(--gil: geometric mean %.3f; its own goal, within 3%%, is speed.lua's)"):format(gm[2]))
  if MODES[2] then
    print(("goal: GIL off within 10%% of lua5.4 (geometric mean of time ratios %.3f <= 1.10): %s")
      :format(gm[3], goal(gm[3] <= 1.10)))
  end
  print()
end

local function beside_set()
  print(("== Per thread while another thread runs: each program's wall time in one thread, "
    .. "GIL off,\n   alone and while 1 other thread runs a CPU-bound loop (best of %d runs)")
    :format(P.reps))
  if not MODES[2] then
    say_off_missing()
    print()
    return
  end
  local flag = MODES[2].flag
  local rows = {{"program", "input", "alone", "beside a loop", "beside/alone", "beside/lua5.4"}}
  local r_alone, r_lua = {}, {}
  for _, bench in ipairs(B.SPEED) do
    local name, size = bench[1], bench[P.speed_col]
    local program = "speed/" .. name .. ".lua"
    local want = reference(program, size)
    local best = {math.huge, math.huge}
    local mark = ""
    for r = 1, P.reps do
      for i = 1, 2 do
        local busy = (r % 2 == 1) == (i == 1) and 0 or 1
        local f = B.measure(("%s %s %s %s %s %d"):format(ct, flag, script("scaling/beside.lua"),
          script(program), size, busy), "wall", "checksum")
        mark = mark .. check(("%s %s, beside %d"):format(name, size, busy), f.checksum, want)
        best[busy + 1] = math.min(best[busy + 1], tonumber(f.wall))
      end
    end
    local ra = best[2] / best[1]
    local rl = speed_times[name] and best[2] / speed_times[name] or 0 / 0
    r_alone[#r_alone + 1] = ra
    if rl == rl then r_lua[#r_lua + 1] = rl end
    rows[#rows + 1] = {name, tostring(size), B.dur(best[1]), B.dur(best[2]),
                       ("%.3f"):format(ra) .. mark, rl == rl and ("%.3f"):format(rl) or "n/a"}
  end
  local ga, gl = B.geomean(r_alone), B.geomean(r_lua)
  rows[#rows + 1] = {"geometric mean", "", "", "", ("%.3f"):format(ga),
                     gl == gl and ("%.3f"):format(gl) or "n/a"}
  B.table(rows)
  print(("goal: beside another thread within 25%% of alone (geometric mean %.3f <= 1.25): %s")
    :format(ga, goal(ga <= 1.25)))
  if gl == gl then
    print(("goal: beside another thread within 25%% of lua5.4 (geometric mean %.3f <= 1.25): %s")
      :format(gl, goal(gl <= 1.25)))
  end
  print("(wall times; beside/lua5.4 divides by lua5.4's CPU time from the table above)")
  print()
end

if wanted("speed") then
  speed_set()
  beside_set()
end

-- ---- 3. Allocation-heavy ----------------------------------------------------

local ALLOC = {
  {name = "binarytrees", program = "speed/binarytrees.lua", size = P.binarytrees,
   what = "binary-trees, depth %d per thread"},
  {name = "strings", program = "speed/strings.lua", size = P.strings,
   what = "string building (concatenation, format, gsub, table.concat), n = %d per thread"},
}

local PAUSES = "GC pauses: (%d+), median ([%d.]+) ms, max ([%d.]+) ms, total ([%d.]+) s"

local function alloc(w)
  local want = reference(w.program, w.size)
  local best = {}  -- best[m][n] = {time=, count=, median=, max=, total=} of the fastest run
  for m = 1, #MODES do best[m] = {} end
  for r = 1, P.reps do
    for _, n in ipairs({1, 2}) do
      for i = 1, #MODES do
        local m = r % 2 == 1 and i or #MODES + 1 - i
        local f, out = measure_out(("%s %s --stats %s %s %d %d"):format(ct, MODES[m].flag,
          script("scaling/threads.lua"), script(w.program), w.size, n), "time", "checksum")
        check(("%s, %d threads, %s"):format(w.name, n, MODES[m].label), f.checksum, want)
        local count, median, max, total = out:match(PAUSES)
        if not count then
          io.stderr:write("no 'GC pauses' line in the --stats output:\n", out, "\n")
          os.exit(1)
        end
        local t = tonumber(f.time)
        if not best[m][n] or t < best[m][n].time then
          best[m][n] = {time = t, count = count, median = tonumber(median) / 1e3,
                        max = tonumber(max) / 1e3, total = tonumber(total)}
        end
      end
    end
  end
  local rows = {{"", "threads", "time", "speedup", "GC pauses", "median", "max", "total"}}
  for m, mode in ipairs(MODES) do
    for _, n in ipairs({1, 2}) do
      local b = best[m][n]
      rows[#rows + 1] = {mode.label, tostring(n), B.dur(b.time),
        x(best[m][1].time * n / b.time), b.count, ("%.3f ms"):format(b.median * 1e3),
        ("%.3f ms"):format(b.max * 1e3), ("%.3f s"):format(b.total)}
    end
  end
  print(("== Allocation-heavy: %s (best of %d runs; pauses from --stats of that run)")
    :format(w.what:format(w.size), P.reps))
  B.table(rows)
  say_off_missing()
  print()
end

if wanted("alloc") then
  for _, w in ipairs(ALLOC) do alloc(w) end
  print("(GC pauses: collections, each run while no other thread runs Lua: with the GIL on\n"
    .. " the collector holds the GIL, with it off the world is stopped; the figures cover the\n"
    .. " whole process, as `cthreads --stats` prints them)")
  print()
end

-- ---- 4. The race ----------------------------------------------------------

if wanted("race") then
  local rows = {{"", "lost updates", "count under a Lock", "time unlocked", "time locked"}}
  local expected = 2 * P.race_n
  local fails = {}
  for _, mode in ipairs(MODES) do
    local lost, locked, t_un, t_lo = {}, {}, math.huge, math.huge
    for _ = 1, P.race_runs do
      local f = B.measure(("%s %s %s %d"):format(ct, mode.flag, script("scaling/race.lua"),
        P.race_n), "expected", "unlocked", "locked", "unlocked_time", "locked_time")
      lost[#lost + 1] = tostring(expected - tonumber(f.unlocked))
      locked[#locked + 1] = f.locked
      if tonumber(f.locked) ~= expected or tonumber(f.expected) ~= expected then
        fails[#fails + 1] = ("%s: count under a Lock %s, expected %d"):format(
          mode.label, f.locked, expected)
      end
      t_un = math.min(t_un, tonumber(f.unlocked_time))
      t_lo = math.min(t_lo, tonumber(f.locked_time))
    end
    rows[#rows + 1] = {mode.label, table.concat(lost, ", "), table.concat(locked, ", "),
                       B.dur(t_un), B.dur(t_lo)}
  end
  print(("== The race: `count = count + 1` on a global from 2 threads, %d times each "
    .. "(expected %d; %d run%s)"):format(P.race_n, expected, P.race_runs,
    P.race_runs == 1 and "" or "s"))
  B.table(rows)
  say_off_missing()
  if #fails > 0 then
    for _, m in ipairs(fails) do print("FAIL: " .. m) end
    failed = true
  else
    print("under a Lock the count is exact in every mode: ok")
  end
  print("(lost updates are expected with the GIL off: `count = count + 1` is a read and a\n"
    .. " write; with the GIL on the eval breaker only switches threads at jumps and calls)")
  print()
end

B.cleanup()
if #mismatches > 0 then
  for _, m in ipairs(mismatches) do io.stderr:write("checksum mismatch: ", m, "\n") end
  failed = true
end
if failed then os.exit(1) end
