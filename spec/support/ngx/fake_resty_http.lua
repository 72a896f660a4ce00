-- A stand-in for lua-resty-http (not packaged in Debian), with the part of its documented API that the
-- ngx transport's adapter uses: new, set_timeouts, connect{scheme, host, port, ssl_*, pool_size},
-- request{method, path, headers, body} -> res{status, headers, read_body, body_reader}, set_keepalive,
-- close. It speaks plain HTTP/1.1 with Content-Length bodies over ngx.socket.tcp, and records every
-- call's arguments in `calls` so that the spec can check what the adapter passed.

local ngx = ngx

local _M = { calls = {} }

local Client = {}
Client.__index = Client

local function record(name, args)
  _M.calls[#_M.calls + 1] = { name = name, args = args }
end

function _M.new()
  record("new", {})
  return setmetatable({ sock = ngx.socket.tcp() }, Client)
end

function Client:set_timeouts(c, s, r)
  record("set_timeouts", { c, s, r })
  self.sock:settimeouts(c, s, r)
end

function Client:connect(opts)
  record("connect", opts)
  if opts.scheme ~= "http" then return nil, "the fake speaks plain http only" end
  return self.sock:connect(opts.host, opts.port)
end

function Client:request(params)
  record("request", params)
  local lines = { params.method .. " " .. params.path .. " HTTP/1.1" }
  for k, v in pairs(params.headers) do lines[#lines + 1] = k .. ": " .. v end
  local ok, err = self.sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (params.body or ""))
  if not ok then return nil, err end
  local status_line, serr = self.sock:receive("*l")
  if not status_line then return nil, serr end
  local res = { status = tonumber(status_line:match("^HTTP/%d%.%d (%d+)")), headers = {} }
  while true do
    local line, herr = self.sock:receive("*l")
    if not line then return nil, herr end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    res.headers[name] = value                      -- resty.http keeps the case as sent
  end
  local len = tonumber(res.headers["Content-Length"] or res.headers["content-length"] or 0)
  local sock = self.sock
  function res.read_body() return sock:receive(len) end
  function res.body_reader() local b = len > 0 and sock:receive(len) or nil; len = 0; return b end
  return res
end

function Client:set_keepalive(timeout, size)
  record("set_keepalive", { timeout, size })
  return self.sock:setkeepalive(timeout, size)
end

function Client:close()
  record("close", {})
  return self.sock:close()
end

return _M
