-- The default transport in plain Lua: libcurl through the C core (DESIGN.md, "Transports").
--
-- One session (one curl easy handle) per client, so consecutive requests reuse the connection.

local core = require "intercom.core"

local _M = {}

local Transport = {}
Transport.__index = Transport
Transport.__name = "intercom.transport.curl"

--- opts: ca_file, proxy (both optional).
function _M.new(opts)
  opts = opts or {}
  return setmetatable({
    session = core.session{ ca_file = opts.ca_file, proxy = opts.proxy },
  }, Transport)
end

--- req: method, url, headers (array of "Name: value"), body, timeout, connect_timeout, output_file,
--- idempotent (false: the request must reach the server at most once).
--- Returns {status, headers, body}, or nil and {kind, message, sent, curl_code}.
function Transport:request(req)
  -- libcurl replays a request by itself when a reused connection turns out dead before any answer; `once`
  -- makes the C core rule that out (src/http.c, ic_session_perform) for requests that must not run twice.
  req.once = req.idempotent == false
  local status, headers, body, details = self.session:perform(req)
  if not status then
    -- on failure the C core returns nil, kind, message, {curl_code, sent}
    return nil, { kind = headers, message = body, sent = details.sent, curl_code = details.curl_code }
  end
  return { status = status, headers = headers, body = body }
end

Transport.sleep = function(_, seconds) core.sleep(seconds) end
Transport.now = function() return core.now() end

function Transport:close()
  self.session:close()
end

return _M
