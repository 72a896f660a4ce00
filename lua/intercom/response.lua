-- Turning what a transport returned into `result, err, response` (DESIGN.md, "Results and errors").

local core = require "intercom.core"
local errors = require "intercom.errors"

local _M = {}

---@class intercom.RateLimit
---@field limit integer|nil      requests allowed per window (X-RateLimit-Limit)
---@field remaining integer|nil  requests left in this window (X-RateLimit-Remaining)
---@field reset integer|nil      epoch second when the window resets (X-RateLimit-Reset)

---@class intercom.Response
---@field status integer
---@field headers table<string,string>  lowercase names
---@field request_id string|nil
---@field rate_limit intercom.RateLimit
---@field attempts integer               how many times the request was sent

local tointeger = math.tointeger   -- nil on LuaJIT

local function int(v)
  if v == nil then return nil end
  local n = tonumber(v)
  if n and tointeger then return tointeger(n) or n end
  return n
end

--- The rate-limit state a response reports.
function _M.rate_limit(headers)
  return {
    limit = int(headers["x-ratelimit-limit"]),
    remaining = int(headers["x-ratelimit-remaining"]),
    reset = int(headers["x-ratelimit-reset"]),
  }
end

local json_decode = core.json_decode
local byte, find = string.byte, string.find

--- The `response` value every operation returns third. `raw`: what the transport returned (DESIGN.md,
--- "Transports": status, headers with lowercase names, body, value). The request id and the rate-limit
--- state are read here, in Lua, from the headers table every transport hands over: they are Intercom's
--- headers, which the C core knows nothing of.
function _M.meta(raw, attempts)
  local headers = raw.headers or {}
  return {
    status = raw.status,
    headers = headers,
    request_id = headers["x-request-id"],
    rate_limit = _M.rate_limit(headers),
    attempts = attempts,
  }
end

local REASONS = {
  [301] = "Moved Permanently", [302] = "Found", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict", [415] = "Unsupported Media Type",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests", [500] = "Internal Server Error",
  [502] = "Bad Gateway", [503] = "Service Unavailable", [504] = "Gateway Timeout",
}

local function snippet(body)
  body = body:gsub("%s+", " ")
  if #body > 200 then body = body:sub(1, 200) .. "..." end
  return body
end

-- Intercom's errors come as {"type":"error.list","request_id":..,"errors":[{code,message,field}]};
-- a few older endpoints answer {"type":"error","message":..}. Anything else keeps its raw body.
local function api_error(resp, decoded, call, retryable, body)
  local e = {
    kind = resp.status == 429 and "rate_limited" or "api",
    status = resp.status,
    method = call.method, path = call.path,
    attempts = resp.attempts,
    retryable = retryable,
    response = resp,
    request_id = resp.request_id,
  }
  local intercom_shape = false
  if type(decoded) == "table" then
    if type(decoded.request_id) == "string" then e.request_id = decoded.request_id end
    local list = decoded.errors
    if type(list) == "table" and type(list[1]) == "table" then
      e.errors = list
      local first = list[1]
      e.code = type(first.code) == "string" and first.code or nil
      e.message = type(first.message) == "string" and first.message or nil
      e.field = type(first.field) == "string" and first.field or nil
      if #list > 1 and e.message then e.message = e.message .. " (and " .. (#list - 1) .. " more)" end
      intercom_shape = true
    elseif type(decoded.message) == "string" then
      intercom_shape = true
      e.message = decoded.message
      e.code = type(decoded.code) == "string" and decoded.code or nil
    end
  end
  if not e.message then
    e.message = "HTTP " .. resp.status .. " " .. (REASONS[resp.status] or "")
    if body ~= "" then e.message = e.message .. ": " .. snippet(body) end
    if resp.status >= 300 and resp.status < 400 and resp.headers.location then
      e.message = e.message .. " (redirect to " .. resp.headers.location .. " not followed)"
    end
  end
  -- A conflict on create names the record that is already there ("A contact matching those details
  -- already exists with id=6329..."): kept apart, so an upsert is `update(err.existing_id, ...)`.
  if resp.status == 409 and e.message then
    e.existing_id = e.message:match("[%s(]id=([%w_%-]+)") or e.message:match("^id=([%w_%-]+)")
  end
  -- Not Intercom's own error shape (an HTML page, a proxy's or a mock's JSON such as problem+json): keep the
  -- raw body, the only place its details are.
  if not intercom_shape then e.body = body end
  return errors.new(e)
end

-- Bytes that start a JSON text: the usual body needs no pattern match to be recognized as one.
local JSON_START = {}
for c in ("[{\"-0123456789tfn"):gmatch(".") do JSON_START[c:byte()] = true end

--- Interprets a completed HTTP exchange (`resp`: its response.meta). `call`: method, path, raw (true: do
--- not decode, e.g. a download); `retryable`: whether the error, if any, is worth retrying.
--- Returns result, err (exactly one is non-nil).
function _M.interpret(raw, resp, call, retryable)
  local status = raw.status
  local ok = status >= 200 and status < 300
  local value = raw.value
  if ok and value ~= nil then return value, nil end   -- decoded by the transport (req.decode)
  local body = raw.body or ""
  if ok and (call.raw or call.text) then return body, nil end   -- a download, or a text/plain answer
  -- An operation whose documented answer is a redirect (calls:show_recording, 302 to a signed URL): the
  -- Location is the result. Nothing follows it: the token must not go to another host.
  if call.redirect and status >= 300 and status < 400 then
    local location = resp.headers.location
    if location then return { location = location, status = status }, nil end
  end
  local decoded, derr
  local first = byte(body, 1)
  if JSON_START[first] or (first and find(body, "^%s*[%[{\"%-%dtfn]")) then
    decoded, derr = json_decode(body)
  elseif first and find(body, "%S") then
    derr = "response is not JSON"
  end
  if ok then
    -- Every operation returns an object or an array: a scalar (false, null, 42, "x") is not an answer to
    -- it, and returning it would break `if not result then error(err) end` (false, nil / null, nil).
    if type(decoded) == "table" then return decoded, nil end
    if decoded ~= nil then derr = "expected a JSON object or array, got " .. (decoded == core.null and "null"
      or type(decoded) == "string" and "a string" or tostring(decoded)) end
    if not derr then return true, nil end     -- 204, or 200 with an empty body: success, nothing to return
    return nil, errors.new{
      kind = "decode", status = status, method = call.method, path = call.path, attempts = resp.attempts,
      message = "could not decode the response body: " .. tostring(derr), body = body, response = resp,
      request_id = resp.request_id, retryable = false,
    }
  end
  return nil, api_error(resp, decoded, call, retryable, body)
end

return _M
