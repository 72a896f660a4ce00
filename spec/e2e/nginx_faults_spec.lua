-- One fault catalogue (spec/support/fault_catalogue.lua), every backend: the curl transport in plain Lua,
-- and in a real nginx the ngx transport with its own HTTP/1.1 client and with the real lua-resty-http
-- (../shared/vendor, test-only, on lua_package_path). Each fault gives the right error kind and a message
-- naming the phase, never a raise, never a hang past the timeout, never a wrong value.
--   bash spec/run.sh --tags=faults

local control = require "support.control"
local fx = require "support.fixtures"
local nginx = require "support.nginx"
local catalogue = require "support.fault_catalogue"
local cjson = require "cjson"
local socket = require "socket"

local VENDOR = "${root}/../shared/vendor/"

local LUA_PATH = VENDOR .. "lua-resty-http/lib/?.lua;" .. VENDOR .. "lua-resty-string/lib/?.lua"

local HTTP = [[
  lua_socket_log_errors off;
  init_by_lua_block { require("intercom_fault_app").init("${upstream}") }
  server {
    listen 127.0.0.1:${port};
    location = /fault { content_by_lua_block { require("intercom_fault_app").run() } }
  }
]]

local function query(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  table.sort(parts)
  return table.concat(parts, "&")
end

-- Runs one case's call through the curl transport, here; returns what the nginx handler would answer.
local function run_curl(case)
  local opts = case.opts or {}
  local client = fx.client{ max_retries = 0, timeout = opts.timeout or 5, connect_timeout = 2,
                            max_response_bytes = opts.max_response_bytes }
  local started = socket.gettime()
  local c = client.contacts
  local ok, res, err, resp = pcall(function()
    if case.call == "delete" then return c:delete("c1") end
    if case.call == "create" then return c:create{ email = "c1@example.com" } end
    if case.call == "download" then return client.data_export:download("job-1", { deadline = opts.deadline }) end
    return c:find("c1")
  end)
  local out = { elapsed = socket.gettime() - started }
  if not ok then
    out.raised = tostring(res)
  elseif res ~= nil then
    if type(res) == "table" then out.id = res.id else out.value = res end
    out.status = resp and resp.status
  else
    out.kind, out.message, out.sent, out.retryable = err.kind, err.message, err.sent, err.retryable
  end
  client:close()
  return out
end

local function check(case, family, out, label)
  local what = label .. ": " .. case.name .. ": " .. cjson.encode(out)
  assert.is_nil(out.raised, what)
  if case.kind then
    local kind = type(case.kind) == "table" and case.kind[family] or case.kind
    assert.equal(kind, out.kind, what)
    assert.is_string(out.message, what)
    assert.matches(case.phase[family], out.message, nil, false, what)
    if kind == "too_large" or kind == "decode" then assert.is_false(out.retryable, what) end
  elseif case.value ~= nil then
    assert.equal(case.value, out.value, what)
  else
    assert.equal(case.id, out.id, what)
  end
  local within = case.within or 3
  assert.is_true(out.elapsed <= within, ("%s: took %.2f s, at most %.1f s expected"):format(what, out.elapsed, within))
end

describe("one fault catalogue, every backend #nginx #faults", function()
  local srv

  setup(function()
    assert(nginx.available(), "nginx with libnginx-mod-http-lua is not installed: run `make deps`")
    srv = nginx.start{ http = HTTP, lua_path = LUA_PATH, vars = { upstream = control.url() } }
  end)

  teardown(function()
    if srv then srv:stop() end
  end)

  before_each(function() control.reset() end)

  for _, case in ipairs(catalogue) do
    it(case.name, function()
      if case.only ~= "ngx" then
        control.reset()
        control.enqueue(case.scripts)
        check(case, "curl", run_curl(case), "curl")
      end
      for _, backend in ipairs{ "own", "resty" } do
        control.reset()
        control.enqueue(case.scripts)
        local opts = case.opts or {}
        local status, body = srv:get("/fault?" .. query{ backend = backend, call = case.call or "find",
          timeout = opts.timeout or 5, max = opts.max_response_bytes, deadline = opts.deadline })
        assert.equal(200, status, body)
        local out = cjson.decode(body)
        assert.equal(backend == "resty" and "lua-resty-http" or "intercom.transport.ngx_http", out.backend)
        check(case, "ngx", out, backend)
      end
    end)
  end

  for _, backend in ipairs{ "own", "resty" } do
    it(backend .. ": a POST is sent once when a kept-alive connection closes after reading it", function()
      control.enqueue{ json = fx.contact("k1") }
      assert.equal(200, (srv:get("/fault?backend=" .. backend .. "&id=k1")))     -- leaves a pooled connection
      control.enqueue{ drop = "before_headers" }
      control.enqueue{ json = fx.contact("must-not-be-used") }
      local _, body = srv:get("/fault?call=create&backend=" .. backend)
      local out = cjson.decode(body)
      assert.equal("network", out.kind, body)
      assert.is_true(out.sent)
      assert.matches("^reading the response head: ", out.message)
      local posts, conns = 0, {}
      for _, r in ipairs(control.requests()) do
        if r.method == "POST" then posts = posts + 1 end
        conns[#conns + 1] = r.conn
      end
      assert.equal(1, posts)
      assert.equal(conns[1], conns[2])                    -- the POST went out on the reused connection
    end)
  end

  it("resty: the request lua-resty-http sends is the client's (method, path, body, headers)", function()
    control.enqueue{ json = fx.contact("via-resty") }
    local _, body = srv:get("/fault?call=create&backend=resty&id=r")
    local out = cjson.decode(body)
    assert.equal("via-resty", out.id, body)
    local req = control.last()
    assert.equal("POST", req.method)
    assert.equal("/contacts", req.path)
    assert.same({ email = "r@example.com" }, cjson.decode(req.body))
    assert.equal(tostring(#req.body), req.headers["content-length"])
    assert.equal("Bearer nginx-fault-token", req.headers["authorization"])
    assert.equal("application/json", req.headers["content-type"])
    assert.equal("127.0.0.1:" .. control.url():match(":(%d+)$"), req.headers["host"])
  end)

  it("nothing raised inside nginx", function()
    local log = srv:log()
    assert.is_nil(log:find("entry thread aborted", 1, true), log)
    assert.is_nil(log:find("runtime error", 1, true), log)
  end)
end)
