-- The command line's one view of the operations table: everything the CLI knows about an operation
-- (its path parameters, whether it takes a body or query parameters, how it pages, the version it first
-- appeared in) comes from here, through the table's accessor (intercom.operations_list), so a change of
-- the table's layout is a change of this file only.
--
-- The table is read at run time, never copied: every operation of every supported version is a command.

local list = require "intercom.operations_list"

local _M = {}

--- The API versions the library serves, oldest first (intercom.VERSIONS).
---@return string[]
function _M.versions()
  local copy = {}
  for i, v in ipairs(list.VERSIONS) do copy[i] = v end
  return copy
end

--- The version a client uses when none is asked for.
---@return string
function _M.default_version()
  return list.DEFAULT_VERSION
end

-- resource -> { operation name -> entry }, built on first use from entries() (a new table per call of
-- entries(), so this view is the CLI's own: one process, one command).
local by_resource

local function index()
  if by_resource then return by_resource end
  by_resource = {}
  for _, e in ipairs(list.entries()) do
    local r = by_resource[e.resource]
    if not r then
      r = {}
      by_resource[e.resource] = r
    end
    r[e.name] = e
  end
  return by_resource
end

--- Every resource name, sorted; nested ones are dotted ("news.items").
---@return string[]
function _M.resources()
  local names = {}
  for rname in pairs(index()) do names[#names + 1] = rname end
  table.sort(names)
  return names
end

--- True when `rname` is a resource.
---@param rname string
---@return boolean
function _M.is_resource(rname)
  return type(rname) == "string" and index()[rname] ~= nil
end

--- The operation names of a resource, sorted.
---@param rname string
---@return string[]
function _M.operations(rname)
  local names = {}
  for oname in pairs(index()[rname] or {}) do names[#names + 1] = oname end
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
---@field params boolean      takes a query table (the argument after the path parameters)
---@field query_params {name: string, since: string}[] the query parameters the spec declares
---@field page string|nil     pagination style: "cursor", "search", "page", "scroll", "next_cursor", "body_page"
---@field download boolean    the answer is a file, not JSON
---@field text boolean        the answer is text/plain
---@field redirect boolean    the answer is a 302, returned as { location = URL }
---@field search boolean      a search: the body's `query` is an intercom.query
---@field since string        the first API version that has it
---@field id string|nil       the operationId in Intercom's spec

--- The description of one operation, or nil when there is none of that name.
---@param rname string
---@param oname string
---@return intercom.cli.Op|nil
function _M.get(rname, oname)
  local r = index()[rname]
  local e = r and r[oname]
  if not e then return nil end
  return {
    resource = e.resource,
    name = e.name,
    method = e.method,
    path = e.path,
    path_params = e.path_params,
    body = e.body,
    params = e.params,
    query_params = e.query or {},
    page = e.page,
    download = e.download,
    text = e.text,
    redirect = e.redirect,
    search = e.search,
    since = e.since,
    id = e.id,
  }
end

--- The names of the query parameters `op` declares in `version`, in the spec's order.
---@param op intercom.cli.Op
---@param version string
---@return string[]
function _M.query_names(op, version)
  local names = {}
  for _, q in ipairs(op.query_params) do
    if _M.compare(q.since, version) <= 0 then names[#names + 1] = q.name end
  end
  return names
end

--- Compares two versions of intercom.VERSIONS ("2.12" < "2.16"); returns -1, 0 or 1.
---@param a string
---@param b string
---@return integer
function _M.compare(a, b)
  local ra, rb = list.rank(a) or 0, list.rank(b) or 0
  return ra < rb and -1 or (ra > rb and 1 or 0)
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
  local args, n = {}, 0
  for i = 1, #op.path_params do
    n = n + 1
    args[n] = values[i]
  end
  if op.body then
    n = n + 1
    args[n] = body
  elseif op.params then
    n = n + 1
    args[n] = params
  end
  n = n + 1
  args[n] = opts
  return args, n
end

return _M
