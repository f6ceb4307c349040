-- Ctrl-C (SIGINT) becomes an "interrupted!" error in the main thread,
-- wherever it is: running Lua, sleeping, waiting for a lock or a join.
local proc = require("proc")

-- runs 'code' in the background, sends SIGINT 0.05 s after it printed
-- "ready" (waiting up to 30 s for that: a slow start under a sanitizer on
-- a busy machine must not get the signal early), returns stdout, stderr
-- (the exit status is in stdout; 137 when it hung and a watchdog killed
-- it after 60 s). The scripts print "ready" where a signal from then on,
-- however late, gives the result the spec expects. With 'fifo', stdin is
-- a pipe that stays open until the signal has been sent.
local function interrupt(code, fifo)
  local path = proc.script(code)
  local errf = os.tmpname()
  local q = function(s) return proc.quote(s) end
  local sh = ([[
    rm -f %s.fifo
    if [ -n "%s" ]; then mkfifo %s.fifo; else : > %s.fifo; fi
    %s %s < %s.fifo 2>%s > %s.out &
    pid=$!
    if [ -n "%s" ]; then exec 3>%s.fifo; fi
    (sleep 60 && kill -KILL $pid) >/dev/null 2>&1 &
    watchdog=$!
    i=0
    while [ $i -lt 3000 ] && ! grep -q ready %s.out 2>/dev/null; do sleep 0.01; i=$((i+1)); done
    sleep 0.05
    kill -INT $pid
    if [ -n "%s" ]; then exec 3>&-; fi
    wait $pid
    echo "status=$?"
    pkill -P $watchdog sleep 2>/dev/null; kill $watchdog 2>/dev/null
    cat %s.out
    rm -f %s.fifo
  ]]):format(q(errf), fifo and "1" or "", q(errf), q(errf),
             q(proc.bin), q(path), q(errf), q(errf), q(errf),
             fifo and "1" or "", q(errf), q(errf), fifo and "1" or "", q(errf), q(errf))
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

  -- Python would wait for such threads after the KeyboardInterrupt (until
  -- a second Ctrl-C); a Ctrl-C that ends the script ends the program
  it("that ends the script ends the program, whatever threads still run", function()
    local cases = {
      -- the main thread joins a thread that sleeps forever
      [[local t = threading.Thread{target = function() while true do time.sleep(0.01) end end}
        t:start(); print("ready"); io.stdout:flush(); t:join()]],
      -- one that never stops running Lua, and one blocked in a queue
      [[threading.Thread{target = function() local x = 0 while true do x = x + 1 end end}:start()
        local q = queue.Queue()
        local t = threading.Thread{target = function() q:get() end}
        t:start(); print("ready"); io.stdout:flush(); t:join()]],
    }
    for _, code in ipairs(cases) do
      local out, err = interrupt(code)
      assert.matches("status=1\n", out, 1, true)
      assert.matches("interrupted!", err, 1, true)
    end
  end)

  it("while waiting for threads at the end: status 1, and a message", function()
    local out, err = interrupt([[
      threading.Thread{target = function() local x = 0 while true do x = x + 1 end end}:start()
      print("ready")]])
    assert.matches("status=1\n", out, 1, true)
    assert.matches("cthreads: interrupted while waiting for threads to end", err, 1, true)
  end)

  it("ends the child processes the program would have waited for", function()
    for _, join in ipairs{true, false} do  -- in p:join(), or waiting at the end
      local out, err = interrupt(([[
        local p = multiprocessing.Process{target = function() while true do time.sleep(0.01) end end}
        p:start()
        print("child", p.pid); print("ready"); io.stdout:flush()
        %s]]):format(join and "p:join()" or ""))
      assert.matches("status=1\n", out, 1, true)
      assert.matches("interrupted", err, 1, true)
      local pid = assert(out:match("child\t(%d+)"))
      local gone = false
      for _ = 1, 200 do  -- terminated: gone, or a zombie until reaped
        local f = io.open("/proc/" .. pid .. "/stat")
        local stat = f and f:read("a")
        if f then f:close() end
        if not stat or stat:match("^%d+ %b() Z") then gone = true break end
        os.execute("sleep 0.05")
      end
      assert.is_true(gone, "the child process " .. pid .. " still runs")
    end
  end)

  it("that cuts a read of stdin short is still an error", function()
    for _, code in ipairs{[[print("ready"); io.stdout:flush(); io.read()]],
                          [[print("ready"); io.stdout:flush(); local l = io.read(); print("read", l)]]} do
      local out, err = interrupt(code, true)
      assert.matches("status=1\n", out, 1, true)
      assert.matches("interrupted!", err, 1, true)
      assert.is_nil(out:find("read\t", 1, true))
    end
  end)
end)
