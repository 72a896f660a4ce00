-- Network and server faults, over loopback against the scriptable test server: each one gives the caller a
-- result or a precise error object (kind, status, retryable), within its timeout.
--
-- Time bounds are generous on purpose (the suite also runs under valgrind): a lower bound proves a wait
-- happened, an upper bound proves nothing hung.

local control = require "support.control"
local fx = require "support.fixtures"
local servers = require "support.servers"
local intercom = require "intercom"
local socket = require "socket"

local HTML = "<html><head><title>%d</title></head><body><h1>%d Server Error</h1><p>nginx</p></body></html>"

local closed_port_url = require("support.util").closed_port_url

-- Runs fn, returns its results and the seconds it took.
local function timed(fn)
  local t0 = socket.gettime()
  local a, b, c = fn()
  return a, b, c, socket.gettime() - t0
end

local function within(elapsed, lo, hi)
  assert.is_true(elapsed >= lo and elapsed <= hi, ("took %.3f s, expected %.2f..%.2f s"):format(elapsed, lo, hi))
end

local function count(method)
  local n = 0
  for _, r in ipairs(control.requests()) do
    if not method or r.method == method then n = n + 1 end
  end
  return n
end

describe("faults", function()
  before_each(function() control.reset() end)

  describe("the connection", function()
    it("refused: network, no status, retryable, never sent; retried with backoff, then given up", function()
      local client = intercom.new{ base_url = closed_port_url(), token = fx.TOKEN, max_retries = 2 }
      local res, err, resp, elapsed = timed(function() return client.contacts:find("c1") end)
      assert.is_nil(res)
      assert.is_nil(resp)
      assert.equal("network", err.kind)
      assert.is_nil(err.status)
      assert.is_true(err.retryable)
      assert.is_false(err.sent)
      assert.equal(3, err.attempts)
      assert.matches("onnect", err.message)            -- "Couldn't connect to server: ..."
      within(elapsed, 0.125 + 0.25 - 0.02, 5)          -- two backoff waits, each at least half its step
    end)

    it("refused on a POST: replayed, since it never reached the server", function()
      local client = intercom.new{ base_url = closed_port_url(), token = fx.TOKEN, max_retries = 1 }
      local _, err = client.contacts:create{ email = "a@example.com" }
      assert.equal("network", err.kind)
      assert.is_false(err.sent)
      assert.equal(2, err.attempts)
    end)

    it("closed before the headers: network, retryable, sent", function()
      control.enqueue{ drop = "before_headers" }
      local _, err, _, elapsed = timed(function() return fx.client{ max_retries = 0 }.contacts:find("c1") end)
      assert.equal("network", err.kind)
      assert.is_nil(err.status)
      assert.is_true(err.retryable)
      assert.is_true(err.sent)
      assert.matches("Empty reply from server", err.message, 1, true)
      within(elapsed, 0, 3)
    end)

    it("reset (RST) before the headers: network, says so", function()
      control.enqueue{ drop = "before_headers", reset = true }
      local _, err, _, elapsed = timed(function() return fx.client{ max_retries = 0 }.contacts:find("c1") end)
      assert.equal("network", err.kind)
      assert.is_nil(err.status)
      assert.is_true(err.retryable)
      assert.matches("reset by peer", err.message, 1, true)
      within(elapsed, 0, 3)
    end)

    it("closed in the middle of the body: network, not a truncated success", function()
      control.enqueue{ json = fx.contact_page({ "a", "b", "c", "d" }), drop = "mid_body" }
      local res, err, _, elapsed = timed(function() return fx.client{ max_retries = 0 }.contacts:list() end)
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.is_nil(err.status)
      assert.is_true(err.retryable)
      assert.matches("partial file", err.message, 1, true)
      within(elapsed, 0, 3)
    end)

    it("reset in the middle of the body: network", function()
      control.enqueue{ json = fx.contact_page({ "a", "b", "c", "d" }), drop = "mid_body", reset = true }
      local res, err = fx.client{ max_retries = 0 }.contacts:list()
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
    end)

    it("a body shorter than its Content-Length: network; a GET is retried and then succeeds", function()
      control.enqueue{ json = fx.contact("c1"), content_length = 5000 }
      control.enqueue{ json = fx.contact("c1") }
      local res, err, resp = fx.client().contacts:find("c1")
      assert.is_nil(err)
      assert.equal("c1", res.id)
      assert.equal(2, resp.attempts)

      control.reset()
      control.enqueue{ json = fx.contact("c1"), content_length = 5000 }
      local _, err2, _, elapsed = timed(function() return fx.client{ max_retries = 0 }.contacts:find("c1") end)
      assert.equal("network", err2.kind)
      assert.is_true(err2.retryable)
      assert.matches("partial file", err2.message, 1, true)
      within(elapsed, 0, 3)
    end)

    it("a server that accepts and never answers: timeout, when the timeout says", function()
      control.enqueue{ hang = true }
      local _, err, resp, elapsed = timed(function()
        return fx.client{ timeout = 0.5, max_retries = 0 }.contacts:find("c1")
      end)
      assert.is_nil(resp)
      assert.equal("timeout", err.kind)
      assert.is_nil(err.status)
      assert.is_true(err.retryable)
      within(elapsed, 0.45, 3)
    end)

    it("a server that drips one byte a second: the total timeout holds", function()
      control.enqueue{ json = fx.contact("c1"), drip = 1 }
      local _, err, _, elapsed = timed(function()
        return fx.client{ timeout = 1.5, max_retries = 0 }.contacts:find("c1")
      end)
      assert.equal("timeout", err.kind)
      assert.is_true(err.retryable)
      within(elapsed, 1.45, 4)
    end)

    it("the per-request timeout applies to every attempt", function()
      control.enqueue{ hang = true, ["repeat"] = 2 }
      local _, err, _, elapsed = timed(function()
        return fx.client{ max_retries = 1 }.contacts:find("c1", { timeout = 0.4 })
      end)
      assert.equal("timeout", err.kind)
      assert.equal(2, err.attempts)
      within(elapsed, 0.8, 4)
    end)
  end)

  describe("the server's answer", function()
    for _, status in ipairs{ 500, 502, 503, 504 } do
      it(status .. " with an HTML body: api, retryable, body kept, retried max_retries times", function()
        local html = HTML:format(status, status)
        control.enqueue{ status = status, body = html, headers = { ["Content-Type"] = "text/html" }, ["repeat"] = 3 }
        local res, err, resp, elapsed = timed(function() return fx.client{ max_retries = 2 }.contacts:find("c1") end)
        assert.is_nil(res)
        assert.equal("api", err.kind)
        assert.equal(status, err.status)
        assert.is_true(err.retryable)
        assert.equal(3, err.attempts)
        assert.equal(html, err.body)
        assert.matches("HTTP " .. status, err.message, 1, true)
        assert.is_nil(err.code)
        assert.equal(status, resp.status)
        assert.equal(3, count())
        within(elapsed, 0.125 + 0.25 - 0.02, 5)
      end)
    end

    it("200 with malformed JSON: decode, raw body kept, not retryable", function()
      local body = '{"type":"contact","id":"c1",,}'
      control.enqueue{ body = body, headers = { ["Content-Type"] = "application/json" } }
      local res, err, resp = fx.client().contacts:find("c1")
      assert.is_nil(res)
      assert.equal("decode", err.kind)
      assert.equal(200, err.status)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(body, err.body)
      assert.equal(200, resp.status)
      assert.equal(1, count())
    end)

    it("200 with truncated JSON (complete HTTP framing): decode, raw body kept", function()
      local full = require("intercom").json.encode(fx.contact("c1"))
      local body = full:sub(1, #full - 7)
      control.enqueue{ body = body, headers = { ["Content-Type"] = "application/json" } }
      local _, err = fx.client().contacts:find("c1")
      assert.equal("decode", err.kind)
      assert.equal(200, err.status)
      assert.is_false(err.retryable)
      assert.equal(body, err.body)
      assert.matches("could not decode", tostring(err), 1, true)
    end)

    it("200 with a body that is not JSON at all: decode", function()
      control.enqueue{ body = "<html>maintenance</html>", headers = { ["Content-Type"] = "text/html" } }
      local _, err = fx.client().contacts:find("c1")
      assert.equal("decode", err.kind)
      assert.equal("<html>maintenance</html>", err.body)
    end)

    it("a very large body (16 MB of JSON) arrives whole and decodes", function()
      local item = '{"type":"contact","id":"%06d","email":"user%06d@example.com","custom_attributes":{"n":%d}},'
      local parts, n = {}, 0
      local size = 0
      while size < 16 * 1024 * 1024 do
        n = n + 1
        parts[n] = item:format(n, n, n)
        size = size + #parts[n]
      end
      parts[n] = parts[n]:sub(1, -2)
      local body = '{"type":"list","total_count":' .. n .. ',"data":[' .. table.concat(parts) .. "]}"
      control.enqueue{ body = body, headers = { ["Content-Type"] = "application/json" }, gzip = false }
      local page, err, resp, elapsed = timed(function() return fx.client{ timeout = 120 }.contacts:list() end)
      assert.is_nil(err)
      assert.equal(200, resp.status)
      assert.equal(n, #page.data)
      assert.equal(string.format("%06d", n), page.data[n].id)
      assert.equal(n, page.data[n].custom_attributes.n)
      within(elapsed, 0, 120)
    end)

    it("an empty body on 204 and on 200: success, true", function()
      control.enqueue{ status = 204 }
      control.enqueue{ status = 200, body = "" }
      local client = fx.client()
      local r1, e1, resp1 = client.contacts:delete("c1")
      assert.is_nil(e1)
      assert.is_true(r1)
      assert.equal(204, resp1.status)
      local r2, e2, resp2 = client.contacts:find("c2")
      assert.is_nil(e2)
      assert.is_true(r2)
      assert.equal(200, resp2.status)
    end)
  end)

  describe("429", function()
    local function limited(headers)
      local h = { ["X-RateLimit-Limit"] = "100", ["X-RateLimit-Remaining"] = "0" }
      for k, v in pairs(headers) do h[k] = v end
      return { status = 429, json = fx.error_list("rate_limit_exceeded", "Rate Limit Exceeded"), headers = h }
    end

    it("with Retry-After: waits that long, then succeeds", function()
      control.enqueue(limited{ ["Retry-After"] = "1" })
      control.enqueue{ json = fx.contact("c1") }
      local res, err, resp, elapsed = timed(function() return fx.client().contacts:find("c1") end)
      assert.is_nil(err)
      assert.equal("c1", res.id)
      assert.equal(2, resp.attempts)
      local reqs = control.requests()
      within(reqs[2].time - reqs[1].time, 0.98, 3)
      within(elapsed, 0.98, 4)
    end)

    it("with X-RateLimit-Reset only: waits until the reset, then succeeds", function()
      local reset = math.floor(socket.gettime()) + 2
      control.enqueue(limited{ ["X-RateLimit-Reset"] = tostring(reset) })
      control.enqueue{ json = fx.contact("c1") }
      local res, err, resp = fx.client().contacts:find("c1")
      assert.is_nil(err)
      assert.equal("c1", res.id)
      assert.equal(2, resp.attempts)
      local reqs = control.requests()
      -- the second attempt arrives at the reset second, not before
      assert.is_true(reqs[2].wall >= reset - 0.05, ("retried at %.3f, reset at %d"):format(reqs[2].wall, reset))
      within(reqs[2].time - reqs[1].time, 0.9, 3.5)
    end)

    it("gives up after max_retries, with the rate-limit state on the error", function()
      local reset = math.floor(socket.gettime()) + 1
      local script = limited{ ["Retry-After"] = "0.2", ["X-RateLimit-Reset"] = tostring(reset) }
      script["repeat"] = 3
      control.enqueue(script)
      local _, err, resp, elapsed = timed(function() return fx.client{ max_retries = 2 }.contacts:find("c1") end)
      assert.equal("rate_limited", err.kind)
      assert.equal(429, err.status)
      assert.equal("rate_limit_exceeded", err.code)
      assert.is_true(err.retryable)
      assert.equal(3, err.attempts)
      assert.same({ limit = 100, remaining = 0, reset = reset }, err.response.rate_limit)
      assert.equal(resp, err.response)
      assert.equal(3, count())
      within(elapsed, 0.38, 4)
    end)
  end)

  describe("redirects", function()
    local other
    before_each(function()
      other = other or servers.start()
      other.control.reset()
    end)
    teardown(function() servers.stop(other) end)

    for _, status in ipairs{ 301, 302, 307, 308 } do
      it(status .. " to another host is not followed: no request, no Authorization reaches it", function()
        local target = other.url .. "/contacts/c1"
        control.enqueue{ status = status, headers = { Location = target } }
        other.control.enqueue{ json = fx.contact("stolen") }
        local res, err = fx.client().contacts:find("c1")
        assert.is_nil(res)
        assert.equal("api", err.kind)
        assert.equal(status, err.status)
        assert.is_false(err.retryable)
        assert.matches("redirect to " .. target .. " not followed", err.message, 1, true)
        assert.equal(1, count())
        assert.same({}, other.control.requests())
      end)
    end

    it("a POST redirected with 307 is not re-sent anywhere", function()
      control.enqueue{ status = 307, headers = { Location = other.url .. "/contacts" } }
      local _, err = fx.client().contacts:create{ email = "a@example.com" }
      assert.equal(307, err.status)
      assert.equal(1, count())
      assert.same({}, other.control.requests())
    end)
  end)

  describe("a POST that reached the server", function()
    -- The POST is the second request on a kept-alive connection: libcurl's own "dead reused connection"
    -- replay would send it again on a new connection if the transport allowed it. A POST with a body and
    -- one without take different paths in the C core (an unrewindable body; a fresh connection).
    local function run(drop, bodyless)
      control.enqueue{ match = { method = "GET" }, json = fx.contact("c1") }
      drop.match = { method = "POST" }
      control.enqueue(drop)
      control.enqueue{ match = { method = "POST" }, json = fx.contact("second-copy") }
      local client = fx.client{ max_retries = 3 }
      assert(client.contacts:find("c1"))
      if bodyless then return client.contacts:archive("c1") end
      return client.contacts:create{ email = "a@example.com" }
    end

    for _, bodyless in ipairs{ false, true } do
      local what = bodyless and "a POST without a body" or "a POST with a body"

      it(what .. ", dropped after the server read it (FIN): sent exactly once, network error", function()
        local res, err, _, elapsed = timed(function() return run({ drop = "before_headers" }, bodyless) end)
        assert.is_nil(res)
        assert.equal("network", err.kind)
        assert.is_true(err.sent)
        assert.is_false(err.retryable)    -- it may have reached the server: a replay could duplicate it
        assert.equal(1, err.attempts)
        assert.equal(1, count("POST"))
        if not bodyless then
          assert.matches("not sent again, as the request may have reached the server", err.message, 1, true)
        end
        within(elapsed, 0, 3)
      end)

      it(what .. ", inside client:map (the curl multi path): sent exactly once", function()
        control.enqueue{ match = { method = "GET" }, json = fx.contact("c1") }
        control.enqueue{ match = { method = "POST" }, drop = "before_headers" }
        control.enqueue{ match = { method = "POST" }, json = fx.contact("second-copy") }
        local client = fx.client{ max_retries = 3 }
        local results, errs = client:map({ 1 }, function()
          assert(client.contacts:find("c1"))        -- leaves the multi a kept-alive connection
          if bodyless then return client.contacts:archive("c1") end
          return client.contacts:create{ email = "a@example.com" }
        end, { concurrency = 1 })
        assert.is_nil(results[1])
        assert.equal("network", errs[1].kind)
        assert.equal(1, count("POST"))
      end)

      it(what .. ", reset after the server read it (RST): sent exactly once", function()
        local res, err = run({ drop = "before_headers", reset = true }, bodyless)
        assert.is_nil(res)
        assert.equal("network", err.kind)
        assert.is_true(err.sent)
        assert.equal(1, count("POST"))
      end)

      it(what .. ", cut in the middle of the answer: sent exactly once", function()
        local res, err = run({ drop = "mid_body", json = fx.contact("new") }, bodyless)
        assert.is_nil(res)
        assert.equal("network", err.kind)
        assert.equal(1, count("POST"))
      end)
    end

    it("a read-only search POST may be sent again (it is idempotent)", function()
      control.enqueue{ match = { method = "GET" }, json = fx.contact("c1") }
      control.enqueue{ match = { method = "POST" }, drop = "before_headers" }
      control.enqueue{ match = { method = "POST" }, json = fx.contact_page({ "a" }) }
      local client = fx.client()
      assert(client.contacts:find("c1"))
      local page = assert(client.contacts:search{ query = { field = "role", operator = "=", value = "user" } })
      assert.equal("a", page.data[1].id)
      assert.equal(2, count("POST"))
    end)

    it("costs no new connection for a POST with a body, one for a POST without", function()
      control.default{ json = fx.contact("c1") }
      local client = fx.client()
      for _ = 1, 3 do assert(client.contacts:find("c1")) end
      for _ = 1, 3 do assert(client.contacts:create{ email = "a@example.com" }) end
      for _ = 1, 3 do assert(client.contacts:find("c1")) end
      assert.equal(1, control.stats().connections)
      assert(client.contacts:archive("c1"))        -- no body: a fresh connection, reused afterwards
      for _ = 1, 3 do assert(client.contacts:find("c1")) end
      assert.equal(2, control.stats().connections)
      client:close()
    end)
  end)
end)
