-- The contract suite: every operation of lua/intercom/operations.lua, called through its Lua method with the
-- arguments of spec/fixtures/contract_calls.lua, against Prism serving Intercom's own OpenAPI description of
-- every version it exists in (../shared/contract/). Prism rejects a request whose path, method, headers,
-- query or body do not match the spec, so a pass means the client sends what the spec demands.
--
-- spec/run.sh starts one Prism per version of INTERCOM_CONTRACT_VERSIONS (default "2.12 2.16"; CI asks for
-- all five) and exports INTERCOM_PRISM_URL_<V>; when that failed, INTERCOM_PRISM_ERROR says why and this spec
-- fails (it never skips). Run it alone: bash spec/run.sh spec/e2e/contract_spec.lua

local intercom = require "intercom"
local operation_list = require "support.operation_list"
local operations_list = require "intercom.operations_list"
local contract = require "support.contract"
local CALLS = require "fixtures.contract_calls"

local unpack = table.unpack or unpack

local TESTED = {}
for v in (os.getenv("INTERCOM_CONTRACT_VERSIONS") or "2.12 2.16"):gmatch("%S+") do TESTED[#TESTED + 1] = v end

local function prism_url(version)
  local url = os.getenv("INTERCOM_PRISM_URL_" .. version:gsub("%.", "_"))
  if url == "" then url = nil end
  return url
end

local function route(method, path) return method:upper() .. " " .. path:gsub("{[^}]+}", "{}") end

-- "METHOD /normalized/{}" -> { status = the spec's 2xx (or 3xx) code, json = whether it has a JSON body,
-- text = whether it is text/plain }
local function spec_successes(version)
  local f = assert(io.open("../shared/intercom-openapi-" .. version .. ".json", "rb"))
  local spec = assert(intercom.json.decode(f:read("a")))
  f:close()
  local out = {}
  for path, item in pairs(spec.paths) do
    for method, op in pairs(item) do
      if type(op) == "table" and op.responses and method ~= "parameters" then
        for code, r in pairs(op.responses) do
          if code:match("^[23]") then
            local content = r.content or {}
            out[route(method, path)] = { status = tonumber(code), json = content["application/json"] ~= nil,
                                         text = content["text/plain"] ~= nil }
          end
        end
      end
    end
  end
  return out
end

-- The fixture arguments of an operation for a version: CALLS[key], unless CALLS.from[V'][key] exists for
-- the newest V' <= version (a body whose schema changed in V').
local function args_for(key, version)
  local args = CALLS[key]
  for _, v in ipairs(operations_list.VERSIONS) do
    if operations_list.rank(v) > operations_list.rank(version) then break end
    local override = CALLS.from and CALLS.from[v] and CALLS.from[v][key]
    if override then args = override end
  end
  return args
end

local resource_of = operation_list.resource_of

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

local ops = operation_list.all()

describe("#contract the fixture calls", function()
  it("has one fixture call per operation, 231 in all, and none for an unknown operation", function()
    local known = {}
    for _, o in ipairs(ops) do
      known[o.key] = true
      assert(CALLS[o.key], "spec/fixtures/contract_calls.lua has no entry for " .. o.key)
    end
    for key in pairs(CALLS) do
      assert(key == "from" or known[key], "spec/fixtures/contract_calls.lua has an entry for unknown operation "
        .. key)
    end
    for v, list in pairs(CALLS.from) do
      assert(operations_list.rank(v), "CALLS.from: unknown version " .. v)
      for key in pairs(list) do assert(known[key], "CALLS.from[" .. v .. "]: unknown operation " .. key) end
    end
    assert.equal(231, #ops)
  end)

  it("runs against the versions asked for (INTERCOM_CONTRACT_VERSIONS), 2.12 and 2.16 at least", function()
    local asked = {}
    for _, v in ipairs(TESTED) do
      assert(operations_list.rank(v), "INTERCOM_CONTRACT_VERSIONS: unknown version " .. v)
      asked[v] = true
    end
    assert.is_true(asked["2.12"] and asked["2.16"], "INTERCOM_CONTRACT_VERSIONS must include 2.12 and 2.16")
  end)
end)

for _, version in ipairs(TESTED) do
describe("#contract " .. version .. ": every operation of the version against its spec served by Prism", function()
  local PRISM = prism_url(version)
  if not PRISM then
    it("has a Prism mock of " .. version .. " to talk to", function()
      error("no Prism for " .. version .. ": " .. (os.getenv("INTERCOM_PRISM_ERROR")
        or "INTERCOM_PRISM_URL_" .. version:gsub("%.", "_") .. " is not set; run the specs through "
        .. "`bash spec/run.sh` or `make test`"))
    end)
    return
  end

  local transport = recording_transport()
  local client = intercom.new{ base_url = PRISM, token = "test-token", max_retries = 0, transport = transport,
                               version = version }
  local successes = spec_successes(version)

  for _, o in ipairs(ops) do
    if operations_list.available(o.entry, version) then
    it(version .. " " .. o.key .. " sends a valid " .. o.op[1] .. " " .. o.op[2], function()
      local args = assert(args_for(o.key, version), "no fixture call")
      local expected = successes[route(o.op[1], o.op[2])]
      local before = #transport.sent
      local result, err, resp = call(client, o.rname, o.mname, args)
      resp = resp or (err and err.response)
      assert(resp and resp.status, o.key .. ": the request did not complete: " .. tostring(err))
      contract.assert_ok(o.key, err, resp)

      -- What went out: one request, the method and path of the operation, the caller's body and query.
      assert.equal(before + 1, #transport.sent)
      local req = transport.sent[#transport.sent]
      assert.equal(o.op[1], req.method)
      assert.equal(version, header(req, "intercom-version"))
      local target = req.url:sub(#PRISM + 1)
      local path, query = target:match("^([^?]*)%??(.*)$")
      assert.matches(path_pattern(o.op[2]), path)
      local nparams = #o.entry.path_params
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
      local opts_arg = args[nparams + ((o.op.body or o.op.params) and 2 or 1)]
      if type(opts_arg) == "table" and opts_arg.query then     -- e.g. a body operation's query parameters
        for k in pairs(opts_arg.query) do assert.matches("%f[%w_]" .. k .. "=", query) end
      end
      if not expected then
        -- GET /fin_voice/phone_number/{phone_number} documents no success at all, only errors and a
        -- `default`; Prism answers 200 with the default's example (an error.list), returned as it came.
        assert.equal(200, resp.status)
        assert.equal("error.list", result.type)
        return
      end
      assert(err == nil, o.key .. ": " .. tostring(err))
      assert.equal(expected.status, resp.status)
      local paged = o.op.page and not (o.op.single_when and payload and payload[o.op.single_when] ~= nil)
      if o.op.redirect then
        assert.equal("string", type(result.location))  -- the documented 302, returned as data
      elseif expected.text then
        assert.equal("string", type(result))           -- text/plain
      elseif expected.json then
        assert.equal("table", type(result))
        if paged then
          assert.is_function(result.has_next, o.key .. " should return a Page")
          -- Where the spec's example has a next page, asking for it must be valid too (GET /companies/scroll's
          -- example has a new scroll_param; the search bodies' cursor and conversations' starting_after are
          -- checked by the fixture calls themselves).
          if result:has_next() then
            local nxt, nerr, nresp = result:next_page()
            contract.assert_ok(o.key .. " (next page)", nerr, nresp)
            assert(nxt, o.key .. " (next page): " .. tostring(nerr))
          end
        else
          assert(getmetatable(result) ~= require("intercom.pager").Page, o.key .. " should not return a Page")
        end
      elseif o.op.download then
        assert.equal("", result)          -- the spec gives the download no content: Prism sends nothing
      else
        assert.is_true(result)            -- a success without a body
      end
    end)
    end
  end
end)
end

describe("#contract the violation checker", function()
  local PRISM = prism_url("2.12")
  if not PRISM then
    it("has a Prism mock of 2.12 to talk to", function() error("no Prism for 2.12: " .. tostring(
      os.getenv("INTERCOM_PRISM_ERROR"))) end)
    return
  end
  local client = intercom.new{ base_url = PRISM, token = "test-token", max_retries = 0 }

  -- The checker itself must be able to fail, in each form Prism uses.
  describe("in each form Prism uses", function()
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

    it("agrees with intercom.query.validate on the version rule: a group mixing groups and filters passes "
      .. "2.12's spec and breaks 2.16's", function()
      local q = intercom.query
      local mixed = q.all(q.eq("role", "user"), q.any(q.eq("name", "a"), q.eq("name", "b")))
      -- client:request sends it unchecked (contacts:search would raise for 2.16 before sending)
      local _, err, resp = client:request("POST", "/contacts/search", { body = { query = mixed } })
      assert.same({}, contract.violations(err, resp))
      local url16 = prism_url("2.16")
      assert(url16, "no Prism for 2.16")
      local c16 = intercom.new{ base_url = url16, token = "test-token", max_retries = 0, version = "2.16" }
      local found = violations(c16:request("POST", "/contacts/search", { body = { query = mixed } }))
      assert.is_true(#found > 0, "2.16's spec accepted a mixed group")
      assert.has_error(function() q.validate(mixed, "2.16") end)
      assert.is_true(q.validate(mixed, "2.12"))
    end)

    it("ignores violations located in the response (bugs in the spec's own examples)", function()
      local _, err, resp = client.visitors:find{ user_id = "3ecf64d0-9ed1-4e9f-88e1-da7d6e6782f3" }
      assert.is_nil(err)
      assert.matches('"response"', resp.headers["sl-violations"] or "")
      assert.same({}, contract.violations(err, resp))
    end)
  end)
end)
