-- spectral-norm: the largest singular value of an infinite matrix, by
-- power iteration on an N x N corner. Measures small function calls in
-- tight float loops. usage: spectral.lua [N]  (0: nothing)
local N = tonumber(arg and arg[1]) or 350

-- the matrix entry A(i, j), 0-based: 1 / ((i+j)(i+j+1)/2 + i + 1)
local function entry(i, j)
  local s = i + j
  return 1.0 / (s * (s + 1) // 2 + i + 1)
end

local function times(v, out, n)       -- out = A v
  for i = 0, n - 1 do
    local s = 0.0
    for j = 0, n - 1 do s = s + entry(i, j) * v[j] end
    out[i] = s
  end
end

local function times_t(v, out, n)     -- out = A' v
  for i = 0, n - 1 do
    local s = 0.0
    for j = 0, n - 1 do s = s + entry(j, i) * v[j] end
    out[i] = s
  end
end

local function times_ata(v, out, tmp, n)  -- out = A' A v
  times(v, tmp, n)
  times_t(tmp, out, n)
end

local t0 = os.clock()
local result = 0.0
if N > 0 then
  local u, v, tmp = {}, {}, {}
  for i = 0, N - 1 do u[i] = 1.0 end
  for _ = 1, 10 do
    times_ata(u, v, tmp, N)
    times_ata(v, u, tmp, N)
  end
  local vbv, vv = 0.0, 0.0
  for i = 0, N - 1 do
    vbv = vbv + u[i] * v[i]
    vv = vv + v[i] * v[i]
  end
  result = math.sqrt(vbv / vv)
end
print(("time %.6f"):format(os.clock() - t0))
print(("checksum %.12f"):format(result))
