-- loops: numeric for (integer and float), while and repeat loops with a
-- little arithmetic in the body. Measures backward jumps (and the eval
-- breaker check at each). usage: loops.lua [N]  (N = 0: nothing)
local N = tonumber(arg and arg[1]) or 10000000

local function int_for(n)
  local s = 0
  for i = 1, n do s = s + (i & 15) end
  return s
end

local function float_for(n)
  local s = 0.0
  for x = 0.5, n, 1.0 do s = s + x * 0.25 end
  return s
end

local function while_loop(n)
  local i, s = 0, 0
  while i < n do
    i = i + 1
    if i % 3 == 0 then s = s + i end
  end
  return s
end

local function repeat_nested(n)
  local outer, s = n // 100, 0
  local k = 0
  repeat
    k = k + 1
    for j = 1, 100 do s = s ~ (k * j) end
  until k >= outer
  return s
end

local t0 = os.clock()
local a, b, c, d = 0, 0.0, 0, 0
if N > 0 then
  a = int_for(N)
  b = float_for(N)
  c = while_loop(N)
  d = repeat_nested(N)
end
print(("time %.6f"):format(os.clock() - t0))
print(("checksum %d %.17g %d %d"):format(a, b, c, d))
