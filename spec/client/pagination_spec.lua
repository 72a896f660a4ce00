-- Pages and iterators across several real pages: cursor in the query, cursor in the search body,
-- and the stop conditions (last page, empty page, repeated cursor, known page count).

local control = require "support.control"
local fx = require "support.fixtures"
local cjson = require "cjson"

local function ids(list)
  local out = {}
  for i, c in ipairs(list) do out[i] = c.id end
  return out
end

describe("cursor pagination", function()
  before_each(function() control.reset() end)

  it("list returns a Page with has_next and next_page", function()
    control.enqueue{ json = fx.contact_page({ "a", "b" }, "cur1", 1, 2) }
    control.enqueue{ json = fx.contact_page({ "c" }, nil, 2, 2) }
    local client = fx.client()
    local page = assert(client.contacts:list{ per_page = 2 })
    assert.same({ "a", "b" }, ids(page.data))
    assert.same({ "a", "b" }, ids(page:items()))
    assert.equal(2, page.total_count)
    assert.is_true(page:has_next())
    local second = assert(page:next_page())
    assert.same({ "c" }, ids(second.data))
    assert.is_false(second:has_next())
    assert.is_nil(second:next_page())
    local reqs = control.requests()
    assert.equal("per_page=2", reqs[1].query)
    assert.equal("per_page=2&starting_after=cur1", reqs[2].query)
  end)

  it("each walks every page lazily", function()
    control.enqueue{ json = fx.contact_page({ "a", "b" }, "cur1", 1, 3) }
    control.enqueue{ json = fx.contact_page({ "c", "d" }, "cur2", 2, 3) }
    control.enqueue{ json = fx.contact_page({ "e" }, nil, 3, 3) }
    local seen = {}
    for c in fx.client().contacts:each{ per_page = 2 } do
      seen[#seen + 1] = c.id
      if c.id == "a" then assert.equal(1, #control.requests()) end   -- lazily: page 2 not fetched yet
    end
    assert.same({ "a", "b", "c", "d", "e" }, seen)
    assert.equal(3, #control.requests())
  end)

  it("stops on a repeated cursor instead of looping", function()
    control.enqueue{ json = fx.contact_page({ "a" }, "same", 1, 99) }
    control.enqueue{ json = fx.contact_page({ "b" }, "same", 2, 99) }
    local seen = {}
    for c in fx.client().contacts:each() do seen[#seen + 1] = c.id end
    assert.same({ "a", "b" }, seen)
    assert.equal(2, #control.requests())
  end)

  it("stops on an empty page", function()
    control.enqueue{ json = fx.contact_page({ "a" }, "c1", 1, 99) }
    control.enqueue{ json = fx.contact_page({}, "c2", 2, 99) }
    local n = 0
    for _ in fx.client().contacts:each() do n = n + 1 end
    assert.equal(1, n)
    assert.equal(2, #control.requests())
  end)

  it("does not fetch past the last page when total_pages is known", function()
    control.enqueue{ json = fx.contact_page({ "a" }, "cur-would-be-empty", 1, 1) }
    local n = 0
    for _ in fx.client().contacts:each() do n = n + 1 end
    assert.equal(1, n)
    assert.equal(1, #control.requests())
  end)

  it("raises the error object from an iterator when a page fails", function()
    control.enqueue{ json = fx.contact_page({ "a" }, "c1", 1, 2) }
    control.enqueue{ status = 404, json = fx.error_list("not_found", "gone") }
    local seen = {}
    local ok, err = pcall(function()
      for c in fx.client().contacts:each() do seen[#seen + 1] = c.id end
    end)
    assert.is_false(ok)
    assert.same({ "a" }, seen)
    assert.equal("api", err.kind)
    assert.equal("not_found", err.code)
  end)

  it("next_page returns nil, err on failure", function()
    control.enqueue{ json = fx.contact_page({ "a" }, "c1", 1, 2) }
    control.enqueue{ status = 500, body = "down" }
    local page = assert(fx.client{ max_retries = 0 }.contacts:list())
    local nxt, err, resp = page:next_page()
    assert.is_nil(nxt)
    assert.equal(500, err.status)
    assert.equal(500, resp.status)
  end)

  it("paginates admin activity logs by cursor with the query kept", function()
    local p1 = { type = "activity_log.list", activity_logs = { { id = "l1" }, { id = "l2" } },
                 pages = { type = "pages", page = 1, per_page = 2, total_pages = 2,
                           next = { starting_after = "log-cursor" } } }
    local p2 = { type = "activity_log.list", activity_logs = { { id = "l3" } },
                 pages = { type = "pages", page = 2, per_page = 2, total_pages = 2 } }
    control.enqueue{ json = p1 }
    control.enqueue{ json = p2 }
    local seen = {}
    for log in fx.client().admins:list_all_activity_logs_each{ created_at_after = 1700000000 } do
      seen[#seen + 1] = log.id
    end
    assert.same({ "l1", "l2", "l3" }, seen)
    local reqs = control.requests()
    assert.equal("/admins/activity_logs", reqs[2].path)
    assert.equal("created_at_after=1700000000&starting_after=log-cursor", reqs[2].query)
  end)
end)

describe("search pagination (cursor in the body)", function()
  before_each(function() control.reset() end)

  it("search_each sends the cursor back in pagination.starting_after", function()
    control.enqueue{ json = fx.contact_page({ "a", "b" }, "s1", 1, 2) }
    control.enqueue{ json = fx.contact_page({ "c" }, nil, 2, 2) }
    local query = { field = "role", operator = "=", value = "user" }
    local seen = {}
    for c in fx.client().contacts:search_each{ query = query, pagination = { per_page = 2 } } do
      seen[#seen + 1] = c.id
    end
    assert.same({ "a", "b", "c" }, seen)
    local reqs = control.requests()
    assert.equal(2, #reqs)
    assert.equal("POST", reqs[2].method)
    assert.equal("/contacts/search", reqs[2].path)
    local b1, b2 = cjson.decode(reqs[1].body), cjson.decode(reqs[2].body)
    assert.same({ query = query, pagination = { per_page = 2 } }, b1)
    assert.same({ query = query, pagination = { per_page = 2, starting_after = "s1" } }, b2)
  end)
end)
