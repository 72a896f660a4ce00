-- Retries and backoff over real HTTP: how many attempts, how long between them, and which requests
-- may be replayed at all.

local control = require "support.control"
local fx = require "support.fixtures"
local retry = require "intercom.retry"

local function gaps(reqs)
  local out = {}
  for i = 2, #reqs do out[#out + 1] = reqs[i].time - reqs[i - 1].time end
  return out
end

describe("retries", function()
  before_each(function() control.reset() end)

  it("retries a 503 and succeeds, counting attempts", function()
    control.enqueue{ status = 503, body = "busy" }
    control.enqueue{ json = fx.contact("c1") }
    local contact, err, resp = fx.client().contacts:find("c1")
    assert.is_nil(err)
    assert.equal("c1", contact.id)
    assert.equal(2, resp.attempts)
    assert.equal(2, #control.requests())
  end)

  it("gives up after max_retries and reports every attempt", function()
    control.enqueue{ status = 500, body = "down", ["repeat"] = 4 }
    local _, err = fx.client{ max_retries = 3 }.contacts:find("c1")
    assert.equal(500, err.status)
    assert.equal(4, err.attempts)
    assert.equal(4, #control.requests())
  end)

  it("max_retries = 0 per request sends once", function()
    control.enqueue{ status = 503, body = "busy" }
    local _, err = fx.client().contacts:find("c1", { max_retries = 0 })
    assert.equal(503, err.status)
    assert.equal(1, #control.requests())
  end)

  it("backs off exponentially with jitter between attempts", function()
    control.enqueue{ status = 500, body = "x", ["repeat"] = 3 }
    fx.client{ max_retries = 2 }.contacts:find("c1")
    local g = gaps(control.requests())
    assert.equal(2, #g)
    -- attempt n waits in [base * 2^(n-1) / 2, base * 2^(n-1)], plus scheduling slack
    assert.is_true(g[1] >= retry.BACKOFF_BASE / 2 - 0.01 and g[1] < retry.BACKOFF_BASE + 0.2, "gap 1: " .. g[1])
    assert.is_true(g[2] >= retry.BACKOFF_BASE - 0.01 and g[2] < retry.BACKOFF_BASE * 2 + 0.2, "gap 2: " .. g[2])
  end)

  it("honours Retry-After in seconds", function()
    control.enqueue{ status = 429, json = fx.error_list("rate_limit_exceeded", "slow down"),
                     headers = { ["Retry-After"] = "1" } }
    control.enqueue{ json = fx.contact("c1") }
    assert(fx.client().contacts:find("c1"))
    local g = gaps(control.requests())
    assert.is_true(g[1] >= 0.99 and g[1] < 1.5, "gap: " .. g[1])
  end)

  it("honours X-RateLimit-Reset on a 429 without Retry-After", function()
    local reset = math.floor(require("socket").gettime()) + 2
    control.enqueue{ status = 429, json = fx.error_list("rate_limit_exceeded", "slow down"),
                     headers = { ["X-RateLimit-Reset"] = tostring(reset), ["X-RateLimit-Remaining"] = "0" } }
    control.enqueue{ json = fx.contact("c1") }
    local contact, err, resp = fx.client().contacts:find("c1")
    assert.is_nil(err)
    assert.equal("c1", contact.id)
    assert.equal(2, resp.attempts)
    local reqs = control.requests()
    local waited = reqs[2].time - reqs[1].time
    assert.is_true(waited >= 0.9 and waited <= 2.3, "waited " .. waited)
  end)

  it("does not wait for a Retry-After longer than the cap, and says so", function()
    control.enqueue{ status = 503, body = "maintenance", headers = { ["Retry-After"] = "3600" } }
    local t0 = require("socket").gettime()
    local _, err = fx.client().contacts:find("c1")
    assert.is_true(require("socket").gettime() - t0 < 1)
    assert.equal(503, err.status)
    assert.is_true(err.retryable)
    assert.equal(1, #control.requests())
  end)

  it("retries a dropped connection on GET", function()
    control.enqueue{ drop = "before_headers" }
    control.enqueue{ json = fx.contact("c1") }
    assert(fx.client().contacts:find("c1"))
    assert.equal(2, #control.requests())
  end)

  it("does not replay a POST that reached the server and failed with 500", function()
    control.enqueue{ status = 500, body = "boom" }
    local _, err = fx.client().contacts:create{ email = "a@example.com" }
    assert.equal(500, err.status)
    assert.equal(1, #control.requests())
  end)

  it("does not replay a POST whose connection dropped after it was sent", function()
    control.enqueue{ drop = "before_headers" }
    local _, err = fx.client().contacts:create{ email = "a@example.com" }
    assert.equal("network", err.kind)
    assert.equal(1, #control.requests())
  end)

  it("replays a POST rejected with 429 (it cannot have taken effect)", function()
    control.enqueue{ status = 429, json = fx.error_list("rate_limit_exceeded", "x"),
                     headers = { ["Retry-After"] = "0" } }
    control.enqueue{ json = fx.contact("new") }
    local created = assert(fx.client().contacts:create{ email = "a@example.com" })
    assert.equal("new", created.id)
    local reqs = control.requests()
    assert.equal(2, #reqs)
    assert.equal(reqs[1].body, reqs[2].body)
  end)

  it("replays a POST on 500 when the caller opts in with idempotent = true", function()
    control.enqueue{ status = 500, body = "boom" }
    control.enqueue{ json = fx.contact("new") }
    assert(fx.client().contacts:create({ email = "a@example.com" }, { idempotent = true }))
    assert.equal(2, #control.requests())
  end)

  it("retries a search POST, which only reads", function()
    control.enqueue{ status = 503, body = "busy" }
    control.enqueue{ json = fx.contact_page({ "a" }) }
    local page = assert(fx.client().contacts:search{ query = { field = "role", operator = "=", value = "user" } })
    assert.equal("a", page.data[1].id)
    assert.equal(2, #control.requests())
  end)
end)

describe("retry policy", function()
  it("parses Retry-After dates", function()
    local now = 1445412480 -- Wed, 21 Oct 2015 07:28:00 GMT
    assert.equal(0, retry.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now))
    assert.equal(30, retry.parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now))
    assert.equal(5, retry.parse_retry_after("5", now))
    assert.is_nil(retry.parse_retry_after("soon", now))
  end)
end)
