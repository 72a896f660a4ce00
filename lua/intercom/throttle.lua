-- The client-side throttle behind `rate_limit = "auto"`: paces requests from the rate-limit headers so that
-- a long job spends its budget evenly instead of running into 429s.
--
-- Intercom reports, on every response, how many requests the window still allows (X-RateLimit-Remaining)
-- and when the window resets (X-RateLimit-Reset, epoch seconds). From the latest report the throttle gives
-- every request a send time:
--   - nothing known yet, or the reported window is over: now;
--   - budget left: spread the remaining requests evenly over the time left, one slot each;
--   - budget spent: the moment the window resets (plus a little, for the server's clock granularity).
-- Slots are handed out in order, so requests made at the same time (a map, coroutines) queue behind one
-- another instead of all waiting for the same instant; a response always wins over the local estimate when
-- it opens a new window, and lowers it within the same one.
--
-- One throttle belongs to one client and so is shared by every request it makes. It never sleeps itself:
-- `acquire` returns how long to wait, and the client sleeps through its transport (ngx.sleep in OpenResty).

local _M = {}

_M.RESET_MARGIN = 0.05   -- seconds after the reset second before a request that waited for it goes out
_M.MAX_WAIT = 60         -- no single wait is longer, whatever a skewed clock or a strange header says

local Throttle = {}
Throttle.__index = Throttle
Throttle.__name = "intercom.throttle"

--- A throttle with nothing known yet.
---@return table
function _M.new()
  return setmetatable({ remaining = nil, reset = nil, next_at = 0 }, Throttle)
end

--- Records the rate-limit state of a response (`response.rate_limit`: limit, remaining, reset).
---@param rl table
function Throttle:update(rl)
  local remaining, reset = tonumber(rl.remaining), tonumber(rl.reset)
  if not remaining or not reset then return end
  if self.reset and reset < self.reset then return end    -- a late answer from an earlier window
  if reset ~= self.reset or not self.remaining then
    self.remaining, self.reset = remaining, reset         -- a new window: the server's word
  elseif remaining < self.remaining then
    self.remaining = remaining                            -- same window: the lower of report and estimate
  end
end

--- Reserves a send slot for one request at wall-clock time `now`; returns the seconds to wait first (0 when
--- it may go at once).
---@param now number epoch seconds
---@return number
function Throttle:acquire(now)
  local remaining, reset = self.remaining, self.reset
  local at = now
  if remaining and reset and reset > now then
    if remaining <= 0 then
      at = reset + _M.RESET_MARGIN
      -- The window this slot lands in is a new one, of unknown size: the next response will tell.
      self.remaining, self.reset = nil, nil
    else
      -- Slot k of the `remaining` left goes out at k/remaining of the way to the reset: the one after
      -- the last lands on the reset itself.
      at = math.max(now, self.next_at)
      self.next_at = at + math.max(0, reset - at) / remaining
      self.remaining = remaining - 1
    end
  else
    self.remaining, self.reset = nil, nil                 -- the window is over: its numbers mean nothing
  end
  if at > self.next_at then self.next_at = at end
  return math.min(at - now, _M.MAX_WAIT)
end

_M.Throttle = Throttle

return _M
