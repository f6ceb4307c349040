-- Stress: closures created in one thread and called in the others.
--   counters: each thread keeps making counter closures (a private upvalue
--             and a Lock of its own) and putting them in a shared pool,
--             overwriting older ones; every thread calls closures from the
--             pool. Each call returns the counter's id and its new count:
--             per caller, the counts of one counter only go up; at the end
--             each counter's count equals the calls all threads made to it
--   nested:   closures returning closures, capturing a loop variable, the
--             maker's locals and the argument of each level, made by one
--             thread and called by another: each answers from its own
--             upvalues (self-checking results)
--   calls:    a recursive local function, varargs and tail calls, shared
-- usage: cthreads closures.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("closures")

local OPS = H.ops(40000)          -- closure calls per thread
local POOL = 64

local fail = H.fail
local ID = 1000000                -- counter id = owner * ID + k

-- a counter: inc() -> id, count; get() -> count
local function make_counter(owner, k)
  local n, lock, id = 0, threading.Lock(), owner * ID + k
  local function inc()
    lock:acquire()
    n = n + 1
    local now = n
    lock:release()
    return id, now
  end
  return inc, function() return n end
end

local made = {}                   -- made[owner][k] = get; owner 0 is main
local pool = {}
made[0] = {}
for k = 1, POOL do
  local inc, get = make_counter(0, k)
  pool[k], made[0][k] = inc, get
end

-- nested: maker(a, b)(x)(y) = a, b, a * 1e6 + b * 1000 + x * 10 + y
local function maker(a, b)
  return function(x)
    local ten = x * 10
    return function(y) return a, b, a * 1000000 + b * 1000 + ten + y end
  end
end
local nested = {}
for k = 1, POOL do nested[k] = maker(0, k) end

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local function count_args(...) return select("#", ...), ... end
local function tail(n, acc) if n == 0 then return acc end return tail(n - 1, acc + n) end

local tallies = {}                -- tallies[tid][id] = calls made by tid

H.run(N, function(tid)
  local tally, last = {}, {}
  tallies[tid] = tally
  local mine = {}
  made[tid] = mine
  local loopers = {}
  for i = 1, 8 do loopers[i] = function() return tid, i end end
  for j = 1, OPS do
    local slot = (j * 13 + tid) % POOL + 1
    if j % 5 == 0 then
      local k = #mine + 1
      local inc, get = make_counter(tid, k)
      mine[k] = get
      pool[slot] = inc
    else
      local inc = pool[slot]
      local id, now = inc()
      local prev = last[id] or 0
      if math.type(now) ~= "integer" or now <= prev then
        fail("counter %d returned %s after %d to thread %d", id, tostring(now), prev, tid)
      end
      last[id] = now
      tally[id] = (tally[id] or 0) + 1
    end

    if j % 3 == 0 then
      local b = j % 997
      nested[slot] = maker(tid, b)
      loopers[j % 8 + 1] = function() return tid, j % 8 + 1 end
    end
    local f = nested[(slot * 7) % POOL + 1]
    local x, y = j % 10, tid % 10
    local a, b, r = f(x)(y)
    if math.type(a) ~= "integer" or r ~= a * 1000000 + b * 1000 + x * 10 + y then
      fail("nested closure of thread %s gave %s for %d, %d", tostring(a), tostring(r), x, y)
    end
    local who, i = loopers[j % 8 + 1]()
    if who ~= tid or i ~= j % 8 + 1 then fail("loop closure %d returned %s, %s", j % 8 + 1, tostring(who), tostring(i)) end

    if j % 200 == 0 then
      if fib(12) ~= 144 then fail("fib(12) = %s", tostring(fib(12))) end
      local n, p, q, r3 = count_args(tid, nil, j)
      if n ~= 3 or p ~= tid or q ~= nil or r3 ~= j then fail("varargs gave %s %s %s %s", n, p, q, r3) end
      if tail(100, 0) ~= 5050 then fail("tail(100) = %s", tostring(tail(100, 0))) end
    end
  end
end)

local counters, calls = 0, 0
for owner = 0, N do
  for k, get in ipairs(made[owner] or {}) do
    local id, sum = owner * ID + k, 0
    for tid = 1, N do sum = sum + ((tallies[tid] or {})[id] or 0) end
    if get() ~= sum then fail("counter %d counted %d calls, the threads made %d", id, get(), sum) end
    counters, calls = counters + 1, calls + sum
  end
end
H.check(calls == N * (OPS - OPS // 5), "%d counter calls tallied, %d made", calls, N * (OPS - OPS // 5))

H.finish(("%d counters, %d calls"):format(counters, calls))
