-- Response header blocks (src/head.c: core.parse_headers, core.head_meta) and percent-encoding
-- (src/escape.c: core.url_escape). Pure functions: no server needed; the blocks a real transfer hands
-- over are checked in http_core_spec.lua.
local core = require "intercom.core"
local url = require "intercom.url"

local response = require "intercom.response"

local tointeger = math.tointeger   -- nil on LuaJIT

local NGINX = table.concat({
  "Server: nginx/1.22.1",
  "Date: Wed, 25 Nov 2026 03:28:47 GMT",
  "Content-Type: application/json",
  "Content-Length: 2259",
  "X-RateLimit-Limit: 10000",
  "X-RateLimit-Remaining: 9999",
  "X-RateLimit-Reset: 1717000060",
  "X-Request-Id: c5db1855084610f5559370f7946e8b82",
  "", "",
}, "\r\n")

describe("core.parse_headers", function()
  it("lowercases names, trims values, joins repeated names with ', '", function()
    local h = core.parse_headers("Content-Type:  text/plain \r\nSet-Cookie: a=1\r\nset-COOKIE: b=2\r\n"
      .. "X-Empty:\r\nX-Spaced-Name  : v\r\n\r\n")
    assert.same({ ["content-type"] = "text/plain", ["set-cookie"] = "a=1, b=2", ["x-empty"] = "",
                  ["x-spaced-name"] = "v" }, h)
  end)

  it("joins obsolete line folding with a space, skipping lines without a colon", function()
    local h = core.parse_headers("X-Long: one\r\n  two\r\n\tthree\r\nnot a header\r\n four\r\nX-B: b\n")
    assert.same({ ["x-long"] = "one two three four", ["x-b"] = "b" }, h)
    assert.same({}, core.parse_headers(" orphan fold\r\n"))
  end)

  it("gives an empty table for an empty block and accepts the last line without a line end", function()
    assert.same({}, core.parse_headers(""))
    assert.same({ a = "1" }, core.parse_headers("A: 1"))
  end)

  it("keeps long names whole", function()
    local name = string.rep("X-Very-Long-Name-", 20)
    assert.same({ [name:lower()] = "v" }, core.parse_headers(name .. ": v\r\n"))
  end)

  it("refuses what is neither a string nor a header block", function()
    assert.has_error(function() core.parse_headers(nil) end)
    assert.has_error(function() core.parse_headers({}) end)
    assert.has_error(function() core.parse_headers(io.stdout) end)   -- a userdata of another kind
  end)
end)

describe("core.head_meta", function()
  it("reads the request id and the rate-limit counts (as integers)", function()
    local id, limit, remaining, reset, odd = core.head_meta(NGINX)
    assert.equal("c5db1855084610f5559370f7946e8b82", id)
    assert.equal(10000, limit)
    assert.equal(9999, remaining)
    assert.equal(1717000060, reset)
    assert.is_false(odd)
    if tointeger then assert.equal("integer", math.type(reset)) end
  end)

  it("matches names case-insensitively (HTTP/2 sends them lowercase)", function()
    local id, limit, remaining, reset = core.head_meta("x-request-id: r1\r\nx-ratelimit-limit: 5\r\n"
      .. "X-RATELIMIT-REMAINING: 4\r\nx-RateLimit-Reset: 3\r\n")
    assert.same({ "r1", 5, 4, 3 }, { id, limit, remaining, reset })
  end)

  it("gives nil for absent headers", function()
    local id, limit, remaining, reset, odd = core.head_meta("Content-Type: text/plain\r\n\r\n")
    assert.is_nil(id)
    assert.is_nil(limit)
    assert.is_nil(remaining)
    assert.is_nil(reset)
    assert.is_false(odd)
    assert.is_nil((core.head_meta("")))
  end)

  -- Whatever the shape, the values are those of the headers table (rate-limit counts as response.lua
  -- reads them): the fast path and the table agree.
  local blocks = {
    NGINX,
    "X-RateLimit-Limit: 1.5e3\r\nX-RateLimit-Remaining: 0x10\r\nX-RateLimit-Reset: soon\r\n",
    "X-RateLimit-Limit:\r\nX-RateLimit-Remaining: -3\r\nX-RateLimit-Reset: 99999999999999999999\r\n",
    "X-Request-Id: a\r\nX-Request-Id: b\r\nX-RateLimit-Remaining: 7\r\n",
    "X-RateLimit-Remaining: 7\r\nX-RateLimit-Remaining: 8\r\n",
    "X-Request-Id: first\r\n  second\r\nX-RateLimit-Limit: 10\r\n",
    "X-Other: x\r\n folded\r\nX-RateLimit-Limit: 10\r\n",
    "X-Request-Id : spaced \r\nx-ratelimit-reset:12\r\nX-RateLimit-Resets: 1\r\nX-: y\r\nx\r\n",
    "X-RateLimit-Limit: 000123\r\n   \r\nX-Request-Id: after-blank-line\r\n",
  }
  for i, block in ipairs(blocks) do
    it("agrees with parse_headers on block " .. i, function()
      local h = core.parse_headers(block)
      local id, limit, remaining, reset, odd = core.head_meta(block)
      assert.equal(h["x-request-id"], id)
      -- what a response read from the block says equals what one read from the table says
      local from_head, from_table = response.meta({ status = 200, head = block }, 1), response.rate_limit(h)
      assert.equal(h["x-request-id"], from_head.request_id)
      assert.equal(from_table.limit, from_head.rate_limit.limit)
      assert.equal(from_table.remaining, from_head.rate_limit.remaining)
      assert.equal(from_table.reset, from_head.rate_limit.reset)
      if not odd then
        assert.same({ limit, remaining, reset }, { from_head.rate_limit.limit, from_head.rate_limit.remaining,
          from_head.rate_limit.reset })
      end
      for _, v in ipairs{ limit, remaining, reset } do
        if tointeger and math.type(v) == "float" then assert.is_true(odd) end
      end
    end)
  end

  it("joins a repeated request id as the headers table shows it", function()
    assert.equal("a, b", (core.head_meta("X-Request-Id: a\r\nX-Request-Id: b\r\n")))
  end)
end)

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
