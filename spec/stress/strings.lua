-- Stress: string creation and interning from N threads.
-- The main thread builds the expected strings first; then every thread
-- builds the same strings again in different ways (concatenation,
-- string.format, tostring, table.concat, string.rep, sub, lower, gsub,
-- char) and checks that each is equal (`==` and rawequal: a short string
-- built twice must be the same interned string), has the right length,
-- finds the main thread's entry when used as a table key, and that equal
-- strings built by different threads are one key of a shared table.
-- Around that, a storm of short-lived distinct strings makes the string
-- table grow and shrink, and strings published by one thread are used
-- as keys by the others (long strings hash lazily on first use).
-- usage: cthreads strings.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("strings")

local OPS = H.ops(12000)          -- strings built and checked per thread
local K = 1000                    -- distinct short and long strings
local LONG = string.rep("L", 48)  -- prefix of the long (not interned) strings

local fail = H.fail

local short, long, floats = {}, {}, {}
local index, lindex = {}, {}      -- keyed by the main thread's strings
for i = 1, K do
  short[i] = "s" .. i
  long[i] = LONG .. i
  floats[i] = string.format("%.14g", i + 0.25)
  index[short[i]] = i
  lindex[long[i]] = i
end
local formatted = string.format("%5.2f|%x|%q|%s|%-4s|", 3.14159, 255, "a\nb", true, "x")

local seen, lseen = {}, {}        -- shared: equal strings must be one key
local published = {}              -- published[tid][j]: strings for the others
local types = {"nil", "number", "string", "table", "boolean", "function"}
local sample = {nil, 1, "x", {}, true, print}

local builders = {
  function(i) return "s" .. i end,
  function(i) return string.format("s%d", i) end,
  function(i) return "s" .. tostring(i) end,
  function(i) return table.concat({"s", i}) end,
  function(i) return ("xxs" .. i):sub(3) end,
  function(i) return ("S" .. i):lower() end,
  function(i) return (("s" .. i):gsub("^s", "s")) end,
  function(i) return string.char(115) .. string.format("%d", i) end,
}
local long_builders = {
  function(i) return LONG .. i end,
  function(i) return string.rep("L", 48) .. tostring(i) end,
  function(i) return string.format("%s%d", LONG, i) end,
  function(i) return table.concat({string.rep("L", 24), string.rep("L", 24), i}) end,
}

H.run(N, function(tid)
  local pub = {}
  published[tid] = pub
  for j = 1, OPS do
    local i = (j * 7 + tid) % K + 1
    local pass = j // K                -- each pass over the strings builds them another way
    local s = builders[(pass + tid) % #builders + 1](i)
    if s ~= short[i] or not rawequal(s, short[i]) or #s ~= #short[i] then
      fail("built %q (length %d), expected %q", s, #s, short[i])
    end
    if index[s] ~= i then fail("index[%q] = %s, expected %d", s, tostring(index[s]), i) end
    seen[s] = true

    local l = long_builders[(pass + tid) % #long_builders + 1](i)
    if l ~= long[i] or #l ~= #long[i] then fail("built long string %q, expected %q", l, long[i]) end
    if lindex[l] ~= i then fail("lindex[long %d] = %s", i, tostring(lindex[l])) end
    lseen[l] = true

    if tostring(i + 0.25) ~= floats[i] then fail("tostring(%d + 0.25) = %s", i, tostring(i + 0.25)) end
    if j % 16 == 0 then
      local f = string.format("%5.2f|%x|%q|%s|%-4s|", 3.14159, 255, "a\nb", true, "x")
      if f ~= formatted then fail("string.format gave %q, expected %q", f, formatted) end
      local u = short[i]:upper()
      if u ~= "S" .. i or u:lower() ~= short[i] then fail("upper/lower of %q gave %q", short[i], u) end
    end
    local t = (j % #types) + 1
    if type(sample[t]) ~= types[t] then fail("type(%s) = %s", tostring(sample[t]), type(sample[t])) end

    -- the storm: distinct strings that die at once, some kept for a while
    local tmp = "tmp" .. tid .. ":" .. j
    if #tmp ~= #("tmp" .. tid .. ":") + #tostring(j) then fail("length of %q", tmp) end
    if j % 4 == 0 then pub[#pub + 1] = tmp end

    -- use another thread's published strings as keys
    local other = published[(tid + j) % N + 1]
    if other then
      local n = #other
      if n > 0 then
        local o = other[(j % n) + 1]
        if type(o) ~= "string" or not o:find("^tmp%d+:%d+$") then
          fail("published string %s", tostring(o))
        else
          local probe = {[o] = j}
          local copy = o:sub(1)
          if probe[copy] ~= j then fail("a copy of published string %q is a different key", o) end
        end
      end
    end
    if #pub > 200 then pub = {}; published[tid] = pub end
  end
end)

local n, ln = H.count(seen), H.count(lseen)
H.check(n == K, "the shared table has %d short string keys, expected %d", n, K)
H.check(ln == K, "the shared table has %d long string keys, expected %d", ln, K)
for s in pairs(seen) do
  if not rawequal(short[index[s] or 0], s) then fail("seen has a stray key %q", s) end
end
for l in pairs(lseen) do
  if lindex[l] == nil then fail("lseen has a stray key %q", l) end
end

H.finish(("%d strings built"):format(N * OPS * 3))
