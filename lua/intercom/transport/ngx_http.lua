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
-- Limits on a response head, as libcurl has them: 300 KiB of header bytes in all (its
-- MAX_HTTP_RESP_HEADER_SIZE) and, well past any real server, 1000 header lines.
local MAX_HEAD_BYTES = 300 * 1024
local MAX_HEADERS = 1000
_M.MAX_HEAD_BYTES, _M.MAX_HEADERS = MAX_HEAD_BYTES, MAX_HEADERS

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

-- Reading is bounded by the attempt's deadline, not by an idle timer: a cosocket's receive(n) or
-- receive("*l") re-arms its timer whenever a byte arrives, so a server dripping one byte every half second
-- could hold a call for minutes. Every read here is one receiveany() (it returns as soon as any bytes are
-- there) with the socket's timeout set to what is left of the deadline, so the attempt ends by then.
-- Lines are cut from a small buffer; body bytes go from the buffer, then from the socket, to the sink.
local function left_ms(deadline)
  local ms = math.floor((deadline - now()) * 1000)
  return ms > 0 and ms or nil
end

-- What a read may wait: the rest of the attempt, or for a download (r.idle_ms) the idle timeout within
-- the optional total deadline.
local function wait_ms(r)
  local ms = left_ms(r.deadline)
  if ms and r.idle_ms and r.idle_ms < ms then ms = r.idle_ms end
  return ms
end

local function fill(r, max)
  local ms = wait_ms(r)
  if not ms then return nil, "timeout" end
  r.sock:settimeout(ms)
  local data, err = r.sock:receiveany(max or CHUNK)
  if not data then return nil, err end
  r.got_any = true
  if r.pos > #r.buf then
    r.buf, r.pos = data, 1
  else
    r.buf, r.pos = r.buf:sub(r.pos) .. data, 1
  end
  return true
end

-- One line without its CRLF (or LF); `budget` is the header bytes the response may still use.
local function read_line(r)
  while true do
    local i = r.buf:find("\n", r.pos, true)
    if i then
      local line = r.buf:sub(r.pos, i - 1)
      r.budget = r.budget - (i - r.pos + 1)
      if r.budget < 0 then return nil, "the response head is larger than " .. MAX_HEAD_BYTES .. " bytes" end
      r.pos = i + 1
      if line:byte(-1) == 13 then line = line:sub(1, -2) end
      return line
    end
    if #r.buf - r.pos + 1 > r.budget then
      return nil, "the response head is larger than " .. MAX_HEAD_BYTES .. " bytes"
    end
    local ok, err = fill(r)
    if not ok then return nil, err end
  end
end

-- Reads one response head: status, version, headers (lowercase names, repeats joined with ", ").
local function read_head(r)
  local line, err = read_line(r)
  if not line then return nil, err end
  local version, status = line:match("^HTTP/(%d%.%d) (%d%d%d)")
  if not status then return nil, "malformed status line" end
  local headers, last, count = {}, nil, 0
  while true do
    local h, herr = read_line(r)
    if not h then return nil, herr end
    if h == "" then break end
    count = count + 1
    if count > MAX_HEADERS then return nil, "the response has more than " .. MAX_HEADERS .. " header lines" end
    local name, value = h:match("^([^:%s]+):%s*(.-)%s*$")
    if name then
      name = name:lower()
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
      last = name
    elseif last and h:find("^[ \t]") then                -- obs-fold: continues the previous value
      headers[last] = headers[last] .. " " .. h:match("^%s*(.-)%s*$")
    else
      return nil, "malformed header line"
    end
  end
  return { status = tonumber(status), version = version, headers = headers }
end

-- Body readers pass the bytes to `sink(data)`, which returns true or nil, err, kind (a limit); they
-- return true, or nil, err (a cosocket error or a framing problem) and an error kind when not network.
local function read_length(r, n, sink)
  local have = #r.buf - r.pos + 1
  if have > 0 then
    local take = math.min(have, n)
    local ok, err, kind = sink(r.buf:sub(r.pos, r.pos + take - 1))
    if not ok then return nil, err, kind end
    r.pos = r.pos + take
    n = n - take
  end
  while n > 0 do
    local ms = wait_ms(r)
    if not ms then return nil, "timeout" end
    r.sock:settimeout(ms)
    local data, err = r.sock:receiveany(math.min(n, CHUNK))   -- never past the body: the connection stays clean
    if not data then return nil, err end
    local ok, serr, kind = sink(data)
    if not ok then return nil, serr, kind end
    n = n - #data
  end
  return true
