-- The token never shows: not in any error of any kind, not in a logger event, not in tostring(client), not
-- anywhere in a dump of the client table. Each case first proves the token really was sent, so the
-- assertions cannot pass by the request never carrying it.

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"

local TOKEN = fx.TOKEN

local closed_port_url = require("support.util").closed_port_url

-- Every string reachable from `v` (keys and values, nested tables and metatables), with its path.
local function strings(v, path, out, seen)
  out, seen = out or {}, seen or {}
  local t = type(v)
  if t == "string" then
    out[#out + 1] = { path, v }
  elseif t == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      strings(k, path .. "[key]", out, seen)
      strings(x, path .. "." .. tostring(k), out, seen)
    end
    local mt = getmetatable(v)
    if type(mt) == "table" then strings(mt, path .. "<mt>", out, seen) end
  end
  return out
end

local function assert_clean(v, what)
  for _, s in ipairs(strings(v, what)) do
    assert.is_nil(s[2]:find(TOKEN, 1, true), "the token appears in " .. s[1])
  end
end

local function assert_clean_error(err, what)
  assert.is_true(intercom.errors.is_error(err), what .. ": not an error object")
  assert.is_nil(tostring(err):find(TOKEN, 1, true), what .. ": tostring(err)")
  assert_clean(err, what)
end

local function logged_client(events, opts)
  local o = { max_retries = 1, timeout = 0.5, logger = function(e) events[#events + 1] = e end }
  for k, v in pairs(opts or {}) do o[k] = v end
  return fx.client(o)
end

local function html(status) return { status = status, body = "<html>" .. status .. "</html>", ["repeat"] = 2 } end

-- One scripted failure per error kind (and the variants that reach different code paths).
local CASES = {
  { "api 404", "api", { status = 404, json = fx.error_list("not_found", "Contact Not Found") } },
  { "api 401", "api", { status = 401, json = fx.error_list("unauthorized", "Access Token Invalid") } },
  { "api 5xx, retried", "api", html(503) },
  { "api redirect", "api", { status = 302, headers = { Location = "http://127.0.0.1:9/x" } } },
  { "rate_limited", "rate_limited", { status = 429, json = fx.error_list("rate_limit_exceeded", "slow down"),
      headers = { ["Retry-After"] = "0", ["X-RateLimit-Remaining"] = "0" }, ["repeat"] = 2 } },
  { "decode", "decode", { body = '{"type":"contact",', headers = { ["Content-Type"] = "application/json" } } },
  { "network, dropped", "network", { drop = "before_headers", ["repeat"] = 2 } },
  { "network, reset mid-body", "network",
    { json = fx.contact("c1"), drop = "mid_body", reset = true, ["repeat"] = 2 } },
  { "timeout", "timeout", { hang = true, ["repeat"] = 2 } },
}

describe("the token", function()
  before_each(function() control.reset() end)

  for _, case in ipairs(CASES) do
    it("appears nowhere for a " .. case[1] .. " error", function()
      control.enqueue(case[3])
      local events = {}
      local client = logged_client(events)
      local res, err = client.contacts:find("c1")
      assert.is_nil(res)
      assert.equal(case[2], err.kind)
      assert.equal("Bearer " .. TOKEN, control.requests()[1].headers.authorization)
      assert_clean_error(err, case[1])
      assert.is_true(#events >= 2)
      assert_clean(events, "logger events")
      assert.is_nil(tostring(client):find(TOKEN, 1, true))
      assert_clean(client, "client")
      client:close()
    end)
  end

  it("appears nowhere for a network error without a server (connection refused)", function()
    local events = {}
    local client = intercom.new{ base_url = closed_port_url(), token = TOKEN, max_retries = 1,
                                 logger = function(e) events[#events + 1] = e end }
    local _, err = client.contacts:find("c1")
    assert.equal("network", err.kind)
    assert_clean_error(err, "refused")
    assert_clean(events, "logger events")
    assert_clean(client, "client")
  end)

  it("appears nowhere when it comes from a token function", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "nope") }
    local events = {}
    local client = logged_client(events, { token = function() return TOKEN end })
    local _, err = client.contacts:find("c1")
    assert.equal("Bearer " .. TOKEN, control.last().headers.authorization)
    assert_clean_error(err, "api")
    assert_clean(events, "logger events")
    assert_clean(client, "client")
  end)

  it("appears nowhere after a success either (logger, client, response)", function()
    control.enqueue{ json = fx.contact("c1"), headers = { ["X-RateLimit-Remaining"] = "5" } }
    local events = {}
    local client = logged_client(events)
    local res, err, resp = client.contacts:find("c1")
    assert.is_nil(err)
    assert.equal("c1", res.id)
    assert_clean(resp, "response")
    assert_clean(events, "logger events")
    assert_clean(client, "client")
  end)

  describe("echoed back by the server", function()
    -- A debug page or a proxy's error page may print the request headers; the error must not carry them.
    local echoes = {
      { "a 400 error.list", "api", { status = 400, reflect = true,
          json = fx.error_list("parameter_invalid", "bad request from {{authorization}}") } },
      { "a 502 HTML page", "api", { status = 502, reflect = true, ["repeat"] = 2,
          body = "<html><pre>Authorization: {{authorization}}</pre></html>" } },
      { "a malformed 200", "decode", { status = 200, reflect = true,
          headers = { ["Content-Type"] = "application/json" }, body = '{"echo":"{{authorization}}"' } },
      { "a response header", "api", { status = 403, reflect = true, json = fx.error_list("forbidden", "no"),
          headers = { ["X-Debug-Auth"] = "{{authorization}}" } } },
    }
    for _, case in ipairs(echoes) do
      it("is redacted from " .. case[1], function()
        local script = case[3]
        if script.headers and script.headers["X-Debug-Auth"] then
          -- headers are not templated by the server: send the token itself, as an echoing proxy would
          script.headers["X-Debug-Auth"] = "Bearer " .. TOKEN
        end
        control.enqueue(script)
        local events = {}
        local _, err = logged_client(events).contacts:find("c1")
        assert.equal(case[2], err.kind)
        assert_clean_error(err, case[1])
        assert_clean(events, "logger events")
        local text = tostring(err) .. " " .. tostring(err.body) .. " " .. tostring(err.message)
          .. " " .. tostring(err.response and err.response.headers["x-debug-auth"])
        assert.matches("[REDACTED]", text, 1, true)
      end)
    end
  end)
end)
