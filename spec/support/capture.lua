-- What a spec reads back: the text written to io.stderr while f runs (a
-- pool's threads write there too), how often a plain string occurs in a
-- text, and the outcome of a script run in a fresh cthreads.
local proc = require("proc")
local M = {}

-- stderr(f) -> what was written to io.stderr while f ran (f's error is
-- raised again once io.stderr is back)
function M.stderr(f)
  local saved, file = io.stderr, io.tmpfile()
  io.stderr = file
  local ok, err = pcall(f)
  io.stderr = saved
  file:seek("set")
  local text = file:read("a")
  file:close()
  if not ok then error(err, 0) end
  return text
end

-- count(text, plain) -> how many times 'plain' occurs in 'text'
function M.count(text, plain)
  local n, at = 0, 1
  while true do
    local i, j = text:find(plain, at, true)
    if i == nil then return n end
    n, at = n + 1, j + 1
  end
end

-- lua_within(limit, code) -> stdout, stderr, exit status of Lua code run in
-- a fresh cthreads, killed after 'limit' seconds (an upper bound: the code
-- is expected to end long before)
function M.lua_within(limit, code)
  local path = proc.script(code)
  local out, err, status = proc.run{bin = "timeout", "-s", "KILL", tostring(limit), proc.bin, path}
  os.remove(path)
  return out, err, status
end

return M
