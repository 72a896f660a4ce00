-- The command line's one view of the operations table: everything the CLI knows about an operation
-- (its path parameters, whether it takes a body or query parameters, how it pages, the version it first
-- appeared in) comes from here, so a change of the table's layout is a change of this file only.
--
-- The table is read at run time, never copied: every operation of every supported version is a command.

local operations = require "intercom.operations"
local url = require "intercom.url"

local _M = {}

local client_mod = require "intercom.client"

--- The API versions the library supports, oldest first (intercom.VERSIONS when the library has it).
---@return string[]
function _M.versions()
  local ok, intercom = pcall(require, "intercom")
  local list = ok and type(intercom) == "table" and rawget(intercom, "VERSIONS")
  if type(list) == "table" and #list > 0 then
    local copy = {}
    for i, v in ipairs(list) do copy[i] = v end
    return copy
  end
  return { client_mod.API_VERSION }
end

--- The version a client uses when none is asked for.
---@return string
function _M.default_version()
  return client_mod.API_VERSION
end

--- Every resource name, sorted; nested ones are dotted ("news.items").
---@return string[]
function _M.resources()
  local names = {}
  for rname in pairs(operations) do names[#names + 1] = rname end
  table.sort(names)
  return names
end

--- True when `rname` is a resource.
---@param rname string
---@return boolean
function _M.is_resource(rname)
  return type(rname) == "string" and operations[rname] ~= nil
end

--- The operation names of a resource, sorted.
---@param rname string
---@return string[]
function _M.operations(rname)
  local names = {}
  for oname in pairs(operations[rname] or {}) do names[#names + 1] = oname end
  table.sort(names)
  return names
end

---@class intercom.cli.Op
---@field resource string     "contacts", "news.items"
---@field name string         "find"
---@field method string       "GET"
---@field path string         "/contacts/{id}"
---@field path_params string[] the `{param}`s of the path, in order (the positional arguments)
---@field body boolean        takes a JSON body
---@field params boolean      takes query parameters
---@field page string|nil     pagination style: "cursor", "search", "page", "scroll"
---@field download boolean    the answer is a file, not JSON
---@field query boolean       a search: the body's `query` is an intercom.query
---@field since string        the first API version that has it
---@field id string|nil       the operationId in Intercom's spec

--- The description of one operation, or nil when there is none of that name.
---@param rname string
---@param oname string
---@return intercom.cli.Op|nil
function _M.get(rname, oname)
  local res = operations[rname]
  local op = res and res[oname]
  if type(op) ~= "table" then return nil end
  return {
    resource = rname,
    name = oname,
    method = op[1],
    path = op[2],
    path_params = url.path_params(op[2]),
    body = op.body and true or false,
    params = op.params and true or false,
    page = op.page,
    download = op.download and true or false,
    query = op.search == true,   -- a search (operations.lua: `query` lists the declared query parameters)
    since = op.since or client_mod.API_VERSION,
    id = op.id,
  }
end

--- Compares two version strings ("2.9" < "2.12"); returns -1, 0 or 1.
---@param a string
---@param b string
---@return integer
function _M.compare(a, b)
  local function parts(v)
    local t = {}
    for n in tostring(v):gmatch("%d+") do t[#t + 1] = tonumber(n) end
    return t
  end
  local pa, pb = parts(a), parts(b)
  for i = 1, math.max(#pa, #pb) do
    local x, y = pa[i] or 0, pb[i] or 0
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end

--- The arguments of the operation's Lua method, in its order: the path parameters, then the body or the
--- query table, then the per-request options. Returns the list and its length (it may hold nils).
---@param op intercom.cli.Op
---@param values string[] the path parameters
---@param body table|nil
---@param params table|nil
---@param opts table|nil
---@return table list, integer n
function _M.arguments(op, values, body, params, opts)
  local list, n = {}, 0
  for i = 1, #op.path_params do
    n = n + 1
    list[n] = values[i]
  end
  if op.body then
    n = n + 1
    list[n] = body
  elseif op.params then
    n = n + 1
    list[n] = params
  end
  n = n + 1
  list[n] = opts
  return list, n
end

return _M
