-- client:map and the curl multi under it (src/multi.c, lua/intercom/scheduler.lua), against the test
-- server: real concurrent HTTP over loopback. The server counts requests open at once (stats.max_open),
-- records each request's arrival time and connection, and can delay any answer.

local control = require "support.control"
local fx = require "support.fixtures"
local core = require "intercom.core"
local socket = require "socket"

local function ids(n, prefix)
  local list = {}
  for i = 1, n do list[i] = (prefix or "c") .. i end
  return list
end

local function find(client)
  return function(id) return client.contacts:find(id) end
end

local function requests_for(path)
  local out = {}
  for _, r in ipairs(control.requests()) do
    if r.path == path then out[#out + 1] = r end
  end
  return out
end

describe("client:map", function()
  before_each(function() control.reset() end)

  it("returns results in input order although responses arrive in another order", function()
    local list = ids(6)
    for i, id in ipairs(list) do
      -- the first items answer last
      control.enqueue{ match = { path = "/contacts/" .. id }, json = fx.contact(id), delay = 0.05 * (7 - i) }
    end
    local client = fx.client()
    local finished = {}
    local results, errs = client:map(list, function(id)
      local c, err = client.contacts:find(id)
      finished[#finished + 1] = id
      return c, err
    end, { concurrency = 6 })
    assert.same({}, errs)
    for i, id in ipairs(list) do assert.equal(id, results[i].id) end
    assert.same({ "c6", "c5", "c4", "c3", "c2", "c1" }, finished)
    assert.equal(6, control.stats().max_open)
  end)

  it("never runs more than `concurrency` requests at once, and exactly that many when it can", function()
    control.default{ json = fx.contact("x"), delay = 0.15 }
    local client = fx.client()
    local running, most = 0, 0
    local results, errs = client:map(ids(10), function(id)
      running = running + 1
      if running > most then most = running end
      local c, err = client.contacts:find(id)
      running = running - 1
      return c, err
    end, { concurrency = 3 })
    assert.same({}, errs)
    assert.equal(10, #results)
    assert.equal(3, most)
    local stats = control.stats()
    assert.equal(3, stats.max_open)
    assert.equal(10, stats.total)
  end)

  it("runs one at a time with concurrency 1", function()
    control.default{ json = fx.contact("x"), delay = 0.05 }
    local results = fx.client():map(ids(4), find(fx.client()), { concurrency = 1 })
    assert.equal(4, #results)
    assert.equal(1, control.stats().max_open)
  end)

  it("reports per-item failures in errs: an API error, nil + err from fn, and a raising fn", function()
    control.enqueue{ match = { path = "/contacts/c2" }, status = 404,
                     json = fx.error_list("not_found", "User Not Found") }
    control.default{ json = fx.contact("ok") }
    local client = fx.client()
    local results, errs = client:map(ids(5), function(id)
      if id == "c4" then error("boom for " .. id) end
      if id == "c5" then return nil, "custom failure" end
      return client.contacts:find(id)
    end)
    assert.equal("ok", results[1].id)
    assert.is_nil(results[2])
    assert.equal("api", errs[2].kind)
    assert.equal(404, errs[2].status)
    assert.equal("not_found", errs[2].code)
    assert.equal("/contacts/c2", errs[2].path)
    assert.equal("ok", results[3].id)
    assert.is_nil(results[4])
    assert.truthy(tostring(errs[4]):find("boom for c4", 1, true))
    assert.equal("custom failure", errs[5])
    assert.is_nil(errs[1])
    assert.is_nil(errs[3])
  end)

  it("keeps a raised error object as it is", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "gone") }
    local client = fx.client()
    local _, errs = client:map({ "x" }, function(id)
      local c, err = client.contacts:find(id)
      if not c then error(err) end
      return c
    end)
    assert.equal("api", errs[1].kind)
    assert.equal("not_found", errs[1].code)
  end)

  it("retries inside map (503 then 200) while the other items go on", function()
    control.enqueue{ match = { path = "/contacts/c1" }, status = 503, headers = { ["Retry-After"] = "0.4" },
                     json = fx.error_list("service_unavailable", "try later") }
    control.default{ json = fx.contact("x"), delay = 0.05,
                     headers = { ["X-RateLimit-Limit"] = "1000", ["X-RateLimit-Remaining"] = "990" } }
    local client = fx.client()
    local events = {}
    client._logger = function(e) events[#events + 1] = e end
    local results, errs = client:map(ids(4), find(client), { concurrency = 2 })
    assert.same({}, errs)
    for i = 1, 4 do assert.equal("x", results[i].id) end
    local c1 = requests_for("/contacts/c1")
    assert.equal(2, #c1)
    -- while c1 waited for its retry, c2..c4 were sent: the wait did not block the other tasks
    for _, id in ipairs{ "c2", "c3", "c4" } do
      local r = requests_for("/contacts/" .. id)
      assert.equal(1, #r)
      assert.is_true(r[1].time < c1[2].time, id .. " waited for c1's retry")
    end
    local retried = 0
    for _, e in ipairs(events) do if e.event == "retry" then retried = retried + 1 end end
    assert.equal(1, retried)
    -- the rate-limit state is the client's
    assert.equal(990, client.rate_limit.remaining)
  end)

  it("gives up after max_retries inside map like outside it", function()
    control.default{ status = 500, headers = { ["Retry-After"] = "0" }, json = fx.error_list("server_error", "x") }
    local client = fx.client{ max_retries = 1 }
    local _, errs = client:map(ids(2), find(client))
    for i = 1, 2 do
      assert.equal(500, errs[i].status)
      assert.equal(2, errs[i].attempts)
    end
    assert.equal(4, control.stats().total)
  end)

  it("runs a paginating iterator inside fn through the multi (companies, page numbers)", function()
    local function page(company, n, total)
      return { type = "list", data = { fx.contact(company .. "-p" .. n) },
               pages = { type = "pages", page = n, per_page = 1, total_pages = total } }
    end
    for _, co in ipairs{ "k1", "k2", "k3" } do
      for n = 1, 3 do
        control.enqueue{ match = { path = "/companies/" .. co .. "/contacts" }, json = page(co, n, 3), delay = 0.02 }
      end
    end
    local client = fx.client()
    local results, errs = client:map({ "k1", "k2", "k3" }, function(co)
      local seen = {}
      for c in client.companies:list_attached_contacts_each(co) do seen[#seen + 1] = c.id end
      return seen
    end, { concurrency = 2 })
    assert.same({}, errs)
    for i, co in ipairs{ "k1", "k2", "k3" } do
      assert.same({ co .. "-p1", co .. "-p2", co .. "-p3" }, results[i])
    end
    assert.equal(9, control.stats().total)
    assert.equal(2, control.stats().max_open)
  end)

  it("runs contacts:each inside fn without touching the blocking session", function()
    control.enqueue{ match = { path = "/contacts/a" }, json = fx.contact("a") }
    control.enqueue{ match = { path = "/contacts/b" }, json = fx.contact("b"), delay = 0.5 }
    -- a's pages are queued first and a starts paging at once; b pages after its slow find
    control.enqueue{ match = { path = "/contacts" }, json = fx.contact_page({ "a1", "a2" }, "ca", 1, 2) }
    control.enqueue{ match = { path = "/contacts" }, json = fx.contact_page({ "a3" }, nil, 2, 2) }
    control.enqueue{ match = { path = "/contacts" }, json = fx.contact_page({ "b1", "b2" }, "cb", 1, 2) }
    control.enqueue{ match = { path = "/contacts" }, json = fx.contact_page({ "b3" }, nil, 2, 2) }
    local client = fx.client()
    local transport = client:_get_transport()
    local session = transport.session
    transport.session = setmetatable({}, { __index = function() error("the blocking session was used in map") end })
    local results, errs = client:map({ "a", "b" }, function(id)
      assert(client.contacts:find(id))
      local seen = {}
      for c in client.contacts:each{ per_page = 2 } do seen[#seen + 1] = c.id end
      return seen
    end, { concurrency = 2 })
    transport.session = session
    assert.same({}, errs)
    assert.same({ "a1", "a2", "a3" }, results[1])
    assert.same({ "b1", "b2", "b3" }, results[2])
    assert.equal(6, control.stats().total)
    local pages = requests_for("/contacts")
    assert.equal("per_page=2&starting_after=ca", pages[2].query)
    assert.equal("per_page=2&starting_after=cb", pages[4].query)
    -- and a blocking call after map still works
    control.enqueue{ json = fx.contact("after") }
    assert.equal("after", assert(client.contacts:find("after")).id)
  end)

  it("runs a map nested inside fn on the same scheduler", function()
    control.default{ json = fx.contact("x"), delay = 0.05 }
    local client = fx.client()
    local results, errs = client:map({ 3, 2 }, function(n)
      local inner, inner_errs = client:map(ids(n), find(client), { concurrency = 2 })
      assert(next(inner_errs) == nil)
      return #inner
    end, { concurrency = 2 })
    assert.same({}, errs)
    assert.same({ 3, 2 }, results)
    assert.equal(5, control.stats().total)
    assert.is_true(control.stats().max_open >= 2)
  end)

  it("sends request bodies from map (search POSTs)", function()
    control.default{ json = fx.contact_page({ "s" }, nil, 1, 1) }
    local client = fx.client()
    local q = require("intercom").query
    local results, errs = client:map({ "a@x.io", "b@x.io" }, function(email)
      return client.contacts:search{ query = q.eq("email", email) }
    end)
    assert.same({}, errs)
    assert.equal("s", results[1].data[1].id)
    local bodies = {}
    for _, r in ipairs(control.requests()) do
      assert.equal("POST", r.method)
      assert.equal("application/json", r.headers["content-type"])
      local b = require("cjson").decode(r.body)
      bodies[b.query.value] = true
    end
    assert.is_true(bodies["a@x.io"] and bodies["b@x.io"])
  end)

  it("reports network failures and timeouts per item", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    srv:close()
    local dead = fx.client{ base_url = "http://127.0.0.1:" .. port, max_retries = 0 }
    local _, errs = dead:map(ids(2), find(dead))
    assert.equal("network", errs[1].kind)
    assert.equal("network", errs[2].kind)

    control.default{ json = fx.contact("slow"), delay = 1 }
    local client = fx.client{ timeout = 0.2, max_retries = 0 }
    local _, terrs = client:map(ids(2), find(client))
    assert.equal("timeout", terrs[1].kind)
    assert.equal("timeout", terrs[2].kind)
  end)

  it("keeps a coroutine of the caller's own inside fn on the blocking session", function()
    control.default{ json = fx.contact("x") }
    local client = fx.client()
    local results, errs = client:map({ "a" }, function(id)
      local co = coroutine.wrap(function() coroutine.yield(client.contacts:find(id)) end)
      return co()
    end)
    assert.same({}, errs)
    assert.equal("x", results[1].id)
  end)

  it("fails an item whose fn yields by itself instead of hanging", function()
    local client = fx.client()
    local results, errs = client:map({ 1, 2 }, function(n)
      if n == 1 then coroutine.yield("stray") end
      return n * 10
    end)
    assert.is_nil(results[1])
    assert.truthy(errs[1]:find("yielded", 1, true))
    assert.equal(20, results[2])
  end)

  it("returns two empty tables for no items and sends nothing", function()
    local results, errs = fx.client():map({}, function() error("not called") end)
    assert.same({}, results)
    assert.same({}, errs)
    assert.equal(0, control.stats().total)
  end)

  it("raises on misuse before anything is sent, at the caller's line", function()
    local client = fx.client()
    local f = find(client)
    local cases = {
      { function() client:map({ "a" }, "not a function") end, "fn must be a function" },
      { function() client:map({ "a" }) end, "fn must be a function" },
      { function() client:map("a", f) end, "items must be a table" },
      { function() client:map({ "a" }, f, { concurrency = 0 }) end, "expected a positive integer" },
      { function() client:map({ "a" }, f, { concurrency = -2 }) end, "expected a positive integer" },
      { function() client:map({ "a" }, f, { concurrency = 1.5 }) end, "expected a positive integer" },
      { function() client:map({ "a" }, f, { concurrency = "4" }) end, "expected a positive integer" },
      { function() client:map({ "a" }, f, { concurrency = math.huge }) end, "expected a positive integer" },
      { function() client:map({ "a" }, f, { concurency = 4 }) end, 'did you mean "concurrency"' },
      { function() client:map({ "a" }, f, 4) end, "options must be a table" },
      { function() client.map({ "a" }, f) end, "call it with a colon" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.truthy(err:find(case[2], 1, true), err)
      assert.truthy(err:find("map_spec.lua", 1, true), "not blamed on the caller: " .. err)
    end
    assert.equal(0, control.stats().total)
  end)

  it("reuses the multi's connections from one map to the next", function()
    control.default{ json = fx.contact("x") }
    local client = fx.client()
    client:map(ids(2), find(client), { concurrency = 2 })
    client:map(ids(2), find(client), { concurrency = 2 })
    assert.equal(2, control.stats().connections)
    client:close()
  end)

  it("is fast: 100 items with a 100 ms server delay at concurrency 16", function()
    control.default{ json = fx.contact("x"), delay = 0.1 }
    local client = fx.client()
    local started = core.now()
    local results, errs = client:map(ids(100), find(client), { concurrency = 16 })
    local elapsed = core.now() - started
    assert.same({}, errs)
    assert.equal(100, #results)
    assert.equal(16, control.stats().max_open)
    -- one at a time would take 10 s; 16 at a time about 0.7 s. The bound is generous for slow machines.
    assert.is_true(elapsed < 5, ("took %.2f s"):format(elapsed))
  end)
end)

describe("client:map, streaming and stopping", function()
  before_each(function() control.reset() end)

  it("pulls items from an iterator only as workers free up (contacts:each, bounded memory)", function()
    control.enqueue{ match = { path = "/contacts" }, json = fx.contact_page({ "a", "b", "c" }, "cur1", 1, 2) }
    control.enqueue{ match = { path = "/contacts" }, json = fx.contact_page({ "d", "e" }, nil, 2, 2) }
    control.default{ json = fx.contact("x"), delay = 0.05 }
    local client = fx.client()
    local pulled, running, most_ahead = 0, 0, 0
    local each = client.contacts:each{ per_page = 3 }
    local function iter()
      local c = each()
      if c then
        pulled = pulled + 1
        most_ahead = math.max(most_ahead, pulled - running)
      end
      return c
    end
    local results, errs = client:map(iter, function(c)
      running = running + 1
      local r, err = client.contacts:find(c.id)
      return r and c.id, err
    end, { concurrency = 2 })
    assert.same({}, errs)
    assert.same({ "a", "b", "c", "d", "e" }, results)
    -- never more than the workers' items taken out of the iterator ahead of them
    assert.is_true(most_ahead <= 2, "pulled ahead: " .. most_ahead)
    assert.equal(7, #control.requests())       -- two pages and five finds
  end)

  it("records what a raising iterator raised as the error of the item it was asked for", function()
    local client = fx.client()
    control.default{ json = fx.contact("x") }
    local n = 0
    local results, errs = client:map(function()
      n = n + 1
      if n == 3 then error("no more pages") end
      return "c" .. n
    end, function(id) return client.contacts:find(id) end, { concurrency = 1 })
    assert.truthy(results[1])
    assert.truthy(results[2])
    assert.matches("no more pages", tostring(errs[3]))
    assert.is_nil(results[4])
  end)

  it("stops taking new items after the first error with fail_fast", function()
    control.enqueue{ match = { path = "/contacts/c2" }, status = 404, json = fx.error_list("not_found", "nope") }
    control.default{ json = fx.contact("x"), delay = 0.05 }
    local client = fx.client()
    local results, errs = client:map(ids(20), find(client), { concurrency = 2, fail_fast = true })
    assert.equal("not_found", errs[2].code)
    local started = #control.requests()
    assert.is_true(started <= 4, "started " .. started)
    assert.is_nil(results[20])
    assert.is_nil(errs[20])
    assert.has_error(function() client:map({ 1 }, find(client), { fail_fast = "yes" }) end)
  end)

  it("lets a task close the client: the other tasks finish with their results", function()
    control.default{ json = fx.contact("x"), delay = 0.1 }
    local client = fx.client()
    local results, errs = client:map(ids(6), function(id)
      local c, err = client.contacts:find(id)
      if id == "c1" then client:close() end
      return c, err
    end, { concurrency = 6 })
    assert.same({}, errs)
    for i = 1, 6 do assert.equal("x", results[i].id) end
    -- closed after the map, and usable again (a new transport)
    assert.truthy(client.contacts:find("again"))
  end)

  it("runs a download beside other tasks without blocking them", function()
    local body = string.rep("z", 200)
    control.enqueue{ match = { path = "/download/content/data/job1" }, body = body, drip = 0.005 }   -- ~1 s
    control.default{ json = fx.contact("x"), delay = 0.2 }
    local client = fx.client()
    local finished = {}
    local t0 = socket.gettime()
    local results, errs = client:map({ "dl", "c1", "c2", "c3" }, function(what)
      local r, err
      if what == "dl" then r, err = client.data_export:download("job1") else r, err = client.contacts:find(what) end
      finished[what] = socket.gettime() - t0
      return r, err
    end, { concurrency = 4 })
    assert.same({}, errs)
    assert.equal(body, results[1])
    for _, id in ipairs({ "c1", "c2", "c3" }) do
      assert.is_true(finished[id] < 0.7, id .. " took " .. finished[id])
    end
    assert.is_true(finished.dl >= 0.9, "download took " .. finished.dl)
  end)
end)
