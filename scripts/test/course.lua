-- Runs every course script (scripts/course/*/*.lua) with the GIL on, and
-- with it off when the build supports --no-gil, and checks that each exits
-- with status 0 within the time limit, writes nothing to stderr, and prints
-- what scripts/course/expected.txt says it must. Started by course.sh.
--
-- usage: cthreads --gil scripts/test/course.lua CTHREADS_BIN [--gil-only] [FILTER...]
--   FILTER      run only the scripts whose path contains one of these strings
--   env CTHREADS_TIME_SCALE   sleep scale for the scripts (default 0.05)
--   env COURSE_TIMEOUT        seconds allowed per script run (default 60)
--   env CTHREADS_COURSE_STRICT=0   a script that needs a module missing
--                             from this build is skipped instead of failing

local bin = arg[1]
if not bin then
  io.stderr:write("usage: course.lua CTHREADS_BIN [--gil-only] [FILTER...]\n")
  os.exit(2)
end

local here = (arg[0]:match("^(.*)/") or ".")
local course = here .. "/../course"
local scale = os.getenv("CTHREADS_TIME_SCALE") or "0.05"
local limit = math.tointeger(tonumber(os.getenv("COURSE_TIMEOUT"))) or 60
-- every module the course uses is built in now: a missing one is a failure
local strict = os.getenv("CTHREADS_COURSE_STRICT") ~= "0"
local gil_only = false
local filters = {}
for i = 2, #arg do
  if arg[i] == "--gil-only" then gil_only = true else filters[#filters + 1] = arg[i] end
end

local clock = (time and time.monotonic) or os.time

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function lines_of(text)
  local lines = {}
  for line in (text or ""):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local rest = (text or ""):match("[^\n]+$")
  if rest then lines[#lines + 1] = rest end
  return lines
end

-- shell command -> exit status (128 + N when killed by signal N)
local function run(cmd)
  local ok, how, code = os.execute(cmd)
  if how == "signal" then return 128 + code end
  if ok == true then return 0 end
  return code or 1
end

---------------------------------------------------------------- the table
local expectations = {}   -- script -> list of {kind, when, pattern, lineno}
local order = {}
local problems = {}       -- errors in expected.txt or the script set

local expected_path = course .. "/expected.txt"
local text = read_file(expected_path)
if not text then
  io.stderr:write("cannot read " .. expected_path .. "\n")
  os.exit(2)
end
for lineno, line in ipairs(lines_of(text)) do
  if line:find("%S") and not line:find("^%s*#") then
    local script, check, pattern = line:match("^%s*(%S+)%s+(%S+)%s+(.-)%s*$")
    local kind, when = (check or ""):match("^([^@]+)@?(.*)$")
    local valid_kind = kind == "first" or kind == "last" or kind == "line"
      or kind == "none" or (kind or ""):match("^line=%-?%d+$") or (kind or ""):match("^count=%d+$")
    local valid_when = when == "" or when == "gil" or when == "nogil" or when == "parallel"
    if not (script and pattern and pattern ~= "" and valid_kind and valid_when) then
      problems[#problems + 1] = ("expected.txt:%d: cannot read this line: %s"):format(lineno, line)
    elseif not pcall(string.find, "", pattern) then
      problems[#problems + 1] = ("expected.txt:%d: bad Lua pattern: %s"):format(lineno, pattern)
    else
      if not expectations[script] then
        expectations[script] = {}
        order[#order + 1] = script
      end
      table.insert(expectations[script], {kind = kind, when = when, pattern = pattern, lineno = lineno})
    end
  end
end

-- every script on disk has checks, and every checked script exists
local on_disk = {}
local find = io.popen("cd " .. quote(course) .. " && find . -name '*.lua' -not -path './lib/*' | sort")
for path in find:lines() do on_disk[path:gsub("^%./", "")] = true end
find:close()
for path in pairs(on_disk) do
  if not expectations[path] then
    problems[#problems + 1] = "no checks in expected.txt for " .. path
  end
end
for _, path in ipairs(order) do
  if not on_disk[path] then
    problems[#problems + 1] = "expected.txt names a script that does not exist: " .. path
  end
end
table.sort(problems)

---------------------------------------------------------------- what this build has
-- names like threading.Event or asyncio.run that the script uses and this
-- build lacks (modules still being written are skipped, with the reason)
local function missing_names(path)
  local src = (read_file(course .. "/" .. path) or ""):gsub("%-%-[^\n]*", "")
  local missing, seen = {}, {}
  for _, mod in ipairs{"threading", "queue", "multiprocessing", "asyncio"} do
    for name in src:gmatch("%f[%w_]" .. mod .. "%.([%a_][%w_]*)") do
      local full = mod .. "." .. name
      if not seen[full] then
        seen[full] = true
        local m = rawget(_G, mod)
        if type(m) ~= "table" or m[name] == nil then missing[#missing + 1] = full end
      end
    end
  end
  return missing
end

local nproc = 1
do
  local p = io.popen("nproc 2>/dev/null")
  nproc = tonumber(p:read("a"):match("%d+")) or 1
  p:close()
end

local tmp_out, tmp_err = os.tmpname(), os.tmpname()

local modes = {{flag = "--gil", label = "gil"}}
local nogil_note
if gil_only then
  nogil_note = "GIL off: not run (--gil-only)"
elseif run(quote(bin) .. " --no-gil -e '' >/dev/null 2>" .. quote(tmp_err)) == 0 then
  modes[2] = {flag = "--no-gil", label = "nogil"}
else
  local why = (read_file(tmp_err) or ""):gsub("%s+$", ""):gsub("\n.*", "")
  nogil_note = "GIL off: skipped: `" .. bin .. " --no-gil -e ''` fails: " .. why
end

---------------------------------------------------------------- the checks
local function applies(when, mode)
  if when == "" then return true end
  if when == "gil" then return mode == "gil" end
  if when == "nogil" then return mode == "nogil" end
  return mode == "nogil" and nproc >= 2   -- parallel
end

local function check(lines, kind, pattern)
  if kind == "first" then kind = "line=1" elseif kind == "last" then kind = "line=-1" end
  local n = tonumber(kind:match("^line=(%-?%d+)$"))
  if n then
    local i = n > 0 and n or #lines + 1 + n
    local line = lines[i]
    if line and line:find(pattern) then return true end
    return false, ("line %d %s"):format(n, line and ("is " .. ("%q"):format(line)) or "does not exist")
  end
  local matches, first_match = 0, nil
  for _, line in ipairs(lines) do
    if line:find(pattern) then
      matches = matches + 1
      first_match = first_match or line
    end
  end
  if kind == "line" then
    return matches > 0, "no line matches"
  elseif kind == "none" then
    return matches == 0, ("%d line(s) match, e.g. %q"):format(matches, first_match)
  end
  local want = tonumber(kind:match("^count=(%d+)$"))
  return matches == want, ("%d line(s) match"):format(matches)
end

local function tail(lines, n)
  local out = {}
  for i = math.max(1, #lines - n + 1), #lines do out[#out + 1] = "    | " .. lines[i] end
  return table.concat(out, "\n")
end

local function selected(path)
  if #filters == 0 then return true end
  for _, f in ipairs(filters) do
    if path:find(f, 1, true) then return true end
  end
  return false
end

local passed, failed, skipped = 0, 0, 0
for _, p in ipairs(problems) do
  print("FAIL  " .. p)
  failed = failed + 1
end

print(("course scripts: CTHREADS_TIME_SCALE=%s, %d s allowed per run, %d core(s)"):format(scale, limit, nproc))
for _, mode in ipairs(modes) do
  for _, path in ipairs(order) do
    if on_disk[path] and selected(path) then
      local missing = missing_names(path)
      if #missing > 0 and not strict then
        skipped = skipped + 1
        print(("skip  %-5s %s (this build lacks %s)"):format(mode.label, path, table.concat(missing, ", ")))
      else
        local t0 = clock()
        local status = run(("cd %s && CTHREADS_TIME_SCALE=%s timeout -k 5 %d %s %s %s </dev/null >%s 2>%s")
          :format(quote(course), quote(scale), limit, quote(bin), mode.flag, quote(path),
                  quote(tmp_out), quote(tmp_err)))
        local elapsed = clock() - t0
        local out = lines_of(read_file(tmp_out))
        local err = lines_of(read_file(tmp_err))
        local failures = {}
        if status == 124 or status == 137 then
          failures[#failures + 1] = ("timed out after %d s"):format(limit)
        elseif status ~= 0 then
          failures[#failures + 1] = "exit status " .. status
        end
        if #err > 0 then failures[#failures + 1] = "wrote to stderr" end
        for _, e in ipairs(expectations[path]) do
          if applies(e.when, mode.label) then
            local ok, why = check(out, e.kind, e.pattern)
            if not ok then
              failures[#failures + 1] = ("expected.txt:%d: %s%s %s: %s"):format(
                e.lineno, e.kind, e.when ~= "" and "@" .. e.when or "", e.pattern, why)
            end
          end
        end
        if #failures == 0 then
          passed = passed + 1
          print(("ok    %-5s %s (%.2f s)"):format(mode.label, path, elapsed))
        else
          failed = failed + 1
          print(("FAIL  %-5s %s (%.2f s)"):format(mode.label, path, elapsed))
          for _, f in ipairs(failures) do print("    " .. f) end
          if #missing > 0 then print("    (this build lacks " .. table.concat(missing, ", ") .. ")") end
          print("    --- stdout, last lines:\n" .. tail(out, 12))
          if #err > 0 then print("    --- stderr, last lines:\n" .. tail(err, 12)) end
        end
      end
    end
  end
end
os.remove(tmp_out)
os.remove(tmp_err)

if nogil_note then print(nogil_note) end
print(("course: %d passed, %d failed, %d skipped"):format(passed, failed, skipped))
os.exit(failed == 0 and 0 or 1)
