-- cthreads class system: Python-style classes in Lua, and error kinds.
--
--   local Worker = threading.Thread:extend("Worker")
--   function Worker:init(id) Worker.super.init(self); self.id = id end
--   local w = Worker(1)            -- calls init
--   Worker:is(w), w:isinstance(threading.Thread)   --> true, true
--
-- A class is a table that is also the metatable of its instances; methods
-- are found through __index (the class, then its ancestors). Metamethods
-- (__tostring, __close, __eq, ...) are copied down when a class is
-- extended, because Lua looks them up without __index; one assigned later
-- (or set to nil) is copied again to every subclass that does not define
-- its own, as a Python subclass sees a dunder added to its base.
--
-- Every class has an identity (cthreads.native.class) by which it crosses
-- processes by reference: a process that has the class receives instances
-- of it as instances of its own class.

-- kept here: a script that clears its globals must not break the library
local type, error, pairs, getmetatable, setmetatable, rawget, rawset, rawequal =
      type, error, pairs, getmetatable, setmetatable, rawget, rawset, rawequal

local select, unpack, pcall, tostring, ipairs, next = select, table.unpack, pcall, tostring, ipairs, next
local byte = string.byte
local getinfo = debug.getinfo
local register = require("cthreads.native.class").register
local M = {}

local function class_tostring(cls)
  return ("<class '%s'>"):format(rawget(cls, "__name") or "?")
end

-- per class below a library class whose init must run (M.require_init):
-- the nearest such class above it (weak: a class is collected like any table)
local init_base = setmetatable({}, {__mode = "k"})
local required = setmetatable({}, {__mode = "k"})  -- those classes
-- the field that a required init leaves in an instance of a subclass, for
-- construct to check and take away (this table: no other value is it)
local INIT_RAN = init_base

