-- intercom.core sessions (src/http.c, with src/transfer.c under it) against the scriptable test server: real
-- HTTP, no mocks.
local core = require "intercom.core"
local control = require "support.control"
local fin = require "support.finalizers"
local socket = require "socket"

local TOKEN = "dG9rOnNlY3JldC10b2tlbi1kby1ub3QtbGVhaw=="
local AUTH = "Authorization: Bearer " .. TOKEN

-- A port on which nothing listens: bind one, then close it.
local util = require "support.util"
local closed_port = util.closed_port

local read_file = util.read

-- session:perform returns status, headers (a plain table of lowercase names), body.
local function perform(s, req)
  local status, headers, body, details = s:perform(req)
  if not status then return status, headers, body, details end
  assert.equal("table", type(headers))
  assert.is_nil(getmetatable(headers))
  return status, headers, body
end

local function assert_failure(kind, ok, got_kind, msg, details)
  assert.is_nil(ok)
  assert.equal(kind, got_kind)
  assert.is_string(msg)
  assert.is_table(details)
  assert.is_number(details.curl_code)
  assert.is_boolean(details.sent)
  assert.is_nil(msg:find(TOKEN, 1, true), "the token leaked into: " .. msg)
  assert.is_nil(msg:find("Bearer", 1, true), "a request header leaked into: " .. msg)
end

