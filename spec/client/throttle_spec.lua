-- rate_limit = "auto": the client paces itself from X-RateLimit-Remaining/Reset and never runs into a 429.
--
-- The test server enforces a real limit (control.rate_limit): a request over it gets a 429, and every
-- answer reports the budget as Intercom does.

local control = require "support.control"
local fx = require "support.fixtures"
local budget = require "intercom.budget"
local memory = require "intercom.ratelimit.memory"
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
    memory.reset()          -- clients with the same token share one budget per process: start afresh
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
  it("counts requests in flight: map at concurrency 64 gets no 429 and uses at least 90% of the budget", function()
    local limit, window, n = 100, 2, 450
    control.rate_limit(limit, window)
    local client = fx.client{ rate_limit = "auto", max_retries = 0 }
    local items = {}
    for i = 1, n do items[i] = "c" .. i end
    at_window_start()
    local t0 = socket.gettime()
    local results, errs = client:map(items, function(id) return client.contacts:find(id) end, { concurrency = 64 })
    local elapsed = socket.gettime() - t0
    local failed = 0
    for i = 1, n do if not results[i] then failed = failed + 1 end end
    assert.equal(0, failed, errs[next(errs) or 1] and tostring(errs[next(errs)]))
    local reqs = control.requests()
    assert.equal(n, #reqs)
    local counts, first, last = {}, math.huge, -math.huge
    for _, r in ipairs(reqs) do
      assert.is_false(r.rate_limited)
      local w = math.floor(r.wall / window)
      counts[w] = (counts[w] or 0) + 1
      first, last = math.min(first, w), math.max(last, w)
    end
    -- the windows but the last (which gets what is left) were used to at least 90%
    local used, per = 0, {}
    for w = first, last - 1 do
      used = used + (counts[w] or 0)
      per[#per + 1] = counts[w] or 0
    end
    assert.is_true(used >= 0.9 * limit * (last - first), ("%d requests in %d windows (%s), %.1f s"):format(used,
      last - first, table.concat(per, " "), elapsed))
    local stats = client:stats()
    assert.equal(n, stats.requests)
    assert.equal(0, stats.rate_limited)
    assert.equal(0, stats.retries)
    assert.is_true(stats.throttle_wait > 0)
  end)

  it("is not poisoned by a reset in milliseconds: later answers are believed", function()
    control.rate_limit(1000, 2)
    -- the first answer says the window ends in the year 55000 (a millisecond value)
    control.enqueue{ json = fx.contact("c1"),
                     headers = { ["X-RateLimit-Reset"] = tostring(math.floor(socket.gettime() * 1000)),
                                 ["X-RateLimit-Remaining"] = "0" } }
    local client = fx.client{ rate_limit = "auto", max_retries = 0 }
    local t0 = socket.gettime()
    for i = 1, 20 do assert.truthy(client.contacts:find("c" .. i)) end
    assert.is_true(socket.gettime() - t0 < 1.5, ("took %.2f s"):format(socket.gettime() - t0))
    assert.equal(20, #control.requests())
  end)

  it("ignores resets that are all in milliseconds, and still meets no 429 once the budget is spent", function()
    control.rate_limit(4, 1, { reset_ms = true })
    local client = fx.client{ rate_limit = "auto", max_retries = 0 }
    at_window_start()
    local t0 = socket.gettime()
    for i = 1, 10 do
      local res, err = client.contacts:find("c" .. i)
      assert.is_nil(err, err and tostring(err))
      assert.truthy(res)
    end
    for _, r in ipairs(control.requests()) do assert.is_false(r.rate_limited) end
    assert.is_true(socket.gettime() - t0 < 6, ("took %.2f s"):format(socket.gettime() - t0))
  end)

  it("corrects a server clock 5 minutes ahead from its Date header", function()
    control.rate_limit(LIMIT, WINDOW, { clock_offset = 300 })
    local client = fx.client{ rate_limit = "auto", max_retries = 0 }
    at_window_start()
    local t0 = socket.gettime()
    for i = 1, N do
      local res, err = client.contacts:find("c" .. i)
      assert.is_nil(err, err and tostring(err))
      assert.truthy(res)
    end
    local elapsed = socket.gettime() - t0
    for _, r in ipairs(control.requests()) do assert.is_false(r.rate_limited) end
    assert.is_true(elapsed >= WINDOW and elapsed <= 4 * WINDOW + 3, ("took %.2f s"):format(elapsed))
  end)

  it("counts requests, retries and 429s in stats, with or without a budget", function()
    control.rate_limit(nil)
    control.enqueue{ status = 429, json = fx.error_list("rate_limit_exceeded", "slow down"),
                     headers = { ["Retry-After"] = "0" } }
    control.enqueue{ json = fx.contact("c1") }
    local client = fx.client{ max_retries = 1 }
    assert.same({ requests = 0, retries = 0, rate_limited = 0, throttle_wait = 0 }, client:stats())
    assert.truthy(client.contacts:find("c1"))
    local stats = client:stats()
    assert.same({ requests = 2, retries = 1, rate_limited = 1, throttle_wait = 0 }, stats)
    stats.requests = 99                    -- a copy: the client's own counts do not change
    assert.equal(2, client:stats().requests)
    assert.equal(2, #control.requests())
  end)

  it("gives the slot back when the transport raises: the raise reaches the caller, the next call goes at once",
    function()
    -- The first request is the budget's probe: while it is out, the others wait for its answer (up to 2 s).
    -- A transport that raises (a caller's download sink, a custom transport) must not leave it out.
    local curl = require("intercom.transport.curl").new{}
    local raised = false
    local transport = { request = function(_, req)
      if not raised then
        raised = true
        error("the sink failed", 0)
      end
      return curl:request(req)
    end }
    local client = fx.client{ rate_limit = "auto", max_retries = 0, transport = transport }
    local ok, e = pcall(client.contacts.find, client.contacts, "c1")
    assert.is_false(ok)
    assert.equal("the sink failed", e)
    assert.is_nil(next(client._throttle.inflight))
    local t0 = socket.gettime()
    assert.truthy(client.contacts:find("c2"))
    local took = socket.gettime() - t0
    assert.is_true(took < 1, ("the next call waited %.2f s"):format(took))
    assert.equal(1, #control.requests())
    curl:close()
  end)

  it("names the budget in its throttle events and counts the wait in stats", function()
    local events = {}
    local client = fx.client{ rate_limit = "auto", max_retries = 0,
                              logger = function(e) events[#events + 1] = e end }
    for i = 1, 5 do assert.truthy(client.contacts:find("c" .. i)) end
    local throttled = 0
    for _, e in ipairs(events) do
      if e.event == "throttle" then
        throttled = throttled + 1
        assert.equal("local", e.budget)
        assert.matches("budget local", e.message)
        assert.is_nil(e.message:find(fx.TOKEN, 1, true))
      end
    end
    assert.is_true(throttled >= 1)
    assert.is_true(client:stats().throttle_wait > 0)
  end)
end)

describe("intercom.budget", function()
  local P = budget.PARAMS
  local NOW = 1700000000.25

  local function go(s, now)
    local wait, ok = budget.acquire(s, now, P)
    return { wait, ok }
  end

  local function update(s, now, R, T, L, later, sent)
    budget.update(s, now, R, T, L, later or 0, sent or now, P)
  end

  it("lets one request (the probe) go while nothing is known; the others wait for its answer", function()
    local s = {}
    assert.same({ 0, 1, "probe", -1 }, { budget.acquire(s, NOW, P) })
    assert.same({ P.poll, 0, "probe", -1 }, { budget.acquire(s, NOW, P) })
    update(s, NOW + 0.01, 9, 1700000002, 10)
    assert.same({ 0, 1 }, go(s, NOW + 0.01))
  end)

  it("lets everything go when the server reports no limit", function()
    local s = {}
    budget.acquire(s, NOW, P)
    update(s, NOW, nil, nil, nil)
    for _ = 1, 100 do assert.same({ 0, 1 }, go(s, NOW)) end
  end)

  it("spreads the remaining budget over the time left, then waits for the window's end", function()
    local s = {}
    update(s, NOW, 4, 1700000002.25 + P.guard, 10)   -- 2 s left before the guard, 4 requests
    local waits = {}
    for i = 1, 4 do
      local w, ok = budget.acquire(s, NOW, P)
      assert.equal(1, ok)
      waits[i] = w
    end
    assert.near(0, waits[1], 1e-6)
    assert.near(0.5, waits[2], 1e-6)
    assert.near(1.0, waits[3], 1e-6)
    assert.near(1.5, waits[4], 1e-6)
    local w, ok, why = budget.acquire(s, NOW, P)
    assert.equal(0, ok)                    -- spent: ask again at the window's end
    assert.equal("reset", why)
    assert.near(2 + P.guard + P.margin, w, 1e-6)
    -- at the end the next window allows the whole limit, in a burst until its answers tell its end
    local after = 1700000002.25 + P.guard + P.margin
    for _ = 1, 10 do assert.same({ 0, 1 }, go(s, after)) end
    -- spent again with its end still untold: no probe beyond the limit, ask again until an answer tells
    assert.same({ P.poll, 0, "reset", -1 }, { budget.acquire(s, after, P) })
  end)

  it("counts the requests still in flight that the server had not seen", function()
    local s = {}
    update(s, NOW, 99, 1700000002, 100)
    for _ = 1, 64 do assert.equal(1, select(2, budget.acquire(s, NOW, P))) end
    assert.equal(35, s.rem)
    -- the first of the 64 answers: 98 left, but 63 were sent after it and are still out
    update(s, NOW + 0.01, 98, 1700000002, 100, 63)
    assert.equal(35, s.rem)
    -- an answer that saw another client's requests too lowers the count
    update(s, NOW + 0.02, 60, 1700000002, 100, 40)
    assert.equal(20, s.rem)
    -- a higher report in the same window does not raise it
    update(s, NOW + 0.03, 90, 1700000002, 100, 0)
    assert.equal(20, s.rem)
  end)

  it("starts the next window with fewer slots for each slot given close to this one's end", function()
    local s = {}
    update(s, NOW, 1, NOW + 0.12, 10)        -- one slot, 0.12 s before the end: its request may arrive late
    assert.same({ 0, 1 }, go(s, NOW))
    assert.equal(1, s.late)
    local after = NOW + 0.12 + P.margin
    for _ = 1, 9 do assert.same({ 0, 1 }, go(s, after)) end
    assert.same({ P.poll, 0 }, go(s, after))   -- the tenth slot was the late one's
  end)

  it("gives a slot back when its request never reached the server", function()
    local s = {}
    update(s, NOW, 5, 1700000002, 10)
    local _, _, _, window = budget.acquire(s, NOW, P)
    assert.equal(4, s.rem)
    budget.release(s, NOW, 0, window, 0)
    assert.equal(5, s.rem)
    budget.acquire(s, NOW, P)
    budget.release(s, NOW, 1, window, 0)     -- it may have been counted: the slot stays spent
    assert.equal(4, s.rem)
  end)

  it("takes a new window's numbers and ignores a late answer from an earlier one", function()
    local s = {}
    update(s, NOW, 5, 1700000010, 10)
    update(s, NOW, 9, 1700000020, 10)       -- a later window
    assert.equal(9, s.rem)
    update(s, NOW + 1, 0, 1700000010, 10, 0, NOW - 1)   -- sent before the later window was known
    assert.equal(9, s.rem)
    assert.equal(1700000020, s.rst)
  end)

  it("lets a saner window replace a wrong one, and distrusts a reset too far away", function()
    local s = {}
    update(s, NOW, 0, NOW + 65, 1000)       -- believable at first: a minute away
    update(s, NOW + 1, 998, 1700000010, 1000, 0, NOW + 0.5)   -- a request sent since says 10 s ahead
    assert.equal(998, s.rem)
    assert.equal(1700000010, s.rst)
    local t = {}
    update(t, NOW, 0, NOW + 86400, 1000)    -- a day away: not a window end
    assert.is_nil(t.rst)
    update(t, NOW, 5, (NOW + 2) * 1000, 1000)   -- milliseconds, read as such
    assert.near(NOW + 2, t.rst, 1e-6)
  end)

  it("forgets a window that is over", function()
    local s = {}
    update(s, NOW - 5, 0, 1700000000, 10)
    assert.same({ 0, 1 }, go(s, NOW))
  end)

  it("keeps the record through encode and decode", function()
    local s = { lim = 10, rem = 3, rst = 1700000002, since = NOW, nxt = NOW + 0.123456789 }
    assert.same(s, budget.decode(budget.encode(s)))
    assert.same({}, budget.decode(nil))
    assert.same({ rem = 1 }, budget.decode("rem=1;rst=x;junk"))
  end)
end)
