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
--
-- lua-resty-http reads with receive(n) and receive("*l"), whose timers restart whenever a byte arrives, and
-- it reads the head without a size limit. So the exchange runs in a light thread beside a timer thread,
-- and whichever ends first wins: past the attempt's `timeout` the exchange is killed (its socket closed
-- with it) and the call gets a timeout error naming the phase it was in. The head is checked against the
-- same limits as the own client's once lua-resty-http has read it, and a Content-Length that is not one
-- number is refused (lua-resty-http would read such a body up to the close and return what came).

local MAX_HEAD_BYTES, MAX_HEADERS = ngx_http.MAX_HEAD_BYTES, ngx_http.MAX_HEADERS

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

-- The head lua-resty-http read: nil, or what is wrong with it.
local function head_problem(headers)
  local bytes, count = 0, 0
  for name, value in pairs(headers) do
    for _, v in ipairs(type(value) == "table" and value or { value }) do
      count = count + 1
      bytes = bytes + #tostring(name) + #tostring(v) + 4
    end
  end
  if count > MAX_HEADERS then return "the response has more than " .. MAX_HEADERS .. " header lines" end
  if bytes > MAX_HEAD_BYTES then return "the response head is larger than " .. MAX_HEAD_BYTES .. " bytes" end
  return nil
end

-- The body length lua-resty-http will go by: nil (chunked or none), a number, or false and the problem.
local function content_length(headers)
  local te = headers["Transfer-Encoding"]
  if te then return nil end
  local cl = headers["Content-Length"]
  if cl == nil then return nil end
  local n
  for _, v in ipairs(type(cl) == "table" and cl or { cl }) do
    for part in tostring(v):gmatch("[^,]+") do
      local x = part:match("^%s*(%d+)%s*$")
      if not x or #x > 15 or (n and tonumber(x) ~= n) then
        return false, "invalid Content-Length " .. (type(cl) == "table" and table.concat(cl, ", ") or cl)
      end
      n = tonumber(x)
    end
  end
  return n
end

-- A download's receiver may raise (a sink or progress function of the caller's): the raise is noted, to
-- be raised again by resty_request in the caller's thread, as the curl transport does.
local function receiver_call(state, method, ...)
  local receiver = state.req.receiver
  local ok, a, b, c = pcall(receiver[method], receiver, ...)
  if not ok then
    state.raised = a
    error(a, 0)
  end
  return a, b, c
end

