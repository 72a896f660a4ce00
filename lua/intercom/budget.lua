-- The rate-limit budget: one algorithm over one small record, whatever keeps the record (DESIGN.md,
-- "Rate limits"; docs/rate-limits.md).
--
-- The record is a flat table of numbers, so that it fits a Redis hash, an nginx shared dict string or a
-- Lua table alike:
--   lim    requests per window (X-RateLimit-Limit), once a response said so
--   rem    slots left in the current window: requests not yet sent that the window still allows. Every
--          slot handed out counts at once (a request holds its slot while in flight); an answer from the
--          server can only lower it within a window (it does not count what is still in flight)
--   rst    end of the current window (X-RateLimit-Reset, on the API server's clock), when one is known
--   since  when the current window's numbers were taken: a request sent after that which reports an
--          earlier window is the server correcting a wrong one, not a late answer
--   nxt    the send time of the next slot: the slots left are spread evenly over the time left
--   prb    while nothing is known, one request (the probe) goes alone, until its answer or this time
--   free   1: the server answered without rate-limit headers; nothing to pace
--   late   slots of this window spread into the guard before its end: if their requests are slow to go
--          out, the server counts them in the next window, so that one starts with this many fewer
--   last   the end of the window before the current one (kept across a roll) and
--   len    the shortest distance seen between two window ends: the window's length, for spreading the
--          slots of a window whose end is not told yet (a burst would put many requests in flight at
--          once, and the server counts those in an order nobody knows)
--   roll   1: `rem` counts the slots taken since a window ended by itself (so its first answer lowers it);
--          otherwise, with no window end known, `rem` is only the last answer's word
--
-- The source below is plain Lua 5.1 without globals or libraries beyond `math`, because the very same
-- text runs inside Redis as the body of the script that makes each step atomic across processes and
-- hosts (intercom.ratelimit.redis). Here it is loaded once for the in-process and shared-dict stores.

local _M = {}

-- Tunables, passed to every step (ARGV in Redis):
_M.PARAMS = {
  margin = 0.05,   -- seconds after a window's end before its successor is used (the server's clock granularity)
  guard = 0.1,     -- no slot is spread into the last this-many seconds of a window: a request sent then could
                   -- reach the server in the next one, which would not have counted it. A client passes its
                   -- own when its answers take longer (intercom.throttle)
  poll = 0.05,     -- how often a request waiting for the probe's answer asks again
  probe = 2,       -- seconds one probe may be out alone before another request may go
  ahead = 70,      -- a reset further away than this (Intercom's 10 s window plus the 60 s cap) is not trusted
}

_M.FIELDS = { "lim", "rem", "rst", "since", "nxt", "prb", "free", "roll", "late", "last", "len" }

_M.SOURCE = [==[
-- acquire(s, now, P, guard) -> wait, go, why, window
--   go == 1: a slot is taken; send after `wait` seconds. go == 0: ask again after `wait` seconds.
--   why: "spread" (pacing inside the window), "reset" (budget spent: the window's end), "probe"
--   (nothing known yet: one request at a time), "free" (the server reports no limit).
--   window: the window the slot belongs to (its end, or -1 while unknown), for release.
local function acquire(s, now, P, guard)
  guard = guard or P.guard
  if s.free then return 0, 1, "free", -1 end
  -- (a window of known length whose end was never told is over once that length has passed)
  if (s.rst and now >= s.rst + P.margin)
      or (not s.rst and s.roll and s.len and s.since and now >= s.since + s.len + P.margin) then
    -- The window is over: its successor allows the whole limit (nil when never told: probe). Its end
    -- comes with the next answer; until then nothing is spread, the slots are just counted.
    s.last, s.rst, s.since, s.nxt, s.rem = s.rst, nil, now, now, s.lim
    if s.lim then
      s.roll = 1
      if s.late then s.rem = s.lim - s.late end
    end
    s.late = nil
  end
  local rem = s.rem
  if rem and rem > 0 then
    local at = now
    if s.nxt and s.nxt > at then at = s.nxt end
    if s.rst and at >= s.rst - guard then
      return s.rst + P.margin - now, 0, "reset", s.rst
    end
    local stop = s.rst or (s.len and s.since and s.since + s.len)   -- the window's end, told or expected
    if stop and stop - guard > at then s.nxt = at + (stop - guard - at) / rem else s.nxt = at end
    if s.rst and at >= s.rst - 1.5 * guard then s.late = (s.late or 0) + 1 end
    s.rem = rem - 1
    return at - now, 1, "spread", s.rst or -1
  end
  if rem and s.rst then
    return s.rst + P.margin - now, 0, "reset", s.rst
  end
  if rem and s.roll then
    -- spent in a window whose end is not told yet: the answers to its slots will tell it
    return P.poll, 0, "reset", -1
  end
  -- Nothing known, or spent with no known end: one request finds out.
  if s.prb and s.prb > now then
    local w = s.prb - now
    if w > P.poll then w = P.poll end
    return w, 0, "probe", -1
  end
  s.prb = now + P.probe
  return 0, 1, "probe", -1
end

-- update(s, now, R, T, L, later, sent, P): an answer reported R remaining, window end T, limit L (any may
-- be nil). `later`: requests of this process still in flight that were sent after this one (the server
-- cannot have counted them yet). `sent`: when this request was sent.
local function update(s, now, R, T, L, later, sent, P)
  s.prb = nil
  if not R and not T and not L then
    if not s.rem then s.free = 1 end
    return
  end
  s.free = nil
  if L and L >= 0 then s.lim = L end
  if not R then return end
  local est = R - later
  if est < 0 then est = 0 end
  if T and T > now + P.ahead then
    -- Milliseconds (a near end when read so) are taken as such; anything else that far is not a window end.
    if T / 1000 > now - P.ahead and T / 1000 <= now + P.ahead then T = T / 1000 else T = nil end
  end
  if T and T <= now then return end                -- that window is over: its numbers mean nothing now
  if not T then
    -- No window end to go by: the lower of report and count, except that a spent budget with no known
    -- end takes the answer of its probe (the only request out), or it could never grow again.
    if not s.rem or (not s.rst and s.rem <= 0) or est < s.rem then s.rem = est end
    return
  end
  local before = s.rst or s.last
  if before and T > before then
    local d = T - before
    if not s.len or d < s.len then s.len = d end
  end
  if not s.rst then
    if s.roll and s.rem and s.rem < est then est = s.rem end  -- slots taken since the window began count
    s.rem, s.rst, s.since, s.roll = est, T, now, nil
  elseif T > s.rst then
    s.rem, s.rst, s.since = est, T, now             -- a new window: the server's word
  elseif T == s.rst then
    if est < s.rem then s.rem = est end             -- same window: the lower of report and count
  elseif sent >= s.since then
    s.rem, s.rst, s.since = est, T, now             -- an earlier end, from a request sent since: a correction
  end
end

-- release(s, now, sent, window, probe): a request failed without an answer. A slot that never reached the
-- server (sent == 0) goes back to its window if that is still the current one.
local function release(s, now, sent, window, probe)
  if probe == 1 then s.prb = nil end
  if sent == 0 and s.rem and (s.rst or -1) == window and (not s.rst or now < s.rst) then
    s.rem = s.rem + 1
  end
end
]==]

local env = { math = math }
local chunk = assert((loadstring or load)(_M.SOURCE .. "\nreturn acquire, update, release", "=intercom.budget",
  nil, env))
if setfenv then setfenv(chunk, env) end
local acquire, update, release = chunk()

_M.acquire, _M.update, _M.release = acquire, update, release

--- One step on record `s`, as the stores that keep the record in this process run it (the Redis store runs
--- the same three functions inside its script). op: "acquire" (now, guard) -> wait, go, why, window;
--- "update" (now, R, T, L, later, sent) -> true; "release" (now, sent, window, probe) -> true.
function _M.step(s, op, a, b, c, d, e, f)
  if op == "acquire" then return acquire(s, a, _M.PARAMS, b) end
  if op == "update" then
    update(s, a, b, c, d, e, f, _M.PARAMS)
  else
    release(s, a, b, c, d)
  end
  return true
end

--- The record as one string ("lim=...;rem=...;"), for stores that keep a string (nginx's shared dict).
function _M.encode(s)
  local out = {}
  for _, f in ipairs(_M.FIELDS) do
    local v = s[f]
    if v ~= nil then out[#out + 1] = f .. "=" .. string.format("%.17g", v) end
  end
  return table.concat(out, ";")
end

--- The record from encode's string (nil or "" gives an empty record; unknown or bad fields are dropped).
function _M.decode(str)
  local s = {}
  if type(str) ~= "string" then return s end
  for k, v in str:gmatch("(%a+)=([^;]*)") do
    local n = tonumber(v)
    if n and n == n then s[k] = n end
  end
  return s
end

return _M
