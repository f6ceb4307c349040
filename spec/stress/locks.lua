-- Stress: counts kept under threading locks must be exact.
-- N threads increment shared counters (a global, a table field, an
-- upvalue, striped table slots) under a Lock taken every way the API
-- offers: acquire/release, lock:with(f), `local _ <close> = lock:hold()`,
-- non-blocking acquire(false) and acquire with a timeout (counting the
-- successes), a reentrant RLock taken twice, a Semaphore(1) and a
-- BoundedSemaphore(1) used as mutexes. Inside each critical section the
-- lock reads as locked and no other thread is inside (an occupancy
-- count). At the end every counter equals the increments made.
-- usage: cthreads locks.lua [N] [SCALE]
local H = dofile((arg[0]:match("^(.*)[/\\]") or ".") .. "/lib/harness.lua")
local N = H.args("locks")

local OPS = H.ops(30000)          -- increments per thread, per way
local STRIPES = 8

local fail = H.fail

local lock, rlock = threading.Lock(), threading.RLock()
local sem, bsem = threading.Semaphore(1), threading.BoundedSemaphore(1)
local stripe_locks, stripes = {}, {}
for s = 1, STRIPES do stripe_locks[s] = threading.Lock(); stripes[s] = 0 end

STRESS_COUNT = 0                  -- a global
local box = {count = 0}           -- a table field
local up = 0                      -- an upvalue
local rcount, scount, bcount = 0, 0, 0  -- scount under sem, bcount under bsem
local inside = 0                  -- threads inside `lock` right now: 0 or 1
local tries = {}                  -- tries[tid] = successful non-blocking/timed acquires

local function enter()
  inside = inside + 1
  if inside ~= 1 then fail("%d threads inside one Lock", inside) end
  if not lock:locked() then fail("lock:locked() is false inside the lock") end
end
local function leave() inside = inside - 1 end

local function bump_box(by)
  enter()
  box.count = box.count + by
  leave()
  return by
end

H.run(N, function(tid)
  local got = 0
  for j = 1, OPS do
    lock:acquire()
    enter()
    STRESS_COUNT = STRESS_COUNT + 1
    leave()
    lock:release()

    if lock:with(bump_box, 1) ~= 1 then fail("lock:with did not return f's result") end

    do
      local _ <close> = lock:hold()
      enter()
      up = up + 1
      leave()
    end

    if lock:acquire(false) then
      enter(); got = got + 1; STRESS_COUNT = STRESS_COUNT + 1; leave()
      lock:release()
    end
    if lock:acquire(true, 0.0001) then
      enter(); got = got + 1; STRESS_COUNT = STRESS_COUNT + 1; leave()
      lock:release()
    end

    rlock:acquire()
    rlock:acquire()
    rcount = rcount + 1
    rlock:release()
    rcount = rcount + 1
    rlock:release()

    if j % 2 == 0 then
      sem:acquire(); scount = scount + 1; sem:release()
    else
      bsem:acquire(); bcount = bcount + 1; bsem:release()
    end

    local s = (j * 5 + tid) % STRIPES + 1
    stripe_locks[s]:acquire()
    stripes[s] = stripes[s] + 1
    stripe_locks[s]:release()
  end
  tries[tid] = got
end)

local extra = 0
for tid = 1, N do extra = extra + (tries[tid] or 0) end
local total = N * OPS
H.check(STRESS_COUNT == total + extra, "global counter = %d, expected %d (%d from non-blocking and timed acquires)",
  STRESS_COUNT, total + extra, extra)
H.check(box.count == total, "table field counter = %d, expected %d", box.count, total)
H.check(up == total, "upvalue counter = %d, expected %d", up, total)
H.check(rcount == 2 * total, "RLock counter = %d, expected %d", rcount, 2 * total)
local evens = N * (OPS // 2)  -- iterations j = 1..OPS with j even use sem
H.check(scount == evens, "semaphore counter = %d, expected %d", scount, evens)
H.check(bcount == total - evens, "bounded semaphore counter = %d, expected %d", bcount, total - evens)
local ssum = 0
for s = 1, STRIPES do ssum = ssum + stripes[s] end
H.check(ssum == total, "striped counters sum to %d, expected %d", ssum, total)
H.check(not lock:locked() and inside == 0, "the lock is left %s with %d inside", tostring(lock:locked()), inside)

H.finish(("%d acquires by non-blocking or timed acquire"):format(extra))
