-- Processes whose parent is a given pid, read from /proc: for specs that
-- check no child (running, or a zombie never reaped) is left behind.
local M = {}

-- list of {pid=, state=, name=} for the children of 'ppid' (default: us)
function M.of(ppid)
  ppid = ppid or os.getpid()
  local list = {}
  local p = io.popen("ls /proc")
  local names = p:read("a")
  p:close()  -- ls is gone before the scan
  for name in names:gmatch("%S+") do
    if name:match("^%d+$") then
      local f = io.open("/proc/" .. name .. "/stat")
      if f then
        local stat = f:read("a") or ""
        f:close()
        -- pid (comm) state ppid ...: comm may hold spaces and parentheses
        local comm, state, parent = stat:match("^%d+ %((.*)%) (%S) (%d+)")
        if parent and tonumber(parent) == ppid then
          list[#list + 1] = {pid = tonumber(name), state = state, name = comm}
        end
      end
    end
  end
  return list
end

-- true if a process with this pid exists (a zombie counts)
function M.exists(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if f then f:close() return true end
  return false
end

-- waits up to 'timeout' seconds for the children of ppid to be gone
-- (children that exit on their own a moment after the spec ends; slow to
-- exit under a sanitizer on a busy machine, hence the specs' 30 s); returns
-- those left
function M.settle(timeout, ppid)
  local deadline = time.monotonic() + (timeout or 30)
  local left = M.of(ppid)
  while #left > 0 and time.monotonic() <= deadline do
    time.sleep(0.02)
    left = M.of(ppid)
  end
  return left
end

function M.describe(list)
  local parts = {}
  for _, c in ipairs(list) do
    parts[#parts + 1] = ("%d %s (%s)"):format(c.pid, c.name, c.state)
  end
  return table.concat(parts, ", ")
end

return M
