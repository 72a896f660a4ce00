-- LuaRocks, for real: `luarocks make` installs the library into a fresh tree, offline, and an installed
-- copy works from outside the source tree (tools/luarocks-smoke.sh does both; .ci/run runs it too).
-- Each interpreter's busted run checks its own install: Lua 5.4 under lua5.4, and under LuaJIT the
-- `--lua-version 5.1` build against LuaJIT's headers.

local control = require "support.control"
local fx = require "support.fixtures"

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return code, out
end

local which = jit and "luajit" or "5.4"

describe("luarocks make (" .. which .. ")", function()
  it("installs into a fresh tree, and the installed copy loads and sends a request from outside the sources",
    function()
      control.reset()
      control.enqueue{ match = { path = "/contacts/smoke" }, json = fx.contact("smoke") }
      local code, out = run("bash tools/luarocks-smoke.sh " .. which)
      assert.equal(0, code, out)
      assert.matches("intercom scm%-1 is now installed", out)
      local runtime = jit and "LuaJIT 2%.1%S*" or "Lua 5%.4"
      assert.matches("smoke ok %d+%.%d+%.%d+ on " .. runtime .. " %(fetched smoke%)", out)
      -- the command line as luarocks installed it (a wrapper running the tree's interpreter)
      assert.matches("\nintercom%-lua %d+%.%d+%.%d+, API versions [^\n]*" .. (jit and "LuaJIT" or "Lua 5%.4"), out)
      local req = control.last()
      assert.equal("/contacts/smoke", req.path)
      assert.equal("Bearer smoke-token", req.headers["authorization"])
    end)
end)
