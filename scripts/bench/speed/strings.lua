-- strings: concatenation, string.format, gsub/gmatch/find with patterns,
-- table.concat, sub/byte/rep/upper. usage: strings.lua [N]  (0: nothing)
local N = tonumber(arg and arg[1]) or 100000

local format, concat = string.format, table.concat

-- a checksum over strings that does not depend on hash order
local function fold(h, s)
  local n = #s
  h = (h * 31 + n) & 0xffffffff
  if n > 0 then
    h = (h * 31 + s:byte(1) + s:byte(n) + s:byte((n + 1) // 2)) & 0xffffffff
  end
  return h
end

local function with_concat(n)
  local h, line = 0, ""
  for i = 1, n do
    line = line .. "item" .. i .. ","
    if #line > 200 then h = fold(h, line); line = "" end
  end
  return fold(h, line)
end

local function with_format(n)
  local h = 0
  for i = 1, n do
    h = fold(h, format("%d:%s:%8.3f:%x", i, "abc", i / 7, i * 13))
  end
  return h
end

local text = ("The quick brown fox jumps over the lazy dog 12345 times; "):rep(20)

local function with_patterns(n)
  local h = 0
  for i = 1, n // 100 do
    local s, k = text:gsub("(%w+)", "<%1>")
    h = fold(h, s) + k
    s = text:gsub("%d+", function(d) return tostring(tonumber(d) + i) end)
    h = fold(h, s)
    for w in text:gmatch("%a+") do h = (h + #w) & 0xffffffff end
    h = h + (text:find("lazy", 1 + i % 100, true) or 0)
  end
  return h
end

local function with_table_concat(n)
  local h = 0
  local parts = {}
  for i = 1, n do
    parts[#parts + 1] = tostring(i)
    if #parts == 100 then
      h = fold(h, concat(parts, ","))
      parts = {}
    end
  end
  return fold(h, concat(parts, ","))
end

local function with_sub_and_case(n)
  local h = 0
  local s = ("abcdefghij"):rep(10)
  for i = 1, n do
    local j = i % 90 + 1
    local piece = s:sub(j, j + 9)
    if i % 2 == 0 then piece = piece:upper() end
    h = fold(h, piece)
  end
  return h
end

local t0 = os.clock()
local sum = {}
if N > 0 then
  sum[1] = with_concat(N)
  sum[2] = with_format(N)
  sum[3] = with_patterns(N)
  sum[4] = with_table_concat(N)
  sum[5] = with_sub_and_case(N)
end
print(("time %.6f"):format(os.clock() - t0))
print("checksum " .. concat(sum, " "))
