-- Coverage and drift: lua/intercom/operations.lua against Intercom's OpenAPI 2.12 description, the public
-- contract ../shared/API.md against the methods the dispatcher really makes, and README.md's operations
-- table against its generator. No server needed.

local intercom = require "intercom"
local operation_list = require "support.operation_list"

local SPEC_FILE = "../shared/intercom-openapi-2.12.json"
local API_FILE = "../shared/API.md"
local HTTP_METHODS = { get = true, put = true, post = true, delete = true, patch = true, head = true, options = true }

local read = require("support.util").read

-- operationId -> { method, path, body = bool, query = {names}, required_query = {names} }
local function spec_operations()
  local spec = assert(intercom.json.decode(read(SPEC_FILE)))
  local out, count = {}, 0
  for path, item in pairs(spec.paths) do
    for method, op in pairs(item) do
      if HTTP_METHODS[method] then
        local query = {}
        local params = {}
        for _, p in ipairs(item.parameters or {}) do params[#params + 1] = p end
        for _, p in ipairs(op.parameters or {}) do params[#params + 1] = p end
        for _, p in ipairs(params) do
          if p["in"] == "query" then query[#query + 1] = p.name end
        end
        assert(not out[op.operationId], "operationId " .. tostring(op.operationId) .. " twice in the spec")
        out[op.operationId] = { method = method:upper(), path = path, body = op.requestBody ~= nil, query = query }
        count = count + 1
      end
    end
  end
  return out, count
end

local resource_of = operation_list.resource_of

-- id -> { key = "resource:method", rname, mname, op }, and the list of all of them in key order
local function lua_operations()
  local out, list = {}, operation_list.all()
  for _, o in ipairs(list) do
    if o.op.id then
      assert(not out[o.op.id], "operationId " .. o.op.id .. " is used by two operations in operations.lua")
      out[o.op.id] = o
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

describe("coverage of Intercom's OpenAPI 2.12", function()
  local spec, spec_count = spec_operations()
  local by_id, list = lua_operations()
  local client = intercom.new{ base_url = "http://127.0.0.1:9", token = "unused" }  -- never sends

  it("the spec has 118 operations and operations.lua has 118, each with an operationId", function()
    assert.equal(118, spec_count)
    assert.equal(118, #list)
    for _, o in ipairs(list) do assert(o.op.id, o.key .. " has no id") end
  end)

  it("every operation of the spec has a Lua operation", function()
    local missing = {}
    for id, s in pairs(spec) do
      if not by_id[id] then missing[#missing + 1] = id .. " (" .. s.method .. " " .. s.path .. ")" end
    end
    table.sort(missing)
    assert(#missing == 0, "no Lua method for: " .. table.concat(missing, ", "))
  end)

  it("every Lua operation is in the spec", function()
    local extra = {}
    for id, o in pairs(by_id) do if not spec[id] then extra[#extra + 1] = o.key .. " (id " .. id .. ")" end end
    table.sort(extra)
    assert(#extra == 0, "not in the spec: " .. table.concat(extra, ", "))
  end)

  it("every Lua operation has the spec's HTTP method and path template", function()
    local wrong = {}
    for id, o in pairs(by_id) do
      local s = spec[id]
      if s and (s.method ~= o.op[1] or s.path ~= o.op[2]) then
        wrong[#wrong + 1] = ("%s: %s %s, the spec says %s %s"):format(o.key, o.op[1], o.op[2], s.method, s.path)
      end
    end
    table.sort(wrong)
    assert(#wrong == 0, table.concat(wrong, "\n"))
  end)

  it("an operation takes a body exactly when the spec has a requestBody, and a query table when it has "
    .. "query parameters (or pages)", function()
    local wrong = {}
    for id, o in pairs(by_id) do
      local s, op = spec[id], o.op
      if s then
        if s.body ~= (op.body == true) then
          wrong[#wrong + 1] = o.key .. ": body = " .. tostring(op.body) .. ", the spec's requestBody: "
            .. tostring(s.body)
        end
        -- With a body, query parameters go in opts.query (PUT /conversations/{id}?display_as=...).
        if not s.body and #s.query > 0 and not op.params then
          wrong[#wrong + 1] = o.key .. ": the spec has query parameters " .. table.concat(s.query, ",")
            .. " but the method takes no params table"
        end
        -- Without query parameters in the spec, a params table only makes sense for page/per_page.
        if op.params and #s.query == 0 and not op.page then
          wrong[#wrong + 1] = o.key .. ": takes params, but the spec has no query parameter and it does not page"
        end
      end
    end
    table.sort(wrong)
    assert(#wrong == 0, table.concat(wrong, "\n"))
  end)

  it("every operation is a method of a client, nested resources included", function()
    for _, o in ipairs(list) do
      local obj = resource_of(client, o.rname)
      assert.is_table(obj, o.rname)
      assert.is_function(obj[o.mname], o.key)
      if o.op.page then
        assert.is_function(obj[o.mname == "list" and "each" or (o.mname .. "_each")], o.key .. " iterator")
      end
    end
  end)
end)

describe("API.md, the public contract", function()
  local by_id, list = lua_operations()
  local rows = api_rows()
  local client = intercom.new{ base_url = "http://127.0.0.1:9", token = "unused" }

  it("lists every operation once", function()
    assert.equal(#list, #rows)
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
        if sig ~= r.call then
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

describe("README.md's operations table", function()
  it("is what tools/gen-operations-table.lua generates from operations.lua (run `make docs`)", function()
    local p = assert(io.popen("lua5.4 tools/gen-operations-table.lua 2>&1"))
    local generated = p:read("*a")
    p:close()
    assert.matches("^<!%-%- operations:begin %-%->", generated)
    local readme = read("README.md")
    local s = readme:find("<!-- operations:begin -->", 1, true)
    local _, e = readme:find("<!-- operations:end -->\n", 1, true)
    assert(s and e, "README.md has no operations:begin/end block")
    assert(readme:sub(s, e) == generated, "README.md's operations table is stale: run `make docs`")
  end)

  it("names each call as the dispatcher does", function()
    local client = intercom.new{ base_url = "http://127.0.0.1:9", token = "unused" }
    local _, list = lua_operations()
    local readme = read("README.md")
    for _, o in ipairs(list) do
      local sig = dispatcher_signature(client, o)
      assert(readme:find("| `" .. sig .. "` | " .. o.op[1] .. " " .. o.op[2] .. " |", 1, true),
        "README.md has no row for " .. sig)
    end
  end)
end)
