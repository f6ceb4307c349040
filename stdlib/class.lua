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
-- extended, because Lua looks them up without __index.

local M = {}

local function class_tostring(cls)
  return ("<class '%s'>"):format(rawget(cls, "__name") or "?")
end

local function construct(cls, ...)
  local obj = setmetatable({}, cls)
  obj:init(...)
  return obj
end

local Object = {}
Object.__name = "Object"
Object.__index = Object
setmetatable(Object, {__call = construct, __tostring = class_tostring})

function Object:init() end

function Object:__tostring()
  return ("<%s object at %s>"):format(getmetatable(self).__name or "?",
                                     ("%p"):format(self))
end

-- Class:extend(name) -> a new subclass
function Object.extend(parent, name)
  if type(parent) ~= "table" then
    error("bad argument #1 to 'extend' (class expected, got " .. type(parent) .. ")", 2)
  end
  if type(name) ~= "string" then
    error("bad argument #1 to 'extend' (string expected, got " .. type(name) .. ")", 2)
  end
  local cls = {}
  for k, v in pairs(parent) do
    if type(k) == "string" and k:sub(1, 2) == "__" and k ~= "__index"
       and k ~= "__name" and k ~= "__getters" then
      cls[k] = v
    end
  end
  cls.__name = name
  cls.__index = cls
  cls.super = parent
  local getters = rawget(parent, "__getters")
  if getters then M.getters(cls, setmetatable({}, {__index = getters})) end
  return setmetatable(cls, {__index = parent, __call = construct,
                            __tostring = class_tostring})
end

-- Attributes computed on read (Python's properties): getters[name](self).
-- Only classes that have some pay for a function __index.
function M.getters(cls, getters)
  rawset(cls, "__getters", getters)
  rawset(cls, "__index", function(obj, k)
    local g = getters[k]
    if g then return g(obj) end
    return cls[k]
  end)
end

-- Class:is(obj): obj is an instance of Class or of a subclass
function Object.is(cls, obj)
  if type(obj) ~= "table" then return false end
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
       and rawget(err, "kind") == rawget(kind, "kind")
  end,
}

function M.error_kind(name)
  local kind = setmetatable({name = name}, ErrorMeta)
  kind.kind = kind
  return kind
end

-- A bad-argument error in Lua's own words, raised at the caller of the
-- function that checks ('level' 3 from the checking helper).
function M.argerror(n, fname, msg, level)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), (level or 2) + 1)
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

return M