describe("intercom.core", function()
  local base, session

  before_each(function()
    control.reset()
    base = control.url()
    session = core.session()
  end)

  after_each(function()
    session:close()
  end)

  it("reports the libcurl version", function()
    assert.is_string(core.curl_version)
    assert.truthy(core.curl_version:match("^libcurl/%d"))
  end)

  describe("session object", function()
    it("is an intercom.session userdata", function()
      assert.equal("userdata", type(session))
      assert.equal("intercom.session", getmetatable(session).__name)
      assert.truthy(tostring(session):match("^intercom%.session"))
      assert.is_false(session:closed())
    end)

    it("close is idempotent and use after close raises", function()
      session:close()
      assert.is_true(session:closed())
      session:close()
      assert.is_true(session:closed())
      assert.truthy(tostring(session):match("closed"))
      assert.has_error(function()
        session:perform{ method = "GET", url = base .. "/x" }
      end, "intercom session is closed")
      assert.equal(0, control.stats().total)
    end)

    it("closes through __close in Lua 5.4", function()
      if _VERSION ~= "Lua 5.4" then return end
      local chunk = assert(load([[
        local core = ...
        local kept
        do
          local s <close> = core.session()
          kept = s
        end
        return kept
      ]]))
      local s = chunk(core)
      assert.is_true(s:closed())
    end)

    it("refuses unknown and mistyped options", function()
      assert.has_error(function() core.session{ cafile = "/x" } end)
      assert.has_error(function() core.session{ ca_file = 42 } end)
      assert.has_error(function() core.session("opts") end)
      assert.is_false(core.session{ ca_file = "/etc/ssl/certs/ca-certificates.crt" }:closed())
    end)

    it("checks the userdata type of self", function()
      assert.has_error(function() session.perform({}, { method = "GET", url = base }) end)
      assert.has_error(function() session.close("nope") end)
    end)
  end)

  describe("misuse raises before any request", function()
    local cases = {
      ["no request table"] = function(s) s:perform() end,
      ["missing method"] = function(s) s:perform{ url = base .. "/x" } end,
      ["missing url"] = function(s) s:perform{ method = "GET" } end,
      ["numeric url"] = function(s) s:perform{ method = "GET", url = 42 } end,
      ["method with a space"] = function(s) s:perform{ method = "GET /evil", url = base .. "/x" } end,
      ["headers not a table"] = function(s) s:perform{ method = "GET", url = base .. "/x", headers = "A: b" } end,
      ["header not a string"] = function(s) s:perform{ method = "GET", url = base .. "/x", headers = { 42 } } end,
      ["header with CRLF"] = function(s)
        s:perform{ method = "GET", url = base .. "/x", headers = { "A: b\r\nX-Injected: 1" } }
      end,
      ["body not a string"] = function(s) s:perform{ method = "POST", url = base .. "/x", body = { a = 1 } } end,
      ["negative timeout"] = function(s) s:perform{ method = "GET", url = base .. "/x", timeout = -1 } end,
      ["string timeout"] = function(s) s:perform{ method = "GET", url = base .. "/x", timeout = "5" } end,
    }
    for name, fn in pairs(cases) do
      it(name, function()
        assert.has_error(function() fn(session) end)
        assert.equal(0, control.stats().total)
      end)
    end
  end)

  describe("requests", function()
    it("sends a GET with its headers and query exactly", function()
      control.enqueue{ json = { ok = true } }
      local status, _, body = session:perform{
        method = "GET",
        url = base .. "/contacts/a%20b%2Fc?per_page=2&email=x%40y.com&empty=",
        headers = { "Accept: application/json", "Intercom-Version: 2.12", AUTH, "X-Custom: spaced  value" },
      }
      assert.equal(200, status)
      assert.equal('{"ok": true}', body)
      local r = control.last()
      assert.equal("GET", r.method)
      assert.equal("/contacts/a%20b%2Fc", r.path)
      assert.equal("per_page=2&email=x%40y.com&empty=", r.query)
      assert.equal("/contacts/a%20b%2Fc?per_page=2&email=x%40y.com&empty=", r.target)
      assert.equal("application/json", r.headers.accept)
      assert.equal("2.12", r.headers["intercom-version"])
      assert.equal("Bearer " .. TOKEN, r.headers.authorization)
      assert.equal("spaced  value", r.headers["x-custom"])
      assert.is_nil(r.headers.expect)
      assert.is_nil(r.headers["content-type"])
      assert.is_nil(r.headers["content-length"])
      assert.truthy(r.headers["accept-encoding"]:find("gzip", 1, true))
      assert.equal("", r.body)
    end)

    for _, method in ipairs{ "POST", "PUT", "PATCH", "DELETE", "GET" } do
      it("sends a " .. method .. " body byte for byte", function()
        local payload = '{"name":"J\195\182rg"}\0\1\2\255\254 tail\r\n'
        control.enqueue{ status = 200 }
        local status = session:perform{
          method = method, url = base .. "/things/1",
          headers = { "Content-Type: application/json", AUTH }, body = payload,
        }
        assert.equal(200, status)
        local r = control.last()
        assert.equal(method, r.method)
        assert.equal("/things/1", r.path)
        assert.equal(payload, r.body)
        assert.equal(tostring(#payload), r.headers["content-length"])
        assert.equal("application/json", r.headers["content-type"])
        assert.is_nil(r.headers.expect)
      end)
    end

    it("sends a large body in one piece without Expect: 100-continue", function()
      local chunk = {}
      for i = 0, 255 do chunk[#chunk + 1] = string.char(i) end
      local payload = string.rep(table.concat(chunk), 4096) -- 1 MiB, every byte value
      control.enqueue{ status = 201 }
      local status = session:perform{ method = "POST", url = base .. "/upload", body = payload }
      assert.equal(201, status)
      local r = control.last()
      assert.equal(#payload, #r.body)
      assert.is_true(payload == r.body)
      assert.is_nil(r.headers.expect)
    end)

    it("does not invent a Content-Type", function()
      control.enqueue{ status = 200 }
      session:perform{ method = "POST", url = base .. "/x", body = "a=1" }
      local r = control.last()
      assert.equal("a=1", r.body)
      assert.is_nil(r.headers["content-type"])
    end)

    it("sends Content-Length: 0 for a POST without body, none for a DELETE without body", function()
      control.enqueue{ { status = 200 }, { status = 204 } }
      assert.equal(200, (session:perform{ method = "POST", url = base .. "/contacts/1/archive" }))
      local r = control.last()
      assert.equal("POST", r.method)
      assert.equal("0", r.headers["content-length"])
      assert.is_nil(r.headers["content-type"])
      assert.equal(204, (session:perform{ method = "DELETE", url = base .. "/contacts/1" }))
      r = control.last()
      assert.equal("DELETE", r.method)
      assert.is_nil(r.headers["content-length"])
      assert.equal("", r.body)
    end)

    it("sends requests through the proxy option", function()
      local proxied = core.session{ proxy = base }
      control.enqueue{ body = "via proxy" }
      local status, _, body = proxied:perform{ method = "GET", url = "http://api.intercom.invalid/me" }
      proxied:close()
      assert.equal(200, status)
      assert.equal("via proxy", body)
      assert.equal("http://api.intercom.invalid/me", control.last().target)
    end)
  end)

  describe("responses", function()
    it("returns status, lowercased headers with repeats joined, and the body", function()
      control.enqueue{
        status = 201,
        headers = {
          ["X-Request-Id"] = "req-123", ["Set-Cookie"] = { "a=1", "b=2" }, ["X-Empty"] = "",
          ["X-RateLimit-Remaining"] = "9",
        },
        body = "created\0bytes\255",
      }
      local status, headers, body = perform(session, { method = "POST", url = base .. "/contacts", body = "{}" })
      assert.equal(201, status)
      assert.equal("created\0bytes\255", body)
      assert.equal("req-123", headers["x-request-id"])
      assert.equal("a=1, b=2", headers["set-cookie"])
      assert.equal("", headers["x-empty"])
      assert.equal("9", headers["x-ratelimit-remaining"])
      assert.equal(tostring(#body), headers["content-length"])
      for name in pairs(headers) do assert.equal(name:lower(), name) end
    end)

    it("returns an empty string for an empty body", function()
      control.enqueue{ status = 204 }
      local status, headers, body = perform(session, { method = "DELETE", url = base .. "/x" })
      assert.equal(204, status)
      assert.is_table(headers)
      assert.equal("", body)
    end)

    it("keeps only the final response's headers after 1xx interim responses", function()
      control.enqueue{
        interim = { { status = 103, headers = { Link = "</a.css>; rel=preload", ["X-Interim"] = "yes" } } },
        headers = { ["X-Final"] = "yes" },
        body = "final",
      }
      local status, headers, body = perform(session, { method = "GET", url = base .. "/x" })
      assert.equal(200, status)
      assert.equal("final", body)
      assert.equal("yes", headers["x-final"])
      assert.is_nil(headers["x-interim"])
      assert.is_nil(headers.link)
    end)

    it("decodes gzip and chunked bodies", function()
      local text = string.rep('{"type":"contact","id":"abc"},', 200)
      control.enqueue{ { body = text, gzip = true }, { body = text, chunked = true } }
      local status, headers, body = perform(session, { method = "GET", url = base .. "/gz" })
      assert.equal(200, status)
      assert.equal("gzip", headers["content-encoding"])
      assert.equal(text, body)
      status, headers, body = perform(session, { method = "GET", url = base .. "/chunked" })
      assert.equal(200, status)
      assert.equal("chunked", headers["transfer-encoding"])
      assert.equal(text, body)
    end)

    it("decodes a 2xx JSON body from its buffer with decode = true, and only that", function()
      local doc = '{"type":"contact","id":"c1","created_at":1700000000123,"tags":{"data":[]},"x":null}'
      control.enqueue{
        { body = "\n " .. doc, headers = { ["X-Request-Id"] = "r1" } },
        { body = "[1,2,3]", gzip = true },
        { status = 404, body = '{"type":"error.list"}' },     -- not 2xx: the body, for the error
        { body = '{"type":"contact",' },                      -- broken: the body, for the decode error
        { body = '"just a string"' },                         -- JSON, but no object or array: the body
        { status = 204 },
      }
      local req = { method = "GET", url = base .. "/contacts/c1", decode = true }
      local status, headers, body, value = session:perform(req)
      assert.equal(200, status)
      assert.equal("r1", headers["x-request-id"])
      assert.is_nil(body)
      assert.equal("c1", value.id)
      assert.equal(1700000000123, value.created_at)
      if math.type then assert.equal("integer", math.type(value.created_at)) end
      assert.equal(core.null, value.x)
      assert.equal(core.array_mt, getmetatable(value.tags.data))
      status, headers, body, value = session:perform(req)
      assert.equal(200, status)
      assert.equal("gzip", headers["content-encoding"])
      assert.same({ 1, 2, 3 }, value)
      assert.is_nil(body)
      for _, want in ipairs{ { 404, '{"type":"error.list"}' }, { 200, '{"type":"contact",' },
                             { 200, '"just a string"' }, { 204, "" } } do
        local r = (function(...) return { n = select("#", ...), ... } end)(session:perform(req))
        assert.equal(3, r.n)
        assert.same(want, { r[1], r[3] })
      end
      assert.has_error(function() session:perform{ method = "GET", url = base, decode = 1 } end,
        "intercom request: 'decode' must be a boolean (got number)")
      -- decode is a boolean: the codec knows nothing of the operation an answer belongs to
      assert.has_error(function() session:perform{ method = "GET", url = base, decode = "contacts:find" } end,
        "intercom request: 'decode' must be a boolean (got string)")
    end)

    it("answers HEAD without a body", function()
      control.enqueue{ body = "not sent" }
      local status, headers, body = perform(session, { method = "HEAD", url = base .. "/x" })
      assert.equal(200, status)
      assert.equal("8", headers["content-length"])
      assert.equal("", body)
      assert.equal("HEAD", control.last().method)
    end)

    it("returns a redirect as is, without following it", function()
      control.enqueue{ status = 302, headers = { Location = base .. "/elsewhere" }, body = "moved" }
      control.default{ status = 200, body = "followed" }
      local status, headers, body = perform(session, { method = "GET", url = base .. "/old", headers = { AUTH } })
      assert.equal(302, status)
      assert.equal(base .. "/elsewhere", headers.location)
      assert.equal("moved", body)
      assert.equal(1, #control.requests())
    end)

    it("passes an unscripted request's 501 through", function()
      local status, headers, body = perform(session, { method = "GET", url = base .. "/nothing/here" })
      assert.equal(501, status)
      assert.equal("application/json", headers["content-type"])
      assert.truthy(body:find("no scripted response for GET /nothing/here", 1, true))
    end)
  end)

  describe("connections", function()
    it("reuses the connection for consecutive requests (keep-alive)", function()
      control.enqueue{ { body = "one" }, { body = "two" }, { body = "three" } }
      for _, expected in ipairs{ "one", "two", "three" } do
        local status, _, body = session:perform{ method = "GET", url = base .. "/k" }
        assert.equal(200, status)
        assert.equal(expected, body)
      end
      local reqs = control.requests()
      assert.equal(3, #reqs)
      assert.equal(reqs[1].conn, reqs[2].conn)
      assert.equal(reqs[2].conn, reqs[3].conn)
      assert.equal(1, control.stats().connections)
    end)

    it("uses a separate connection per session", function()
      local other = core.session()
      control.default{ body = "ok" }
      session:perform{ method = "GET", url = base .. "/a" }
      other:perform{ method = "GET", url = base .. "/b" }
      other:close()
      local reqs = control.requests()
      assert.are_not.equal(reqs[1].conn, reqs[2].conn)
    end)
  end)

  -- The easy handle is reset only after a request that set more than a plain GET does (src/transfer.c),
  -- and the header list is kept while the lines stay the same: nothing of one request may reach the next.
  describe("a reused session", function()
    it("sends each request's own method and body, whatever came before", function()
      control.default{ body = "ok" }
      local seq = {
        { method = "POST", body = "p1", headers = { "Content-Type: text/plain" } },
        { method = "GET" },
        { method = "PUT", body = "put body" },
        { method = "GET" },
        { method = "HEAD" },
        { method = "GET" },
        { method = "DELETE" },
        { method = "GET" },
        { method = "POST", body = "sent once", once = true },
        { method = "GET" },
        { method = "PATCH" },
        { method = "GET", once = true },
        { method = "POST", body = "plain again" },
        { method = "GET", body = "a GET with a body" },
        { method = "GET" },
      }
      for i, r in ipairs(seq) do
        local status, _, body = session:perform{ method = r.method, url = base .. "/r" .. i, body = r.body,
                                                 headers = r.headers, once = r.once }
        assert.equal(200, status)
        assert.equal(r.method == "HEAD" and "" or "ok", body)
      end
      local reqs = control.requests()
      assert.equal(#seq, #reqs)
      for i, r in ipairs(seq) do
        local got = reqs[i]
        assert.equal(r.method, got.method, "request " .. i)
        assert.equal("/r" .. i, got.path)
        assert.equal(r.body or "", got.body, "request " .. i)
        local sends_length = r.body ~= nil or r.method == "POST" or r.method == "PUT" or r.method == "PATCH"
        assert.equal(sends_length and tostring(#(r.body or "")) or nil, got.headers["content-length"],
          "request " .. i)
        assert.equal(r.headers and "text/plain" or nil, got.headers["content-type"], "request " .. i)
        assert.is_nil(got.headers.expect)
      end
    end)

    it("sends the header lines of each request, the same or changed", function()
      control.default{ body = "ok" }
      local lists = {
        { "X-A: 1", "X-B: 2" }, { "X-A: 1", "X-B: 2" }, { "X-A: 3" }, {}, { "X-A: 1", "X-B: 2" }, nil,
        { "X-A: 1", "X-B: 2", "X-C: 3" }, { "X-A: 1", "X-B: 2" },
      }
      for i = 1, 8 do session:perform{ method = "GET", url = base .. "/h", headers = lists[i] } end
      local reqs = control.requests()
      for i = 1, 8 do
        local want, got = {}, {}
        for _, line in ipairs(lists[i] or {}) do
          local name, value = line:match("^(.-): (.*)$")
          want[name:lower()] = value
        end
        for _, name in ipairs{ "x-a", "x-b", "x-c" } do got[name] = reqs[i].headers[name] end
        assert.same(want, got, "request " .. i)
      end
    end)

    it("leaves no timeout of an earlier request on a later one", function()
      control.enqueue{ { body = "fast" }, { body = "slow", delay = 0.6 } }
      assert.equal("fast", select(3, session:perform{ method = "GET", url = base .. "/a", timeout = 0.3,
                                                      connect_timeout = 0.3 }))
      local status, _, body = session:perform{ method = "GET", url = base .. "/b" }
      assert.equal(200, status)
      assert.equal("slow", body)
    end)

    it("opens a fresh connection for a GET sent once, and only for it", function()
      control.default{ body = "ok" }
      session:perform{ method = "GET", url = base .. "/a" }
      assert.equal(1, control.stats().connections)
      session:perform{ method = "GET", url = base .. "/b", once = true }
      assert.equal(2, control.stats().connections)
      session:perform{ method = "GET", url = base .. "/c" }
      session:perform{ method = "GET", url = base .. "/d" }
      assert.equal(2, control.stats().connections)
    end)

    it("sends each request's own path and query, exactly as a fresh session would", function()
      -- Each request's URL goes to libcurl whole, as a string: nothing parsed for one request is kept for
      -- the next, whatever URL came before.
      control.default{ body = "ok" }
      local paths = {
        "/contacts/1", "/contacts/2?per_page=5&x=y", "/contacts/3", "/contacts/a%2Fb%20c", "/x/./y/../z",
        "/contacts/4?", "/contacts/5?q=a%40b", "/contacts/6#frag", "/contacts/7?a=1?b=2", "/a/b/.", "/a/b/..",
        "/a/.b/..c", "/contacts/8", "/contacts/9", "/contacts/10?page=2",
      }
      local origins = { base, (base:gsub("^http:", "HTTP:")) }
      local fresh = core.session()
      for i, path in ipairs(paths) do
        for _, origin in ipairs(origins) do
          local url = origin .. path
          assert.equal(200, (session:perform{ method = "GET", url = url }))
          local got = control.last().target
          assert.equal(200, (fresh:perform{ method = "GET", url = url }))
          assert.equal(control.last().target, got, "request " .. i .. ": " .. url)
        end
      end
      fresh:close()
      assert.equal("/contacts/a%2Fb%20c", control.requests()[13].target)  -- escapes as sent, not lowercased
    end)

    it("stays sound when a finalizer uses or closes the session while it runs", function()
      -- The decoded answer allocates, so the collector may run finalizers during a perform. They find the
      -- session BUSY (src/handle.h): another perform on it raises "busy", and a close waits for the end.
      -- A chain of finalizers (each leaves the next behind) under a collector that never pauses runs one
      -- finalizer every few allocations, so some run inside a perform.
      local fixtures = require "support.fixtures"
      local list = {}   -- a big answer: its decode allocates enough for several collection cycles
      for i = 1, 300 do list[i] = fixtures.contact("c" .. i) end
      control.default{ body = core.json_encode{ type = "list", data = list } }
      local finalizable, aggressive = fin.finalizable, fin.aggressive
      local inside = 0
      for round = 1, 200 do           -- until finalizers ran inside a perform twice (a few rounds)
        local s, seen, armed = core.session(), false, true
        local function arm()
          finalizable(function()
            if not armed then return end
            local ok, err = pcall(s.perform, s, { method = "GET", url = base .. "/nested" })
            if not ok and tostring(err):find("busy", 1, true) then
              seen, armed = true, false
              s:close()                     -- waits for the perform to end
            else
              arm()
            end
          end)
        end
        arm()
        aggressive(true)
        local ok, status, _, body, value = pcall(s.perform, s, { method = "GET", url = base .. "/page",
                                                                 decode = true })
        armed = false
        aggressive(false)
        assert.is_true(ok, tostring(status))
        assert.equal(200, status, "round " .. round)
        assert.is_nil(body)
        assert.equal(300, #value.data)
        assert.equal("c300", value.data[300].id)
        assert.equal(seen, s:closed(), "round " .. round)   -- closed by the finalizer only after the perform
        if seen then inside = inside + 1 end
        s:close()
        if inside == 2 then break end
      end
      assert.equal(2, inside, "finalizers ran during a perform in fewer than 2 of 200 rounds")
    end)

    it("hands over the final response's headers as a plain table, the status line left out", function()
      control.enqueue{ headers = { ["X-Request-Id"] = "req-9", ["X-RateLimit-Remaining"] = "41" }, body = "b" }
      local status, headers = session:perform{ method = "GET", url = base .. "/x" }
      assert.equal(200, status)
      assert.equal("req-9", headers["x-request-id"])
      assert.equal("41", headers["x-ratelimit-remaining"])   -- the core reads no header's meaning
      for name, value in pairs(headers) do
        assert.equal(name:lower(), name)
        assert.is_nil(value:find("HTTP/1.1", 1, true))
      end
    end)
  end)

  describe("output_file", function()
    local path

    before_each(function() path = os.tmpname() end)
    after_each(function() os.remove(path) end)

    it("writes the body to the file and returns the headers", function()
      local bytes = string.rep("\0\1binary\255", 10000)
      control.enqueue{ body = bytes, headers = { ["Content-Type"] = "application/octet-stream" } }
      local status, headers, body =
        perform(session, { method = "GET", url = base .. "/download", output_file = path })
      assert.equal(200, status)
      assert.is_nil(body)
      assert.equal("application/octet-stream", headers["content-type"])
      assert.is_true(read_file(path) == bytes)
    end)

    it("leaves the session usable for in-memory bodies afterwards", function()
      control.enqueue{ { body = "to file" }, { body = "to memory" } }
      session:perform{ method = "GET", url = base .. "/a", output_file = path }
      local _, _, body = session:perform{ method = "GET", url = base .. "/b" }
      assert.equal("to memory", body)
      assert.equal("to file", read_file(path))
    end)

    it("fails without sending when the file cannot be opened", function()
      control.enqueue{ body = "x" }
      local ok, kind, msg, details = session:perform{
        method = "GET", url = base .. "/download", output_file = "/nonexistent-dir/sub/file",
      }
      assert_failure("network", ok, kind, msg, details)
      assert.is_false(details.sent)
      assert.truthy(msg:find("output file", 1, true))
      assert.equal(0, control.stats().total)
    end)
  end)

  describe("transport failures", function()
    it("connection refused is a network error that was not sent", function()
      local url = ("http://127.0.0.1:%d/contacts"):format(closed_port())
      local ok, kind, msg, details = session:perform{ method = "POST", url = url, headers = { AUTH }, body = "{}" }
      assert_failure("network", ok, kind, msg, details)
      assert.is_false(details.sent)
      assert.equal(7, details.curl_code) -- CURLE_COULDNT_CONNECT
    end)

    it("a URL libcurl cannot take is a network error that was not sent, and the session goes on", function()
      -- (URLs go to libcurl parsed, src/transfer.c ic_apply_url; what that parser refuses goes as a string)
      control.default{ body = "fine" }
      for _, case in ipairs{
        { "http://exa mple.com/x", 3 },          -- CURLE_URL_MALFORMAT
        { "http://[::1/x", 3 },
        { "ftp://127.0.0.1/x", 1 },              -- CURLE_UNSUPPORTED_PROTOCOL: http and https only
        { "gopher://127.0.0.1/x", 1 },
      } do
        local ok, kind, msg, details = session:perform{ method = "GET", url = case[1] }
        assert_failure("network", ok, kind, msg, details)
        assert.equal(case[2], details.curl_code, case[1] .. ": " .. msg)
        assert.is_false(details.sent)
        local status, _, body = perform(session, { method = "GET", url = base .. "/after" })
        assert.same({ 200, "fine" }, { status, body })
      end
      -- the scheme's case, an explicit port, a query and a fragment all reach the server as usual
      local status = perform(session, { method = "GET", url = base:gsub("^http", "HTTP") .. "/p?q=1#frag" })
      assert.equal(200, status)
      assert.equal("/p", control.last().path)
      assert.equal("/p?q=1", control.last().target)
    end)

    it("an unresolvable host is a network error that was not sent", function()
      local ok, kind, msg, details = session:perform{
        method = "POST", url = "http://no-such-host.invalid/x", headers = { AUTH }, body = "{}", connect_timeout = 5,
      }
      assert_failure("network", ok, kind, msg, details)
      assert.is_false(details.sent)
    end)

    it("a failed TLS handshake is a network error that was not sent", function()
      -- The test server speaks plain HTTP: the handshake fails before any request byte is sent.
      local url = base:gsub("^http:", "https:") .. "/x"
      local ok, kind, msg, details = session:perform{ method = "POST", url = url, headers = { AUTH }, body = "{}" }
      assert_failure("network", ok, kind, msg, details)
      assert.is_false(details.sent)
    end)

    it("a slow answer is a timeout after about the given time", function()
      control.enqueue{ delay = 3, body = "late" }
      local t0 = socket.gettime()
      local ok, kind, msg, details = session:perform{
        method = "POST", url = base .. "/slow", headers = { AUTH }, body = "{}", timeout = 0.3,
      }
      local elapsed = socket.gettime() - t0
      assert_failure("timeout", ok, kind, msg, details)
      assert.is_true(details.sent)
      assert.equal(28, details.curl_code) -- CURLE_OPERATION_TIMEDOUT
      assert.is_true(elapsed >= 0.25 and elapsed < 1.5, "elapsed " .. elapsed)
    end)

    it("a body that drips too slowly is a timeout", function()
      control.enqueue{ body = string.rep("x", 100), drip = 0.05 }
      local ok, kind, msg, details = session:perform{ method = "GET", url = base .. "/drip", timeout = 0.5 }
      assert_failure("timeout", ok, kind, msg, details)
      assert.is_true(details.sent)
    end)

    it("a slow but timely body arrives whole", function()
      control.enqueue{ body = "slowly", drip = 0.02 }
      local status, _, body = session:perform{ method = "GET", url = base .. "/drip", timeout = 5, connect_timeout = 2 }
      assert.equal(200, status)
      assert.equal("slowly", body)
    end)

    it("a connection dropped before the headers is a network error that was sent", function()
      control.enqueue{ drop = "before_headers" }
      local ok, kind, msg, details = session:perform{
        method = "POST", url = base .. "/drop", headers = { AUTH }, body = "{}",
      }
      assert_failure("network", ok, kind, msg, details)
      assert.is_true(details.sent)
      assert.equal(52, details.curl_code) -- CURLE_GOT_NOTHING
      assert.equal(1, #control.requests())
    end)

    -- libcurl itself replays a request once, on a fresh connection, when a reused keep-alive connection
    -- closes without a single byte of answer (it cannot tell this from the server closing an idle
    -- connection just as the request went out). Specs that want a drop on a reused connection to surface
    -- as an error must drop twice (repeat = 2).
    it("a drop on a reused connection is replayed once by libcurl on a new connection", function()
      control.enqueue{ { body = "first" }, { drop = "before_headers" }, { body = "replayed" } }
      assert.equal("first", select(3, session:perform{ method = "GET", url = base .. "/a" }))
      local status, _, body = session:perform{ method = "POST", url = base .. "/b", body = "{}" }
      assert.equal(200, status)
      assert.equal("replayed", body)
      local reqs = control.requests()
      assert.equal(3, #reqs)
      assert.equal(reqs[1].conn, reqs[2].conn)
      assert.are_not.equal(reqs[2].conn, reqs[3].conn)
      assert.equal("{}", reqs[3].body)
    end)

    it("a drop repeated on the replay surfaces as a network error", function()
      control.enqueue{ { body = "first" }, { drop = "before_headers", ["repeat"] = 2 } }
      session:perform{ method = "GET", url = base .. "/a" }
      local ok, kind, msg, details = session:perform{ method = "POST", url = base .. "/b", body = "{}" }
      assert_failure("network", ok, kind, msg, details)
      assert.is_true(details.sent)
      assert.equal(3, #control.requests())
    end)

    it("a connection dropped in the middle of the body is a network error", function()
      control.enqueue{ body = string.rep("abcdefgh", 1000), drop = "mid_body" }
      local ok, kind, msg, details = session:perform{ method = "GET", url = base .. "/drop", headers = { AUTH } }
      assert_failure("network", ok, kind, msg, details)
      assert.is_true(details.sent)
    end)

    it("a body shorter than its Content-Length is a network error", function()
      control.enqueue{ body = "short", content_length = 100 }
      local ok, kind, msg, details = session:perform{ method = "GET", url = base .. "/short", headers = { AUTH } }
      assert_failure("network", ok, kind, msg, details)
      assert.equal(18, details.curl_code) -- CURLE_PARTIAL_FILE
    end)

    it("the session keeps working after a failure", function()
      control.enqueue{ { drop = "before_headers" }, { body = "fine" } }
      assert.is_nil((session:perform{ method = "GET", url = base .. "/a" }))
      local status, _, body = session:perform{ method = "GET", url = base .. "/b" }
      assert.equal(200, status)
      assert.equal("fine", body)
    end)
  end)

  describe("test server scripting", function()
    it("serves a script `repeat` times and picks scripts by `match`", function()
      control.enqueue{
        { match = { method = "POST", path = "/contacts" }, status = 201, body = "created" },
        { status = 200, body = "any", ["repeat"] = 2 },
      }
      local s1, _, b1 = session:perform{ method = "GET", url = base .. "/contacts?x=1" }
      local s2, _, b2 = session:perform{ method = "POST", url = base .. "/contacts", body = "{}" }
      local s3, _, b3 = session:perform{ method = "GET", url = base .. "/other" }
      local s4 = session:perform{ method = "GET", url = base .. "/other" }
      assert.same({ 200, "any", 201, "created", 200, "any", 501 }, { s1, b1, s2, b2, s3, b3, s4 })
    end)

    it("records arrival times and counts requests", function()
      control.default{ body = "ok" }
      session:perform{ method = "GET", url = base .. "/1" }
      session:perform{ method = "GET", url = base .. "/2" }
      local reqs = control.requests()
      assert.is_true(reqs[2].time >= reqs[1].time)
      local stats = control.stats()
      assert.equal(2, stats.total)
      assert.equal(0, stats.open)
      assert.equal(1, stats.max_open)
    end)
  end)
end)
