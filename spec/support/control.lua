--- Client for the test server's control API (spec/support/test_server.py).
--- Deliberately independent of the intercom library: LuaSocket + lua-cjson only, so a broken transport
--- cannot hide behind a broken test harness. Works in Lua 5.4 and LuaJIT.
---
---   local control = require "support.control"
---   control.reset()
---   control.enqueue{ status = 404, json = { type = "error.list", errors = { { code = "not_found" } } } }
---   ... exercise the code under test against control.url() ...
---   local req = control.last()      -- {method, path, query, target, headers, body, time, conn}
local http = require "socket.http"
local ltn12 = require "ltn12"
local mime = require "mime"
local cjson = require "cjson"

local _M = {}

local tointeger = math.tointeger -- nil in LuaJIT

-- Set while a function of a control.at(url) table runs: the server it talks to instead of the default.
local current_base

--- The base URL of the running test server (from INTERCOM_TEST_SERVER, set by spec/run.sh).
---@return string
function _M.url()
  if current_base then return current_base end
  local url = os.getenv("INTERCOM_TEST_SERVER")
  if url == nil or url == "" then
    error("INTERCOM_TEST_SERVER is not set: run the tests through `bash spec/run.sh` or `make test`, "
      .. "which start spec/support/test_server.py", 2)
  end
  return (url:gsub("/+$", ""))
end

-- cjson on Lua 5.4 decodes every number as a float; make integral ones integers so that
-- assert.equal(3, stats.total) and string formatting behave as the server meant.
local function normalize(v)
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = normalize(x) end
    return v
  end
  if type(v) == "number" and tointeger then
    return tointeger(v) or v
  end
  return v
end

local function call(method, name, payload)
  local url = _M.url() .. "/__control/" .. name
  local body = payload
  local chunks = {}
  local ok, code = http.request{
    url = url,
    method = method,
    headers = body and {
      ["content-type"] = "application/json",
      ["content-length"] = tostring(#body),
    } or nil,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  if not ok then
    error(("test server control %s %s failed: %s"):format(method, url, tostring(code)), 3)
  end
  local text = table.concat(chunks)
  if code ~= 200 then
    error(("test server control %s %s answered %s: %s"):format(method, name, tostring(code), text), 3)
  end
  local decoded_ok, value = pcall(cjson.decode, text)
  if not decoded_ok then
    error(("test server control %s %s: invalid JSON answer: %s"):format(method, name, text), 3)
  end
  return normalize(value)
end

-- Scripts travel as JSON, which cannot carry arbitrary bytes: send every body as base64 so that
-- binary and non-UTF-8 bodies reach the server byte for byte.
local function prepare(script)
  if type(script) ~= "table" then
    error("a test server script must be a table, got " .. type(script), 3)
  end
  local copy = {}
  for k, v in pairs(script) do copy[k] = v end
  if type(copy.body) == "string" then
    copy.body_base64 = (mime.b64(copy.body)) or ""
    copy.body = nil
  end
  if type(copy.raw) == "string" then        -- raw: the whole answer, bytes as given (raw_base64)
    copy.raw_base64 = (mime.b64(copy.raw)) or ""
    copy.raw = nil
  end
  return copy
end

local function is_list(t)
  return type(t) == "table" and t[1] ~= nil
end

--- Clears the queue, the default script, the recorded requests and the stats.
function _M.reset()
  call("POST", "reset")
end

--- Appends one script, or a list of scripts, to the queue.
---@param scripts table
function _M.enqueue(scripts)
  local payload
  if is_list(scripts) then
    local list = {}
    for i, s in ipairs(scripts) do list[i] = prepare(s) end
    payload = cjson.encode(list)
  else
    payload = cjson.encode(prepare(scripts))
  end
  return call("POST", "enqueue", payload)
end

--- Sets the script used when no queued script matches; nil clears it.
---@param script table|nil
function _M.default(script)
  return call("POST", "default", script == nil and "null" or cjson.encode(prepare(script)))
end

--- Every recorded request in arrival order: {method, path, query, target, headers, body, time, conn}.
--- `body` holds the exact bytes received.
---@return table[]
function _M.requests()
  local list = call("GET", "requests")
  for _, r in ipairs(list) do
    if type(r.body_base64) == "string" then
      r.body = (mime.unb64(r.body_base64)) or ""
    end
  end
  return list
end

--- The last recorded request, or nil.
---@return table|nil
function _M.last()
  local list = _M.requests()
  return list[#list]
end

--- {open, max_open, total, connections, accepted, queued}
---@return table
function _M.stats()
  return call("GET", "stats")
end

--- Makes the server enforce a rate limit like Intercom's: `limit` requests per window of `window` whole
--- seconds; every answer carries X-RateLimit-* and Date, and a request over the limit gets a 429. nil switches
--- it off. `extra`: clock_offset (seconds the server's clock is ahead), reset_ms (Reset in milliseconds).
---@param limit integer|nil
---@param window integer|nil
---@param extra table|nil
function _M.rate_limit(limit, window, extra)
  if limit == nil then return call("POST", "ratelimit", "null") end
  local cfg = { limit = limit, window = window or 1 }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return call("POST", "ratelimit", cjson.encode(cfg))
end

local function pack(...) return { n = select("#", ...), ... } end

--- The same control functions for another test server (one a spec started itself, see support.servers).
---@param base string the server's base URL
---@return table
function _M.at(base)
  local bound = {}
  for name, fn in pairs(_M) do
    if name ~= "at" then
      bound[name] = function(...)
        local saved = current_base
        current_base = (base:gsub("/+$", ""))
        local res = pack(pcall(fn, ...))
        current_base = saved
        if not res[1] then error(res[2], 2) end
        return (table.unpack or unpack)(res, 2, res.n)
      end
    end
  end
  return bound
end

return _M
