-- Error objects: what a failed request returns as its second value (DESIGN.md, "Results and errors").
--
-- Every error carries enough to act on: what kind of failure, the HTTP status, Intercom's own code and
-- message, the request id to quote to Intercom support, whether retrying could help, and the response.
-- It never carries the token: nothing here ever sees request headers, and `redact` removes it from what a
-- server echoed back.

---@class intercom.ErrorObject
---@field kind "api"|"network"|"timeout"|"decode"|"rate_limited"|"too_large"
---@field status integer|nil      HTTP status, nil when no response arrived
---@field code string|nil         Intercom's error code, e.g. "not_found"
---@field message string          human-readable summary
---@field field string|nil        the request field Intercom complained about, if any
---@field request_id string|nil   Intercom's request id (body or X-Request-Id)
---@field errors table|nil        Intercom's full `errors` list
---@field retryable boolean       whether the same request could succeed later
---@field attempts integer        how many times the request was sent
---@field method string           HTTP method of the request
---@field path string             path of the request (no query string, no host)
---@field body string|nil         raw response body, kept for decode errors and non-JSON answers
---@field response intercom.Response|nil
---@field sent boolean|nil        transport failures: whether the request may have reached the server
---@field curl_code integer|nil   transport failures of the curl transport: libcurl's CURLcode
---@field existing_id string|nil  a 409 conflict whose message names the existing record ("id=...")
---@field job table|nil           data_export:wait: the last job seen
---@field where string|nil        raised errors: "file:line" of the first caller outside the library
---@field traceback string|nil    raised errors: the stack where it was raised (debug.traceback)

local misuse = require "intercom.misuse"

local _M = {}

-- too_large: the answer passed max_response_bytes (docs/reliability.md); never retryable
local KINDS = { api = true, network = true, timeout = true, decode = true, rate_limited = true, too_large = true }
_M.KINDS = KINDS

local Error = {}
Error.__index = Error
Error.__name = "intercom.error"
_M.Error = Error

local function describe(e)
  local parts = { "intercom " .. e.kind .. " error" }
  if e.status then parts[#parts + 1] = tostring(e.status) end
  if e.code then parts[#parts + 1] = e.code end
  local s = table.concat(parts, " ") .. ": " .. tostring(e.message)
  if e.field then s = s .. " (field " .. e.field .. ")" end
  local ctx = {}
  if e.method and e.path then ctx[#ctx + 1] = e.method .. " " .. e.path end
  if e.request_id then ctx[#ctx + 1] = "request_id " .. e.request_id end
  if e.attempts and e.attempts > 1 then ctx[#ctx + 1] = e.attempts .. " attempts" end
  if #ctx > 0 then s = s .. " [" .. table.concat(ctx, ", ") .. "]" end
  -- a raised error says where: an uncaught one under Lua 5.4 is printed as this string alone
  if e.where then s = s .. " (raised at " .. e.where .. ")" end
  return s
end

Error.__tostring = describe

--- Builds an error object; `fields.kind` and `fields.message` are required.
---@param fields table the error's fields (see intercom.ErrorObject); the table becomes the error
---@return intercom.ErrorObject
function _M.new(fields)
  assert(KINDS[fields.kind], "unknown error kind")
  fields.retryable = fields.retryable and true or false
  fields.attempts = fields.attempts or 1
  return setmetatable(fields, Error)
end

-- Shorter secrets are not redacted: replacing every "t" of a message would destroy it and hide nothing.
local MIN_SECRET = 8

local function scrub(v, pattern)
  if type(v) == "string" then return (v:gsub(pattern, "[REDACTED]")) end
  return v
end

--- Replaces every occurrence of `secret` in the error's texts: a server or proxy that echoes the request's
--- headers into its answer (debug pages, some WAF error pages) must not put the token into a log line.
--- Covers the error's own strings, Intercom's `errors` list and the response headers.
---@param err intercom.ErrorObject
---@param secret string|nil
---@return intercom.ErrorObject
function _M.redact(err, secret)
  if type(secret) ~= "string" or #secret < MIN_SECRET then return err end
  local pattern = secret:gsub("%W", "%%%0")
  for k, v in pairs(err) do err[k] = scrub(v, pattern) end
  if type(err.errors) == "table" then
    for _, e in ipairs(err.errors) do
      if type(e) == "table" then
        for k, v in pairs(e) do e[k] = scrub(v, pattern) end
      end
    end
  end
  local resp = err.response
  if type(resp) == "table" and type(resp.headers) == "table" then
    for k, v in pairs(resp.headers) do resp.headers[k] = scrub(v, pattern) end
  end
  return err
end

-- "file:line" of the first frame of `co` (nil: the running one) from `level` up that is not the
-- library's own and has a line: where the caller's code stands.
local function caller_position(co, level)
  while true do
    local info
    if co then info = debug.getinfo(co, level, "Sl") else info = debug.getinfo(level, "Sl") end
    if not info then return nil end
    if info.what ~= "C" and (info.currentline or 0) > 0 and not misuse.ours(info.source) then
      return info.short_src .. ":" .. info.currentline
    end
    level = level + 1
  end
end

--- Raises `err` from inside the library (an iterator whose page failed, ...). An error object gets
--- `where` (the caller's "file:line") and `traceback` first, so that a raised error can be traced while
--- tostring(err) stays one line; any other value is raised as it is.
---@param err any
---@return nil
function _M.raise(err)
  if getmetatable(err) == Error and not err.traceback then
    err.where = caller_position(nil, 3)
    -- a message is given ("") because LuaJIT returns a nil message as it is, with no traceback
    err.traceback = (debug.traceback("", 2):gsub("^\n", ""))
  end
  error(err, 0)
end

--- For an error object raised inside the coroutine `co` (a client:map task), which died of it: sets
--- `where` and `traceback` from the dead coroutine's stack, unless it already has them. Returns `err`.
---@param err any
---@param co thread
---@return any
function _M.traced_in(err, co)
  if getmetatable(err) == Error and not err.traceback then
    err.where = caller_position(co, 0)
    err.traceback = (debug.traceback(co, ""):gsub("^\n", ""))
  end
  return err
end

--- True when `v` is an intercom error object.
---@param v any
---@return boolean
function _M.is_error(v)
  return getmetatable(v) == Error
end

return _M
