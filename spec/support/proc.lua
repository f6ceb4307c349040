-- Running the cthreads binary from specs: proc.run{args..., stdin=, env=}
-- returns stdout, stderr, exit code.
local M = {}

M.bin = os.getenv("CTHREADS_BIN") or "build/cthreads"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.quote = quote

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- opts: array of arguments; opts.stdin: text fed to stdin; opts.env: table
-- of environment variables; opts.bin: another program than cthreads
function M.run(opts)
  local errf = os.tmpname()
  local inf = os.tmpname()
  local f = assert(io.open(inf, "wb"))
  f:write(opts.stdin or "")
  f:close()
  local cmd = {}
  for k, v in pairs(opts.env or {}) do cmd[#cmd + 1] = k .. "=" .. quote(v) end
  cmd[#cmd + 1] = quote(opts.bin or M.bin)
  for _, a in ipairs(opts) do cmd[#cmd + 1] = quote(a) end
  local line = table.concat(cmd, " ") .. " <" .. quote(inf) .. " 2>" .. quote(errf)
  local p = assert(io.popen(line, "r"))
  local out = p:read("a")
  local ok, how, code = p:close()
  local err = slurp(errf)
  os.remove(errf)
  os.remove(inf)
  if how == "signal" then code = 128 + code end
  return out, err, code, ok
end

-- writes 'code' to a temporary .lua file and returns its path
function M.script(code)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "wb"))
  f:write(code)
  f:close()
  return path
end

-- runs Lua code in a fresh cthreads with the current GIL mode
function M.lua(code, ...)
  local path = M.script(code)
  local args = {path, ...}
  local out, err, status = M.run(args)
  os.remove(path)
  return out, err, status
end

return M
