-- A small Redis client: just what the shared rate-limit budget needs (intercom.ratelimit.redis).
--
-- It sends commands as RESP arrays and reads RESP2 replies (simple strings, errors, integers, bulk
-- strings, arrays) over one TCP connection, with a timeout on every step. The socket is LuaSocket's
-- in plain Lua and ngx.socket.tcp inside nginx (a cosocket: waiting yields to the event loop), through
-- the same few calls both offer: connect, settimeout, send, receive("*l") / receive(n), close, and in
-- nginx setkeepalive.
--
-- What it does not do: AUTH/ACL, TLS, RESP3, pipelining, pub/sub, cluster or sentinel. Inside OpenResty
-- a well-kept client, lua-resty-redis, is used instead whenever it can be required
-- (intercom.ratelimit.redis).
--
-- A reply that is not RESP (another service on that port, a truncated answer) is an error, never a
-- value: the connection is closed, since nothing after it can be trusted.

local _M = {}

_M.MAX_BULK = 1024 * 1024   -- a bulk string longer than this is garbage for our purposes
_M.MAX_ITEMS = 1024         -- and so is an array longer than this

local Conn = {}
Conn.__index = Conn

local function in_cosocket_phase()
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return false end
  return require("intercom.transport.ngx").cosockets_allowed()
end

--- Connects to host:port within `timeout` seconds and selects `db` (when not 0). Returns a connection, or
--- nil and a message.
---@param host string
---@param port integer
---@param db integer|nil
---@param timeout number seconds, for connecting and for each later send or receive
---@return table|nil conn
---@return string|nil err
function _M.connect(host, port, db, timeout)
  local sock, ngx_sock
  if in_cosocket_phase() then
    sock, ngx_sock = rawget(_G, "ngx").socket.tcp(), true
    sock:settimeout(math.floor(timeout * 1000 + 0.5))     -- milliseconds in nginx
  else
    sock = require("socket").tcp()
    sock:settimeout(timeout)                               -- seconds in LuaSocket
  end
  local ok, err = sock:connect(host, port)
  if not ok then
    sock:close()
    return nil, "connect to " .. host .. ":" .. port .. ": " .. tostring(err)
  end
  local self = setmetatable({ sock = sock, ngx = ngx_sock }, Conn)
  if ngx_sock and sock:getreusedtimes() > 0 then return self end   -- a pooled connection: db chosen
  if db and db ~= 0 then
    local reply, serr = self:call("SELECT", tostring(db))
    if reply ~= "OK" then
      self:close()
      return nil, "SELECT " .. db .. ": " .. tostring(serr or reply)
    end
  end
  return self
end

local function encode(args)
  local out = { "*" .. #args .. "\r\n" }
  for i = 1, #args do
    local a = tostring(args[i])
    out[#out + 1] = "$" .. #a .. "\r\n" .. a .. "\r\n"
  end
  return table.concat(out)
end

local read_reply

-- One reply; returns value, or nil, message, is_redis_error (an "-ERR ..." answer: the connection is fine).
read_reply = function(sock, depth)
  local line, err = sock:receive("*l")
  if not line then return nil, "reading the reply: " .. tostring(err) end
  local kind, rest = line:sub(1, 1), line:sub(2)
  if kind == "+" then return rest end
  if kind == "-" then return nil, rest, true end
  if kind == ":" then
    local n = tonumber(rest)
    if n and rest:match("^%-?%d+$") then return n end
  elseif kind == "$" then
    local n = tonumber(rest)
    if n == -1 then return false end                   -- a nil bulk string
    if n and n >= 0 and n <= _M.MAX_BULK and rest:match("^%d+$") then
      local data, derr = sock:receive(n + 2)
      if not data then return nil, "reading the reply: " .. tostring(derr) end
      if data:sub(-2) == "\r\n" then return data:sub(1, -3) end
    end
  elseif kind == "*" and depth < 4 then
    local n = tonumber(rest)
    if n == -1 then return false end
    if n and n >= 0 and n <= _M.MAX_ITEMS and rest:match("^%d+$") then
      local list = {}
      for i = 1, n do
        local v, e, redis_err = read_reply(sock, depth + 1)
        if v == nil then
          if redis_err then v = { err = e } else return nil, e end
        end
        list[i] = v
      end
      return list
    end
  end
  return nil, "not a Redis reply: " .. string.format("%q", line:sub(1, 40))
end

--- Sends one command and reads its reply. Returns the value (string, number, table for an array, false
--- for a nil reply), or nil, message, and true when Redis itself answered with an error (the connection
--- is then still usable; on any other failure it is closed).
---@return any value
---@return string|nil err
---@return boolean|nil redis_error
function Conn:call(...)
  local sock = self.sock
  if not sock then return nil, "connection closed" end
  local ok, err = sock:send(encode({ ... }))
  if not ok then
    self:close()
    return nil, "sending the command: " .. tostring(err)
  end
  local value, rerr, redis_err = read_reply(sock, 0)
  if value == nil and not redis_err then self:close() end
  return value, rerr, redis_err
end

--- Inside nginx, puts the connection back into the worker's pool; elsewhere does nothing (the caller keeps
--- it open).
function Conn:keepalive(idle_seconds, pool_size)
  if self.ngx and self.sock then
    local ok = self.sock:setkeepalive(math.floor(idle_seconds * 1000), pool_size)
    if not ok then self.sock:close() end
    self.sock = nil
  end
end

function Conn:close()
  if self.sock then
    self.sock:close()
    self.sock = nil
  end
end

function Conn:closed()
  return self.sock == nil
end

return _M
