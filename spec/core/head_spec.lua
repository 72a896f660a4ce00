-- Response header blocks (src/head.c: core.parse_headers, the table every transfer hands over) and what
-- the Lua client reads from that table (intercom.response: the request id, the rate-limit state). Pure
-- functions: no server needed; the headers a real transfer hands over are checked in session_spec.lua.
local core = require "intercom.core"

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

describe("the request id and rate limit, read in Lua from the headers table", function()
  it("reads the request id and the rate-limit counts (as integers)", function()
    local resp = response.meta({ status = 200, headers = core.parse_headers(NGINX) }, 1)
    assert.equal("c5db1855084610f5559370f7946e8b82", resp.request_id)
    assert.same({ limit = 10000, remaining = 9999, reset = 1717000060 }, resp.rate_limit)
    if tointeger then assert.equal("integer", math.type(resp.rate_limit.reset)) end
  end)

  it("matches names case-insensitively (HTTP/2 sends them lowercase)", function()
    local h = core.parse_headers("x-request-id: r1\r\nx-ratelimit-limit: 5\r\n"
      .. "X-RATELIMIT-REMAINING: 4\r\nx-RateLimit-Reset: 3\r\n")
    local resp = response.meta({ status = 200, headers = h }, 1)
    assert.same({ "r1", 5, 4, 3 }, { resp.request_id, resp.rate_limit.limit, resp.rate_limit.remaining,
      resp.rate_limit.reset })
  end)

  it("gives nil for absent headers, and for a transport that handed over none", function()
    for _, raw in ipairs{ { status = 200, headers = core.parse_headers("Content-Type: text/plain\r\n\r\n") },
                          { status = 200 } } do
      local resp = response.meta(raw, 1)
      assert.is_nil(resp.request_id)
      assert.same({}, resp.rate_limit)
      assert.equal("table", type(resp.headers))
    end
  end)

  it("reads odd values as Lua's tonumber would, and joins a repeated request id", function()
    local h = core.parse_headers("X-RateLimit-Limit: 1.5e3\r\nX-RateLimit-Remaining: 0x10\r\n"
      .. "X-RateLimit-Reset: soon\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n")
    local resp = response.meta({ status = 200, headers = h }, 1)
    assert.equal(1500, resp.rate_limit.limit)
    assert.equal(16, resp.rate_limit.remaining)
    assert.is_nil(resp.rate_limit.reset)
    assert.equal("a, b", resp.request_id)
  end)
end)
