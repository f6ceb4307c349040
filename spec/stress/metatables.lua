-- Stress: metatables set and changed while other threads use them.
--   proxy:  one empty table whose metatable the threads keep switching
--           (setmetatable) among three, each with its own __index
--           (function / table with its own __index function / prefilled
--           table), __newindex (function / table / function), __len, __add
--           and __call; every read, #, + and call must give the answer of
--           one of the three; every write goes through some __newindex, so
--           the proxy never gets a key of its own and each written key is in
--           exactly one of the three stores
--   fields: one metatable whose __index and __newindex fields the threads
--           keep replacing (never with nil); reads give one of the values,
--           each write lands in exactly one of the two write targets
--   class:  a shared class table that the threads add methods to while the
--           others call the methods already there through instances
--   basic:  the metatable of numbers and of booleans (debug.setmetatable),
--           switched between two while the threads index numbers and
--           booleans through it: each read gives one of the two answers
-- usage: cthreads metatables.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("metatables")

local OPS = H.ops(50000)          -- loop iterations per thread
local KEYS = 64                   -- keys read through the proxy

local fail = H.fail

local key, allowed = {}, {}       -- key[i]; allowed[key] = set of valid reads
for i = 1, KEYS do
  local k = "k" .. i
  key[i] = k
  allowed[k] = {["f:" .. k] = true, ["t:" .. k] = true, ["p:" .. k] = true}
end

local store = {{}, {}, {}}        -- where each metatable's __newindex writes
local prefilled = {}
for i = 1, KEYS do prefilled[key[i]] = "p:" .. key[i] end

local M = {
  {
    __index = function(_, k) return "f:" .. k end,
    __newindex = function(_, k, v) store[1][k] = v end,
    __len = function() return 1 end,
    __add = function(_, b) return 10 + b end,
    __call = function(_, x) return 1, x end,
  },
  {
    __index = setmetatable({}, {__index = function(_, k) return "t:" .. k end}),
    __newindex = store[2],
    __len = function() return 2 end,
    __add = function(_, b) return 20 + b end,
    __call = function(_, x) return 2, x end,
  },
  {
    __index = prefilled,
    __newindex = function(_, k, v) rawset(store[3], k, v) end,
    __len = function() return 3 end,
    __add = function(_, b) return 30 + b end,
    __call = function(_, x) return 3, x end,
  },
}
local which = {[M[1]] = 1, [M[2]] = 2, [M[3]] = 3}
local proxy = setmetatable({}, M[1])

-- fields: the metatable's fields change, not the metatable
local readA = setmetatable({}, {__index = function() return "A" end})
local readB = setmetatable({}, {__index = function() return "B" end})
local readF = function() return "F" end
local index_choices = {readA, readB, readF}
local targetA, targetB = {}, {}
local newindex_choices = {targetA, function(_, k, v) targetB[k] = v end}
local field_mt = {__index = readA, __newindex = targetA}
local obj = setmetatable({}, field_mt)

-- class: methods added while instances call them
local Class = {}
Class.__index = Class
function Class.base(self) return self.id end
local Sub = setmetatable({}, {__index = Class})
Sub.__index = Sub

local written = {}                -- written[tid] = number of proxy writes
local field_writes = {}

local basic_mts = {{__index = {kind = "A"}}, {__index = {kind = "B"}}}
debug.setmetatable(0, basic_mts[1])
debug.setmetatable(true, basic_mts[1])

