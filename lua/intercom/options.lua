-- Option tables: checked once, copied, never mutated (DESIGN.md, "Options").
--
-- Misuse raises at once, before any request, with the option's name and, for an unknown name, the
-- closest known one ("did you mean").

local _M = {}

local REGIONS = {
  us = "https://api.intercom.io",
  eu = "https://api.eu.intercom.io",
  au = "https://api.au.intercom.io",
}
_M.REGIONS = REGIONS

-- name -> checker(value, name) that raises on a bad value and returns the value to keep.
local checkers = {}

local misuse = require "intercom.misuse"

local function fail(what, msg)
  misuse.raise(what .. ": " .. msg)
end

local function levenshtein(a, b)
  if a == b then return 0 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = (a:sub(i, i) == b:sub(j, j)) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- The known name closest to `name`, if any is close enough to be a typo.
function _M.suggest(name, known)
  local best, best_d
  for k in pairs(known) do
    local d = levenshtein(name, k)
    if (not best_d or d < best_d or (d == best_d and k < best)) then best, best_d = k, d end
  end
  if best and best_d <= math.max(2, math.floor(#name / 3)) then return best end
  return nil
end

--- A header-safe string: CR, LF and NUL would let a value smuggle extra header lines.
function _M.check_header_value(value, what)
  if type(value) ~= "string" then fail(what, "expected a string, got " .. type(value)) end
  if value:find("[\r\n%z]") then fail(what, "must not contain CR, LF or NUL characters") end
  return value
end

local function positive_number(v, name)
  if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
    fail(name, "expected a positive number of seconds, got " .. tostring(v))
  end
  return v
end

local function byte_count(v, name)
  if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v == math.huge then
    fail(name, "expected a positive integer number of bytes, got " .. tostring(v))
  end
  return v
end

local function retries(v, name)
  if type(v) ~= "number" or v < 0 or v ~= math.floor(v) or v > 100 then
    fail(name, "expected an integer from 0 to 100, got " .. tostring(v))
  end
  return v
end

local function typed(expected)
  return function(v, name)
    if type(v) ~= expected then fail(name, "expected a " .. expected .. ", got " .. type(v)) end
    return v
  end
end

local function header_string(v, name)
  return _M.check_header_value(v, name)
end

checkers.token = function(v, name)
  if type(v) == "function" then return v end
  _M.check_header_value(v, name)
  if v == "" then fail(name, "is empty") end
  return v
end

checkers.region = function(v, name)
  if not REGIONS[v] then
    fail(name, "expected \"us\", \"eu\" or \"au\", got " .. tostring(v))
  end
  return v
end

checkers.base_url = function(v, name)
  if type(v) ~= "string" or not v:match("^https?://[^/%s]+") or v:find("[%s%c]") then
    fail(name, "expected an http(s) URL like \"https://api.intercom.io\", got " .. tostring(v))
  end
  return (v:gsub("/+$", ""))
end

-- A version is a string from intercom.VERSIONS: a number cannot be one (2.10 is 2.1 to Lua), and a
-- version the operations table does not know would make every `since` check meaningless.
local VERSIONS = require("intercom.operations_list").VERSIONS
local VERSION_SET, VERSION_LIST = {}, "\"" .. table.concat(VERSIONS, "\", \"") .. "\""
for _, v in ipairs(VERSIONS) do VERSION_SET[v] = true end

checkers.version = function(v, name)
  if type(v) == "number" then
    fail(name, ("expected a string, got the number %s (write the version in quotes: one of %s)")
      :format(tostring(v), VERSION_LIST))
  end
  if not VERSION_SET[v] then
    fail(name, ("expected one of %s (intercom.VERSIONS), got %s"):format(VERSION_LIST,
      type(v) == "string" and string.format("%q", v) or type(v)))
  end
  return v
end

checkers.transport = function(v, name)
  if type(v) ~= "table" or type(v.request) ~= "function" then
    fail(name, "expected a transport table with a request method")
  end
  return v
end

-- Headers that frame the request or pick its connection belong to the transport: a caller's value would
-- be sent as given and could desynchronise a kept-alive connection (a wrong Content-Length leaves bytes
-- that the next, unrelated request reads as its answer).
local TRANSPORT_HEADERS = {
  ["content-length"] = true, ["transfer-encoding"] = true, host = true, connection = true,
}
_M.TRANSPORT_HEADERS = TRANSPORT_HEADERS

checkers.headers = function(v, name)
  if type(v) ~= "table" then fail(name, "expected a table of header names to values") end
  local copy = {}
  for k, val in pairs(v) do
    if type(k) ~= "string" or not k:match("^[%w!#$%%&'*+.^_`|~-]+$") then
      fail(name, "invalid header name " .. string.format("%q", tostring(k)))
    end
    if TRANSPORT_HEADERS[k:lower()] then
      fail(name, "the " .. k .. " header is set by the transport and cannot be given")
    end
    if type(val) == "number" then val = tostring(val) end
    copy[k] = _M.check_header_value(val, name .. "." .. k)
  end
  return copy
end

local function scalar(v)
  local t = type(v)
  return t == "string" or t == "number" or t == "boolean"
end

checkers.query = function(v, name)
  if type(v) ~= "table" then fail(name, "expected a table of query parameters") end
  local copy = {}
  for k, val in pairs(v) do
    if type(k) ~= "string" then fail(name, "query parameter names must be strings") end
    if type(val) == "table" then
      local n = 0
      for _ in pairs(val) do n = n + 1 end
      for i = 1, n do
        if not scalar(val[i]) then
          fail(name .. "." .. k, "expected a string, number, boolean or an array of them")
        end
      end
    elseif not scalar(val) then
      fail(name .. "." .. k, "expected a string, number, boolean or an array of them, got " .. type(val))
    end
    copy[k] = val
  end
  return copy
end

-- rate_limit: "auto" paces requests from the rate-limit headers (intercom.throttle); a table shares that
-- budget: { shared = "redis://HOST:PORT[/DB]" | "ngx.shared.NAME", key = ..., timeout = ..., redis = ... }
-- (docs/rate-limits.md). false is the default.
local RATE_LIMIT = {
  shared = function(v, name)
    if type(v) ~= "string" then fail(name, "expected \"redis://HOST:PORT[/DB]\" or \"ngx.shared.NAME\", got "
      .. type(v)) end
    local dict = v:match("^ngx%.shared%.(.+)$")
    if dict then
      local ngx = rawget(_G, "ngx")
      if type(ngx) ~= "table" or not ngx.shared then
        fail(name, v .. " is an nginx shared dict: it exists only inside nginx (use redis:// elsewhere)")
      end
      if not ngx.shared[dict] then fail(name, "no lua_shared_dict named " .. dict .. " in nginx.conf") end
      return v
    end
    local ok, err = require("intercom.ratelimit.redis").parse_url(v)
    if not ok then fail(name, err .. ", got " .. string.format("%q", v)) end
    return v
  end,
  key = function(v, name)
    if type(v) ~= "string" or v == "" or #v > 200 then fail(name, "expected a non-empty string") end
    return v
  end,
  timeout = positive_number,
  redis = function(v, name)
    if v ~= false and type(v) ~= "table" then fail(name, "expected a lua-resty-redis module or false") end
    return v
  end,
}

checkers.rate_limit = function(v, name)
  if type(v) == "table" then
    local copy = _M.check(v, RATE_LIMIT, name)
    if not copy.shared and (copy.timeout or copy.redis ~= nil) then
      fail(name, "timeout and redis are options of a shared budget: give shared = \"redis://...\" too")
    end
    return copy
  end
  if v ~= "auto" and v ~= false then
    fail(name, "expected \"auto\" or false, got " .. tostring(v)
      .. " (or a shared budget: { shared = \"redis://HOST:PORT\" | \"ngx.shared.NAME\" })")
  end
  return v
end

local CLIENT = {
  token = checkers.token,
  region = checkers.region,
  base_url = checkers.base_url,
  version = checkers.version,
  timeout = positive_number,
  connect_timeout = positive_number,
  max_retries = retries,
  transport = checkers.transport,
  logger = typed("function"),
  user_agent = header_string,
  proxy = typed("string"),
  ca_file = typed("string"),
  rate_limit = checkers.rate_limit,
  max_response_bytes = byte_count,
}

local REQUEST = {
  version = checkers.version,
  timeout = positive_number,
  max_retries = retries,
  headers = checkers.headers,
  query = checkers.query,
  idempotent = typed("boolean"),
  max_response_bytes = byte_count,
}

_M.CLIENT, _M.REQUEST = CLIENT, REQUEST

--- Checks a query table (the `params` argument of an operation); returns a copy.
function _M.check_query(params, what)
  return checkers.query(params, what)
end

--- Checks `opts` against `known` (name -> checker) and returns a checked copy.
--- `what` prefixes messages ("intercom.new", "contacts:find").
function _M.check(opts, known, what)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(what, "options must be a table, got " .. type(opts)) end
  local copy = {}
  for k, v in pairs(opts) do
    local checker = type(k) == "string" and known[k]
    if not checker then
      local hint = type(k) == "string" and _M.suggest(k, known)
      fail(what, "unknown option " .. string.format("%q", tostring(k))
        .. (hint and (" (did you mean \"" .. hint .. "\"?)") or ""))
    end
    copy[k] = checker(v, what .. ": option " .. k)
  end
  return copy
end

return _M
