-- tables: table.insert/remove, table.sort (with and without a comparator),
-- hash parts with string and sparse integer keys. usage: tables.lua [N]
local N = tonumber(arg and arg[1]) or 100000

local insert, remove, sort = table.insert, table.remove, table.sort

-- deterministic pseudo-random integers (a 31-bit LCG), the same everywhere
local seed = 12345
local function rand()
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed
end

local function insert_remove(n)
  local t, s = {}, 0
  for i = 1, n do insert(t, i) end
  for _ = 1, n // 2 do s = s + remove(t) end
  local front = {}
  for i = 1, 500 do insert(front, 1, i) end      -- shifting inserts
  for _ = 1, 250 do s = s + remove(front, 1) end
  return s + #t + #front
end

local function sorting(n)
  local a, b = {}, {}
  for i = 1, n do
    local r = rand()
    a[i], b[i] = r, r
  end
  sort(a)
  sort(b, function(x, y) return x > y end)
  local s = 0
  for i = 1, n, 97 do s = (s + a[i] - b[n + 1 - i]) end  -- 0 if both sorted
  return s + a[1] + b[1]
end

local function hashing(n)
  local h, sparse = {}, {}
  for i = 1, n do
    h["key" .. i] = i
    sparse[i * 7919] = i
  end
  local s = 0
  for i = 1, n, 3 do
    s = s + h["key" .. i] + sparse[i * 7919]
    h["key" .. i] = nil
  end
  local count = 0
  for _, v in pairs(h) do count = count + 1; s = s + v end
  return s + count
end

local function records(n)
  local list = {}
  for i = 1, n // 10 do
    list[i] = {id = i, name = "r" .. i, score = rand() % 1000}
  end
  sort(list, function(x, y)
    if x.score ~= y.score then return x.score < y.score end
    return x.id < y.id
  end)
  local s = 0
  for i, r in ipairs(list) do s = s + i * r.score end
  return s
end

local t0 = os.clock()
local a, b, c, d = 0, 0, 0, 0
if N > 0 then
  a = insert_remove(N)
  b = sorting(N)
  c = hashing(N)
  d = records(N)
end
print(("time %.6f"):format(os.clock() - t0))
print(("checksum %d %d %d %d"):format(a, b, c, d))
