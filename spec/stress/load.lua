-- Stress: compiling code in N threads at once.
-- Each thread loads chunks from source strings (small ones and generated
-- long ones, so that a parse can be interrupted), from reader functions
-- giving the source in pieces, and with environments of their own; it
-- dumps chunks with string.dump and publishes the binary for the others to
-- load (mode "b"); it checks that syntax errors and mode mismatches return
-- nil and a message; and every thread requires the same preloaded modules
-- (the import lock: each loader runs once), and modules that threads keep
-- dropping from package.loaded (each drop allows one more load, no more);
-- now and then a thread starts another (the registry, where load finds
-- the globals, grows under the loaders).
-- Every loaded function must compute what its source says, and every
-- module table returned by require must be a complete one.
-- usage: cthreads load.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("load")

local OPS = H.ops(5000)           -- chunks loaded per thread (a few of each kind)
local MODULES = 20
local POOL = 32

local fail = H.fail
local MARK = {}

-- a long chunk: sum of k * i for i = 1..lines, one statement per line
local function long_source(k, lines)
  local parts = {"local k = ...", "local s = 0"}
  for i = 1, lines do parts[#parts + 1] = ("s = s + k * %d -- line %d"):format(i, i) end
  parts[#parts + 1] = "return s"
  return table.concat(parts, "\n")
end

local loader_calls = {}
local calls_lock = threading.Lock()
for m = 1, MODULES do
  local name = "stress_load_module_" .. m
  loader_calls[name] = 0
  package.preload[name] = function(modname)
    calls_lock:acquire()
    loader_calls[modname] = loader_calls[modname] + 1
    calls_lock:release()
    local mod = {name = modname, mark = MARK}
    for i = 1, 50 do mod[i] = i * m end   -- build it up for a while
    mod.complete = true
    return mod
  end
end

-- modules the threads drop from package.loaded now and then
local RELOADED = 4
local drops = {}
for m = 1, RELOADED do
  local name = "stress_reload_module_" .. m
  loader_calls[name], drops[name] = 0, 0
  package.preload[name] = function(modname)
    calls_lock:acquire()
    loader_calls[modname] = loader_calls[modname] + 1
    calls_lock:release()
    local mod = {name = modname, mark = MARK}
    for i = 1, 50 do mod[i] = i * m end
    mod.complete = true
    return mod
  end
end

local binaries = {}               -- published dumps: {binary string, k}

H.run(N, function(tid)
  for j = 1, OPS do
    local k = tid * 100000 + j
    if j % 250 == 0 then
      -- a thread started (and a chunk loaded in it) while the others load:
      -- starting one grows the registry, where load finds the globals
      local got
      local t = threading.Thread{target = function() got = load("return ...")(k) end}
      t:start()
      t:join()
      if got ~= k then fail("a chunk loaded in a new thread returned %s", tostring(got)) end
    end
    local kind = j % 6
    if kind == 0 then
      local f, err = load(("local a, b = ... return a * %d + b, %q"):format(k, "c" .. k), "=chunk" .. k, "t")
      if not f then fail("load failed: %s", tostring(err))
      else
        local r, s = f(3, j)
        if r ~= 3 * k + j or s ~= "c" .. k then fail("chunk %d returned %s, %s", k, tostring(r), tostring(s)) end
      end
    elseif kind == 1 then
      local lines = 20 + j % 80
      local f, err = load(long_source(k, lines), "=long" .. k)
      if not f then fail("load of a long chunk failed: %s", tostring(err))
      elseif f(k) ~= k * lines * (lines + 1) // 2 then fail("long chunk %d returned %s", k, tostring(f(k))) end
    elseif kind == 2 then
      local pieces = {"local x", " = ...; ", "return ", "x + ", tostring(k)}
      local i = 0
      local f, err = load(function() i = i + 1; return pieces[i] end, "=reader" .. k)
      if not f then fail("load from a reader failed: %s", tostring(err))
      elseif f(j) ~= j + k then fail("reader chunk returned %s", tostring(f(j))) end
    elseif kind == 3 then
      local env = {base = k}
      local f = load("counter = (counter or base) + 1 return counter, print", "=env" .. k, "t", env)
      local c1, p1 = f()
      local c2 = f()
      if c1 ~= k + 1 or c2 ~= k + 2 or p1 ~= nil or env.counter ~= k + 2 or rawget(_G, "counter") ~= nil then
        fail("chunk with its own environment: %s %s %s", tostring(c1), tostring(c2), tostring(p1))
      end
    elseif kind == 4 then
      local f = load(("return ... + %d"):format(k))
      binaries[(j + tid) % POOL + 1] = {string.dump(f), k}
      local pick = binaries[(j * 7 + tid) % POOL + 1]
      if pick then
        local g, err = load(pick[1], "=binary", "b")
        if not g then fail("loading a published binary chunk failed: %s", tostring(err))
        elseif g(j) ~= j + pick[2] then fail("binary chunk returned %s, expected %d", tostring(g(j)), j + pick[2]) end
        local h, herr = load(pick[1], "=binary", "t")
        if h ~= nil or type(herr) ~= "string" or not herr:find("binary", 1, true) then
          fail("a binary chunk loaded with mode 't' gave %s, %s", tostring(h), tostring(herr))
        end
      end
    else
      local f, err = load("return 1 +", "=broken" .. k)
      if f ~= nil or type(err) ~= "string" or not err:find("broken" .. k, 1, true) then
        fail("a syntax error gave %s, %s", tostring(f), tostring(err))
      end
    end
    if j % 10 == 0 then
      local m = (j // 10 + tid) % MODULES + 1
      local name = "stress_load_module_" .. m
      local mod = require(name)
      if type(mod) ~= "table" or mod.mark ~= MARK or mod.name ~= name or not mod.complete or mod[50] ~= 50 * m then
        fail("require(%q) returned %s, not a complete module", name, tostring(mod))
      end
    end
    if j % 7 == 0 then
      local m = (j // 7 + tid) % RELOADED + 1
      local name = "stress_reload_module_" .. m
      if j % 35 == 0 then
        calls_lock:acquire()
        if package.loaded[name] ~= nil then
          package.loaded[name] = nil
          drops[name] = drops[name] + 1
        end
        calls_lock:release()
      end
      local mod = require(name)
      if type(mod) ~= "table" or mod.mark ~= MARK or mod.name ~= name or not mod.complete or mod[50] ~= 50 * m then
        fail("require(%q) returned %s, not a complete module", name, tostring(mod))
      end
    end
  end
end)

for m = 1, MODULES do
  local name = "stress_load_module_" .. m
  local mod, calls = package.loaded[name], loader_calls[name]
  if type(mod) ~= "table" or mod.mark ~= MARK then fail("package.loaded[%q] = %s", name, tostring(mod)) end
  if calls ~= 1 then fail("the loader of %s ran %d times (the import lock: once)", name, calls) end
end
local reloads = 0
for m = 1, RELOADED do
  local name = "stress_reload_module_" .. m
  local calls = loader_calls[name]
  if calls < 1 or calls > drops[name] + 1 then
    fail("the loader of %s ran %d times for %d drops from package.loaded", name, calls, drops[name])
  end
  reloads = reloads + calls
end

H.finish(("%d chunks loaded, %d modules loaded once each, %d loads of modules dropped and required again")
  :format(N * OPS, MODULES, reloads))
