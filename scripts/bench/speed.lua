-- Single-thread speed of cthreads (GIL on) against the stock lua5.4, on the
-- programs in speed/. Each program prints its CPU time and a checksum; both
-- interpreters run it in turn, several times, and the best time of each is
-- kept. A checksum that differs between the two fails the run.
-- A second, noise-free column counts executed instructions under valgrind
-- (callgrind) on a small input, less the count of the same program with
-- input 0 (start-up and compiling).
--
-- usage: lua5.4 scripts/bench/speed.lua [--quick] [--callgrind|--no-callgrind]
--                                       [--reps=N] [NAME...]
-- env: CTHREADS, LUA (the interpreters), CTHREADS_FLAGS (default "--gil")
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local B = require("benchlib")

local opts = B.parse_args(arg)
opts.reps = opts.quick and 3 or 5
for _, a in ipairs(arg) do
  local n = a:match("^%-%-reps=(%d+)$")
  if n then opts.reps = tonumber(n) end
end
opts.callgrind = (opts.callgrind or not opts.quick) and not opts.no_callgrind
if opts.callgrind and not B.have("valgrind") then
  print("(valgrind not found: no instruction counts)")
  opts.callgrind = false
end
B.need_cthreads()

local ct_flags = os.getenv("CTHREADS_FLAGS") or "--gil"
print(("== Single-thread speed: cthreads %s vs lua5.4 (best of %d runs, CPU time%s)")
  :format(ct_flags, opts.reps, opts.callgrind and "; Ir: instructions under callgrind" or ""))
local gm, _, mismatches = B.speed_compare(
  {name = "cthreads", cmd = B.quote(B.cthreads) .. " " .. ct_flags},
  {name = "lua5.4", cmd = B.quote(B.lua)}, opts)
print(("goal: cthreads within 3%% of lua5.4 (geometric mean of time ratios %.3f <= 1.03): %s")
  :format(gm, B.goal(gm <= 1.03)))
B.cleanup()
if #mismatches > 0 then
  for _, m in ipairs(mismatches) do io.stderr:write("checksum mismatch: ", m, "\n") end
  os.exit(1)
end
