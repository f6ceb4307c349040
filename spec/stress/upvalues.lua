-- Stress: shared variables written with values of changing types.
-- N threads write, one after another without any lock, values taken from
-- a fixed set (integers, floats, strings short and long, marked tables,
-- functions, booleans, nil) into the same slots: an open upvalue (a local
-- of the main chunk, which is still running), a closed upvalue (behind a
-- getter and a setter), a global, an array slot and a hash slot. After
-- every write each thread reads all the slots back, and every value read
-- must be one of the values written: of a type someone wrote, a number of
-- the same subtype and value, a string that is one of the strings, a
-- table that is one of the tables with its marker field, a function that
-- is one of the functions and returns its answer. A torn value (the type
-- of one write with the payload of another) fails one of these.
-- Then a local shared while its own function runs: thread 1 declares it,
-- hands closures over it to the others, and writes and reads it as a local
-- while they write and read it through the closures (with the GIL off such
-- a local lives in a cell, see the README's "Free-threaded mode").
-- Finally, x = x + 1 on a shared upvalue: exact under a Lock, and without
-- one never more than the increments made (updates may be lost GIL off).
-- usage: cthreads upvalues.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("upvalues")

local OPS = H.ops(50000)          -- writes per thread (each followed by 5 reads)
local INCS = H.ops(20000)         -- increments per thread, each counter

local fail = H.fail
local MARK = {}                   -- the marker field's value in every table written

local values = {
  0, 1, -1, math.maxinteger, math.mininteger, 0x5555555555555555,
  0.5, -2.25, 1e300, -1e-300, math.pi,
  "alpha", "", "a string long enough not to be interned by Lua: " .. string.rep("x", 40),
  true, false,
}
local num_ok, str_ok, tab_ok, fn_ok = {}, {}, {}, {}
for _, v in ipairs(values) do
  if type(v) == "number" then num_ok[v] = math.type(v)
  elseif type(v) == "string" then str_ok[v] = true end
end
for id = 1, 4 do
  local t = {mark = MARK, id = id}
  values[#values + 1] = t
  tab_ok[t] = id
  local f = function() return id * 11 end
  values[#values + 1] = f
  fn_ok[f] = id * 11
end
local NVALUES = #values + 1       -- the last "value" is nil

-- is v one of the values written?
local function valid(v)
  local t = type(v)
  if t == "nil" or t == "boolean" then return true end
  if t == "number" then return num_ok[v] == math.type(v) end
  if t == "string" then return str_ok[v] == true end
  if t == "table" then return tab_ok[v] ~= nil and rawget(v, "mark") == MARK and rawget(v, "id") == tab_ok[v] end
  if t == "function" then return fn_ok[v] ~= nil and v() == fn_ok[v] end
  return false
end

local function describe(v)
  local t = type(v)
  if t == "number" then return ("%s %s"):format(math.type(v), string.format("%q", v)) end
  return t .. " " .. tostring(v)
end

local open_slot = values[1]       -- an open upvalue: main is still running
local get_closed, set_closed = (function()
  local closed_slot = values[1]
  return function() return closed_slot end, function(v) closed_slot = v end
end)()
STRESS_GLOBAL = values[1]
local slots = {values[1], x = values[1]}

local owner_ready = threading.Event()
local owner_closures = {}
local all_done = threading.Barrier(N)

local counter_locked, counter_free = 0, 0
local count_lock = threading.Lock()
local reads_by_type = {}          -- reads_by_type[tid][type] = count

H.run(N, function(tid)
  local by_type = {}
  reads_by_type[tid] = by_type
  local function check(v, where)
    if not valid(v) then fail("%s read %s, a value no thread wrote", where, describe(v)) end
    local t = type(v)
    by_type[t] = (by_type[t] or 0) + 1
  end
  for j = 1, OPS do
    local idx = (j * 7 + tid * 3) % NVALUES + 1
    local v = values[idx]         -- nil when idx == NVALUES
    local slot = j % 5
    if slot == 0 then open_slot = v
    elseif slot == 1 then set_closed(v)
    elseif slot == 2 then STRESS_GLOBAL = v
    elseif slot == 3 then slots[1] = v
    else slots.x = v end
    check(open_slot, "open upvalue")
    check(get_closed(), "closed upvalue")
    check(STRESS_GLOBAL, "global")
    check(slots[1], "array slot")
    check(slots.x, "hash slot")
  end
  if tid == 1 then
    local mine = values[1]
    owner_closures.get = function() return mine end
    owner_closures.set = function(v) mine = v end
    owner_ready:set()
    for j = 1, OPS do
      mine = values[(j * 5) % NVALUES + 1]
      check(mine, "the owner's local")
    end
    all_done:wait()               -- 'mine' stays open until all are done
  else
    owner_ready:wait()
    local get, set = owner_closures.get, owner_closures.set
    for j = 1, OPS do
      set(values[(j * 3 + tid) % NVALUES + 1])
      check(get(), "a local through its closure")
    end
    all_done:wait()
  end
  for _ = 1, INCS do
    count_lock:acquire()
    counter_locked = counter_locked + 1
    count_lock:release()
    counter_free = counter_free + 1
  end
end)

local total = N * INCS
H.check(counter_locked == total, "counter under a Lock = %s, expected %d", describe(counter_locked), total)
H.check(math.type(counter_free) == "integer" and counter_free >= 1 and counter_free <= total,
  "counter without a lock = %s, not an integer in 1..%d", describe(counter_free), total)
H.check(rawlen(slots) <= 1, "slots grew to %d", rawlen(slots))

local types = {}
for tid = 1, N do for t in pairs(reads_by_type[tid] or {}) do types[t] = true end end
H.finish(("%d types read, the unlocked counter lost %d of %d increments")
  :format(H.count(types), total - counter_free, total))
