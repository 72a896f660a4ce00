-- Percent-encoding of URL parts (src/escape.c: core.url_escape), and intercom.url built on it. Pure
-- functions: no server needed.
local core = require "intercom.core"
local url = require "intercom.url"

describe("core.url_escape", function()
  -- The definition: everything but RFC 3986's unreserved characters, as %XX in uppercase hex.
  local function reference(s)
    return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
  end

  it("encodes every byte as RFC 3986 says", function()
    local all = {}
    for b = 0, 255 do all[#all + 1] = string.char(b) end
    local s = table.concat(all)
    assert.equal(reference(s), core.url_escape(s))
    for b = 0, 255 do
      local c = string.char(b)
      assert.equal(reference(c), core.url_escape(c))
    end
  end)

  it("returns unreserved text unchanged, and the empty string", function()
    assert.equal("65ddcd01697be43641000001", core.url_escape("65ddcd01697be43641000001"))
    assert.equal("A-Z_a.z~0", core.url_escape("A-Z_a.z~0"))
    assert.equal("", core.url_escape(""))
    assert.equal("a%20b%2Fc%3F%00", core.url_escape("a b/c?\0"))
  end)

  it("takes numbers as their string, as string.gsub did", function()
    assert.equal("42", core.url_escape(42))
    assert.equal("1.5", core.url_escape(1.5))
    assert.has_error(function() core.url_escape(nil) end)
  end)

  it("is what intercom.url encodes with", function()
    assert.equal("x%40y.com", url.escape("x@y.com"))
    assert.equal("a=1&b=x%20y&c=.", url.query_string{ a = 1, b = "x y", c = "." })   -- no path there
    local build = url.compile("/contacts/{contact_id}/tags/{id}")
    assert.equal("/contacts/a%2Fb/tags/%2E%2E", build("a/b", ".."))
    assert.equal("/x/%2E/y/z/a%20b", url.compile("/x/{a}/y/{b}/{c}")(".", "z", "a b"))
    assert.equal("/me", url.compile("/me")())
  end)
end)
