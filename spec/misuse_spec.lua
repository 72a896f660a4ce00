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

  it("no token at all", function()
    if os.getenv("INTERCOM_API_KEY") then return end   -- the environment would supply one
    local c = intercom.new{ base_url = control.url() }
    raises("no access token: pass intercom.new{ token = ... } or set INTERCOM_API_KEY", function()
      return c.admins:identify()
    end)
  end)
end)
