-- Stress: N threads on the same tables.
--   hash:  each thread inserts its own keys (strings and sparse integers)
--          into one shared table, reads them back, deletes them in two
--          halves, round after round of different sizes, so the table
--          grows and shrinks (rehashes) under the others; its keys must
--          read back exactly what it wrote, and deleted keys must be gone
--   array: the threads fill interleaved slots of one shared array, which
--          grows from the hash part into the array part under them
--   list:  table.insert / table.remove at both ends under a Lock; every
--          token inserted is removed at most once, none is lost, none
--          appears twice
--   seq:   a sequence that only grows (table.insert under a Lock) while
--          every thread reads #seq: never smaller than a length already
--          seen, never past the appends made, and seq[#seq] is not nil
--   pairs: pairs/next over a table that the others insert into and
--          delete from; every pair seen is a pair some thread wrote;
--          `next` may raise an error about next (stock Lua: "invalid key
--          to 'next'"), no other error
-- usage: cthreads tables.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("tables")

local ROUNDS = H.ops(80)         -- hash rounds per thread
local ARRAY_PER_THREAD = H.ops(40000)
local LIST_OPS = H.ops(30000)
local SEQ_APPENDS = H.ops(16000)
local PAIRS_TRAVERSALS = H.ops(30)
local STABLE = 200                -- keys of `pairs_t` that are never removed

local fail = H.fail

local hash = {}
local array = {}
local LIST_START = 50             -- tokens 1..50 are in `list` from the start
local list, list_lock = {}, threading.Lock()
for i = 1, LIST_START do list[i] = i end
local seq, seq_lock = {}, threading.Lock()
local seq_appended = 0            -- appends done, written under seq_lock
local pairs_t = {}
local stable_name = {}
for i = 1, STABLE do
  stable_name[i] = "stable" .. i
  pairs_t[stable_name[i]] = i
end

-- per-thread results, each written only by its thread
local removed = {}                -- tokens each thread took out of `list`
local pairs_stats = {}            -- traversals completed / stopped by next

local function hash_rounds(tid)
  local base = tid << 32          -- this thread's integer keys: base + i
  local names = {}
  for r = 1, ROUNDS do
    local k = 16 << (r % 6)       -- 16 .. 512 keys of each kind this round
    for i = 1, k do
      local name = names[i]
      if not name then name = ("t%d:%d"):format(tid, i); names[i] = name end
      hash[name] = r * 100000 + i
      hash[base + i] = -(r * 100000 + i)
    end
    for i = 1, k do
      local want = r * 100000 + i
      local a, b = hash[names[i]], hash[base + i]
      if a ~= want then fail("hash[%q] = %s after writing %d (round %d)", names[i], tostring(a), want, r) end
      if b ~= -want then fail("hash[%d] = %s after writing %d (round %d)", base + i, tostring(b), -want, r) end
    end
    for i = 2, k, 2 do hash[names[i]] = nil; hash[base + i] = nil end
    for i = 1, k do
      local a = hash[names[i]]
      if i % 2 == 0 then
        if a ~= nil then fail("hash[%q] = %s after deleting it", names[i], tostring(a)) end
      elseif a ~= r * 100000 + i then
        fail("hash[%q] = %s after deleting its neighbours, wrote %d", names[i], tostring(a), r * 100000 + i)
      end
      local b, want = hash[base + i], -(r * 100000 + i)
      if i % 2 == 0 then want = nil end
      if b ~= want then
        fail("hash[%d] = %s after the half delete (round %d), expected %s", base + i, tostring(b), r, tostring(want))
      end
    end
    for i = 1, k, 2 do hash[names[i]] = nil; hash[base + i] = nil end
  end
end

local function fill_array(tid)
  for j = 0, ARRAY_PER_THREAD - 1 do
    local slot = j * N + tid
    array[slot] = slot * 2
    if array[slot] ~= slot * 2 then fail("array[%d] = %s just after writing %d", slot, tostring(array[slot]), slot * 2) end
  end
end

local function list_ops(tid)
  local mine = {}
  removed[tid] = mine
  for j = 1, LIST_OPS do
    local token = tid * 10000000 + j
    list_lock:acquire()
    if j % 2 == 0 then table.insert(list, token) else table.insert(list, 1, token) end
    local v
    if j % 3 == 0 then v = table.remove(list) else v = table.remove(list, 1) end
    list_lock:release()
    if v == nil then fail("table.remove on a list just inserted into returned nil")
    else mine[#mine + 1] = v end
  end
end

local function seq_ops()
  local seen = 0
  for _ = 1, SEQ_APPENDS do
    seq_lock:acquire()
    seq_appended = seq_appended + 1   -- counted first: #seq never passes it
    table.insert(seq, #seq + 1)
    seq_lock:release()
    for _ = 1, 3 do
      local n = #seq
      local bound = seq_appended        -- appends are counted before they are made
      if math.type(n) ~= "integer" or n < seen or n > bound then
        fail("#seq = %s, after having seen %d, with %d appends done", tostring(n), seen, bound)
      elseif n > 0 and seq[n] ~= n then
        fail("seq[#seq] = %s with #seq = %d", tostring(seq[n]), n)
      end
      if n > seen then seen = n end
    end
  end
end

-- one traversal; a pair is valid if a stable key with its index, or a
-- churn key (integer) with its negation
local function traverse()
  local count = 0
  for k, v in pairs(pairs_t) do
    if type(k) == "string" then
      if math.type(v) ~= "integer" or v < 1 or v > STABLE or not rawequal(stable_name[v], k) then
        fail("pairs gave stable key %q with value %s", k, tostring(v))
      end
    elseif math.type(k) == "integer" then
      if v ~= -k then fail("pairs gave key %d with value %s", k, tostring(v)) end
    else
      fail("pairs gave a key of type %s: %s", type(k), tostring(k))
    end
    count = count + 1
  end
  return count
end

local function pairs_ops(tid)
  local stats = {done = 0, stopped = 0}
  pairs_stats[tid] = stats
  local base = tid << 32
  local key = 0
  for t = 1, PAIRS_TRAVERSALS do
    -- churn: add a batch of keys, traverse, delete the previous batch
    -- but one key in 50 (so the table stays about the same size)
    for _ = 1, 300 do key = key + 1; pairs_t[base + key] = -(base + key) end
    local ok, err = pcall(traverse)
    -- a traversal during inserts may skip keys (Lua leaves it undefined),
    -- so only the pairs it yields are checked
    if ok then
      stats.done = stats.done + 1
    elseif type(err) == "string" and err:find("next", 1, true) then  -- stock: "invalid key to 'next'"
      stats.stopped = stats.stopped + 1
    else
      fail("traversal %d raised: %s", t, tostring(err))
    end
    for i = key - 599, key - 300 do
      if i >= 1 and i % 50 ~= 0 then pairs_t[base + i] = nil end
    end
    local k, v = next(pairs_t)
    if k == nil or pairs_t[k] == nil and type(k) == "string" then
      fail("next(pairs_t) gave %s, %s", tostring(k), tostring(v))
    end
  end
end

H.run(N, function(tid)
  hash_rounds(tid)
  fill_array(tid)
  list_ops(tid)
  seq_ops()
  pairs_ops(tid)
end)

-- after the join: the exact final states
local left = H.count(hash)
H.check(left == 0, "hash holds %d keys after every thread deleted all of its keys", left)

local total = N * ARRAY_PER_THREAD
for slot = 1, total do
  if array[slot] ~= slot * 2 then fail("array[%d] = %s, expected %d", slot, tostring(array[slot]), slot * 2); break end
end
H.check(#array == total, "#array = %d, expected %d", #array, total)

local seen = {}
local function take(token, where)
  if seen[token] then fail("list token %s seen twice (%s)", tostring(token), where) end
  seen[token] = true
end
for tid = 1, N do for _, token in ipairs(removed[tid] or {}) do take(token, "removed") end end
for _, token in ipairs(list) do take(token, "left in the list") end
local tokens = H.count(seen)
H.check(tokens == N * LIST_OPS + LIST_START, "list: %d distinct tokens accounted for, %d inserted",
  tokens, N * LIST_OPS + LIST_START)
H.check(#list == LIST_START, "list has %d tokens after as many inserts as removes, started with %d", #list, LIST_START)
for i = 1, LIST_START do if not seen[i] then fail("list token %d (from the start) was lost", i); break end end
for tid = 1, N do
  for j = 1, LIST_OPS do
    if not seen[tid * 10000000 + j] then fail("list token %d of thread %d was lost", j, tid); break end
  end
end

H.check(#seq == N * SEQ_APPENDS and seq_appended == N * SEQ_APPENDS,
  "seq has %d elements and %d appends were counted, expected %d", #seq, seq_appended, N * SEQ_APPENDS)
for i = 1, #seq do if seq[i] ~= i then fail("seq[%d] = %s", i, tostring(seq[i])); break end end

local done, stopped = 0, 0
for tid = 1, N do
  local s = pairs_stats[tid] or {done = 0, stopped = 0}
  done, stopped = done + s.done, stopped + s.stopped
end
local ok_final = traverse()
local expected_final = STABLE
for tid = 1, N do
  local base = tid << 32
  local last = PAIRS_TRAVERSALS * 300
  for i = 1, last do
    local gone = i <= last - 300 and i % 50 ~= 0
    local v = pairs_t[base + i]
    if gone and v ~= nil then fail("pairs_t[%d] still there after its delete", base + i) end
    if not gone then
      expected_final = expected_final + 1
      if v ~= -(base + i) then fail("pairs_t[%d] = %s, lost", base + i, tostring(v)) end
    end
  end
end
H.check(ok_final == expected_final, "final traversal saw %d keys, expected %d", ok_final, expected_final)

H.finish(("%d traversals whole, %d stopped by next"):format(done, stopped))
