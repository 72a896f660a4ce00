-- intercom-lua running one benchmark workload (bench/run.py starts one process per run).
--
--   lua5.4|luajit bench/clients/intercom.lua WORKLOAD BASE_URL
--
-- Prints one JSON line: ops, seconds (wall time of the workload itself, startup excluded), cpu_seconds,
-- and for W5 the resident set size at page 100 and at page 2,000. Every client makes one untimed warm-up
-- request of the workload's kind first (one-time costs: loading libcurl, connecting, a JIT's warm-up).
local intercom = require "intercom"
local core = require "intercom.core"

local workload, base = arg[1], arg[2]

-- bench/clients/process.lua, found beside this script
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local rss_kb = require("process").rss_kb

local function client(prefix)
  return intercom.new{ token = "bench-token", base_url = base .. prefix }
end

local function ids(n)
  local list = {}
  for i = 1, n do list[i] = string.format("65ddcd01697be43641%06d", i) end
  return list
end

local extra = ""
local started, cpu0, ops

if workload == "W1" or workload == "W4seq" then
  local c = client(workload == "W1" and "/w1" or "/w4")
  local list = ids(workload == "W1" and 2000 or 200)
  assert(c.contacts:find("warm-up"))
  started, cpu0 = core.now(), os.clock()
  for i = 1, #list do assert(c.contacts:find(list[i])) end
  ops = #list
elseif workload == "W2" then
  local c = client("/w2")
  assert(c.contacts:list{ per_page = 50 })
  started, cpu0 = core.now(), os.clock()
  local n = 0
  for _ = 1, 10 do
    for _ in c.contacts:each{ per_page = 50 } do n = n + 1 end
  end
  assert(n == 10000, n)
  ops = 200                      -- pages
elseif workload == "W3" then
  local c = client("/w3")
  local q = intercom.query
  local function search()
    assert(c.contacts:search{
      query = q.all(q.eq("role", "user"), q.gt("created_at", 1700000000)),
      pagination = { per_page = 10 },
    })
  end
  search()
  started, cpu0 = core.now(), os.clock()
  for _ = 1, 500 do search() end
  ops = 500
elseif workload == "W4" then
  local c = client("/w4")
  local list = ids(1000)
  assert(c.contacts:find("warm-up"))
  started, cpu0 = core.now(), os.clock()
  local results, errs = c:map(list, function(id) return c.contacts:find(id) end, { concurrency = 16 })
  assert(next(errs) == nil and #results == 1000)
  ops = 1000
elseif workload == "W5" then
  local c = client("/w5")
  local n, at100 = 0, nil
  assert(c.contacts:list{ per_page = 50 })
  started, cpu0 = core.now(), os.clock()
  for _ in c.contacts:each{ per_page = 50 } do
    n = n + 1
    if n == 100 * 50 then at100 = rss_kb() end
  end
  assert(n == 100000, n)
  ops = 2000                     -- pages
  extra = string.format(', "rss_kb_page100": %d, "rss_kb_page2000": %d', at100, rss_kb())
else
  error("unknown workload " .. tostring(workload))
end
local seconds, cpu = core.now() - started, os.clock() - cpu0
io.write(string.format('{"ops": %d, "seconds": %.6f, "cpu_seconds": %.6f%s}\n', ops, seconds, cpu, extra))
