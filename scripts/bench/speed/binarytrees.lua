-- binary-trees: build and walk many complete binary trees of tables.
-- Measures allocation and the garbage collector. usage: binarytrees.lua [DEPTH]
local N = tonumber(arg and arg[1]) or 14

local function make(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return {make(depth), make(depth)}
end

local function count(tree)
  local left = tree[1]
  if left == nil then return 1 end
  return 1 + count(left) + count(tree[2])
end

local t0 = os.clock()
local total = 0
if N > 0 then
  local min_depth = 4
  local max_depth = math.max(min_depth + 2, N)
  total = total + count(make(max_depth + 1))  -- a "stretch" tree, dropped
  local long_lived = make(max_depth)
  for depth = min_depth, max_depth, 2 do
    local iterations = 1 << (max_depth - depth + min_depth)
    local sum = 0
    for _ = 1, iterations do sum = sum + count(make(depth)) end
    total = total + sum
  end
  total = total + count(long_lived)
end
print(("time %.6f"):format(os.clock() - t0))
print("checksum " .. total)
