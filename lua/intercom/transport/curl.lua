-- The default transport in plain Lua: libcurl through the C core (DESIGN.md, "Transports").
--
-- One session (one curl easy handle) per client, so consecutive requests reuse the connection. Inside a
-- client:map task, requests go to the map's curl multi handle instead and the task yields until the
-- response is in (intercom.scheduler); the multi is this transport's too, so its connections are kept
-- from one map to the next.

local core = require "intercom.core"
local scheduler = require "intercom.scheduler"

local _M = {}

local Transport = {}
Transport.__index = Transport
Transport.__name = "intercom.transport.curl"

--- opts: ca_file, proxy (both optional).
---@param opts {ca_file: string|nil, proxy: string|nil}|nil
---@return table transport
function _M.new(opts)
  opts = opts or {}
  local conn = { ca_file = opts.ca_file, proxy = opts.proxy }
  return setmetatable({ session = core.session(conn), conn = conn }, Transport)
end

local function failure(kind, message, details, extra)
  local e = { kind = kind, message = message, sent = details and details.sent,
              curl_code = details and details.curl_code }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

-- The body of a 2xx response goes to the receiver piece by piece: the C stream returns each piece and
-- this loop, not the C core, calls the receiver (so a sink may yield or raise). Any other status is read
-- into memory and returned like request's. A failure in mid-body is retryable only if the receiver can
-- start over.
local function receive(s, receiver)
  local status, headers, message, details = s:headers()
  if not status then return nil, failure(headers, message, details) end
  local ok = status >= 200 and status < 300
  if ok then
    local started, err = receiver:start(status, headers)
    if not started then return nil, failure("network", err, { sent = true }, { retryable = false }) end
  end
  local parts = {}
  while true do
    local chunk, kind, msg, det = s:read()
    if not chunk then
      if kind then return nil, failure(kind, msg, det, { retryable = not ok or receiver:restartable() }) end
      break
    end
    if ok then
      local written, err, why = receiver:write(chunk)
      if not written then
        if why == "too_large" then err = "reading the response body: " .. err end
        return nil, failure(why or "network", err, { sent = true }, { retryable = false })
      end
    else
      parts[#parts + 1] = chunk
    end
  end
  return { status = status, headers = headers, body = not ok and table.concat(parts) or nil }
end

-- A download's body, complete in the file at `path`, handed to the receiver as receive() does.
local CHUNK = 256 * 1024
local function deliver(path, status, headers, receiver)
  local f, ferr = io.open(path, "rb")
  if not f then return nil, failure("network", "reading the downloaded body: " .. tostring(ferr), { sent = true }) end
  local ok = status >= 200 and status < 300
  if not ok then
    local body = f:read("*a")
    f:close()
    return { status = status, headers = headers, body = body }
  end
  local started, err = receiver:start(status, headers)
  if not started then
    f:close()
    return nil, failure("network", err, { sent = true }, { retryable = false })
  end
  while true do
    local chunk = f:read(CHUNK)
    if not chunk then break end
    local written, werr, why = receiver:write(chunk)
    if not written then
      f:close()
      return nil, failure(why or "network", werr, { sent = true }, { retryable = false })
    end
  end
  f:close()
  return { status = status, headers = headers }
end

-- A download inside a client:map task joins the map's multi like any other request, so the other tasks
-- go on while it runs (a core.stream would block them all for its whole length). The body goes to a
-- temporary file first and then to the receiver, so a sink or `progress` sees it once it is complete.
local function task_stream_request(self, sched, req)
  local tmp = os.tmpname()
  local treq = {}
  for k, v in pairs(req) do treq[k] = v end
  treq.receiver, treq.decode, treq.output_file = nil, nil, tmp
  local status, headers, body, details = sched:request(self, treq, self.conn)
  if not status then
    os.remove(tmp)
    return nil, failure(headers, body, details)
  end
  local ok, res, err = pcall(deliver, tmp, status, headers, req.receiver)
  os.remove(tmp)
  if not ok then error(res, 0) end
  return res, err
end

-- A download (req.receiver): one core.stream, closed whatever happens, even if the receiver raises.
local function stream_request(self, req)
  local sched = scheduler.current()
  if sched then return task_stream_request(self, sched, req) end
  -- the receiver writes any output file itself (to a .part file first): the stream only reads
  local sreq = {}
  for k, v in pairs(req) do sreq[k] = v end
  sreq.output_file, sreq.receiver = nil, nil
  local s, kind, message, details = core.stream(self.conn, sreq)
  if not s then return nil, failure(kind, message, details) end
  local ok, res, err = pcall(receive, s, req.receiver)
  s:close()
  if not ok then error(res, 0) end
  return res, err
end

--- req: method, url, headers (array of "Name: value"), body, timeout, connect_timeout, output_file,
--- idempotent (false: the request must reach the server at most once),
--- receiver (a download: see intercom.download; the body of a 2xx goes to it and `body` is nil),
--- decode (true: a 2xx JSON object or array comes back decoded as `value`, and `body` is nil).
--- Returns the transport contract's response (DESIGN.md, "Transports"): {status, headers (lowercase
--- names), body, value}, or nil and {kind, message, sent, curl_code, retryable}.
---@param req intercom.core.Request
---@return {status: integer, headers: table<string, string>, body: string|nil, value: any}|nil response
---@return {kind: string, message: string, sent: boolean, curl_code: integer, retryable: boolean|nil}|nil err
function Transport:request(req)
  if req.receiver then return stream_request(self, req) end
  -- libcurl replays a request by itself when a reused connection turns out dead before any answer; `once`
  -- makes the C core rule that out (src/transfer.c) for requests that must not run twice.
  if req.idempotent == false then req.once = true end
  -- status, headers, body, value; or on failure nil, kind, message, {curl_code, sent}
  local status, headers, body, value
  local sched = scheduler.current()
  if sched then
    status, headers, body, value = sched:request(self, req, self.conn)
  else
    status, headers, body, value = self.session:perform(req)
  end
  if not status then
    local e = { kind = headers, message = body, sent = value.sent, curl_code = value.curl_code }
    -- a URL libcurl refuses (CURLE_URL_MALFORMAT, 3) would be refused again: not worth a retry
    if value.curl_code == 3 then e.retryable = false end
    return nil, e
  end
  -- with req.decode the C core decodes a 2xx JSON body from its own buffer: `value`, and no body string
  return { status = status, headers = headers, body = body, value = value }
end

--- The curl multi handle for concurrent requests (client:map), made on first use.
---@return intercom.core.Multi
function Transport:multi()
  local m = self._multi
  if not m then
    m = core.multi()
    self._multi = m
  end
  return m
end

Transport.sleep = function(_, seconds) scheduler.sleep(seconds) end

function Transport:close()
  self.session:close()
  if self._multi then self._multi:close() end
end

return _M
