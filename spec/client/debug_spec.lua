-- Debugging a failure: what the error object says. A request that may have reached the server and is not
-- safe to send twice says retryable = false; errors raised by iterators and inside client:map carry where
-- and how they were raised, while tostring(err) stays one line; a 409 conflict names the existing record;
-- every field an error object can have is documented in its class and in docs/errors-and-retries.md.

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"
local util = require "support.util"

local LUA = jit and "luajit" or "lua5.4"
local CPATH = jit and "build/luajit" or "build/5.4"
local THIS = "spec/client/debug_spec.lua"

local function line_here()
  return debug.getinfo(2, "l").currentline
end

describe("retryable and sent, for requests that failed in transport", function()
  before_each(function() control.reset() end)

  it("a POST that may have reached the server (timed out after sending): sent, not retryable", function()
    control.enqueue{ hang = true }
    local _, err = fx.client{ timeout = 0.3, max_retries = 2 }.contacts:create{ email = "a@example.com" }
    assert.equal("timeout", err.kind)
    assert.is_true(err.sent)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)               -- and it was not replayed
    assert.equal(1, #control.requests())
    assert.is_number(err.curl_code)
  end)

  it("the same for a GET, or a POST marked idempotent: retryable", function()
    control.enqueue{ hang = true }
    local _, err = fx.client{ timeout = 0.3, max_retries = 0 }.contacts:find("c1")
    assert.is_true(err.sent)
    assert.is_true(err.retryable)
    control.reset()
    control.enqueue{ hang = true }
    _, err = fx.client{ timeout = 0.3, max_retries = 0 }.contacts:create({ email = "a@example.com" },
      { idempotent = true })
    assert.is_true(err.sent)
    assert.is_true(err.retryable)
  end)

  it("a POST that never reached the server (connection refused): not sent, retryable", function()
    local client = intercom.new{ token = fx.TOKEN, base_url = util.closed_port_url(), max_retries = 0 }
    local _, err = client.contacts:create{ email = "a@example.com" }
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    assert.is_true(err.retryable)
  end)
end)

describe("raised error objects", function()
  before_each(function() control.reset() end)

  it("an iterator's failed page: traceback and where (this line), and tostring is one line", function()
    control.enqueue{ json = fx.contact_page({ "a" }, "cur1", 1, 2) }
    control.enqueue{ status = 404, json = fx.error_list("not_found", "gone") }
    local client = fx.client{ max_retries = 0 }
    local line
    local ok, err = pcall(function()
      line = line_here() + 1
      for _ in client.contacts:each() do end
    end)
    assert.is_false(ok)
    assert.is_true(intercom.errors.is_error(err))
    assert.equal("not_found", err.code)
    assert.equal(THIS .. ":" .. line, err.where)
    assert.matches("^stack traceback:", err.traceback)
    assert.matches(THIS .. ":" .. line, err.traceback, 1, true)
    local s = tostring(err)
    assert.is_nil(s:find("\n"))
    assert.matches("(raised at " .. THIS .. ":" .. line .. ")", s, 1, true)
  end)

  it("an error object returned (not raised) has neither, and its tostring names no position", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "gone") }
    local _, err = fx.client().contacts:find("x")
    assert.is_nil(err.traceback)
    assert.is_nil(err.where)
    assert.is_nil(tostring(err):find("raised at", 1, true))
  end)

  it("inside client:map: an error object raised by fn carries the task's traceback and fn's line", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "gone"), ["repeat"] = 2 }
    local client = fx.client{ max_retries = 0 }
    local line
    local results, errs = client:map({ "x", "y" }, function(id)
      local c, err = client.contacts:find(id)
      line = line_here() + 1
      if not c then error(err) end
      return c
    end, { concurrency = 2 })
    assert.same({}, results)
    for i = 1, 2 do
      assert.equal("not_found", errs[i].code)
      assert.equal(THIS .. ":" .. line, errs[i].where)
      assert.matches(THIS .. ":" .. line, errs[i].traceback, 1, true)
      assert.is_nil(tostring(errs[i]):find("\n"))
    end
  end)

  it("inside client:map: an iterator's error keeps the traceback from where the iterator raised it", function()
    control.enqueue{ status = 500, body = "<html>down</html>" }
    local client = fx.client{ max_retries = 0 }
    local line
    local _, errs = client:map({ 1 }, function()
      line = line_here() + 1
      for _ in client.contacts:each() do end
    end)
    assert.equal(500, errs[1].status)
    assert.equal(THIS .. ":" .. line, errs[1].where)
  end)

  it("uncaught, the interpreter prints the error with its position", function()
    local path = os.tmpname() .. ".lua"
    local f = assert(io.open(path, "w"))
    f:write(("local c = require('intercom').new{ token = 't', base_url = %q, max_retries = 0 }\n"
      .. "for _ in c.contacts:each() do end\n"):format(util.closed_port_url()))
    f:close()
    local p = io.popen(("LUA_PATH='lua/?.lua;;' LUA_CPATH='%s/?.so;;' %s %s 2>&1"):format(CPATH, LUA, path))
    local out = p:read("*a")
    p:close()
    os.remove(path)
    assert.matches("intercom network error", out, 1, true)
    assert.matches("(raised at " .. path .. ":2)", out, 1, true)
  end)
