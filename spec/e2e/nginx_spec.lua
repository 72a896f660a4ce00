-- The library inside a real nginx (Debian's nginx + libnginx-mod-http-lua, LuaJIT): the ngx transport
-- over cosockets, chosen by itself, against the scriptable test server. Run it alone with
--   bash spec/run.sh --tags=nginx
-- nginx always runs the LuaJIT build (build/luajit), whichever interpreter runs busted.

local control = require "support.control"
local fx = require "support.fixtures"
local nginx = require "support.nginx"
local cjson = require "cjson"
local socket = require "socket"

local function sh(cmd) return nginx.sh(cmd) end

-- Locations: /t/NAME runs handler NAME of spec/support/ngx/intercom_test_app.lua.
local HTTP = [[
  lua_ssl_trusted_certificate ${dir}/trusted.pem;
  lua_ssl_verify_depth 2;
  lua_socket_log_errors off;
  init_by_lua_block {
    require("intercom_test_app").init("${upstream}", ${tls_port}, ${untrusted_port})
  }
  server {
    listen 127.0.0.1:${port};
    location ~ ^/t/(\w+)$ {
      set $handler $1;
      content_by_lua_block { require("intercom_test_app").run(ngx.var.handler) }
    }
  }
  # TLS in front of the test server: a certificate for "localhost", trusted by lua_ssl_trusted_certificate
  server {
    listen 127.0.0.1:${tls_port} ssl;
    ssl_certificate ${dir}/trusted.pem;
    ssl_certificate_key ${dir}/trusted.key;
    location / {
      proxy_set_header X-SNI $ssl_server_name;
      proxy_pass ${upstream};
    }
  }
  # and one with a certificate nobody trusts
  server {
    listen 127.0.0.1:${untrusted_port} ssl;
    ssl_certificate ${dir}/untrusted.pem;
    ssl_certificate_key ${dir}/untrusted.key;
    location / { proxy_pass ${upstream}; }
  }
]]

local function make_cert(dir, name)
  local code, out = sh(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
    .. "-addext subjectAltName=DNS:localhost -keyout %q -out %q"):format(dir .. "/" .. name .. ".key",
    dir .. "/" .. name .. ".pem"))
  assert(code == 0, out)
end

local function decode(body)
  local ok, v = pcall(cjson.decode, body)
  assert(ok, "not JSON: " .. tostring(body))
  return v
end

