-- Small helpers the specs share: reading files, and a loopback port nobody listens on.

local socket = require "socket"

local _M = {}

--- The whole file; raises when it cannot be read.
function _M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

--- The whole file, or nil when it does not exist (or cannot be read).
function _M.read_if_exists(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- A loopback port nobody listens on: bind one, note it, close it.
function _M.closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

--- A base URL whose connections are refused.
function _M.closed_port_url()
  return "http://127.0.0.1:" .. _M.closed_port()
end

return _M
