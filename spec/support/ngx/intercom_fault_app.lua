-- The handler of spec/e2e/nginx_faults_spec.lua's nginx: one call of the fault catalogue (or the soak)
-- through the ngx transport with the backend asked for, answered as JSON: what came back, how long it
-- took, and whether anything raised. lua-resty-http is the real one, from ../shared/vendor (test-only,
-- on lua_package_path).
--
--   GET /fault?backend=own|resty&call=find|create|delete&id=c1&timeout=1&max=100000

local intercom = require "intercom"
local ngx_transport = require "intercom.transport.ngx"

local ngx = ngx
local json = intercom.json

local _M = {}

local base_url
local transports = {}

function _M.init(url)
  base_url = url
end

local function transport(backend)
  local t = transports[backend]
  if not t then
    t = ngx_transport.new{ http = backend == "resty" and require("resty.http") or false }
    transports[backend] = t
  end
  return t
end

local function call(args)
  local client = intercom.new{
    token = "nginx-fault-token", base_url = base_url, transport = transport(args.backend),
    max_retries = tonumber(args.retries) or 0, timeout = tonumber(args.timeout) or 5, connect_timeout = 2,
    max_response_bytes = tonumber(args.max),
  }
  local c = client.contacts
  if args.call == "create" then return c:create{ email = (args.id or "x") .. "@example.com" } end
  if args.call == "delete" then return c:delete(args.id or "c1") end
  if args.call == "download" then
    return client.data_export:download(args.id or "job-1", { deadline = tonumber(args.deadline) })
  end
  return c:find(args.id or "c1")
end

function _M.run()
  local args = ngx.req.get_uri_args()
  ngx.update_time()
  local started = ngx.now()
  local ok, res, err, resp = pcall(call, args)
  ngx.update_time()
  local out = { elapsed = ngx.now() - started, backend = transport(args.backend).backend }
  if not ok then
    out.raised = tostring(res)
  elseif res ~= nil then
    out.value_type = type(res)
    if type(res) == "table" then out.id = res.id else out.value = res end
    out.status = resp and resp.status
  else
    out.kind, out.message, out.sent, out.retryable = err.kind, err.message, err.sent, err.retryable
    out.status, out.attempts = err.status, err.attempts
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(out))
end

return _M
