-- Hostile data from the server: whatever bytes come back, the decoder returns a value or a decode error,
-- and a decoded value survives an encode/decode round trip. `make fuzz` explores the same property with
-- libFuzzer; these are its deterministic companions (and the cases the fuzzer found).

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"

local json = intercom.json
local SUITE = "../shared/jsontestsuite/test_parsing/"

local read = require("support.util").read

local function suite_files()
  local p = assert(io.popen("ls " .. SUITE))
  local names = {}
  for name in p:lines() do
    if name:match("%.json$") then names[#names + 1] = name end
  end
  p:close()
  return names
end

-- encode(decode(s)) must be a fixed point after one step: encode(decode(e)) == e. Objects with several keys
-- may come out in another order, so the comparison is by length and by decoding both.
local function deep_equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  if getmetatable(a) ~= getmetatable(b) then return false end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

describe("hostile data", function()
  it("every JSONTestSuite document decodes or fails cleanly, and what decodes round-trips", function()
    local names = suite_files()
    assert.is_true(#names > 300, "JSONTestSuite not found at " .. SUITE)
    local decoded = 0
    for _, name in ipairs(names) do
      local text = read(SUITE .. name)
      local ok, v, err = pcall(json.decode, text)
      assert.is_true(ok, name .. " raised: " .. tostring(v))
      if v == nil then
        assert.is_string(err, name)
      else
        decoded = decoded + 1
        local eok, e1 = pcall(json.encode, v)
        if not eok then
          -- 1e400 and friends; and strings whose bytes are not UTF-8 (kept as they came, or a lone
          -- surrogate escape's 3-byte form), which JSON text cannot carry
          assert.is_true(e1:find("cannot encode an infinite number", 1, true) ~= nil
                         or e1:find("invalid UTF-8", 1, true) ~= nil, name .. ": " .. e1)
        else
          local v2, derr = json.decode(e1)
          assert.is_nil(derr, name)
          assert.is_true(deep_equal(v, v2), name)
          local e2 = json.encode(v2)
          assert.equal(#e1, #e2, name)
        end
      end
    end
    assert.is_true(decoded > 90)
  end)

  it("-0.0 keeps its sign and its float type through a round trip (found by the fuzzer)", function()
    local e1 = json.encode(json.decode("[-0.0]"))
    assert.equal("[-0.0]", e1)
    assert.equal(e1, json.encode(json.decode(e1)))
    assert.equal(-math.huge, 1 / json.decode("-0.0"))
    if math.type then assert.equal("integer", math.type(json.decode("-0"))) end
  end)

  it("numbers beyond 64 bits become floats, beyond the double range infinities", function()
    assert.equal(18446744073709551616.0, json.decode("18446744073709551616"))
    assert.equal(-math.huge, json.decode("-1e400"))
    assert.equal(0, json.decode("1e-400"))
    assert.equal(1e308, json.decode("1" .. string.rep("0", 308)))
    if math.type then
      assert.equal(math.maxinteger, json.decode("9223372036854775807"))
      assert.equal(math.mininteger, json.decode("-9223372036854775808"))
      assert.equal("float", math.type(json.decode("9223372036854775808")))
    end
  end)

  it("long keys, long strings and many keys", function()
    local key = string.rep("k", 100000)
    local v = json.decode('{"' .. key .. '":"' .. string.rep("v", 1000000) .. '"}')
    assert.equal(1000000, #v[key])
    local parts = {}
    for i = 1, 50000 do parts[i] = ('"k%d":%d'):format(i, i) end
    local obj = json.decode("{" .. table.concat(parts, ",") .. "}")
    assert.equal(50000, obj.k50000)
  end)

  it("NUL bytes, invalid UTF-8 and lone surrogates pass through as bytes", function()
    assert.equal("a\0b", json.decode('"a\\u0000b"'))
    assert.equal("\255\254", json.decode('"\255\254"'))
    assert.equal("\237\160\128", json.decode('"\\ud800"'))   -- WTF-8 for a lone high surrogate
    assert.equal('"a\\u0000b"', json.encode("a\0b"))
  end)

  describe("from the server", function()
    before_each(function() control.reset() end)

    it("a response nested 100000 deep is a decode error, not a crash", function()
      local body = string.rep("[", 100000) .. string.rep("]", 100000)
      control.enqueue{ body = body, headers = { ["Content-Type"] = "application/json" } }
      local res, err = fx.client().contacts:find("c1")
      assert.is_nil(res)
      assert.equal("decode", err.kind)
      assert.matches("nesting deeper than 1000 levels", err.message, 1, true)
      assert.equal(#body, #err.body)
    end)

    it("a response nested 1000 deep decodes", function()
      local body = '{"type":"contact","id":"c1","deep":' .. string.rep("[", 998) .. string.rep("]", 998) .. "}"
      control.enqueue{ body = body, headers = { ["Content-Type"] = "application/json" } }
      local res, err = fx.client().contacts:find("c1")
      assert.is_nil(err)
      assert.equal("c1", res.id)
    end)

    it("binary garbage with a JSON content type is a decode error that keeps the bytes", function()
      local garbage = {}
      for i = 1, 4096 do garbage[i] = string.char((i * 73 + 11) % 256) end
      garbage = "{" .. table.concat(garbage)
      control.enqueue{ body = garbage, headers = { ["Content-Type"] = "application/json" } }
      local _, err = fx.client().contacts:find("c1")
      assert.equal("decode", err.kind)
      assert.equal(garbage, err.body)
    end)

    it("an error body that is JSON but not Intercom's shape still gives an api error", function()
      for _, body in ipairs{ "[]", "null", '"oops"', '{"errors":"not a list"}', '{"errors":[42]}' } do
        control.enqueue{ status = 400, body = body, headers = { ["Content-Type"] = "application/json" } }
        local _, err = fx.client().contacts:find("c1")
        assert.equal("api", err.kind, body)
        assert.equal(400, err.status, body)
        assert.is_string(err.message, body)
      end
    end)
  end)
end)
