-- The command line (bin/intercom, lua/intercom/cli/), run for real: as a subprocess of the interpreter
-- running busted (INTERCOM_SPEC_LUA, so both VMs run it), against the test server, asserting on what the
-- server received, what came out on stdout and stderr, and the exit status. The progress line is checked
-- under a pseudo-terminal made by script(1) and in a pipe. Two checks run lua/intercom/cli/main.lua in
-- this process: the help of every operation (130 subprocesses would be slow) and the memory an export
-- holds (measured between pages).

local control = require "support.control"
local fx = require "support.fixtures"
local util = require "support.util"
local cjson = require "cjson"

local LUA = os.getenv("INTERCOM_SPEC_LUA") or (jit and "luajit" or "lua5.4")
local TOKEN = fx.TOKEN

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function write_file(path, content)
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- Runs `intercom args...`; returns exit status, stdout, stderr. opts.stdin: text for stdin (default
-- /dev/null); opts.env: extra "NAME=value" assignments; opts.base_url false: no INTERCOM_BASE_URL.
local function intercom(args, opts)
  opts = opts or {}
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  local out_path, err_path = os.tmpname(), os.tmpname()
  local stdin = "/dev/null"
  if opts.stdin then
    stdin = os.tmpname()
    write_file(stdin, opts.stdin)
  end
  local env = { "INTERCOM_API_KEY=" .. q(opts.token or TOKEN) }
  if opts.base_url ~= false then env[#env + 1] = "INTERCOM_BASE_URL=" .. q(opts.base_url or control.url()) end
  for _, e in ipairs(opts.env or {}) do env[#env + 1] = e end
  local cmd = ("env %s %s bin/intercom %s <%s >%s 2>%s; echo \"exit=$?\""):format(
    table.concat(env, " "), LUA, table.concat(words, " "), stdin, out_path, err_path)
  local p = io.popen(cmd)
  local status = p:read("*a")
  p:close()
  local out, err = read_file(out_path) or "", read_file(err_path) or ""
  os.remove(out_path)
  os.remove(err_path)
  if opts.stdin then os.remove(stdin) end
  return tonumber(status:match("exit=(%d+)")), out, err
end

local function lines(s)
  local list = {}
  for line in s:gmatch("([^\n]*)\n") do list[#list + 1] = line end
  return list
end

local function decode_lines(s)
  local list = {}
  for i, line in ipairs(lines(s)) do list[i] = cjson.decode(line) end
  return list
end

local function ids(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.id end
  return out
end

-- A cursor page of contacts c<first>..c<last>, pointing at `cursor` (nil: the last page).
local function contacts_page(first, last, cursor, page, total)
  local list = {}
  for i = first, last do list[#list + 1] = "c" .. i end
  return fx.contact_page(list, cursor, page, total)
end

describe("intercom (the command line)", function()
  before_each(function() control.reset() end)

  describe("runs one operation", function()
    it("contacts find <id>: GET with the token and the version, the answer as one JSON document", function()
      control.enqueue{ match = { path = "/contacts/6329bd9f" }, json = fx.contact("6329bd9f") }
      local code, out, err = intercom{ "contacts", "find", "6329bd9f" }
      assert.equal(0, code, err)
      assert.equal("", err)
      assert.equal(1, #lines(out))
      assert.same(cjson.decode(cjson.encode(fx.contact("6329bd9f"))), cjson.decode(out))
      local req = control.last()
      assert.equal("GET", req.method)
      assert.equal("/contacts/6329bd9f", req.path)
      assert.equal("Bearer " .. TOKEN, req.headers["authorization"])
      assert.equal("2.12", req.headers["intercom-version"])
    end)

    it("contacts create takes the body from --data, --data @file and stdin", function()
      control.default{ json = fx.contact("new") }
      local file = os.tmpname()
      write_file(file, '{"email":"file@example.com","custom_attributes":{"n":12345678901234}}')
      local c1, _, e1 = intercom{ "contacts", "create", "--data", '{"email":"a@example.com","role":"lead"}' }
      local c2, _, e2 = intercom{ "contacts", "create", "--data", "@" .. file }
      local c3, _, e3 = intercom({ "contacts", "create" }, { stdin = '{"email":"stdin@example.com"}\n' })
      local c4, _, e4 = intercom({ "contacts", "create", "--data", "-" }, { stdin = '{"email":"dash@example.com"}' })
      os.remove(file)
      assert.same({ 0, 0, 0, 0 }, { c1, c2, c3, c4 }, e1 .. e2 .. e3 .. e4)
      local reqs = control.requests()
      assert.equal(4, #reqs)
      for _, r in ipairs(reqs) do
        assert.equal("POST /contacts", r.method .. " " .. r.path)
        assert.equal("application/json", r.headers["content-type"])
      end
      assert.same({ email = "a@example.com", role = "lead" }, cjson.decode(reqs[1].body))
      -- the body is re-encoded by the library's codec: a 64-bit integer stays exact
      assert.matches('"n":12345678901234', reqs[2].body, 1, true)
      assert.same({ email = "stdin@example.com" }, cjson.decode(reqs[3].body))
      assert.same({ email = "dash@example.com" }, cjson.decode(reqs[4].body))
    end)

    it("sends --NAME VALUE as query parameters and reaches nested resources (news items)", function()
      control.enqueue{ match = { path = "/news/news_items" },
                       json = { type = "list", data = {}, pages = { type = "pages", page = 2, total_pages = 2 } } }
      local code, out, err = intercom{ "news", "items", "list", "--per-page", "50", "--page=2" }
      assert.equal(0, code, err)
      assert.equal("list", cjson.decode(out).type)
      local req = control.last()
      assert.equal("/news/news_items", req.path)
      assert.same({ page = "2", per_page = "50" }, (function()
        local t = {}
        for k, v in req.query:gmatch("([^&=]+)=([^&]*)") do t[k] = v end
        return t
      end)())
    end)

    it("--base-url wins over INTERCOM_BASE_URL, and --api-version sets Intercom-Version", function()
      local ops = require "intercom.cli.ops"
      control.default{ json = { type = "admin", id = "1" } }
      for _, v in ipairs(ops.versions()) do
        local code, _, err = intercom({ "admins", "identify", "--base-url", control.url(), "--api-version", v },
          { base_url = util.closed_port_url() })
        assert.equal(0, code, err)
        assert.equal(v, control.last().headers["intercom-version"])
      end
      assert.equal(#ops.versions(), #control.requests())
    end)
  end)

  describe("API versions", function()
    it("an operation newer than the call's version is refused before sending; --api-version opens it", function()
      local code, out, err = intercom{ "contacts", "block", "c1" }
      assert.equal(2, code)
      assert.equal("", out)
      assert.equal("intercom: contacts block needs API version 2.13 or later; this call uses 2.12: add "
        .. "--api-version 2.13\n", err)
      assert.same({}, control.requests())
      control.enqueue{ match = { path = "/contacts/c1/block" }, json = fx.contact("c1") }
      code, out, err = intercom{ "contacts", "block", "c1", "--api-version", "2.13" }
      assert.equal(0, code, err)
      assert.equal("c1", cjson.decode(out).id)
      local req = control.last()
      assert.equal("POST /contacts/c1/block", req.method .. " " .. req.path)
      assert.equal("2.13", req.headers["intercom-version"])
    end)

    it("query parameters: declared ones per version, and those of an operation with a body go in the URL", function()
      -- conversations update takes a body, and display_as in the query string (opts.query)
      control.enqueue{ match = { path = "/conversations/cv1" }, json = { type = "conversation", id = "cv1" } }
      local code, _, err = intercom{ "conversations", "update", "cv1", "--data", '{"read":true}',
        "--display-as", "plaintext" }
      assert.equal(0, code, err)
      local req = control.last()
      assert.equal("PUT", req.method)
      assert.equal("display_as=plaintext", req.query)
      assert.same({ read = true }, cjson.decode(req.body))
      -- a misspelt one is refused with the closest declared name
      code, _, err = intercom{ "conversations", "update", "cv1", "--data", "{}", "--display-ax", "plaintext" }
      assert.equal(2, code)
      assert.matches("^intercom: conversations update has no query parameter %-%-display%-ax %(did you mean "
        .. "%-%-display%-as%?%) in API 2%.12", err)
      -- a parameter of a later version than the call's, on an operation with a query table
      code, _, err = intercom{ "conversations", "find", "cv1", "--include-translations", "true" }
      assert.equal(2, code)
      assert.matches('query parameter "include_translations" needs Intercom API version 2%.14', err)
      assert.equal(1, #control.requests())
      control.enqueue{ match = { path = "/conversations/cv1" }, json = { type = "conversation", id = "cv1" } }
      code, _, err = intercom{ "conversations", "find", "cv1", "--include-translations", "true",
        "--api-version", "2.14" }
      assert.equal(0, code, err)
      assert.equal("include_translations=true", control.last().query)
    end)

    it("a text answer is written as it is; a redirect prints its location and is not followed", function()
      local transcript = "Agent: Hello\nCustomer: Hi, my order\n"
      control.enqueue{ match = { path = "/calls/call-1/transcript" }, body = transcript,
                       headers = { ["Content-Type"] = "text/plain" } }
      local code, out, err = intercom{ "calls", "show_transcript", "call-1", "--api-version", "2.14" }
      assert.equal(0, code, err)
      assert.equal(transcript, out)
      control.enqueue{ match = { path = "/calls/call-1/recording" }, status = 302,
                       headers = { Location = "https://recordings.example/call-1.mp3?sig=abc" } }
      code, out, err = intercom{ "calls", "show_recording", "call-1", "--api-version", "2.14" }
      assert.equal(0, code, err)
      local answer = cjson.decode(out)
      assert.equal("https://recordings.example/call-1.mp3?sig=abc", answer.location)
      assert.equal(302, answer.status)
      assert.equal(2, #control.requests())
    end)

    it("a page asked for in the body (body_page): --page and --per-page go into the body", function()
      control.enqueue{ match = { path = "/admins/activity_logs/search" },
                       json = { type = "activity_log.list", activity_logs = {}, page = 2, per_page = 10,
                                total_pages = 2 } }
      local code, out, err = intercom{ "admins", "search_activity_logs", "--api-version", "2.16",
        "--data", '{"created_at_after":1700000000}', "--page", "2", "--per-page", "10" }
      assert.equal(0, code, err)
      assert.equal("activity_log.list", cjson.decode(out).type)
      local req = control.last()
      assert.equal("", req.query)
      assert.same({ created_at_after = 1700000000, page = 2, per_page = 10 }, cjson.decode(req.body))
    end)
  end)

  describe("pages", function()
    it("exports every page with --all --jsonl, one line per item, following the cursor", function()
      control.enqueue{
        { match = { path = "/contacts" }, json = contacts_page(1, 3, "cur-1", 1, 3) },
        { match = { path = "/contacts" }, json = contacts_page(4, 6, "cur-2", 2, 3) },
        { match = { path = "/contacts" }, json = contacts_page(7, 8, nil, 3, 3) },
      }
      local code, out, err = intercom{ "contacts", "list", "--all", "--jsonl", "--per-page", "3" }
      assert.equal(0, code, err)
      assert.equal("", err)                       -- no progress line in a pipe
      local items = decode_lines(out)
      assert.same({ "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8" }, ids(items))
      assert.equal("c5@example.com", items[5].email)
      local reqs = control.requests()
      assert.equal(3, #reqs)
      assert.equal("per_page=3", reqs[1].query)
      assert.matches("starting_after=cur%-1", reqs[2].query)
      assert.matches("per_page=3", reqs[2].query)
      assert.matches("starting_after=cur%-2", reqs[3].query)
    end)

    it("--all follows the 2.16 styles too: a page number in the body, an opaque next_cursor", function()
      local function logs(first, last, page)
        local list = {}
        for i = first, last do list[#list + 1] = { id = "log" .. i, event_type = "admin_login_success" } end
        return { type = "activity_log.list", activity_logs = list,
                 pages = { type = "pages", page = page, per_page = 2, total_pages = 2 } }
      end
      control.enqueue{
        { match = { path = "/admins/activity_logs/search" }, json = logs(1, 2, 1) },
        { match = { path = "/admins/activity_logs/search" }, json = logs(3, 3, 2) },
        { match = { path = "/contacts/c1/merge_history" },
          json = { type = "list", data = { { id = "m1" }, { id = "m2" } }, has_more = true, next_cursor = "nc-1" } },
        { match = { path = "/contacts/c1/merge_history" },
          json = { type = "list", data = { { id = "m3" } }, has_more = false } },
      }
      local code, out, err = intercom{ "admins", "search_activity_logs", "--all", "--per-page", "2",
        "--api-version", "2.16", "--data", '{"created_at_after":1700000000}' }
      assert.equal(0, code, err)
      assert.same({ "log1", "log2", "log3" }, ids(decode_lines(out)))
      code, out, err = intercom{ "contacts", "list_merge_history", "c1", "--all", "--api-version", "2.16" }
      assert.equal(0, code, err)
      assert.same({ "m1", "m2", "m3" }, ids(decode_lines(out)))
      local reqs = control.requests()
      assert.equal(4, #reqs)
      assert.same({ created_at_after = 1700000000, per_page = 2 }, cjson.decode(reqs[1].body))
      assert.same({ created_at_after = 1700000000, per_page = 2, page = 2 }, cjson.decode(reqs[2].body))
      assert.equal("", reqs[3].query)
      assert.equal("cursor=nc-1", reqs[4].query)
    end)

    it("without --all prints the first page as one document; --jsonl its items", function()
      control.default{ match = { path = "/contacts" }, json = contacts_page(1, 2, "cur-1", 1, 5) }
      local code, out, err = intercom{ "contacts", "list" }
      assert.equal(0, code, err)
      assert.equal(1, #lines(out))
      local page = cjson.decode(out)
      assert.same({ "c1", "c2" }, ids(page.data))
      assert.equal("cur-1", page.pages.next.starting_after)
      code, out, err = intercom{ "contacts", "list", "--jsonl" }
      assert.equal(0, code, err)
      assert.same({ "c1", "c2" }, ids(decode_lines(out)))
      assert.equal(2, #control.requests())         -- one request each: --jsonl alone does not follow
    end)

    it("search --query builds the query; --per-page and the cursor go in the body", function()
      local function search_page(first, last, cursor)
        local p = contacts_page(first, last, cursor, 1, 2)
        p.pages.total_pages = nil
        return p
      end
      control.enqueue{
        { match = { path = "/contacts/search" }, json = search_page(1, 2, "s-1") },
        { match = { path = "/contacts/search" }, json = search_page(3, 3, nil) },
      }
      local code, out, err = intercom{ "contacts", "search", "--all", "--per-page", "2",
        "--query", "role = user and (email ~ \"@example.com\" or created_at > 2024-01-01)" }
      assert.equal(0, code, err)
      assert.same({ "c1", "c2", "c3" }, ids(decode_lines(out)))
      local reqs = control.requests()
      assert.equal(2, #reqs)
      local b1, b2 = cjson.decode(reqs[1].body), cjson.decode(reqs[2].body)
      assert.same({
        operator = "AND",
        value = {
          { field = "role", operator = "=", value = "user" },
          { operator = "OR", value = {
            { field = "email", operator = "~", value = "@example.com" },
            { field = "created_at", operator = ">", value = 1704067200 },
          } },
        },
      }, b1.query)
      assert.same({ per_page = 2 }, b1.pagination)
      assert.same(b1.query, b2.query)
      assert.same({ per_page = 2, starting_after = "s-1" }, b2.pagination)
    end)

    it("streams: an export holds one page in memory, however many pages it writes", function()
      local main = require "intercom.cli.main"
      local pages, per_page = 30, 100
      local big = ("x"):rep(2000)
      local scripts = {}
      for p = 1, pages do
        local ids_ = {}
        for i = 1, per_page do ids_[i] = ("p%d-%d"):format(p, i) end
        local page = fx.contact_page(ids_, p < pages and ("cur-" .. p) or nil, p, pages)
        for _, c in ipairs(page.data) do c.name = big end
        scripts[p] = { match = { path = "/contacts" }, json = page }
      end
      control.enqueue(scripts)
      local written, peak, baseline = 0, 0, nil
      -- Sampled at every 100th line (once a page): the heap after a full collection.
      local n = 0
      local sink = { flush = function() end }
      sink.write = function(_, s)
        written = written + #s
        n = n + 1
        if n % per_page == 0 then
          collectgarbage("collect")
          local kb = collectgarbage("count")
          baseline = baseline or kb
          if kb > peak then peak = kb end
        end
        return true
      end
      local env = {
        stdout = sink, stderr = { write = function() return true end }, stdin = io.stdin,
        getenv = function(name)
          if name == "INTERCOM_API_KEY" then return TOKEN end
          if name == "INTERCOM_BASE_URL" then return control.url() end
          return nil
        end,
        isatty = function() return false end,
      }
      local code = main.run({ "contacts", "list", "--all" }, env)
      assert.equal(0, code)
      assert.equal(pages * per_page, n)
      assert.equal(pages, #control.requests())
      -- ~6.5 MB went out; the heap grew by far less than one page takes (each page ~220 KB of JSON).
      assert.is_true(written > 6 * 1000 * 1000, "written " .. written)
      assert.is_true(peak - baseline < 1024, ("heap grew by %.0f KB over the export"):format(peak - baseline))
    end)
  end)

  describe("errors", function()
    it("an API error: one line on stderr (the error object's tostring), exit 1, nothing on stdout", function()
      control.enqueue{ status = 404, headers = { ["X-Request-Id"] = "req-404" },
                       json = fx.error_list("not_found", "User Not Found") }
      local code, out, err = intercom{ "contacts", "find", "nope" }
      assert.equal(1, code)
      assert.equal("", out)
      assert.equal("intercom api error 404 not_found: User Not Found [GET /contacts/nope, request_id req-not_found]\n",
        err)
    end)

    it("an error in the middle of an export keeps what was written and exits 1", function()
      control.enqueue{
        { match = { path = "/contacts" }, json = contacts_page(1, 2, "cur-1", 1, 3) },
        { match = { path = "/contacts" }, status = 403, json = fx.error_list("forbidden", "Nope") },
      }
      local code, out, err = intercom{ "contacts", "list", "--all" }
      assert.equal(1, code)
      assert.same({ "c1", "c2" }, ids(decode_lines(out)))
      assert.equal(1, #lines(err))
      assert.matches("^intercom api error 403 forbidden: Nope", err)
    end)

    it("rate limited: exit 3; network failure: exit 4; never the token", function()
      control.enqueue{ status = 429, headers = { ["X-RateLimit-Remaining"] = "0" },
                       json = fx.error_list("rate_limit_exceeded", "Too many: " .. TOKEN) }
      local code, out, err = intercom{ "contacts", "find", "x", "--max-retries", "0" }
      assert.equal(3, code)
      assert.equal("", out)
      assert.matches("^intercom rate_limited error 429", err)
      assert.is_nil(err:find(TOKEN, 1, true))
      code, out, err = intercom({ "contacts", "find", "x", "--max-retries", "0" },
        { base_url = util.closed_port_url() })
      assert.equal(4, code)
      assert.equal("", out)
      assert.matches("^intercom network error", err)
      assert.equal(1, #lines(err))
    end)

    it("--verbose logs each request, response and retry on stderr, without the token", function()
      control.enqueue{
        { status = 503, json = fx.error_list("service_unavailable", "busy") },
        { json = fx.contact("v1") },
      }
      local code, out, err = intercom{ "contacts", "find", "v1", "--verbose" }
      assert.equal(0, code, err)
      assert.equal("v1", cjson.decode(out).id)
      local log = lines(err)
      assert.equal(5, #log, err)
      assert.matches("^intercom: GET http://[^ ]+/contacts/v1$", log[1])
      assert.matches("^intercom: GET [^ ]+/contacts/v1 %-> 503 in %d+ ms$", log[2])
      assert.matches("^intercom: retrying GET [^ ]+/contacts/v1 in [%d.]+ s %(backoff, after HTTP 503%)$", log[3])
      assert.matches("%(attempt 2%)$", log[4])
      assert.matches("%-> 200 in %d+ ms$", log[5])
      assert.is_nil(err:find(TOKEN, 1, true))
    end)

    it("Ctrl-C (SIGINT) ends the command with status 130 and one line", function()
      control.enqueue{ delay = 1.5, json = fx.contact("slow") }
      local err_path = os.tmpname()
      local p = io.popen(("env INTERCOM_API_KEY=%s INTERCOM_BASE_URL=%s sh -c '%s bin/intercom contacts find slow "
        .. ">/dev/null 2>%s & p=$!; sleep 0.5; kill -INT $p; wait $p; echo exit=$?'"):format(q(TOKEN), q(control.url()),
        LUA, err_path))
      local status = p:read("*a")
      p:close()
      local err = read_file(err_path)
      os.remove(err_path)
      assert.equal("exit=130", status:match("exit=%d+"), err)
      assert.equal("intercom: interrupted\n", err)
    end)

    it("usage errors exit 2 before anything is sent, with a hint", function()
      local cases = {
        { { "contact", "find", "x" }, 'unknown resource "contact" %(did you mean "contacts"%?%)' },
        { { "contacts", "fnd", "x" }, 'contacts has no operation "fnd" %(did you mean "find"%?%)' },
        { { "contacts", "find" }, "contacts find takes 1 argument %(id%), got 0" },
        { { "contacts", "find", "a", "b" }, "takes 1 argument" },
        { { "contacts", "search", "--query", "role == user" },
          'unknown operator "==" %(did you mean "="%?%) at column 6' },
        { { "contacts", "search", "--query", "role = user and" }, "expected a field name, found the end" },
        { { "contacts", "create", "--data", "{not json" }, "%-%-data is not valid JSON" },
        { { "contacts", "find", "x", "--per-page", "5" }, "contacts find takes no query parameters %(%-%-per%-page%)" },
        { { "contacts", "find", "x", "--all" }, "contacts find is not paginated" },
        { { "contacts", "find", "x", "--api-version", "9.99" }, 'unknown version "9.99"' },
        { { "contacts", "find", "x", "--region", "mars" }, "%-%-region: expected us, eu or au" },
        { { "contacts", "list", "--per-page" }, "%-%-per%-page needs a value" },
        { { "contacts", "find", "" }, "path parameter id is empty" },
        { {}, "give a resource and an operation" },
      }
      for _, c in ipairs(cases) do
        local code, out, err = intercom(c[1])
        assert.equal(2, code, table.concat(c[1], " ") .. ": " .. err)
        assert.equal("", out)
        assert.matches("^intercom: .*" .. c[2], err)
        assert.equal(1, #lines(err), err)
      end
      local code, _, err = intercom({ "contacts", "find", "x" }, { token = "" })
      assert.equal(2, code)
      assert.equal("intercom: no access token: set INTERCOM_API_KEY\n", err)
      assert.same({}, control.requests())
    end)
  end)

  describe("search expressions (--query, in process)", function()
    local parse = require("intercom.cli.query").parse
    local null = require("intercom").null
    local function f(field, op, value) return { field = field, operator = op, value = value } end
    local function plain(t)                      -- arrays built by the builders carry no metatable
      return cjson.decode(require("intercom").json.encode(t))
    end

    it("maps filters, and/or with SQL precedence, parentheses and lists onto intercom.query", function()
      assert.same(f("role", "=", "user"), parse("role = user"))
      assert.same(f("role", "=", "user"), parse("role=user"))
      assert.same({ operator = "OR", value = { f("a", "=", 1), { operator = "AND", value = {
        f("b", "!=", "x y"), f("c", "<", -5) } } } }, parse("a = 1 or b != 'x y' and c < -5"))
      assert.same({ operator = "AND", value = { { operator = "OR", value = { f("a", "=", 1), f("b", "=", 2) } },
        f("c", ">=", 3) } }, parse("(a = 1 || b = 2) && c >= 3"))
      -- runs of one operator become one group, however they are parenthesized
      assert.same({ operator = "AND", value = { f("a", "=", 1), f("b", "=", 2), f("c", "=", 3) } },
        parse("a = 1 AND (b = 2 and c = 3)"))
      assert.same(plain(f("tag_ids", "IN", { 1, 2, "three" })), plain(parse("tag_ids in (1, 2, three)")))
      assert.same(plain(f("tag_ids", "NIN", { "a", "b" })), plain(parse("tag_ids not in [a,b]")))
      assert.same(plain(f("tag_ids", "NIN", { "a" })), plain(parse("tag_ids NIN (a)")))
      for _, op in ipairs{ "~", "!~", "^", "$", "<=", ">" } do
        assert.same(op, parse("name " .. op .. " 7a").operator)
      end
    end)

    it("reads values: words are strings, digits integers, dates UTC timestamps, quotes keep strings", function()
      assert.equal(1700000000, parse("created_at > 1700000000").value)
      assert.equal(math.type and "integer" or "number", (math.type or type)(parse("n = 42").value))
      assert.equal(1.5, parse("score > 1.5").value)
      assert.equal(1704067200, parse("created_at > 2024-01-01").value)
      assert.equal(1704103230, parse("created_at > 2024-01-01T10:00:30Z").value)
      assert.equal(951782400, parse("created_at > 2000-02-29").value)
      assert.equal("2024-01-01", parse("d = '2024-01-01'").value)
      assert.equal("0123", parse("phone = 0123").value)
      assert.equal("42", parse('n = "42"').value)
      assert.equal('say "hi"', parse('note ~ "say \\"hi\\""').value)
      assert.equal(true, parse("active = true").value)
      assert.equal(false, parse("active = false").value)
      assert.equal(null, parse("email = null").value)
      assert.equal("@example.com", parse("email ~ @example.com").value)
      assert.equal("custom_attributes.plan", parse("custom_attributes.plan = pro").field)
      assert.equal("my field", parse('"my field" = x').field)
    end)

    it("says where an expression is wrong", function()
      local cases = {
        { "", "the expression is empty" },
        { "role", 'expected an operator after "role"' },
        { "role == user", 'unknown operator "==" %(did you mean "="%?%) at column 6' },
        { "role = user and", "expected a field name, found the end at column 16" },
        { "(role = user", 'expected "%)"' },
        { "role = 'user", "unterminated string at column 8" },
        { "a in 1", "expected a list of values in %( %) or %[ %]" },
        { "a = 1 b = 2", 'expected "and", "or" or the end, found "b = 2"' },
        { "a ~ 5", 'operator "~" needs a string, got 5' },
        { "a = 1 or (b = 2 and (c = 3 or d = 4))", "nesting deeper than 2 levels" },
      }
      for _, c in ipairs(cases) do
        local ok, e = pcall(parse, c[1])
        assert.is_false(ok, c[1])
        assert.is_true(e.usage, c[1])
        assert.matches("^%-%-query: .*" .. c[2], e.message)
      end
    end)
  end)

  describe("help", function()
    it("--help, resource --help and operation --help are generated, with the version each needs", function()
      local code, out = intercom{ "--help" }
      assert.equal(0, code)
      assert.matches("Usage:", out)
      assert.matches("contacts %(18%)", out)
      assert.matches("news items %(5%)", out)
      assert.matches("Exit status: 0 success, 1 API error,\n2 usage error, 3 rate limited, 4 network", out)
      code, out = intercom{ "contacts", "--help" }
      assert.equal(0, code)
      assert.matches("\n  find <id>%s+GET%s+/contacts/{id}%s+since 2%.12\n", out)
      assert.matches("\n  block <contact_id>%s+POST%s+/contacts/{contact_id}/block%s+since 2%.13\n", out)
      assert.matches("\n  search%s+POST%s+/contacts/search%s+since 2%.12, body, search, paginated\n", out)
      code, out = intercom({ "help", "contacts", "search" }, { token = "" })   -- help needs no token
      assert.equal(0, code)
      assert.matches("Usage: intercom contacts search %[%-%-query EXPR%]", out)
      assert.matches("POST /contacts/search", out)
      assert.matches("Needs API version 2%.12 or later", out)
    end)

    it("covers every operation of every resource (in process)", function()
      local main = require "intercom.cli.main"
      local ops = require "intercom.cli.ops"
      local count = 0
      for _, rname in ipairs(ops.resources()) do
        local words = {}
        for w in rname:gmatch("[^.]+") do words[#words + 1] = w end
        for _, oname in ipairs(ops.operations(rname)) do
          local op = ops.get(rname, oname)
          local buf = {}
          local argv = { (table.unpack or unpack)(words) }
          argv[#argv + 1] = oname
          argv[#argv + 1] = "--help"
          local code = main.run(argv, {
            stdout = { write = function(_, s) buf[#buf + 1] = s; return true end },
            stderr = { write = function(_, s) error("stderr: " .. s) end },
            getenv = function() return nil end, isatty = function() return false end,
          })
          local text = table.concat(buf)
          assert.equal(0, code, rname .. " " .. oname)
          assert.matches("Usage: intercom " .. table.concat(words, " ") .. " " .. oname, text, 1, true)
          assert.matches(op.method .. " " .. op.path, text, 1, true)
          assert.matches("Needs API version " .. op.since .. " or later", text, 1, true)
          count = count + 1
        end
      end
      assert.is_true(count >= 118, "operations: " .. count)
    end)
  end)

  describe("progress", function()
    local has_script = os.execute("command -v script >/dev/null 2>&1")
    has_script = has_script == true or has_script == 0

    -- Runs a shell command under a pseudo-terminal (script -qc); returns what the terminal showed.
    local function under_tty(command)
      assert.is_true(has_script, "script(1) from util-linux is needed (tools/install-deps.sh)")
      local log = os.tmpname()
      local p = io.popen(("script -qec %s /dev/null >%s 2>&1 </dev/null; echo \"exit=$?\""):format(q(command), log))
      local status = p:read("*a")
      p:close()
      local shown = read_file(log) or ""
      os.remove(log)
      return tonumber(status:match("exit=(%d+)")), shown
    end

    local function env_prefix()
      return ("env INTERCOM_API_KEY=%s INTERCOM_BASE_URL=%s "):format(q(TOKEN), q(control.url()))
    end

    it("appears on a terminal's stderr during an export (items, pages, rate limit, elapsed)", function()
      control.rate_limit(1000, 60)
      control.enqueue{
        { match = { path = "/contacts" }, json = contacts_page(1, 3, "cur-1", 1, 2) },
        { match = { path = "/contacts" }, json = contacts_page(4, 5, nil, 2, 2) },
      }
      local out = os.tmpname()
      local code, shown = under_tty(env_prefix() .. LUA .. " bin/intercom contacts list --all >" .. q(out))
      control.rate_limit(nil)
      local exported = read_file(out)
      os.remove(out)
      assert.equal(0, code, shown)
      assert.same({ "c1", "c2", "c3", "c4", "c5" }, ids(decode_lines(exported)))
      assert.matches("\rcontacts list: 5 items, 2 pages, rate limit %d+ left, 0:%d%d", shown)
      assert.is_nil(shown:find("{", 1, true), "no JSON on the terminal")
    end)

    it("never appears in a pipe, nor with --no-progress, nor when the items go to the terminal too", function()
      control.default{ match = { path = "/contacts" }, json = contacts_page(1, 2, nil, 1, 1) }
      local code, _, err = intercom{ "contacts", "list", "--all" }
      assert.equal(0, code)
      assert.equal("", err)
      local shown
      code, shown = under_tty(env_prefix() .. LUA .. " bin/intercom contacts list --all --no-progress >/dev/null")
      assert.equal(0, code, shown)
      assert.equal("", shown)
      code, shown = under_tty(env_prefix() .. LUA .. " bin/intercom contacts list --all")
      assert.equal(0, code, shown)
      assert.same({ "c1", "c2" }, ids(decode_lines((shown:gsub("\r\n", "\n")))))
      assert.is_nil(shown:find("contacts list:", 1, true))
      -- --progress draws it anyway, and clears it before the items of the next page
      control.reset()
      control.enqueue{
        { match = { path = "/contacts" }, json = contacts_page(1, 2, "cur-1", 1, 2) },
        { match = { path = "/contacts" }, json = contacts_page(3, 3, nil, 2, 2) },
      }
      code, shown = under_tty(env_prefix() .. LUA .. " bin/intercom contacts list --all --progress")
      assert.equal(0, code, shown)
      assert.matches("\rcontacts list: 2 items, 1 page, 0:%d%d\27%[K\r\27%[K{[^\n]*\"c3\"", shown)
      assert.matches("\rcontacts list: 3 items, 2 pages, 0:%d%d\27%[K\r?\n$", shown)
    end)

    it("data_export download shows bytes and the total; the file goes to --output or stdout", function()
      local body = ("0123456789abcdef"):rep(64 * 1024)   -- 1 MiB
      control.enqueue{ match = { path = "/download/content/data/job-1" }, body = body,
                       headers = { ["Content-Type"] = "application/octet-stream" } }
      local dir = os.tmpname()
      local code, shown = under_tty(env_prefix() .. LUA .. " bin/intercom data_export download job-1 -o "
        .. q(dir .. ".gz") .. " >" .. q(dir .. ".json"))
      assert.equal(0, code, shown)
      assert.equal(body, read_file(dir .. ".gz"))
      local printed = cjson.decode(read_file(dir .. ".json"))
      os.remove(dir .. ".gz")
      os.remove(dir .. ".json")
      os.remove(dir)
      assert.equal(#body, printed.bytes)
      assert.matches("\rdata_export download: 1%.0 MiB of 1%.0 MiB %(100%%%), 0:%d%d", shown)
      assert.equal("application/octet-stream", control.last().headers["accept"])
      -- to stdout, byte for byte, and no progress in a pipe
      control.enqueue{ match = { path = "/download/content/data/job-2" }, body = body }
      local out, err
      code, out, err = intercom{ "data_export", "download", "job-2" }
      assert.equal(0, code, err)
      assert.equal("", err)
      assert.equal(#body, #out)
      assert.is_true(out == body)
    end)
  end)

  describe("the launcher", function()
    it("runs from the checkout through sh with the interpreter named by INTERCOM_LUA, from any directory", function()
      local pwd = io.popen("pwd"):read("*l")
      -- the core this run uses (spec/run.sh's LUA_CPATH, relative to the checkout), made absolute
      local cpath = (os.getenv("LUA_CPATH") or ""):gsub("[^;]+", function(entry)
        return entry:sub(1, 1) == "/" and entry or (pwd .. "/" .. entry)
      end)
      local p = io.popen(("cd / && env -u LUA_PATH LUA_CPATH=%s INTERCOM_LUA=%s %s/bin/intercom --version 2>&1; "
        .. "echo \"exit=$?\""):format(q(cpath), LUA:find("/", 1, true) and (pwd .. "/" .. LUA) or LUA, pwd))
      local out = p:read("*a")
      p:close()
      assert.matches("exit=0", out)
      assert.matches("^intercom%-lua %d+%.%d+%.%d+, API versions 2%.12", out)
      assert.matches(jit and "LuaJIT" or "Lua 5%.4", out)
    end)

    it("make install puts a working intercom in BINDIR, which finds the installed modules", function()
      control.enqueue{ match = { path = "/contacts/installed" }, json = fx.contact("installed") }
      local dest = os.tmpname()
      os.remove(dest)
      local prefix = dest .. "/usr/local"
      local p = io.popen(("make --no-print-directory install DESTDIR=%s >/dev/null 2>&1 && cd / && "
        .. "env -u LUA_PATH -u LUA_CPATH LUA_PATH_5_4=%s LUA_CPATH_5_4=%s INTERCOM_API_KEY=%s INTERCOM_BASE_URL=%s "
        .. "%s/bin/intercom contacts find installed 2>&1; echo \"exit=$?\""):format(q(dest),
        q(prefix .. "/share/lua/5.4/?.lua"), q(prefix .. "/lib/lua/5.4/?.so"), q(TOKEN), q(control.url()), q(prefix)))
      local out = p:read("*a")
      p:close()
      os.execute("rm -rf " .. q(dest))
      assert.matches("exit=0", out)
      assert.equal("installed", cjson.decode(out:match("^[^\n]*")).id)
      assert.equal("/contacts/installed", control.last().path)
    end)
  end)
end)
