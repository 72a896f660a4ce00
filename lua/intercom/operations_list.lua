-- The operations table (intercom.operations) read as a list of entries: the one stable way for the
-- dispatcher, the command line, the docs generator and the specs to enumerate operations, so that none of
-- them depends on the raw one-line format.
--
--   local list = require "intercom.operations_list"
--   for _, e in ipairs(list.entries()) do print(e.key, e.method, e.path, e.since) end
--
-- An entry (a new table each time entries() is called; change it freely):
--   resource     "contacts", "news.items"           (dotted: client.news.items)
--   name         "find"                             the method name
--   key          "contacts:find"
--   method       "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
--   path         "/contacts/{id}"                   the template; parameters in call order:
--   path_params  { "id" }
--   body         true when the method takes a JSON body table (after the path parameters)
--   params       true when the method takes a query table (after the path parameters)
--   query        { { name = "display_as", since = "2.12" }, ... }  every query parameter any version declares
--   page         nil or the pagination style: "cursor", "search", "page", "scroll", "next_cursor", "body_page"
--   items        nil or the key of a page's array when it is not `data` ("data.articles")
--   iterator     nil or the iterator method that goes with `page`: "each" for list, else name .. "_each"
--   since        "2.12" .. "2.16": the first version that has the operation
--   id           the operationId (of the newest version); former_id: the one older versions use, if any
--   search, idempotent, download, text, redirect: booleans; single_when: nil or a query parameter name
--   signature    "client.contacts:find(id, [opts])", as the dispatcher names it in its errors

local operations = require "intercom.operations"

local _M = {}

--- The API versions this library serves, oldest first. A client's `version` must be one of them.
_M.VERSIONS = { "2.12", "2.13", "2.14", "2.15", "2.16" }
--- The version used when none is given.
_M.DEFAULT_VERSION = "2.12"

local rank = {}
for i, v in ipairs(_M.VERSIONS) do rank[v] = i end

--- The position of a version in VERSIONS (1 for "2.12"), or nil for a version not served.
---@param version string
---@return integer|nil
function _M.rank(version)
  return rank[version]
end

local function path_params(template)
  local names = {}
  for name in template:gmatch("{([%w_]+)}") do names[#names + 1] = name end
  return names
end

--- The iterator method a paginated operation gets ("each" for list, "x_each" for x), or nil.
function _M.iterator_name(name, op)
  if not op.page then return nil end
  return name == "list" and "each" or (name .. "_each")
end

--- How the dispatcher names a call in its misuse messages.
function _M.signature(rname, name, op)
  local args = path_params(op[2])
  if op.body then args[#args + 1] = "[body]" elseif op.params then args[#args + 1] = "[params]" end
  args[#args + 1] = "[opts]"
  return "client." .. rname .. ":" .. name .. "(" .. table.concat(args, ", ") .. ")"
end

--- The declared query parameters of a raw entry: { { name =, since = } }.
function _M.declared_query(op)
  local out = {}
  for i, spec in ipairs(op.query or {}) do
    local name, since = spec:match("^([^@]+)@(.+)$")
    out[i] = { name = name or spec, since = since or op.since }
  end
  return out
end

local function entry(rname, name, op)
  return {
    resource = rname, name = name, key = rname .. ":" .. name,
    method = op[1], path = op[2], path_params = path_params(op[2]),
    body = op.body == true, params = op.params == true, query = _M.declared_query(op),
    page = op.page, items = op.items, iterator = _M.iterator_name(name, op),
    since = op.since, id = op.id, former_id = op.former_id,
    search = op.search == true, idempotent = op.idempotent == true, download = op.download == true,
    text = op.text == true, redirect = op.redirect == true, single_when = op.single_when,
    signature = _M.signature(rname, name, op),
  }
end

--- Every operation, sorted by key.
---@return table[]
function _M.entries()
  local list = {}
  for rname, ops in pairs(operations) do
    for name, op in pairs(ops) do list[#list + 1] = entry(rname, name, op) end
  end
  table.sort(list, function(a, b) return a.key < b.key end)
  return list
end

--- The entry of "resource:name", or nil.
---@param key string
---@return table|nil
function _M.get(key)
  local rname, name = key:match("^([%w_.]+):([%w_]+)$")
  local op = rname and operations[rname] and operations[rname][name]
  return op and entry(rname, name, op) or nil
end

--- Whether an entry (or a raw operation) exists in `version`.
function _M.available(e, version)
  return rank[e.since] <= (rank[version] or 0)
end

--- The names of the query parameters an entry declares in `version`, as a list in the spec's order.
function _M.query_names(e, version)
  local names, r = {}, rank[version] or 0
  for _, q in ipairs(e.query) do
    if rank[q.since] <= r then names[#names + 1] = q.name end
  end
  return names
end

return _M
