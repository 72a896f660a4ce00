-- The JSON decode of one 50-contact page: intercom's C codec against lua-cjson, in the same process.
--
--   lua5.4|luajit bench/decode.lua PAGE_FILE [ROUNDS]
--
-- Alternates the two decoders in rounds (so both see the same machine), each round decoding the page
-- enough times to take ~50 ms of CPU. Prints the median ms per page of each and the median ratio.
local core = require "intercom.core"
local cjson = require "cjson"

local path, rounds = arg[1], tonumber(arg[2]) or 9
local f = assert(io.open(path, "rb"))
local page = f:read("*a")
f:close()

local function per_page(decode, n)
  collectgarbage()
  local t = os.clock()
  for _ = 1, n do decode(page) end
  return (os.clock() - t) / n
end

-- Same data from both (the codec's exact integers aside): a check that both really decode the page.
assert(#core.json_decode(page).data == #cjson.decode(page).data)

local n = math.max(5, math.floor(0.05 / per_page(core.json_decode, 5)))
local ours, theirs, ratios = {}, {}, {}
for r = 1, rounds do
  ours[r] = per_page(core.json_decode, n)
  theirs[r] = per_page(cjson.decode, n)
  ratios[r] = theirs[r] / ours[r]
end
local function median(t)
  table.sort(t)
  return t[math.floor((#t + 1) / 2)]
end
io.write(string.format('{"bytes": %d, "intercom_ms": %.4f, "cjson_ms": %.4f, "ratio": %.3f}\n',
  #page, median(ours) * 1000, median(theirs) * 1000, median(ratios)))
