-- libcurl is loaded on first use, not when intercom is required (src/curlapi.h). Each check runs in a
-- fresh interpreter (the one running this spec, with the same LUA_PATH/LUA_CPATH), because a process
-- loads libcurl at most once.

local run = require("support.util").run_lua

-- Prints whether libcurl is mapped into the process at that point.
local MAPPED = [[
local function mapped()
  local f = io.open("/proc/self/maps"); local m = f:read("*a"); f:close()
  return m:find("libcurl", 1, true) ~= nil
end
]]

describe("loading libcurl", function()
  it("does not happen on require, intercom.new or JSON use, and happens on the first session", function()
    local code, out = run(MAPPED .. [[
      local intercom = require "intercom"
      local client = intercom.new{ token = "t" }
      intercom.json.decode(intercom.json.encode{ a = 1 })
      io.write("before=", tostring(mapped()), " ")
      local core = require "intercom.core"
      local s = core.session()
      io.write("after=", tostring(mapped()), " ", core.curl_version:match("^libcurl/%d") and "version" or "?")
      s:close()
      client:close()
    ]])
    assert.equal(0, code, out)
    assert.matches("before=false after=true version", out)
  end)

  it("reading core.curl_version loads it too", function()
    local code, out = run(MAPPED .. [[
      local core = require "intercom.core"
      io.write(tostring(mapped()), " ", core.curl_version:sub(1, 8), " ", tostring(mapped()))
    ]])
    assert.equal(0, code, out)
    assert.matches("false libcurl/ true", out)
  end)

  it("raises a clear error when INTERCOM_LIBCURL names no library", function()
    local code, out = run([[
      local core = require "intercom.core"
      local ok, err = pcall(core.session)
      io.write(tostring(ok), " ", err)
    ]], "INTERCOM_LIBCURL=/nonexistent/libcurl.so")
    assert.equal(0, code, out)
    assert.matches("false .*cannot load libcurl from INTERCOM_LIBCURL", out)
  end)
end)
