-- API versions 2.12 to 2.16 over the local test server: the version a call uses, gating of the operations
-- a version has not got, query tables checked against what the version declares, the answers of the new
-- operations (PATCH, text/plain, a 302 returned as data), the new pagination shapes through the one Page,
-- and client:request, the escape hatch. Every test looks at what was SENT as well as what came back.

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"

local function raises(pattern, fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.matches(pattern, tostring(err), 1, true)
  return err
end

local function sent() return #control.requests() end

describe("API versions", function()
  before_each(function() control.reset() end)

  it("intercom.VERSIONS lists the five stable versions; the default stays 2.12", function()
    assert.same({ "2.12", "2.13", "2.14", "2.15", "2.16" }, intercom.VERSIONS)
    control.enqueue{ json = {} }
    assert(fx.client().admins:identify())
    assert.equal("2.12", control.last().headers["intercom-version"])
  end)

  it("a version must be a string from the list: a number raises (2.10 would be 2.1), and so does 2.17",
    function()
      raises('option version: expected a string, got the number 2.1', function()
        return intercom.new{ token = "t", version = 2.10 }
      end)
      raises('option version: expected one of "2.12", "2.13", "2.14", "2.15", "2.16"', function()
        return intercom.new{ token = "t", version = "2.17" }
      end)
      local c = fx.client()
      raises('contacts:find: option version: expected a string, got the number 2.16', function()
        return c.contacts:find("c1", { version = 2.16 })
      end)
      assert.equal(0, sent())
    end)

  it("an operation newer than the call's version raises at the caller's line, naming the version it "
    .. "needs and how to ask for it; nothing is sent", function()
    local c = fx.client()
    local err = raises("calls:list needs Intercom API version 2.14 or later; this call uses 2.12. Ask for it "
      .. 'with intercom.new{ version = "2.14" }, or for one call with { version = "2.14" } in the options',
      function() return c.calls:list() end)
    assert.matches("versions_spec%.lua:%d+:", err)          -- located at the caller's line
    raises("calls:list needs Intercom API version 2.14 or later; this call uses 2.13", function()
      return c.calls:list(nil, { version = "2.13" })
    end)
    raises("office_hours.schedules:list needs Intercom API version 2.16", function()
      return intercom.new{ token = "t", version = "2.15", base_url = control.url() }.office_hours.schedules:list()
    end)
    assert.equal(0, sent())
    -- the same call with the version it needs, per call and per client
    control.enqueue{ json = { type = "list", data = {}, pages = { page = 1, total_pages = 1 } } }
    control.enqueue{ json = { type = "list", data = {} } }
    assert(c.calls:list(nil, { version = "2.14" }))
    assert.equal("2.14", control.last().headers["intercom-version"])
    assert(fx.client{ version = "2.16" }.office_hours.schedules:list())
    local req = control.last()
    assert.equal("/office_hours_schedules", req.path)
    assert.equal("2.16", req.headers["intercom-version"])
  end)

  it("query tables are checked against the parameters the call's version declares", function()
    local c = fx.client()
    raises('conversations:find: "timeout" is a request option, not a query parameter: pass it in the options '
      .. "argument, after the query table: client.conversations:find(id, [params], [opts])", function()
      return c.conversations:find("1", { timeout = 5 })
    end)
    raises('conversations:find: unknown query parameter "dispay_as" (did you mean "display_as"?); version 2.12 '
      .. "declares: display_as", function()
      return c.conversations:find("1", { dispay_as = "plaintext" })
    end)
    raises('query parameter "include_translations" needs Intercom API version 2.14 or later (this call uses '
      .. "2.12)", function()
      return c.conversations:find("1", { include_translations = true })
    end)
    assert.equal(0, sent())
    control.default{ json = { type = "conversation", id = "1" } }
    assert(c.conversations:find("1", { include_translations = true }, { version = "2.14" }))
    assert.equal("include_translations=true", control.last().query)
    -- paging parameters of the operation's style are always allowed (Intercom's pagination guide)
    control.default{ json = fx.contact_page({ "a" }) }
    assert(c.contacts:list{ per_page = 5, starting_after = "x" })
    assert.equal("per_page=5&starting_after=x", control.last().query)
    -- opts.query is never checked: the way to send what the spec does not declare
    assert(c.contacts:find("c1", { query = { include_merge_history = true, anything = "y" } }))
    assert.equal("anything=y&include_merge_history=true", control.last().query)
  end)

  it("a body operation takes the query parameters of its version in opts.query (2.16: contacts:search)",
    function()
      control.enqueue{ json = fx.contact_page({ "a" }) }
      local c = fx.client{ version = "2.16" }
      assert(c.contacts:search({ query = { field = "role", operator = "=", value = "user" } },
        { query = { include_merge_history = true } }))
      local req = control.last()
      assert.equal("POST", req.method)
      assert.equal("include_merge_history=true", req.query)
      assert.same({ query = { field = "role", operator = "=", value = "user" } }, intercom.json.decode(req.body))
    end)

  it("search queries follow the version: from 2.13 a group may not mix groups and filters", function()
    local q = intercom.query
    local mixed = q.all(q.eq("role", "user"), q.any(q.eq("name", "a"), q.eq("name", "b")))
    assert.is_true(q.validate(mixed))                  -- 2.12 allows it
    assert.is_true(q.validate(mixed, "2.12"))
    raises("from API version 2.13 a group holds either groups or filters", function()
      return q.validate(mixed, "2.13")
    end)
    raises("intercom.query.validate: version must be one of intercom.VERSIONS", function()
      return q.validate(mixed, 2.13)
    end)
    local c = fx.client{ version = "2.16" }
    raises("intercom.query: query: this AND group mixes", function() return c.contacts:search{ query = mixed } end)
    raises("mixes 1 nested group(s) and 1 filter(s)", function()
      return fx.client().tickets:search({ query = mixed }, { version = "2.14" })
    end)
    assert.equal(0, sent())
    control.enqueue{ json = { type = "list", tickets = {}, pages = {} } }
    assert(fx.client().tickets:search{ query = mixed })      -- 2.12: sent as it is
    assert.same(mixed, intercom.json.decode(control.last().body).query)
  end)
end)