end)

describe("a conflict on create", function()
  before_each(function() control.reset() end)

  it("gives err.existing_id when Intercom names the record, and an upsert is two lines", function()
    control.enqueue{ match = { method = "POST" }, status = 409,
      json = fx.error_list("conflict", "A contact matching those details already exists with id=6329bd9ffe4e3f0d5d4a") }
    control.enqueue{ match = { method = "PUT" }, json = fx.contact("6329bd9ffe4e3f0d5d4a") }
    local client = fx.client()
    local attrs = { email = "ada@example.com", name = "Ada" }
    -- the README's upsert
    local contact, err = client.contacts:create(attrs)
    if not contact and err.existing_id then contact, err = client.contacts:update(err.existing_id, attrs) end
    assert.is_nil(err)
    assert.equal("6329bd9ffe4e3f0d5d4a", contact.id)
    local reqs = control.requests()
    assert.equal(2, #reqs)
    assert.equal("POST /contacts", reqs[1].method .. " " .. reqs[1].path)
    assert.equal("PUT /contacts/6329bd9ffe4e3f0d5d4a", reqs[2].method .. " " .. reqs[2].path)
    assert.same(attrs, require("cjson").decode(reqs[2].body))
  end)

  it("has no existing_id when the message names none, or on another status", function()
    control.enqueue{ status = 409, json = fx.error_list("conflict", "Conflict") }
    local _, err = fx.client().contacts:create{ email = "a@example.com" }
    assert.equal(409, err.status)
    assert.is_nil(err.existing_id)
    control.enqueue{ status = 400, json = fx.error_list("bad", "bad id=123") }
    _, err = fx.client().contacts:create{ email = "a@example.com" }
    assert.is_nil(err.existing_id)
  end)
end)

describe("every field of an error object", function()
  before_each(function() control.reset() end)

  it("is in the intercom.ErrorObject class and in docs/errors-and-retries.md", function()
    local class = util.read("lua/intercom/errors.lua"):match("%-%-%-@class intercom%.ErrorObject\n(.-)\n[^%-]")
    local documented = {}
    for name in class:gmatch("%-%-%-@field ([%w_]+)") do documented[name] = true end
    local doc = util.read("docs/errors-and-retries.md")
    local errs = {}
    local client = fx.client{ max_retries = 0, timeout = 0.3 }
    control.enqueue{ status = 409, json = fx.error_list("conflict", "exists with id=abc", "email") }
    errs[#errs + 1] = select(2, client.contacts:create{ email = "a@example.com" })
    control.enqueue{ status = 429, json = fx.error_list("rate_limit_exceeded", "slow"),
                     headers = { ["Retry-After"] = "3600" } }
    errs[#errs + 1] = select(2, client.contacts:find("x"))
    control.enqueue{ status = 502, body = "<html>bad gateway</html>" }
    errs[#errs + 1] = select(2, client.contacts:find("x"))
    control.enqueue{ body = "{not json", headers = { ["Content-Type"] = "application/json" } }
    errs[#errs + 1] = select(2, client.contacts:find("x"))
    control.enqueue{ hang = true }
    errs[#errs + 1] = select(2, client.contacts:find("x"))
    control.enqueue{ json = { job_identifier = "j", status = "failed" } }
    errs[#errs + 1] = select(2, client.data_export:wait("j", { interval = 0.05 }))
    control.enqueue{ status = 404, json = fx.error_list("not_found", "gone") }
    errs[#errs + 1] = select(2, pcall(function() for _ in client.contacts:each() do end end))
    local seen = {}
    assert.equal(7, #errs)
    for _, err in ipairs(errs) do
      assert.is_true(intercom.errors.is_error(err), tostring(err))
      for k in pairs(err) do seen[k] = true end
    end
    for _, k in ipairs{ "sent", "curl_code", "existing_id", "traceback", "where", "job", "body", "errors" } do
      assert.is_true(seen[k], k .. " was not produced")
    end
    for k in pairs(seen) do
      assert.is_true(documented[k], "intercom.ErrorObject has no ---@field " .. k)
      assert.is_truthy(doc:find("`" .. k .. "`", 1, true), "docs/errors-and-retries.md does not name `" .. k .. "`")
    end
  end)
end)
