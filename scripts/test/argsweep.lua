-- The bad-argument sweep (run by scripts/test/argsweep.sh): calls every
-- public function of the builtin modules (threading, queue,
-- multiprocessing, asyncio, time; print and os.getpid), every constructor,
-- every method of an instance of each class (Manager and Pool methods,
-- proxies, Value/Array, Pipe connections, the asyncio loop, tasks, queues,
-- and streams over loopback), each with a fixed list of bad argument
-- lists, inside pcall. What fails the run:
--   - the process dying (a signal, a sanitizer report): each call is
--     printed, flushed, before it is made ("CALL ..."), so the last such
--     line names the culprit (argsweep.sh prints it);
--   - a call that hangs: blocking calls get an instance on which they return
--     at once, or a waker thread ends their wait (see 'blocked'); a
--     watchdog thread exits with status 3, naming the call, when one call
--     runs for more than ARGSWEEP_LIMIT seconds (default 20);
--   - an unclear error: an error value that is neither a string nor a named
--     error kind, one of Lua's runtime errors ("attempt to index a nil
--     value", "table index is nil"...) with no position, an error
--     positioned inside the library (cthreads/*.lua:N:), or a bad-argument
--     error naming no function, another function than the one called, or
--     an argument past those given (self counted in a method's, a field of
--     a named form given a positional number).
-- The argument lists: none; each bad value in each position, the others
-- good; each bad value in every position; the good ones plus extra ones;
-- a method taken from its class and called on nil, 42, "x", {}, the trap
-- and an object of another class; constructors' named forms, each field
-- given each bad value; for proxies and Value/Array, indexing and
-- assignment with each bad value.
-- Errors raised by the sweep's own trap (a table whose __index raises) are
-- the script's own and pass.
--
--   cthreads scripts/test/argsweep.lua [section...]
-- Sections: builtins threading queue time multiprocessing asyncio (all
-- when none is named). Deterministic: a fixed order (names sorted), no
-- randomness. Ends with "argsweep: N calls, N skipped, N failures" and
-- exits 1 when any call failed.

local mp = multiprocessing
local pack, unpack = table.pack, table.unpack
local out = io.stdout
local LIMIT = tonumber(os.getenv("ARGSWEEP_LIMIT") or "") or 20

-- ---- bookkeeping, watchdog -------------------------------------------------

local ncalls, nskipped = 0, 0
local failures = {}
local current = {seq = 0, desc = "start-up"}

local function say(...)
  out:write(...)
  out:write("\n")
  out:flush()
end

-- every call is announced, flushed, before it is made
local function note(desc)
  ncalls = ncalls + 1
  current.desc, current.seq = desc, ncalls
  out:write("CALL ", desc, "\n")
  out:flush()
end

local function fail(desc, why, err)
  local text = type(err) == "string" and err or ("(%s) %s"):format(type(err), tostring(err))
  failures[#failures + 1] = ("%s: %s: %s"):format(desc, why, text:sub(1, 300))
  say("FAIL ", failures[#failures])
end

-- exits (status 3) naming a call that has run for LIMIT seconds
threading.Thread{name = "argsweep-watchdog", daemon = true, target = function()
  local seen, since = -1, time.monotonic()
  while true do
    time.sleep(0.25)
    local seq = current.seq
    if seq ~= seen then
      seen, since = seq, time.monotonic()
    elseif time.monotonic() - since > LIMIT then
      io.stderr:write(("argsweep: HANG: call #%d did not return within %g s: %s\n"):format(
        seq, LIMIT, current.desc))
      io.stderr:flush()
      os.exit(3)
    end
  end
end}:start()

-- ---- the bad values ---------------------------------------------------------

local trap = setmetatable({}, {__index = function(_, k)
  error("argsweep trap: __index " .. tostring(k), 0)
end})
local function fn() return nil end
local co = coroutine.create(function() end)
local file = io.tmpfile()
local LONG = string.rep("x", 10000)
local FRESH = {}  -- marks '{}': a new table for each call (a callee may keep it)

local BAD = {
  {"nil", nil}, {"false", false}, {"true", true}, {"-1", -1}, {"0", 0}, {"0.001", 0.001},
  {"maxinteger", math.maxinteger}, {"mininteger", math.mininteger},
  {"1e308", 1e308}, {"-1e308", -1e308}, {"nan", 0 / 0},
  {"huge", math.huge}, {"-huge", -math.huge},
  {'""', ""}, {'"x"', "x"}, {"longstring", LONG}, {"{}", FRESH},
  {"trap", trap}, {"function", fn}, {"coroutine", co}, {"file", file},
}
local function value(b)
  if b[2] == FRESH then return {} end
  return b[2]
end

local function label(v)
  local t = type(v)
  if t == "string" then
    if #v > 20 then return "longstring" end
    return ("%q"):format(v)
  elseif t == "number" then
    if v ~= v then return "nan" end
    if math.type(v) == "integer" then
      if v == math.maxinteger then return "maxinteger" end
      if v == math.mininteger then return "mininteger" end
    end
    return tostring(v)
  elseif t == "boolean" or t == "nil" then return tostring(v)
  elseif v == trap then return "trap"
  elseif v == fn then return "function"
  elseif v == co then return "coroutine"
  elseif v == file then return "file"
  end
  local mt = getmetatable(v)
  if type(mt) == "table" and type(rawget(mt, "__name")) == "string" then
    return "<" .. rawget(mt, "__name") .. ">"
  end
  return t == "table" and "{}" or t
end

local function describe(name, args)
  local parts = {}
  for i = 1, args.n do parts[i] = label(args[i]) end
  return name .. "(" .. table.concat(parts, ", ") .. ")"
end

-- ---- judging an error -------------------------------------------------------

-- Lua's own runtime errors: never the clear message a bad argument deserves
local RUNTIME = {
  "attempt to ", "table index is ", "^number has no integer representation",
  "stack overflow", "invalid key to 'next'", "'for' [%w ]+ must be a number",
  "invalid value %(at index", "invalid order function", "not enough memory",
  "string length overflow", "wrong number of arguments", "integer overflow",
}

-- other names a bad-argument error may use for a function: aliases
local ALIASES = {
  acquire_lock = "acquire", release_lock = "release", locked_lock = "locked",
  isSet = "is_set", notifyAll = "notify_all", isAlive = "is_alive",
  currentThread = "current_thread", activeCount = "active_count",
  allocate_lock = "Lock", ["local"] = "Local", spawn = "create_task",
  has_key = "contains", totable = "tolist", RawValue = "Value", RawArray = "Array",
}

local function is_kind(e)
  local mt = getmetatable(e)
  return type(e) == "table" and type(mt) == "table" and mt.__name == "error"
         and rawget(e, "kind") ~= nil
end

-- fname: the name a bad-argument error should use (false: any); nargs:
-- how many arguments the call gave (a method's not counting self)
local function judge(desc, fname, ok, err, nargs)
  if ok or is_kind(err) then return end
  if type(err) ~= "string" then
    return fail(desc, "error value is not a string or a named error kind", err)
  end
  if err:find("argsweep trap", 1, true) then return end
  if err:find("cthreads/[%w_]+%.lua:%d+:") then
    return fail(desc, "error raised inside the library", err)
  end
  local named = err:match("bad argument #%d+ to '([^']*)' %(")
  if named then
    if named == "?" or named == "" then
      return fail(desc, "bad-argument error naming no function", err)
    end
    if fname and named ~= fname and named ~= ALIASES[fname] then
      return fail(desc, ("bad-argument error names '%s', not '%s'"):format(named, fname), err)
    end
    -- an argument past the last one given, not reported missing: the
    -- numbers are off (self counted in a method's)
    local n = tonumber(err:match("bad argument #(%d+) to"))
    if nargs and n > nargs and not err:find("no value", 1, true)
       and not err:find("nil", 1, true) and not err:find("(value expected)", 1, true) then
      return fail(desc, ("bad-argument error numbers argument #%d of %d given"):format(n, nargs),
                  err)
    end
    return
  end
  -- (one of those at the script's line is the script's own, or raised
  -- there on purpose: a table's "table index is nil")
  if not err:find("^[^:]+:%d+: ") then
    for _, p in ipairs(RUNTIME) do
      if err:find(p) then return fail(desc, "a Lua runtime error, not a clear message", err) end
    end
  end
end

-- ---- the waker: ends a blocking call from another thread --------------------

-- One thread for the run. wake_after(f) arms it: unless the call under way
-- returns within WAKE_DELAY seconds, it calls f(done) (which must not
-- block for long; 'done' is an Event set once the call has returned).
-- disarm(), once the call has returned, waits until the waker is idle
-- again, so that f never runs during a later call. (A call that returns
-- before the waker fires is fine: only what the call does matters, not
-- whether it blocked first.)
local WAKE_DELAY = 0.002
local wake_req, wake_ack = queue.Queue(), queue.Queue()
threading.Thread{name = "argsweep-waker", daemon = true, target = function()
  while true do
    local req = wake_req:get()
    if not req.done:wait(WAKE_DELAY) then
      local ok, err = pcall(req.f, req.done)
      if not ok then req.err = err end
    end
    wake_ack:put(true)
  end
end}:start()

local armed = nil
local function wake_after(f)
  armed = {f = f, done = threading.Event()}
  wake_req:put(armed)
end
local function disarm()
  if armed == nil then return end
  armed.done:set()
  wake_ack:get()
  local err = armed.err
  armed = nil
  if err ~= nil then say("NOTE waker: ", tostring(err)) end
end

-- ---- calling ----------------------------------------------------------------

-- disposers[i](v) -> true when it closed v (a pool, a manager, a loop...),
-- called on what a successful call returned
local disposers = {}
local function dispose(r)
  for i = 2, r.n do
    local v = r[i]
    if type(v) == "table" or type(v) == "userdata" then
      for _, d in ipairs(disposers) do
        local ok, done = pcall(d, v)
        if ok and done then break end
      end
    end
  end
end

-- how calls are made: plain, or (asyncio) inside a task of the running loop
local invoke = function(f, args, wake)
  if wake then wake_after(wake) end
  local r = pack(pcall(f, unpack(args, 1, args.n)))
  disarm()
  return r
end

local SLOW = tonumber(os.getenv("ARGSWEEP_SLOW") or "")  -- report calls slower than this

local function call(desc, fname, f, args, wake, opts)
  note(desc)
  local t0 = SLOW and time.monotonic()
  local r = invoke(f, args, wake, opts)
  if SLOW and time.monotonic() - t0 > SLOW then
    say(("SLOW %.3f s %s"):format(time.monotonic() - t0, desc))
  end
  judge(desc, fname, r[1], r[2], not (opts and opts.nargs == false) and args.n or nil)
  if r[1] then dispose(r) end
  return r
end

local function skip(desc, why)
  nskipped = nskipped + 1
  say("SKIP ", desc, ": ", why)
end

-- Callers made with load, so that each call is written as a script
-- writes it (M.name(...) or obj:name(...), not a tail call): Lua names
-- the function in its errors from the call site, as it would there.
local KEYWORDS = {["and"] = 1, ["break"] = 1, ["do"] = 1, ["else"] = 1, ["elseif"] = 1,
  ["end"] = 1, ["false"] = 1, ["for"] = 1, ["function"] = 1, ["goto"] = 1, ["if"] = 1,
  ["in"] = 1, ["local"] = 1, ["nil"] = 1, ["not"] = 1, ["or"] = 1, ["repeat"] = 1,
  ["return"] = 1, ["then"] = 1, ["true"] = 1, ["until"] = 1, ["while"] = 1}
local function is_name(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[k]
end
local function caller(form, k, ...)
  assert(is_name(k), k)
  local code = ("local pack, unpack, M = ...\n" ..
                "return function(o, ...) local r = pack(%s(...)) return unpack(r, 1, r.n) end")
               :format(form:gsub("NAME", k))
  return load(code, "=argsweep caller")(pack, unpack, ...)
end
-- M.name(...), and obj:name(...) with obj the first argument
local function field_caller(mod, k) return caller("M.NAME", k, mod) end
local function method_caller(k) return caller("o:NAME", k) end

local function G(...) return pack(...) end
local NONE = G()

-- the parameters of a Lua function (less 'minus'), nil when unknown
local function nparams(f, minus)
  if type(f) ~= "function" then return nil end
  local info = debug.getinfo(f, "Su")
  if info.isvararg or info.what == "C" then return nil end
  return math.max(info.nparams - (minus or 0), 0)
end

-- The argument lists of one sweep: none at all; each bad value in each of
-- the positions 1..k, the other arguments good; each bad value in all of
-- them; the good ones with one and with two more. Each is {bad = i, b =
-- BAD entry}, {all = k, b = BAD entry} or {extra = n}.
local function shapes(k, positions, exclude)
  local list = {{none = true}}
  for i = 1, k do
    if positions == nil or positions[i] then
      for _, b in ipairs(BAD) do
        if not (exclude and exclude(i, b[2])) then list[#list + 1] = {bad = i, b = b} end
      end
    end
  end
  if k >= 2 and positions == nil then  -- the same bad value everywhere
    for _, b in ipairs(BAD) do
      local left_out = false
      for i = 1, k do left_out = left_out or (exclude ~= nil and exclude(i, b[2])) end
      if not left_out then list[#list + 1] = {all = k, b = b} end
    end
  end
  list[#list + 1] = {extra = 1}
  list[#list + 1] = {extra = 2}
  return list
end

local function build(shape, good)
  if shape.none then return pack() end
  local a = {n = good.n}
  for j = 1, good.n do a[j] = good[j] end
  if shape.bad then
    a[shape.bad] = value(shape.b)
    if shape.bad > a.n then a.n = shape.bad end
  elseif shape.all then
    for j = 1, shape.all do a[j] = value(shape.b) end
    if shape.all > a.n then a.n = shape.all end
  else
    a[a.n + 1] = "extra"
    if shape.extra == 2 then a[a.n + 2] = {} end
    a.n = a.n + shape.extra
  end
  return a
end

-- The sweep of one callable. cfg:
--   call(ctx, ...)  what is called (default f(...))
--   args            the good arguments: G(...), or function(ctx) -> G(...)
--   n               how many positions get bad values (default: the
--                   function's parameters, or the good ones, at least 1;
--                   2 when unknown); positions = {[i] = true} picks some
--   make()          -> ctx, a fresh context for each call
--   wake(ctx)       armed on the waker for each call (ends a blocking one)
--   after(ctx)      clean-up after each call
--   blocked         {make, wake, after, positions}: the same bad values
--                   again, on a context where the call blocks until woken
--   exclude(i, v)   true for a bad value v left out of position i
--   fields          {names = {...}, good = {...}}: the named form, each
--                   field given each bad value
--   fname           the name errors should use (false: any)
--   task, settle    (asyncio) run the call in a task; idle the loop after
--   skip            why the whole function is skipped
local function sweep(name, f, cfg)
  cfg = cfg or {}
  if cfg.skip then return skip(name, cfg.skip) end
  local fname = cfg.fname
  if fname == nil then fname = name:match("[%.:]([%w_]+)$") or name end
  local k = cfg.n
  if k == nil then
    local good = type(cfg.args) == "table" and cfg.args.n or 0
    k = math.max(good, nparams(f) or 2, 1)
  end
  local target = cfg.call or function(_, ...)  -- (not a tail call: levels as a script's)
    local r = pack(f(...))
    return unpack(r, 1, r.n)
  end
  local function run(list, make, wake, after)
    for _, shape in ipairs(list) do
      local ctx = make and make() or nil
      local good = cfg.args
      if type(good) == "function" then good = good(ctx) end
      local args = build(shape, good or NONE)
      call(describe(name, args), fname, function(...) return target(ctx, ...) end, args,
           wake and function(done) return wake(ctx, done) end, cfg)
      if after then after(ctx) end
    end
  end
  run(shapes(k, cfg.positions, cfg.exclude), cfg.make, cfg.wake, cfg.after)
  local b = cfg.blocked
  if b then run(shapes(k, b.positions, cfg.exclude), b.make, b.wake, b.after or cfg.after) end
  -- the named form, Class{field = v, ...}: each field with each bad value
  -- (the others good)
  local named = cfg.fields
  if named then
    for _, field in ipairs(named.names) do
      for _, bv in ipairs(BAD) do
        local t = {}
        for fk, fv in pairs(named.good or {}) do t[fk] = fv end
        t[field] = value(bv)
        local ctx = cfg.make and cfg.make() or nil
        call(("%s{%s = %s}"):format(name, field, bv[1]), fname,
             function(...) return target(ctx, ...) end, pack(t), nil, cfg)
        if cfg.after then cfg.after(ctx) end
      end
    end
  end
end

-- ---- classes ------------------------------------------------------------------

-- the object of another class for the wrong-self calls: a Local has no
-- methods or handle at all (Local's own sweep uses a Barrier)
local OTHER = threading.Local()

local CLASS_SYSTEM = {extend = true, is = true, isinstance = true, init = true}

-- the public methods of a class, its own and inherited (a manager proxy's
-- in its _methods), sorted
local function methods_of(cls)
  local seen, list = {}, {}
  local function add(t, procs)
    for k, v in pairs(t) do
      if type(k) == "string" and not seen[k] and k:sub(1, 1) ~= "_"
         and (procs or not CLASS_SYSTEM[k]) and type(v) == "function" then
        seen[k] = true
        list[#list + 1] = k
      end
    end
  end
  local c = cls
  while type(c) == "table" do
    add(c)
    local procs = rawget(c, "_methods")
    if type(procs) == "table" then add(procs, true) end
    c = rawget(c, "super")
  end
  table.sort(list)
  return list
end

-- The sweep of a class's methods. spec:
--   make() -> instance, aux      a new instance (for each call, unless
--                                'shared', which makes one for them all)
--   other                        an instance of another class: the
--                                wrong-self calls use it, and nil, 42,
--                                "x", {} and the trap
--   m[method] = cfg              as sweep's cfg, where make() -> instance,
--                                aux and wake/after/args take (inst, aux);
--                                {skip = "why"}
--   items = {name = function(inst, v)}: indexing and assignment, each
--                                bad value as v
--   dispose(inst)                after the class (shared) or each call
local function sweep_class(name, cls, spec)
  local t_class = time.monotonic()
  local methods = methods_of(cls)
  local known = {}
  for _, m in ipairs(methods) do known[m] = true end
  for m in pairs(spec.m or {}) do
    if not known[m] then error(("argsweep: %s has no method '%s'"):format(name, m)) end
  end
  local shared = nil
  local function instance()
    if spec.shared then
      if shared == nil then shared = pack(spec.make()) end
      return shared[1], shared[2]
    end
    return spec.make()
  end
  local function gone(box)
    if box and not spec.shared and spec.dispose then spec.dispose(box[1]) end
  end
  sweep(name .. ".extend", function(...) return cls:extend(...) end, {n = 1})
  sweep(name .. ".is", function(...) return cls:is(...) end, {n = 1})
  sweep(name .. ":isinstance", function(...)
    local inst = instance()
    local r = pack(inst:isinstance(...))
    gone({inst})
    return unpack(r, 1, r.n)
  end, {n = 1})
  for _, mname in ipairs(methods) do
    local mc = (spec.m or {})[mname] or {}
    local full = name .. ":" .. mname
    if mc.skip then
      skip(full, mc.skip)
    else
      local function boxed(make)
        return function() return pack((make or instance)()) end
      end
      local function lift(g)
        return g and function(box, done) return g(box[1], box[2], done) end
      end
      local cfg = {
        fname = mc.fname or mname, n = mc.n, positions = mc.positions,
        task = mc.task, settle = mc.settle, fields = mc.fields,
        make = boxed(mc.make),
        call = (function(c) return function(box, ...) return c(box[1], ...) end end)(
          method_caller(mname)),
        wake = lift(mc.wake),
        after = function(box)
          if mc.after then mc.after(box[1], box[2]) end
          if not mc.make then gone(box) elseif spec.dispose then spec.dispose(box[1]) end
        end,
      }
      if type(mc.args) == "function" then
        cfg.args = function(box) return mc.args(box[1], box[2]) end
      else
        cfg.args = mc.args
      end
      if cfg.n == nil then
        local probe = instance()
        local good = type(mc.args) == "table" and mc.args.n or 0
        local method = probe[mname]
        cfg.n = math.max(good, nparams(method, 1) or 2, 1)
        gone({probe})
      end
      if mc.blocked then
        local b = mc.blocked
        cfg.blocked = {positions = b.positions, make = boxed(b.make), wake = lift(b.wake),
                       after = function(box)
                         if b.after then b.after(box[1], box[2]) end
                         if spec.dispose then spec.dispose(box[1]) end
                       end}
      end
      sweep(full, nil, cfg)
      -- the method taken from the class (or a proxy's table), called on
      -- something else
      local method = rawget(cls, "_methods") and cls._methods[mname] or cls[mname]
      if type(method) == "function" and not mc.no_wrong_self then
        local others = {{"nil", nil}, {"42", 42}, {'"x"', "x"}, {"{}", FRESH}, {"trap", trap},
                        {"other", spec.other or OTHER}}
        for _, o in ipairs(others) do
          local good = type(mc.args) == "table" and mc.args or NONE
          local args = {n = good.n + 1, value(o)}
          for j = 1, good.n do args[j + 1] = good[j] end
          call(("%s.%s(%s)"):format(name, mname, o[1]), cfg.fname, method, args, nil, cfg)
        end
      end
    end
  end
  local items = {}
  for iname in pairs(spec.items or {}) do items[#items + 1] = iname end
  table.sort(items)
  for _, iname in ipairs(items) do
    local pf = spec.items[iname]
    for _, b in ipairs(BAD) do
      local inst = instance()
      local v = value(b)
      call(("%s %s, v = %s"):format(name, iname, b[1]), false,
           function() return pf(inst, v) end, NONE, nil, {nargs = false})
      gone({inst})
    end
  end
  if shared and spec.dispose then spec.dispose(shared[1]) end
  say(("TIME %s %.2f s"):format(name, time.monotonic() - t_class))
end

-- A module's functions and callable classes (constructors), sorted by
-- name; cfgs[name] configures one. Then the classes in 'classes'.
local function sweep_module(modname, mod, cfgs, classes)
  local names = {}
  for k, v in pairs(mod) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then
      local mt = getmetatable(v)
      if type(v) == "function" or (type(v) == "table" and type(mt) == "table" and mt.__call) then
        names[#names + 1] = k
      end
    end
  end
  table.sort(names)
  local seen = {}
  for _, k in ipairs(names) do
    local v = mod[k]
    local full = modname .. "." .. k
    if is_kind(v) then  -- an error kind: its 'is' too
      sweep(full .. ":is", nil, {n = 1, fname = "is", call = function(_, ...)
        local r = pack(v:is(...))
        return unpack(r, 1, r.n)
      end})
    end
    if seen[v] then
      skip(full, "the same object as " .. seen[v] .. " (swept there)")
    elseif not is_name(k) then
      skip(full, "not a name (the same object is swept under another)")
    else
      seen[v] = full
      local cfg = {}
      for ck, cv in pairs(cfgs[k] or {}) do cfg[ck] = cv end
      cfg.call = cfg.call or (function(c) return function(_, ...) return c(nil, ...) end end)(
        field_caller(mod, k))
      sweep(full, v, cfg)
    end
  end
  local cnames = {}
  for k in pairs(classes or {}) do cnames[#cnames + 1] = k end
  table.sort(cnames)
  for _, k in ipairs(cnames) do
    local spec = classes[k]
    sweep_class(modname .. "." .. k, spec.class or mod[k], spec)
  end
end

-- ---- helpers for the sections -------------------------------------------------

-- a lock-like object held by another thread until wake(): for RLocks,
-- whose owner alone may release them. -> obj, {wake, after}; after()
-- also releases what the swept call took
local function held_elsewhere(obj)
  local go, held = threading.Event(), threading.Event()
  local th = threading.Thread{name = "argsweep-holder", target = function()
    obj:acquire()
    held:set()
    go:wait()
    obj:release()
  end}
  th:start()
  held:wait()
  return obj, {wake = function() go:set() end, after = function()
    go:set()
    th:join()
    while pcall(obj.release, obj) do end
  end}
end

-- the waker of a Condition wait: notifies once it gets the lock (which
-- the wait releases), or gives up when the call has returned
local function notify_waker(c, _, done)
  repeat
    if c:acquire(true, 0.01) then
      c:notify_all()
      c:release()
      return
    end
  until done:is_set()
end

-- the sweep of a Condition's methods (threading's, multiprocessing's, a
-- manager's proxy), with 'extra' entries: the waker notifies (wait() and
-- the forever forms wait for it); wait_for's predicate is true from its
-- second call, so one wait, ended by the waker
local function condition_methods(extra)
  local m = {
    wait = {args = G(0.001), wake = notify_waker},
    wait_for = {args = function()
        local calls = 0
        return G(function() calls = calls + 1 return calls > 1 end, 0.001)
      end, n = 2, wake = notify_waker},
    with = {args = G(fn)},
    release = {n = 1},
  }
  for k, v in pairs(extra or {}) do m[k] = v end
  return m
end

-- the sweep of a queue's methods (queue's and multiprocessing's). kind:
-- "simple" (no bound, no shutdown), "joinable" (task_done and join too),
-- or nil
local function queue_spec(ctor, kind)
  local with_item = function() local q = ctor(); q:put(1); return q end
  local spec = {
    make = function() return ctor() end,
    m = {
      -- an item waiting: every get returns at once; blocked: empty, the
      -- waker puts one
      get = {args = G(true, 0.01), make = with_item, blocked = {make = function()
        return ctor() end, wake = function(q) q:put_nowait(1) end}},
      get_nowait = {make = with_item},
      put = {args = G(1, true, 0.01), positions = {[1] = true, [2] = true, [3] = true}},
      put_nowait = {args = G(1)},
    },
  }
  if kind ~= "simple" then
    -- bounded and full: the waker takes the item out
    spec.m.put.blocked = {positions = {[2] = true, [3] = true},
      make = function() local q = ctor(1); q:put(1); return q end,
      wake = function(q) q:get_nowait() end}
    spec.m.shutdown = {n = 1}
  end
  if kind == "joinable" then
    spec.m.task_done = {make = with_item}
    -- no unfinished task: join returns at once; blocked: one, the waker
    -- marks it done
    spec.m.join = {blocked = {make = function()
      local q = ctor(); q:put(1); q:get(); return q end, wake = function(q) q:task_done() end}}
  end
  return spec
end

-- releases every level of an RLock the main thread holds
local function unwind(r)
  while pcall(r.release, r) do end
end

local function class_disposer(cls, f)
  disposers[#disposers + 1] = function(v)
    if cls:is(v) then
      f(v)
      return true
    end
  end
end

-- ---- sections ---------------------------------------------------------------------

local sections, order = {}, {}
local function section(name, f)
  sections[name] = f
  order[#order + 1] = name
end

-- print and os.getpid: the globals cthreads replaces or adds. print writes
-- to the log, which the runner ignores apart from CALL and FAIL lines.
section("builtins", function()
  sweep("print", print, {n = 3, args = G("p1", "p2")})
  sweep("os.getpid", os.getpid)
end)

-- ---------------------------------------------------------------------------
section("time", function()
  sweep_module("time", time, {
    -- sleep(s): a forever form would sleep (nearly) forever: no waker can
    -- end a sleep. Every value that is no error sleeps at most 0.001 s here,
    -- once the huge ones are refused (Python: OverflowError).
    sleep = {},
  })
end)

-- ---------------------------------------------------------------------------
section("threading", function()
  local th = threading
  local cfgs = {
    -- the switch interval is put back after each call
    setswitchinterval = {after = function() th.setswitchinterval(0.005) end},
    -- excepthook with a table writes a report to stderr (the runner's log)
    excepthook = {}, __excepthook__ = {},
    Thread = {n = 5, args = G(fn), fields = {good = {target = fn},
      names = {"target", "args", "kwargs", "name", "daemon", "group"}}},
    Timer = {n = 4, args = G(0.01, fn), fields = {good = {interval = 0.01, target = fn},
      names = {"interval", "function", "target", "args", "kwargs", "name", "daemon"}}},
    Barrier = {n = 3, args = G(2), fields = {good = {parties = 2},
      names = {"parties", "action", "timeout"}}},
    Condition = {fields = {names = {"lock"}}},
    Semaphore = {fields = {names = {"value"}}},
    BoundedSemaphore = {fields = {names = {"value"}}},
  }
  local function started_thread()
    local go = th.Event()
    local t = th.Thread{target = function() go:wait() end}
    t:start()
    return t, go
  end
  local lockish = function(ctor)
    return {
      make = function() return ctor() end,
      m = {
        -- a free lock: every form returns at once; blocked: one held by
        -- this thread, released by the waker (any thread may release a Lock)
        acquire = {args = G(true, 0.01), blocked = {make = function()
          local l = ctor(); l:acquire(); return l end, wake = function(l) l:release() end}},
        release = {make = function() local l = ctor(); l:acquire(); return l end},
        with = {args = G(fn)},
      },
    }
  end
  local L = lockish(th.Lock)
  L.m.acquire_lock, L.m.release_lock = L.m.acquire, L.m.release
  local classes = {
    Lock = L,
    RLock = {
      make = function() return th.RLock() end, dispose = unwind,
      m = {
        acquire = {args = G(true, 0.01), blocked = {
          make = function() return held_elsewhere(th.RLock()) end,
          wake = function(_, h) h.wake() end, after = function(_, h) h.after() end}},
        release = {make = function() local r = th.RLock(); r:acquire(); return r end},
        with = {args = G(fn)},
      },
    },
    Condition = {
      -- made held, as wait needs; the waker notifies (taking the lock while
      -- wait has it released)
      make = function() local c = th.Condition(); c:acquire(); return c end,
      dispose = function(c) unwind(c._lock) end,
      m = condition_methods(),
    },
    Semaphore = {
      make = function() return th.Semaphore(1) end,
      m = {
        acquire = {args = G(true, 0.01), blocked = {make = function() return th.Semaphore(0) end,
          wake = function(s) s:release() end}},
        with = {args = G(fn)},
        release = {n = 1},
      },
    },
    BoundedSemaphore = {
      make = function() return th.BoundedSemaphore(1) end,
      m = {
        acquire = {args = G(true, 0.01), blocked = {make = function()
            local s = th.BoundedSemaphore(1); s:acquire(); return s end,
          wake = function(s) s:release() end}},
        release = {make = function() local s = th.BoundedSemaphore(1); s:acquire(); return s end,
                   n = 1},
        with = {args = G(fn)},
      },
    },
    Event = {
      make = function() local e = th.Event(); e:set(); return e end,
      m = {wait = {args = G(0.01), blocked = {make = function() return th.Event() end,
        wake = function(e) e:set() end}}},
    },
    Barrier = {
      -- one party: wait returns at once; blocked: two, the waker aborts
      make = function() return th.Barrier(1) end,
      m = {wait = {blocked = {make = function() return th.Barrier(2) end,
        wake = function(b) b:abort() end}}},
    },
    Thread = {
      make = function() return th.Thread{target = fn} end,
      m = {
        start = {after = function(t) if t._started then t:join() end end},
        -- a running thread, waiting for the waker
        join = {blocked = {make = started_thread, wake = function(_, go) go:set() end,
                           after = function(t, go) go:set(); t:join() end},
                make = function()
                  local t = th.Thread{target = fn}; t:start(); t:join(); return t
                end},
        setDaemon = {n = 1}, setName = {n = 1},
      },
    },
    Timer = {
      -- interval 0: run() and a started timer end at once
      make = function() return th.Timer(0, fn) end,
      m = {
        start = {after = function(t) if t._started then t:join() end end},
        join = {make = function() local t = th.Timer(0, fn); t:start(); t:join(); return t end,
                blocked = {make = function() local t = th.Timer(60, fn); t:start(); return t end,
                           wake = function(t) t:cancel() end,
                           after = function(t) t:cancel(); t:join() end}},
        setDaemon = {n = 1}, setName = {n = 1},
      },
    },
    Local = {make = function() return th.Local() end, other = th.Barrier(1)},
  }
  sweep_module("threading", th, cfgs, classes)
  -- the main thread's object (this thread): join and start are errors
  sweep_class("threading.Thread(main)", th.Thread, {
    make = th.main_thread, shared = true, m = {setDaemon = {n = 1}, setName = {skip =
      "renames the main thread (a plain field; swept on a new Thread)"}},
  })
end)

-- ---------------------------------------------------------------------------
section("queue", function()
  local maxsize = {fields = {names = {"maxsize"}}}
  sweep_module("queue", queue, {Queue = maxsize, LifoQueue = maxsize,
                                PriorityQueue = maxsize}, {
    Queue = queue_spec(queue.Queue, "joinable"),
    LifoQueue = queue_spec(queue.LifoQueue, "joinable"),
    PriorityQueue = queue_spec(queue.PriorityQueue, "joinable"),
    SimpleQueue = queue_spec(queue.SimpleQueue, "simple"),
  })
end)

-- ---------------------------------------------------------------------------
section("multiprocessing", function()
  class_disposer(mp.Pool, function(p) p:terminate() end)
  class_disposer(mp.managers.SyncManager, function(m) m:shutdown() end)
  class_disposer(mp.Connection, function(c) c:close() end)
  class_disposer(mp.Process, function(p)
    if p._started and p.pid and p:is_alive() then p:kill() end
    if p._started then p:join() end
  end)

  local function named(good, ...) return {good = good, names = {...}} end
  local cfgs = {
    Process = {n = 5, args = G(fn), fields = named({target = fn},
      "target", "args", "kwargs", "name", "daemon", "group")},
    Pool = {n = 4, args = G(1), fields = named({processes = 1},
      "processes", "initializer", "initargs", "maxtasksperchild")},
    Array = {n = 3, args = G("i", 3), fields = named({typecode = "i", size_or_table = 3},
      "typecode", "typecode_or_type", "size_or_table", "size_or_initializer", "init", "lock")},
    RawArray = {n = 2, args = G("i", 3), fields = named({typecode = "i", size_or_table = 3},
      "typecode", "size_or_table")},
    Value = {n = 3, args = G("i", 1), fields = named({typecode = "i"},
      "typecode", "typecode_or_type", "init", "value", "lock")},
    RawValue = {n = 2, args = G("i", 1), fields = named({typecode = "i"}, "typecode", "init")},
    Barrier = {n = 3, args = G(2), fields = named({parties = 2}, "parties", "action", "timeout")},
    Queue = {fields = named({}, "maxsize")}, JoinableQueue = {fields = named({}, "maxsize")},
    Semaphore = {fields = named({}, "value")}, BoundedSemaphore = {fields = named({}, "value")},
    Condition = {fields = named({}, "lock")}, Pipe = {fields = named({}, "duplex")},
    -- set_start_method("fork") only: anything else is an error
    set_start_method = {}, get_context = {},
  }

  local function started_process()
    local go = mp.Event()
    local p = mp.Process{target = function() go:wait() end}
    p:start()
    return p, go
  end
  local function ended_process()
    local p = mp.Process{target = fn}
    p:start()
    p:join()
    return p
  end

  local function lock_spec(ctor, reentrant)
    local spec = {
      make = function() return ctor() end,
      m = {
        acquire = {args = G(true, 0.01)},
        release = {make = function() local l = ctor(); l:acquire(); return l end},
        with = {args = G(fn)},
      },
    }
    if reentrant then
      spec.dispose = function(r) while pcall(r.release, r) do end end
      spec.m.acquire.blocked = {
        make = function()
          local r, h = held_elsewhere(ctor())
          return r, h
        end,
        wake = function(_, h) h.wake() end, after = function(_, h) h.after() end}
    else
      spec.m.acquire.blocked = {make = function() local l = ctor(); l:acquire(); return l end,
        wake = function(l) l:release() end}
    end
    return spec
  end

  local function conn_pair(duplex)
    local a, b = mp.Pipe(duplex)
    return a, b
  end
  local function close_pair(a, b) a:close(); b:close() end

  local classes = {
    Process = {
      make = function() return mp.Process{target = fn} end,
      dispose = function(p)
        if rawget(p, "_closed") then return end  -- ended (close requires it); methods raise
        if p._started and p:is_alive() then p:kill() end
        if p._started then p:join() end
      end,
      m = {
        -- (n = 0: no argument; only extra ones are tried: each call forks)
        start = {n = 0},
        join = {n = 1, make = ended_process, blocked = {make = started_process,
          wake = function(_, go) go:set() end, after = function(_, go) go:set() end}},
        is_alive = {n = 0, make = ended_process}, close = {n = 0, make = ended_process},
        terminate = {n = 0, make = started_process}, kill = {n = 0, make = started_process},
        -- run() runs the target (fn) here
        run = {n = 0},
      },
    },
    Lock = lock_spec(mp.Lock), RLock = lock_spec(mp.RLock, true),
    Semaphore = {
      make = function() return mp.Semaphore(1) end,
      m = {acquire = {args = G(true, 0.01), blocked = {
             make = function() return mp.Semaphore(0) end,
             wake = function(s) s:release() end}},
           with = {args = G(fn)}, release = {n = 1}},
    },
    BoundedSemaphore = {
      make = function() return mp.BoundedSemaphore(1) end,
      m = {acquire = {args = G(true, 0.01)},
           release = {make = function()
                        local s = mp.BoundedSemaphore(1); s:acquire(); return s
                      end,
                      n = 1},
           with = {args = G(fn)}},
    },
    Event = {
      make = function() local e = mp.Event(); e:set(); return e end,
      m = {wait = {args = G(0.01), blocked = {make = function() return mp.Event() end,
        wake = function(e) e:set() end}}},
    },
    Condition = {
      make = function() local c = mp.Condition(); c:acquire(); return c end,
      dispose = function(c) while pcall(c.release, c) do end end,
      m = condition_methods(),
    },
    Barrier = {
      make = function() return mp.Barrier(1) end,
      m = {wait = {blocked = {make = function() return mp.Barrier(2) end,
        wake = function(b) b:abort() end}}},
    },
    Value = {
      make = function() return mp.Value("i", 1) end,
      m = {with = {args = G(fn)}, acquire = {args = G(true, 0.01)},
           release = {make = function() local v = mp.Value("i", 1); v:acquire(); return v end}},
      items = {["v.value = x"] = function(v, x) v.value = x end,
               ["v[x]"] = function(v, x) return v[x] end},
    },
    Array = {
      make = function() return mp.Array("i", 3) end,
      m = {with = {args = G(fn)}, acquire = {args = G(true, 0.01)},
           release = {make = function() local a = mp.Array("i", 3); a:acquire(); return a end}},
      items = {["a[x]"] = function(a, x) return a[x] end,
               ["a[x] = 1"] = function(a, x) a[x] = 1 end,
               ["a[1] = x"] = function(a, x) a[1] = x end,
               ["c.value = x"] = function(_, x) mp.Array("c", 3).value = x end},
    },
    Queue = queue_spec(mp.Queue), JoinableQueue = queue_spec(mp.JoinableQueue, "joinable"),
    SimpleQueue = queue_spec(mp.SimpleQueue, "simple"),
    Connection = {
      -- a fresh duplex pipe for each call; recv and poll find a message
      -- waiting, or (blocked) wait until the waker sends one
      make = function() return conn_pair() end,
      dispose = function(a) a:close() end,
      m = {
        recv = {make = function() local a, b = conn_pair(); b:send(1); return a, b end,
                after = close_pair,
                blocked = {make = function() return conn_pair() end,
                  wake = function(_, b) b:send(1) end, after = close_pair}},
        recv_bytes = {make = function()
                        local a, b = conn_pair(); b:send_bytes("x"); return a, b
                      end,
                      after = close_pair,
                      blocked = {make = function() return conn_pair() end,
                        wake = function(_, b) b:send_bytes("x") end, after = close_pair}},
        poll = {args = G(0.01), make = function()
            local a, b = conn_pair(); b:send(1); return a, b end, after = close_pair,
          blocked = {make = function() return conn_pair() end,
            wake = function(_, b) b:send(1) end, after = close_pair}},
        send = {args = G(1), make = function() return conn_pair() end, after = close_pair},
        send_bytes = {args = G("x"), make = function() return conn_pair() end, after = close_pair},
      },
    },
  }
  sweep_module("multiprocessing", mp, cfgs, classes)
  -- this process's own object: join, terminate, kill, close are errors
  sweep_class("multiprocessing.Process(current)", mp.Process, {
    make = mp.current_process, shared = true,
    m = {start = {n = 0}, join = {n = 1}, is_alive = {n = 0}, close = {n = 0},
         terminate = {n = 0}, kill = {n = 0}, run = {n = 0}},
  })

  -- ---- Pool and ThreadPool, their results ----
  local function ready(r) r:wait(); return r end
  local function sweep_pool(name, cls)
    local pool = cls(2)
    sweep_class(name, cls, {
      make = function() return pool end,
      m = {
        apply = {args = G(fn, {})}, apply_async = {args = G(fn, {})},
        map = {args = G(fn, {1, 2})}, map_async = {args = G(fn, {1, 2})},
        starmap = {args = G(fn, {{1}, {2}})}, starmap_async = {args = G(fn, {{1}, {2}})},
        imap = {args = G(fn, {1, 2})}, imap_unordered = {args = G(fn, {1, 2})},
        -- these end a pool: a new one (one process) each time
        -- (n = 0: they take no argument; only extra ones are tried)
        close = {n = 0, make = function() return cls(1) end,
                 after = function(p) p:terminate() end},
        terminate = {n = 0, make = function() return cls(1) end,
                     after = function(p) p:terminate() end},
        join = {n = 0, make = function() local p = cls(1); p:close(); return p end,
                after = function(p) p:terminate() end},
      },
    })
    local function result_spec(make)
      return {make = make,
              m = {get = {args = G(0.01)}, wait = {args = G(0.01)}}}
    end
    sweep_class(name .. ".AsyncResult", mp.AsyncResult,
                result_spec(function() return ready(pool:apply_async(fn, {})) end))
    sweep_class(name .. ".MapResult", mp.MapResult,
                result_spec(function() return ready(pool:map_async(fn, {1, 2})) end))
    sweep_class(name .. ".IMapIterator", mp.IMapIterator, {
      make = function() return pool:imap(fn, {1, 2}) end,
      m = {next = {args = G(5)}},
    })
    pool:terminate()
  end
  sweep_pool("multiprocessing.Pool", mp.Pool)
  sweep_pool("multiprocessing.pool.ThreadPool", mp.pool.ThreadPool)

  -- ---- multiprocessing.dummy: its functions and constructors (the
  -- classes are threading's and queue's, swept there) ----
  local dummy = require("multiprocessing.dummy")
  local function dummy_pair() return dummy.Pipe() end
  sweep_module("multiprocessing.dummy", dummy, {
    Pool = cfgs.Pool, Barrier = cfgs.Barrier,
    Array = {n = 3, args = G("i", {1, 2}), fields = named({typecode = "i", sequence = {1, 2}},
      "typecode", "typecode_or_type", "sequence", "init", "size_or_table",
      "size_or_initializer", "lock")},
    Value = {n = 3, args = G("i", 1), fields = named({typecode = "i"},
      "typecode", "typecode_or_type", "value", "init", "lock")},
    -- DummyProcess is Process (its errors name that), JoinableQueue is
    -- queue.Queue, as in Python
    DummyProcess = {fname = "Process", n = 5, args = G(fn), fields = named({target = fn},
      "target", "args", "kwargs", "name", "daemon", "group")},
    JoinableQueue = {fname = "Queue", fields = named({}, "maxsize")},
    Pipe = {fields = named({}, "duplex")},
  }, {
    -- a fresh pipe for each call; recv and poll find a message waiting,
    -- or (blocked) wait until the waker sends one
    Connection = {
      make = dummy_pair,
      m = {
        recv = {make = function() local a, b = dummy_pair(); b:send(1); return a, b end,
                blocked = {make = dummy_pair, wake = function(_, b) b:send(1) end}},
        recv_bytes = {make = function() local a, b = dummy_pair(); b:send("x"); return a, b end,
                      blocked = {make = dummy_pair, wake = function(_, b) b:send("x") end}},
        poll = {args = G(0.01), make = function() local a, b = dummy_pair(); b:send(1); return a, b end,
                blocked = {make = dummy_pair, wake = function(_, b) b:send(1) end}},
        send = {args = G(1)}, send_bytes = {args = G("x")},
      },
    },
  })

  -- ---- Manager, its proxies ----
  local manager = mp.Manager()
  local mclasses = mp.managers
  sweep_class("multiprocessing.SyncManager", mclasses.SyncManager, {
    make = function() return manager end,
    m = {
      Barrier = {args = G(2), fields = {good = {parties = 2},
                                         names = {"parties", "action", "timeout"}}},
      Value = {args = G("i", 1), fields = {good = {typecode = "i"},
        names = {"typecode", "typecode_or_type", "init", "value"}}},
      Array = {args = G("i", 3), fields = {good = {typecode = "i", init = 3},
        names = {"typecode", "typecode_or_type", "size_or_table", "size_or_initializer",
                 "init"}}},
      Queue = {fields = {names = {"maxsize"}}}, JoinableQueue = {fields = {names = {"maxsize"}}},
      Semaphore = {fields = {names = {"value"}}},
      BoundedSemaphore = {fields = {names = {"value"}}},
      Condition = {fields = {names = {"lock"}}},
      -- these end a manager: a new one each time
      shutdown = {make = function() return mp.Manager() end,
                  after = function(m) m:shutdown() end},
      start = {make = function() return mclasses.SyncManager() end,
               after = function(m) m:shutdown() end},
    },
  })
  local function proxy(kind, ...)
    local args = pack(...)
    return function() return manager[kind](manager, unpack(args, 1, args.n)) end
  end
  local function held(kind)
    return function() local l = manager[kind](manager); l:acquire(); return l end
  end
  local proxies = {
    DictProxy = {make = function() local d = manager:dict(); d.a = 1; return d end,
      m = {get = {args = G("a")}, pop = {args = G("a")}, setdefault = {args = G("b", 1)},
           update = {args = G({})}, contains = {args = G("a")}, has_key = {args = G("a")}},
      items = {["d[x]"] = function(d, x) return d[x] end,
               ["d[x] = 1"] = function(d, x) d[x] = 1 end,
               ["d.a = x"] = function(d, x) d.a = x end}},
    ListProxy = {make = function() local l = manager:list(); l:append(1); return l end,
      m = {append = {args = G(1)}, extend = {args = G({1})}, insert = {args = G(1, 2)},
           pop = {args = G(1)}, remove = {args = G(1)}, index = {args = G(1)},
           count = {args = G(1)}, contains = {args = G(1)}, sort = {n = 1}},
      items = {["l[x]"] = function(l, x) return l[x] end,
               ["l[x] = 1"] = function(l, x) l[x] = 1 end,
               ["l[1] = x"] = function(l, x) l[1] = x end,
               ["table.insert(l, x)"] = function(l, x) table.insert(l, x) end}},
    NamespaceProxy = {make = proxy("Namespace"),
      items = {["ns[x]"] = function(ns, x) return ns[x] end,
               ["ns[x] = 1"] = function(ns, x) ns[x] = 1 end,
               ["ns.a = x"] = function(ns, x) ns.a = x end}},
    ValueProxy = {make = proxy("Value", "i", 1), m = {set = {args = G(2)}},
      items = {["v.value = x"] = function(v, x) v.value = x end}},
    ArrayProxy = {make = proxy("Array", "i", 3),
      items = {["a[x]"] = function(a, x) return a[x] end,
               ["a[x] = 1"] = function(a, x) a[x] = 1 end,
               ["a[1] = x"] = function(a, x) a[1] = x end}},
    QueueProxy = {make = function() local q = manager:Queue(); q:put(1); return q end,
      m = {get = {args = G(true, 0.01), blocked = {make = proxy("Queue"),
             wake = function(q) q:put_nowait(1) end}},
           put = {args = G(1, true, 0.01)}, put_nowait = {args = G(1)},
           task_done = {}, join = {make = proxy("Queue")}, shutdown = {n = 1}}},
    AcquirerProxy = {make = proxy("Lock"),
      m = {acquire = {args = G(true, 0.01), blocked = {make = held("Lock"),
             wake = function(l) l:release() end}},
           release = {make = held("Lock")}, with = {args = G(fn)}}},
    EventProxy = {make = function() local e = manager:Event(); e:set(); return e end,
      m = {wait = {args = G(0.01), blocked = {make = proxy("Event"),
        wake = function(e) e:set() end}}}},
    SemaphoreProxy = {make = proxy("Semaphore", 1),
      m = {acquire = {args = G(true, 0.01), blocked = {make = proxy("Semaphore", 0),
             wake = function(s) s:release() end}},
           with = {args = G(fn)}, release = {n = 1}}},
    ConditionProxy = {make = function() local c = manager:Condition(); c:acquire(); return c end,
      dispose = function(c) while pcall(c.release, c) do end end,
      m = condition_methods({notify = {n = 1}})},
    BarrierProxy = {make = proxy("Barrier", 1),
      m = {wait = {blocked = {make = proxy("Barrier", 2), wake = function(b) b:abort() end}}},
      items = {["b[x]"] = function(b, x) return b[x] end}},
  }
  local pnames = {}
  for k in pairs(proxies) do pnames[#pnames + 1] = k end
  table.sort(pnames)
  for _, k in ipairs(pnames) do
    local spec = proxies[k]
    sweep_class("multiprocessing.managers." .. k, mclasses[k], spec)
  end
  manager:shutdown()
end)

-- ---------------------------------------------------------------------------
section("asyncio", function()
  local aio = asyncio
  class_disposer(aio.EventLoop, function(l) if not l:is_running() then l:close() end end)
  class_disposer(aio.Handle, function(h) h:cancel() end)
  class_disposer(aio.Server, function(s) s:close() end)
  class_disposer(aio.StreamWriter, function(w) w:close() end)

  -- outside a loop: the module's functions raise "called outside a task"
  -- (or work: run, new_event_loop...), and a loop's methods
  local default = aio.get_event_loop()
  -- (a host that is a string would be looked up in DNS: see below)
  local function host_at(pos)
    return function(i, v) return i == pos and type(v) == "string" end
  end
  sweep_module("asyncio", aio, {
    run = {args = G(fn)},
    open_connection = {exclude = host_at(1)}, start_server = {exclude = host_at(2)},
    set_event_loop = {after = function() aio.set_event_loop(default) end},
  }, {
    EventLoop = {
      make = function() return aio.new_event_loop() end,
      dispose = function(l) if not l:is_running() then l:close() end end,
      m = {
        run_until_complete = {args = G(fn)},
        -- a stop already scheduled: run_forever runs one round
        run_forever = {make = function()
          local l = aio.new_event_loop(); l:call_soon(l.stop, l); return l end},
        call_later = {args = G(0.001, fn)}, call_at = {args = G(0.001, fn)},
        call_soon = {args = G(fn)}, call_soon_threadsafe = {args = G(fn)},
        create_task = {args = G(fn)},
      },
    },
  })

  -- inside a loop: each call runs in a task of its own when it may wait
  -- ('task'): the waker cancels that task if it has not ended within
  -- WAKE_DELAY, from another thread (call_soon_threadsafe), so the loop
  -- really waits on what the call set up (its timers included). 'settle'
  -- lets the loop wait once more after the call (for timers it left).
  local function inside(main)
    local ok, err = pcall(aio.run, function()
      local loop = aio.get_running_loop()
      local function idle()
        local ev = aio.Event()
        wake_after(function() loop:call_soon_threadsafe(function() ev:set() end) end)
        ev:wait()
        disarm()
      end
      invoke = function(f, args, wake, opts)
        if not (opts and (opts.task or opts.settle)) then
          if wake then wake_after(wake) end
          local r = pack(pcall(f, unpack(args, 1, args.n)))
          disarm()
          return r
        end
        -- (pcall: the function is named in errors as pcall(f, ...) names it)
        local child = aio.create_task(function()
          return pack(pcall(f, unpack(args, 1, args.n)))
        end)
        wake_after(function()
          if wake then wake() end
          loop:call_soon_threadsafe(function() child:cancel() end)
        end)
        local ok, r = pcall(child.join, child)
        disarm()
        if not ok then r = pack(false, r) end
        if not r[1] and aio.CancelledError:is(r[2]) then
          r = pack(true)  -- it waited until the waker cancelled it
        end
        if opts.settle then idle() end
        return r
      end
      main(loop)
    end)
    invoke = function(f, args, wake)
      if wake then wake_after(wake) end
      local r = pack(pcall(f, unpack(args, 1, args.n)))
      disarm()
      return r
    end
    if not ok then
      fail("asyncio loop (last call: " .. current.desc .. ")", "the loop itself failed", err)
    end
  end

  local T = {task = true}
  local function tcfg(extra)
    local c = {task = true}
    for k, v in pairs(extra or {}) do c[k] = v end
    return c
  end

  -- asyncio.k(...) as a script writes it
  local function asweep(k, cfg)
    cfg = cfg or {}
    local c = field_caller(aio, k)
    cfg.call = function(_, ...) return c(nil, ...) end
    sweep("asyncio." .. k, aio[k], cfg)
  end

  local function sweep_primitives(where)
    -- the primitives: made ready (a free lock, a set event...), so every
    -- form returns at once; 'task' covers the ones that may wait. Swept
    -- outside a loop too, where what waits raises "called outside a task".
    local function prim(ctor, m)
      return {make = ctor, m = m}
    end
    local cond_make = function() local c = aio.Condition(); c:acquire(); return c end
    local classes = {
      Lock = prim(aio.Lock, {acquire = T, release = {make = function()
        local l = aio.Lock(); l:acquire(); return l end}, with = {args = G(fn)}, hold = T}),
      Semaphore = prim(function() return aio.Semaphore(1) end,
        {acquire = T, with = {args = G(fn)}, hold = T}),
      BoundedSemaphore = prim(function() return aio.BoundedSemaphore(1) end,
        {acquire = T, with = {args = G(fn)}, hold = T, release = {make = function()
          local s = aio.BoundedSemaphore(1); s:acquire(); return s end}}),
      Event = prim(function() local e = aio.Event(); e:set(); return e end,
        {wait = tcfg{blocked = {make = aio.Event, wake = function() end}}}),
      -- free, but held for wait and notify (which need it)
      Condition = prim(function() return aio.Condition() end, {
        wait = tcfg{make = cond_make}, wait_for = tcfg{args = G(fn), make = cond_make},
        acquire = T, hold = T, with = {args = G(fn)},
        notify = {n = 1, make = cond_make}, notify_all = {make = cond_make},
        release = {make = cond_make}}),
    }
    for _, q in ipairs{"Queue", "LifoQueue", "PriorityQueue"} do
      local ctor = aio[q]
      local with_item = function() local x = ctor(); x:put_nowait(1); return x end
      classes[q] = prim(function() return ctor() end, {
        get = tcfg{make = with_item, blocked = {make = function() return ctor() end,
                                                wake = function() end}},
        get_nowait = {make = with_item}, task_done = {make = with_item},
        put = tcfg{args = G(1), positions = {}, blocked = {
          make = function() local x = ctor(1); x:put_nowait(1); return x end,
          wake = function() end}},
        put_nowait = {args = G(1)},
        join = tcfg{blocked = {make = with_item, wake = function() end}},
        shutdown = {n = 1},
      })
    end
    local cnames = {}
    for k in pairs(classes) do cnames[#cnames + 1] = k end
    table.sort(cnames)
    for _, k in ipairs(cnames) do sweep_class("asyncio." .. k .. where, aio[k], classes[k]) end
  end
  sweep_primitives("(outside a loop)")

  -- module functions inside a task
  inside(function(loop)
    asweep("sleep", tcfg())
    asweep("gather", tcfg{args = G(fn, fn), n = 3})
    asweep("wait_for", tcfg{args = G(fn, 0.01)})
    asweep("wait", tcfg{args = G({fn}, 0.01)})
    sweep("asyncio.as_completed", nil, tcfg{args = G({fn}, 0.01), n = 2,
      call = function(_, ...)
        local it = aio.as_completed(...)
        local r = pack(it())
        return unpack(r, 1, r.n)
      end})
    asweep("to_thread", tcfg{args = G(fn)})
    asweep("await", tcfg{args = G(fn)})
    for _, k in ipairs{"create_task", "ensure_future", "spawn"} do
      asweep(k, {args = G(fn), fname = k == "spawn" and "create_task" or k})
    end
    asweep("current_task")
    asweep("all_tasks")
    asweep("get_running_loop")
    asweep("get_event_loop")
    -- a loopback server. A host that is a string other than the loopback
    -- address would be looked up (DNS: not deterministic, and it may wait
    -- for a resolver): the bad strings are left out of the host's position
    local server = aio.start_server(function(_, w) aio.sleep(10) w:close() end,
                                    "127.0.0.1", 0)
    skip('asyncio.open_connection("", "x", longstring as host)', "a name lookup (DNS)")
    skip('asyncio.start_server(fn, "", "x", longstring as host)', "a name lookup (DNS)")
    asweep("open_connection", tcfg{args = G("127.0.0.1", server.port), n = 2,
                                   exclude = host_at(1)})
    asweep("start_server", tcfg{args = G(fn, "127.0.0.1", 0), n = 4, exclude = host_at(2)})
    -- the running loop's methods (stop would end this very loop: left out,
    -- and close/run_* raise at once on a running loop)
    sweep_class("asyncio.EventLoop(running)", aio.EventLoop, {
      make = function() return loop end, shared = true,
      m = {
        stop = {skip = "would stop the sweep's own loop (swept on a loop not running)"},
        run_forever = {}, run_until_complete = {args = G(fn)},
        -- settle: the loop waits once with the timer the call left
        close = {}, call_later = tcfg{args = G(0.001, fn), settle = true},
        call_at = tcfg{args = function() return G(loop:time() + 0.001, fn) end,
                       settle = true},
        call_soon = tcfg{args = G(fn)}, call_soon_threadsafe = tcfg{args = G(fn)},
        create_task = tcfg{args = G(fn)},
      },
    })
    local function ended() local t = aio.create_task(fn); aio.sleep(0); return t end
    sweep_class("asyncio.Task", aio.Task, {
      make = ended,
      m = {join = tcfg{blocked = {make = function()
             return aio.create_task(function() aio.sleep(60) end) end,
             wake = function() end, after = function(t) t:cancel() end}},
           add_done_callback = {args = G(fn)}, set_name = {n = 1}, cancel = {n = 1}},
    })
    sweep_class("asyncio.Handle", aio.Handle, {
      make = function() return loop:call_soon(fn) end,
      dispose = function(h) h:cancel() end,
    })
    sweep_primitives("")

    -- streams: a fresh loopback connection for each call; the server's
    -- handler writes a line and waits (reads find data, or wait until
    -- the waker cancels them)
    local echo = aio.start_server(function(r, w)
      w:write("hello\nworld\n")
      pcall(r.read, r)  -- until the client closes
      w:close()
    end, "127.0.0.1", 0)
    local function conn() return aio.open_connection("127.0.0.1", echo.port) end
    local function reader() local r, w = conn(); return r, w end
    local function writer() local _, w = conn(); return w end
    sweep_class("asyncio.StreamReader", aio.StreamReader, {
      make = reader,
      dispose = function() end,
      m = {read = tcfg{after = function(_, w) w:close() end},
           readline = tcfg{after = function(_, w) w:close() end},
           readuntil = tcfg{after = function(_, w) w:close() end},
           readexactly = tcfg{args = G(3), after = function(_, w) w:close() end},
           at_eof = {after = function(_, w) w:close() end},
           lines = {after = function(_, w) w:close() end}},
    })
    sweep_class("asyncio.StreamWriter", aio.StreamWriter, {
      make = writer, dispose = function(w) w:close() end,
      m = {write = {args = G("x")}, writelines = {args = G({"x"})}, drain = T,
           wait_closed = tcfg{make = function() local w = writer(); w:close(); return w end},
           get_extra_info = {args = G("peername")}},
    })
    sweep_class("asyncio.Server", aio.Server, {
      make = function() return aio.start_server(fn, "127.0.0.1", 0) end,
      dispose = function(s) s:close() end,
      m = {wait_closed = tcfg{make = function()
             local s = aio.start_server(fn, "127.0.0.1", 0); s:close(); return s end},
           serve_forever = tcfg{make = function()
             local s = aio.start_server(fn, "127.0.0.1", 0); s:close(); return s end}},
    })
    echo:close()
    server:close()
  end)
end)

-- ---- main -----------------------------------------------------------------------

local wanted = {...}
if #wanted == 0 then wanted = order end
local t0 = time.monotonic()
for _, name in ipairs(wanted) do
  local f = sections[name]
  if f == nil then error("argsweep: no section '" .. tostring(name) .. "'") end
  say("SECTION ", name)
  local ok, err = pcall(f)
  if not ok then fail("section " .. name .. " (last call: " .. current.desc .. ")",
                      "the sweep itself failed", err) end
end
current.seq, current.desc = -1, "the exit"  -- (the watchdog covers the exit too)
say(("argsweep: %d calls, %d skipped, %d failures (%s, %.1f s)"):format(
  ncalls, nskipped, #failures, threading.gil_enabled() and "GIL on" or "GIL off",
  time.monotonic() - t0))
for _, f in ipairs(failures) do io.stderr:write("argsweep: FAIL ", f, "\n") end
os.exit(#failures == 0 and 0 or 1)