end

local function read_chunked(r, sink)
  while true do
    local line, err = read_line(r)
    if not line then return nil, err end
    local hex = line:match("^%s*(%x+)%s*;?") or line:match("^%s*(%x+)%s*$")
    local size = hex and #hex <= 12 and tonumber(hex, 16)
    if not size then return nil, "malformed chunk size line" end
    if size == 0 then
      repeat                                              -- trailers, up to the empty line
        line, err = read_line(r)
        if not line then return nil, err end
      until line == ""
      return true
    end
    local ok, rerr, kind = read_length(r, size, sink)
    if not ok then return nil, rerr, kind end
    line, err = read_line(r)
    if not line then return nil, err end
    if line ~= "" then return nil, "malformed chunk terminator" end
  end
end

local function read_to_close(r, sink)
  if r.pos <= #r.buf then
    local ok, err, kind = sink(r.buf:sub(r.pos))
    if not ok then return nil, err, kind end
    r.pos = #r.buf + 1
  end
  while true do
    local ms = wait_ms(r)
    if not ms then return nil, "timeout" end
    r.sock:settimeout(ms)
    local data, err = r.sock:receiveany(CHUNK)
    if not data then
      if err == "closed" then return true end
      return nil, err
    end
    local ok, serr, kind = sink(data)
    if not ok then return nil, serr, kind end
  end
end

local function has_token(value, token)
  if not value then return false end
  for t in value:lower():gmatch("[^,%s]+") do
    if t == token then return true end
  end
  return false
end

-- Reads the body of `head`; returns ok, err, reusable (whether the connection may go back to the pool),
-- kind (of the error, when not network).
local function read_body(r, method, head, sink, limit)
  local s, h = head.status, head.headers
  if method == "HEAD" or s == 204 or s == 304 or (s >= 100 and s < 200) then return true, nil, true end
  local reusable = not has_token(h.connection, "close")
    and (head.version ~= "1.0" or has_token(h.connection, "keep-alive"))
  if h["transfer-encoding"] then
    -- chunked must be the last coding (RFC 9112 6.3); anything else cannot be framed here
    if not h["transfer-encoding"]:lower():find("chunked%s*$") then
      return nil, "unsupported Transfer-Encoding " .. h["transfer-encoding"]
    end
    local ok, err, kind = read_chunked(r, sink)
    return ok, err, reusable, kind
  end
  local len = h["content-length"]
  if len then
    -- "20, 20" (a repeated header) is one length; "2, 20" is two, and the framing cannot be trusted
    local n
    for v in len:gmatch("[^,]+") do
      local x = v:match("^%s*(%d+)%s*$")
      if not x or #x > 15 or (n and tonumber(x) ~= n) then return nil, "invalid Content-Length " .. len end
      n = tonumber(x)
    end
    if not n then return nil, "invalid Content-Length " .. len end
    if limit and n > limit then
      return nil, "the body is larger than max_response_bytes (" .. limit .. " bytes): Content-Length " .. n,
        false, "too_large"
    end
    local ok, err, kind = read_length(r, n, sink)
    return ok, err, reusable, kind
  end
  local ok, err, kind = read_to_close(r, sink)
  return ok, err, false, kind
end

-- The pool of a connection: everything that makes two connections interchangeable.
local function pool_name(scheme, host, port, verify)
  local name = scheme .. "://" .. host .. ":" .. port
  if scheme == "https" then name = name .. (verify and "|verify" or "|noverify") .. "|sni=" .. host end
  return name
end

