-- Ctrl-C (SIGINT) becomes an "interrupted!" error in the main thread,
-- wherever it is: running Lua, sleeping, waiting for a lock or a join.
local proc = require("proc")

-- runs 'code' in the background, sends SIGINT 0.05 s after it printed
-- "ready" (waiting up to 30 s for that: a slow start under a sanitizer on
-- a busy machine must not get the signal early), returns stdout, stderr
-- (the exit status is in stdout). The scripts print "ready" where a signal
-- from then on, however late, gives the result the spec expects.
local function interrupt(code)
  local path = proc.script(code)
  local errf = os.tmpname()
  local sh = ([[
    %s %s 2>%s > %s.out &
    pid=$!
    i=0
    while [ $i -lt 3000 ] && ! grep -q ready %s.out 2>/dev/null; do sleep 0.01; i=$((i+1)); done
    sleep 0.05
    kill -INT $pid
    wait $pid
    echo "status=$?"
    cat %s.out
  ]]):format(proc.quote(proc.bin), proc.quote(path), proc.quote(errf),
             proc.quote(errf), proc.quote(errf), proc.quote(errf))
  local p = io.popen(sh, "r")
  local out = p:read("a")
  p:close()
  local f = io.open(errf, "rb")
  local err = f and f:read("a") or ""
  if f then f:close() end
  os.remove(errf); os.remove(errf .. ".out"); os.remove(path)
  return out, err
end

describe("Ctrl-C", function()
  it("interrupts a running Lua loop", function()
    local out, err = interrupt([[print("ready"); io.stdout:flush(); while true do end]])
    assert.matches("status=1", out)
    assert.matches("interrupted!", err)
  end)

  it("interrupts time.sleep", function()
    local out, err = interrupt([[print("ready"); time.sleep(100)]])
    assert.matches("status=1", out)
    assert.matches("interrupted!", err)
  end)

  it("interrupts a blocked lock acquire and a join, and can be caught", function()
    local out, err = interrupt([[
      local l = threading.Lock(); l:acquire()
      local t = threading.Thread{target = function() time.sleep(0.3) end}
      t:start()
      local ok, e = pcall(function()
        print("ready")
        io.stdout:flush()
        l:acquire()
      end)
      print("caught", ok, e:match("interrupted!"))
      print("joined", t:join())
    ]])
    assert.matches("caught\tfalse\tinterrupted!", out)
    assert.matches("joined\ttrue", out)
    assert.matches("status=0", out)
    assert.equal("", err)
  end)

  it("does not kill other threads' work; the error names the main thread only", function()
    local out, err = interrupt([[
      local n = 0
      local t = threading.Thread{target = function() for i = 1, 3 do n = n + 1; time.sleep(0.01) end end}
      t:start()
      local ok = pcall(function()
        print("ready")
        io.stdout:flush()
        time.sleep(100)
      end)
      t:join()
      print("n", n, ok)
    ]])
    assert.matches("n\t3\tfalse", out)
    assert.matches("status=0", out)
  end)
end)
