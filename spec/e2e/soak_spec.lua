-- The soak: a random mix of faults (spec/support/soak_mix.lua) against both transports, for about
-- INTERCOM_SOAK_SECONDS (default 8) each per interpreter: the curl transport in plain Lua (client:map, 8 at
-- once) and the ngx transport in a real nginx worker, with its own client and with lua-resty-http. Asserts
-- no raise, no wrong value, no call longer than its attempts can take, no growth of open descriptors or
-- memory between the first batch and the last, and no POST processed twice.
--   bash spec/run.sh --tags=soak

local control = require "support.control"
local fx = require "support.fixtures"
local mix = require "support.soak_mix"
local nginx = require "support.nginx"
local cjson = require "cjson"
local socket = require "socket"

local SECONDS = tonumber(os.getenv("INTERCOM_SOAK_SECONDS")) or 8
local BATCH = 60
-- one call: two attempts of TIMEOUT each and a backoff between them, plus slack for a loaded machine
local SLOWEST = 2 * mix.TIMEOUT + 0.5 + 2

local VENDOR = "${root}/../shared/vendor/"
local LUA_PATH = "${root}/spec/?.lua;" .. VENDOR .. "lua-resty-http/lib/?.lua;"
  .. VENDOR .. "lua-resty-string/lib/?.lua"
local HTTP = [[
  lua_socket_log_errors off;
  init_by_lua_block { require("intercom_soak_app").init("${upstream}") }
  server {
    listen 127.0.0.1:${port};
    location = /soak { content_by_lua_block { require("intercom_soak_app").run() } }
  }
]]

local function proc_fds(pid)
  local p = assert(io.popen("ls /proc/" .. pid .. "/fd | wc -l"))
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end

local function proc_rss_kb(pid)
  local f = assert(io.open("/proc/" .. pid .. "/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local function self_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("*l"):match("^(%d+)")
  f:close()
  return pid
end

-- Every POST the server read, by its email: none may appear twice.
local function assert_posts_once()
  local seen, posts = {}, 0
  for _, r in ipairs(control.requests()) do
    if r.method == "POST" then
      posts = posts + 1
      local email = r.body:match('"email":"([^"]+)"') or r.body
      assert.is_nil(seen[email], "POST processed twice: " .. email)
      seen[email] = true
    end
  end
  return posts
end

-- Runs batches until SECONDS have passed; `batch(run)` makes one batch's calls and returns
-- {problems, kinds, slowest}; `sample()` returns {fds, rss_kb, lua_kb} of the process under test.
local function soak(label, batch, sample)
  local started = socket.gettime()
  local first, last
  local calls, runs, posts = 0, 0, 0
  local kinds = {}
  repeat
    runs = runs + 1
    control.reset()
    control.default{ body = '{"type":"contact","id":"{{x-soak-id}}"}', reflect = true }
    control.enqueue(mix.scripts(BATCH))
    local t0 = socket.gettime()
    local out = batch(label .. runs)
    assert.is_true(socket.gettime() - t0 < BATCH * SLOWEST / 8 + 10, "a batch hung")
    assert.same({}, out.problems)
    assert.is_true(out.slowest <= SLOWEST, ("a call took %.2f s"):format(out.slowest))
    for k, n in pairs(out.kinds) do kinds[k] = (kinds[k] or 0) + n end
    calls = calls + BATCH
    posts = posts + assert_posts_once()
    local s = sample()
    if runs == 2 then first = s end         -- after a warm-up batch: pools and caches are full
    last = s
  until socket.gettime() - started > SECONDS and runs >= 4
  local names = {}
  for k, n in pairs(kinds) do names[#names + 1] = k .. " " .. n end
  table.sort(names)
  print(("\n  soak %s: %d calls (%d POSTs) in %.1f s: %s; fds %d -> %d, RSS %d -> %d kB, Lua %.0f -> %.0f kB")
    :format(label, calls, posts, socket.gettime() - started, table.concat(names, ", "), first.fds, last.fds,
            first.rss_kb, last.rss_kb, first.lua_kb, last.lua_kb))
  assert.is_nil(kinds.raised)
  assert.is_true(last.fds <= first.fds + 4, "descriptors grew")
  assert.is_true(last.rss_kb <= first.rss_kb + 24 * 1024, "RSS grew by more than 24 MB")
  assert.is_true(last.lua_kb <= first.lua_kb * 1.5 + 2048, "Lua memory grew")
end

describe("soak #soak", function()
  it("curl transport, plain Lua, client:map 8 at once", function()
    local client = fx.client{ max_retries = 1, timeout = mix.TIMEOUT, connect_timeout = mix.TIMEOUT,
                              max_response_bytes = mix.MAX }
    local pid = self_pid()
    soak("curl", function(run)
      local items = {}
      for i = 1, BATCH do items[i] = run .. "-" .. i end
      local problems, kinds, slowest = {}, {}, 0
      client:map(items, function(id)
        local opts = { headers = { ["X-Soak-Id"] = id } }
        local t0 = socket.gettime()
        local n = tonumber(id:match("(%d+)$"))
        local ok, res, err
        if n % 3 == 0 then
          ok, res, err = pcall(client.contacts.create, client.contacts, { email = id .. "@soak.example.com" }, opts)
        else
          ok, res, err = pcall(client.contacts.find, client.contacts, id, opts)
        end
        slowest = math.max(slowest, socket.gettime() - t0)
        local p = mix.problem(id, ok, res, err)
        if p then problems[#problems + 1] = p end
        local k = ok and (err and err.kind or "ok") or "raised"
        kinds[k] = (kinds[k] or 0) + 1
        return true
      end, { concurrency = 8 })
      return { problems = problems, kinds = kinds, slowest = slowest }
    end, function()
      collectgarbage()
      collectgarbage()
      return { fds = proc_fds(pid), rss_kb = proc_rss_kb(pid), lua_kb = collectgarbage("count") }
    end)
    client:close()
  end)

  for _, backend in ipairs{ "own", "resty" } do
    it("ngx transport (" .. backend .. " client) in a real nginx worker", function()
      assert(nginx.available(), "nginx with libnginx-mod-http-lua is not installed: run `make deps`")
      local srv = nginx.start{ http = HTTP, vars = { upstream = control.url() }, lua_path = LUA_PATH }
      local worker, lua_kb
      local ok, err = pcall(soak, "nginx/" .. backend, function(run)
        local status, body = srv:get(("/soak?n=%d&backend=%s&run=%s"):format(BATCH, backend, run))
        assert.equal(200, status, body)
        local out = cjson.decode(body)
        worker, lua_kb = string.format("%d", out.pid), out.lua_kb
        return out
      end, function()
        return { fds = proc_fds(worker), rss_kb = proc_rss_kb(worker), lua_kb = lua_kb }
      end)
      local log = srv:log()
      srv:stop()
      assert(ok, err)
      assert.is_nil(log:find("entry thread aborted", 1, true), log)
    end)
  end
end)
