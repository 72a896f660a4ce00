-- HMAC-SHA1 (src/webhook.c: core.hmac_sha1_hex), checked against openssl. Pure functions: no server
-- needed; the webhook signatures built on it are spec/client/webhooks_spec.lua.
local core = require "intercom.core"
local openssl = require "support.openssl"

local function rep_byte(b, n) return string.rep(string.char(b), n) end

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end


describe("core.hmac_sha1_hex", function()
  -- RFC 2202, section 3: test cases 1-7 for HMAC-SHA-1.
  local rfc2202 = {
    { rep_byte(0x0b, 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
    { "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    { rep_byte(0xaa, 20), rep_byte(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
    { unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), rep_byte(0xcd, 50),
      "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
    { rep_byte(0x0c, 20), "Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
    { rep_byte(0xaa, 80), "Test Using Larger Than Block-Size Key - Hash Key First",
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
    { rep_byte(0xaa, 80), "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
      "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
  }
  for i, case in ipairs(rfc2202) do
    it("matches RFC 2202 test case " .. i, function()
      assert.equal(case[3], core.hmac_sha1_hex(case[1], case[2]))
    end)
  end

  it("handles an empty key and an empty message", function()
    assert.equal("fbdb1d1b18aa6c08324b7d64b71fb76370690e1d", core.hmac_sha1_hex("", ""))
    assert.equal("de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9",
      core.hmac_sha1_hex("key", "The quick brown fox jumps over the lazy dog"))
  end)

  -- A key longer than a block is replaced by its SHA-1, so HMAC(K, m) == HMAC(SHA1(K), m) exposes SHA-1
  -- itself; the digests are the FIPS 180 / NIST examples.
  local sha1_vectors = {
    { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
      .. "mnopqrstnopqrstu", "a49b2446a02c645bf419f995b67091253a04a259", "the 896-bit message" },
    { string.rep("a", 1000000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f", "one million 'a'" },
  }
  for _, v in ipairs(sha1_vectors) do
    it("computes SHA-1 of " .. v[3] .. " (a long key is hashed first)", function()
      for _, msg in ipairs{ "", "Hi There", string.rep("x", 200) } do
        assert.equal(core.hmac_sha1_hex(unhex(v[2]), msg), core.hmac_sha1_hex(v[1], msg))
      end
    end)
  end

  it("agrees with openssl on every padding boundary", function()
    local key_lens = { 1, 20, 63, 64, 65, 131 }
    local msg_lens = { 0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4096 + 7 }
    for i, kl in ipairs(key_lens) do
      local key = {}
      for j = 1, kl do key[j] = string.char((j * 31 + i * 7) % 256) end
      key = table.concat(key)
      for _, ml in ipairs(msg_lens) do
        local msg = {}
        for j = 1, ml do msg[j] = string.char((j * 13 + kl) % 256) end
        msg = table.concat(msg)
        assert.equal(openssl.hmac_sha1_hex(key, msg), core.hmac_sha1_hex(key, msg),
          ("key %d, message %d bytes"):format(kl, ml))
      end
    end
  end)

  it("raises on non-string arguments", function()
    assert.has_error(function() core.hmac_sha1_hex(nil, "m") end)
    assert.has_error(function() core.hmac_sha1_hex("k", 42) end)
    assert.has_error(function() core.hmac_sha1_hex("k", {}) end)
  end)
end)