describe("the ngx transport in a real nginx #nginx", function()
  local srv

  setup(function()
    assert(nginx.available(), "nginx with libnginx-mod-http-lua is not installed: run `make deps`")
    control.reset()
    -- what the init_by_lua calls will find (queued before nginx starts)
    control.enqueue{ match = { path = "/contacts/init-1" }, json = fx.contact("init-1") }
    control.enqueue{ match = { path = "/contacts/init-2" }, json = fx.contact("init-2") }
    -- certificates first: nginx reads them at startup, so they go into a directory made for them
    local certs = os.tmpname()
    os.remove(certs)
    assert(sh(("mkdir -p %q"):format(certs)) == 0)
    make_cert(certs, "trusted")
    make_cert(certs, "untrusted")
    srv = nginx.start{
      http = HTTP:gsub("%${dir}/(%w+)%.(%w+)", certs .. "/%1.%2"),
      vars = { upstream = control.url(), tls_port = nginx.free_port(), untrusted_port = nginx.free_port() },
    }
    srv.certs = certs
  end)

  teardown(function()
    if srv then
      srv:stop()
      sh(("rm -rf %q"):format(srv.certs))
    end
  end)

  before_each(function() control.reset() end)

  it("falls back to curl in init_by_lua, where there are no cosockets, and warns once", function()
    local status, body = srv:get("/t/init")
    assert.equal(200, status, body)
    local r = decode(body)
    assert.equal("init", r.phase)
    assert.same({ "init-1", "init-2" }, r.ids)
    local log = srv:log()
    local _, warnings = log:gsub("no cosockets in the init phase", "")
    assert.equal(1, warnings, log)
  end)

  it("finds a contact over cosockets in the content phase", function()
    control.enqueue{ json = fx.contact("c1"), headers = { ["X-Request-Id"] = "r1" } }
    local status, body = srv:get("/t/find?id=c1")
    assert.equal(200, status, body)
    local r = decode(body)
    assert.same({ id = "c1", email = "c1@example.com", status = 200, attempts = 1, phase = "content",
                  backend = "intercom.transport.ngx_http" }, r)
    local req = control.last()
    assert.equal("GET", req.method)
    assert.equal("/contacts/c1", req.path)
    assert.equal("Bearer nginx-spec-token", req.headers["authorization"])
    assert.equal("2.12", req.headers["intercom-version"])
    assert.matches("^intercom%-lua/", req.headers["user-agent"])
  end)

  it("walks every page of a paginated list with each", function()
    control.enqueue{ json = fx.contact_page({ "a", "b" }, "cur1", 1, 3) }
    control.enqueue{ json = fx.contact_page({ "c", "d" }, "cur2", 2, 3), chunked = true }
    control.enqueue{ json = fx.contact_page({ "e" }, nil, 3, 3) }
    local status, body = srv:get("/t/each")
    assert.equal(200, status, body)
    assert.same({ "a", "b", "c", "d", "e" }, decode(body).ids)
    local reqs = control.requests()
    assert.equal(3, #reqs)
    assert.equal("per_page=2&starting_after=cur2", reqs[3].query)
    -- one worker, one pooled keep-alive connection for the three pages
    assert.equal(1, control.stats().connections)
  end)

  it("returns Intercom's error as an error object", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "Contact Not Found") }
    local _, body = srv:get("/t/error?id=missing")
    local r = decode(body)
    assert.equal("api", r.kind)
    assert.equal(404, r.status)
    assert.equal("not_found", r.code)
    assert.equal("Contact Not Found", r.message)
    assert.equal("req-not_found", r.request_id)
    assert.matches("intercom api error 404 not_found: Contact Not Found %[GET /contacts/missing", r.text)
  end)

  it("retries a 503 with backoff (ngx.sleep) and then succeeds", function()
    control.enqueue{ status = 503, body = "busy" }
    control.enqueue{ json = fx.contact("c2") }
    local status, body = srv:get("/t/retry?id=c2")
    assert.equal(200, status, body)
    local r = decode(body)
    assert.equal("c2", r.id)
    assert.equal(2, r.attempts)
    local reqs = control.requests()
    assert.equal(2, #reqs)
    local gap = reqs[2].time - reqs[1].time
    -- the first backoff waits between half and all of 0.25 s
    assert.is_true(gap >= 0.12 and gap < 2, "gap " .. gap)
  end)

  it("sends the request again, on a new connection, when a kept-alive one closes before answering", function()
    control.enqueue{ json = fx.contact("k1") }
    assert.equal(200, (srv:get("/t/find?id=k1")))          -- leaves a connection in the pool
    control.enqueue{ drop = "before_headers" }
    control.enqueue{ json = fx.contact("k2") }
    local status, body = srv:get("/t/find?id=k2")
    assert.equal(200, status, body)
    local r = decode(body)
    assert.equal("k2", r.id)
    assert.equal(1, r.attempts)                             -- the transport's replay, not a client retry
    local reqs = control.requests()
    assert.equal(3, #reqs)
    assert.are_not.equal(reqs[2].conn, reqs[3].conn)
    assert.equal(reqs[1].conn, reqs[2].conn)
  end)

  it("does not send a POST twice when a kept-alive connection closes after reading it", function()
    control.enqueue{ json = fx.contact("k3") }
    assert.equal(200, (srv:get("/t/find?id=k3")))          -- leaves a connection in the pool
    control.enqueue{ drop = "before_headers" }
    control.enqueue{ json = fx.contact("must-not-be-used") }
    local status, body = srv:request("/t/create", "POST", '{"email":"once@example.com","role":"user"}')
    assert.equal(500, status, body)
    local e = decode(body)
    assert.equal("network", e.kind)
    assert.is_true(e.sent)
    local posts = 0
    for _, r in ipairs(control.requests()) do
      if r.method == "POST" then posts = posts + 1 end
    end
    assert.equal(1, posts)
  end)

  it("streams a chunked download into output_file", function()
    local parts = {}
    for i = 1, 5000 do parts[i] = ("%05d:0123456789abcdef\n"):format(i) end
    local data = table.concat(parts)                      -- 110 kB, several receive() calls
    control.enqueue{ body = data, chunked = true, headers = { ["Content-Type"] = "application/octet-stream" } }
    local status, body = srv:get("/t/download?id=job-9")
    assert.equal(200, status, body)
    assert.same({ size = #data, head = data:sub(1, 16), tail = data:sub(-16) }, decode(body))
    assert.equal("/download/content/data/job-9", control.last().path)
  end)

  it("sends a JSON body with Content-Length", function()
    control.enqueue{ json = fx.contact("new") }
    local status, body = srv:request("/t/create", "POST", '{"email":"n@example.com","role":"user"}')
    assert.equal(200, status, body)
    local req = control.last()
    assert.equal("POST", req.method)
    assert.equal("/contacts", req.path)
    assert.same({ email = "n@example.com", role = "user" }, cjson.decode(req.body))
    assert.equal(tostring(#req.body), req.headers["content-length"])
    assert.equal("application/json", req.headers["content-type"])
  end)

  it("runs a job in an ngx.timer.at callback and keeps its result for a second request", function()
    control.enqueue{ json = fx.contact("job-1"), delay = 0.2 }
    local status = srv:get("/t/job_start?id=job-1")
    assert.equal(202, status)
    local result
    local deadline = socket.gettime() + 10
    repeat
      socket.sleep(0.05)
      local s, body = srv:get("/t/job_result?id=job-1")
      if s == 200 then result = decode(body) end
    until result or socket.gettime() > deadline
    assert.same({ id = "job-1", phase = "timer" }, result)
  end)

  it("does not block the worker: 50 requests to one worker overlap while each upstream call takes 200 ms",
    function()
      control.default{ delay = 0.2, json = fx.contact("slow") }
      local elapsed, lines = srv:parallel_get("/t/find?id=slow", 50)
      assert.equal(50, #lines)
      for _, line in ipairs(lines) do assert.matches("^200 %d+$", line) end
      local stats = control.stats()
      if stats.total ~= 50 then
        for _, q in ipairs(control.requests()) do print(q.method, q.target, q.conn, q.time) end
      end
      assert.equal(50, stats.total)
      print(("\n  nginx: 50 concurrent requests, 200 ms upstream each: %.2f s in all "
        .. "(serially: 10 s); %d upstream requests open at once at most"):format(elapsed, stats.max_open))
      -- serially that is 10 s; overlapping, a little over 0.2 s
      assert.is_true(elapsed < 3, ("took %.2f s"):format(elapsed))
      assert.is_true(stats.max_open >= 10, "at most " .. stats.max_open .. " upstream requests at once")
    end)

  it("intercom.sleep yields to nginx: 20 requests to one worker, each sleeping 0.5 s, overlap", function()
    local elapsed, lines = srv:parallel_get("/t/sleep?s=0.5", 20)
    assert.equal(20, #lines)
    for _, line in ipairs(lines) do assert.matches("^200 %d+$", line) end
    -- one after the other that is 10 s; a blocking sleep would serialize them in the one worker
    assert.is_true(elapsed < 4, ("took %.2f s"):format(elapsed))
    local _, body = srv:get("/t/sleep?s=0.2")
    local slept = decode(body).slept
    assert.is_true(slept >= 0.19 and slept < 2, "slept " .. tostring(slept))
  end)

  it("verifies TLS and sends SNI", function()
    control.enqueue{ json = fx.contact("tls") }
    local _, body = srv:get("/t/tls?id=tls")
    local r = decode(body)
    assert.equal("tls", r.id, body)
    assert.equal("localhost", control.last().headers["x-sni"])
  end)

  it("refuses a certificate for another name and one nobody trusts, before sending anything", function()
    local _, body = srv:get("/t/tls?host=127.0.0.1")
    local r = decode(body)
    assert.equal("network", r.kind, body)
    assert.matches("TLS handshake", r.message)
    assert.is_false(r.sent)
    _, body = srv:get("/t/tls?untrusted=1")
    r = decode(body)
    assert.equal("network", r.kind, body)
    assert.matches("certificate", r.message)
    assert.equal(0, #control.requests())
  end)

  it("reports a timeout as kind timeout", function()
    control.enqueue{ json = fx.contact("late"), delay = 1.5 }
    local _, body = srv:get("/t/timeout?id=late&timeout=0.3")
    local r = decode(body)
    assert.equal("timeout", r.kind, body)
  end)

  it("reports a refused connection as a network error that was not sent", function()
    local _, body = srv:get("/t/refused?port=" .. nginx.free_port())
    local r = decode(body)
    assert.equal("network", r.kind, body)
    assert.is_false(r.sent)
    assert.matches("connect to 127.0.0.1", r.message)
  end)
end)