local function construct(cls, ...)
  local obj = setmetatable({}, cls)
  obj:init(...)
  local base = init_base[cls]
  if base ~= nil and not required[cls] then  -- (the library's own init is trusted)
    if rawget(obj, INIT_RAN) == nil then
      local name = rawget(cls, "__name")
      M.caller_error(("%s.init() was not called (call %s.super.init(self) in your init)")
                     :format(rawget(base, "__name"), name))
    end
    rawset(obj, INIT_RAN, nil)
  end
  return obj
end

-- the "__" fields that a subclass takes from its parent
local function inherited(k)
  if type(k) ~= "string" then return false end
  local a, b = byte(k, 1, 2)
  return a == 95 and b == 95 and k ~= "__index" and k ~= "__name" and k ~= "__getters"
         and k ~= "__setters"
end

-- per class: the inherited fields it defines itself, and its direct
-- subclasses (weak: a class is collected like any table)
local weak_keys = {__mode = "k"}
local own = setmetatable({}, weak_keys)
local subclasses = setmetatable({}, weak_keys)

-- copies cls's field k to the subclasses below it that do not define
-- their own (each reads its parent's current value)
local function copy_down(cls, k)
  local subs = subclasses[cls]
  if subs == nil or next(subs) == nil then return end
  for sub in pairs(subs) do
    if not own[sub][k] then
      rawset(sub, k, rawget(cls, k))
      copy_down(sub, k)
    end
  end
end

-- __newindex of a class, called for every "__" field, present or not, and
-- no other (vm patch 0024): an inherited field set to nil falls back to
-- the parent's
local function class_newindex(cls, k, v)
  rawset(cls, k, v)
  if not inherited(k) then return end
  own[cls][k] = v ~= nil or nil
  if v == nil then
    local parent = rawget(cls, "super")
    if type(parent) == "table" then rawset(cls, k, rawget(parent, k)) end
  end
  copy_down(cls, k)
end

-- makes cls (its own fields in place) a class under 'parent' (nil for
-- Object); it is known as a subclass before it takes the parent's fields,
-- so that one assigned meanwhile by another thread reaches it too
local function make_class(cls, parent, meta)
  own[cls] = {}
  subclasses[cls] = setmetatable({}, weak_keys)
  if parent ~= nil then init_base[cls] = required[parent] and parent or init_base[parent] end
  if parent ~= nil then
    local subs = subclasses[parent]
    if subs == nil then  -- extend called on a table that is not a class
      subs = setmetatable({}, weak_keys)
      subclasses[parent] = subs
    end
    subs[cls] = true
    for k, v in pairs(parent) do
      if inherited(k) then cls[k] = v end
    end
  end
  meta.__call, meta.__tostring, meta.__newindex = construct, class_tostring, class_newindex
  setmetatable(cls, meta)
  register(cls)  -- its identity, and its "__" fields watched
  return cls
end

local Object = {}
Object.__name = "Object"
Object.__index = Object
make_class(Object, nil, {})

function Object:init() end

function Object:__tostring()
  return ("<%s object at %s>"):format(getmetatable(self).__name or "?",
                                     ("%p"):format(self))
end

-- Class:extend(name) -> a new subclass
function Object.extend(parent, name)
  -- (at the script's line, also through a class's own extend)
  if type(parent) ~= "table" then
    M.argerror(1, "extend", "class expected, got " .. type(parent), 2)
  end
  if type(name) ~= "string" then
    M.argerror(1, "extend", "string expected, got " .. type(name), 2)
  end
  local cls = {}
  cls.__name = name
  cls.__index = cls
  cls.super = parent
  -- the properties are inherited, and a subclass's own (M.getters on it)
  -- would go into its own tables
  local getters = rawget(parent, "__getters")
  make_class(cls, parent, {__index = parent})
  if getters then  -- after make_class, which copies the parent's __newindex
    M.getters(cls, setmetatable({}, {__index = getters}),
              setmetatable({}, {__index = rawget(parent, "__setters")}))
  end
  return cls
end

-- Python's properties: attributes computed on read, getters[name](self),
-- and written through setters[name](self, value) when they have one.
-- Assigning one that has no setter (t.ident = 5) raises
-- "attribute 'ident' of 'Thread' objects is not writable" at the
-- assignment, as Python's AttributeError; every other new field of an
-- instance is stored as usual. A property's value lives under another key
-- (ident in _ident), so that the instance has no raw field of that name
-- and both the read and the write reach the class. Only classes that have
-- properties pay for a function __index and __newindex: plain fields
-- (t.name, fields of one's own) stay raw reads.
-- A setter is tail-called in the assignment's place: its errors use level 2.
-- (__setters holds the setters and 'false' for the read-only properties,
-- so that a new field of an instance costs one lookup more, not two.)
function M.getters(cls, getters, setters)
  setters = setters or {}
  for k in pairs(getters) do  -- its own: inherited ones are marked already
    if setters[k] == nil then setters[k] = false end
  end
  rawset(cls, "__getters", getters)
  rawset(cls, "__setters", setters)
  rawset(cls, "__index", function(obj, k)
    local g = getters[k]
    if g then return g(obj) end
    return cls[k]
  end)
  rawset(cls, "__newindex", function(obj, k, v)
    local s = setters[k]
    if s == nil then return rawset(obj, k, v) end
    if s then return s(obj, v) end
    error(M.not_writable(obj, k), 2)
  end)
  own[cls].__newindex = true  -- not replaced by a base's later __newindex
end

-- the message of an assignment to obj's read-only attribute k
function M.not_writable(obj, k)
  local cls = getmetatable(obj)
  return ("attribute '%s' of '%s' objects is not writable"):format(
    tostring(k), tostring(type(cls) == "table" and rawget(cls, "__name") or "?"))
end

-- daemon_setter(fixed, message) -> the setter of the 'daemon' property of
-- Thread and Process: its value lives in '_daemon' (read back by a
-- getter), and assigning it once fixed(self) is true raises message
function M.daemon_setter(fixed, message)
  return function(self, v)
    if fixed(self) then error(message, 2) end
    rawset(self, "_daemon", v)
  end
end

-- first_field(o, name, ...) -> the first of these fields of o that is set
-- (a constructor's named form accepting API.md's name and Python's)
function M.first_field(o, ...)
  for i = 1, select("#", ...) do
    local v = o[(select(i, ...))]
    if v ~= nil then return v end
  end
  return nil
end

-- Class:is(obj): obj is an instance of Class or of a subclass (a table,
-- or a native handle whose metatable is a class, as threading.Lock() makes)
function Object.is(cls, obj)
  local t = type(obj)
  if t ~= "table" and t ~= "userdata" then return false end
  local c = getmetatable(obj)
  while type(c) == "table" do
    if c == cls then return true end
    c = rawget(c, "super")
  end
  return false
end

-- obj:isinstance(Class)
function Object.isinstance(obj, cls)
  return Object.is(cls, obj)
end

M.Object = Object

-- Error kinds: unique values that print their name. Raising one with a
-- message makes a new value that still compares equal to its kind:
--   error(queue.Empty("nothing to get")) ... err == queue.Empty  --> true
local ErrorMeta = {}
ErrorMeta.__name = "error"
-- rawequal: kinds are themselves error values, whose == would recurse
ErrorMeta.__eq = function(a, b) return rawequal(rawget(a, "kind"), rawget(b, "kind")) end
ErrorMeta.__tostring = function(e)
  local msg = rawget(e, "message")
  if msg ~= nil then return e.name .. ": " .. tostring(msg) end
  return e.name
end
ErrorMeta.__concat = function(a, b) return tostring(a) .. tostring(b) end
ErrorMeta.__call = function(kind, message)
  return setmetatable({name = kind.name, kind = kind.kind, message = message},
                      ErrorMeta)
end
ErrorMeta.__index = {
  -- Kind:is(err): err is this kind (raised with or without a message)
  is = function(kind, err)
    return type(err) == "table" and getmetatable(err) == ErrorMeta
       and rawequal(rawget(err, "kind"), rawget(kind, "kind"))
  end,
}

function M.error_kind(name)
  local kind = setmetatable({name = name}, ErrorMeta)
  kind.kind = kind
  return kind
end

-- A bad-argument error in Lua's own words, raised at the caller of the
-- function that checks ('level' 3 from the checking helper).
-- Whatever frame 'level' names, the error's position is the first frame
-- above it outside this library (constructors run init through
-- 'construct', so a fixed level would name a line of class.lua).
local loaded = package.loaded
local function in_library(source)
  local name = source:match("^@cthreads/([%w_]+)%.lua$")
  return name ~= nil and loaded["cthreads." .. name] ~= nil
end
-- the level, for error() in the caller, of the first frame at or above
-- 'level' outside this library (0, no position, if there is none)
local function outside_level(level)
  level = level + 1  -- this function's own frame
  local info = getinfo(level, "S")  -- the frame error(msg, level) names
  while info and in_library(info.source) do
    level = level + 1
    info = getinfo(level, "S")
  end
  if info == nil then return 0 end  -- ran off the stack: no position
  return level - 1
end

function M.argerror(n, fname, msg, level)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg),
        outside_level((level or 2) + 1))
end

-- caller_error(msg): error(msg) at the script's line that called into the
-- library, through metamethods and constructors
function M.caller_error(msg)
  error(msg, outside_level(2))
end

-- require_init(cls): the classes below library class cls have to call its
-- init (through Sub.super.init(self)), as Python's Thread subclasses have
-- to call Thread.__init__: constructing one whose init did not raises
-- "Queue.init() was not called ..." at the script's line, rather than an
-- unclear error at its first method call. cls.init is wrapped to leave a
-- mark in a subclass's instance; construct checks it and takes it away.
function M.require_init(cls)
  local init = cls.init
  rawset(cls, "init", function(self, ...)
    if getmetatable(self) ~= cls then rawset(self, INIT_RAN, true) end
    return init(self, ...)
  end)
  required[cls] = true
  -- the subclasses made already (a class made later asks its parent)
  local function refresh(c)
    for sub in pairs(subclasses[c]) do
      init_base[sub] = required[c] and c or init_base[c]
      refresh(sub)
    end
  end
  refresh(cls)
end

-- forward(f, ...): f(...) for a method that hands its arguments on to
-- another (Condition:acquire to its lock's acquire; f makes that call as
-- a method call, lock:acquire(...), so that Lua numbers the arguments as
-- the script's): f's results, or its error raised again. A bad-argument
-- error is the script's, so it is positioned at the script's line rather
-- than at the library's line that made the call (Lua positions it at the
-- native function's caller). So is any other error that the native
-- function raised at the library's line (Condition:release's "cannot
-- release un-acquired lock").
local function forwarded(ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "string" then
    local msg = e:match("^cthreads/[%w_]+%.lua:%d+: (.*)$")
    if msg then error(msg, outside_level(2)) end
  end
  error(e, 0)
end

function M.forward(f, ...)
  return forwarded(pcall(f, ...))
end

-- name_methods(prefix, cls, names): native functions used as methods get
-- their method names in errors when called without one (pcall(q.get, q)):
-- a function's name is taken from the loaded modules, an internal one
-- giving its last component (vm patch 0023), so a small internal module
-- "cthreads.<prefix>.<class>" holds them under those names
function M.name_methods(prefix, cls, names)
  local t = {}
  for _, name in ipairs(names) do t[name] = rawget(cls, name) end
  loaded["cthreads." .. prefix .. "." .. rawget(cls, "__name")] = t
end

function M.checktype(v, want, n, fname, optional)
  local t = type(v)
  if t == want or (optional and v == nil) then return v end
  if want == "function" and t ~= "function" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__call then return v end
  end
  M.argerror(n, fname, ("%s expected, got %s"):format(want, v == nil and "no value" or t), 3)
end

-- checktimeout(v, n, fname): an optional timeout in seconds; NaN is an
-- error, as in Python (it would otherwise wait forever or not at all)
function M.checktimeout(v, n, fname)
  if v ~= v then M.argerror(n, fname, "timeout must be a number, not nan", 3) end
  return M.checktype(v, "number", n, fname, true)
end

-- the name of v's type for messages: its class name for instances
function M.typename(v)
  local t = type(v)
  local mt = (t == "table" or t == "userdata") and getmetatable(v)
  if type(mt) == "table" and type(rawget(mt, "__name")) == "string" then
    return rawget(mt, "__name")
  end
  return v == nil and "no value" or type(v)
end

-- checkself(obj, cls, fname): a method called on something that is not
-- an instance of cls (Thread.join(5)) raises a bad-argument error
function M.checkself(obj, cls, fname)
  if Object.is(cls, obj) then return obj end
  M.argerror(1, fname, ("%s expected, got %s"):format(rawget(cls, "__name"),
                                                      M.typename(obj)), 3)
end

-- Lua-side methods called on something that is not an instance
-- (Barrier.wait(5), p.start() for p:start()) raise a bad-argument error,
-- not an index error deep inside: each named method of cls is wrapped
-- With 'field', a field that cls's init sets, an instance of a subclass
-- whose init did not call cls.init raises that (as Thread:start does),
-- not an index error inside.
function M.guard(cls, names, field)
  for _, name in ipairs(names) do
    local method = cls[name]
    -- native methods check their arguments themselves (and stay unwrapped)
    if type(method) == "function" and getinfo(method, "S").what ~= "C" then
      cls[name] = function(self, ...)
        M.checkself(self, cls, name)
        if field ~= nil and rawget(self, field) == nil then
          M.caller_error(("%s.init() was not called (call %s.super.init(self) in your init)")
                         :format(rawget(cls, "__name"), M.typename(self)))
        end
        return method(self, ...)
      end
    end
  end
end

-- a table without a metatable: a constructor's named fields, Class{...}
function M.is_plain_table(v)
  return type(v) == "table" and getmetatable(v) == nil
end

-- ---- constructor arguments ---------------------------------------------------
-- A constructor takes named fields in one table, Class{a = 1}, or positional
-- arguments, Class(1). Both forms are checked, as Python checks keyword and
-- positional arguments: a misspelt field or a stray argument would be
-- ignored silently. Only the constructor's own init checks, so a subclass
-- whose init takes other arguments is not held to its parent's list (what
-- it passes on to Parent.init is).

-- check_fields(fname, o, fields): every key of the named fields o is in
-- the set 'fields' (else bad argument #1, "unexpected field 'x'")
function M.check_fields(fname, o, fields)
  for k in pairs(o) do
    if not fields[k] then
      M.argerror(1, fname, ("unexpected field '%s'"):format(tostring(k)), 3)
    end
  end
end

-- check_count(fname, max, ...): no argument past the first 'max' (nils
-- past it are let through: Lua passes trailing nils freely)
function M.check_count(fname, max, ...)
  local n = select("#", ...)
  if n <= max then return end
  local first, last
  for i = max + 1, n do
    if (select(i, ...)) ~= nil then
      first = first or i
      last = i
    end
  end
  if first == nil then return end
  local expected = max == 0 and "no arguments expected"
    or ("at most %d argument%s expected"):format(max, max == 1 and "" or "s")
  M.argerror(first, fname, ("%s, got %d"):format(expected, last), 3)
end

-- args(fname, fields, max, ...) -> the table of named fields, or nil when
-- the arguments are positional. The named form is one plain table (and
-- nothing else but nils); its fields are checked against the set
-- 'fields'. Positional arguments are checked: at most 'max' of them.
-- 'fname' names the constructor in the bad-argument errors. (One call
-- with few calls inside: a C function call costs more than a Lua one
-- here, and constructors like Event() call this every time.)
function M.args(fname, fields, max, ...)
  local n = select("#", ...)
  if n == 0 then return nil end
  local first = ...
  if type(first) == "table" and getmetatable(first) == nil then
    local named = true
    for i = 2, n do
      if (select(i, ...)) ~= nil then named = false break end
    end
    if named then
      M.check_fields(fname, first, fields)
      return first
    end
  end
  if n > max then M.check_count(fname, max, ...) end
  return nil
end

-- named_errors(fname, o, names, check, ...): check(...), a constructor's
-- checks of its arguments in the positional order (bad-argument errors
-- numbering them so). With the named form (o, the table of fields, not
-- nil) such an error is argument #1 naming its field instead, as Pool's:
-- Barrier{timeout = "x"} raises "bad argument #1 to 'Barrier' (field
-- 'timeout': number expected, got string)", not argument #3 of a call
-- that has one. names[i] is the field of argument i, or a list of the
-- names it may have (the first one set is named).
local function field_name(o, name)
  if type(name) ~= "table" then return name end
  for _, n in ipairs(name) do
    if o[n] ~= nil then return n end
  end
  return name[1]
end

local function renamed(fname, o, names, ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "string" then
    local n, name, text = e:match("bad argument #(%d+) to '([^']*)' %((.*)%)$")
    local field = n and names[tonumber(n)]
    if field and name == fname then
      error(("bad argument #1 to '%s' (field '%s': %s)"):format(fname, field_name(o, field),
                                                             text), outside_level(2))
    end
  end
  error(e, 0)
end

function M.named_errors(fname, o, names, check, ...)
  if o == nil then return check(...) end
  return renamed(fname, o, names, pcall(check, ...))
end

-- fields(name, ...) -> the set of these field names, for args
function M.fields(...)
  local set = {}
  for i = 1, select("#", ...) do set[(select(i, ...))] = true end
  return set
end
M.NO_FIELDS = {}

-- Thread and Process constructor arguments, as one table of options:
-- Class{target=, args=, kwargs=, name=, daemon=}, or Class(target, ...)
-- where name, args, kwargs and daemon are recognised by type (Python's
-- positional order, group left out; a leading nil is group=None).
-- 'fname' names the constructor in bad-argument errors.
local worker_fields = M.fields("target", "args", "kwargs", "name", "daemon", "group")
function M.worker_options(fname, ...)
  local o
  if select("#", ...) == 1 and M.is_plain_table((...)) then
    o = ...
    for k in pairs(o) do  -- a misspelt field would be ignored silently
      if not worker_fields[k] then
        M.argerror(1, fname, ("unexpected field '%s'"):format(tostring(k)), 3)
      end
    end
  else
    o = {}
    local args = {...}
    local i = 1
    if args[1] == nil and select("#", ...) > 1 then i = 2 end
    o.target = args[i]
    for j = i + 1, select("#", ...) do
      local v = args[j]
      local t = type(v)
      -- each at most once (a second name or a third table is a stray argument)
      if t == "string" and o.name == nil then o.name = v
      elseif t == "boolean" and o.daemon == nil then o.daemon = v
      elseif t == "table" and o.args == nil then o.args = v
      elseif t == "table" and o.kwargs == nil then o.kwargs = v
      elseif v ~= nil then
        M.argerror(j, fname, "unexpected " .. t, 3)
      end
    end
  end
  M.checktype(o.target, "function", 1, fname, true)
  M.checktype(o.args, "table", 1, fname, true)
  M.checktype(o.kwargs, "table", 1, fname, true)
  M.checktype(o.daemon, "boolean", 1, fname, true)
  return o
end

-- target(args..., kwargs): kwargs, when given, is one extra last argument
function M.call_target(target, args, kwargs)
  local n = args.n or #args
  if kwargs ~= nil then
    local all = {unpack(args, 1, n)}
    all[n + 1] = kwargs
    return target(unpack(all, 1, n + 1))
  end
  return target(unpack(args, 1, n))
end

-- an error value as text for reports: strings as they are, others through
-- tostring (__tostring included), never failing
function M.error_text(e)
  if type(e) == "string" then return e end
  local ok, s = pcall(tostring, e)
  return ok and s or "(error object is a " .. type(e) .. " value)"
end

return M
