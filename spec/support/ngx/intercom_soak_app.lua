-- The nginx side of the soak (spec/e2e/soak_spec.lua): GET /soak?n=50&backend=own|resty&run=R makes n
-- calls (finds and creates, 8 light threads at once) through the ngx transport against the test server,
-- whose queue the spec filled with random faults, and answers with what it saw: problems (raises, wrong
-- values, non-errors), the slowest call, the worker's pid and its Lua memory after a full collection.

local intercom = require "intercom"
local ngx_transport = require "intercom.transport.ngx"
local mix = require "support.soak_mix"

local ngx = ngx
local json = intercom.json

local _M = {}

local base_url
local transports = {}

function _M.init(url) base_url = url end

local function client(backend)
  local t = transports[backend]
  if not t then
    t = ngx_transport.new{ http = backend == "resty" and require("resty.http") or false }
    transports[backend] = t
  end
  return intercom.new{ token = "nginx-soak-token", base_url = base_url, transport = t, max_retries = 1,
                       timeout = mix.TIMEOUT, connect_timeout = mix.TIMEOUT, max_response_bytes = mix.MAX }
end

function _M.run()
  local args = ngx.req.get_uri_args()
  local n, backend, run = tonumber(args.n) or 50, args.backend or "own", args.run or "0"
  local c = client(backend)
  local problems, kinds, slowest, next_i = {}, {}, 0, 0
  local function worker()
    while next_i < n do
      next_i = next_i + 1
      local id = run .. "-" .. next_i
      local opts = { headers = { ["X-Soak-Id"] = id } }
      ngx.update_time()
      local t0 = ngx.now()
      local ok, res, err
      if next_i % 3 == 0 then
        ok, res, err = pcall(c.contacts.create, c.contacts, { email = id .. "@soak.example.com" }, opts)
      else
        ok, res, err = pcall(c.contacts.find, c.contacts, id, opts)
      end
      ngx.update_time()
      slowest = math.max(slowest, ngx.now() - t0)
      local p = mix.problem(id, ok, res, err)
      if p then problems[#problems + 1] = p end
      local k = ok and (err and err.kind or "ok") or "raised"
      kinds[k] = (kinds[k] or 0) + 1
    end
  end
  local threads = {}
  for i = 1, 8 do threads[i] = ngx.thread.spawn(worker) end
  for i = 1, 8 do ngx.thread.wait(threads[i]) end
  collectgarbage()
  collectgarbage()
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode{ problems = intercom.array(problems), kinds = kinds, slowest = slowest,
                       pid = ngx.worker.pid(), lua_kb = collectgarbage("count") })
end

return _M
