-- The shared rate-limit budget's cost and yield (bench/ratelimit.sh runs this; bench/README.md).
--
--   lua bench/ratelimit.lua overhead REDIS_URL N     -> one line: microseconds per request, local and Redis
--   lua bench/ratelimit.lua share BASE_URL REDIS_URL PROCS PER LIMIT
--                                                   -> one line: seconds, budget share, 429s
--
-- overhead: what one request pays for the budget (acquire a slot, then report its answer), with a budget so
-- large that nothing waits, against this process's memory and against Redis on loopback.
-- share: PROCS processes at concurrency 8 with one Redis budget against the test server's limit of LIMIT
-- requests per 1-second window; the share is requests / (LIMIT x windows the run touched).
local core = require "intercom.core"
local throttle = require "intercom.throttle"

local mode = arg[1]

local function overhead(spec, n)
  local t = throttle.new(spec, nil)
  local rl = { limit = 1000000000, remaining = 999999999, reset = math.floor(core.wall()) + 10 }
  local sleeper = function() error("the budget made a request wait") end
  local slot = t:acquire("tok_bench", sleeper)
  t:done(slot, rl)
  local t0 = core.now()
  for _ = 1, n do
    slot = t:acquire("tok_bench", sleeper)
    t:done(slot, rl)
  end
  return (core.now() - t0) / n * 1e6
end

if mode == "overhead" then
  local n = tonumber(arg[3])
  local mem = overhead("auto", n)
  local red = overhead({ shared = arg[2], key = "bench:" .. tostring(os.time()) }, n)
  io.write(("%.2f %.2f\n"):format(mem, red))
elseif mode == "share" then
  local base, redis_url, procs, per, limit = arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5]), tonumber(arg[6])
  local lua = arg[-1]
  local socket = require "socket"
  socket.sleep(1 - socket.gettime() % 1 + 0.05)
  local t0 = socket.gettime()
  local pipes = {}
  for p = 1, procs do
    pipes[p] = io.popen(("%s spec/support/budget_worker.lua %q %q %d 8 b%d- 2>&1"):format(lua, base, redis_url, per, p))
  end
  local limited, ok = 0, 0
  for p = 1, procs do
    local out = pipes[p]:read("*a")
    pipes[p]:close()
    limited = limited + tonumber(out:match("limited=(%d+)") or 0)
    ok = ok + tonumber(out:match("ok=(%d+)") or 0)
  end
  local t1 = socket.gettime()
  local windows = math.ceil(t1) - math.floor(t0)
  io.write(("%.2f %.3f %d %d\n"):format(t1 - t0, procs * per / (limit * windows), limited, ok))
else
  error("usage: lua bench/ratelimit.lua overhead REDIS_URL N | share BASE_URL REDIS_URL PROCS PER LIMIT")
end
