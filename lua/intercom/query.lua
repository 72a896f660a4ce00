-- intercom.query: builds the nested query of the search endpoints (POST /contacts/search,
-- /conversations/search, /tickets/search) and checks it before anything is sent.
--
--   local q = require("intercom").query
--   local page = assert(client.contacts:search{
--     query = q.all(q.eq("role", "user"), q.gt("created_at", 1700000000)),
--   })
--
-- Every builder returns a plain table in Intercom's wire format (no metatables), so it encodes to JSON
-- unchanged and can be mixed freely with tables written by hand:
--   filter: { field = "email", operator = "~", value = "@example.com" }   (single_filter_search_request)
--   group:  { operator = "AND" | "OR", value = { node, ... } }            (multiple_filter_search_request)
-- Each builder validates what it builds, so a bad query raises at the line that builds it; `validate`
-- checks a query written by hand the same way.
--
-- The rules come from the 2.12 spec (../shared/intercom-openapi-2.12.yaml); the later versions add one
-- (validate's `version`): from 2.13 a group's value is either an array of groups or an array of filters.
-- * Operators: the enum of `single_filter_search_request.operator`: = != IN NIN < <= > >= ~ !~ ^ $.
--   `<=` and `>=` are in that enum and in the "Accepted Operators" table of POST /contacts/search
--   (Integer fields; not Date fields), and POST /tickets/search allows them on `created_at`; so they
--   are accepted and have builders (`le`, `ge`). Which operator suits which field is the server's call.
-- * Values: `single_filter_search_request.value` is a string, integer, boolean, an array of strings or
--   of integers, and is `nullable` (null tests for an unset attribute). IN/NIN "Values must be in Array";
--   ~ !~ ^ $ are string operators; < > (<= >=) compare integers and dates, which Intercom's own example
--   request sends as strings (`value: '1306054154'`), so numbers and strings are accepted there.
-- * "Nesting & Limitations", in the description of all three search operations:
--     "There's a limit of max 2 nested filters"
--     "There's a limit of max 15 filters for each AND or OR group"
--   with the example "(1 OR 2) AND (3 OR 4)": a group inside a group (2 levels of AND/OR) is the
--   deepest allowed; a group inside a group inside a group is refused.
-- * `starting_after_paging`: { per_page = integer, starting_after = string|null }; the search
--   operations document a maximum of 150 per page (POST /conversations/search).

local misuse = require "intercom.misuse"

---@class intercom.query
local _M = {}

--- The most AND/OR groups on any path from the root ("max 2 nested filters").
_M.MAX_DEPTH = 2
--- The most members in one AND/OR group ("max 15 filters for each AND or OR group").
_M.MAX_GROUP_SIZE = 15
--- The largest `per_page` the search endpoints accept.
_M.MAX_PER_PAGE = 150

local null do
  local ok, core = pcall(require, "intercom.core")
  -- A NULL lightuserdata; every NULL lightuserdata (cjson.null too) compares equal to it.
  null = ok and core.null or nil
end

-- Filter operators in the order the error messages list them, and what value each one takes.
local FILTER_OPS = { "=", "!=", "IN", "NIN", "<", ">", "<=", ">=", "~", "!~", "^", "$" }
local VALUE_KIND = {
  ["="] = "eq", ["!="] = "eq",
  ["IN"] = "list", ["NIN"] = "list",
  ["<"] = "ordered", [">"] = "ordered", ["<="] = "ordered", [">="] = "ordered",
  ["~"] = "text", ["!~"] = "text", ["^"] = "text", ["$"] = "text",
}
local GROUP_OPS = { AND = true, OR = true }
local FILTER_KEYS = { field = true, operator = true, value = true }
local GROUP_KEYS = { operator = true, value = true }
local SEARCH_OPTS = { per_page = true, starting_after = true }

local FILTER_OP_LIST = table.concat(FILTER_OPS, ", ")

local function fail(path, msg)
  misuse.raise("intercom.query: " .. (path ~= "" and path or "query") .. ": " .. msg)
end

local function child(path, i)
  return (path ~= "" and path .. "." or "") .. "value[" .. i .. "]"
end

local function show(v)
  local t = type(v)
  if t == "string" then return ("%q"):format(v) end
  if t == "number" and v ~= v then return "NaN" end
  if t == "number" or t == "boolean" then return tostring(v) end
  if null ~= nil and v == null then return "null" end
  return t
end

local function finite(n)
  return n == n and n ~= math.huge and n ~= -math.huge
end

local function is_scalar(v)
  local t = type(v)
  return t == "string" or t == "boolean" or (t == "number" and finite(v))
end

-- The length of `t` if it is a proper sequence 1..n (nothing else in it), else nil. Raw access only:
-- this is what the JSON encoder will see.
local function sequence_length(t)
  local n = 0
  for k in next, t do
    if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then return nil end
    n = n + 1
  end
  for i = 1, n do
    if rawget(t, i) == nil then return nil end
  end
  return n
end

local function check_keys(node, allowed, path, what)
  for k in next, node do
    if not allowed[k] then
      local keys = what == "group" and "operator, value" or "field, operator, value"
      fail(path, ("unknown key %s in a %s; expected %s"):format(
        type(k) == "string" and ("%q"):format(k) or tostring(k), what, keys))
    end
  end
end

local function check_value(op, value, path, field)
  local kind = VALUE_KIND[op]
  local where = (" (field %q)"):format(field)
  if value == nil then
    if kind == "eq" then
      fail(path, ("operator %q needs a value; use intercom.null to test for an unset attribute%s")
        :format(op, where))
    end
    fail(path, ("operator %q needs a value%s"):format(op, where))
  end
  if kind == "eq" then
    if not (is_scalar(value) or (null ~= nil and value == null)) then
      fail(path, ("operator %q needs a string, number, boolean or intercom.null, got %s%s")
        :format(op, show(value), where))
    end
  elseif kind == "ordered" then
    local t = type(value)
    if not ((t == "number" and finite(value)) or t == "string") then
      fail(path, ("operator %q needs a number or a string (a timestamp), got %s%s"):format(op, show(value), where))
    end
  elseif kind == "text" then
    if type(value) ~= "string" then
      fail(path, ("operator %q needs a string, got %s%s"):format(op, show(value), where))
    end
  else -- list
    if type(value) ~= "table" then
      fail(path, ("%s needs an array of values, got %s%s"):format(op, show(value), where))
    end
    local n = sequence_length(value)
    if n == nil then
      fail(path, ("%s needs an array of values (a sequence 1..n), got a table with other keys%s")
        :format(op, where))
    end
    if n == 0 then
      fail(path, ("%s needs at least one value%s"):format(op, where))
    end
    for i = 1, n do
      local v = value[i]
      if not is_scalar(v) then
        fail(path, ("%s value[%d] must be a string, number or boolean, got %s%s"):format(op, i, show(v), where))
      end
    end
  end
end

local check_node

local function check_filter(node, path)
  check_keys(node, FILTER_KEYS, path, "filter")
  local field, op = node.field, node.operator
  if type(field) ~= "string" or field == "" then
    fail(path, ("field must be a non-empty string, got %s"):format(show(field)))
  end
  if op == nil then
    fail(path, ("operator is missing (field %q); expected one of %s"):format(field, FILTER_OP_LIST))
  end
  if not VALUE_KIND[op] then
    local hint = GROUP_OPS[op] and " (AND/OR make a group, which has no field)" or ""
    fail(path, ("unknown operator %s; expected one of %s%s"):format(show(op), FILTER_OP_LIST, hint))
  end
  check_value(op, node.value, path, field)
end

local function check_group(node, path, depth, strict)
  check_keys(node, GROUP_KEYS, path, "group")
  if depth > _M.MAX_DEPTH then
    fail(path, ("nesting deeper than %d levels: a group (%s) inside a group inside a group; "
      .. "Intercom allows at most %d nested levels of AND/OR"):format(_M.MAX_DEPTH, node.operator, _M.MAX_DEPTH))
  end
  local members = node.value
  if type(members) ~= "table" then
    fail(path, ("an %s group needs an array of filters or groups as its value, got %s")
      :format(node.operator, show(members)))
  end
  local n = sequence_length(members)
  if n == nil then
    fail(path, ("an %s group's value must be an array (a sequence 1..n) of filters or groups")
      :format(node.operator))
  end
  if n == 0 then
    fail(path, ("an %s group needs at least one filter"):format(node.operator))
  end
  if n > _M.MAX_GROUP_SIZE then
    fail(path, ("more than %d filters in one group: this %s group has %d; split it into nested groups")
      :format(_M.MAX_GROUP_SIZE, node.operator, n))
  end
  local groups, filters = 0, 0
  for i = 1, n do
    local m = members[i]
    if type(m) == "table" and m.field == nil and GROUP_OPS[m.operator] then groups = groups + 1
    else filters = filters + 1 end
    check_node(m, child(path, i), depth, strict)
  end
  if strict and groups > 0 and filters > 0 then
    fail(path, ("this %s group mixes %d nested group(s) and %d filter(s): from API version 2.13 a group "
      .. "holds either groups or filters; wrap the filters in a group of their own"):format(node.operator,
      groups, filters))
  end
end

-- depth: the number of groups above `node`; strict: the 2.13+ rule (no group mixing groups and filters).
check_node = function(node, path, depth, strict)
  if type(node) ~= "table" then
    fail(path, ("expected a filter or a group (a table), got %s"):format(show(node)))
  end
  local op = node.operator
  if node.field == nil and GROUP_OPS[op] then
    return check_group(node, path, depth + 1, strict)
  end
  if node.field == nil and op ~= nil and not VALUE_KIND[op] then
    fail(path, ("unknown operator %s; expected AND or OR for a group, or one of %s for a filter")
      :format(show(op), FILTER_OP_LIST))
  end
  return check_filter(node, path)
end

--- Checks a query (a filter or a group, built here or written by hand in Intercom's wire format) by the
--- rules of API `version` (default "2.12"; the search operations pass the version of the call).
--- Returns true, or raises an error naming the bad node, e.g.
--- `intercom.query: value[2].value[1]: unknown operator "=="; expected one of =, !=, IN, ...`.
--- From 2.13 an AND/OR group holds either groups or filters, not both (the spec's search schema).
---@param query table
---@param version? string
---@return boolean
function _M.validate(query, version)
  if version ~= nil and not require("intercom.operations_list").rank(version) then
    misuse.raise("intercom.query.validate: version must be one of intercom.VERSIONS (\"2.12\" .. \"2.16\"), got "
      .. (type(version) == "string" and ("%q"):format(version) or type(version)))
  end
  check_node(query, "", 0, version ~= nil and version ~= "2.12")
  return true
end

local function filter(op, field, value)
  local node = { field = field, operator = op, value = value }
  check_filter(node, "")
  return node
end

local function list_filter(op, field, list)
  local node = { field = field, operator = op, value = list }
  check_filter(node, "")
  local copy = {}                                   -- a plain array, and a snapshot of what was checked
  local i = 1
  while rawget(list, i) ~= nil do copy[i] = rawget(list, i); i = i + 1 end
  node.value = copy
  return node
end

--- `field = value`. `value` may be `intercom.null` to find records where the attribute is unset.
---@param field string
---@param value string|number|boolean|lightuserdata
---@return table filter `{field = field, operator = "=", value = value}`
function _M.eq(field, value) return filter("=", field, value) end

--- `field != value`. `value` may be `intercom.null` to find records where the attribute is set.
---@param field string
---@param value string|number|boolean|lightuserdata
---@return table filter `{field = field, operator = "!=", value = value}`
function _M.ne(field, value) return filter("!=", field, value) end

--- `field < value` (integers, and dates as UNIX timestamps; a number or a string).
---@param field string
---@param value number|string
---@return table filter `{field = field, operator = "<", value = value}`
function _M.lt(field, value) return filter("<", field, value) end

--- `field > value` (integers, and dates as UNIX timestamps; a number or a string).
---@param field string
---@param value number|string
---@return table filter `{field = field, operator = ">", value = value}`
function _M.gt(field, value) return filter(">", field, value) end

--- `field <= value`. The spec allows it on Integer fields (and on tickets' `created_at`), not on dates.
---@param field string
---@param value number|string
---@return table filter `{field = field, operator = "<=", value = value}`
function _M.le(field, value) return filter("<=", field, value) end

--- `field >= value`. The spec allows it on Integer fields (and on tickets' `created_at`), not on dates.
---@param field string
---@param value number|string
---@return table filter `{field = field, operator = ">=", value = value}`
function _M.ge(field, value) return filter(">=", field, value) end

--- `field` contains the string `value` (operator `~`).
---@param field string
---@param value string
---@return table filter `{field = field, operator = "~", value = value}`
function _M.contains(field, value) return filter("~", field, value) end

--- `field` does not contain the string `value` (operator `!~`).
---@param field string
---@param value string
---@return table filter `{field = field, operator = "!~", value = value}`
function _M.not_contains(field, value) return filter("!~", field, value) end

--- `field` starts with the string `value` (operator `^`).
---@param field string
---@param value string
---@return table filter `{field = field, operator = "^", value = value}`
function _M.starts_with(field, value) return filter("^", field, value) end

--- `field` ends with the string `value` (operator `$`).
---@param field string
---@param value string
---@return table filter `{field = field, operator = "$", value = value}`
function _M.ends_with(field, value) return filter("$", field, value) end

--- `field` is one of the values (operator `IN`); `list` is a non-empty array of strings/numbers/booleans.
---@param field string
---@param list (string|number|boolean)[]
---@return table filter `{field = field, operator = "IN", value = {...}}` (a copy of `list`)
function _M.is_in(field, list) return list_filter("IN", field, list) end

--- `field` is none of the values (operator `NIN`); `list` is a non-empty array of strings/numbers/booleans.
---@param field string
---@param list (string|number|boolean)[]
---@return table filter `{field = field, operator = "NIN", value = {...}}` (a copy of `list`)
function _M.not_in(field, list) return list_filter("NIN", field, list) end

local function group(op, ...)
  local n = select("#", ...)
  local first = ...
  local members = {}
  if n == 1 and type(first) == "table" and first.operator == nil and first.field == nil then
    -- one array of members: q.all{ f1, f2 } (an empty table is an empty group, refused below)
    local len = sequence_length(first)
    if len == nil then
      fail("", ("%s takes filters and groups, or one array of them; got a table that is neither")
        :format(op == "AND" and "all" or "any"))
    end
    for i = 1, len do members[i] = first[i] end
  else
    for i = 1, n do
      local m = select(i, ...)
      if m == nil then fail(child("", i), "expected a filter or a group, got nil") end
      members[i] = m
    end
  end
  local node = { operator = op, value = members }
  check_node(node, "", 0)
  return node
end

--- Every member matches: `{operator = "AND", value = {...}}`. Takes filters/groups as arguments or one
--- array of them. At most 15 members, and at most 2 levels of groups in all.
---@param ... table|table[]
---@return table group
function _M.all(...) return group("AND", ...) end

--- At least one member matches: `{operator = "OR", value = {...}}`. Takes filters/groups as arguments or
--- one array of them. At most 15 members, and at most 2 levels of groups in all.
---@param ... table|table[]
---@return table group
function _M.any(...) return group("OR", ...) end

---@class intercom.query.SearchOpts
---@field per_page integer|nil 1..150
---@field starting_after string|nil the cursor from the previous page's `pages.next.starting_after`

--- The whole body of a search request: `{query = query, pagination = {per_page, starting_after}}`
--- (`pagination` only when `opts` gives one of them). Validates the query and the options.
---@param query table a filter or a group
---@param opts intercom.query.SearchOpts|nil
---@return table body
function _M.search(query, opts)
  check_node(query, "", 0)
  local body = { query = query }
  if opts == nil then return body end
  if type(opts) ~= "table" then
    misuse.raise(("intercom.query: search options must be a table, got %s"):format(type(opts)))
  end
  for k in next, opts do
    if not SEARCH_OPTS[k] then
      misuse.raise(("intercom.query: unknown search option %s; expected per_page, starting_after")
        :format(type(k) == "string" and ("%q"):format(k) or tostring(k)))
    end
  end
  local per_page, cursor = opts.per_page, opts.starting_after
  if per_page ~= nil then
    if type(per_page) ~= "number" or per_page ~= math.floor(per_page)
        or per_page < 1 or per_page > _M.MAX_PER_PAGE then
      misuse.raise(("intercom.query: per_page must be an integer from 1 to %d, got %s")
        :format(_M.MAX_PER_PAGE, tostring(per_page)))
    end
  end
  if per_page ~= nil and math.tointeger then per_page = math.tointeger(per_page) end   -- 10.0 -> 10
  if cursor ~= nil and type(cursor) ~= "string" then
    misuse.raise(("intercom.query: starting_after must be a string (a cursor), got %s"):format(show(cursor)))
  end
  if per_page ~= nil or cursor ~= nil then
    body.pagination = { per_page = per_page, starting_after = cursor }
  end
  return body
end

return _M
