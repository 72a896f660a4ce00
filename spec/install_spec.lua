-- LuaRocks: `luarocks make` installs the library into a fresh tree, offline, and it loads from there.

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return code, out
end

describe("luarocks make", function()
  it("installs into a local tree, and lua5.4 requires intercom from it outside the source tree", function()
    local tree = os.tmpname()
    os.remove(tree)
    -- Debian keeps curl.h under the multiarch include directory, which luarocks does not search.
    local code, out = run(("luarocks --lua-version 5.4 make --tree %q intercom-scm-1.rockspec "
      .. "CURL_INCDIR=/usr/include/$(gcc -print-multiarch)"):format(tree))
    assert.equal(0, code, out)
    local probe = ([[cd /tmp && LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua' ]]
      .. [[LUA_CPATH='%s/lib/lua/5.4/?.so' lua5.4 -e ']]
      .. [[local i = require "intercom"; local c = i.new{ token = "t" }; ]]
      .. [[assert(package.searchpath("intercom.core", package.cpath):find("%s", 1, true)); ]]
      .. [[print(i._VERSION, c.contacts ~= nil, i.json.encode(i.array{}))']]):format(tree, tree, tree, tree)
    code, out = run(probe)
    assert.equal(0, code, out)
    assert.matches("true%s+%[%]", out)
    run(("rm -rf %q"):format(tree))
  end)
end)
