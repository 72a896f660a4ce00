-- The contract suite: every operation of lua/intercom/operations.lua, called through its Lua method with the
-- arguments of spec/fixtures/contract_calls.lua, against Prism serving Intercom's own OpenAPI 2.12
-- description (../shared/contract/). Prism rejects a request whose path, method, headers, query or body do
-- not match the spec, so a pass means the client sends what the spec demands.
--
-- spec/run.sh installs and starts Prism and exports INTERCOM_PRISM_URL; when that failed, INTERCOM_PRISM_ERROR
-- says why and this spec fails (it never skips). Run it alone: bash spec/run.sh --tags=contract

local intercom = require "intercom"
local operation_list = require "support.operation_list"
local contract = require "support.contract"
local CALLS = require "fixtures.contract_calls"

local unpack = table.unpack or unpack
local SPEC_FILE = "../shared/intercom-openapi-2.12.json"
local PRISM = os.getenv("INTERCOM_PRISM_URL")
if PRISM == "" then PRISM = nil end

-- operationId -> { status = the spec's 2xx code, json = whether that response has a JSON body }
local function spec_successes()
  local f = assert(io.open(SPEC_FILE, "rb"))
  local spec = assert(intercom.json.decode(f:read("a")))
  f:close()
  local out = {}
  for _, item in pairs(spec.paths) do
    for method, op in pairs(item) do
      if type(op) == "table" and op.operationId and method ~= "parameters" then
        for code, r in pairs(op.responses) do
          if code:match("^2") then
            local json = r.content ~= nil and r.content["application/json"] ~= nil
            out[op.operationId] = { status = tonumber(code), json = json }
          end
        end
      end
    end
  end
  return out
end

local all_operations, resource_of = operation_list.all, operation_list.resource_of

-- The default curl transport, with a note of every request it is handed: Prism accepts a request with no
-- body at all (no requestBody in the spec is `required`) and ignores unknown query parameters, so this is
-- what shows that the body and the query Prism validated are the ones the caller gave.
local function recording_transport()
  local inner = require("intercom.transport.curl").new()
  local rec = { sent = {} }
  function rec.request(_, req)
    rec.sent[#rec.sent + 1] = req
    return inner:request(req)
  end
  return setmetatable(rec, { __index = function(_, k)
    local v = inner[k]
    if type(v) == "function" then return function(_, ...) return v(inner, ...) end end
    return v
  end })
end

local function header(req, name)
  for _, line in ipairs(req.headers) do
    local n, v = line:match("^([^:]+):%s*(.*)$")
    if n and n:lower() == name then return v end
  end
  return nil
end

-- "/contacts/{contact_id}/tags/{id}" -> "^/contacts/[^/?]+/tags/[^/?]+$"
local function path_pattern(template)
  local escaped = template:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
  return "^" .. escaped:gsub("{[^}]+}", "[^/?]+") .. "$"
end

local function call(client, rname, mname, args)
  local obj = resource_of(client, rname)
  return obj[mname](obj, unpack(args, 1, args.n or #args))
end

describe("#contract every operation against Intercom's OpenAPI 2.12 served by Prism", function()
  if not PRISM then
    it("has a Prism mock to talk to", function()
      error("no Prism: " .. (os.getenv("INTERCOM_PRISM_ERROR")
        or "INTERCOM_PRISM_URL is not set; run the specs through `bash spec/run.sh` or `make test`"))
    end)
    return
  end

  local transport = recording_transport()
  local client = intercom.new{ base_url = PRISM, token = "test-token", max_retries = 0, transport = transport }
  local successes = spec_successes()
  local ops = {}
  for _, o in ipairs(all_operations()) do
    if o.op.since == "2.12" then ops[#ops + 1] = o end
  end

  it("has one fixture call per operation, 118 in all, and none for an unknown operation", function()
    local known = {}
    for _, o in ipairs(ops) do
      known[o.key] = true
      assert(CALLS[o.key], "spec/fixtures/contract_calls.lua has no entry for " .. o.key)
    end
    for key in pairs(CALLS) do
      assert(known[key], "spec/fixtures/contract_calls.lua has an entry for unknown operation " .. key)
    end
    assert.equal(118, #ops)
  end)

  for _, o in ipairs(ops) do
    it(o.key .. " sends a valid " .. o.op[1] .. " " .. o.op[2], function()
      local args = assert(CALLS[o.key], "no fixture call")
      local expected = assert(successes[o.op.id], "operationId " .. o.op.id .. " is not in the spec")
      local before = #transport.sent
      local result, err, resp = call(client, o.rname, o.mname, args)
      resp = resp or (err and err.response)
      assert(resp and resp.status, o.key .. ": the request did not complete: " .. tostring(err))
      contract.assert_ok(o.key, err, resp)

      -- What went out: one request, the method and path of the operation, the caller's body and query.
      assert.equal(before + 1, #transport.sent)
      local req = transport.sent[#transport.sent]
      assert.equal(o.op[1], req.method)
      local target = req.url:sub(#PRISM + 1)
      local path, query = target:match("^([^?]*)%??(.*)$")
      assert.matches(path_pattern(o.op[2]), path)
      local nparams = select(2, o.op[2]:gsub("{", ""))
      local payload = args[nparams + 1]
      if o.op.body and payload ~= nil then
        assert.equal("application/json", header(req, "content-type"))
        assert.same(intercom.json.decode(intercom.json.encode(payload)), intercom.json.decode(req.body))
      else
        assert.is_nil(req.body)
      end
      if o.op.params and payload ~= nil then
        for k in pairs(payload) do assert.matches("%f[%w_]" .. k .. "=", query) end
      end
      assert(err == nil, o.key .. ": " .. tostring(err))
      assert.equal(expected.status, resp.status)
      if expected.json then
        assert.equal("table", type(result))
        if o.op.page then
          assert.is_function(result.has_next, o.key .. " should return a Page")
          -- Where the spec's example has a next page, asking for it must be valid too. Only GET
          -- /companies/scroll's example has one (a new scroll_param); the search bodies' cursor and
          -- conversations' starting_after are checked by the fixture calls themselves.
          if result:has_next() then
            local nxt, nerr, nresp = result:next_page()
            contract.assert_ok(o.key .. " (next page)", nerr, nresp)
            assert(nxt, o.key .. " (next page): " .. tostring(nerr))
          end
        end
      elseif o.op.download then
        assert.equal("", result)          -- the spec gives the download no content: Prism sends nothing
      else
        assert.is_true(result)            -- a success without a body
      end
    end)
  end

  -- The checker itself must be able to fail, in each form Prism uses.
  describe("the violation checker", function()
    local function violations(...)
      local _, err, resp = ...
      return contract.violations(err, resp), err, resp
    end

    local function mentions(found, pattern)
      for _, m in ipairs(found) do if m:find(pattern) then return true end end
      return false
    end

    it("reports a body of the wrong type (422 problem+json, with the field)", function()
      local found, err = violations(client.contacts:create{ email = 12 })
      assert.equal(422, err.status)
      assert.is_true(mentions(found, "UNPROCESSABLE_ENTITY"), table.concat(found, "\n"))
      assert.is_true(mentions(found, "%[body%.email%] .*must be string"), table.concat(found, "\n"))
      assert.has_error(function() contract.assert_ok("contacts:create", err, nil) end)
    end)

    it("reports a body missing what a oneOf demands", function()
      local found = violations(client.conversations:manage("123", { message_type = "snoozed", admin_id = "1" }))
      assert.is_true(mentions(found, "snoozed_until"), table.concat(found, "\n"))
    end)

    it("reports an Intercom-Version the spec does not list", function()
      local found, err = violations(client.contacts:find("63a07ddf05a32042dffac965",
        { headers = { ["Intercom-Version"] = "9.99" } }))
      assert.equal(422, err.status)
      assert.is_true(mentions(found, "intercom%-version"), table.concat(found, "\n"))
    end)

    it("reports a violation that only the sl-violations header shows (the spec's own 400 example)", function()
      -- POST /tags defines a 400, so Prism answers with that example, which reads like a real Intercom error.
      local found, err, resp = violations(client.tags:create{ name = 5 })
      assert.equal(400, err.status)
      assert.matches("^application/json", resp.headers["content-type"])
      assert.is_table(err.errors)                 -- Intercom's error.list shape: nothing in the body tells
      assert.is_true(mentions(found, "^sl%-violations %[request%.body%.name%]"), table.concat(found, "\n"))
    end)

    it("reports a missing query parameter the spec requires", function()
      local found = violations(client.visitors:find())
      assert.is_true(mentions(found, "user_id"), table.concat(found, "\n"))
    end)

    it("reports a malformed Authorization header (401)", function()
      local found, err = violations(client.contacts:find("63a07ddf05a32042dffac965",
        { headers = { Authorization = "bearer lowercase-scheme" } }))
      assert.equal(401, err.status)
      assert.is_true(#found > 0)
    end)

    it("reports a Content-Type other than JSON (415)", function()
      local found, err = violations(client.contacts:create({ email = "joe@example.com" },
        { headers = { ["Content-Type"] = "text/plain" } }))
      assert.equal(415, err.status)
      assert.is_true(#found > 0)
    end)

    it("reports a path the spec does not have (404)", function()
      local lost = intercom.new{ base_url = PRISM .. "/v9", token = "test-token", max_retries = 0 }
      local found, err = violations(lost.contacts:find("63a07ddf05a32042dffac965"))
      assert.equal(404, err.status)
      assert.is_true(mentions(found, "NO_PATH_MATCHED"), table.concat(found, "\n"))
    end)

    it("reports a request that never got an answer", function()
      local found = violations(nil, { kind = "network", message = "connection refused" }, nil)
      assert.is_true(mentions(found, "no HTTP response"))
    end)

    it("ignores violations located in the response (bugs in the spec's own examples)", function()
      local _, err, resp = client.visitors:find{ user_id = "3ecf64d0-9ed1-4e9f-88e1-da7d6e6782f3" }
      assert.is_nil(err)
      assert.matches('"response"', resp.headers["sl-violations"] or "")
      assert.same({}, contract.violations(err, resp))
    end)
  end)
end)
