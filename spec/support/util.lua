-- Small helpers the specs share: reading files, comparing decoded values, and a loopback port nobody
-- listens on.

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

--- Deep equality of two decoded values, metatables included (arrays carry array_mt, objects none) unless
--- `any_metatable` (to compare with another codec's values: lua-cjson marks no arrays). Numbers compare
--- by value (an integer equals the same float), NaN equals NaN. Returns true, or false and the path of
--- the first difference.
function _M.identical(a, b, path, any_metatable)
  path = path or "$"
  if type(a) ~= "table" or type(b) ~= "table" then
    if a == b or (a ~= a and b ~= b) then return true end
    return false, path .. ": " .. tostring(a) .. " ~= " .. tostring(b)
  end
  if not any_metatable and getmetatable(a) ~= getmetatable(b) then return false, path .. ": another metatable" end
  for k, v in pairs(a) do
    local ok, why = _M.identical(v, b[k], path .. "." .. tostring(k), any_metatable)
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. " missing" end
  end
  return true
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
