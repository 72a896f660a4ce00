-- Base64 (src/base64.c: core.base64_encode, core.base64_decode). Pure functions: no server needed.
local core = require "intercom.core"
local mime = require "mime"

-- Every byte, and bytes that look like line ends and a NUL.
local BINARY do
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  BINARY = table.concat(t) .. "\r\n\0end"
end

describe("core.base64", function()
  it("matches LuaSocket's mime.b64 for every length and round-trips", function()
    for n = 0, 600 do
      local s = BINARY:rep(3):sub(1, n)
      local e = core.base64_encode(s)
      assert.equal(mime.b64(s) or "", e)
      assert.equal(s, core.base64_decode(e))
    end
  end)

  it("refuses what is not canonical padded base64", function()
    for _, bad in ipairs{ "A", "ABC", "AB=C", "A===", "====", "AA=A", "AAA*", "QR==", "QUJ=" } do
      local v, err = core.base64_decode(bad)
      assert.is_nil(v, bad)
      assert.matches("^base64: ", err)
    end
    assert.equal("AB", core.base64_decode("QUI="))
  end)
end)
