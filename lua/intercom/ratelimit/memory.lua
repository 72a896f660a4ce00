-- The budget kept in this Lua state: what `rate_limit = "auto"` uses, and what a client falls back to
-- while its shared store (Redis, an nginx shared dict) is unreachable.
--
-- Records are kept by key in this module, so every client of the process that uses the same token (or the
-- same `key`) draws from one budget. A step runs without yielding, so it is atomic for the coroutines and
-- ngx.threads of the process.

local budget = require "intercom.budget"

local _M = {}

local records = {}       -- key -> budget record

local Store = {}
Store.__index = Store

---@param name string|nil how log lines name this budget (default "local")
function _M.new(name)
  return setmetatable({ name = name or "local" }, Store)
end

--- op: "acquire" (now, guard) -> wait, go, why, window; "update" (now, R, T, L, later, sent) -> true;
--- "release" (now, sent, window, probe) -> true. Never fails.
function Store.step(_, op, key, a, b, c, d, e, f)
  local s = records[key]
  if not s then
    s = {}
    records[key] = s
  end
  return budget.step(s, op, a, b, c, d, e, f)
end

--- Forgets every record (for specs that need a fresh start).
function _M.reset()
  records = {}
end

return _M
