-- The examples run for real: each plain-Lua script as a subprocess of the interpreter running busted,
-- with INTERCOM_BASE_URL pointing at the test server, and examples/nginx.conf in a real nginx. The
-- assertions are on what the test server received and what the scripts printed.

local control = require "support.control"
local fx = require "support.fixtures"
local nginx = require "support.nginx"
local core = require "intercom.core"
local cjson = require "cjson"

local LUA = jit and "luajit" or "lua5.4"
local CPATH = jit and "build/luajit" or "build/5.4"

local function tmpfile(content)
  local path = os.tmpname()
  if content then
    local f = assert(io.open(path, "wb"))
    f:write(content)
    f:close()
  end
  return path
end

-- Runs an example; returns exit code, stdout, stderr.
local function run_example(script, args)
  local err_path = tmpfile()
  local cmd = ("INTERCOM_BASE_URL=%q INTERCOM_API_KEY=example-token LUA_PATH='lua/?.lua;lua/?/init.lua;;' "
    .. "LUA_CPATH='%s/?.so;;' %s examples/%s %s 2>%q; echo \"exit=$?\""):format(
    control.url(), CPATH, LUA, script, args or "", err_path)
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  local stderr = nginx.read_file(err_path) or ""
  os.remove(err_path)
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return code, out:gsub("exit=%d+%s*$", ""), stderr
end