-- One attempt on one connection. `sink_for(head)` gives the sink of the answer's body (or nil and a
-- message). Returns response | nil, err, replay (true when a reused connection was closed by the server
-- before any byte of the answer: the keep-alive race, safe to send again).
local function exchange(cfg, req, u, r, sink_for)
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
  r.sock, r.buf, r.pos, r.got_any, r.budget = sock, "", 1, false, MAX_HEAD_BYTES
  local ms = wait_ms(r)
  if not ms then sock:close(); return fail("timeout", "timed out before sending", false) end
  sock:settimeout(ms)
  local sent, serr = sock:send(u.bytes)
  if not sent then
    sock:close()
    if reused > 0 and serr ~= "timeout" then return nil, nil, true end
    return io_fail(serr, "sending the request", true)
  end
  local head, herr
  repeat                                                  -- 1xx interim answers come before the final one
    head, herr = read_head(r)
  until not head or head.status >= 200 or head.status == 101
  if not head then
    sock:close()
    -- The request went out: replaying it is the keep-alive race fix for idempotent requests only; one
    -- that must reach the server at most once (req.idempotent == false) gets the error instead.
    if reused > 0 and not r.got_any and herr == "closed" and req.idempotent ~= false then return nil, nil, true end
    return io_fail(herr, "reading the response head", true)
  end
  local sink, limit = sink_for(head)
  if not sink then
    sock:close()
    return nil, { kind = "network", message = limit, sent = true, retryable = false }
  end
  local bok, berr, reusable, kind = read_body(r, req.method, head, sink, limit)
  if not bok then
    sock:close()
    local e
    if kind then
      e = { kind = kind, message = "reading the response body: " .. berr, sent = true, retryable = false }
    else
      local _
      _, e = io_fail(berr, "reading the response body", true)
    end
    -- a download starts again from the first byte only if its receiver can (intercom.download)
    if not kind and head.receiving then e.retryable = req.receiver:restartable() end
    return nil, e
  end
  if r.pos <= #r.buf then reusable = false end            -- bytes past the answer: the framing was off
  if reusable then
    sock:setkeepalive(cfg.keepalive_timeout * 1000, cfg.pool_size)
  else
    sock:close()
  end
  return head
end

--- Sends one request (the transport's `req`: method, url, headers (array of "Name: value"), body,
--- timeout, connect_timeout, max_response_bytes, idempotent, receiver, deadline). `cfg`: pool_size,
--- keepalive_timeout (seconds), verify (default true), resolve (host -> address to connect to, e.g. for a
--- host nginx's resolver cannot see). `timeout` bounds the whole attempt; with a `receiver` (a download,
--- intercom.download) the body of a 2xx goes to it as it arrives, `timeout` is an idle timeout and
--- `deadline` (seconds, optional) bounds the whole attempt.
--- Returns {status, headers, body} or nil, {kind = "network"|"timeout"|"too_large", message, sent}.
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
  if not scheme then                         -- it would be refused again: not worth a retry
    local _, e = fail("network", "unsupported URL (only http:// and https:// are supported)", false)
    e.retryable = false
    return nil, e
  end
  local u = { scheme = scheme, host = host, port = port, pool = pool_name(scheme, host, port, c.verify),
              bytes = request_bytes(req, target, authority) }
  local receiver, timeout = req.receiver, req.timeout or 30
  local r = { deadline = now() + (receiver and (req.deadline or 1e9) or timeout),
              idle_ms = receiver and math.floor(timeout * 1000) or nil }

  local chunks
  local limit = req.max_response_bytes
  local function collect(data)
    local size = (chunks.size or 0) + #data
    if limit and size > limit then
      return nil, "the body is larger than max_response_bytes (" .. limit .. " bytes)", "too_large"
    end
    chunks[#chunks + 1], chunks.size = data, size
    return true
  end
  local function deliver(data)
    local ok, err, kind = receiver:write(data)
    if not ok then return nil, err, kind or "network" end
    return true
  end
  local function sink_for(head)
    chunks = {}
    if receiver and head.status >= 200 and head.status < 300 then
      local ok, err = receiver:start(head.status, head.headers)
      if not ok then return nil, err end
      head.receiving = true
      return deliver, nil                    -- a file or a sink has no limit; memory obeys the receiver's
    end
    return collect, limit
  end

  local head, err, replay
  for attempt = 1, 2 do
    head, err, replay = exchange(c, req, u, r, sink_for)
    if not replay or attempt == 2 then break end
  end
  if replay then return fail("network", "the server closed the connection without answering", true) end
  if not head then return nil, err end
  if head.receiving then return { status = head.status, headers = head.headers } end
  chunks.size = nil
  return { status = head.status, headers = head.headers, body = table.concat(chunks) }
end

return _M
