-- When a failed request is sent again, and after how long (DESIGN.md, "Retries").
--
-- Retried: 408, 429, 5xx and transport failures, up to max_retries times. The wait is the server's
-- Retry-After, else (for 429) the X-RateLimit-Reset epoch, else exponential backoff with jitter, capped.
-- A request that is not idempotent (POST) is replayed only when it cannot have taken effect: a 429
-- (Intercom rejected it before doing anything) or a connection that never reached the server; or when
-- the operation only reads (search) or the caller opted in with `idempotent = true`.

local _M = {}

_M.BACKOFF_BASE = 0.25   -- seconds before the first retry, doubled for each further one
_M.BACKOFF_CAP = 8       -- no backoff step waits longer than this
_M.MAX_WAIT = 60         -- a server asking for a longer wait gets no retry: the error says so instead

local IDEMPOTENT_METHODS = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }

--- True when `method` may be sent twice without a second effect (or the call says it may).
function _M.idempotent(method, flagged)
  return IDEMPOTENT_METHODS[method] == true or flagged == true
end

--- True when an HTTP status is worth retrying at all.
function _M.retryable_status(status)
  return status == 408 or status == 429 or (status >= 500 and status <= 599)
end

--- Whether this outcome may be replayed: `status` for a response, or `sent` for a transport failure.
function _M.may_replay(idempotent, status, sent)
  if status then
    if not _M.retryable_status(status) then return false end
    return status == 429 or idempotent
  end
  return idempotent or sent == false
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm): os.time would apply the local zone.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Seconds to wait from a Retry-After value: delta-seconds or an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT").
function _M.parse_retry_after(value, wall_now)
  if not value then return nil end
  local secs = tonumber(value:match("^%s*(%d+%.?%d*)%s*$"))
  if secs then return secs end
  local d, mon, y, h, mi, s = value:match("^%a+, (%d+) (%a+) (%d+) (%d+):(%d+):(%d+) GMT$")
  if d and MONTHS[mon] then
    local t = days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 86400 + h * 3600 + mi * 60 + s
    return math.max(0, t - wall_now)
  end
  return nil
end

--- Exponential backoff with jitter for retry number `attempt` (1-based): in [b/2, b], b = base * 2^(n-1).
function _M.backoff(attempt, random)
  local b = math.min(_M.BACKOFF_CAP, _M.BACKOFF_BASE * 2 ^ (attempt - 1))
  return b / 2 + (random or math.random)() * b / 2
end

--- The wait before retry number `attempt`, from the response headers when the server named one.
--- Returns seconds, and the name of where it came from ("retry-after", "rate-limit-reset", "backoff").
function _M.delay(attempt, status, headers, wall_now)
  headers = headers or {}
  local ra = _M.parse_retry_after(headers["retry-after"], wall_now)
  if ra then return ra, "retry-after" end
  if status == 429 then
    local reset = tonumber(headers["x-ratelimit-reset"])
    if reset then return math.max(0, reset - wall_now), "rate-limit-reset" end
  end
  return _M.backoff(attempt), "backoff"
end

return _M
