-- The logger hook: one event per request, response and retry, never the token.

local control = require "support.control"
local fx = require "support.fixtures"

describe("logger", function()
  before_each(function() control.reset() end)

  it("reports request, response and retry events without the token", function()
    control.enqueue{ status = 503, body = "busy", headers = { ["Retry-After"] = "0" } }
    control.enqueue{ json = fx.contact("c1"), headers = { ["X-Request-Id"] = "r-1" } }
    local events = {}
    local client = fx.client{ logger = function(e) events[#events + 1] = e end }
    assert(client.contacts:find("c1"))
    local names = {}
    for i, e in ipairs(events) do names[i] = e.event end
    assert.same({ "request", "response", "retry", "request", "response" }, names)
    assert.equal("GET", events[1].method)
    assert.equal(control.url() .. "/contacts/c1", events[1].url)
    assert.equal(503, events[2].status)
    assert.equal("retry-after", events[3].reason)
    assert.equal(0, events[3].delay)
    assert.equal(2, events[4].attempt)
    assert.equal("r-1", events[5].request_id)
    assert.is_number(events[5].duration)
    for _, e in ipairs(events) do
      assert.is_string(e.message)
      for k, v in pairs(e) do
        if type(v) == "string" then assert.is_nil(v:find(fx.TOKEN, 1, true), k) end
      end
    end
  end)

  it("reports a final transport error", function()
    control.enqueue{ drop = "before_headers" }
    local events = {}
    local client = fx.client{ max_retries = 0, logger = function(e) events[#events + 1] = e end }
    local _, err = client.contacts:create{ email = "x@example.com" }
    assert.equal("network", err.kind)
    assert.equal("error", events[#events].event)
    assert.matches("intercom network error", events[#events].message, 1, true)
  end)
end)
