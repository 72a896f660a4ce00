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

--- Runs a shell command; returns its exit code and its output (stdout and stderr).
function _M.sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("exit=(%d+)%s*$")), (out:gsub("exit=%d+%s*$", ""))
end

--- Runs Lua code in a fresh interpreter: the one running busted (spec/run.sh's INTERCOM_SPEC_LUA; under
--- make check-memory the sanitized one), with the same LUA_PATH, LUA_CPATH and test server. `env` goes
--- before the command (e.g. "LOCPATH=/tmp/x"). A fresh process has a small heap, so a finalizer hazard
--- spec's collector runs finalizers at nearly every allocation, as it would in a small program. Returns
--- the exit code and the output.
function _M.run_lua(code, env)
  local interpreter = os.getenv("INTERCOM_SPEC_LUA") or (jit and "luajit" or "lua5.4")
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local rc, out = _M.sh(("%s %s %s"):format(env or "", interpreter, script))
  os.remove(script)
  return rc, out
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
