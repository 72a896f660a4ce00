-- intercom.query: the search query builder, its validation, and what reaches the wire.

local q = require "intercom.query"
local core = require "intercom.core"

local unpack = table.unpack or unpack

-- Asserts that fn raises an error whose message contains `needle` (plain text) and starts with the
-- module's prefix.
local function raises(needle, fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error containing: " .. needle)
  err = tostring(err)
  assert.truthy(err:find("intercom.query: ", 1, true), "no module prefix in: " .. err)
  assert.truthy(err:find(needle, 1, true), ("expected %q in: %s"):format(needle, err))
  return err
end

local function filters(n)
  local list = {}
  for i = 1, n do list[i] = q.eq("custom_attributes.n" .. i, i) end
  return list
end

describe("intercom.query leaf filters", function()
  it("build the exact wire tables, one operator each", function()
    assert.same({ field = "role", operator = "=", value = "user" }, q.eq("role", "user"))
    assert.same({ field = "role", operator = "!=", value = "lead" }, q.ne("role", "lead"))
    assert.same({ field = "created_at", operator = "<", value = 1700000000 }, q.lt("created_at", 1700000000))
    assert.same({ field = "created_at", operator = ">", value = 1700000000 }, q.gt("created_at", 1700000000))
    assert.same({ field = "owner_id", operator = "<=", value = 5 }, q.le("owner_id", 5))
    assert.same({ field = "owner_id", operator = ">=", value = 5 }, q.ge("owner_id", 5))
    assert.same({ field = "email", operator = "~", value = "example" }, q.contains("email", "example"))
    assert.same({ field = "email", operator = "!~", value = "spam" }, q.not_contains("email", "spam"))
    assert.same({ field = "name", operator = "^", value = "Ada" }, q.starts_with("name", "Ada"))
    assert.same({ field = "email", operator = "$", value = ".org" }, q.ends_with("email", ".org"))
    assert.same({ field = "role", operator = "IN", value = { "user", "lead" } }, q.is_in("role", { "user", "lead" }))
    assert.same({ field = "owner_id", operator = "NIN", value = { 1, 2 } }, q.not_in("owner_id", { 1, 2 }))
  end)

  it("return plain tables, and copy IN lists", function()
    local list = { "a", "b" }
    local f = q.is_in("tag_ids", list)
    assert.is_nil(getmetatable(f))
    assert.is_nil(getmetatable(f.value))
    assert.are_not.equal(list, f.value)
    list[3] = "c"
    assert.same({ "a", "b" }, f.value)
    local marked = q.not_in("role", setmetatable({ "lead" }, core.array_mt))
    assert.is_nil(getmetatable(marked.value))
    assert.is_nil(getmetatable(q.all(q.eq("a", 1))))
  end)

  it("has no builders beyond Intercom's operators", function()
    for _, name in ipairs{ "lte", "gte", "neq", "like", "between" } do
      assert.is_nil(rawget(q, name))
    end
  end)

  it("accept numbers and strings (timestamps) for < > <= >=", function()
    assert.same({ field = "created_at", operator = ">", value = "1306054154" }, q.gt("created_at", "1306054154"))
    assert.same({ field = "n", operator = "<", value = 1.5 }, q.lt("n", 1.5))
  end)

  it("accept booleans and numbers for = and !=", function()
    assert.same({ field = "open", operator = "=", value = true }, q.eq("open", true))
    assert.same({ field = "owner_id", operator = "!=", value = 7 }, q.ne("owner_id", 7))
  end)

  it("accept intercom.null for = and != (unset attribute)", function()
    assert.same({ field = "email", operator = "=", value = core.null }, q.eq("email", core.null))
    assert.same({ field = "email", operator = "!=", value = core.null }, q.ne("email", core.null))
    raises('operator ">" needs a number or a string (a timestamp), got null', function()
      q.gt("created_at", core.null)
    end)
    raises("must be a string, number or boolean, got null", function() q.is_in("role", { core.null }) end)
  end)

  it("refuse a missing or empty field", function()
    raises('field must be a non-empty string, got ""', function() q.eq("", 1) end)
    raises("field must be a non-empty string, got nil", function() q.eq(nil, 1) end)
    raises("field must be a non-empty string, got 3", function() q.gt(3, 1) end)
  end)

  it("refuse a missing value, pointing at intercom.null for = and !=", function()
    raises('operator "=" needs a value; use intercom.null to test for an unset attribute (field "email")',
      function() q.eq("email", nil) end)
    raises('operator "~" needs a value (field "email")', function() q.contains("email") end)
  end)

  it("refuse values of the wrong type", function()
    raises('operator "~" needs a string, got 5 (field "email")', function() q.contains("email", 5) end)
    raises('operator "$" needs a string, got true', function() q.ends_with("email", true) end)
    raises('operator "^" needs a string, got table', function() q.starts_with("email", { "a" }) end)
    raises('operator ">" needs a number or a string (a timestamp), got true', function()
      q.gt("created_at", true)
    end)
    raises('operator "<=" needs a number or a string (a timestamp), got table', function() q.le("n", {}) end)
    raises('operator "=" needs a string, number, boolean or intercom.null, got table', function()
      q.eq("role", { "user" })
    end)
    raises("got function", function() q.ne("role", print) end)
    raises("got NaN", function() q.eq("n", 0 / 0) end)
    raises("got inf", function() q.gt("n", math.huge) end)
  end)

  it("refuse an empty IN/NIN, or one that is not an array of scalars", function()
    raises('IN needs at least one value (field "role")', function() q.is_in("role", {}) end)
    raises("NIN needs at least one value", function() q.not_in("role", {}) end)
    raises("IN needs an array of values, got \"user\"", function() q.is_in("role", "user") end)
    raises("IN needs an array of values (a sequence 1..n)", function() q.is_in("role", { a = 1 }) end)
    raises("IN needs an array of values (a sequence 1..n)", function() q.is_in("role", { "a", nil, "c" }) end)
    raises("IN value[2] must be a string, number or boolean, got table", function()
      q.is_in("role", { "user", { "lead" } })
    end)
  end)
end)

describe("intercom.query groups", function()
  it("build AND and OR groups from varargs or one array", function()
    local a, b = q.eq("role", "user"), q.gt("created_at", 1700000000)
    local expected = { operator = "AND", value = {
      { field = "role", operator = "=", value = "user" },
      { field = "created_at", operator = ">", value = 1700000000 },
    } }
    assert.same(expected, q.all(a, b))
    assert.same(expected, q.all{ a, b })
    assert.same({ operator = "OR", value = { a, b } }, q.any(a, b))
    assert.same({ operator = "OR", value = { a } }, q.any{ a })
    assert.same({ operator = "AND", value = { a } }, q.all(a))          -- a single filter, not an array
  end)

  it("allow a group inside a group (2 levels), e.g. (1 OR 2) AND (3 OR 4)", function()
    local query = q.all(q.any(q.eq("a", 1), q.eq("b", 2)), q.any(q.eq("c", 3), q.eq("d", 4)))
    assert.same({ operator = "AND", value = {
      { operator = "OR", value = { { field = "a", operator = "=", value = 1 },
                                   { field = "b", operator = "=", value = 2 } } },
      { operator = "OR", value = { { field = "c", operator = "=", value = 3 },
                                   { field = "d", operator = "=", value = 4 } } },
    } }, query)
    assert.is_true(q.validate(query))
  end)

  it("refuse a group inside a group inside a group, at the call that builds it", function()
    local inner = q.any(q.eq("a", 1), q.eq("b", 2))
    local middle = q.all(inner, q.eq("c", 3))
    local err = raises("value[1].value[1]: nesting deeper than 2 levels", function() q.any(middle, q.eq("d", 4)) end)
    assert.matches("query_spec%.lua:%d+:", err)                        -- blames the caller's line
    raises("nesting deeper than 2 levels", function()
      q.validate{ operator = "AND", value = { { operator = "OR", value = {
        { operator = "AND", value = { { field = "a", operator = "=", value = 1 } } } } } } }
    end)
  end)

  it("allow 15 filters in one group and refuse 16", function()
    local g = q.all(filters(15))
    assert.equal(15, #g.value)
    assert.equal(15, #q.any(unpack(filters(15))).value)
    raises("more than 15 filters in one group: this AND group has 16", function() q.all(filters(16)) end)
    raises("more than 15 filters in one group", function() q.validate{ operator = "OR", value = filters(16) } end)
    raises("value[2]: more than 15 filters in one group", function()
      q.all(q.eq("x", 1), { operator = "OR", value = filters(16) })
    end)
  end)

  it("refuse an empty group and nil members", function()
    raises("an AND group needs at least one filter", function() q.all() end)
    raises("an OR group needs at least one filter", function() q.any{} end)
    raises("value[2]: expected a filter or a group, got nil", function() q.all(q.eq("a", 1), nil, q.eq("b", 2)) end)
    raises("value[1]: expected a filter or a group (a table), got \"role\"", function() q.all("role") end)
  end)
end)

describe("intercom.query.validate", function()
  it("accepts raw tables in the wire format, mixed with builder output", function()
    assert.is_true(q.validate{ field = "created_at", operator = ">", value = "1306054154" })
    assert.is_true(q.validate{ operator = "AND", value = {
      { field = "role", operator = "=", value = "user" },
      q.any(q.contains("email", "@example.com"), { field = "tag_id", operator = "!=", value = "123" }),
      { field = "owner_id", operator = "IN", value = { 1, 2, 3 } },
    } })
    local mixed = q.all({ field = "role", operator = "NIN", value = { "lead" } }, q.eq("open", true))
    assert.same({ field = "role", operator = "NIN", value = { "lead" } }, mixed.value[1])
  end)

  it("names the path of the bad node and lists the valid operators", function()
    local err = raises(
      'intercom.query: value[2].value[1]: unknown operator "=="; '
        .. "expected one of =, !=, IN, NIN, <, >, <=, >=, ~, !~, ^, $",
      function()
        q.validate{ operator = "AND", value = {
          { field = "role", operator = "=", value = "user" },
          { operator = "OR", value = { { field = "email", operator = "==", value = "a@b.c" } } },
        } }
      end)
    assert.matches("query_spec%.lua:%d+: intercom%.query:", err)
  end)

  it("refuses raw tables Intercom would reject", function()
    raises('query: unknown operator "and"; expected AND or OR for a group', function()
      q.validate{ operator = "and", value = { q.eq("a", 1) } }
    end)
    raises('unknown operator "AND"; expected one of', function()
      q.validate{ field = "role", operator = "AND", value = "user" }
    end)
    raises('operator is missing (field "role")', function() q.validate{ field = "role", value = "user" } end)
    raises("field must be a non-empty string, got nil", function() q.validate{ operator = "=", value = 1 } end)
    raises('unknown key "values" in a filter', function()
      q.validate{ field = "role", operator = "IN", values = { "user" } }
    end)
    raises('unknown operator "OR"; expected one of =, !=, IN, NIN, <, >, <=, >=, ~, !~, ^, $ (AND/OR make a group',
      function() q.validate{ operator = "OR", value = { q.eq("a", 1) }, field = "role" } end)
    raises('unknown key "values" in a group; expected operator, value', function()
      q.validate{ operator = "OR", value = { q.eq("a", 1) }, values = {} }
    end)
    raises("IN needs at least one value", function() q.validate{ field = "role", operator = "IN", value = {} } end)
    raises("value[1]: operator \"~\" needs a string, got 3", function()
      q.validate{ operator = "OR", value = { { field = "name", operator = "~", value = 3 } } }
    end)
    raises("an AND group needs an array of filters or groups as its value, got \"x\"", function()
      q.validate{ operator = "AND", value = "x" }
    end)
    raises("query: expected a filter or a group (a table), got nil", function() q.validate(nil) end)
  end)
end)

describe("intercom.query.search", function()
  it("builds the request body", function()
    local query = q.all(q.eq("role", "user"))
    assert.same({ query = query }, q.search(query))
    assert.same({ query = query, pagination = { per_page = 150, starting_after = "WzE3MDAwMDAwMDAsImMxIl0=" } },
      q.search(query, { per_page = 150, starting_after = "WzE3MDAwMDAwMDAsImMxIl0=" }))
    assert.same({ query = q.eq("id", "c1"), pagination = { per_page = 5 } },
      q.search(q.eq("id", "c1"), { per_page = 5 }))
    assert.is_nil(getmetatable(q.search(query, { per_page = 1 }).pagination))
  end)

  it("validates the query and the options", function()
    raises("IN needs at least one value", function() q.search{ field = "role", operator = "IN", value = {} } end)
    raises("per_page must be an integer from 1 to 150, got 151", function()
      q.search(q.eq("a", 1), { per_page = 151 })
    end)
    raises("per_page must be an integer from 1 to 150, got 0", function() q.search(q.eq("a", 1), { per_page = 0 }) end)
    raises("per_page must be an integer from 1 to 150, got 2.5", function()
      q.search(q.eq("a", 1), { per_page = 2.5 })
    end)
    raises("starting_after must be a string (a cursor), got 12", function()
      q.search(q.eq("a", 1), { starting_after = 12 })
    end)
    raises('unknown search option "perpage"', function() q.search(q.eq("a", 1), { perpage = 10 }) end)
  end)
end)

describe("intercom.query over HTTP", function()
  local control, fx, cjson

  setup(function()
    control = require "support.control"
    fx = require "support.fixtures"
    cjson = require "cjson"
  end)

  it("sends the exact nested query to POST /contacts/search", function()
    control.reset()
    control.enqueue{ json = fx.contact_page({ "c1" }) }
    local client = fx.client()
    local page, err = client.contacts:search{
      query = q.all(q.eq("role", "user"), q.gt("created_at", 1700000000)),
    }
    assert.is_nil(err)
    assert.truthy(page)
    local req = control.last()
    assert.equal("POST", req.method)
    assert.equal("/contacts/search", req.path)
    assert.equal("application/json", req.headers["content-type"])
    local body = cjson.decode(req.body)
    assert.same({
      query = {
        operator = "AND",
        value = {
          { field = "role", operator = "=", value = "user" },
          { field = "created_at", operator = ">", value = 1700000000 },
        },
      },
    }, body)
    -- the timestamp goes out as a JSON integer, not 1.7e+09 or 1700000000.0
    assert.truthy(req.body:find('"value":1700000000[,}]'), req.body)
  end)
end)
