-- TLS for real: a throwaway CA made with openssl at test time, an HTTPS test server on loopback with a
-- certificate it signed. Verification is always on: without the CA the request fails with a certificate
-- error, with `ca_file` it succeeds, and there is no switch that turns verification off.

local servers = require "support.servers"
local fx = require "support.fixtures"
local intercom = require "intercom"

describe("TLS", function()
  local certs, server

  setup(function()
    certs = servers.certificates()
    server = servers.start{ tls = certs, demo = true }
  end)

  teardown(function()
    servers.stop(server)
    servers.remove_certificates(certs)
  end)

  local function client(opts)
    local o = { base_url = server.url, token = fx.TOKEN, max_retries = 0, timeout = 10 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return intercom.new(o)
  end

  it("the server really speaks HTTPS", function()
    assert.matches("^https://127%.0%.0%.1:%d+$", server.url)
  end)

  it("without ca_file: a network error that names the certificate, before the request is sent", function()
    local res, err, resp = client().admins:identify()
    assert.is_nil(res)
    assert.is_nil(resp)
    assert.equal("network", err.kind)
    assert.is_nil(err.status)
    assert.matches("certificate", err.message:lower(), 1, true)
    assert.is_false(err.sent)
    assert.equal(60, err.curl_code)   -- CURLE_PEER_FAILED_VERIFICATION
  end)

  it("with ca_file: verified, and the request succeeds", function()
    local me, err, resp = client{ ca_file = certs.ca }.admins:identify()
    assert.is_nil(err, err and tostring(err))
    assert.equal(200, resp.status)
    assert.equal("admin", me.type)
    assert.equal("ciaran@example.com", me.email)
  end)

  it("with ca_file, a POST too (a fresh connection each time, verified each time)", function()
    local c = client{ ca_file = certs.ca }
    for _ = 1, 2 do
      local created, err = c.contacts:create{ email = "tls@example.com" }
      assert.is_nil(err, err and tostring(err))
      assert.equal("tls@example.com", created.email)
    end
    c:close()
  end)

  it("by host name too (the certificate names localhost)", function()
    local url = server.url:gsub("127%.0%.0%.1", "localhost")
    local me, err = client{ base_url = url, ca_file = certs.ca }.admins:identify()
    assert.is_nil(err, err and tostring(err))
    assert.equal("admin", me.type)
  end)

  it("with the wrong CA (the system bundle): a certificate error", function()
    local bundle = "/etc/ssl/certs/ca-certificates.crt"
    if not io.open(bundle) then bundle = certs.cert end   -- any file of other certificates will do
    local _, err = client{ ca_file = bundle }.admins:identify()
    assert.equal("network", err.kind)
    assert.matches("certificate", err.message:lower(), 1, true)
  end)

  it("with a ca_file that does not exist: a network error, nothing sent", function()
    local _, err = client{ ca_file = certs.dir .. "/missing.pem" }.admins:identify()
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    assert.matches("certificate", err.message:lower(), 1, true)
  end)

  it("a certificate for another name fails even with the right CA", function()
    local other = servers.certificates{ san = "DNS:wrong.example" }
    local s = servers.start{ tls = other, demo = true }
    local _, err = client{ base_url = s.url, ca_file = other.ca }.admins:identify()
    servers.stop(s)
    servers.remove_certificates(other)
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    assert.matches("certificate", err.message:lower(), 1, true)
  end)

  it("verification cannot be switched off: there is no such option", function()
    for _, name in ipairs{ "insecure", "ssl_verify", "verify", "ssl_verify_peer" } do
      local ok, msg = pcall(intercom.new, { token = "t", [name] = false })
      assert.is_false(ok)
      assert.matches("unknown option", tostring(msg), 1, true)
    end
    local ok, msg = pcall(require("intercom.core").session, { ssl_verify = false })
    assert.is_false(ok)
    assert.matches("unknown option 'ssl_verify'", tostring(msg), 1, true)
  end)
end)
