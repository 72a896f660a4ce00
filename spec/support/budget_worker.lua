-- One process of the shared-budget specs (spec/client/shared_budget_spec.lua): a client with a shared
-- rate-limit budget runs `n` finds through client:map and prints what it got on one line.
--
--   lua budget_worker.lua BASE_URL SHARED N CONCURRENCY PREFIX
local intercom = require "intercom"

local base_url, shared, n, concurrency, prefix = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]), arg[5]
local downs = 0
local client = intercom.new{ base_url = base_url, token = "tok_SECRET_abc123", max_retries = 5,
                             logger = function(e) if e.reason == "store_down" then downs = downs + 1 end end,
                             rate_limit = shared ~= "auto" and { shared = shared } or "auto" }
local items = {}
for i = 1, n do items[i] = prefix .. i end
local results = client:map(items, function(id) return client.contacts:find(id) end, { concurrency = concurrency })
local ok = 0
for i = 1, n do if results[i] then ok = ok + 1 end end
local s = client:stats()
io.write(("ok=%d requests=%d limited=%d wait=%.3f store_down=%d\n"):format(ok, s.requests, s.rate_limited,
  s.throttle_wait, downs))