describe("what the new operations need", function()
  before_each(function() control.reset() end)
  local c
  setup(function() c = fx.client{ version = "2.16" } end)

  it("PATCH with a JSON body (data_connectors:update)", function()
    control.enqueue{ json = { type = "data_connector", id = "7", name = "renamed" } }
    local dc = assert(c.data_connectors:update("7", { name = "renamed" }))
    assert.equal("renamed", dc.name)
    local req = control.last()
    assert.equal("PATCH", req.method)
    assert.equal("/data_connectors/7", req.path)
    assert.equal("application/json", req.headers["content-type"])
    assert.same({ name = "renamed" }, intercom.json.decode(req.body))
  end)

  it("a text/plain answer is returned as a string (calls:show_transcript), asked for with Accept: text/plain",
    function()
      control.enqueue{ body = "[00:01] Agent: hello\n[00:02] Customer: {not json", headers = {
        ["Content-Type"] = "text/plain; charset=utf-8" } }
      local text, err = c.calls:show_transcript("42")
      assert.is_nil(err)
      assert.equal("[00:01] Agent: hello\n[00:02] Customer: {not json", text)
      local req = control.last()
      assert.equal("/calls/42/transcript", req.path)
      assert.equal("text/plain", req.headers.accept)
    end)

  it("a text/plain error is still an error object", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "Transcript Not Found") }
    local text, err = c.calls:show_transcript("42")
    assert.is_nil(text)
    assert.equal("not_found", err.code)
  end)

  it("the documented 302 of calls:show_recording is returned as { location }, never followed", function()
    local signed = control.url() .. "/signed/recording.mp3?sig=abc"
    control.enqueue{ status = 302, headers = { Location = signed } }
    control.enqueue{ body = "AUDIO" }                   -- what following it would have fetched
    local rec, err, resp = c.calls:show_recording("42")
    assert.is_nil(err)
    assert.same({ location = signed, status = 302 }, rec)
    assert.equal(302, resp.status)
    assert.equal(1, sent())                            -- the signed URL never saw a request, nor the token
    assert.equal("/calls/42/recording", control.last().path)
  end)

  it("any other operation keeps treating a redirect as an error it does not follow", function()
    control.enqueue{ status = 302, headers = { Location = control.url() .. "/elsewhere" } }
    local r, err = c.contacts:find("c1")
    assert.is_nil(r)
    assert.equal(302, err.status)
    assert.matches("not followed", err.message)
    assert.equal(1, sent())
  end)
