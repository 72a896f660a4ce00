--- A real redis-server for the specs (Debian's redis-server, `make deps`), on a free loopback port, with
--- no persistence, started and stopped by the spec.
---
---   local redis = require "support.redis"
---   local r = redis.start()            -- {port, url = "redis://127.0.0.1:PORT", pid}
---   r:cli("HGETALL", key)              -- a command through redis-cli; its output
---   r:stop()                           -- always (teardown); r:start() again on the same port
local socket = require "socket"
local util = require "support.util"

local _M = {}

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local Server = {}
Server.__index = Server

local function listening(port)
  local c = socket.tcp()
  c:settimeout(0.2)
  local ok = c:connect("127.0.0.1", port)
  c:close()
  return ok ~= nil
end

--- Whether redis-server is installed.
function _M.available()
  return sh("command -v redis-server") ~= ""
end

--- (Re)starts this server on its port; raises when it does not come up within 5 s.
function Server:start()
  local dir = self.dir
  sh(("redis-server --port %d --bind 127.0.0.1 --save '' --appendonly no --dir %s --daemonize no "
    .. ">%s/redis.log 2>&1 & echo $! >%s/pid"):format(self.port, q(dir), q(dir), q(dir)))
  self.pid = (util.read_if_exists(dir .. "/pid") or ""):match("%d+")
  local deadline = socket.gettime() + 5
  while socket.gettime() < deadline do
    if listening(self.port) then return self end
    socket.sleep(0.02)
  end
  error("redis-server did not start: " .. (util.read_if_exists(dir .. "/redis.log") or ""))
end

--- Kills the server (SIGKILL: as if it crashed) and waits until its port is closed.
function Server:kill()
  if self.pid then sh("kill -9 " .. self.pid) end
  local deadline = socket.gettime() + 5
  while socket.gettime() < deadline and listening(self.port) do socket.sleep(0.02) end
  self.pid = nil
end

function Server:stop()
  self:kill()
  sh("rm -rf " .. q(self.dir))
end

--- Runs one command with redis-cli; returns its raw output.
function Server:cli(...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  return sh(("redis-cli -p %d %s"):format(self.port, table.concat(args, " ")))
end

--- Starts a redis-server on a free loopback port.
function _M.start()
  local dir = sh("mktemp -d \"${TMPDIR:-/tmp}/intercom-redis.XXXXXX\""):gsub("%s+$", "")
  local port = util.closed_port()
  local self = setmetatable({ dir = dir, port = port, url = "redis://127.0.0.1:" .. port }, Server)
  return self:start()
end

return _M
