-- Every error kind, as a caller sees it: the error object, its fields, and the response.

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"
local socket = require "socket"

local closed_port_url = require("support.util").closed_port_url

describe("error objects", function()
  before_each(function() control.reset() end)

  it("api: Intercom's error.list becomes code, message, field, request_id, errors", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "Contact Not Found", "id"),
                     headers = { ["X-Request-Id"] = "hdr-req" } }
    local contact, err, resp = fx.client().contacts:find("nope")
    assert.is_nil(contact)
    assert.is_true(intercom.errors.is_error(err))
    assert.equal("api", err.kind)
    assert.equal(404, err.status)
    assert.equal("not_found", err.code)
    assert.equal("Contact Not Found", err.message)
    assert.equal("id", err.field)
    assert.equal("req-not_found", err.request_id)
    assert.equal(1, #err.errors)
    assert.is_false(err.retryable)
    assert.equal(404, resp.status)
    assert.equal(resp, err.response)
    assert.equal("GET", err.method)
    assert.equal("/contacts/nope", err.path)
    local s = tostring(err)
    assert.matches("intercom api error 404 not_found: Contact Not Found", s, 1, true)
    assert.matches("GET /contacts/nope", s, 1, true)
    assert.matches("request_id req-not_found", s, 1, true)
  end)

  it("api: a 401 is not retried", function()
    control.enqueue{ status = 401, json = fx.error_list("unauthorized", "Access Token Invalid") }
    local _, err = fx.client().admins:identify()
    assert.equal("unauthorized", err.code)
    assert.equal(1, err.attempts)
    assert.equal(1, #control.requests())
  end)

  it("api: a 5xx with an HTML body keeps the body and says what happened", function()
    control.enqueue{ status = 502, body = "<html><body>Bad gateway</body></html>",
                     headers = { ["Content-Type"] = "text/html" } }
    local _, err = fx.client{ max_retries = 0 }.contacts:find("c1")
    assert.equal("api", err.kind)
    assert.equal(502, err.status)
    assert.is_true(err.retryable)
    assert.matches("HTTP 502 Bad Gateway", err.message, 1, true)
    assert.equal("<html><body>Bad gateway</body></html>", err.body)
  end)

  it("api: a JSON error that is not Intercom's shape (problem+json) keeps the raw body", function()
    local problem = '{"type":"https://example.com/probs#invalid","title":"Invalid request","status":422,'
      .. '"validation":[{"location":["body","email"],"message":"must be string"}]}'
    control.enqueue{ status = 422, body = problem, headers = { ["Content-Type"] = "application/problem+json" } }
    local _, err = fx.client().contacts:create{ email = "joe@example.com" }
    assert.equal(422, err.status)
    assert.equal(problem, err.body)
    assert.is_nil(err.code)
  end)

  it("api: Intercom's own error shape needs no raw body", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "Contact Not Found") }
    local _, err = fx.client().contacts:find("c1")
    assert.equal("not_found", err.code)
    assert.is_nil(err.body)
  end)

  it("api: a redirect is not followed and is reported", function()
    control.enqueue{ status = 302, headers = { Location = "http://evil.example/steal" }, body = "" }
    local _, err = fx.client().contacts:find("c1")
    assert.equal("api", err.kind)
    assert.equal(302, err.status)
    assert.matches("redirect to http://evil.example/steal not followed", err.message, 1, true)
    assert.equal(1, #control.requests())
  end)

  it("rate_limited: a 429 after the retries carries the rate-limit state", function()
    control.enqueue{ status = 429, json = fx.error_list("rate_limit_exceeded", "Rate Limit Exceeded"),
                     headers = { ["Retry-After"] = "0", ["X-RateLimit-Limit"] = "100",
                                 ["X-RateLimit-Remaining"] = "0", ["X-RateLimit-Reset"] = "1700000060" },
                     ["repeat"] = 2 }
    local _, err, resp = fx.client{ max_retries = 1 }.contacts:find("c1")
    assert.equal("rate_limited", err.kind)
    assert.equal(429, err.status)
    assert.equal("rate_limit_exceeded", err.code)
    assert.is_true(err.retryable)
    assert.equal(2, err.attempts)
    assert.same({ limit = 100, remaining = 0, reset = 1700000060 }, resp.rate_limit)
    assert.equal(2, #control.requests())
  end)

  it("decode: a 200 with malformed JSON keeps the raw body", function()
    control.enqueue{ body = '{"type":"contact","id":', headers = { ["Content-Type"] = "application/json" } }
    local contact, err, resp = fx.client().contacts:find("c1")
    assert.is_nil(contact)
    assert.equal("decode", err.kind)
    assert.equal(200, err.status)
    assert.equal('{"type":"contact","id":', err.body)
    assert.equal(200, resp.status)
    assert.matches("could not decode", tostring(err), 1, true)
  end)

  it("network: connection refused", function()
    local client = intercom.new{ base_url = closed_port_url(), token = fx.TOKEN, max_retries = 0 }
    local _, err, resp = client.contacts:find("c1")
    assert.equal("network", err.kind)
    assert.is_nil(err.status)
    assert.is_nil(resp)
    assert.is_true(err.retryable)
    assert.is_false(err.sent)
  end)

  it("network: the connection drops before the answer", function()
    control.enqueue{ drop = "before_headers" }
    local _, err = fx.client{ max_retries = 0 }.contacts:find("c1")
    assert.equal("network", err.kind)
  end)

  it("timeout: a server slower than the timeout", function()
    control.enqueue{ delay = 2, json = {} }
    local t0 = socket.gettime()
    local _, err = fx.client{ timeout = 0.3, max_retries = 0 }.contacts:find("c1")
    local elapsed = socket.gettime() - t0
    assert.equal("timeout", err.kind)
    assert.is_true(elapsed < 1.5, "took " .. elapsed)
  end)

  it("never shows the token, in any error kind", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "nope") }
    control.enqueue{ status = 500, body = "oops" }
    control.enqueue{ body = "{bad" }
    control.enqueue{ drop = "before_headers" }
    control.enqueue{ delay = 1, json = {} }
    local client = fx.client{ max_retries = 0, timeout = 0.3 }
    local errs = {}
    for _ = 1, 5 do
      local _, err = client.contacts:find("c1")
      errs[#errs + 1] = err
    end
    local refused = intercom.new{ base_url = closed_port_url(), token = fx.TOKEN, max_retries = 0 }
    errs[#errs + 1] = select(2, refused.contacts:find("c1"))
    local kinds = {}
    for _, err in ipairs(errs) do
      kinds[err.kind] = true
      assert.is_nil(tostring(err):find(fx.TOKEN, 1, true))
      for k, v in pairs(err) do
        if type(v) == "string" then assert.is_nil(v:find(fx.TOKEN, 1, true), "field " .. k) end
      end
    end
    assert.same({ api = true, decode = true, network = true, timeout = true }, kinds)
    assert.is_nil(tostring(client):find(fx.TOKEN, 1, true))
    for k, v in pairs(client) do
      if type(v) == "string" then assert.is_nil(v:find(fx.TOKEN, 1, true), k) end
    end
  end)
end)
