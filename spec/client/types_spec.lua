-- The LuaLS classes of the library's own surface say what the code does: intercom.ClientOpts lists every
-- option intercom.new accepts, and the library's error object has a class of its own, not the name the
-- generated models give the spec's `error` schema (the two would merge in the editor).

local options = require "intercom.options"
local read = require("support.util").read

-- The ---@field names of one ---@class block in a file.
local function fields_of(text, class)
  local block = text:match("%-%-%-@class " .. class:gsub("%.", "%%.") .. "\n(.-)\n[^%-]")
  assert(block, "no ---@class " .. class)
  local names = {}
  for name in block:gmatch("%-%-%-@field ([%w_]+)") do names[name] = true end
  return names
end

describe("LuaLS classes of the library", function()
  it("intercom.ClientOpts has a field for every option of intercom.new, and no other", function()
    local documented = fields_of(read("lua/intercom/client.lua"), "intercom.ClientOpts")
    local accepted = {}
    for name in pairs(options.CLIENT) do accepted[name] = true end
    assert.same(accepted, documented)
  end)

  it("the error object's class is intercom.ErrorObject, a name no generated model has", function()
    assert.matches("%-%-%-@class intercom%.ErrorObject\n", read("lua/intercom/errors.lua"))
    local models = read("types/intercom/models.lua")
    assert.matches("%-%-%-@class intercom%.Error\n", models)      -- the spec's `error` schema
    assert.is_nil(models:find("@class intercom.ErrorObject", 1, true))
    assert.is_nil(read("types/intercom/resources.lua"):find("intercom.Error|", 1, true))
  end)
end)
