-- The budget shared by every process and host that uses one Redis: `rate_limit = { shared =
-- "redis://HOST:PORT[/DB]" }`.
--
-- Each step is one EVALSHA of a script whose body is intercom.budget's own source, so the record (a Redis
-- hash) is read, changed and written atomically however many clients draw from it. Times are the clients'
-- (each corrected against the API server's Date header), not Redis's: the window ends come from the API
-- server, and hosts with synchronised clocks agree on them.
--
-- The connection: inside nginx, lua-resty-redis when it can be required (or when passed as `redis`), else
-- intercom.redis over a cosocket; either is taken from and put back into the worker's keepalive pool for
-- every step (a cosocket cannot outlive the request that made it). In plain Lua, intercom.redis over
-- LuaSocket, one connection per store, kept open; a step blocks the process for its round trip (about
-- 0.1 ms on loopback). Every failure (refused, timed out, closed, not RESP) returns nil and a message and
-- drops the connection: the client then paces alone for a while and tries again (intercom.throttle).

local budget = require "intercom.budget"
local resp = require "intercom.redis"

local _M = {}

_M.DEFAULT_TIMEOUT = 0.25    -- seconds for connecting and for each reply
_M.RECORD_TTL = 600          -- an unused record expires after this many seconds
_M.POOL_SIZE = 32            -- idle connections kept per nginx worker
_M.IDLE = 60                 -- seconds an idle pooled connection is kept

-- The script: the budget's steps, then glue that loads the hash, runs one step and writes it back.
-- Numbers travel as strings (Redis would truncate a Lua number reply to an integer).
_M.SCRIPT = budget.SOURCE .. [==[
local FIELDS = { "]==] .. table.concat(budget.FIELDS, '", "') .. [==[" }
local key = KEYS[1]
local P = { margin = tonumber(ARGV[1]), poll = tonumber(ARGV[2]), probe = tonumber(ARGV[3]),
            ahead = tonumber(ARGV[4]), guard = tonumber(ARGV[5]) }
local op, ttl = ARGV[6], tonumber(ARGV[7])
local function arg(i) return tonumber(ARGV[i]) end    -- "" (nil) gives nil
local s = {}
local raw = redis.call("HGETALL", key)
for i = 1, #raw, 2 do s[raw[i]] = tonumber(raw[i + 1]) end
local a, b, c, d = "", "", "", ""
if op == "acquire" then
  a, b, c, d = acquire(s, arg(8), P, arg(9))
elseif op == "update" then
  update(s, arg(8), arg(9), arg(10), arg(11), arg(12), arg(13), P)
  a = "1"
elseif op == "release" then
  release(s, arg(8), arg(9), arg(10), arg(11))
  a = "1"
else
  return redis.error_reply("unknown step " .. tostring(op))
end
local set, del = {}, {}
for _, f in ipairs(FIELDS) do
  if s[f] == nil then del[#del + 1] = f
  else set[#set + 1] = f; set[#set + 1] = string.format("%.17g", s[f]) end
end
if #set > 0 then redis.call("HSET", key, unpack(set)) end
if #del > 0 then redis.call("HDEL", key, unpack(del)) end
redis.call("EXPIRE", key, ttl)
return { string.format("%.17g", tonumber(a) or 0), tostring(b), tostring(c), tostring(d) }
]==]

--- "redis://HOST[:PORT][/DB]" -> host, port, db; or nil and what is wrong.
function _M.parse_url(url)
  if type(url) ~= "string" then return nil, "expected a string" end
  local rest = url:match("^redis://(.+)$")
  if not rest then return nil, "expected redis://HOST:PORT[/DB]" end
  local hostport, db = rest:match("^([^/]+)/(%d+)$")
  if not hostport then hostport, db = rest:match("^([^/]+)/?$"), "0" end
  if not hostport then return nil, "expected redis://HOST:PORT[/DB]" end
  local host, port = hostport:match("^%[([%x:]+)%]:(%d+)$")
  if not host then host, port = hostport:match("^([%w%.%-]+):(%d+)$") end
  if not host then host, port = hostport:match("^([%w%.%-]+)$"), "6379" end
  if not host or hostport:find("@") then
    return nil, "expected redis://HOST:PORT[/DB] (no user or password: see docs/rate-limits.md)"
  end
  port, db = tonumber(port), tonumber(db)
  if port < 1 or port > 65535 then return nil, "port out of range" end
  return host, port, db
end

local Store = {}
Store.__index = Store

--- opts: url (redis://...), timeout (seconds), redis (a lua-resty-redis module, false for intercom.redis,
--- nil: lua-resty-redis inside nginx when it can be required).
function _M.new(opts)
  local host, port, db = _M.parse_url(opts.url)
  assert(host, port)
  local self = setmetatable({
    name = "redis://" .. host .. ":" .. port .. "/" .. db,
    host = host, port = port, db = db,
    timeout = opts.timeout or _M.DEFAULT_TIMEOUT,
    resty = opts.redis,
  }, Store)
  return self
end

local function in_nginx()
  return require("intercom.transport.ngx").cosockets_allowed()
end

-- lua-resty-redis, when this store should use it (inside nginx only).
function Store:resty_module()
  if self.resty == false or not in_nginx() then return nil end
  if self.resty == nil then
    local ok, m = pcall(require, "resty.redis")
    self.resty = ok and type(m) == "table" and m or false
    if not self.resty then return nil end
  end
  return self.resty
end

-- The client actually in use, for log lines and specs: "lua-resty-redis" or "intercom.redis".
function Store:backend()
  return self:resty_module() and "lua-resty-redis" or "intercom.redis"
end

-- ---- one connection, either kind, behind call(...) / done(ok) --------------------------------------------

local Resty = {}
Resty.__index = Resty

function Resty:call(cmd, ...)
  local red = self.red
  local fn = red[cmd:lower()]
  local res, err = fn(red, ...)
  if res == nil then
    -- lua-resty-redis returns nil, "ERR ..." for Redis's errors and nil, "timeout"/"closed"... for the rest
    local redis_err = type(err) == "string" and (err:match("^[A-Z]+ ") ~= nil or err:match("^ERR") ~= nil)
    return nil, err, redis_err
  end
  if res == rawget(_G, "ngx").null then return false end
  return res
end

function Resty:done(ok)
  if ok then self.red:set_keepalive(_M.IDLE * 1000, _M.POOL_SIZE) else self.red:close() end
end

function Store:connect()
  local resty = self:resty_module()
  if resty then
    local red = resty:new()
    local t = math.floor(self.timeout * 1000 + 0.5)
    red:set_timeouts(t, t, t)
    local ok, err = red:connect(self.host, self.port)
    if not ok then return nil, "connect to " .. self.host .. ":" .. self.port .. ": " .. tostring(err) end
    if self.db ~= 0 and (red:get_reused_times() or 0) == 0 then
      local r, serr = red:select(self.db)
      if not r then red:close(); return nil, "SELECT " .. self.db .. ": " .. tostring(serr) end
    end
    return setmetatable({ red = red }, Resty)
  end
  if in_nginx() then
    local conn, err = resp.connect(self.host, self.port, self.db, self.timeout)
    if not conn then return nil, err end
    return { call = function(_, ...) return conn:call(...) end,
             done = function(_, ok)
               if ok then conn:keepalive(_M.IDLE, _M.POOL_SIZE) else conn:close() end
             end }
  end
  local conn = self.conn
  if not conn or conn:closed() then
    local err
    conn, err = resp.connect(self.host, self.port, self.db, self.timeout)
    if not conn then return nil, err end
    self.conn = conn
  end
  return { call = function(_, ...) return conn:call(...) end,
           done = function(_, ok) if not ok then conn:close() end end }
end

local P = budget.PARAMS
local function str(v) if v == nil then return "" end return string.format("%.17g", v) end

-- EVALSHA, loading the script the first time and whenever Redis lost it (a restart, SCRIPT FLUSH).
local function eval(self, conn, key, op, a, b, c, d, e, f)
  local args = { 1, key, str(P.margin), str(P.poll), str(P.probe), str(P.ahead), str(P.guard), op,
                 str(_M.RECORD_TTL),
                 str(a), str(b), str(c), str(d), str(e), str(f) }
  for attempt = 1, 2 do
    if not self.sha then
      local sha, err = conn:call("SCRIPT", "LOAD", _M.SCRIPT)
      if type(sha) ~= "string" or not sha:match("^%x+$") then
        return nil, "SCRIPT LOAD: " .. tostring(err or sha)
      end
      self.sha = sha
    end
    local res, err, redis_err = conn:call("EVALSHA", self.sha, (table.unpack or unpack)(args))
    if res ~= nil then return res end
    if not (redis_err and tostring(err):match("NOSCRIPT") and attempt == 1) then
      return nil, "EVALSHA: " .. tostring(err), redis_err
    end
    self.sha = nil
  end
end

--- Same steps as intercom.ratelimit.memory; returns nil and a message on any failure.
function Store:step(op, key, a, b, c, d, e, f)
  local conn, err = self:connect()
  if not conn then return nil, err end
  local res, eerr, redis_err = eval(self, conn, key, op, a, b, c, d, e, f)
  if type(res) ~= "table" or #res ~= 4 or not tonumber(res[1]) then
    conn:done(redis_err == true)
    return nil, eerr or ("unexpected reply to EVALSHA: " .. type(res))
  end
  conn:done(true)
  if op ~= "acquire" then return true end
  return tonumber(res[1]), tonumber(res[2]), res[3], tonumber(res[4])
end

--- Closes the kept connection (plain Lua; nginx's are pooled).
function Store:close()
  if self.conn then self.conn:close() end
  self.conn = nil
end

return _M
