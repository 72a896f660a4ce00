-- The client over real HTTP: what it sends, what callers get back, options and misuse.

local control = require "support.control"
local fx = require "support.fixtures"
local cjson = require "cjson"
local intercom = require "intercom"

describe("client requests", function()
  before_each(function() control.reset() end)

  it("sends a find with the standard headers and returns the decoded contact", function()
    control.enqueue{ json = fx.contact("c1"), headers = {
      ["X-RateLimit-Limit"] = "10000", ["X-RateLimit-Remaining"] = "9876", ["X-RateLimit-Reset"] = "1700000500",
      ["X-Request-Id"] = "req-abc" } }
    local client = fx.client()
    local contact, err, resp = client.contacts:find("c1")
    assert.is_nil(err)
    assert.equal("c1", contact.id)
    assert.equal("pro", contact.custom_attributes.plan)
    assert.equal(200, resp.status)
    assert.equal("req-abc", resp.request_id)
    assert.same({ limit = 10000, remaining = 9876, reset = 1700000500 }, resp.rate_limit)
    assert.same(resp.rate_limit, client.rate_limit)
    local req = control.last()
    assert.equal("GET", req.method)
    assert.equal("/contacts/c1", req.path)
    assert.equal("", req.query)
    assert.equal("Bearer " .. fx.TOKEN, req.headers.authorization)
    assert.equal("2.12", req.headers["intercom-version"])
    assert.equal("application/json", req.headers.accept)
    assert.matches("^intercom%-lua/", req.headers["user-agent"])
    assert.is_nil(req.headers["content-type"])
    assert.equal("", req.body)
  end)

  -- The transport contract (DESIGN.md, "Transports"): the curl transport returns {status, headers, body,
  -- value}, headers a plain table of lowercase names; the client reads the request id and the rate limit
  -- from it in Lua, and the response it returns shows the same table.
  it("gives response.headers as a plain table of lowercase names, request id and rate limit read from it", function()
    local script = { json = fx.contact("c1"), headers = {
      ["X-RateLimit-Limit"] = "10000", ["X-RateLimit-Remaining"] = "9876", ["X-RateLimit-Reset"] = "1700000500",
      ["X-Request-Id"] = "req-abc", ["Set-Cookie"] = { "a=1", "b=2" }, ["X-Custom"] = "v" } }
    control.enqueue(script)
    local _, _, resp = assert(fx.client().contacts:find("c1"))
    assert.equal("req-abc", resp.request_id)
    assert.same({ limit = 10000, remaining = 9876, reset = 1700000500 }, resp.rate_limit)
    if math.type then assert.equal("integer", math.type(resp.rate_limit.reset)) end
    local headers = resp.headers
    assert.equal("table", type(headers))
    assert.is_nil(getmetatable(headers))
    assert.is_nil(getmetatable(resp))
    assert.equal("a=1, b=2", headers["set-cookie"])
    assert.equal("v", headers["x-custom"])
    assert.equal("req-abc", headers["x-request-id"])
    for name in pairs(headers) do assert.equal(name:lower(), name) end

    -- the same answer through a transport of the caller's that returns the contract's shape
    control.enqueue(script)
    local curl = require("intercom.transport.curl").new()
    local seen
    local wrapped = { request = function(_, req)
      local raw, err = curl:request(req)
      seen = raw
      return raw, err
    end }
    local _, _, resp2 = assert(fx.client{ transport = wrapped }.contacts:find("c1"))
    curl:close()
    headers.date, resp2.headers.date = nil, nil   -- the two answers may straddle a second
    assert.same(resp2.headers, headers)
    assert.same(resp2.rate_limit, resp.rate_limit)
    assert.equal(resp2.request_id, resp.request_id)
    -- what the transport returned: status, headers (shown by pairs and json.encode on both VMs), value
    local keys = {}
    for k in pairs(seen) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({ "headers", "status", "value" }, keys)
    assert.equal("c1", seen.value.id)
    local encoded = require("intercom").json.decode(require("intercom").json.encode(seen))
    assert.equal("req-abc", encoded.headers["x-request-id"])
    assert.equal(200, encoded.status)
  end)

  if _VERSION ~= "Lua 5.1" then   -- LuaJIT ignores __pairs
    it("lists response.headers in pairs(response) before it was read", function()
      control.enqueue{ json = fx.contact("c1"), headers = { ["X-Request-Id"] = "r1" } }
      local _, _, resp = assert(fx.client().contacts:find("c1"))
      local keys = {}
      for k in pairs(resp) do keys[k] = true end
      assert.same({ status = true, headers = true, request_id = true, rate_limit = true, attempts = true }, keys)
      assert.equal("r1", resp.headers["x-request-id"])
    end)
  end

  it("decodes integers exactly and keeps empty arrays as arrays", function()
    control.enqueue{ body = '{"id":"c1","created_at":1700000000,"big":9007199254740993,"tags":[],"n":null}',
                     headers = { ["Content-Type"] = "application/json" } }
    local contact = assert(fx.client().contacts:find("c1"))
    assert.equal(1700000000, contact.created_at)
    if math.type then
      assert.equal("integer", math.type(contact.big))
      assert.equal(9007199254740993, contact.big)
    end
    assert.equal(intercom.null, contact.n)
    assert.equal("[]", intercom.json.encode(contact.tags))
  end)

  it("sends a JSON body with Content-Type for create", function()
    control.enqueue{ json = fx.contact("new1") }
    local client = fx.client()
    local created = assert(client.contacts:create{ email = "a@example.com", role = "user",
                                                   custom_attributes = { seats = 3 } })
    assert.equal("new1", created.id)
    local req = control.last()
    assert.equal("POST", req.method)
    assert.equal("/contacts", req.path)
    assert.equal("application/json", req.headers["content-type"])
    assert.same({ email = "a@example.com", role = "user", custom_attributes = { seats = 3 } }, cjson.decode(req.body))
  end)

  it("percent-encodes path parameters so that they stay one segment", function()
    control.enqueue{ json = fx.contact("x"), ["repeat"] = 3 }
    local client = fx.client()
    assert(client.contacts:find("../admins"))
    assert(client.contacts:find("a b?c#d/é"))
    assert(client.contacts:find(".."))
    local reqs = control.requests()
    assert.equal("/contacts/..%2Fadmins", reqs[1].path)
    assert.equal("", reqs[1].query)
    assert.equal("/contacts/a%20b%3Fc%23d%2F%C3%A9", reqs[2].path)
    assert.equal("/contacts/%2E%2E", reqs[3].path)
  end)

  it("accepts integer path parameters", function()
    control.enqueue{ json = { type = "admin", id = "42" } }
    assert(fx.client().admins:find(42))
    assert.equal("/admins/42", control.last().path)
  end)

  it("sends query params, merged with opts.query, sorted and escaped", function()
    control.enqueue{ json = { type = "admin.list", admins = {} } }
    local client = fx.client()
    assert(client.admins:list({ display_avatar = true }, { query = { extra = "a b&c" } }))
    local req = control.last()
    assert.equal("/admins", req.path)
    assert.equal("display_avatar=true&extra=a%20b%26c", req.query)
  end)

  it("overrides the version per client and per request, and adds extra headers", function()
    control.enqueue{ json = {} }
    control.enqueue{ json = {} }
    local client = fx.client{ version = "2.14", user_agent = "my-app/1.0" }
    assert(client.admins:identify())
    assert(client.admins:identify{ version = "2.16", headers = { ["X-Trace"] = "t1" } })
    local reqs = control.requests()
    assert.equal("2.14", reqs[1].headers["intercom-version"])
    assert.equal("my-app/1.0", reqs[1].headers["user-agent"])
    assert.equal("2.16", reqs[2].headers["intercom-version"])
    assert.equal("t1", reqs[2].headers["x-trace"])
    assert.equal("/me", reqs[2].path)
  end)

  it("sends each request's own header lines, and a transport passed in may change its own", function()
    -- The built-in transports get the same lines array for requests alike (client.lua, build_headers);
    -- a transport passed in gets a new one each time.
    control.default{ json = {} }
    local client = fx.client()
    assert(client.contacts:find("c1"))
    assert(client.contacts:create{ email = "a@b.c" })
    assert(client.contacts:find("c2", { version = "2.16" }))
    assert(client.contacts:find("c3"))
    assert(client.contacts:create{ email = "d@e.f" })
    local reqs = control.requests()
    local want = { { "2.12", nil }, { "2.12", "application/json" }, { "2.16", nil }, { "2.12", nil },
                   { "2.12", "application/json" } }
    for i, w in ipairs(want) do
      assert.same(w, { reqs[i].headers["intercom-version"], reqs[i].headers["content-type"] }, "request " .. i)
      assert.equal("Bearer " .. fx.TOKEN, reqs[i].headers.authorization)
    end
    control.reset()
    control.default{ json = {} }
    local curl = require("intercom.transport.curl").new()
    local counts = {}
    local adding = { request = function(_, req)
      req.headers[#req.headers + 1] = "X-Added: " .. (#counts + 1)
      counts[#counts + 1] = #req.headers
      return curl:request(req)
    end }
    local own = fx.client{ transport = adding }
    for _ = 1, 3 do assert(own.contacts:find("c1")) end
    curl:close()
    assert.same({ counts[1], counts[1], counts[1] }, counts)
    assert.equal("3", control.last().headers["x-added"])
  end)

  it("takes the token from a function on every request, or from INTERCOM_API_KEY", function()
    control.enqueue{ json = {} }
    control.enqueue{ json = {} }
    local n = 0
    local client = fx.client{ token = function() n = n + 1; return "fn-token-" .. n end }
    assert(client.admins:identify())
    assert(client.admins:identify())
    local reqs = control.requests()
    assert.equal("Bearer fn-token-1", reqs[1].headers.authorization)
    assert.equal("Bearer fn-token-2", reqs[2].headers.authorization)
    if os.getenv("INTERCOM_API_KEY") then
      control.reset()
      control.enqueue{ json = {} }
      assert(intercom.new{ base_url = control.url() }.admins:identify())
      assert.equal("Bearer " .. os.getenv("INTERCOM_API_KEY"), control.last().headers.authorization)
    end
  end)

  it("returns true for an empty 204 body", function()
    control.enqueue{ status = 204 }
    local ok, err, resp = fx.client().contacts:delete("c1")
    assert.is_nil(err)
    assert.is_true(ok)
    assert.equal(204, resp.status)
    assert.equal("DELETE", control.last().method)
  end)

  it("chooses the regional base URL", function()
    assert.equal("https://api.intercom.io", intercom.new{ token = "t" }.base_url)
    assert.equal("https://api.eu.intercom.io", intercom.new{ token = "t", region = "eu" }.base_url)
    assert.equal("https://api.au.intercom.io", intercom.new{ token = "t", region = "au" }.base_url)
    assert.equal("http://127.0.0.1:1", intercom.new{ token = "t", base_url = "http://127.0.0.1:1/" }.base_url)
  end)
end)

describe("module-level resources", function()
  before_each(function() control.reset() end)

  it("go through the default client set by intercom.configure", function()
    control.enqueue{ json = fx.contact("m1") }
    intercom.configure{ base_url = control.url(), token = "module-token" }
    local contact = assert(intercom.contacts:find("m1"))
    assert.equal("m1", contact.id)
    assert.equal("Bearer module-token", control.last().headers.authorization)
    local replaced = intercom.configure{ base_url = control.url(), token = "t2" }
    assert.equal(replaced, intercom.default_client())
    assert.equal(replaced.contacts, intercom.contacts)
  end)
end)

describe("client lifetime", function()
  before_each(function() control.reset() end)

  it("close releases the connection and a later call opens a new one", function()
    control.enqueue{ json = {}, ["repeat"] = 3 }
    local client = fx.client()
    assert(client.admins:identify())
    assert(client.admins:identify())
    client:close()
    assert(client.admins:identify())
    local reqs = control.requests()
    assert.equal(reqs[1].conn, reqs[2].conn)        -- keep-alive: one connection for both
    assert.are_not.equal(reqs[2].conn, reqs[3].conn) -- after close: a new one
  end)
end)
