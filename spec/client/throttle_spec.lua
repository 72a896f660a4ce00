-- rate_limit = "auto": the client paces itself from X-RateLimit-Remaining/Reset and never runs into a 429.
--
-- The test server enforces a real limit (control.rate_limit): a request over it gets a 429, and every
-- answer reports the budget as Intercom does.

local control = require "support.control"
local fx = require "support.fixtures"
local throttle = require "intercom.throttle"
local socket = require "socket"

local LIMIT, WINDOW, N = 3, 2, 8      -- 8 requests at 3 per 2 s need at least three windows

-- Requests the server saw, and how many of them came in gaps of at least `min` seconds.
local function spaced(reqs, min)
  local n = 0
  for i = 2, #reqs do
    if reqs[i].time - reqs[i - 1].time >= min then n = n + 1 end
  end
  return n
end

-- Sleeps until just after the server's next window starts (its windows are aligned on the wall clock):
-- how the first window's budget gets spread depends on how much of that window is left, so every run
-- starts at the same phase instead of wherever the previous spec left the clock.
local function at_window_start()
  local now = socket.gettime()
  socket.sleep(WINDOW - now % WINDOW + 0.05)
end

local function per_window(reqs)
  local max, counts = 0, {}
  for _, r in ipairs(reqs) do
    local w = math.floor(r.wall / WINDOW)
    counts[w] = (counts[w] or 0) + 1
    if counts[w] > max then max = counts[w] end
  end
  return max
end

describe("rate_limit = \"auto\"", function()
  before_each(function()
    control.reset()
    control.default{ json = fx.contact("c1") }
    control.rate_limit(LIMIT, WINDOW)
  end)
  after_each(function() control.reset() end)

  it("never gets a 429 over a long run, and spaces the requests", function()
    local events = {}
    local client = fx.client{ rate_limit = "auto", max_retries = 0,
                              logger = function(e) events[#events + 1] = e end }
    at_window_start()
    local t0 = socket.gettime()
    for i = 1, N do
      local res, err = client.contacts:find("c" .. i)
      assert.is_nil(err, err and tostring(err))
      assert.equal("c1", res.id)
    end
    local elapsed = socket.gettime() - t0
    local reqs = control.requests()
    assert.equal(N, #reqs)
    for _, r in ipairs(reqs) do assert.is_false(r.rate_limited) end
    assert.is_true(per_window(reqs) <= LIMIT)
    assert.is_true(elapsed >= WINDOW, ("took %.2f s"):format(elapsed))
    assert.is_true(elapsed <= 4 * WINDOW + 3, ("took %.2f s"):format(elapsed))
    -- the spare budget of a window is spread out, not spent in a burst and then waited for
    assert.is_true(spaced(reqs, 0.3) >= 3, "spaced gaps: " .. spaced(reqs, 0.3))
    local throttled = 0
    for _, e in ipairs(events) do
      if e.event == "throttle" then
        throttled = throttled + 1
        assert.is_true(e.delay > 0)
        assert.matches("^throttling GET ", e.message)
      end
    end
    assert.is_true(throttled >= 2)
  end)

  it("is shared by every request of the client (all resources, one budget)", function()
    local client = fx.client{ rate_limit = "auto", max_retries = 0 }
    for i = 1, N do
      local res, err
      if i % 2 == 0 then res, err = client.contacts:find("c" .. i) else res, err = client.admins:identify() end
      assert.is_nil(err, err and tostring(err))
      assert.truthy(res)
    end
    for _, r in ipairs(control.requests()) do assert.is_false(r.rate_limited) end
  end)

  it("without the option, the same run hits 429s and is not spaced", function()
    local client = fx.client{ max_retries = 0 }
    local limited = 0
    local t0 = socket.gettime()
    for i = 1, N do
      local _, err = client.contacts:find("c" .. i)
      if err then
        assert.equal("rate_limited", err.kind)
        assert.equal(429, err.status)
        limited = limited + 1
      end
    end
    local elapsed = socket.gettime() - t0
    assert.is_true(limited >= 1, "no 429 without the throttle")
    assert.is_true(elapsed < WINDOW, ("took %.2f s"):format(elapsed))
    assert.equal(0, spaced(control.requests(), 0.3))
  end)
end)

describe("intercom.throttle", function()
  local NOW = 1700000000.25

  it("lets a request go at once while nothing is known", function()
    local t = throttle.new()
    assert.equal(0, t:acquire(NOW))
    assert.equal(0, t:acquire(NOW))
  end)

  it("waits for the reset once the budget is spent", function()
    local t = throttle.new()
    t:update{ limit = 10, remaining = 0, reset = 1700000002 }
    assert.near(1700000002 + throttle.RESET_MARGIN - NOW, t:acquire(NOW), 1e-6)
  end)

  it("spreads the remaining budget evenly over the time left, queueing simultaneous requests", function()
    local t = throttle.new()
    t:update{ limit = 10, remaining = 4, reset = 1700000002.25 }   -- 2 s left, 4 requests
    local waits = {}
    for i = 1, 5 do waits[i] = t:acquire(NOW) end
    assert.near(0, waits[1], 1e-6)
    assert.near(0.5, waits[2], 1e-6)
    assert.near(1.0, waits[3], 1e-6)
    assert.near(1.5, waits[4], 1e-6)
    assert.near(2 + throttle.RESET_MARGIN, waits[5], 1e-6)   -- budget spent: the next window
  end)

  it("does not slow a request down when the budget is large", function()
    local t = throttle.new()
    t:update{ limit = 1000, remaining = 999, reset = NOW + 10 }
    assert.equal(0, t:acquire(NOW))
    assert.equal(0, t:acquire(NOW + 0.05))
  end)

  it("forgets a window that is over", function()
    local t = throttle.new()
    t:update{ limit = 10, remaining = 0, reset = 1700000000 }
    assert.equal(0, t:acquire(NOW))
  end)

  it("takes a new window's numbers, the lower estimate within a window, and ignores a late answer", function()
    local t = throttle.new()
    t:update{ remaining = 5, reset = 1700000010 }
    t:update{ remaining = 7, reset = 1700000010 }     -- same window, higher: keep 5
    assert.equal(5, t.remaining)
    t:update{ remaining = 2, reset = 1700000010 }
    assert.equal(2, t.remaining)
    t:update{ remaining = 9, reset = 1700000020 }     -- new window
    assert.equal(9, t.remaining)
    t:update{ remaining = 0, reset = 1700000010 }     -- a late answer from the old one
    assert.equal(9, t.remaining)
    assert.equal(1700000020, t.reset)
    t:update{}                                        -- no headers: nothing changes
    assert.equal(9, t.remaining)
  end)

  it("never waits longer than MAX_WAIT, whatever the headers say", function()
    local t = throttle.new()
    t:update{ remaining = 0, reset = NOW + 86400 }
    assert.equal(throttle.MAX_WAIT, t:acquire(NOW))
  end)
end)