-- One exchange through lua-resty-http's streaming interface (connect, send_request, read_response,
-- body_reader, set_keepalive), which tells a failed connect (nothing sent) from a failure after sending.
-- `state` records the phase and the client, for the watchdog.
local function resty_exchange(http, req, cfg, state)
  local scheme, host, port, target, authority = ngx_http.parse_url(req.url)
  if not scheme then                  -- it would be refused again: not worth a retry
    return nil, { kind = "network", message = "unsupported URL (only http:// and https://)", sent = false,
                  retryable = false }
  end
  local httpc = http.new()
  state.httpc = httpc
  local t = math.floor((req.timeout or 30) * 1000)
  local ct = math.floor(math.min(req.connect_timeout or t / 1000, req.timeout or 30) * 1000)
  httpc:set_timeouts(ct, t, t)
  state.phase = "connect to " .. host .. ":" .. port
  local ok, err = httpc:connect{ scheme = scheme, host = host, port = port, ssl_verify = cfg.verify,
                                 ssl_server_name = host, pool_size = cfg.pool_size }
  if not ok then return resty_io_fail(err, state.phase, false) end
  local headers = { Host = authority }
  for _, line in ipairs(req.headers or {}) do
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name and value ~= "" then headers[name] = value end
  end
  local m = req.method
  if req.body or m == "POST" or m == "PUT" or m == "PATCH" then
    headers["Content-Length"] = tostring(#(req.body or ""))
  end
  local params = { method = m, path = target, headers = headers, body = req.body or (headers["Content-Length"] and "") }
  state.phase, state.sent = "sending the request", true
  local sent, serr = httpc:send_request(params)
  if not sent then httpc:close(); return resty_io_fail(serr, state.phase, true) end
  state.phase = "reading the response head"
  local res, rerr
  for _ = 1, 10 do                    -- 1xx interim answers (lua-resty-http returns them as answers)
    res, rerr = httpc:read_response(params)
    if not res or res.status >= 200 or res.status == 101 then break end
  end
  if not res then httpc:close(); return resty_io_fail(rerr, state.phase, true) end
  if res.status < 200 then
    httpc:close()
    return resty_fail("network", state.phase .. ": too many 1xx answers", true)
  end
  local problem = head_problem(res.headers)
  if problem then httpc:close(); return resty_fail("network", state.phase .. ": " .. problem, true) end
  state.phase = "reading the response body"
  local length, lerr = content_length(res.headers)
  if length == false then httpc:close(); return resty_fail("network", state.phase .. ": " .. lerr, true) end
  local receiving = req.receiver and res.status >= 200 and res.status < 300
  local limit = not receiving and req.max_response_bytes or nil
  if limit and length and length > limit then
    httpc:close()
    return resty_fail("too_large", state.phase .. ": the body is larger than max_response_bytes (" .. limit
      .. " bytes): Content-Length " .. length, true)
  end
  local headers_out = lower_headers(res.headers)
  if receiving then                   -- a download: the body goes to the receiver as it arrives
    local started, start_err = receiver_call(state, "start", res.status, headers_out)
    if not started then
      httpc:close()
      return nil, { kind = "network", message = start_err, sent = true, retryable = false }
    end
  end
  local chunks, size = {}, 0
  local reader = res.body_reader
  while reader do
    local chunk, cerr = reader(65536)
    if cerr then
      httpc:close()
      local _, e = resty_io_fail(cerr, state.phase, true)
      if receiving then e.retryable = req.receiver:restartable() end
      return nil, e
    end
    if not chunk then break end
    size = size + #chunk
    if receiving then
      local written, werr, kind = receiver_call(state, "write", chunk)
      if not written then
        httpc:close()
        return nil, { kind = kind or "network", message = state.phase .. ": " .. tostring(werr), sent = true,
                      retryable = false }
      end
    elseif limit and size > limit then
      httpc:close()
      return resty_fail("too_large", state.phase .. ": the body is larger than max_response_bytes ("
        .. limit .. " bytes)", true)
    else
      chunks[#chunks + 1] = chunk
    end
  end
  httpc:set_keepalive(cfg.keepalive_timeout * 1000, cfg.pool_size)
  return { status = res.status, headers = headers_out, body = not receiving and table.concat(chunks) or nil }
end

local function run_exchange(http, req, cfg, state)
  return "done", resty_exchange(http, req, cfg, state)
end

local function sleep_until_timeout(seconds)
  ngx_global().sleep(seconds)
end

local function resty_request(http, req, cfg)
  local ngx = ngx_global()
  local state = { phase = "connect", sent = false, req = req }
  -- the attempt's bound: `timeout`, or for a download (whose `timeout` is an idle one, which
  -- lua-resty-http's own timeouts give) the optional total `deadline`
  local timeout = req.timeout or 30
  if req.receiver then
    timeout = req.deadline
    if not timeout then
      local ok, res, err = pcall(resty_exchange, http, req, cfg, state)
      if ok then return res, err end
      if state.httpc then pcall(state.httpc.close, state.httpc) end
      if state.raised ~= nil then error(state.raised, 0) end
      return resty_fail("network", state.phase .. ": " .. tostring(res), state.sent)
    end
  end
  local worker = ngx.thread.spawn(run_exchange, http, req, cfg, state)
  local timer = ngx.thread.spawn(sleep_until_timeout, timeout)
  local ok, tag, res, err = ngx.thread.wait(worker, timer)
  if ok and tag == "done" then
    ngx.thread.kill(timer)
    return res, err
  end
  ngx.thread.kill(worker)             -- a no-op when it raised; otherwise closes its socket
  ngx.thread.kill(timer)
  if state.httpc then pcall(state.httpc.close, state.httpc) end
  if state.raised ~= nil then error(state.raised, 0) end   -- the caller's receiver raised
  if not ok then                      -- lua-resty-http raised: the answer broke it somehow
    return resty_fail("network", state.phase .. ": " .. tostring(tag), state.sent)
  end
  return resty_fail("timeout", state.phase .. ": timed out (the attempt's " .. (req.receiver and "deadline"
    or "timeout") .. " of " .. timeout .. " s)", state.sent)
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
---@param req table method, url, headers, body, timeout, connect_timeout, max_response_bytes, receiver, deadline
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
