-- The handlers of the nginx spec's locations (spec/e2e/nginx_spec.lua): each one uses the library inside
-- nginx to call the scriptable test server, and answers with what it got, as JSON.
--
--   content_by_lua_block { require("intercom_test_app").run("find") }

local intercom = require "intercom"
local ngx_transport = require "intercom.transport.ngx"

local ngx = ngx
local json = intercom.json

local _M = {}

local conf = {}            -- base_url (the test server), tls_port, untrusted_port
local init_results         -- what the init_by_lua calls got
local jobs = {}            -- timer jobs' results, by id
local shared               -- one client per worker, as an application would keep it

local TOKEN = "nginx-spec-token"

local function client()
  if not shared then
    shared = intercom.new{ token = TOKEN, base_url = conf.base_url, timeout = 10 }
  end
  return shared
end

local function say(status, value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(value))
end

local function error_fields(err)
  return { kind = err.kind, status = err.status, code = err.code, message = err.message,
           request_id = err.request_id, attempts = err.attempts, sent = err.sent, text = tostring(err) }
end

--- init_by_lua: remembers the configuration, then calls the API twice from the init phase, where there
--- are no cosockets (the client must fall back to curl and warn once).
function _M.init(base_url, tls_port, untrusted_port)
  conf.base_url, conf.tls_port, conf.untrusted_port = base_url, tls_port, untrusted_port
  local c = intercom.new{ token = TOKEN, base_url = base_url, max_retries = 0, timeout = 5 }
  init_results = { phase = ngx.get_phase(), ids = intercom.array() }
  for i = 1, 2 do
    local contact, err = c.contacts:find("init-" .. i)
    init_results.ids[i] = contact and contact.id or tostring(err)
  end
end

local handlers = {}

function handlers.init()
  return 200, init_results
end

function handlers.find()
  local c = client()
  local contact, err, resp = c.contacts:find(ngx.var.arg_id)
  if not contact then return 500, error_fields(err) end
  return 200, { id = contact.id, email = contact.email, status = resp.status, attempts = resp.attempts,
                phase = ngx.get_phase(), backend = ngx_transport.for_client(c).backend }
end

function handlers.each()
  local ids = {}
  for contact in client().contacts:each{ per_page = 2 } do ids[#ids + 1] = contact.id end
  return 200, { ids = intercom.array(ids) }
end

function handlers.error()
  local contact, err = client().contacts:find(ngx.var.arg_id, { max_retries = 0 })
  if contact then return 200, { unexpected = contact } end
  return 200, error_fields(err)
end

function handlers.retry()
  local started = ngx.now()
  local contact, err, resp = client().contacts:find(ngx.var.arg_id)
  ngx.update_time()
  if not contact then return 500, error_fields(err) end
  return 200, { id = contact.id, attempts = resp.attempts, elapsed = ngx.now() - started }
end

function handlers.create()
  ngx.req.read_body()
  local contact, err = client().contacts:create(json.decode(ngx.req.get_body_data()))
  if not contact then return 500, error_fields(err) end
  return 200, contact
end

function handlers.download()
  local path = os.tmpname()
  local result, err = client().data_export:download(ngx.var.arg_id, { output_file = path })
  local f = io.open(path, "rb")
  local data = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(path)
  if not result then return 500, error_fields(err) end
  return 200, { size = #data, head = data:sub(1, 16), tail = data:sub(-16) }
end

function handlers.job_start()
  local id = ngx.var.arg_id
  local ok, err = ngx.timer.at(0, function(premature)
    if premature then return end
    local contact, ferr = client().contacts:find(id)
    jobs[id] = contact and { id = contact.id, phase = ngx.get_phase() } or error_fields(ferr)
  end)
  if not ok then return 500, { message = err } end
  return 202, { started = id }
end

function handlers.job_result()
  local r = jobs[ngx.var.arg_id]
  if not r then return 404, { pending = true } end
  return 200, r
end

-- A client whose base URL is given per request (TLS and failure cases), with a short timeout.
local function client_for(base_url, extra)
  local opts = { token = TOKEN, base_url = base_url, max_retries = 0, timeout = 2, connect_timeout = 1 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return intercom.new(opts)
end

local function find_with(c)
  local contact, err = c.contacts:find(ngx.var.arg_id or "x")
  if not contact then return 200, error_fields(err) end
  return 200, { id = contact.id, email = contact.email }
end

--- intercom.sleep in the content phase: must yield to nginx (ngx.sleep), not block the worker.
function handlers.sleep()
  local t0 = intercom.now()
  intercom.sleep(tonumber(ngx.var.arg_s) or 0.3)
  return 200, { slept = intercom.now() - t0 }
end

function handlers.tls()
  -- nginx's own resolver is not configured here, so "localhost" is mapped to its address explicitly;
  -- the name still drives SNI and the certificate check.
  local t = ngx_transport.new{ resolve = { localhost = "127.0.0.1" } }
  local host = ngx.var.arg_host or "localhost"
  local port = ngx.var.arg_untrusted and conf.untrusted_port or conf.tls_port
  return find_with(client_for(("https://%s:%d"):format(host, port), { transport = t }))
end

function handlers.timeout()
  return find_with(client_for(conf.base_url, { timeout = tonumber(ngx.var.arg_timeout) }))
end

function handlers.refused()
  return find_with(client_for("http://127.0.0.1:" .. ngx.var.arg_port))
end

--- Runs the handler `name` and answers with its status and JSON value (500 and the error if it raised).
function _M.run(name)
  local ok, status, value = pcall(handlers[name])
  if not ok then
    ngx.log(ngx.ERR, "handler ", name, " raised: ", tostring(status))
    return say(500, { raised = tostring(status) })
  end
  return say(status, value)
end

return _M
