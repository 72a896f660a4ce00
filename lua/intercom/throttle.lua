-- The client's side of the rate-limit budget (DESIGN.md, "Rate limits"; docs/rate-limits.md): what
-- `rate_limit = "auto"` or `rate_limit = { shared = ... }` turns on.
--
-- Before a request is sent it takes a slot from the budget (intercom.budget), waiting when the budget says
-- so; the slot is held while the request is in flight. The answer's X-RateLimit-* headers then go back to
-- the budget with the number of this client's requests still in flight that were sent after it (the
-- server cannot have counted those yet); a request that failed without an answer releases its slot.
--
-- The budget lives in a store: this process's memory (intercom.ratelimit.memory), Redis
-- (intercom.ratelimit.redis) or an nginx shared dict (intercom.ratelimit.shdict). When a shared store
-- fails, the client logs it once, paces alone from its own memory (the server's 429s and the retries
-- still protect the job), tries the store again every RETRY_STORE seconds, and logs when it is back. No
-- request ever fails because of the budget.
--
-- Times are the API server's: the local wall clock plus an offset learnt from its Date headers. A Date is
-- whole seconds, so each answer only bounds the offset: the server's clock read at least Date when it
-- answered, so offset >= Date - (local time the answer came). The throttle keeps the largest such bound,
-- which is never above the truth: it may see a window end a little late, never early (early would mean
-- 429s). A few answers that straddle a second make it tight; one that contradicts it (the local clock
-- was stepped) starts it afresh. It is applied only when it is larger than SKEW_MIN either way: clocks
-- kept by NTP then all read the same time (clients sharing a budget must agree on the clock: one whose
-- bound is still loose by most of a second would otherwise send into a window the others think over).
--
-- It never sleeps itself: `acquire` calls the sleeper it is given (the client's, which yields inside
-- client:map and in nginx).

local core = require "intercom.core"
local memory = require "intercom.ratelimit.memory"
local budget = require "intercom.budget"
local retry = require "intercom.retry"

local _M = {}

_M.MAX_WAIT = 60          -- no single wait is longer, whatever a skewed clock or a strange header says
_M.RETRY_STORE = 1        -- seconds between attempts to reach a shared store that failed
_M.SKEW_MIN = 1.5         -- a server clock less than this far from ours (by its Date) is taken as ours

local Throttle = {}
Throttle.__index = Throttle
Throttle.__name = "intercom.throttle"

--- `spec`: the client's `rate_limit` option ("auto", or a checked table: shared, key, timeout, redis).
--- `log`: function(event) or nil.
function _M.new(spec, log)
  local store
  if type(spec) == "table" and spec.shared then
    local ngx_name = spec.shared:match("^ngx%.shared%.(.+)$")
    if ngx_name then
      store = assert(require("intercom.ratelimit.shdict").new(ngx_name))
    else
      store = require("intercom.ratelimit.redis").new{ url = spec.shared, timeout = spec.timeout,
                                                       redis = spec.redis }
    end
  else
    store = memory.new()
  end
  return setmetatable({
    store = store,
    name = store.name,
    fallback = store.name ~= "local" and memory.new("local (" .. store.name .. " unreachable)") or nil,
    key = type(spec) == "table" and spec.key or nil,
    log = log,
    offset = 0,
    guard = budget.PARAMS.guard,   -- see `done`
    rtt = nil,
    offset_known = false,
    seq = 0,
    inflight = {},            -- slot -> true
    down = false,             -- the shared store failed; retried from `retry_at` (core.now())
    retry_at = 0,
    token_keys = {},          -- token -> key, for the last few tokens
  }, Throttle)
end

--- The key of the budget for `token`: the `key` option, or one derived from a hash of the token (never the
--- token itself, which would then sit in Redis and its logs).
function Throttle:key_for(token)
  if self.key then return self.key end
  local k = self.token_keys[token]
  if not k then
    k = "intercom:ratelimit:" .. core.hmac_sha1_hex("intercom-lua rate-limit budget", token):sub(1, 24)
    if next(self.token_keys) then self.token_keys = {} end   -- a token function may rotate: keep one
    self.token_keys[token] = k
  end
  return k
end

--- Now on the API server's clock.
function Throttle:now()
  local off = self.offset
  if off < _M.SKEW_MIN and off > -_M.SKEW_MIN then return core.wall() end
  return core.wall() + off
end

