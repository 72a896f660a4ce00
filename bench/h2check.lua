-- client:map over HTTPS against an HTTP/2 server: prints how long 40 finds took at concurrency 8.
-- bench/run.py serves them with a 50 ms delay and counts the connections in nginx's access log.
local intercom = require "intercom"
local core = require "intercom.core"
local base, ca = arg[1], arg[2]
local c = intercom.new{ token = "bench-token", base_url = base, ca_file = ca }
local ids = {}
for i = 1, 40 do ids[i] = "65ddcd01697be43641" .. i end
local t = core.now()
local results, errs = c:map(ids, function(id) return c.contacts:find(id) end, { concurrency = 8 })
assert(next(errs) == nil, tostring(errs[next(errs) or 1]))
io.write(string.format('{"requests": %d, "seconds": %.3f}\n', #results, core.now() - t))
