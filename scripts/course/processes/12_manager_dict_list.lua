-- Ports: course 002 (Day 10), 多进程 and manager多进程 (the same example twice:
--        f(d, l, n) in ten processes with manager.dict() and manager.list(range(5)));
--        also course 004 (notes), Manager 资源共享 (with Manager() as manager).
-- Teaches: a Manager (管理器) runs a server process holding a dict and a
-- list; every process changes them through proxies, so all ten children's
-- changes are visible to the parent. `local manager <close>` is Python's
-- `with Manager() as manager:` (shut down at the end of the scope). The list
-- order depends on which child ran first.
-- Appending is "read the length, then set the next index" (two requests to
-- the manager), so two children could pick the same index; the port guards
-- it with a lock. The dict keys are all different, so those need none.
-- Run: cthreads --gil processes/12_manager_dict_list.lua

local function f(d, l, n, lock)
  d[n] = n
  local _ <close> = lock:hold()
  table.insert(l, n)   -- l.append(n)
end

local function show_dict(d)
  local keys = {}
  for k in pairs(d) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = ("%s: %s"):format(k, d[k]) end
  return "{" .. table.concat(parts, ", ") .. "}", #keys
end

local function show_list(l)
  local parts = {}
  for i, v in ipairs(l) do parts[i] = tostring(v) end
  return "[" .. table.concat(parts, ", ") .. "]", #parts
end

do
  local manager <close> = multiprocessing.Manager()
  local d = manager:dict()
  local l = manager:list({0, 1, 2, 3, 4})   -- manager.list(range(5))
  local lock = multiprocessing.Lock()
  local p_list = {}
  for i = 0, 9 do
    local p = multiprocessing.Process{target = f, args = {d, l, i, lock}}
    p:start()
    p_list[#p_list + 1] = p
  end
  for _, res in ipairs(p_list) do res:join() end
  local dict_text, nkeys = show_dict(d)
  local list_text, nitems = show_list(l)
  print(dict_text)
  print(list_text)
  print(("dict has %d keys, list has %d items"):format(nkeys, nitems))
end