H.run(N, function(tid)
  local pw, fw = 0, 0
  local inst = setmetatable({id = tid}, Sub)
  local methods = 0
  for i = 1, OPS do
    if i % 7 == 0 then setmetatable(proxy, M[(i + tid) % 3 + 1]) end
    local k = key[i % KEYS + 1]
    local v = proxy[k]
    if not allowed[k][v] then fail("proxy[%q] = %s, not from any __index", k, tostring(v)) end
    if i % 5 == 0 then
      pw = pw + 1
      proxy[tid * 10000000 + pw] = i
    end
    local n = #proxy
    if n ~= 1 and n ~= 2 and n ~= 3 then fail("#proxy = %s", tostring(n)) end
    local s = proxy + i
    local d = s - i
    if d ~= 10 and d ~= 20 and d ~= 30 then fail("proxy + %d = %s", i, tostring(s)) end
    local c, x = proxy(i)
    if x ~= i or not M[c] then fail("proxy(%d) returned %s, %s", i, tostring(c), tostring(x)) end
    local mt = getmetatable(proxy)
    if not which[mt] then fail("getmetatable(proxy) = %s, none of the three", tostring(mt)) end

    if i % 11 == 0 then field_mt.__index = index_choices[(i + tid) % 3 + 1] end
    if i % 13 == 0 then field_mt.__newindex = newindex_choices[(i + tid) % 2 + 1] end
    local r = obj.anything
    if r ~= "A" and r ~= "B" and r ~= "F" then fail("obj.anything = %s", tostring(r)) end
    if i % 3 == 0 then
      fw = fw + 1
      obj[tid * 10000000 + fw] = fw
    end

    if i % 50 == 0 then
      methods = methods + 1
      local name, number = ("m%d_%d"):format(tid, methods), methods
      Sub[name] = function(self) return self.id * 1000 + number end
      local got = inst[name](inst)
      if got ~= tid * 1000 + number then fail("method %s returned %s", name, tostring(got)) end
    end
    if inst:base() ~= tid then fail("inherited method base() = %s in thread %d", tostring(inst:base()), tid) end
    if i % 17 == 0 then debug.setmetatable(i, basic_mts[(i + tid) % 2 + 1]) end
    if i % 19 == 0 then debug.setmetatable(i % 2 == 0, basic_mts[(i + tid) % 2 + 1]) end
    local nk, bk = (i).kind, (i % 3 == 0).kind
    if nk ~= "A" and nk ~= "B" then fail("(%d).kind = %s", i, tostring(nk)) end
    if bk ~= "A" and bk ~= "B" then fail("(boolean).kind = %s", tostring(bk)) end
    local other = ("m%d_1"):format((tid % N) + 1)
    local m = Sub[other]
    if m ~= nil and m(inst) ~= tid * 1000 + 1 then
      fail("method %s called from thread %d returned %s", other, tid, tostring(m(inst)))
    end
  end
  written[tid], field_writes[tid] = pw, fw
end)

debug.setmetatable(0, nil)
debug.setmetatable(true, nil)

local own = next(proxy)
H.check(own == nil, "the proxy got a key of its own: %s", tostring(own))
local total = 0
for tid = 1, N do
  for w = 1, written[tid] or 0 do
    local k = tid * 10000000 + w
    local where = 0
    for s = 1, 3 do if rawget(store[s], k) ~= nil then where = where + 1 end end
    if where ~= 1 then fail("proxy write %d of thread %d is in %d stores, expected 1", w, tid, where) end
    total = total + 1
  end
end
local stored = H.count(store[1]) + H.count(store[2]) + H.count(store[3])
H.check(stored == total, "the stores hold %d keys, %d writes were made", stored, total)

local ftotal = 0
for tid = 1, N do
  for w = 1, field_writes[tid] or 0 do
    local k = tid * 10000000 + w
    local a, b = rawget(targetA, k), rawget(targetB, k)
    if (a == nil) == (b == nil) or (a or b) ~= w then
      fail("field write %d of thread %d: target A %s, target B %s", w, tid, tostring(a), tostring(b))
    end
    ftotal = ftotal + 1
  end
end
local own2 = next(obj)
H.check(own2 == nil, "obj got a key of its own: %s", tostring(own2))
local ftargets = H.count(targetA) + H.count(targetB)
H.check(ftargets == ftotal, "the write targets hold %d keys, %d writes were made", ftargets, ftotal)

H.finish(("%d proxy writes, %d field writes"):format(total, ftotal))
