-- count: the course's CPU-bound loop, `res = res + i` over 1..N, in the
-- format of the speed/ programs ("time" CPU seconds, "checksum").
-- usage: count.lua [N]  (N = 0: nothing)
local N = tonumber(arg and arg[1]) or 20000000

local function count(n)
  local res = 0
  for i = 1, n do res = res + i end
  return res
end

local t0 = os.clock()
local result = count(N)
print(("time %.6f"):format(os.clock() - t0))
print("checksum " .. result)
