-- LuaRocks, for real (tools/luarocks-smoke.sh; .ci/run runs it too): `luarocks make` with no extra
-- variables, and the release .src.rock that `make rock` packs, installed offline, each into a fresh tree;
-- each installed copy works from outside the source tree, and the rock brings the LuaLS types.
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
  it("installs the scm rockspec and the release rock into fresh trees; each loads and sends a request"
    .. " from outside the sources", function()
      control.reset()
      control.enqueue{ match = { path = "/contacts/smoke" }, json = fx.contact("smoke"), ["repeat"] = 2 }
      local code, out = run("bash tools/luarocks-smoke.sh " .. which)
      assert.equal(0, code, out)
      local version = require("intercom")._VERSION
      local pv = version:gsub("%.", "%%.")
      assert.matches("intercom scm%-1 is now installed", out)
      assert.matches("intercom " .. pv .. "%-1 is now installed", out)
      assert.matches("types installed at lib/luarocks/rocks%-[%d.]+/intercom/" .. pv .. "%-1/types", out)
      local runtime = jit and "LuaJIT 2%.1%S*" or "Lua 5%.4"
      local _, oks = out:gsub("smoke ok " .. pv .. " on " .. runtime .. " %(fetched smoke%)", "")
      assert.equal(2, oks, out)
      local reqs = control.requests()
      assert.equal(2, #reqs)
      for _, req in ipairs(reqs) do
        assert.equal("/contacts/smoke", req.path)
        assert.equal("Bearer smoke-token", req.headers["authorization"])
      end
      -- the command line as luarocks installed it in each tree (a wrapper running the tree's interpreter)
      local cli_line = "\nintercom%-lua " .. pv .. ", API versions [^\n]*" .. (jit and "LuaJIT" or "Lua 5%.4")
      local _, clis = out:gsub(cli_line, "")
      assert.equal(2, clis, out)
    end)
end)
