-- Coverage and drift: lua/intercom/operations.lua against Intercom's OpenAPI description of every served
-- version (2.12 to 2.16), the public contract ../shared/API.md against the methods the dispatcher really
-- makes, and docs/operations.md's table against its generator. No server needed.

local intercom = require "intercom"
local operation_list = require "support.operation_list"
local operations_list = require "intercom.operations_list"

local VERSIONS = operations_list.VERSIONS
local API_FILE = "../shared/API.md"
local DOCS_FILE = "docs/operations.md"
local HTTP_METHODS = { get = true, put = true, post = true, delete = true, patch = true, head = true, options = true }

local read = require("support.util").read

-- Where the library departs from API.md (the 2.12 contract) on purpose, with the reason: 2.15 gives
-- PUT /companies/{id} the request body that 2.12's spec lacked (and without which it updates nothing).
local API_MD_CHANGED = {
  UpdateCompany = "client.companies:update(id, [body], [opts])",
}

local function norm(path) return (path:gsub("{[^}]+}", "{}")) end

-- The operations of one version's spec, keyed "METHOD /normalized/{}/path":
-- { id (nil for the four without one), method, path, body = bool, query = {names} }
local function spec_operations(version)
  local spec = assert(intercom.json.decode(read("../shared/intercom-openapi-" .. version .. ".json")))
  local out, count = {}, 0
  for path, item in pairs(spec.paths) do
    for method, op in pairs(item) do
      if HTTP_METHODS[method] then
        local query = {}
        local params = {}
        for _, p in ipairs(item.parameters or {}) do params[#params + 1] = p end
        for _, p in ipairs(op.parameters or {}) do params[#params + 1] = p end
        for _, p in ipairs(params) do
          local schema = p.schema or {}
          if p["in"] == "query" and schema.type == "object" and p.explode ~= false then
            -- a form-exploded object (GET /events `filter`): its properties are the parameters on the wire
            for _, branch in ipairs(schema.oneOf or { schema }) do
              for name in pairs(branch.properties or {}) do query[#query + 1] = name end
            end
          elseif p["in"] == "query" then
            query[#query + 1] = p.name
          end
        end
        local key = method:upper() .. " " .. norm(path)
        assert(not out[key], key .. " twice in the " .. version .. " spec")
        out[key] = { id = op.operationId, method = method:upper(), path = path, body = op.requestBody ~= nil,
                     query = query }
        count = count + 1
      end
    end
  end
  return out, count
end

local resource_of = operation_list.resource_of

-- id -> { key = "resource:method", rname, mname, op, entry }, and the list of all of them in key order
local function lua_operations()
  local out, list = {}, operation_list.all()
  for _, o in ipairs(list) do
    for _, id in ipairs{ o.op.id, o.op.former_id } do
      assert(not out[id], "operationId " .. id .. " is used by two operations in operations.lua")
      out[id] = o
    end
  end
  return out, list
end

-- The signature the dispatcher itself reports (lua/intercom/resource.lua puts it in its misuse messages):
-- one argument too many makes the method raise "..., expected client.x:y(args)" before sending anything.
local function dispatcher_signature(client, o)
  local obj = resource_of(client, o.rname)
  local nargs = select(2, o.op[2]:gsub("{", "")) + ((o.op.body or o.op.params) and 1 or 0) + 2
  local args = {}
  for i = 1, nargs do args[i] = "x" end
  local ok, msg = pcall(obj[o.mname], obj, (table.unpack or unpack)(args, 1, nargs))
  assert(not ok, o.key .. " accepted " .. nargs .. " arguments")
  return tostring(msg):match("expected (client%.[%w_.]+:[%w_]+%b())")
end

-- The table rows of API.md: { call = "client.contacts:find(id, [opts])", method, path, id, returns }.
local function api_rows()
  local rows = {}
  for line in read(API_FILE):gmatch("[^\n]+") do
    if line:match("^| .*`client%.") then
      local cells = {}
      for cell in (line:gsub("^|", "")):gmatch("([^|]*)|") do cells[#cells + 1] = cell:match("^%s*(.-)%s*$") end
      local method, path = cells[3]:match("^(%u+) (%S+)$")
      rows[#rows + 1] = { call = cells[2]:match("^`(.*)`$"), method = method, path = path, id = cells[4],
                          returns = cells[6] }
    end
  end
  return rows
end

describe("coverage of Intercom's OpenAPI 2.12 to 2.16", function()
  local by_id, list = lua_operations()
  local client = intercom.new{ base_url = "http://127.0.0.1:9", token = "unused" }  -- never sends
  local specs, counts = {}, {}
  for _, v in ipairs(VERSIONS) do specs[v], counts[v] = spec_operations(v) end

  it("operations.lua has 231 operations, each with an operationId and a `since` among the versions", function()
    assert.equal(231, #list)
    for _, o in ipairs(list) do
      assert(o.op.id, o.key .. " has no id")
      assert(operations_list.rank(o.op.since), o.key .. ": since " .. tostring(o.op.since))
    end
  end)

  it("each version has as many operations as its spec: 118, 133, 150, 162, 231", function()
    local got = {}
    for i, v in ipairs(VERSIONS) do
      local n = 0
      for _, o in ipairs(list) do if operations_list.available(o.entry, v) then n = n + 1 end end
      got[i] = n
      assert.equal(counts[v], n, v)
    end
    assert.same({ 118, 133, 150, 162, 231 }, got)
  end)

  for _, v in ipairs(VERSIONS) do
    it(v .. ": every operation of the spec is exactly one Lua method, available in " .. v .. ", with the spec's "
      .. "method, path (parameter names aside) and operationId", function()
      local by_route, wrong = {}, {}
      for _, o in ipairs(list) do
        local route = o.op[1] .. " " .. norm(o.op[2])
        assert(not by_route[route], route .. " is two Lua methods: " .. o.key)
        by_route[route] = o
      end
      for route, s in pairs(specs[v]) do
        local o = by_route[route]
        if not o then
          wrong[#wrong + 1] = "no Lua method for " .. route .. " (" .. tostring(s.id) .. ")"
        elseif not operations_list.available(o.entry, v) then
          wrong[#wrong + 1] = o.key .. ": since " .. o.op.since .. ", but the " .. v .. " spec has it"
        elseif s.id and s.id ~= o.op.id and s.id ~= o.op.former_id then
          wrong[#wrong + 1] = o.key .. ": id " .. o.op.id .. ", the " .. v .. " spec says " .. s.id
        elseif s.id and by_id[s.id] ~= o then
          wrong[#wrong + 1] = s.id .. " maps to " .. by_id[s.id].key .. " and " .. o.key
        end
      end
      for _, o in ipairs(list) do
        if operations_list.available(o.entry, v) and not specs[v][o.op[1] .. " " .. norm(o.op[2])] then
          wrong[#wrong + 1] = o.key .. " (since " .. o.op.since .. ") is not in the " .. v .. " spec"
        end
      end
      table.sort(wrong)
      assert(#wrong == 0, table.concat(wrong, "\n"))
    end)

    it(v .. ": an operation takes a body exactly when the spec (the newest) has a requestBody, and declares the spec's "
      .. "query parameters", function()
      local wrong = {}
      for _, o in ipairs(list) do
        local s = specs[v][o.op[1] .. " " .. norm(o.op[2])]
        local op = o.op
        if s then
          -- The signature is one for all versions: a body when any version's spec has one (2.15 gave
          -- PUT /companies/{id} its first), so the newest spec decides.
          local newest = specs[VERSIONS[#VERSIONS]][o.op[1] .. " " .. norm(o.op[2])]
          if newest.body ~= (op.body == true) or (s.body and not op.body) then
            wrong[#wrong + 1] = o.key .. ": body = " .. tostring(op.body) .. ", the spec's requestBody: "
              .. tostring(s.body)
          end
          local declared = operations_list.query_names(o.entry, v)
          table.sort(declared)
          local want = {}
          for i, name in ipairs(s.query) do want[i] = name end
          table.sort(want)
          if table.concat(declared, ",") ~= table.concat(want, ",") then
            wrong[#wrong + 1] = o.key .. ": declares " .. table.concat(declared, ",") .. ", the spec "
              .. table.concat(want, ",")
          end
          -- With a body, query parameters go in opts.query (API.md: conversations:update(id, [body], [opts])).
          if not s.body and #s.query > 0 and not op.params and op.since ~= "2.12" then
            wrong[#wrong + 1] = o.key .. ": the spec has query parameters " .. table.concat(s.query, ",")
              .. " but the method takes no params table"
          end
          if op.params and op.body then wrong[#wrong + 1] = o.key .. ": both body and params" end
        end
      end
      table.sort(wrong)
      assert(#wrong == 0, table.concat(wrong, "\n"))
    end)
  end

  it("names are unique per resource, iterators included, and every resource is a client field", function()
    for _, o in ipairs(list) do
      -- snake_case method names; snake_case resources, nested ones dotted (news.items)
      assert.matches("^[a-z][a-z0-9_]*$", o.mname)
      assert.matches("^[a-z][a-z_]*%.?[a-z_]*$", o.rname)
      local obj = resource_of(client, o.rname)
      assert.is_table(obj, o.rname)
      assert.is_function(obj[o.mname], o.key)
      local it_name = o.entry.iterator
      if it_name then
        assert.is_nil(operations_list.get(o.rname .. ":" .. it_name), o.key .. ": iterator " .. it_name
          .. " is also an operation")
        assert.is_function(obj[it_name], o.key .. " iterator")
      end
    end
  end)
end)

describe("API.md, the public contract", function()
  local by_id, list = lua_operations()
  local rows = api_rows()
  local client = intercom.new{ base_url = "http://127.0.0.1:9", token = "unused" }

  it("lists every operation of 2.12 once", function()
    local n = 0
    for _, o in ipairs(list) do if o.op.since == "2.12" then n = n + 1 end end
    assert.equal(n, #rows)
    local seen = {}
    for _, r in ipairs(rows) do
      assert(not seen[r.id], "API.md lists " .. r.id .. " twice")
      seen[r.id] = true
      assert(by_id[r.id], "API.md lists " .. r.id .. ", which operations.lua does not have")
    end
  end)

  it("names each operation's Lua call and arguments (path parameters in order, body or params) as the "
    .. "dispatcher makes it", function()
    local wrong = {}
    for _, r in ipairs(rows) do
      local o = by_id[r.id]
      if o then
        local sig = dispatcher_signature(client, o)
        if sig ~= r.call and API_MD_CHANGED[r.id] ~= sig then
          wrong[#wrong + 1] = r.id .. ": API.md " .. tostring(r.call) .. ", the library " .. tostring(sig)
        end
        if r.method ~= o.op[1] or r.path ~= o.op[2] then
          wrong[#wrong + 1] = r.id .. ": API.md " .. tostring(r.method) .. " " .. tostring(r.path)
            .. ", operations.lua " .. o.op[1] .. " " .. o.op[2]
        end
        if (r.returns == "page") ~= (o.op.page ~= nil) then
          wrong[#wrong + 1] = r.id .. ": API.md returns '" .. r.returns .. "', operations.lua page = "
            .. tostring(o.op.page)
        end
        if r.returns == "download" and not o.op.download then
          wrong[#wrong + 1] = r.id .. ": API.md says download, operations.lua does not"
        end
      end
    end
    assert(#wrong == 0, table.concat(wrong, "\n"))
  end)
end)

describe("docs/operations.md's operations table", function()
  it("is what tools/gen-operations-table.lua generates from operations.lua (run `make docs`)", function()
    local p = assert(io.popen("lua5.4 tools/gen-operations-table.lua 2>&1"))
    local generated = p:read("*a")
    p:close()
    assert.matches("^<!%-%- operations:begin %-%->", generated)
    local doc = read(DOCS_FILE)
    local s = doc:find("<!-- operations:begin -->", 1, true)
    local _, e = doc:find("<!-- operations:end -->\n", 1, true)
    assert(s and e, DOCS_FILE .. " has no operations:begin/end block")
    assert(doc:sub(s, e) == generated, DOCS_FILE .. "'s operations table is stale: run `make docs`")
  end)

  it("names each call as the dispatcher does, with the version it first appeared in", function()
    local client = intercom.new{ base_url = "http://127.0.0.1:9", token = "unused", version = "2.16" }
    local _, list = lua_operations()
    local doc = read(DOCS_FILE)
    for _, o in ipairs(list) do
      local sig = dispatcher_signature(client, o)
      assert(doc:find("| `" .. sig .. "` | " .. o.op[1] .. " " .. o.op[2] .. " | " .. o.op.since .. " |", 1, true),
        DOCS_FILE .. " has no row for " .. sig .. " since " .. o.op.since)
    end
  end)
end)