end)

describe("the new pagination shapes, through the one Page", function()
  before_each(function() control.reset() end)
  local c
  setup(function() c = fx.client{ version = "2.16" } end)

  local function ids(iter)
    local out = {}
    for item in iter do out[#out + 1] = item.id end
    return out
  end

  it("an opaque cursor: `cursor` sent back, next_cursor / has_more read (contacts:list_merge_history)",
    function()
      control.enqueue{ json = { type = "list", data = { { id = "m1" }, { id = "m2" } }, next_cursor = "opaque==1",
                                has_more = true } }
      control.enqueue{ json = { type = "list", data = { { id = "m3" } }, next_cursor = "opaque==2",
                                has_more = false } }
      assert.same({ "m1", "m2", "m3" }, ids(c.contacts:list_merge_history_each("c1", { per_page = 2 })))
      local reqs = control.requests()
      assert.equal(2, #reqs)
      assert.equal("/contacts/c1/merge_history", reqs[1].path)
      assert.equal("per_page=2", reqs[1].query)
      assert.equal("cursor=opaque%3D%3D1&per_page=2", reqs[2].query)
    end)

  it("an opaque cursor that repeats ends the chain instead of looping", function()
    control.default{ json = { type = "list", data = { { id = "m1" } }, next_cursor = "same", has_more = true } }
    local page = assert(c.contacts:list_merge_history("c1"))
    local second = assert(page:next_page())
    assert.is_false(second:has_next())
    assert.equal(2, sent())
  end)

  it("page and per_page in the JSON body (admins:search_activity_logs)", function()
    control.enqueue{ json = { type = "activity_log.list", activity_logs = { { id = "a1" } },
                              pages = { type = "pages", page = 1, per_page = 1, total_pages = 2 } } }
    control.enqueue{ json = { type = "activity_log.list", activity_logs = { { id = "a2" } },
                              pages = { type = "pages", page = 2, per_page = 1, total_pages = 2 } } }
    local body = { created_at_after = 1700000000, per_page = 1 }
    assert.same({ "a1", "a2" }, ids(c.admins:search_activity_logs_each(body)))
    local reqs = control.requests()
    assert.equal(2, #reqs)
    assert.equal("POST", reqs[2].method)
    assert.equal("/admins/activity_logs/search", reqs[2].path)
    assert.equal("", reqs[2].query or "")
    assert.same({ created_at_after = 1700000000, per_page = 1 }, intercom.json.decode(reqs[1].body))
    assert.same({ created_at_after = 1700000000, per_page = 1, page = 2 }, intercom.json.decode(reqs[2].body))
    assert.same({ created_at_after = 1700000000, per_page = 1 }, body)   -- the caller's table is not changed
  end)

  it("page, per_page and total_pages at the top level, no `pages` object (audiences:list)", function()
    control.enqueue{ json = { type = "list", data = { { id = "au1" } }, page = 1, per_page = 1, total_pages = 2 } }
    control.enqueue{ json = { type = "list", data = { { id = "au2" } }, page = 2, per_page = 1, total_pages = 2 } }
    assert.same({ "au1", "au2" }, ids(c.audiences:each{ per_page = 1 }))
    local reqs = control.requests()
    assert.equal(2, #reqs)
    assert.equal("page=2&per_page=1", reqs[2].query)
  end)

  it("a list or a single object depending on the query (custom_object_instances:list)", function()
    control.enqueue{ json = { type = "list", data = { { id = "o1" } },
                              pages = { type = "pages", page = 1, total_pages = 1 } } }
    local page = assert(c.custom_object_instances:list("Order", { per_page = 10 }))
    assert.is_function(page.has_next)
    assert.same({ "o1" }, ids(page:each()))
    control.enqueue{ json = { type = "Order", id = "o2", external_id = "x-2" } }
    local one = assert(c.custom_object_instances:list("Order", { external_id = "x-2" }))
    assert.is_nil(getmetatable(one))                   -- the object itself, not a Page
    assert.equal("o2", one.id)
    assert.equal("/custom_object_instances/Order", control.last().path)
    assert.equal("external_id=x-2", control.last().query)
    -- 2.13 to 2.15 answer one object (external_id is required there)
    control.enqueue{ json = { type = "Order", id = "o3" } }
    one = assert(c.custom_object_instances:list("Order", { external_id = "x-3" }, { version = "2.13" }))
    assert.equal("o3", one.id)
    raises('query parameter "per_page" needs Intercom API version 2.16', function()
      return c.custom_object_instances:list("Order", { per_page = 1 }, { version = "2.15" })
    end)
  end)
end)

describe("client:request, the escape hatch", function()
  before_each(function() control.reset() end)

  it("sends with the policy of every operation: auth, version, query, JSON body", function()
    control.enqueue{ json = { ok = true } }
    local c = fx.client{ version = "2.15" }
    local r, err, resp = c:request("post", "/contacts/c%201/notes", { body = { body = "hi" }, query = { x = 1 } })
    assert.is_nil(err)
    assert.same({ ok = true }, r)
    assert.equal(200, resp.status)
    local req = control.last()
    assert.equal("POST", req.method)
    assert.equal("/contacts/c%201/notes", req.path)
    assert.equal("x=1", req.query)
    assert.equal("Bearer " .. fx.TOKEN, req.headers.authorization)
    assert.equal("2.15", req.headers["intercom-version"])
    assert.same({ body = "hi" }, intercom.json.decode(req.body))
  end)

  it("per-request options, retries and error objects as usual", function()
    control.enqueue{ status = 503, json = fx.error_list("service_unavailable", "busy") }
    control.enqueue{ json = { id = "1" } }
    local c = fx.client{ max_retries = 1 }
    local r, err, resp = c:request("GET", "/future/thing", nil, { version = "2.16", timeout = 5 })
    assert.is_nil(err)
    assert.equal("1", r.id)
    assert.equal(2, resp.attempts)
    assert.equal("2.16", control.last().headers["intercom-version"])
    control.enqueue{ status = 404, json = fx.error_list("not_found", "nope") }
    r, err = c:request("DELETE", "/future/thing")
    assert.is_nil(r)
    assert.equal("not_found", err.code)
    assert.equal("DELETE", control.last().method)
  end)

  it("returns a Page when asked for a style, and iterates", function()
    control.enqueue{ json = { type = "list", data = { { id = "1" } }, pages = { page = 1, total_pages = 2 } } }
    control.enqueue{ json = { type = "list", data = { { id = "2" } }, pages = { page = 2, total_pages = 2 } } }
    local page = assert(fx.client():request("GET", "/things", { page = "page", query = { per_page = 1 } }))
    local got = {}
    for item in page:each() do got[#got + 1] = item.id end
    assert.same({ "1", "2" }, got)
    assert.equal("page=2&per_page=1", control.last().query)
  end)

  it("raises on misuse before anything is sent: a path that could leave the host or smuggle a query, "
    .. "an unknown field, a bad style", function()
    local c = fx.client()
    raises("path must be a string starting with one", function() return c:request("GET", "https://evil/x") end)
    raises("path must be a string starting with one", function() return c:request("GET", "//evil/x") end)
    raises("path has \"?\" at byte 8", function() return c:request("GET", "/things?a=1") end)
    raises("path has \" \" at byte 2", function() return c:request("GET", "/ x") end)
    raises("path has \"\\13\" at byte 3", function() return c:request("GET", "/x\r\nX-Evil: 1") end)
    raises("dot segment", function() return c:request("GET", "/contacts/../admins") end)
    raises("method must be one of GET, POST, PUT, PATCH, DELETE", function() return c:request("TRACE", "/x") end)
    raises('unknown field "timeout" (a request option: it goes in opts, the fourth argument)', function()
      return c:request("GET", "/x", { timeout = 5 })
    end)
    raises("page must be a pagination style", function() return c:request("GET", "/x", { page = "pages" }) end)
    raises("body must be a table", function() return c:request("POST", "/x", { body = "{}" }) end)
    raises("call it with a colon", function() return c.request("GET", "/x") end)
    raises('option version: expected one of', function() return c:request("GET", "/x", nil, { version = "3" }) end)
    assert.equal(0, sent())
  end)
end)
