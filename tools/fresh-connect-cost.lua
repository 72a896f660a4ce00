-- What the "libcurl never replays a POST" rule costs (src/http.c, ic_session_perform): an idempotent POST
-- (search) reuses the kept-alive connection and may be replayed; a POST with a body reuses it too, with a
-- body libcurl cannot rewind; a POST without a body goes out on a fresh connection. Measures the three
-- over loopback, in plain HTTP and in TLS (a throwaway CA, spec/support/servers.lua).
--
--   LUA_PATH='lua/?.lua;spec/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 tools/fresh-connect-cost.lua [N]
local servers = require "support.servers"
local intercom = require "intercom"
local core = require "intercom.core"

local N = tonumber(arg and arg[1]) or 200
local QUERY = { query = { field = "role", operator = "=", value = "user" } }

local function per_call(n, fn)
  local t0 = core.now()
  for _ = 1, n do assert(fn()) end
  return (core.now() - t0) / n * 1000
end

local function measure(label, base_url, ca_file)
  local c = intercom.new{ base_url = base_url, token = "tok_cost_measure", ca_file = ca_file }
  assert(c.admins:identify())                       -- the connection to reuse
  local search = per_call(N, function() return c.contacts:search(QUERY) end)
  local create = per_call(N, function() return c.contacts:create{ email = "x@example.com" } end)
  -- the demo server answers 404 to archive: an answer all the same, which is all that is timed
  local archive = per_call(N, function()
    local res, err = c.contacts:archive("c1")
    return res or (err.kind == "api" and err.status == 404)
  end)
  c:close()
  print(("%-5s  idempotent POST %6.2f ms   POST with a body %6.2f ms   POST without a body (fresh) %6.2f ms")
    :format(label, search, create, archive))
end

local plain = servers.start{ demo = true }
local certs = servers.certificates()
local tls = servers.start{ tls = certs, demo = true }
local ok, err = pcall(function()
  measure("http", plain.url)
  measure("https", tls.url, certs.ca)
end)
servers.stop(plain)
servers.stop(tls)
servers.remove_certificates(certs)
assert(ok, err)
