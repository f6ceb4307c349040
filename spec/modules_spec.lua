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

  it("builtins are globals and loaded modules", function()
    for _, name in ipairs{"threading", "time"} do
      assert.is_table(_G[name])
      assert.equal(_G[name], require(name))
    end
  end)
end)
