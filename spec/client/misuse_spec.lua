-- Misuse raises at once, with a message that says what to do, and nothing reaches the server.

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"

local function raises(pattern, fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.matches(pattern, tostring(err), 1, true)
  return err
end

describe("misuse", function()
  local client
  before_each(function()
    control.reset()
    client = fx.client()
  end)
  after_each(function()
    assert.equal(0, #control.requests(), "a misuse must not send anything")
  end)

  it("a dot call where a colon call is meant", function()
    raises("contacts:find: call it with a colon: client.contacts:find(id, [opts])", function()
      return client.contacts.find("c1")
    end)
  end)

  it("an unknown request option, with a suggestion", function()
    raises('contacts:find: unknown option "timout" (did you mean "timeout"?)', function()
      return client.contacts:find("c1", { timout = 3 })
    end)
  end)

  it("an unknown client option, with a suggestion", function()
    raises('intercom.new: unknown option "max_retry" (did you mean "max_retries"?)', function()
      return intercom.new{ token = "t", max_retry = 3 }
    end)
    raises('intercom.new: unknown option "zzz"', function() return intercom.new{ zzz = 1 } end)
  end)

  it("points the error at the caller's line", function()
    local err = raises("unknown option", function() return client.contacts:find("c1", { bogus = 1 }) end)
    assert.matches("misuse_spec.lua:%d+:", err)
  end)

  it("a missing or empty path parameter", function()
    raises("contacts:find: missing path parameter id (got nil)", function() return client.contacts:find() end)
    raises("contacts:find: path parameter id is empty", function() return client.contacts:find("") end)
    raises("companies:detach_contact: missing path parameter id", function()
      return client.companies:detach_contact("c1")
    end)
    raises("must be a string or an integer", function() return client.contacts:find(1.5) end)
  end)

  it("a body or params of the wrong type", function()
    raises("contacts:create: body must be a table, got string", function()
      return client.contacts:create('{"email":"x"}')
    end)
    raises("admins:list: params must be a table, got number", function() return client.admins:list(5) end)
    raises("admins:list: params.x: expected a string, number, boolean", function()
      return client.admins:list{ x = { nested = true } }
    end)
  end)

  it("too many arguments (e.g. a body to an operation that takes none)", function()
    raises("too many arguments (3), expected client.contacts:find(id, [opts])", function()
      return client.contacts:find("c1", {}, {})
    end)
  end)

  it("a body that cannot be encoded", function()
    raises("contacts:create: the body cannot be encoded as JSON", function()
      return client.contacts:create{ email = "a@example.com", callback = function() end }
    end)
    local cyclic = { email = "x" }
    cyclic.self = cyclic
    raises("cannot be encoded", function() return client.contacts:create(cyclic) end)
  end)

  it("wrong option types and values", function()
    raises("intercom.new: option region: expected \"us\", \"eu\" or \"au\", got mars", function()
      return intercom.new{ token = "t", region = "mars" }
    end)
    raises("intercom.new: option timeout: expected a positive number", function()
      return intercom.new{ token = "t", timeout = -1 }
    end)
    raises("intercom.new: option base_url: expected an http(s) URL", function()
      return intercom.new{ token = "t", base_url = "ftp://x" }
    end)
    raises("give either region or base_url, not both", function()
      return intercom.new{ token = "t", region = "eu", base_url = "http://x" }
    end)
    raises("option max_retries: expected an integer", function()
      return client.contacts:find("c1", { max_retries = 1.5 })
    end)
  end)

  it("CR or LF in a token or header value (no header injection)", function()
    raises("must not contain CR, LF or NUL", function()
      return intercom.new{ token = "abc\r\nX-Evil: 1" }
    end)
    raises("must not contain CR, LF or NUL", function()
      return client.contacts:find("c1", { headers = { ["X-Ok"] = "a\nX-Evil: 1" } })
    end)
    raises("invalid header name", function()
      return client.contacts:find("c1", { headers = { ["X-Bad Name"] = "v" } })
    end)
    local c = fx.client{ token = function() return "abc\nX-Evil: 1" end }
    raises("the token contains CR, LF or NUL", function() return c.admins:identify() end)
  end)

  it("path parameters of the wrong type or without an exact integer value", function()
    raises("contacts:find: path parameter id must be a string or an integer, got boolean", function()
      return client.contacts:find(true)
    end)
    raises("path parameter id must be a string or an integer, got table", function()
      return client.contacts:find({ id = "c1" })
    end)
    raises("path parameter id must be a string or an integer, got function", function()
      return client.contacts:find(print)
    end)
    for _, bad in ipairs{ 0 / 0, math.huge, -math.huge, 1e300, 2 ^ 63, 0.5 } do
      raises("path parameter id must be a string or an integer", function() return client.contacts:find(bad) end)
    end
    raises("missing path parameter contact_id (got nil)", function()
      return client.companies:detach_contact(nil, "co1")
    end)
  end)

  it("options that are not a table, or of the wrong type", function()
    raises("contacts:find: options must be a table, got string", function()
      return client.contacts:find("c1", "fast")
    end)
    raises("option idempotent: expected a boolean, got string", function()
      return client.contacts:create({ email = "x" }, { idempotent = "yes" })
    end)
    for _, bad in ipairs{ 0, -1, 0 / 0, math.huge, "10" } do
      raises("option timeout: expected a positive number of seconds", function()
        return client.contacts:find("c1", { timeout = bad })
      end)
    end
    for _, bad in ipairs{ -1, 101, 0.5, "2" } do
      raises("option max_retries: expected an integer from 0 to 100", function()
        return intercom.new{ token = "t", max_retries = bad }
      end)
    end
    raises("option logger: expected a function, got string", function()
      return intercom.new{ token = "t", logger = "stderr" }
    end)
    raises("option proxy: expected a string, got number", function()
      return intercom.new{ token = "t", proxy = 8080 }
    end)
    raises("option ca_file: expected a string, got table", function()
      return intercom.new{ token = "t", ca_file = {} }
    end)
    raises('option rate_limit: expected "auto" or false, got on', function()
      return intercom.new{ token = "t", rate_limit = "on" }
    end)
    raises("option transport: expected a transport table with a request method", function()
      return intercom.new{ token = "t", transport = {} }
    end)
  end)

  it("tokens that are not a non-empty string without control characters", function()
    raises("option token: expected a string, got number", function() return intercom.new{ token = 12345 } end)
    raises("option token: expected a string, got table", function() return intercom.new{ token = {} } end)
    raises("option token: is empty", function() return intercom.new{ token = "" } end)
    raises("must not contain CR, LF or NUL", function() return intercom.new{ token = "abc\0def" } end)
    raises("must not contain CR, LF or NUL", function() return intercom.new{ token = "abc\rdef" } end)
    local c = fx.client{ token = function() return "" end }
    raises("the token function returned string, expected a non-empty string", function()
      return c.admins:identify()
    end)
    c = fx.client{ token = function() return 42 end }
    raises("the token function returned number", function() return c.admins:identify() end)
    c = fx.client{ token = function() return "abc\0X" end }
    raises("the token contains CR, LF or NUL", function() return c.admins:identify() end)
  end)

  it("CR, LF or NUL in any header value, and bad header names", function()
    raises("option version: expected one of \"2.12\"", function()
      return intercom.new{ token = "t", version = "2.12\r\nX-Evil: 1" }
    end)
    raises("option version: expected one of \"2.12\"", function()
      return client.contacts:find("c1", { version = "2.12\nX-Evil: 1" })
    end)
    raises("option user_agent: must not contain CR, LF or NUL", function()
      return intercom.new{ token = "t", user_agent = "me\r\nX-Evil: 1" }
    end)
    raises("must not contain CR, LF or NUL", function()
      return client.contacts:find("c1", { headers = { ["X-Ok"] = "a\0b" } })
    end)
    raises("must not contain CR, LF or NUL", function()
      return client.contacts:find("c1", { headers = { ["X-Ok"] = "a\rb" } })
    end)
    raises("expected a string, got boolean", function()
      return client.contacts:find("c1", { headers = { ["X-Ok"] = true } })
    end)
    for _, name in ipairs{ "X-Evil:", "X-Evil\r\nHost", "", "X Y", "X-\0" } do
      raises("invalid header name", function() return client.contacts:find("c1", { headers = { [name] = "v" } }) end)
    end
    raises("option base_url: expected an http(s) URL", function()
      return intercom.new{ token = "t", base_url = "http://a.example\r\nX-Evil: 1" }
    end)
    raises("option base_url: expected an http(s) URL", function()
      return intercom.new{ token = "t", base_url = "http://a.example/x y" }
    end)
  end)

  it("query parameters that cannot be sent", function()
    raises("admins:list: params.x: expected a string, number, boolean", function()
      return client.admins:list{ x = print }
    end)
    raises("query parameter names must be strings", function()
      return client.contacts:list{ [1] = "a" }
    end)
    raises("option query.x: expected a string, number, boolean", function()
      return client.contacts:find("c1", { query = { x = { {} } } })
    end)
  end)

  it("bodies JSON cannot express, naming where", function()
    local cases = {
      { { email = "x", score = 0 / 0 }, "cannot encode NaN at body.score" },
      { { email = "x", score = math.huge }, "cannot encode an infinite number at body.score" },
      { { email = "x", custom_attributes = { f = io.stdout } },
        "cannot encode a userdata value at body.custom_attributes.f" },
      { { email = "x", co = coroutine.create(print) }, "cannot encode a thread value at body.co" },
      { { email = "x", name = "Ren\233e" }, "invalid UTF-8 at byte 4 of the string at body.name" },   -- Latin-1
      { { email = "x", tags = { "a", nil, "c" } }, "sparse array" },
      { { email = "x", mixed = { 1, 2, k = 3 } }, "mixed" },
      { { [1] = "a", email = "x" }, "mixed" },
    }
    for _, case in ipairs(cases) do
      raises("contacts:create: the body cannot be encoded as JSON", function()
        return client.contacts:create(case[1])
      end)
      raises(case[2], function() return client.contacts:create(case[1]) end)
    end
    local deep = {}
    local t = deep
    for _ = 1, 1001 do t.x = {} t = t.x end
    raises("nesting deeper than 1000 levels", function() return client.contacts:create(deep) end)
  end)

  it("no token at all", function()
    if os.getenv("INTERCOM_API_KEY") then return end   -- the environment would supply one
    local c = intercom.new{ base_url = control.url() }
    raises("no access token: pass intercom.new{ token = ... } or set INTERCOM_API_KEY", function()
      return c.admins:identify()
    end)
  end)
end)

-- Not misuse (any string is a valid id), but a path parameter must stay inside its segment: what reaches
-- the server is one encoded segment, never a dot-segment, a new path, a query, a fragment or a header line.
describe("path parameters on the wire", function()
  before_each(function() control.reset() end)

  it("cannot escape their segment", function()
    control.default{ json = fx.contact("c1") }
    local client = fx.client()
    local cases = {
      { "..", "/contacts/%2E%2E" },
      { ".", "/contacts/%2E" },
      { "../../admins", "/contacts/..%2F..%2Fadmins" },
      { "a/b", "/contacts/a%2Fb" },
      { "/", "/contacts/%2F" },
      { "a?admin=1", "/contacts/a%3Fadmin%3D1" },
      { "a#frag", "/contacts/a%23frag" },
      { "%2e%2e", "/contacts/%252e%252e" },
      { "a\r\nX-Evil: 1", "/contacts/a%0D%0AX-Evil%3A%201" },
      { "a\0b", "/contacts/a%00b" },
      { " a ", "/contacts/%20a%20" },
    }
    for _, case in ipairs(cases) do
      assert(client.contacts:find(case[1]))
      local r = control.last()
      assert.equal(case[2], r.path)
      assert.equal("", r.query)
      assert.is_nil(r.headers["x-evil"])
    end
  end)
end)
