-- The four pagination styles of API 2.12 over HTTP, with the response shapes of the spec and of the
-- real API: page numbers, scroll, cursor lists under their own key, and the cursor in the search body.
-- Every test counts the requests: no iterator loops or fetches a page it could have known was empty.

local control = require "support.control"
local fx = require "support.fixtures"
local cjson = require "cjson"

local unpack = table.unpack or unpack

local function items(prefix, n)
  local list = {}
  for i = 1, n do list[i] = { type = "item", id = prefix .. i } end
  return list
end

-- A page of the "page" style as the spec's cursor_pages shows it (articles, collections, notes, ...).
local function numbered(key, list, page, total, extra)
  local body = { type = "list", [key] = list, total_count = 99,
                 pages = { type = "pages", page = page, per_page = #list, total_pages = total } }
  for k, v in pairs(extra or {}) do body.pages[k] = v end
  return body
end

local function ids_of(iter)
  local out = {}
  for x in iter do out[#out + 1] = x.id end
  return out
end

local function queries()
  local out = {}
  for i, r in ipairs(control.requests()) do out[i] = r.query end
  return out
end

describe("page-number pagination", function()
  before_each(function() control.reset() end)

  it("companies:list is POST /companies/list with page and per_page in the query", function()
    control.enqueue{ json = numbered("data", items("a", 2), 1, 3) }
    control.enqueue{ json = numbered("data", items("b", 2), 2, 3) }
    control.enqueue{ json = numbered("data", items("c", 1), 3, 3) }
    local got = ids_of(fx.client().companies:each{ per_page = 2 })
    assert.same({ "a1", "a2", "b1", "b2", "c1" }, got)
    local reqs = control.requests()
    assert.equal(3, #reqs)                           -- total_pages = 3: no fourth, empty, request
    for _, r in ipairs(reqs) do
      assert.equal("POST", r.method)
      assert.equal("/companies/list", r.path)
      assert.equal("", r.body)
    end
    assert.same({ "per_page=2", "page=2&per_page=2", "page=3&per_page=2" }, queries())
  end)

  it("starts from the page the caller asked for", function()
    control.enqueue{ json = numbered("data", items("c", 1), 3, 4) }
    control.enqueue{ json = numbered("data", items("d", 1), 4, 4) }
    assert.same({ "c1", "d1" }, ids_of(fx.client().companies:each{ page = 3 }))
    assert.same({ "page=3", "page=4" }, queries())
  end)

  -- operation, arguments, path, array key
  local cases = {
    { "articles", "list", {}, "/articles", "data" },
    { "collections", "list", {}, "/help_center/collections", "data" },
    { "notes", "list", { "c1" }, "/contacts/c1/notes", "data" },
    { "news.items", "list", {}, "/news/news_items", "data" },
    { "news.feeds", "list_items", { "f1" }, "/news/newsfeeds/f1/items", "data" },
    { "companies", "list_attached_contacts", { "co1" }, "/companies/co1/contacts", "data" },
    { "contacts", "list_attached_companies", { "c1" }, "/contacts/c1/companies", "companies" },
  }
  for _, case in ipairs(cases) do
    local rname, mname, args, path, key = case[1], case[2], case[3], case[4], case[5]
    local iname = mname == "list" and "each" or (mname .. "_each")
    it(rname .. ":" .. iname .. " pages by number under " .. path, function()
      control.enqueue{ json = numbered(key, items("p", 2), 1, 2) }
      control.enqueue{ json = numbered(key, items("q", 1), 2, 2) }
      local client = fx.client()
      local res = client
      for part in rname:gmatch("[^.]+") do res = res[part] end
      local call_args = { unpack(args) }
      call_args[#call_args + 1] = { per_page = 2 }
      local got = ids_of(res[iname](res, unpack(call_args)))
      assert.same({ "p1", "p2", "q1" }, got)
      local reqs = control.requests()
      assert.equal(2, #reqs)
      assert.equal("GET", reqs[2].method)
      assert.equal(path, reqs[2].path)
      assert.same({ "per_page=2", "page=2&per_page=2" }, queries())
    end)
  end

  it("follows the page number of a pages.next URL (pages_link) and stops without one", function()
    local p1 = numbered("companies", items("a", 1), 1, nil,
      { next = "https://api.intercom.io/contacts/c1/companies?page=2&per_page=1" })
    local p2 = numbered("companies", items("b", 1), 2, nil, { next = cjson.null })
    control.enqueue{ { json = p1 }, { json = p2 } }
    local got = ids_of(fx.client().contacts:list_attached_companies_each("c1", { per_page = 1 }))
    assert.same({ "a1", "b1" }, got)
    assert.same({ "per_page=1", "page=2&per_page=1" }, queries())
  end)

  it("asks for pages.next.page, not for a cursor, when the API sends both", function()
    -- GET /companies/{id}/contacts has been seen answering next = {page, starting_after}
    control.enqueue{ json = numbered("data", items("a", 1), 1, 2, { next = { page = 2, starting_after = "WzE3" } }) }
    control.enqueue{ json = numbered("data", items("b", 1), 2, 2) }
    assert.same({ "a1", "b1" }, ids_of(fx.client().companies:list_attached_contacts_each("co1")))
    assert.same({ "", "page=2" }, queries())
  end)

  it("stops after one page when there is neither a next link nor a page count", function()
    control.enqueue{ json = { type = "list", data = items("a", 2), pages = { type = "pages", page = 1 } } }
    control.default{ json = numbered("data", items("z", 1), 2, 2) }
    assert.same({ "a1", "a2" }, ids_of(fx.client().articles:each()))
    assert.equal(1, #control.requests())
  end)

  it("stops on an empty page although total_pages says more", function()
    control.enqueue{ json = numbered("data", items("a", 1), 1, 5) }
    control.enqueue{ json = numbered("data", {}, 2, 5) }
    control.default{ json = numbered("data", items("z", 1), 3, 5) }
    assert.same({ "a1" }, ids_of(fx.client().collections:each()))
    assert.equal(2, #control.requests())
  end)

  it("does not loop when the server ignores the page parameter", function()
    control.default{ json = numbered("data", items("a", 1), 1, 3) }
    assert.same({ "a1", "a1" }, ids_of(fx.client().articles:each()))
    assert.equal(2, #control.requests())         -- page 2 answered as page 1: page 2 again is refused
  end)

  it("makes no request for a single page and has_next is false", function()
    control.enqueue{ json = numbered("data", items("a", 2), 1, 1) }
    local page = assert(fx.client().news.items:list())
    assert.is_false(page:has_next())
    assert.is_nil(page:next_page())
    assert.equal(1, #control.requests())
  end)

  it("articles:search_each reads the articles nested under data", function()
    local function search_page(list, page)
      return { type = "list", total_count = 3, data = { articles = list, highlights = {} },
               pages = { type = "pages", page = page, per_page = 2, total_pages = 2 } }
    end
    control.enqueue{ { json = search_page(items("a", 2), 1) }, { json = search_page(items("b", 1), 2) } }
    local got = ids_of(fx.client().articles:search_each{ phrase = "billing" })
    assert.same({ "a1", "a2", "b1" }, got)
    assert.same({ "phrase=billing", "page=2&phrase=billing" }, queries())
  end)
end)

describe("scroll pagination", function()
  before_each(function() control.reset() end)

  local function scroll_page(list, param)
    return { type = "list", data = list, pages = cjson.null, total_count = cjson.null, scroll_param = param }
  end

  it("companies:scroll_each sends scroll_param back and ends on the empty page", function()
    -- Intercom returns the same scroll_param on every page of one scroll.
    control.enqueue{
      { json = scroll_page(items("a", 2), "sp-1") },
      { json = scroll_page(items("b", 2), "sp-1") },
      { json = scroll_page({}, "sp-1") },
    }
    control.default{ json = scroll_page(items("z", 1), "sp-1") }
    local got = ids_of(fx.client().companies:scroll_each())
    assert.same({ "a1", "a2", "b1", "b2" }, got)
    local reqs = control.requests()
    assert.equal(3, #reqs)
    for _, r in ipairs(reqs) do assert.equal("/companies/scroll", r.path) end
    assert.same({ "", "scroll_param=sp-1", "scroll_param=sp-1" }, queries())
  end)

  it("follows a scroll_param that changes from page to page", function()
    control.enqueue{
      { json = scroll_page(items("a", 1), "sp-1") },
      { json = scroll_page(items("b", 1), "sp-2") },
      { json = scroll_page({}, "sp-3") },
    }
    assert.same({ "a1", "b1" }, ids_of(fx.client().companies:scroll_each()))
    assert.same({ "", "scroll_param=sp-1", "scroll_param=sp-2" }, queries())
  end)

  it("stops when a page has no scroll_param", function()
    control.enqueue{ json = scroll_page(items("a", 1), nil) }
    control.default{ json = scroll_page(items("z", 1), "sp") }
    assert.same({ "a1" }, ids_of(fx.client().companies:scroll_each()))
    assert.equal(1, #control.requests())
  end)

  it("stops instead of looping when the scroll does not move", function()
    control.default{ json = scroll_page(items("a", 2), "stuck") }
    assert.same({ "a1", "a2", "a1", "a2" }, ids_of(fx.client().companies:scroll_each()))
    assert.equal(2, #control.requests())
  end)

  local scroll_exists = { status = 400, json = { type = "error.list", request_id = "req-scroll",
    errors = { { code = "scroll_exists", message = "scroll already exists for this app" } } } }

  it("reports a second open scroll clearly (scroll_exists)", function()
    control.enqueue(scroll_exists)
    local ok, err = pcall(function()
      for _ in fx.client().companies:scroll_each() do end
    end)
    assert.is_false(ok)
    assert.equal("intercom.error", getmetatable(err).__name)
    assert.equal("api", err.kind)
    assert.equal(400, err.status)
    assert.equal("scroll_exists", err.code)
    assert.truthy(err.message:find("another scroll is already open", 1, true))
    assert.truthy(err.message:find("1 minute", 1, true))
    assert.truthy(err.message:find("scroll already exists for this app", 1, true))
    assert.truthy(tostring(err):find("scroll_exists", 1, true))
    assert.equal(1, #control.requests())             -- a 400 is not retried
  end)

  it("companies:scroll returns the same explained error", function()
    control.enqueue(scroll_exists)
    local page, err = fx.client().companies:scroll()
    assert.is_nil(page)
    assert.equal("scroll_exists", err.code)
    assert.truthy(err.message:find("one scroll at a time", 1, true))
  end)

  it("explains a scroll that expired between two pages", function()
    control.enqueue{ json = scroll_page(items("a", 1), "sp-1") }
    control.enqueue{ status = 404, json = fx.error_list("not_found", "scroll parameter not found") }
    local seen = {}
    local ok, err = pcall(function()
      for c in fx.client().companies:scroll_each() do seen[#seen + 1] = c.id end
    end)
    assert.is_false(ok)
    assert.same({ "a1" }, seen)
    assert.equal("not_found", err.code)
    assert.truthy(err.message:find("the scroll expired", 1, true))
  end)
end)

describe("cursor pagination of conversations", function()
  before_each(function() control.reset() end)

  local function conv_page(list, cursor, page, total)
    local pages = { type = "pages", page = page, per_page = #list, total_pages = total }
    if cursor then pages.next = { per_page = #list, starting_after = cursor } end
    return { type = "conversation.list", conversations = list, total_count = 5, pages = pages }
  end

  it("conversations:each reads the conversations key and sends starting_after", function()
    control.enqueue{
      { json = conv_page(items("a", 2), "cur-1", 1, 3) },
      { json = conv_page(items("b", 2), "cur-2", 2, 3) },
      { json = conv_page(items("c", 1), "cur-3", 3, 3) },  -- a cursor on the last page is not followed
    }
    control.default{ json = conv_page({}, nil, 4, 3) }
    local got = ids_of(fx.client().conversations:each{ per_page = 2 })
    assert.same({ "a1", "a2", "b1", "b2", "c1" }, got)
    assert.same({ "per_page=2", "per_page=2&starting_after=cur-1", "per_page=2&starting_after=cur-2" }, queries())
  end)

  it("stops when the last page carries no cursor and no page count", function()
    control.enqueue{ json = conv_page(items("a", 1), "cur-1", 1, nil) }
    control.enqueue{ json = conv_page(items("b", 1), nil, 2, nil) }
    assert.same({ "a1", "b1" }, ids_of(fx.client().conversations:each()))
    assert.equal(2, #control.requests())
  end)
end)

describe("search pagination (cursor in the body)", function()
  before_each(function() control.reset() end)

  local function search_page(key, list, cursor, page, total)
    local pages = { type = "pages", page = page, per_page = #list, total_pages = total }
    if cursor then pages.next = { per_page = #list, starting_after = cursor } end
    return { type = key == "tickets" and "ticket.list" or "conversation.list", [key] = list,
             total_count = 5, pages = pages }
  end

  local function bodies()
    local out = {}
    for i, r in ipairs(control.requests()) do out[i] = cjson.decode(r.body) end
    return out
  end

  it("conversations:search_each sends the cursor in pagination.starting_after", function()
    control.enqueue{
      { json = search_page("conversations", items("a", 2), "s1", 1, 2) },
      { json = search_page("conversations", items("b", 1), nil, 2, 2) },
    }
    local q = require("intercom").query
    local query = q.all(q.eq("state", "open"), q.gt("created_at", 1700000000))
    local got = ids_of(fx.client().conversations:search_each{ query = query, pagination = { per_page = 2 } })
    assert.same({ "a1", "a2", "b1" }, got)
    local reqs, b = control.requests(), bodies()
    assert.equal(2, #reqs)
    assert.equal("/conversations/search", reqs[2].path)
    assert.equal("POST", reqs[2].method)
    assert.same({ per_page = 2 }, b[1].pagination)
    assert.same({ per_page = 2, starting_after = "s1" }, b[2].pagination)
    assert.same(b[1].query, b[2].query)
    assert.equal("AND", b[2].query.operator)
  end)

  it("tickets:search_each reads the tickets key and stops at total_pages", function()
    control.enqueue{
      { json = search_page("tickets", items("a", 1), "t1", 1, 3) },
      { json = search_page("tickets", items("b", 1), "t2", 2, 3) },
      { json = search_page("tickets", items("c", 1), "t3", 3, 3) },
    }
    control.default{ json = search_page("tickets", items("z", 1), nil, 4, 3) }
    local query = { field = "open", operator = "=", value = true }
    local got = ids_of(fx.client().tickets:search_each{ query = query })
    assert.same({ "a1", "b1", "c1" }, got)
    local b = bodies()
    assert.equal(3, #b)
    assert.is_nil(b[1].pagination)
    assert.equal("t1", b[2].pagination.starting_after)
    assert.equal("t2", b[3].pagination.starting_after)
  end)

  it("stops on an empty page and on a repeated cursor", function()
    control.enqueue{
      { json = search_page("tickets", items("a", 1), "t1", 1, 9) },
      { json = search_page("tickets", {}, "t2", 2, 9) },
    }
    local open = { field = "open", operator = "=", value = true }
    assert.same({ "a1" }, ids_of(fx.client().tickets:search_each{ query = open }))
    assert.equal(2, #control.requests())

    control.reset()
    control.enqueue{
      { json = search_page("conversations", items("a", 1), "same", 1, 9) },
      { json = search_page("conversations", items("b", 1), "same", 2, 9) },
    }
    control.default{ json = search_page("conversations", items("z", 1), "same", 3, 9) }
    assert.same({ "a1", "b1" }, ids_of(fx.client().conversations:search_each{ query = open }))
    assert.equal(2, #control.requests())
  end)
end)

describe("search queries are validated before sending", function()
  before_each(function() control.reset() end)

  local deep = { operator = "AND", value = {
    { operator = "OR", value = {
      { operator = "AND", value = { { field = "a", operator = "=", value = 1 } } } } } } }

  local bad = {
    { "contacts", "search", { query = { field = "email", operator = "==", value = "x" } }, "unknown operator" },
    { "conversations", "search", { query = deep }, "nest" },
    { "tickets", "search", { query = { field = "id", operator = "IN", value = {} } }, "IN" },
    { "contacts", "search_each", { query = { operator = "AND", value = {} } }, "query" },
    { "conversations", "search_each", { query = "open" }, "expected a filter or a group" },
    { "tickets", "search_each", { query = { field = "x", operator = "~", value = 3 } }, "query" },
  }
  for _, case in ipairs(bad) do
    local rname, mname, body, needle = case[1], case[2], case[3], case[4]
    it(rname .. ":" .. mname .. " raises at the caller's line and sends nothing", function()
      local client = fx.client()
      local ok, msg = pcall(function() return client[rname][mname](client[rname], body) end)
      assert.is_false(ok)
      assert.equal("string", type(msg))
      assert.truthy(msg:find("intercom.query", 1, true), msg)
      assert.truthy(msg:find(needle, 1, true), msg)
      assert.truthy(msg:find("pagination_styles_spec.lua", 1, true), msg)   -- blamed on the caller
      assert.equal(0, #control.requests())
    end)
  end

  it("a raw table that is valid is sent as it is", function()
    control.enqueue{ json = { type = "list", data = {}, total_count = 0,
                              pages = { type = "pages", page = 1, per_page = 50, total_pages = 0 } } }
    local raw = { operator = "OR", value = {
      { field = "email", operator = "~", value = "@example.com" },
      { field = "role", operator = "IN", value = { "user", "lead" } } } }
    local page = assert(fx.client().contacts:search{ query = raw, pagination = { per_page = 50 } })
    assert.equal(0, #page:items())
    assert.same({ query = raw, pagination = { per_page = 50 } }, cjson.decode(control.last().body))
  end)

  it("a search body without a query is left to the server", function()
    control.enqueue{ json = { type = "ticket.list", tickets = {}, total_count = 0 } }
    assert(fx.client().tickets:search{ pagination = { per_page = 5 } })
    assert.equal(1, #control.requests())
  end)

  it("the same validation is what intercom.query.validate does", function()
    local q = require("intercom").query
    assert.has_error(function() q.validate(deep) end)
    assert.is_true(q.validate(q.any(q.eq("a", 1), q.ne("b", 2))))
  end)
end)
