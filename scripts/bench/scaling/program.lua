-- Loads a benchmark program (speed/*.lua, scaling/count.lua: it reads its
-- input from arg[1] and prints "time ..." and "checksum ...") as a function
-- with its own globals: its own `arg`, and a `print` that keeps the lines
-- instead of writing them. Several threads can then run copies of the same
-- program at once without sharing anything but the standard library (read
-- through __index). Returns the function and the table of printed lines.
return function (path, size)
  local f <close> = assert(io.open(path, "r"))
  local source = f:read("a")
  local lines = {}
  local env = setmetatable({
    arg = {[0] = path, tostring(size)},
    print = function (...)
      local parts = table.pack(...)
      for i = 1, parts.n do parts[i] = tostring(parts[i]) end
      lines[#lines + 1] = table.concat(parts, "\t")
    end,
  }, {__index = _G})
  return assert(load(source, "@" .. path, "t", env)), lines
end
