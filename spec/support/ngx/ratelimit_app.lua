-- The handlers of spec/e2e/nginx_ratelimit_spec.lua: the library inside nginx workers drawing from one
-- rate-limit budget (a lua_shared_dict, or Redis over cosockets with either Redis client), and client:map
-- running its tasks as ngx.threads.
--
--   content_by_lua_block { require("ratelimit_app").run(ngx.var.handler) }

local intercom = require "intercom"

local ngx = ngx
local json = intercom.json

local _M = {}

local conf = {}
local TOKEN = "nginx-ratelimit-token"

function _M.init(base_url, redis_url)
  conf.base_url, conf.redis_url = base_url, redis_url
end

local handlers = {}

-- n finds through client:map at concurrency 8, with the budget the query names:
-- store=dict (ngx.shared.rl) or store=redis&backend=own|resty.
function handlers.burst()
  local args = ngx.req.get_uri_args()
  local rl
  if args.store == "dict" then
    rl = { shared = "ngx.shared.rl" }
  else
    rl = { shared = conf.redis_url }
    if args.backend == "own" then rl.redis = false end    -- else lua-resty-redis, found on lua_package_path
  end
  local events = {}
  local c = intercom.new{ token = TOKEN, base_url = conf.base_url, max_retries = 0, timeout = 10, rate_limit = rl,
                          logger = function(e)
                            if e.reason == "store_down" then events[#events + 1] = e.error end
                          end }
  local items = {}
  for i = 1, tonumber(args.n) do items[i] = args.prefix .. i end
  local results, errs = c:map(items, function(id) return c.contacts:find(id) end, { concurrency = 8 })
  local ok, limited, other = 0, 0, intercom.array()
  for i = 1, #items do
    if results[i] then ok = ok + 1
    elseif errs[i] and errs[i].status == 429 then limited = limited + 1
    else other[#other + 1] = tostring(errs[i]) end
  end
  local store = c._throttle.store
  return 200, { ok = ok, limited = limited, other = other, pid = ngx.worker.pid(), budget = c._throttle.name,
                backend = store.backend and store:backend() or "shdict", stats = c:stats(),
                store_down = intercom.array(events) }
end

-- 20 finds of 0.3 s each through client:map: concurrent with ngx.thread workers.
function handlers.concurrent()
  local c = intercom.new{ token = TOKEN, base_url = conf.base_url, max_retries = 0, timeout = 10 }
  local items = {}
  for i = 1, 20 do items[i] = "slow" .. i end
  ngx.update_time()
  local t0 = ngx.now()
  local results, errs = c:map(items, function(id) return c.contacts:find(id) end, { concurrency = 20 })
  ngx.update_time()
  local ok = 0
  for i = 1, 20 do if results[i] and results[i].id then ok = ok + 1 end end
  return 200, { ok = ok, errs = next(errs) and tostring(errs[next(errs)]) or nil, elapsed = ngx.now() - t0 }
end

function _M.run(name)
  local handler = handlers[name]
  if not handler then ngx.exit(404) end
  local ok, status, value = pcall(handler)
  if not ok then status, value = 500, { error = tostring(status) } end
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(value))
end

return _M