local function search_page(contacts)
  local data = {}
  for i, c in ipairs(contacts) do data[i] = c end
  return { type = "list", data = data, total_count = #data,
           pages = { type = "pages", page = 1, per_page = 50, total_pages = #data > 0 and 1 or 0 } }
end

local function by_path(reqs)
  local out = {}
  for _, r in ipairs(reqs) do out[#out + 1] = r.method .. " " .. r.path end
  return out
end

describe("examples", function()
  before_each(function() control.reset() end)

  it("sync_contacts.lua updates existing contacts and creates the others", function()
    local csv = tmpfile('email,external_id,name,plan\n'
      .. 'ann@example.com,ext-1,"Ann, the first",pro\n'
      .. 'bob@example.com,,Bob "B" Smith,free\n')
    control.enqueue{ match = { path = "/contacts/search" }, json = search_page{ fx.contact("c-ann") } }
    control.enqueue{ match = { path = "/contacts/c-ann" }, json = fx.contact("c-ann") }
    control.enqueue{ match = { path = "/contacts/search" }, json = search_page{} }
    control.enqueue{ match = { method = "POST", path = "/contacts" }, json = fx.contact("c-bob") }
    local code, out, err = run_example("sync_contacts.lua", csv)
    os.remove(csv)
    assert.equal(0, code, out .. err)
    assert.matches("1 created, 1 updated, 0 failed", out)
    local reqs = control.requests()
    assert.same({ "POST /contacts/search", "PUT /contacts/c-ann", "POST /contacts/search", "POST /contacts" },
      by_path(reqs))
    -- found by external_id first, by email when there is none
    assert.same({ field = "external_id", operator = "=", value = "ext-1" }, cjson.decode(reqs[1].body).query)
    assert.same({ field = "email", operator = "=", value = "bob@example.com" }, cjson.decode(reqs[3].body).query)
    assert.same({ role = "user", email = "ann@example.com", external_id = "ext-1", name = "Ann, the first",
                  custom_attributes = { plan = "pro" } }, cjson.decode(reqs[2].body))
    assert.same({ role = "user", email = "bob@example.com", name = 'Bob "B" Smith',
                  custom_attributes = { plan = "free" } }, cjson.decode(reqs[4].body))
    assert.equal("Bearer example-token", reqs[4].headers["authorization"])
  end)

  it("sync_contacts.lua reports a failed row and exits non-zero", function()
    local csv = tmpfile("email,name\nx@example.com,X\n")
    control.enqueue{ match = { path = "/contacts/search" }, json = search_page{} }
    control.enqueue{ status = 400, json = fx.error_list("parameter_invalid", "Email invalid", "email") }
    local code, out, err = run_example("sync_contacts.lua", csv)
    os.remove(csv)
    assert.equal(1, code, out .. err)
    assert.matches("0 created, 0 updated, 1 failed", out)
    assert.matches("row 1 %(x@example.com%): intercom api error 400 parameter_invalid: Email invalid", err)
  end)

  it("export_conversations.lua writes every conversation of every page as one JSON line", function()
    local function conv(id) return { type = "conversation", id = id, state = "open", created_at = 1700000000 } end
    control.enqueue{ json = { type = "conversation.list", conversations = { conv("1"), conv("2") },
                              pages = { type = "pages", page = 1, per_page = 2, total_pages = 2,
                                        next = { starting_after = "cur-2" } } } }
    control.enqueue{ json = { type = "conversation.list", conversations = { conv("3") },
                              pages = { type = "pages", page = 2, per_page = 2, total_pages = 2 } } }
    local out_path = tmpfile()
    local code, out, err = run_example("export_conversations.lua", out_path)
    assert.equal(0, code, out .. err)
    assert.matches("3 conversations exported", err)
    local ids = {}
    for line in io.lines(out_path) do ids[#ids + 1] = cjson.decode(line).id end
    os.remove(out_path)
    assert.same({ "1", "2", "3" }, ids)
    local reqs = control.requests()
    assert.equal(2, #reqs)
    assert.equal("per_page=150&starting_after=cur-2", reqs[2].query)
  end)

  it("export_conversations.lua --since searches on updated_at", function()
    control.enqueue{ json = { type = "conversation.list", conversations = {}, total_count = 0,
                              pages = { type = "pages", page = 1, per_page = 150, total_pages = 0 } } }
    local code, out, err = run_example("export_conversations.lua", "--since 1700000000")
    assert.equal(0, code, out .. err)
    assert.matches("0 conversations exported", err)
    local req = control.last()
    assert.equal("/conversations/search", req.path)
    assert.same({ field = "updated_at", operator = ">", value = 1700000000 }, cjson.decode(req.body).query)
  end)

  it("tag_users.lua creates the tag and tags every user the search finds", function()
    control.enqueue{ match = { path = "/tags" }, json = { type = "tag", id = "t-1", name = "Beta" } }
    control.enqueue{ match = { path = "/contacts/search" },
                     json = search_page{ fx.contact("u1"), fx.contact("u2") } }
    control.enqueue{ match = { path = "/contacts/u1/tags" }, json = { type = "tag", id = "t-1" } }
    control.enqueue{ match = { path = "/contacts/u2/tags" }, json = { type = "tag", id = "t-1" } }
    local code, out, err = run_example("tag_users.lua", "Beta email '$' @example.com")
    assert.equal(0, code, out .. err)
    assert.matches("2 contacts tagged \"Beta\", 0 failed", out)
    local reqs = control.requests()
    assert.same({ "POST /tags", "POST /contacts/search", "POST /contacts/u1/tags", "POST /contacts/u2/tags" },
      by_path(reqs))
    assert.same({ name = "Beta" }, cjson.decode(reqs[1].body))
    assert.same({ operator = "AND", value = {
      { field = "role", operator = "=", value = "user" },
      { field = "email", operator = "$", value = "@example.com" } } }, cjson.decode(reqs[2].body).query)
    assert.same({ id = "t-1" }, cjson.decode(reqs[3].body))
  end)
end)

describe("examples/nginx.conf #nginx", function()
  local srv
  local SECRET = "example-client-secret"

  setup(function()
    assert(nginx.available(), "nginx with libnginx-mod-http-lua is not installed: run `make deps`")
    local conf = assert(nginx.read_file("examples/nginx.conf"))
    local port = nginx.free_port()
    conf = conf:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";")
      :gsub("worker_processes auto;", "worker_processes 1;")
    srv = nginx.start{ conf = conf, port = port, prefix = nginx.root(), env = {
      INTERCOM_API_KEY = "nginx-example-token", INTERCOM_CLIENT_SECRET = SECRET,
      INTERCOM_BASE_URL = control.url(), INTERCOM_NEW_USER_TAG_ID = "t-new",
    } }
  end)

  teardown(function()
    if srv then srv:stop() end
  end)

  before_each(function() control.reset() end)

  local function notification(topic, id)
    return cjson.encode{ type = "notification_event", topic = topic, id = "notif-" .. id, app_id = "a1",
                         data = { type = "notification_event_data", item = fx.contact(id) },
                         created_at = 1700000000, delivery_attempts = 1 }
  end

  local function post_webhook(body, signature)
    local http = require "socket.http"
    local ltn12 = require "ltn12"
    local chunks = {}
    local _, status = http.request{
      url = ("http://127.0.0.1:%d/webhooks"):format(srv.port), method = "POST",
      headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#body),
                  ["x-hub-signature"] = signature },
      source = ltn12.source.string(body), sink = ltn12.sink.table(chunks),
    }
    return status, table.concat(chunks)
  end

  it("accepts a correctly signed webhook and tags the new user from a timer", function()
    control.enqueue{ match = { path = "/contacts/new-1/tags" }, json = { type = "tag", id = "t-new" } }
    local body = notification("contact.user.created", "new-1")
    local status, answer = post_webhook(body, "sha1=" .. core.hmac_sha1_hex(SECRET, body))
    assert.equal(200, status, answer)
    assert.same({ received = "notif-new-1", topic = "contact.user.created" }, cjson.decode(answer))
    local req
    for _ = 1, 100 do
      req = control.last()
      if req then break end
      require("socket").sleep(0.05)
    end
    assert.is_truthy(req, "the follow-up request never came")
    assert.equal("POST /contacts/new-1/tags", req.method .. " " .. req.path)
    assert.same({ id = "t-new" }, cjson.decode(req.body))
    assert.equal("Bearer nginx-example-token", req.headers["authorization"])
  end)

  it("refuses a webhook with a wrong or missing signature", function()
    local body = notification("contact.user.created", "new-2")
    local status, answer = post_webhook(body, "sha1=" .. core.hmac_sha1_hex("another secret", body))
    assert.equal(401, status)
    assert.same({ error = "signature mismatch" }, cjson.decode(answer))
    status, answer = post_webhook(body, nil)
    assert.equal(401, status)
    assert.same({ error = "missing signature" }, cjson.decode(answer))
    assert.equal(0, #control.requests())
  end)

  it("proxies GET /api/contacts/<id> with the server's token, and passes Intercom's errors through", function()
    control.enqueue{ json = fx.contact("p1") }
    local status, body = srv:get("/api/contacts/p1")
    assert.equal(200, status, body)
    assert.equal("p1", cjson.decode(body).id)
    local req = control.last()
    assert.equal("/contacts/p1", req.path)
    assert.equal("Bearer nginx-example-token", req.headers["authorization"])

    control.enqueue{ status = 404, json = fx.error_list("not_found", "Contact Not Found") }
    status, body = srv:get("/api/contacts/nope")
    assert.equal(404, status)
    assert.same({ error = "not_found", message = "Contact Not Found", request_id = "req-not_found" },
      cjson.decode(body))
  end)
end)
