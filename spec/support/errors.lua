-- err_of(f, ...) -> the message of the error f(...) raises (it must raise)
local assert = require("luassert")  -- busted's, outside a spec file's globals
local M = {}

function M.err_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  return tostring(err)
end

return M
