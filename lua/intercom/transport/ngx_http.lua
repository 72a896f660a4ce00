-- A small HTTP/1.1 client over OpenResty cosockets (ngx.socket.tcp): what the ngx transport uses when
-- lua-resty-http cannot be required (DESIGN.md, "Transports").
--
-- One exchange per call: connect (or take a connection from the keep-alive pool), TLS handshake with
-- certificate and host verification and SNI on a new connection, send, read the head (skipping 1xx
-- interim responses), read the body (Content-Length, chunked, or up to the close), then put the
-- connection back into its pool when the exchange left it clean. Every step yields to nginx's event loop
-- instead of blocking the worker.
--
-- Pools are named by scheme, host, port and TLS settings, so a plain connection is never handed out
-- for TLS, nor one verified for one name for another. Timeouts: `connect_timeout` for the connect and
-- the handshake, `timeout` for the whole exchange (each send/receive gets what is left of it).

local ngx = ngx            -- luacheck: ignore 113 (nginx's global, only read when this module runs in nginx)

local _M = {}

_M.DEFAULT_POOL_SIZE = 32
_M.DEFAULT_KEEPALIVE_TIMEOUT = 60     -- seconds an idle pooled connection is kept
local CHUNK = 65536                    -- bytes per receive when streaming a body

local function now()
  ngx.update_time()
  return ngx.now()
end

local function fail(kind, message, sent)
  return nil, { kind = kind, message = message, sent = sent and true or false }
end

-- cosocket errors are short words ("timeout", "closed", "connection refused", ...)
local function io_fail(err, what, sent)
  if err == "timeout" then return fail("timeout", what .. ": timed out", sent) end
  return fail("network", what .. ": " .. tostring(err), sent)
end

--- Splits an http(s) URL into scheme, host, port, request target and the Host header value.
---@param url string
---@return string|nil scheme, string host, integer port, string target, string authority
function _M.parse_url(url)
  local scheme, rest = url:match("^(https?)://(.*)$")
  if not scheme then return nil end
  local authority, target = rest:match("^([^/?#]*)([^#]*)")
  if target == "" then target = "/" elseif target:sub(1, 1) == "?" then target = "/" .. target end
  local host, port
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^%[([%x:.]+)%]:?(%d*)$")
  else
    host, port = authority:match("^([^:@]+):?(%d*)$")
  end
  if not host or host == "" then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return scheme, host, port, target, authority
end

local function request_bytes(req, target, authority)
  local lines = { req.method .. " " .. target .. " HTTP/1.1", "Host: " .. authority }
  for _, h in ipairs(req.headers or {}) do
    if type(h) ~= "string" or h:find("[\r\n%z]") or not h:find("^[^:%s]+:") then
      error("intercom ngx transport: invalid header line " .. string.format("%q", tostring(h)), 0)
    end
    if not h:find("^[^:]+:%s*$") then lines[#lines + 1] = h end   -- "Name:" removes, as in libcurl
  end
  local body = req.body
  local m = req.method
  if body then
    lines[#lines + 1] = "Content-Length: " .. #body
  elseif m == "POST" or m == "PUT" or m == "PATCH" then
    lines[#lines + 1] = "Content-Length: 0"
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = body or ""
  return table.concat(lines, "\r\n")
end

-- The receive helpers set the socket's timeout to what is left before the deadline.
local function left_ms(deadline)
  local ms = math.floor((deadline - now()) * 1000)
  return ms > 0 and ms or nil
end

local function receive(sock, deadline, pattern)
  local ms = left_ms(deadline)
  if not ms then return nil, "timeout" end
  sock:settimeout(ms)
  return sock:receive(pattern)
end

-- Reads one response head: status, version, headers (lowercase names, repeats joined with ", ").
-- `got_any` tells whether any byte of an answer arrived (for the keep-alive replay rule).
local function read_head(sock, deadline)
  local line, err = receive(sock, deadline, "*l")
  if not line then return nil, err, false end
  local version, status = line:match("^HTTP/(%d%.%d) (%d%d%d)")
  if not status then return nil, "malformed status line", true end
  local headers, last = {}, nil
  while true do
    local h, herr = receive(sock, deadline, "*l")
    if not h then return nil, herr, true end
    if h == "" then break end
    local name, value = h:match("^([^:%s]+):%s*(.-)%s*$")
    if name then
      name = name:lower()
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
      last = name
    elseif last and h:find("^[ \t]") then                -- obs-fold: continues the previous value
      headers[last] = headers[last] .. " " .. h:match("^%s*(.-)%s*$")
    else
      return nil, "malformed header line", true
    end
  end
  return { status = tonumber(status), version = version, headers = headers }, nil, true
end

-- Body readers pass the bytes to `sink(data)` and return true, or nil and the cosocket error.
local function read_length(sock, deadline, n, sink)
  while n > 0 do
    local data, err, partial = receive(sock, deadline, math.min(n, CHUNK))
    if not data then
      if partial and partial ~= "" then sink(partial) end
      return nil, err
    end
    sink(data)
    n = n - #data
  end
  return true
end

local function read_chunked(sock, deadline, sink)
  while true do
    local line, err = receive(sock, deadline, "*l")
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "malformed chunk size line" end
    if size == 0 then
      repeat                                              -- trailers, up to the empty line
        line, err = receive(sock, deadline, "*l")
        if not line then return nil, err end
      until line == ""
      return true
    end
    local ok, rerr = read_length(sock, deadline, size, sink)
    if not ok then return nil, rerr end
    local crlf, cerr = receive(sock, deadline, 2)
    if not crlf then return nil, cerr end
    if crlf ~= "\r\n" then return nil, "malformed chunk terminator" end
  end
end

local function read_to_close(sock, deadline, sink)
  while true do
    local data, err, partial = receive(sock, deadline, CHUNK)
    if data then
      sink(data)
    else
      if partial and partial ~= "" then sink(partial) end
      if err == "closed" then return true end
      return nil, err
    end
  end
end

local function has_token(value, token)
  if not value then return false end
  for t in value:lower():gmatch("[^,%s]+") do
    if t == token then return true end
  end
  return false
end

-- Reads the body of `head`; returns ok, err, reusable (whether the connection may go back to the pool).
local function read_body(sock, deadline, method, head, sink)
  local s, h = head.status, head.headers
  if method == "HEAD" or s == 204 or s == 304 or (s >= 100 and s < 200) then return true, nil, true end
  local reusable = not has_token(h.connection, "close")
    and (head.version ~= "1.0" or has_token(h.connection, "keep-alive"))
  if h["transfer-encoding"] and has_token(h["transfer-encoding"], "chunked") then
    local ok, err = read_chunked(sock, deadline, sink)
    return ok, err, reusable
  end
  local len = h["content-length"]
  if len then
    local n = tonumber(len:match("^%s*(%d+)%s*$"))
    if not n then return nil, "invalid Content-Length " .. len end
    local ok, err = read_length(sock, deadline, n, sink)
    return ok, err, reusable
  end
  local ok, err = read_to_close(sock, deadline, sink)
  return ok, err, false
end

-- The pool of a connection: everything that makes two connections interchangeable.
local function pool_name(scheme, host, port, verify)
  local name = scheme .. "://" .. host .. ":" .. port
  if scheme == "https" then name = name .. (verify and "|verify" or "|noverify") .. "|sni=" .. host end
  return name
end

-- One attempt on one connection. Returns response | nil, err, replay (true when a reused connection
-- was closed by the server before any byte of the answer: the keep-alive race, safe to send again).
local function exchange(cfg, req, u, deadline, sink)
  local sock = ngx.socket.tcp()
  local connect_ms = math.floor(math.min(req.connect_timeout or req.timeout or 30, req.timeout or 30) * 1000)
  sock:settimeouts(connect_ms, connect_ms, connect_ms)
  local addr = cfg.resolve and cfg.resolve[u.host] or u.host
  local ok, err = sock:connect(addr, u.port, { pool = u.pool, pool_size = cfg.pool_size })
  if not ok then return io_fail(err, "connect to " .. u.host .. ":" .. u.port, false) end
  local reused = sock:getreusedtimes() or 0
  if u.scheme == "https" and reused == 0 then
    local session, herr = sock:sslhandshake(nil, u.host, cfg.verify)
    if not session then
      sock:close()
      return io_fail(herr, "TLS handshake with " .. u.host, false)
    end
  end
  local ms = left_ms(deadline)
  if not ms then sock:close(); return fail("timeout", "timed out before sending", false) end
  sock:settimeout(ms)
  local sent, serr = sock:send(u.bytes)
  if not sent then
    sock:close()
    if reused > 0 and serr ~= "timeout" then return nil, nil, true end
    return io_fail(serr, "sending the request", true)
  end
  local head, herr, got_any
  repeat                                                  -- 1xx interim answers come before the final one
    head, herr, got_any = read_head(sock, deadline)
  until not head or head.status >= 200 or head.status == 101
  if not head then
    sock:close()
    -- The request went out: replaying it is the keep-alive race fix for idempotent requests only; one
    -- that must reach the server at most once (req.idempotent == false) gets the error instead.
    if reused > 0 and not got_any and herr == "closed" and req.idempotent ~= false then return nil, nil, true end
    return io_fail(herr, "reading the response head", true)
  end
  local bok, berr, reusable = read_body(sock, deadline, req.method, head, sink)
  if not bok then
    sock:close()
    return io_fail(berr, "reading the response body", true)
  end
  if reusable then
    sock:setkeepalive(cfg.keepalive_timeout * 1000, cfg.pool_size)
  else
    sock:close()
  end
  return head
end

--- Sends one request (the transport's `req`: method, url, headers (array of "Name: value"), body,
--- timeout, connect_timeout, output_file). `cfg`: pool_size, keepalive_timeout (seconds), verify
--- (default true), resolve (host -> address to connect to, e.g. for a host nginx's resolver cannot see).
--- Returns {status, headers, body} or nil, {kind = "network"|"timeout", message, sent}.
---@param req table
---@param cfg table|nil
---@return table|nil response
---@return table|nil err
function _M.request(req, cfg)
  cfg = cfg or {}
  local c = {
    pool_size = cfg.pool_size or _M.DEFAULT_POOL_SIZE,
    keepalive_timeout = cfg.keepalive_timeout or _M.DEFAULT_KEEPALIVE_TIMEOUT,
    verify = cfg.verify ~= false,
    resolve = cfg.resolve,
  }
  local scheme, host, port, target, authority = _M.parse_url(req.url)
  if not scheme then
    return fail("network", "unsupported URL (only http:// and https:// are supported)", false)
  end
  local u = { scheme = scheme, host = host, port = port, pool = pool_name(scheme, host, port, c.verify),
              bytes = request_bytes(req, target, authority) }
  local deadline = now() + (req.timeout or 30)

  local file, chunks, sink
  if req.output_file then
    local ferr
    file, ferr = io.open(req.output_file, "wb")
    if not file then return fail("network", "cannot open output file: " .. tostring(ferr), false) end
    sink = function(data) file:write(data) end
  else
    chunks = {}
    sink = function(data) chunks[#chunks + 1] = data end
  end

  local head, err, replay
  for attempt = 1, 2 do
    if chunks then chunks = {} end          -- the sink appends to whichever table `chunks` holds
    head, err, replay = exchange(c, req, u, deadline, sink)
    if not replay or attempt == 2 then break end
  end
  if file then
    local closed, cerr = file:close()
    if head and not closed then return fail("network", "output file: " .. tostring(cerr), true) end
  end
  if replay then return fail("network", "the server closed the connection without answering", true) end
  if not head then return nil, err end
  return { status = head.status, headers = head.headers, body = chunks and table.concat(chunks) or nil }
end

return _M
