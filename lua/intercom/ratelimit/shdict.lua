-- The budget shared by the workers of one nginx: `rate_limit = { shared = "ngx.shared.NAME" }`, a
-- `lua_shared_dict NAME 1m;` in the http block.
--
-- The record is one string in the dict (intercom.budget encode/decode). Workers are separate processes, so
-- a step takes a lock first: a second key added with `add` (which fails while it exists) and an expiry, so
-- that a worker that dies holding it cannot block the others for more than LOCK_TTL.

local budget = require "intercom.budget"

local _M = {}

_M.LOCK_TTL = 0.5       -- seconds a lock may be held at most
_M.LOCK_TRIES = 200     -- about 0.2 s of waiting for the lock before the step counts as failed
_M.RECORD_TTL = 600     -- an unused record is dropped after this many seconds

local Store = {}
Store.__index = Store

--- `name`: the dict's name (ngx.shared[name] must exist). Returns the store, or nil and a message.
function _M.new(name)
  local ngx = rawget(_G, "ngx")
  local dict = type(ngx) == "table" and ngx.shared and ngx.shared[name]
  if not dict then
    return nil, "no lua_shared_dict named " .. name .. (type(ngx) == "table" and "" or " (not inside nginx)")
  end
  return setmetatable({ name = "ngx.shared." .. name, dict = dict }, Store)
end

local function pause()
  local ngx = rawget(_G, "ngx")
  -- ngx.sleep yields where it may (cosocket phases); elsewhere the loop just tries again at once
  if not pcall(ngx.sleep, 0.001) then return end
end

--- Same steps as intercom.ratelimit.memory; returns nil and a message when the lock cannot be had or the
--- dict refuses the write (full).
function Store:step(op, key, ...)
  local dict, lock = self.dict, key .. ":lock"
  local got, err
  for _ = 1, _M.LOCK_TRIES do
    got, err = dict:add(lock, true, _M.LOCK_TTL)
    if got or err ~= "exists" then break end
    pause()
  end
  if not got then return nil, "lock " .. lock .. ": " .. tostring(err or "busy") end
  local s = budget.decode(dict:get(key))
  local res = { pcall(budget.step, s, op, ...) }
  local ok, serr = true, nil
  if res[1] then ok, serr = dict:set(key, budget.encode(s), _M.RECORD_TTL) end
  dict:delete(lock)
  if not res[1] then error(res[2], 0) end
  if not ok then return nil, "writing " .. key .. ": " .. tostring(serr) end
  return res[2], res[3], res[4], res[5]
end

return _M
