-- What Lua users write by hand today: LuaSocket's socket.http and lua-cjson, one benchmark workload.
--
--   lua5.4 bench/clients/luasocket.lua WORKLOAD BASE_URL
--
-- socket.http opens a connection per request (it has no keep-alive); that is part of what is measured.
-- One untimed warm-up request of the workload's kind comes first, as in every client.
local http = require "socket.http"
local ltn12 = require "ltn12"
local socket = require "socket"
local cjson = require "cjson"

local workload, base = arg[1], arg[2]

-- bench/clients/process.lua, found beside this script
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local rss_kb = require("process").rss_kb

local function request(method, url, body)
  local chunks = {}
  local headers = {
    ["Authorization"] = "Bearer bench-token",
    ["Intercom-Version"] = "2.12",
    ["Accept"] = "application/json",
  }
  if body then
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = tostring(#body)
  end
  local ok, code = http.request{
    url = url, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  assert(ok and code == 200, tostring(code))
  return cjson.decode(table.concat(chunks))
end

local function list_all(prefix, on_page)
  local url = base .. prefix .. "/contacts?per_page=50"
  while true do
    local page = request("GET", url)
    on_page(page)
    local nxt = type(page.pages) == "table" and type(page.pages.next) == "table" and page.pages.next.starting_after
    if not nxt then break end
    url = base .. prefix .. "/contacts?per_page=50&starting_after=" .. nxt
  end
end

local extra = ""
local started, cpu0, ops
if workload == "W1" then
  request("GET", base .. "/w1/contacts/warm-up")
  started, cpu0 = socket.gettime(), os.clock()
  for i = 1, 2000 do
    local c = request("GET", base .. "/w1/contacts/" .. string.format("65ddcd01697be43641%06d", i))
    assert(c.id)
  end
  ops = 2000
elseif workload == "W2" then
  request("GET", base .. "/w2/contacts?per_page=50")
  started, cpu0 = socket.gettime(), os.clock()
  local n = 0
  for _ = 1, 10 do
    list_all("/w2", function(page) for _ in ipairs(page.data) do n = n + 1 end end)
  end
  assert(n == 10000, n)
  ops = 200
elseif workload == "W3" then
  local function search()
    local body = cjson.encode{
      query = { operator = "AND", value = {
        { field = "role", operator = "=", value = "user" },
        { field = "created_at", operator = ">", value = 1700000000 },
      } },
      pagination = { per_page = 10 },
    }
    local page = request("POST", base .. "/w3/contacts/search", body)
    assert(page.data)
  end
  search()
  started, cpu0 = socket.gettime(), os.clock()
  for _ = 1, 500 do search() end
  ops = 500
elseif workload == "W5" then
  local n, pages, at100 = 0, 0, nil
  request("GET", base .. "/w5/contacts?per_page=50")
  started, cpu0 = socket.gettime(), os.clock()
  list_all("/w5", function(page)
    pages = pages + 1
    for _ in ipairs(page.data) do n = n + 1 end
    if pages == 100 then at100 = rss_kb() end
  end)
  assert(n == 100000, n)
  ops = 2000
  extra = string.format(', "rss_kb_page100": %d, "rss_kb_page2000": %d', at100, rss_kb())
else
  error("unknown workload " .. tostring(workload))
end
io.write(string.format('{"ops": %d, "seconds": %.6f, "cpu_seconds": %.6f%s}\n', ops, socket.gettime() - started,
  os.clock() - cpu0, extra))
