-- What the instrumentation costs, cthreads against cthreads:
--   --stats    the same programs with and without --stats (the counters are
--              kept either way; --stats only prints them at exit);
--   breaker    single-thread speed with and without vm/patches/0003, the
--              eval breaker checked at backward jumps and calls (the build
--              without it comes from build-nobreaker.sh).
--
-- usage: lua5.4 scripts/bench/overhead.lua [--quick] [stats|breaker]
-- The full run (re)builds build-nobreaker/ from this tree first; --quick
-- uses it as it is, or skips the breaker part when it does not exist.
-- env: CTHREADS, CTHREADS_NOBREAKER (default build-nobreaker/build/cthreads)
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local B = require("benchlib")

local opts = B.parse_args(arg)
B.need_cthreads()
local ct = B.quote(B.cthreads) .. " --gil"

local selected = {}
for _, n in ipairs(opts.names) do selected[n] = true end
local function wanted(n) return next(selected) == nil or selected[n] end

-- best (minimum) of each key over 'runs' alternating runs of two commands
local function best_of(runs, cmds, keys)
  local best = {{}, {}}
  for r = 1, runs do
    local order = r % 2 == 1 and {1, 2} or {2, 1}
    for _, k in ipairs(order) do
      local f = B.measure(cmds[k], table.unpack(keys))
      for _, key in ipairs(keys) do
        best[k][key] = math.min(best[k][key] or math.huge, tonumber(f[key]))
      end
    end
  end
  return best[1], best[2]
end

local status = 0

if wanted("stats") then
  local reps = opts.quick and 3 or 5
  print(("== --stats overhead: cthreads --gil --stats vs cthreads --gil (best of %d runs)"):format(reps))
  local gm, _, mm = B.speed_compare(
    {name = "--stats", cmd = ct .. " --stats"}, {name = "plain", cmd = ct},
    {names = {"fib", "binarytrees", "strings"}, quick = opts.quick, reps = reps})
  if #mm > 0 then status = 1 end
  local rows = {{"threads", "--stats", "plain", "ratio"}}
  local n = opts.quick and 300 or 1000
  local s, p = best_of(reps, {
    ct .. " --stats " .. B.quote(B.dir .. "/threads/start_join.lua") .. " " .. n .. " 3",
    ct .. " " .. B.quote(B.dir .. "/threads/start_join.lua") .. " " .. n .. " 3",
  }, {"best"})
  rows[#rows + 1] = {"thread start+join", B.dur(s.best), B.dur(p.best), ("%.3f"):format(s.best / p.best)}
  local ratios = {gm, s.best / p.best}  -- gm: the single-thread programs
  local N = opts.quick and 5000000 or 10000000
  s, p = best_of(reps, {
    ct .. " --stats " .. B.quote(B.dir .. "/gil/cpu_bound.lua") .. " " .. N .. " 3",
    ct .. " " .. B.quote(B.dir .. "/gil/cpu_bound.lua") .. " " .. N .. " 3",
  }, {"threads"})
  -- (cpu_bound.lua N 3: the best of 3 rounds in each run)
  rows[#rows + 1] = {"cpu_bound, two threads", B.dur(s.threads), B.dur(p.threads),
                     ("%.3f"):format(s.threads / p.threads)}
  ratios[#ratios + 1] = s.threads / p.threads
  B.table(rows)
  print(("geometric mean of all --stats/plain ratios: %.3f (the counters are kept with or "
    .. "without --stats, which only prints them at exit: differences are noise)"):format(B.geomean(ratios)))
  print()
end

if wanted("breaker") then
  local nb = os.getenv("CTHREADS_NOBREAKER") or (B.root .. "/build-nobreaker/build/cthreads")
  local f = io.open(nb, "r")
  if f then f:close() end
  if not opts.quick and not os.getenv("CTHREADS_NOBREAKER") then
    -- (re)build it from this tree: only what changed is compiled again
    print("(building cthreads without patch 0003 for the comparison...)")
    local out, ok = B.run(B.quote(B.dir .. "/build-nobreaker.sh"))
    if not ok then io.stderr:write(out) os.exit(1) end
    f = true
  end
  if not f then
    print("(eval breaker comparison skipped: no build without patch 0003; "
      .. "run scripts/bench/build-nobreaker.sh or omit --quick)")
  else
    local reps = opts.quick and 3 or 5
    local callgrind = not opts.quick and B.have("valgrind")
    print(("== Eval breaker (patch 0003): cthreads vs cthreads built without it (best of %d runs%s)")
      :format(reps, callgrind and "; Ir: instructions under callgrind" or ""))
    local gm, ir, mm = B.speed_compare(
      {name = "breaker", cmd = ct}, {name = "none", cmd = B.quote(nb) .. " --gil"},
      {quick = opts.quick, reps = reps, callgrind = callgrind})
    if #mm > 0 then status = 1 end
    print(("the eval breaker costs %+.1f%% of time%s (geometric means)"):format(
      (gm - 1) * 100, ir and ("%s, %+.1f%% of instructions"):format("", (ir - 1) * 100) or ""))
    print()
  end
end

B.cleanup()
os.exit(status)
