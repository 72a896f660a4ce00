-- JSON numbers never depend on the C locale (src/json.c, ic_json_c_locale). A host may call setlocale
-- (os.setlocale in Lua; nginx and many embedders do), and LC_NUMERIC then changes what strtod reads and
-- snprintf writes. ps_AF's decimal point is not even one byte (U+066B, "٫"): before the fix,
-- decode('{"price": 1.5}') gave 1 and encode{price = 1.5} wrote 1٫5, which the decoder then refused.
--
-- The locale is made for the test (Debian's `locales` package: localedef from its sources, no root) in a
-- temporary folder named by LOCPATH, so the check runs in a child interpreter that has that environment.

local util = require "support.util"
local sh = util.sh

local CHECK = [==[
local core = require "intercom.core"
local function show(v) return string.format("%q", tostring(v)) end
assert(os.setlocale(LOCALE, "numeric"), "cannot set " .. LOCALE)
-- Lua 5.4 formats through the C library, so it shows the locale took effect (LuaJIT formats by itself)
if not jit then
  assert(string.format("%.1f", 1.5) == "1" .. POINT .. "5", "the locale did not change the decimal point")
end
local point = POINT
local v = assert(core.json_decode('{"price": 1.5, "big": 1.25e3, "neg": -0.125, "list": [2.5]}'))
assert(v.price == 1.5, "decode 1.5 -> " .. show(v.price))
assert(v.big == 1250, "decode 1.25e3 -> " .. show(v.big))
assert(v.neg == -0.125, "decode -0.125 -> " .. show(v.neg))
assert(v.list[1] == 2.5, "decode [2.5] -> " .. show(v.list[1]))
for _, x in ipairs{ 1.5, -0.125, 1e-7, 3.14159, 1 / 3, 2 ^ 60 + 0.0, 123456.789 } do
  local text = core.json_encode{ x = x }
  assert(not text:find(point, 1, true) and text:match('^{"x":%-?[%d.eE+%-]+}$'), "encode " .. show(x) .. " -> " .. text)
  local back = assert(core.json_decode(text))
  assert(back.x == x, "round trip of " .. show(x) .. " -> " .. text .. " -> " .. show(back.x))
end
print("ok " .. point)
]==]

describe("JSON numbers under a locale whose decimal point is not '.'", function()
  local dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
  end)

  teardown(function()
    os.execute("rm -rf " .. dir)
  end)

  for locale, point in pairs{ ps_AF = "\217\171", de_DE = "," } do   -- U+066B; a comma
    it("decode and encode are the same under " .. locale .. ".UTF-8", function()
      local code, out = sh(("localedef -i %s -f UTF-8 %s/%s.UTF-8"):format(locale, dir, locale))
      assert.equal(0, code, "localedef failed (is Debian's `locales` package installed? make deps): " .. out)
      code, out = util.run_lua(("local LOCALE, POINT = %q, %q\n"):format(locale .. ".UTF-8", point) .. CHECK,
                               "LOCPATH=" .. dir)
      assert.equal(0, code, out)
      assert.matches("^ok ", out)
    end)
  end
end)
