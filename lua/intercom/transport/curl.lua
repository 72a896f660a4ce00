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
function _M.new(opts)
  opts = opts or {}
  local conn = { ca_file = opts.ca_file, proxy = opts.proxy }
  return setmetatable({ session = core.session(conn), conn = conn }, Transport)
end

--- req: method, url, headers (array of "Name: value"), body, timeout, connect_timeout, output_file.
--- Returns {status, headers, body}, or nil and {kind, message, sent, curl_code}.
function Transport:request(req)
  local status, headers, body, details
  local sched = scheduler.current()
  if sched then
    status, headers, body, details = sched:request(self, req, self.conn)
  else
    status, headers, body, details = self.session:perform(req)
  end
  if not status then
    -- on failure the C core returns nil, kind, message, {curl_code, sent}
    return nil, { kind = headers, message = body, sent = details.sent, curl_code = details.curl_code }
  end
  return { status = status, headers = headers, body = body }
end

--- The curl multi handle for concurrent requests (client:map), made on first use.
function Transport:multi()
  local m = self._multi
  if not m then
    m = core.multi()
    self._multi = m
  end
  return m
end

Transport.sleep = function(_, seconds) scheduler.sleep(seconds) end
Transport.now = function() return core.now() end

function Transport:close()
  self.session:close()
  if self._multi then self._multi:close() end
end

return _M