-- One step on the store, or on the fallback while the store is down (see the top of the file).
function Throttle:step(op, key, ...)
  local store = self.store
  if self.fallback then
    if self.down and core.now() < self.retry_at then return self.fallback:step(op, key, ...) end
    local ok, a, b, c, d = pcall(store.step, store, op, key, ...)
    if ok and a ~= nil then
      if self.down then
        self.down = false
        if self.log then
          self.log{ event = "throttle", budget = self.name, reason = "store_back",
                    message = "rate-limit budget " .. self.name .. " is reachable again: shared pacing resumes" }
        end
      end
      return a, b, c, d
    end
    local err = ok and b or a
    self.retry_at = core.now() + _M.RETRY_STORE
    if store.close then store:close() end
    if not self.down then
      self.down = true
      if self.log then
        self.log{ event = "throttle", budget = self.name, reason = "store_down", error = tostring(err),
                  message = "rate-limit budget " .. self.name .. " failed (" .. tostring(err)
                    .. "): pacing this client alone until it is back" }
      end
    end
    return self.fallback:step(op, key, ...)
  end
  return store:step(op, key, ...)
end

--- Waits for a slot of the budget of `token`. `sleeper(seconds, why, budget_name)` waits; `why` is
--- "spread", "reset" or "probe". Returns the slot (to pass to done or fail) and the seconds waited.
function Throttle:acquire(token, sleeper)
  local key = self:key_for(token)
  local waited = 0
  while true do
    local now = self:now()
    local wait, go, why, window = self:step("acquire", key, now, self.guard)
    wait = tonumber(wait) or 0
    if wait > _M.MAX_WAIT then wait = _M.MAX_WAIT end
    if go == 1 then
      local seq = self.seq + 1
      self.seq = seq
      local slot = { seq = seq, key = key, sent = now + math.max(wait, 0), window = tonumber(window) or -1,
                     probe = why == "probe" and 1 or 0, wall = core.wall() + math.max(wait, 0) }
      self.inflight[slot] = true
      if wait <= 0 then return slot, waited end
      sleeper(wait, why, self.name)
      waited = waited + wait
      -- A loaded machine can wake a task late: a slot that would now go out at its window's very end
      -- could reach the server in the next window, which did not count it. Then it goes back, unsent.
      local late = slot.window > 0 and self:now() >= slot.window - self.guard / 2
      if not late then return slot, waited end
      self:fail(slot, false)
    end
    if wait < 0.001 then wait = 0.001 end
    sleeper(wait, why, self.name)
    waited = waited + wait
  end
end

-- The offset of the server's clock from ours, from a Date header ("Mon, 07 Dec 2026 05:00:00 GMT") of an
-- answer to a request sent at local time `sent` (see the top of the file).
function Throttle:clock(date, sent)
  local t = retry.parse_retry_after(date, 0)
  if not t or t == 0 then return end
  local lo, hi = t - core.wall(), t + 1 - sent
  if not self.offset_known or hi < self.offset then
    self.offset, self.offset_known = lo, true
  elseif lo > self.offset then
    self.offset = lo
  end
end

--- An answer came for `slot`: `rl` is its {limit, remaining, reset}, `date` its Date header (or nil).
function Throttle:done(slot, rl, date)
  local inflight = self.inflight
  inflight[slot] = nil
  if date then self:clock(date, slot.wall) end
  -- How long answers take (a moving average): a request needs about that long to reach the server, so
  -- no slot is spread closer than that to a window's end (budget.PARAMS.guard, at least; at most 1 s).
  local rtt = core.wall() - slot.wall
  if rtt >= 0 then
    self.rtt = self.rtt and (self.rtt * 0.8 + rtt * 0.2) or rtt
    self.guard = math.min(1, math.max(budget.PARAMS.guard, 1.5 * self.rtt))
  end
  local later, seq, key = 0, slot.seq, slot.key
  for other in pairs(inflight) do
    if other.seq > seq and other.key == key then later = later + 1 end
  end
  self:step("update", key, self:now(), tonumber(rl.remaining), tonumber(rl.reset), tonumber(rl.limit),
            later, slot.sent)
end

--- The request of `slot` failed without an answer; `sent`: whether it may have reached the server.
function Throttle:fail(slot, sent)
  self.inflight[slot] = nil
  self:step("release", slot.key, self:now(), sent == false and 0 or 1, slot.window, slot.probe)
end

function Throttle:close()
  if self.store.close then self.store:close() end
end

_M.Throttle = Throttle

return _M
