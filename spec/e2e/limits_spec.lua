-- Bounded resources and the result contract, through the curl transport: an answer's size is bounded
-- (max_response_bytes, after decompression), a 2xx that is not what an operation returns is a decode
-- error, headers the transport owns and URLs no server takes raise before anything is sent, and a map
-- leaves at most a pool's worth of idle connections. The nginx transport runs the same cases in
-- spec/e2e/nginx_faults_spec.lua.

local control = require "support.control"
local fx = require "support.fixtures"
local util = require "support.util"

local function count_requests()
  return #control.requests()
end

-- Established TCP connections from this process to the test server (ss, by the server's port).
local function open_sockets()
  local port = control.url():match(":(%d+)$")
  local p = assert(io.popen("ss -Htnp state established '( dport = :" .. port .. " )' 2>/dev/null"))
  local n = 0
  local me = "pid=" .. (io.open("/proc/self/stat"):read("*l"):match("^(%d+)"))
  for line in p:lines() do
    if line:find(me, 1, true) then n = n + 1 end
  end
  p:close()
  return n
end

describe("limits #limits", function()
  before_each(function() control.reset() end)

  describe("max_response_bytes", function()
    it("an answer past the per-request limit: too_large, not retryable, sent once, body not kept", function()
      control.enqueue{ fill = { size = 200000 }, headers = { ["Content-Type"] = "application/json" }, ["repeat"] = 3 }
      local res, err, resp = fx.client{ max_retries = 2 }.contacts:find("c1", { max_response_bytes = 100000 })
      assert.is_nil(res)
      assert.is_nil(resp)
      assert.equal("too_large", err.kind)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.matches("max_response_bytes", err.message, 1, true)
      assert.matches("reading the response body", err.message, 1, true)
      assert.equal(1, count_requests())
      assert.matches("intercom too_large error", tostring(err), 1, true)
    end)

    it("counts the bytes after decompression: a gzip bomb stops at the limit", function()
      -- 64 MB of "a" is 64 kB of gzip
      control.enqueue{ fill = { size = 64 * 1024 * 1024 }, gzip = true,
                       headers = { ["Content-Type"] = "application/json" } }
      local res, err = fx.client{ max_response_bytes = 1024 * 1024 }.contacts:find("c1")
      assert.is_nil(res)
      assert.equal("too_large", err.kind)
      assert.equal(1, count_requests())
      assert.equal("gzip, deflate", control.last().headers["accept-encoding"])
    end)

    it("an answer within the limit, compressed or not, comes back whole", function()
      local big = fx.contact("c1", { notes = string.rep("x", 50000) })
      control.enqueue{ json = big, gzip = true }
      control.enqueue{ json = big }
      local client = fx.client{ max_response_bytes = 60000 }
      for _ = 1, 2 do
        local c, err = client.contacts:find("c1")
        assert.is_nil(err)
        assert.equal(50000, #c.notes)
      end
    end)

    it("the client's default bounds a 40 MB answer", function()
      assert.equal(32 * 1024 * 1024, require("intercom.client").DEFAULT_MAX_RESPONSE_BYTES)
      control.enqueue{ fill = { size = 40 * 1024 * 1024 }, headers = { ["Content-Type"] = "application/json" } }
      local _, err = fx.client().contacts:find("c1")
      assert.equal("too_large", err.kind)
    end)

    it("a download in memory obeys it; one to a file does not", function()
      control.enqueue{ fill = { size = 300000 }, headers = { ["Content-Type"] = "application/octet-stream" } }
      local res, err = fx.client{ max_response_bytes = 100000 }.data_export:download("job-1")
      assert.is_nil(res)
      assert.equal("too_large", err.kind)
      assert.is_false(err.retryable)
      control.enqueue{ fill = { size = 300000 }, headers = { ["Content-Type"] = "application/octet-stream" } }
      local path = os.tmpname()
      local out, ferr = fx.client{ max_response_bytes = 100000 }.data_export:download("job-1", { output_file = path })
      assert.is_nil(ferr)
      assert.equal(300000, out.bytes)
      os.remove(path)
    end)

    it("memory stays near the limit: a 512 MB gzip bomb in a process of its own", function()
      -- A child interpreter fetches the bomb with an 8 MB limit and reports its peak RSS (VmHWM): without
      -- the bound it would hold the whole 512 MB inflated body (and a Lua copy of it).
      control.enqueue{ fill = { size = 512 * 1024 * 1024 }, gzip = true,
                       headers = { ["Content-Type"] = "application/json" } }
      local script = ([[
        local intercom = require "intercom"
        local c = intercom.new{ base_url = %q, token = "t0k3n-for-the-bomb", max_response_bytes = 8 * 1024 * 1024 }
        local _, err = c.contacts:find("c1")
        local f = io.open("/proc/self/status"); local status = f:read("*a"); f:close()
        io.write(tostring(err and err.kind), " ", status:match("VmHWM:%%s*(%%d+)"), "\n")
      ]]):format(control.url())
      -- util.run_lua runs a script file: the sanitized host of check-memory takes no -e.
      local _, out = util.run_lua(script)
      local kind, kb = out:match("^(%S+) (%d+)")
      assert.equal("too_large", kind, out)
      assert.is_true(tonumber(kb) < 100 * 1024, "peak RSS " .. tostring(kb) .. " kB")
    end)
  end)

  describe("the result contract", function()
    for _, case in ipairs{ { "false", "false" }, { "null", "null" }, { "42", "42" }, { '"x"', "a string" } } do
      it("a 200 whose body is " .. case[1] .. ": a decode error carrying the body", function()
        control.enqueue{ body = case[1], headers = { ["Content-Type"] = "application/json" } }
        local res, err, resp = fx.client().contacts:find("c1")
        assert.is_nil(res)
        assert.equal("decode", err.kind)
        assert.equal(200, err.status)
        assert.equal(case[1], err.body)
        assert.is_false(err.retryable)
        assert.matches("expected a JSON object or array, got " .. case[2], err.message, 1, true)
        assert.equal(200, resp.status)
      end)
    end

    it("a 204 stays true", function()
      control.enqueue{ status = 204 }
      local res, err = fx.client().contacts:delete("c1")
      assert.is_nil(err)
      assert.is_true(res)
    end)
  end)

  describe("misuse raises before anything is sent", function()
    for _, name in ipairs{ "Content-Length", "transfer-encoding", "Host", "CONNECTION" } do
      it("a caller's " .. name .. " header", function()
        local client = fx.client()
        local ok, msg = pcall(client.contacts.find, client.contacts, "c1", { headers = { [name] = "5" } })
        assert.is_false(ok)
        assert.matches("set by the transport", tostring(msg), 1, true)
        assert.equal(0, count_requests())
      end)
    end

    it("at the caller's line", function()
      local client = fx.client()
      local ok, msg = pcall(function()
        return client.contacts:find("c1", { headers = { ["Content-Length"] = "1" } })   -- this line
      end)
      assert.is_false(ok)
      assert.matches("limits_spec.lua:%d+:", tostring(msg))
    end)

    it("a path parameter that makes the URL longer than a server takes: misuse, not a retried failure", function()
      local client = fx.client()
      local ok, msg = pcall(client.contacts.find, client.contacts, string.rep("a", 1024 * 1024))
      assert.is_false(ok)
      assert.matches("URL is %d+ bytes long", tostring(msg))
      assert.equal(0, count_requests())
    end)

    it("a URL libcurl refuses as malformed: an error at once, not retried", function()
      local client = fx.client{ base_url = "http://[::1", max_retries = 2 }
      local res, err = client.contacts:find("c1")
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.is_false(err.sent)
    end)

    it("a bad max_response_bytes", function()
      for _, v in ipairs{ 0, -1, 1.5, "10" } do
        assert.has_error(function() fx.client{ max_response_bytes = v } end)
      end
    end)
  end)

  it("a map at concurrency 100 leaves at most a pool's worth (32) of idle connections", function()
    control.default{ json = fx.contact("m"), delay = 0.2 }
    local client = fx.client()
    local before = open_sockets()
    local ids = {}
    for i = 1, 100 do ids[i] = "m" .. i end
    local results, errs = client:map(ids, function(id) return client.contacts:find(id) end, { concurrency = 100 })
    assert.equal(100, #results)
    assert.is_nil(next(errs))
    assert.is_true(control.stats().max_open >= 50, "the map did not run concurrently")
    local after = open_sockets()
    print(("\n  map at concurrency 100: %d connections open to the server before, %d after"):format(before, after))
    assert.is_true(after - before <= 32 + 2, ("%d sockets before, %d after"):format(before, after))
    client:close()
  end)
end)
