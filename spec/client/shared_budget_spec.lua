-- rate_limit = { shared = "redis://..." }: one budget for every process that uses the same Redis and
-- token, against a real redis-server started here and the test server's window limit; and what happens
-- when Redis is down, dies mid-run, is slow or is not Redis at all.

local control = require "support.control"
local fx = require "support.fixtures"
local redis = require "support.redis"
local util = require "support.util"
local memory = require "intercom.ratelimit.memory"
local core = require "intercom.core"
local socket = require "socket"

local function at_window_start(window)
  local now = socket.gettime()
  socket.sleep(window - now % window + 0.05)
end

local function events_of(list, reason)
  local out = {}
  for _, e in ipairs(list) do
    if e.event == "throttle" and e.reason == reason then out[#out + 1] = e end
  end
  return out
end

local function ids(n)
  local list = {}
  for i = 1, n do list[i] = "c" .. i end
  return list
end

local function run_map(client, n, concurrency, each)
  local done = 0
  local results, errs = client:map(ids(n), function(id)
    local c, err = client.contacts:find(id)
    done = done + 1
    if each then each(done) end
    return c, err
  end, { concurrency = concurrency })
  local ok = 0
  for i = 1, n do if results[i] then ok = ok + 1 end end
  return ok, errs
end

describe("a rate-limit budget shared through Redis", function()
  local r

  setup(function()
    assert(redis.available(), "redis-server is not installed: run `make deps`")
    r = redis.start()
  end)
  teardown(function() if r then r:stop() end end)

  before_each(function()
    memory.reset()
    control.reset()
    control.default{ json = fx.contact("c1") }
    if not r.pid then r:start() end
    r:cli("FLUSHALL")
  end)
  after_each(function() control.reset() end)

  it("paces four processes at concurrency 8 as one: no 429, all succeed, within 1.35x the budget's time", function()
    local limit, window, per, procs = 40, 1, 100, 4
    control.rate_limit(limit, window)
    local lua = os.getenv("INTERCOM_SPEC_LUA") or "lua5.4"
    at_window_start(window)
    local t0 = socket.gettime()
    local pipes = {}
    for p = 1, procs do
      pipes[p] = io.popen(("%s spec/support/budget_worker.lua %q %q %d 8 p%d- 2>&1"):format(lua, control.url(),
        r.url, per, p))
    end
    local outs = {}
    for p = 1, procs do
      outs[p] = pipes[p]:read("*a")
      pipes[p]:close()
    end
    local elapsed = socket.gettime() - t0
    for p = 1, procs do
      assert.matches("^ok=" .. per .. " requests=" .. per .. " limited=0 ", outs[p])
    end
    local reqs = control.requests()
    assert.equal(procs * per, #reqs)
    for _, q in ipairs(reqs) do assert.is_false(q.rate_limited) end
    local allowed = procs * per / limit * window
    assert.is_true(elapsed <= 1.35 * allowed, ("took %.2f s, the budget allows %.2f s"):format(elapsed, allowed))
    -- the budget's key is a hash of the token, never the token
    local keys = r:cli("KEYS", "*")
    assert.matches("intercom:ratelimit:%x+", keys)
    assert.is_nil(keys:find(fx.TOKEN, 1, true))
  end)

  it("uses the key given instead of the token's hash", function()
    control.rate_limit(100, 2)
    local client = fx.client{ rate_limit = { shared = r.url .. "/2", key = "workspace-42" }, max_retries = 0 }
    assert.truthy(client.contacts:find("c1"))
    assert.truthy(client.contacts:find("c2"))
    assert.matches("lim\n100", r:cli("-n", "2", "HGETALL", "workspace-42"))
    assert.matches("rem\n%d+", r:cli("-n", "2", "HGETALL", "workspace-42"))
    assert.equal("", (r:cli("-n", "0", "KEYS", "*"):gsub("%s+", "")))
  end)

  it("paces alone when Redis is down at the start, logs it once, and loses no request", function()
    control.rate_limit(10, 1)
    local events = {}
    local client = fx.client{ rate_limit = { shared = "redis://127.0.0.1:" .. util.closed_port() }, max_retries = 5,
                              logger = function(e) events[#events + 1] = e end }
    local ok = run_map(client, 30, 8)
    assert.equal(30, ok)
    assert.equal(1, #events_of(events, "store_down"))
    assert.matches("connect", events_of(events, "store_down")[1].error)
    for _, q in ipairs(control.requests()) do assert.is_false(q.rate_limited) end
  end)

  it("survives Redis killed in the middle of a run, and uses it again once it is back", function()
    control.rate_limit(20, 1)
    local events = {}
    local client = fx.client{ rate_limit = { shared = r.url }, max_retries = 5,
                              logger = function(e) events[#events + 1] = e end }
    local killed_at
    local ok, errs = run_map(client, 100, 8, function(done)
      if done == 25 then r:kill(); killed_at = core.now() end
      if done == 60 then r:start() end
    end)
    assert.equal(100, ok, tostring(errs[next(errs) or 1]))
    assert.truthy(killed_at)
    assert.equal(1, #events_of(events, "store_down"))
    assert.equal(1, #events_of(events, "store_back"))
    -- the budget is in Redis again
    assert.matches("intercom:ratelimit:", r:cli("KEYS", "*"))
    assert.is_true(client:stats().requests >= 100)
  end)

  it("falls back when Redis is too slow to answer (a listener that never replies)", function()
    control.rate_limit(100, 2)
    local silent = assert(socket.bind("127.0.0.1", 0))
    local _, port = silent:getsockname()
    local events = {}
    local client = fx.client{ rate_limit = { shared = "redis://127.0.0.1:" .. port, timeout = 0.1 },
                              max_retries = 0, logger = function(e) events[#events + 1] = e end }
    local t0 = socket.gettime()
    local ok = run_map(client, 20, 4)
    silent:close()
    assert.equal(20, ok)
    assert.equal(1, #events_of(events, "store_down"))
    assert.matches("timeout", events_of(events, "store_down")[1].error)
    assert.is_true(socket.gettime() - t0 < 3, ("took %.2f s"):format(socket.gettime() - t0))
  end)

  it("falls back when what answers is not Redis (an HTTP server)", function()
    control.rate_limit(100, 2)
    local port = control.url():match(":(%d+)$")
    local events = {}
    local client = fx.client{ rate_limit = { shared = "redis://127.0.0.1:" .. port }, max_retries = 0,
                              logger = function(e) events[#events + 1] = e end }
    local ok = run_map(client, 10, 4)
    assert.equal(10, ok)
    assert.equal(1, #events_of(events, "store_down"))
    assert.matches("not a Redis reply", events_of(events, "store_down")[1].error)
    for _, e in ipairs(events) do assert.is_nil((e.message or ""):find(fx.TOKEN, 1, true)) end
  end)

  it("raises on a bad shared value before anything is sent", function()
    local intercom = require "intercom"
    assert.has_error(function() intercom.new{ token = "t", rate_limit = { shared = "redis:/x" } } end)
    assert.has_error(function() intercom.new{ token = "t", rate_limit = { shared = "ngx.shared.rl" } } end)
    assert.has_error(function() intercom.new{ token = "t", rate_limit = { sharde = "redis://h:1" } } end)
    assert.has_error(function() intercom.new{ token = "t", rate_limit = { timeout = 1 } } end)
    assert.equal(0, #control.requests())
  end)
end)
