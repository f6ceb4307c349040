-- Thread start + join, and an uncontended Lock acquire/release pair:
-- cthreads (GIL on) against python3 running the twin .py scripts in
-- threads/, in the same run. Processes alternate (cthreads, python3,
-- python3, cthreads, ...) and the best round of each is kept.
--
-- usage: lua5.4 scripts/bench/threads.lua [--quick] [start_join|lock]
-- env: CTHREADS, PYTHON
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local B = require("benchlib")

local opts = B.parse_args(arg)
B.need_cthreads()
local runs = opts.quick and 2 or 4

local function run_pair(script, args, keys)
  local best = {{}, {}}
  local cmds = {
    B.quote(B.cthreads) .. " --gil " .. B.quote(B.dir .. "/threads/" .. script .. ".lua") .. " " .. args,
    B.quote(B.python) .. " " .. B.quote(B.dir .. "/threads/" .. script .. ".py") .. " " .. args,
  }
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

local selected = {}
for _, n in ipairs(opts.names) do selected[n] = true end
local function wanted(n) return next(selected) == nil or selected[n] end

if wanted("start_join") then
  local n = opts.quick and 500 or 2000
  local c, p = run_pair("start_join", n .. " " .. (opts.quick and 3 or 5), {"best"})
  local speedup = p.best / c.best
  print(("== Thread start + join (empty target, one at a time; best round of %d threads)"):format(n))
  B.table({
    {"", "cthreads", "python3", "python3 / cthreads"},
    {"per thread", B.dur(c.best), B.dur(p.best), ("%.2fx"):format(speedup)},
  })
  print(("goal: at least 2x faster than python3 (%.2fx): %s"):format(speedup, B.goal(speedup >= 2)))
  print()
end

if wanted("lock") then
  local n = opts.quick and 300000 or 1000000
  local keys = {"pair", "loop", "net"}
  local c, p = run_pair("lock", n .. " " .. (opts.quick and 3 or 5), keys)
  local speedup = p.pair / c.pair
  print(("== Uncontended Lock: lock:acquire(); lock:release() in a loop (best of %d-iteration rounds)"):format(n))
  B.table({
    {"per iteration", "cthreads", "python3", "python3 / cthreads"},
    {"acquire+release pair", B.dur(c.pair), B.dur(p.pair), ("%.2fx"):format(speedup)},
    {"empty loop", B.dur(c.loop), B.dur(p.loop), ("%.2fx"):format(p.loop / c.loop)},
    {"pair less the loop", B.dur(c.net), B.dur(p.net), ("%.2fx"):format(p.net / c.net)},
  })
  print(("goal: the pair at least 1.5x faster than python3 (%.2fx): %s"):format(
    speedup, B.goal(speedup >= 1.5)))
  print()
end
