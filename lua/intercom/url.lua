-- URLs: path templates with percent-encoded parameters, and query strings.
--
-- A path parameter is always exactly one path segment: everything outside RFC 3986's unreserved set is
-- encoded, so an id like "../admins" or "a b?c#d" cannot change the path, add a query or a fragment.

local core = require "intercom.core"

local _M = {}

local url_escape = core.url_escape

--- Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
function _M.escape(s)
  return url_escape(s)   -- in C: it runs for every path parameter (src/escape.c)
end

--- "." and ".." are unreserved, yet a server would resolve them as dot-segments: encode them too.
local function escape_segment(s)
  if s == "." or s == ".." then return (string.gsub(s, "%.", "%%2E")) end
  return url_escape(s)
end

--- Names of the `{param}`s of a path template, in order.
function _M.path_params(template)
  local names = {}
  for name in string.gmatch(template, "{([%w_]+)}") do names[#names + 1] = name end
  return names
end

--- Compiles a path template once: returns a function(v1, v2, ...) that fills its `{param}`s, in the
--- order they appear, from already validated strings, each percent-encoded as one segment.
function _M.compile(template)
  local parts, names = {}, {}
  local pos = 1
  for s, name, e in string.gmatch(template, "(){([%w_]+)}()") do
    parts[#parts + 1] = template:sub(pos, s - 1)
    names[#names + 1] = name
    pos = e
  end
  local tail = template:sub(pos)
  if #names == 0 then return function() return template end end
  if #names == 1 then
    local head = parts[1]
    return function(v1) return head .. escape_segment(v1) .. tail end
  end
  if #names == 2 then
    local head, mid = parts[1], parts[2]
    return function(v1, v2) return head .. escape_segment(v1) .. mid .. escape_segment(v2) .. tail end
  end
  return function(...)
    local values, out = { ... }, {}
    for i = 1, #names do
      out[#out + 1] = parts[i]
      out[#out + 1] = escape_segment(values[i])
    end
    out[#out + 1] = tail
    return table.concat(out)
  end
end

-- Integral floats print without ".0" ("2", not "2.0"), so page=2.0 reads as page=2.
local function scalar_string(v)
  if type(v) == "number" and v == math.floor(v) and v > -2^63 and v < 2^63 then
    return string.format("%d", v)
  end
  return tostring(v)
end

--- Builds "a=1&b=x%20y" from a table of scalars or arrays of scalars; keys sorted so that a request is
--- the same bytes every time. Returns "" for an empty table.
function _M.query_string(params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = params[k]
    if type(v) == "table" then
      for _, item in ipairs(v) do
        parts[#parts + 1] = _M.escape(k) .. "=" .. _M.escape(scalar_string(item))
      end
    else
      parts[#parts + 1] = _M.escape(k) .. "=" .. _M.escape(scalar_string(v))
    end
  end
  return table.concat(parts, "&")
end

-- Run once per operation while the resource methods are built: compiling traces for them would cost
-- LuaJIT more than interpreting them (the closures `compile` returns are not affected).
if jit then
  jit.off(_M.path_params)
  jit.off(_M.compile)
end

return _M
