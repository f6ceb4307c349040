-- Installed Lua 5.4 modules load without LUA_PATH/LUA_CPATH, C modules
-- included (cthreads exports the Lua API as lua5.4 does).
local proc = require("proc")

describe("installed modules", function()
  it("Lua and C modules from Debian's Lua 5.4 folders load with -E", function()
    local out, err, code = proc.run{"-E", "-e", [[
      local lfs = require("lfs")            -- C module (lua-filesystem)
      local term = require("term.core")     -- C module used by busted
      local say = require("say")            -- Lua module used by busted
      print(type(lfs.currentdir()), type(term), type(say))
    ]]}
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("string\ttable\ttable\n", out)
  end)

  it("package paths include the system folders, like lua5.4's", function()
    assert.matches("/usr/share/lua/5.4/?.lua", package.path, 1, true)
    assert.matches("/lua/5.4/?.so", package.cpath, 1, true)
  end)

  it("the library keeps working when a script removes or replaces globals", function()
    -- as Lua's own all.lua does before it ends: every global cleared while
    -- a thread, a child process and a pool are in use
    local out, err, code = proc.run{"-e", [[
      local mp, threading, print, pcall = multiprocessing, threading, print, pcall
      local go = threading.Event()
      local t = threading.Thread{target = function() go:wait() end}
      t:start()
      local q = mp.Queue()
      local pool = mp.Pool(1)
      local G, pairs = _G, pairs
      for name in pairs(G) do G[name] = nil end
      G.error, G.table, G.rawget = "not a function", {}, nil
      local p = mp.Process{target = function(q) q:put("from the child") end, args = {q}}
      p:start()
      print(q:get())
      p:join()
      print(pool:apply(function(x) return x * 2 end, {21}))
      pool:close()
      pool:join()
      print(pcall(threading.Lock().release, threading.Lock()))
      go:set()
      t:join()
      print(threading.active_count())
    ]]}
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("from the child\n42\nfalse\trelease unlocked lock\n1\n", out)
  end)

  it("builtins are globals and loaded modules", function()
    for _, name in ipairs{"threading", "time"} do
      assert.is_table(_G[name])
      assert.equal(_G[name], require(name))
    end
  end)
end)
