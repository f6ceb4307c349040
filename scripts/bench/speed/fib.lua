-- fib: naive recursion. Measures Lua calls and returns (and the eval
-- breaker check at every call). usage: fib.lua [N]  (N = 0: nothing)
local N = tonumber(arg and arg[1]) or 32

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local t0 = os.clock()
local result = 0
if N > 0 then result = fib(N) end
print(("time %.6f"):format(os.clock() - t0))
print("checksum " .. result)
