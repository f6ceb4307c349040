-- Helpers shared by the benchmark drivers (speed.lua, threads.lua, gil.lua,
-- overhead.lua). The drivers run under the stock lua5.4 so that a broken
-- cthreads cannot fake its own results; they start every interpreter as a
-- child process and read the "key value" lines it prints.
local M = {}

M.dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
M.root = M.dir .. "/../.."

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

-- the interpreters: env CTHREADS, LUA, PYTHON override the defaults
M.cthreads = os.getenv("CTHREADS") or (M.root .. "/build/cthreads")
M.lua = os.getenv("LUA") or "/usr/bin/lua5.4"
M.python = os.getenv("PYTHON") or "python3"

function M.need_cthreads()
  if not exists(M.cthreads) then
    io.stderr:write(("no cthreads binary at %s: run scripts/build.sh first, "
      .. "or set CTHREADS\n"):format(M.cthreads))
    os.exit(2)
  end
end

function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- options common to every driver: --quick, and the remaining words
function M.parse_args(argv)
  local o = {quick = false, names = {}}
  for _, a in ipairs(argv) do
    if a == "--quick" then o.quick = true
    elseif a:sub(1, 2) == "--" then o[a:sub(3):gsub("-", "_")] = true
    else o.names[#o.names + 1] = a end
  end
  return o
end

-- runs a shell command; returns its output (stdout and stderr) and whether
-- it exited with 0
function M.run(cmd)
  local p = io.popen(cmd .. " 2>&1", "r")
  local out = p:read("a")
  local ok = p:close()
  return out, ok == true
end

-- "key value..." lines of an output -> {key = "value...", ...}; a key that
-- occurs several times keeps its last value
function M.fields(out)
  local t = {}
  for line in out:gmatch("[^\n]+") do
    local k, v = line:match("^(%w[%w_]*) (.*)$")
    if k then t[k] = v end
  end
  return t
end

-- runs cmd and returns its fields; stops the driver with the output when
-- the command fails or does not print the 'want'ed fields
function M.measure(cmd, ...)
  local out, ok = M.run(cmd)
  local f = M.fields(out)
  for _, k in ipairs({...}) do
    if f[k] == nil then ok = false end
  end
  if not ok then
    io.stderr:write("benchmark failed: ", cmd, "\n", out, "\n")
    os.exit(1)
  end
  return f
end

-- fixed_time.c built as a preload library (nil if it cannot be built):
-- under it Lua's hash seed, and so the counts below, repeat exactly
local shim
function M.fixed_time_shim()
  if shim == nil then
    shim = false
    local base = os.tmpname()
    local so = base .. ".so"
    local _, ok = M.run(("cc -shared -fPIC -O2 -o %s %s"):format(
      M.quote(so), M.quote(M.dir .. "/fixed_time.c")))
    os.remove(base)
    if ok then shim = so end
  end
  return shim or nil
end

function M.cleanup()
  if shim then os.remove(shim) end
end

-- the number of instructions a command runs under valgrind (callgrind's
-- count of executed instructions, Ir); nil when valgrind is missing
function M.instructions(cmd)
  local so = M.fixed_time_shim()
  local out = M.run((so and "LD_PRELOAD=" .. M.quote(so) .. " " or "")
    .. "valgrind --tool=callgrind --callgrind-out-file=/dev/null " .. cmd)
  local n = out:match("Collected : (%d+)")
  return n and tonumber(n)
end

function M.have(program)
  local _, ok = M.run("command -v " .. program .. " >/dev/null")
  return ok
end

function M.min(t)
  local m = math.huge
  for _, v in ipairs(t) do if v < m then m = v end end
  return m
end

-- the q-quantile (0..1) of a list of numbers, nearest rank
function M.quantile(t, q)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  if #s == 0 then return 0 / 0 end
  local k = math.max(1, math.min(#s, math.ceil(q * #s)))
  return s[k]
end

function M.median(t) return M.quantile(t, 0.5) end

function M.geomean(t)
  if #t == 0 then return 0 / 0 end
  local s = 0
  for _, v in ipairs(t) do s = s + math.log(v) end
  return math.exp(s / #t)
end

-- a duration in seconds, in a readable unit
function M.dur(s)
  if s ~= s then return "n/a" end
  local a = math.abs(s)
  if a >= 1 then return ("%.3f s"):format(s)
  elseif a >= 1e-3 then return ("%.3f ms"):format(s * 1e3)
  elseif a >= 1e-6 then return ("%.2f us"):format(s * 1e6)
  else return ("%.1f ns"):format(s * 1e9) end
end

-- prints rows of cells as columns: the first left-aligned, the rest right
function M.table(rows)
  local w = {}
  for _, r in ipairs(rows) do
    for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, #tostring(c)) end
  end
  for _, r in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(r) do
      local f = i == 1 and "%-" .. w[i] .. "s" or "%" .. w[i] .. "s"
      cells[i] = f:format(tostring(c))
    end
    print((table.concat(cells, "  "):gsub("%s+$", "")))
  end
end

-- the verdict on a goal, for the summary lines
function M.goal(ok) return ok and "goal met" or "GOAL MISSED" end

-- ---- single-thread speed: two interpreters on the programs in speed/ -------

-- name, input for a full run, for --quick, for the instruction count
M.SPEED = {
  {"fib",         32,       27,      22},
  {"loops",       10000000, 3000000, 200000},
  {"nbody",       200000,   60000,   4000},
  {"spectral",    350,      200,     50},
  {"binarytrees", 14,       12,      9},
  {"strings",     100000,   30000,   3000},
  {"tables",      100000,   30000,   3000},
}

-- Runs the speed/ program 'name' on input 'size' under each interpreter of
-- 'its' ({name=, cmd=}), 'reps' times each, the order reversed every other
-- round so that none always gets a warm cache. Returns the best CPU time of
-- each interpreter and the checksum of each ("(varies) ..." when its runs
-- disagreed); appends to 'spreads' (if given) how far each one's second
-- best run is from its best.
function M.speed_best(its, name, size, reps, spreads)
  local script = M.quote(M.dir .. "/speed/" .. name .. ".lua")
  local times, sums = {}, {}
  for k = 1, #its do times[k] = {} end
  for r = 1, reps do
    for i = 1, #its do
      local k = r % 2 == 1 and i or #its + 1 - i
      local f = M.measure(its[k].cmd .. " " .. script .. " " .. size,
                          "time", "checksum")
      table.insert(times[k], tonumber(f.time))
      sums[k] = sums[k] or f.checksum
      if f.checksum ~= sums[k] then sums[k] = "(varies) " .. f.checksum end
    end
  end
  local best = {}
  for k, t in ipairs(times) do
    best[k] = M.min(t)
    if spreads and #t >= 2 then
      table.sort(t)
      spreads[#spreads + 1] = t[2] / t[1] - 1
    end
  end
  return best, sums
end

-- Runs the speed/ programs under interpreters a and b ({name=, cmd=}),
-- alternately, 'o.reps' times each, and keeps each one's best CPU time;
-- with 'o.callgrind' also counts instructions. o.names: only these
-- programs; o.quick: the smaller inputs. Prints the table and returns the
-- geometric mean of the time ratios a/b, that of the instruction ratios
-- (or nil), and a list of checksum mismatches.
function M.speed_compare(a, b, o)
  local selected = {}
  for _, n in ipairs(o.names or {}) do selected[n] = true end
  local rows = {{"benchmark", "input", a.name, b.name, "ratio"}}
  if o.callgrind then
    for _, h in ipairs({"|", "Ir " .. a.name, "Ir " .. b.name, "ratio"}) do
      rows[1][#rows[1] + 1] = h
    end
  end
  local ratios, ir_ratios, mismatches, spreads = {}, {}, {}, {}
  local its = {a, b}
  for _, bench in ipairs(M.SPEED) do
    local name, size = bench[1], o.quick and bench[3] or bench[2]
    if next(selected) == nil or selected[name] then
      local script = M.quote(M.dir .. "/speed/" .. name .. ".lua")
      local best, sums = M.speed_best(its, name, size, o.reps, spreads)
      local ta, tb = best[1], best[2]
      ratios[#ratios + 1] = ta / tb
      local row = {name, size, M.dur(ta), M.dur(tb), ("%.3f"):format(ta / tb)}
      if sums[1] ~= sums[2] then
        mismatches[#mismatches + 1] = ("%s: %s %s, %s %s"):format(
          name, a.name, sums[1], b.name, sums[2])
        row[5] = row[5] .. " CHECKSUM MISMATCH"
      end
      if o.callgrind then
        local irs = {}
        for k, it in ipairs(its) do
          local full = M.instructions(it.cmd .. " " .. script .. " " .. bench[4])
          local empty = M.instructions(it.cmd .. " " .. script .. " 0")
          irs[k] = full and empty and full - empty
        end
        if irs[1] and irs[2] then
          ir_ratios[#ir_ratios + 1] = irs[1] / irs[2]
          for _, c in ipairs({"|", irs[1], irs[2], ("%.3f"):format(irs[1] / irs[2])}) do
            row[#row + 1] = c
          end
        end
      end
      rows[#rows + 1] = row
    end
  end
  local gm = M.geomean(ratios)
  local ir_gm = #ir_ratios > 0 and M.geomean(ir_ratios) or nil
  local last = {"geometric mean", "", "", "", ("%.3f"):format(gm)}
  if ir_gm then
    for _, c in ipairs({"|", "", "", ("%.3f"):format(ir_gm)}) do last[#last + 1] = c end
  end
  rows[#rows + 1] = last
  M.table(rows)
  if #spreads > 0 then
    print(("(noise: the second best run of a program is %.1f%% slower than its best, "
      .. "median over programs and interpreters)"):format(M.median(spreads) * 100))
  end
  return gm, ir_gm, mismatches
end

return M
