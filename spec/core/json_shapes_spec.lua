-- The decoder's shape cache (src/json_shapes.c): results are always those of a decode without it, even
-- when a finalizer that the decode's own allocations run decodes other documents meanwhile.
local core = require "intercom.core"
local identical = require("support.util").identical

local decode = core.json_decode

local HAZARD = [[
local core = require "intercom.core"
local fin = require "support.finalizers"
local decode = core.json_decode
local others = {}
for i = 1, 8 do others[i] = ('{"k%d":1,"k%d":2,"k%d":3}'):format(i, i + 1, i + 2) end
local text = '{"alpha":1,"beta":2}'
local inner, running = 0, true
fin.aggressive(true)
fin.chain(function()
  if not running then return false end
  inner = inner + 1
  if inner % 2 == 0 then
    for _, o in ipairs(others) do decode(o) end
  end
  return true
end)
for i = 1, 30000 do
  local v = decode(text)
  if v.alpha ~= 1 or v.beta ~= 2 or next(v, next(v, next(v))) ~= nil then
    local keys = {}
    for k, x in pairs(v) do keys[#keys + 1] = tostring(k) .. "=" .. tostring(x) end
    running = false
    error("decode " .. i .. " gave {" .. table.concat(keys, ", ") .. "}", 0)
  end
end
running = false
fin.aggressive(false)
assert(inner >= 1000, "finalizers ran " .. inner .. " times: too few to tell")
print("ok " .. inner)
]]

describe("the shape cache", function()
  it("gives the right keys when a finalizer decodes other objects inside a decode", function()
    -- Every other finalizer decodes small objects whose first keys land on the place of "alpha" (every
    -- way of its set): a cache that let those inner decodes evict the outer one's entry between its
    -- check (a hit) and its push (after making the table, whose allocation ran the finalizer) handed out
    -- another key. Every other one only: an outer decode must find "alpha" cached to be at risk. Before
    -- the fix, about 1 decode in 2 (Lua 5.4) or 1 in 8 (LuaJIT) came back wrong. In a fresh interpreter,
    -- whose small heap lets the collector run a finalizer at nearly every allocation.
    local rc, out = require("support.util").run_lua(HAZARD)
    assert.equal(0, rc, out)
    assert.matches("^ok ", out)
  end)

  it("decodes documents of shifting shapes as a decoder without a cache would", function()
    -- keys and values the cache holds are compared with the text each time: a wrong guess costs a
    -- comparison, never a wrong value
    local texts = {
      '{"type":"contact","id":"1","role":"user","tags":{"data":[]}}',
      '{"type":"contact","id":"2","role":"lead","tags":{"data":[{"id":"t"}]},"extra":true}',
      '{"id":"3","type":"contact"}',
      '{"type":"company","id":"4","role":"user","tags":[]}',
      '{"type":"contact","id":"5","ro\\u006ce":"user","tags":{"data":null}}',
    }
    local expected = {}
    for i, t in ipairs(texts) do expected[i] = decode(t) end
    for round = 1, 200 do
      local i = (round * 7) % #texts + 1
      local ok, why = identical(decode(texts[i]), expected[i])
      assert.is_true(ok, why)
    end
  end)
end)
