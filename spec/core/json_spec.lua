-- The C JSON codec: JSONTestSuite, exact integers, arrays that stay arrays, encode errors, and a
-- differential check against lua-cjson on everything cjson handles right.

local core = require "intercom.core"
local cjson = require "cjson"
local intercom = require "intercom"

local decode, encode = core.json_decode, core.json_encode
local HAS_INTEGERS = math.type ~= nil
local SUITE = "../shared/jsontestsuite/"

local read = require("support.util").read

local function list(dir)
  local names = {}
  local p = assert(io.popen('ls "' .. dir .. '"'))
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  assert(#names > 0, "no files in " .. dir)
  return names
end

-- Deep equality where cjson's floats equal our integers, cjson.null equals core.null, and array
-- metatables do not matter.
local function same(a, b)
  return require("support.util").identical(a, b, nil, true)
end

-- A generator of JSON texts of shifting shapes (keys that are prefixes or extensions of others, escaped
-- spellings, long keys, nesting), deterministic on both VMs (math.random differs between them).
-- Returns value_text(depth) and rand(n).
local function random_json(seed)
  local function rand(n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n + 1
  end
  local KEYS = { "type", "id", "email", "name", "role", "custom_attributes", "tags", "data", "ab", "abc",
                 "a", "", string.rep("k", 64), string.rep("k", 65), string.rep("long_key_", 9), "é_ünï",
                 "created_at", "has_more" }

  -- A key as JSON text: mostly plain, sometimes with an escape spelling the same key differently.
  local function key_text(k)
    if k ~= "" and rand(6) == 1 then
      local i = rand(#k)
      return '"' .. k:sub(1, i - 1) .. string.format("\\u%04x", k:byte(i)) .. k:sub(i + 1) .. '"'
    end
    return '"' .. k .. '"'
  end

  local value_text
  local function object_text(depth)
    local parts, n = {}, rand(8) - 1
    for _ = 1, n do
      local k = KEYS[rand(#KEYS)]
      if rand(10) == 1 then k = k .. "x" elseif rand(10) == 1 and #k > 1 then k = k:sub(1, -2) end
      parts[#parts + 1] = key_text(k) .. ":" .. value_text(depth + 1)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local function array_text(depth)
    local parts = {}
    for i = 1, rand(6) - 1 do parts[i] = value_text(depth + 1) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  function value_text(depth)
    local r = rand(depth > 4 and 4 or 7)
    if r == 1 then return tostring(rand(1000)) end
    if r == 2 then return '"' .. KEYS[rand(#KEYS)] .. '"' end
    if r == 3 then return "null" end
    if r == 4 then return "true" end
    if r <= 6 then return object_text(depth) end
    return array_text(depth)
  end
  return value_text, rand
end

describe("JSONTestSuite", function()
  local names = list(SUITE .. "test_parsing")

  it("accepts every y_ case", function()
    local failed = {}
    for _, name in ipairs(names) do
      if name:sub(1, 2) == "y_" then
        local _, err = decode(read(SUITE .. "test_parsing/" .. name))
        if err then failed[#failed + 1] = name .. ": " .. err end
      end
    end
    assert.same({}, failed)
  end)

  it("rejects every n_ case with a message", function()
    local failed = {}
    for _, name in ipairs(names) do
      if name:sub(1, 2) == "n_" then
        local v, err = decode(read(SUITE .. "test_parsing/" .. name))
        if v ~= nil or type(err) ~= "string" or not err:match("^json: .* at ") then
          failed[#failed + 1] = name
        end
      end
    end
    assert.same({}, failed)
  end)

  it("survives every i_ case, and what it accepts encodes back", function()
    local n = 0
    for _, name in ipairs(names) do
      if name:sub(1, 2) == "i_" then
        local v, err = decode(read(SUITE .. "test_parsing/" .. name))
        assert.is_true(v ~= nil or type(err) == "string", name)
        if err == nil then
          -- numbers beyond a double decode to +-inf, which JSON cannot express, and strings keep their
          -- bytes (invalid UTF-8, a lone surrogate's 3-byte form), which JSON text cannot carry: encode
          -- says so
          local ok, out = pcall(encode, v)
          assert.is_true(ok or out:find("infinite number", 1, true) ~= nil
                         or out:find("invalid UTF-8", 1, true) ~= nil, name .. ": " .. tostring(out))
        end
        n = n + 1
      end
    end
    assert.is_true(n > 30)
  end)

  it("makes the documented choices on the transform cases", function()
    local t = SUITE .. "test_transform/"
    local function dec(name) return assert(decode(read(t .. name))) end
    assert.equal(2, dec("object_same_key_different_values.json").a)            -- the last key wins
    assert.equal("A\0B", dec("string_with_escaped_NULL.json")[1])
    assert.equal("\237\160\128", decode('"\\ud800"'))                           -- lone surrogate: WTF-8
    if HAS_INTEGERS then
      assert.equal(math.mininteger, dec("number_-9223372036854775808.json")[1])
      assert.equal(math.maxinteger, dec("number_9223372036854775807.json")[1])
      assert.equal("float", math.type(dec("number_9223372036854775808.json")[1]))   -- beyond int64
      assert.equal("integer", math.type(dec("number_1000000000000000.json")[1]))
    end
    assert.equal(1e19, dec("number_10000000000000000999.json")[1])
    assert.equal(0, dec("number_1e-999.json")[1])
  end)
end)

describe("json decode", function()
  it("maps JSON to plain Lua values", function()
    local v = assert(decode(' {"s":"x","n":1.5,"i":-7,"t":true,"f":false,"z":null,"a":[1,[2]],"o":{}} '))
    assert.equal("x", v.s)
    assert.equal(1.5, v.n)
    assert.equal(-7, v.i)
    assert.is_true(v.t)
    assert.is_false(v.f)
    assert.equal(core.null, v.z)
    assert.equal(cjson.null, v.z)
    assert.equal(core.array_mt, getmetatable(v.a))
    assert.equal(core.array_mt, getmetatable(v.a[2]))
    assert.is_nil(getmetatable(v.o))
    assert.is_nil(next(v.o))
  end)

  it("keeps integers exact up to 64 bits", function()
    if not HAS_INTEGERS then
      assert.equal(9007199254740992, decode("9007199254740992"))
      return
    end
    local big = decode("9007199254740993")
    assert.equal("integer", math.type(big))
    assert.equal(9007199254740993, big)
    assert.equal(math.mininteger, decode("-9223372036854775808"))
    assert.equal("integer", math.type(decode("1700000000")))
    assert.equal("float", math.type(decode("1.0")))
    assert.equal("float", math.type(decode("1e2")))
  end)

  it("decodes escapes and surrogate pairs to UTF-8", function()
    assert.equal("é😀\n\t\"\\/", decode('"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/"'))
  end)

  it("says what is wrong and where", function()
    local v, err = decode('{"a":1,}')
    assert.is_nil(v)
    assert.equal("json: expected a string key at byte 7 ('}')", err)
    assert.matches("unexpected data after the value", select(2, decode("[1] x")), 1, true)
    assert.matches("unexpected end of input", select(2, decode("")), 1, true)
    assert.matches("control character in string", select(2, decode('"a\nb"')), 1, true)
  end)

  it("bounds nesting instead of exhausting the C stack", function()
    local ok_depth = string.rep("[", 1000) .. string.rep("]", 1000)
    assert.is_table(decode(ok_depth))
    local v, err = decode(string.rep("[", 100000))
    assert.is_nil(v)
    assert.matches("nesting deeper than 1000 levels", err, 1, true)
  end)

  it("handles long strings and huge numbers", function()
    local long = string.rep("x", 1000000)
    assert.equal(long, decode('"' .. long .. '"'))
    assert.equal(math.huge, decode("1e400"))
    assert.equal(1e300, decode("1" .. string.rep("0", 300)))
  end)

  it("raises only when the argument is not a string", function()
    assert.has_error(function() decode({}) end)
    assert.has_error(function() decode() end)
  end)
end)

describe("json encode", function()
  it("round-trips values through decode", function()
    local docs = {
      '{"a":[1,2,{"b":null}],"c":"x"}', "[]", "{}", "[[],{}]", '[true,false,null]', '"\\u0000\\u001f"',
      '{"k":[{"deep":[[[]]]}]}', "-0.5", "1e-07",
    }
    for _, doc in ipairs(docs) do
      local v = assert(decode(doc))
      local again = assert(decode(encode(v)))
      assert.is_true(same(v, again), doc)
    end
    assert.equal("[]", encode(decode("[]")))
    assert.equal("{}", encode(decode("{}")))
    assert.equal('{"a":[]}', encode(decode('{"a":[]}')))
  end)

  it("writes integers exactly and floats so they read back the same", function()
    if HAS_INTEGERS then
      assert.equal("9007199254740993", encode(9007199254740993))
      assert.equal("-9223372036854775808", encode(math.mininteger))
      assert.equal("9223372036854775807", encode(math.maxinteger))
    end
    assert.equal("1700000000", encode(1700000000))
    assert.equal("3", encode(3.0))            -- integral floats as integers: what integer fields want
    assert.equal("0.1", encode(0.1))
    for _, x in ipairs{ 0.1, 1 / 3, 1e-300, 123456.789, 2 ^ 60 + 0.0, -1.5e200 } do
      assert.equal(x, decode(encode(x)))
    end
  end)

  it("encodes arrays, marked empty arrays and objects", function()
    assert.equal("[1,2,3]", encode{ 1, 2, 3 })
    assert.equal("[]", encode(intercom.array{}))
    assert.equal("{}", encode{})
    assert.equal('{"a":1}', encode{ a = 1 })
    assert.equal('[1,null,3]', encode{ 1, core.null, 3 })
    assert.equal('{"tags":[]}', encode{ tags = intercom.array() })
  end)

  it("escapes what JSON requires and passes UTF-8 through", function()
    assert.equal('"a\\"b\\\\c\\nd\\u0001é"', encode('a"b\\c\nd\1é'))
  end)

  it("raises on a string that is not valid UTF-8, naming the path and the byte offset", function()
    local function fails(pattern, v, name)
      local ok, err = pcall(encode, v, name)
      assert.is_false(ok, "encoded: " .. tostring(err))
      assert.matches(pattern, err, 1, true)
    end
    fails("json: invalid UTF-8 at byte 3 of the string at .name", { name = "ab\255cd" })
    fails("invalid UTF-8 at byte 1 of the string at .tags[2]", { tags = { "ok", "\128" } })
    fails("invalid UTF-8 at byte 4 of the string at the top level", "abc\195")       -- cut short
    fails("invalid UTF-8 at byte 1 of the string at .x", { x = "\192\175" })          -- overlong '/'
    fails("invalid UTF-8 at byte 2 of the string at .x", { x = "a\237\160\128" })    -- a surrogate
    fails("invalid UTF-8 at byte 1 of the string at .x", { x = "\244\144\128\128" }) -- past U+10FFFF
    fails("invalid UTF-8 at byte 2 of the string at .x", { x = "a\226\130" })         -- cut short
    fails("invalid UTF-8 at byte 1 of the string at body.user.name", { user = { name = "\255" } }, "body")
    fails("invalid UTF-8 at byte 2 of the string at body", "a\255", "body")
    -- keys too: a key is a string of the document
    fails("invalid UTF-8 at byte 2 of a key at .user", { user = { ["a\255"] = 1 } })
    fails("invalid UTF-8 at byte 1 of a key at the top level", { ["\255"] = 1 })
    -- valid sequences of every length pass through as they are
    local ok = "a\194\169\226\130\172\240\159\152\128\244\143\191\191"   -- a, ©, €, U+1F600, U+10FFFF
    assert.equal('"' .. ok .. '"', encode(ok))
    assert.equal(ok, decode(encode(ok)))
  end)

  it("raises on what JSON cannot express, naming the path", function()
    local function fails(pattern, v)
      local ok, err = pcall(encode, v)
      assert.is_false(ok)
      assert.matches(pattern, err, 1, true)
    end
    fails("json: cannot encode a function value at .a.b[1]", { a = { b = { function() end } } })
    fails("cannot encode NaN at .x", { x = 0 / 0 })
    fails("cannot encode an infinite number at the top level", math.huge)
    local cyc = {}
    cyc.child = { back = cyc }
    fails("cannot encode a reference cycle at .child.back", cyc)
    fails("cannot encode a table with mixed or non-sequence keys at .m", { m = { 1, x = 2 } })
    fails("cannot encode a table with mixed or non-string keys", { x = 1, [true] = 2 })
    fails("cannot encode a sparse array", { 1, nil, 3 })
    fails("cannot encode a userdata value", { u = io.stdout })
    fails("cannot encode a thread value", coroutine.create(function() end))
    local deep = {}
    local cur = deep
    for _ = 1, 1001 do cur[1] = {}; cur = cur[1] end
    fails("nesting deeper than 1000 levels", deep)
  end)

  it("encodes the same table to the same bytes every time", function()
    local t = { a = 1, b = { c = 2, d = { 3, 4 } }, e = "f" }
    assert.equal(encode(t), encode(t))
  end)
end)

describe("json differential against lua-cjson", function()
  -- Skipped on purpose: integers beyond 2^53 (cjson rounds them) and empty arrays (cjson writes {}).
  local function contact_page(n)
    local data = {}
    for i = 1, n do
      data[i] = {
        type = "contact", id = string.format("6329bd9ffe4e3f0d5d4a%04d", i), role = "user",
        email = "user" .. i .. "@example.com", name = "Usér \"" .. i .. "\"\n", phone = core.null,
        created_at = 1700000000 + i, score = i / 7, unsubscribed = (i % 2 == 0),
        custom_attributes = { plan = "pro", seats = i, ratio = 0.25 },
        tags = { type = "list", data = { { type = "tag", id = tostring(i) } }, total_count = 1 },
      }
    end
    return { type = "list", data = data, total_count = n,
             pages = { type = "pages", page = 1, per_page = n, total_pages = 3 } }
  end

  it("decodes every y_ case like cjson", function()
    local failed = {}
    for _, name in ipairs(list(SUITE .. "test_parsing")) do
      if name:sub(1, 2) == "y_" then
        local text = read(SUITE .. "test_parsing/" .. name)
        local okc, theirs = pcall(cjson.decode, text)
        local ours = decode(text)
        local big = text:find("%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d") -- 16+ digits: past cjson's doubles
        if okc and not big then
          local ok, why = same(ours, theirs)
          if not ok then failed[#failed + 1] = name .. ": " .. why end
        end
      end
    end
    assert.same({}, failed)
  end)

  it("agrees with cjson on an Intercom contact page, both directions", function()
    local doc = contact_page(50)
    local ours = encode(doc)
    assert.is_true(same(cjson.decode(ours), doc))
    local theirs = cjson.encode(doc)
    assert.is_true(same(decode(theirs), cjson.decode(theirs)))
    -- (decode(ours) and decode(theirs) differ on purpose: cjson writes 14 significant digits, we write
    -- as many as a double needs to read back exactly, as the round-trip spec above checks.)
  end)
end)

describe("json decode shape cache", function()
  -- The decoder remembers the keys and sizes of the shapes it saw (src/json.c, ic_shapes) and checks the
  -- input against them; these documents keep changing shape in the ways a cache could get wrong, and every
  -- one must decode exactly like lua-cjson, which has no such cache.
  local value_text = random_json(12345)

  it("decodes documents of shifting shapes like cjson", function()
    local failed = {}
    for i = 1, 2000 do
      local text = value_text(0)
      local ok, why = same(decode(text), cjson.decode(text))
      if not ok then failed[#failed + 1] = i .. ": " .. why .. " in " .. text end
      if #failed > 5 then break end
    end
    assert.same({}, failed)
  end)

  it("gets a repeated shape right every time, and a changed one the first time", function()
    local contact = '{"type":"contact","id":"1","tags":{"type":"list","data":[{"type":"tag","id":"7"}]}}'
    for _ = 1, 3 do
      local c = decode(contact)
      assert.same({ type = "contact", id = "1", tags = { type = "list", data = { { type = "tag", id = "7" } } } }, c)
    end
    -- The same places, other keys: a prefix, an extension, an escape, one key fewer, one more.
    assert.same({ typ = "contact", idx = "1" }, decode('{"typ":"contact","idx":"1"}'))
    assert.same({ type = "contact", id = "1" }, decode('{"t\\u0079pe":"contact","id":"1"}'))
    assert.same({ type = "contact" }, decode('{"type":"contact"}'))
    local big = decode('{"type":"contact","id":"1","tags":{"type":"list","data":[{"type":"tag","id":"7"},'
      .. '{"type":"tag","id":"8"},{"type":"tag","id":"9"}]},"extra":[1,2,3,4,5,6,7,8,9,10]}')
    assert.equal(3, #big.tags.data)
    assert.equal(10, #big.extra)
    assert.equal("9", big.tags.data[3].id)
    -- A duplicate key keeps its last value, cached or not.
    assert.same({ type = "b", id = "1" }, decode('{"type":"a","id":"1","type":"b"}'))
    assert.same({ type = "b", id = "1" }, decode('{"type":"a","id":"1","type":"b"}'))
    -- Keys are ordinary strings: equal to literals, usable as table keys.
    local k = next(decode('{"some_key_to_compare":1}'))
    assert.equal("some_key_to_compare", k)
  end)

  it("keeps its strings valid through garbage collections", function()
    local text = '{"alpha_key":{"beta_key":[{"gamma_key":1}]}}'
    for _ = 1, 50 do
      local v = decode(text)
      collectgarbage()
      assert.equal(1, v.alpha_key.beta_key[1].gamma_key)
      assert.equal("alpha_key", next(v))
    end
  end)
end)
