-- The OpenResty transport: HTTP over cosockets, so a request yields to nginx's event loop instead of
-- blocking the worker (DESIGN.md, "Transports").
--
-- A client picks it by itself inside nginx (client.lua calls `for_client`): in the phases where
-- cosockets exist (rewrite, access, content, timers, the ssl_* phases) requests go through
-- lua-resty-http when it can be required, otherwise through the project's own small client
-- (transport/ngx_http.lua). In the other phases (init_by_lua, init_worker_by_lua, set_by_lua, header
-- and body filters, log) there are no cosockets: the client falls back to the blocking curl transport
-- and logs a warning once per worker.
--
-- TLS: certificates are verified and SNI is sent; nginx takes the trusted CAs from
-- `lua_ssl_trusted_certificate` (e.g. /etc/ssl/certs/ca-certificates.crt), which must be set. Connections
-- are kept alive in pools named by scheme, host, port and TLS settings.

local ngx_http = require "intercom.transport.ngx_http"

local _M = {}

--- The phases in which ngx.socket.tcp may be used (lua-nginx-module's documentation of cosockets).
_M.COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

local function ngx_global()
  return rawget(_G, "ngx")
end

--- True inside nginx in a phase where cosockets can be used.
---@return boolean
function _M.cosockets_allowed()
  local ngx = ngx_global()
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return false end
  return _M.COSOCKET_PHASES[ngx.get_phase()] == true
end

local Transport = {}
Transport.__index = Transport
Transport.__name = "intercom.transport.ngx"

-- ---- lua-resty-http backend ------------------------------------------------------------------------

local function lower_headers(h)
  local out = {}
  for name, value in pairs(h or {}) do
    if type(value) == "table" then value = table.concat(value, ", ") end
    name = tostring(name):lower()
    out[name] = out[name] and (out[name] .. ", " .. value) or value
  end
  return out
end

local function resty_fail(kind, message, sent)
  return nil, { kind = kind, message = message, sent = sent and true or false }
end

local function resty_io_fail(err, what, sent)
  if err == "timeout" or (type(err) == "string" and err:find("timeout")) then
    return resty_fail("timeout", what .. ": timed out", sent)
  end
  return resty_fail("network", what .. ": " .. tostring(err), sent)
end

-- One request through lua-resty-http's streaming interface (connect, request, read, set_keepalive),
-- which tells a failed connect (nothing sent) from a failure after sending.
local function resty_request(http, req, cfg)
  local scheme, host, port, target, authority = ngx_http.parse_url(req.url)
  if not scheme then return resty_fail("network", "unsupported URL (only http:// and https://)", false) end
  local httpc = http.new()
  local t = math.floor((req.timeout or 30) * 1000)
  local ct = math.floor(math.min(req.connect_timeout or t / 1000, req.timeout or 30) * 1000)
  httpc:set_timeouts(ct, t, t)
  local ok, err = httpc:connect{ scheme = scheme, host = host, port = port, ssl_verify = cfg.verify,
                                 ssl_server_name = host, pool_size = cfg.pool_size }
  if not ok then return resty_io_fail(err, "connect to " .. host .. ":" .. port, false) end
  local headers = { Host = authority }
  for _, line in ipairs(req.headers or {}) do
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name and value ~= "" then headers[name] = value end
  end
  if req.body then headers["Content-Length"] = tostring(#req.body) end
  local res, rerr = httpc:request{ method = req.method, path = target, headers = headers, body = req.body }
  if not res then httpc:close(); return resty_io_fail(rerr, "sending the request", true) end
  local body, berr
  if req.output_file then
    local file, ferr = io.open(req.output_file, "wb")
    if not file then
      httpc:close()
      return resty_fail("network", "cannot open output file: " .. tostring(ferr), true)
    end
    while true do
      local chunk, cerr = res.body_reader(65536)
      if cerr then berr = cerr; break end
      if not chunk then break end
      file:write(chunk)
    end
    file:close()
  else
    body, berr = res:read_body()
  end
  if berr then httpc:close(); return resty_io_fail(berr, "reading the response body", true) end
  httpc:set_keepalive(cfg.keepalive_timeout * 1000, cfg.pool_size)
  return { status = res.status, headers = lower_headers(res.headers), body = body }
end

-- ---- the transport ---------------------------------------------------------------------------------

--- Creates an ngx transport. Options (all optional): `pool_size` (connections kept per pool, default
--- 32), `keepalive_timeout` (seconds an idle connection is kept, default 60), `resolve` (host ->
--- address to connect to instead, for the own client), `http`: a lua-resty-http module to use, or
--- `false` to always use the own client (default: lua-resty-http when it can be required).
---@param opts table|nil
---@return table transport
function _M.new(opts)
  opts = opts or {}
  local http = opts.http
  if http == nil then
    local ok, m = pcall(require, "resty.http")
    http = ok and type(m) == "table" and m or false
  end
  return setmetatable({
    cfg = {
      pool_size = opts.pool_size or ngx_http.DEFAULT_POOL_SIZE,
      keepalive_timeout = opts.keepalive_timeout or ngx_http.DEFAULT_KEEPALIVE_TIMEOUT,
      resolve = opts.resolve,
      verify = true,                 -- TLS verification is always on, as in the curl transport
    },
    http = http or nil,
    backend = http and "lua-resty-http" or "intercom.transport.ngx_http",
  }, Transport)
end

--- Sends one request: returns {status, headers (lowercase names), body}, or nil and
--- {kind = "network"|"timeout", message, sent}.
---@param req table method, url, headers, body, timeout, connect_timeout, output_file
---@return table|nil response
---@return table|nil err
function Transport:request(req)
  if self.http then return resty_request(self.http, req, self.cfg) end
  return ngx_http.request(req, self.cfg)
end

--- Waits without blocking the worker (ngx.sleep yields to the event loop).
---@param seconds number
function Transport.sleep(_, seconds)
  ngx_global().sleep(seconds)
end

--- Nothing to release: idle connections belong to the worker's pools, and nginx closes them.
function Transport.close() end

-- ---- automatic choice (client.lua) -----------------------------------------------------------------

local picked = setmetatable({}, { __mode = "k" })   -- client -> its ngx transport
local picked_curl = setmetatable({}, { __mode = "k" })   -- client -> its curl fallback (in a worker)
local warned = {}

local function warn_once(key, msg)
  if warned[key] then return end
  warned[key] = true
  local ngx = ngx_global()
  ngx.log(ngx.WARN, msg)
end

-- The curl transport for a phase without cosockets. In init_by_lua (the master process, before the
-- workers are forked) each request gets its own session, closed at once: a kept-alive connection
-- would otherwise be inherited, and shared, by every worker.
local function curl_fallback(client, phase)
  local curl = require "intercom.transport.curl"
  local opts = { ca_file = client._opts.ca_file, proxy = client._opts.proxy }
  if phase == "init" then
    return {
      request = function(_, req)
        local t = curl.new(opts)
        local res, err = t:request(req)
        t:close()
        return res, err
      end,
      sleep = function(_, seconds) require("intercom.core").sleep(seconds) end,
    }
  end
  local t = picked_curl[client]
  if not t then
    t = curl.new(opts)
    picked_curl[client] = t
  end
  return t
end

--- The transport a client without an explicit one uses inside nginx, for the current phase.
---@param client intercom.Client
---@return table transport
function _M.for_client(client)
  local ngx = ngx_global()
  local phase = ngx.get_phase()
  if _M.COSOCKET_PHASES[phase] and not client._opts.proxy then
    local t = picked[client]
    if not t then
      if client._opts.ca_file then
        warn_once("ca_file", "intercom: the ca_file option is ignored in nginx: the trusted CAs come from "
          .. "lua_ssl_trusted_certificate")
      end
      t = _M.new()
      picked[client] = t
    end
    return t
  end
  if client._opts.proxy then
    warn_once("proxy", "intercom: the ngx transport does not support the proxy option; using the "
      .. "blocking curl transport, which blocks this nginx worker during every request")
  else
    warn_once("phase", "intercom: no cosockets in the " .. tostring(phase) .. " phase; using the blocking "
      .. "curl transport, which blocks this nginx worker during the request (call the API from rewrite, "
      .. "access, content or ngx.timer.at instead)")
  end
  return curl_fallback(client, phase)
end

return _M
