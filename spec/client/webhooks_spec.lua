-- intercom.webhooks and the C core underneath it: HMAC-SHA1 against published vectors and against
-- openssl, X-Hub-Signature checks on a realistic notification, parsing, and misuse.
--
-- The expected signatures come from RFC 2202, FIPS 180 and `openssl dgst`, never from the code under test.

local core = require "intercom.core"
local webhooks = require "intercom.webhooks"
local openssl = require "support.openssl"


-- A contact.user.created notification in the shape Intercom delivers, with non-ASCII bytes in it.
local BODY = table.concat{
  [[{"type":"notification_event","app_id":"a86dr8yl","data":{"type":"notification_event_data","item":]],
  [[{"type":"contact","id":"6329bd9ffe4e3f0d5d4a","workspace_id":"a86dr8yl","external_id":"user-42",]],
  [["role":"user","email":"zoe@example.com","name":"Zo\u00eb Ångström","phone":null,"avatar":null,]],
  [["owner_id":null,"has_hard_bounced":false,"marked_email_as_spam":false,"unsubscribed_from_emails":false,]],
  [["created_at":1700000000,"updated_at":1700000000,"signed_up_at":1700000000,"last_seen_at":null,]],
  [["custom_attributes":{"plan":"pro","seats":12},"tags":{"type":"list","data":[],]],
  [["url":"/contacts/6329bd9ffe4e3f0d5d4a/tags","total_count":0,"has_more":false},]],
  [["location":{"type":"location","country":"Sweden","region":null,"city":"Malmö"}}},"links":{},]],
  [["id":"notif_6b7a4c30-9a1e-4f2b-8d8f-3c1b2e5a9d17","topic":"contact.user.created",]],
  [["delivery_status":"pending","delivery_attempts":1,"delivered_at":0,"first_sent_at":1700000001,]],
  [["created_at":1700000001,"self":null}]],
}
local SECRET = "intercom-client-secret-9f2c1e"
-- printf '%s' "$BODY" | openssl dgst -sha1 -hmac intercom-client-secret-9f2c1e
local SIGNATURE = "sha1=0aa7735203fc34f4f7cd7dca17243a9f9858526f"

describe("webhook signatures", function()
  it("the fixture's signature is openssl's", function()
    assert.equal(SIGNATURE, "sha1=" .. openssl.hmac_sha1_hex(SECRET, BODY))
  end)

  it("accepts Intercom's signature, in lower or upper case hex", function()
    assert.same({ true }, { webhooks.verify(BODY, SIGNATURE, SECRET) })
    assert.same({ true }, { webhooks.verify(BODY, "sha1=" .. SIGNATURE:sub(6):upper(), SECRET) })
    assert.is_true(core.webhook_verify(BODY, SIGNATURE, SECRET))
    assert.is_true(core.webhook_verify(BODY, "sha1=" .. SIGNATURE:sub(6):upper(), SECRET))
  end)

  it("rejects a body with one byte changed", function()
    for _, pos in ipairs{ 1, 200, #BODY } do
      local b = BODY:byte(pos)
      local tampered = BODY:sub(1, pos - 1) .. string.char((b + 1) % 256) .. BODY:sub(pos + 1)
      assert.same({ false, "signature mismatch" }, { webhooks.verify(tampered, SIGNATURE, SECRET) })
      assert.is_false(core.webhook_verify(tampered, SIGNATURE, SECRET))
    end
    assert.same({ false, "signature mismatch" }, { webhooks.verify(BODY .. "\n", SIGNATURE, SECRET) })
  end)

  it("rejects the wrong secret and a signature with one digit changed", function()
    assert.same({ false, "signature mismatch" }, { webhooks.verify(BODY, SIGNATURE, SECRET .. "x") })
    local last = SIGNATURE:sub(-1) == "0" and "1" or "0"
    assert.same({ false, "signature mismatch" }, { webhooks.verify(BODY, SIGNATURE:sub(1, -2) .. last, SECRET) })
    local first = SIGNATURE:sub(6, 6) == "0" and "1" or "0"
    local changed = "sha1=" .. first .. SIGNATURE:sub(7)
    assert.same({ false, "signature mismatch" }, { webhooks.verify(BODY, changed, SECRET) })
  end)

  it("says a missing signature is missing", function()
    assert.same({ false, "missing signature" }, { webhooks.verify(BODY, nil, SECRET) })
    assert.same({ false, "missing signature" }, { webhooks.verify(BODY, "", SECRET) })
  end)

  it("says a malformed signature is malformed", function()
    local hex = SIGNATURE:sub(6)
    local malformed = {
      SIGNATURE:sub(1, -2),                      -- truncated
      SIGNATURE .. "0",                          -- too long
      hex,                                       -- no prefix
      "SHA1=" .. hex,                            -- prefix in the wrong case
      "sha256=" .. hex,                          -- another algorithm
      "sha256=" .. string.rep("ab", 32),
      "sha1=" .. hex:sub(1, -2) .. "g",          -- not hex
      "sha1=" .. hex:sub(1, 10) .. " " .. hex:sub(12),
      " " .. SIGNATURE,                          -- stray whitespace
      SIGNATURE .. "\0",
      "sha1=",
      { SIGNATURE, SIGNATURE },                  -- a repeated header, as ngx.req.get_headers() gives it
    }
    for _, sig in ipairs(malformed) do
      assert.same({ false, "malformed signature" }, { webhooks.verify(BODY, sig, SECRET) })
      if type(sig) == "string" then assert.is_false(core.webhook_verify(BODY, sig, SECRET)) end
    end
  end)

  it("verifies an empty body", function()
    local sig = "sha1=" .. core.hmac_sha1_hex(SECRET, "")
    assert.equal(sig, "sha1=" .. openssl.hmac_sha1_hex(SECRET, ""))
    assert.is_true(webhooks.verify("", sig, SECRET))
  end)

  it("raises on an empty secret instead of returning false", function()
    assert.has_error(function() core.webhook_verify(BODY, SIGNATURE, "") end, "webhook secret is empty")
    assert.has_error(function() webhooks.verify(BODY, SIGNATURE, "") end)
    assert.has_error(function() webhooks.verify(BODY, nil, "") end)
    assert.has_error(function() webhooks.handle(BODY, SIGNATURE, "") end)
    local ok, err = pcall(webhooks.verify, BODY, SIGNATURE, "")
    assert.is_false(ok)
    assert.matches("webhook secret is empty", err, 1, true)
  end)

  it("raises on arguments of the wrong type", function()
    assert.has_error(function() core.webhook_verify(nil, SIGNATURE, SECRET) end)
    assert.has_error(function() core.webhook_verify(BODY, nil, SECRET) end)
    assert.has_error(function() core.webhook_verify(BODY, SIGNATURE, nil) end)
    assert.has_error(function() core.webhook_verify(BODY, SIGNATURE, 12345) end)
    assert.has_error(function() webhooks.verify(nil, SIGNATURE, SECRET) end)
    assert.has_error(function() webhooks.verify(BODY, SIGNATURE, nil) end)
    assert.has_error(function() webhooks.verify({}, SIGNATURE, SECRET) end)
  end)

  it("never mistakes one signature for another over many inputs", function()
    for n = 0, 300 do
      local body = BODY:sub(1, n)
      local sig = "sha1=" .. core.hmac_sha1_hex(SECRET, body)
      assert.is_true(core.webhook_verify(body, sig, SECRET))
      assert.is_false(core.webhook_verify(body .. "x", sig, SECRET))
    end
  end)
end)

describe("webhooks.parse and webhooks.handle", function()
  it("decodes a notification", function()
    local note, err = webhooks.parse(BODY)
    assert.is_nil(err)
    assert.equal("notification_event", note.type)
    assert.equal("contact.user.created", note.topic)
    assert.equal("notif_6b7a4c30-9a1e-4f2b-8d8f-3c1b2e5a9d17", note.id)
    assert.equal("a86dr8yl", note.app_id)
    assert.equal("pending", note.delivery_status)
    assert.equal(1, note.delivery_attempts)
    assert.equal(1700000001, note.created_at)
    assert.equal(core.null, note.self)
    assert.equal("notification_event_data", note.data.type)
    assert.equal("6329bd9ffe4e3f0d5d4a", note.data.item.id)
    assert.equal("Zoë Ångström", note.data.item.name)
    assert.equal("Malmö", note.data.item.location.city)
    assert.equal(12, note.data.item.custom_attributes.seats)
  end)

  it("returns nil and a message for a body that is not JSON", function()
    for _, body in ipairs{ "", "not json", BODY:sub(1, -2), "{\"type\":" } do
      local note, err = webhooks.parse(body)
      assert.is_nil(note)
      assert.matches("^invalid JSON", err)
    end
  end)

  it("returns nil and a message for JSON that is not a notification", function()
    local cases = {
      { '{"type":"contact","id":"1"}', 'type is "contact"' },
      { '{"topic":"contact.user.created"}', "type is missing" },
      { '{"type":null}', "type is not a string" },
      { '[{"type":"notification_event"}]', "not a JSON object" },
      { "[]", "not a JSON object" },
      { '"notification_event"', "not a JSON object" },
      { "42", "not a JSON object" },
      { "null", "not a JSON object" },
    }
    for _, case in ipairs(cases) do
      local note, err = webhooks.parse(case[1])
      assert.is_nil(note, case[1])
      assert.matches("not an Intercom notification", err, 1, true)
      assert.matches(case[2], err, 1, true)
    end
  end)

  it("handle verifies and then parses", function()
    local note, err = webhooks.handle(BODY, SIGNATURE, SECRET)
    assert.is_nil(err)
    assert.equal("contact.user.created", note.topic)
    assert.same({ nil, "missing signature" }, { webhooks.handle(BODY, nil, SECRET) })
    assert.same({ nil, "malformed signature" }, { webhooks.handle(BODY, "sha256=" .. SIGNATURE:sub(6), SECRET) })
    assert.same({ nil, "signature mismatch" }, { webhooks.handle(BODY, SIGNATURE, "other-secret") })
    -- Signed, but not a notification: the signature passes, parse says why.
    local other = '{"type":"contact"}'
    local n2, e2 = webhooks.handle(other, "sha1=" .. core.hmac_sha1_hex(SECRET, other), SECRET)
    assert.is_nil(n2)
    assert.matches("not an Intercom notification", e2, 1, true)
  end)

  it("parse raises on a non-string body", function()
    assert.has_error(function() webhooks.parse(nil) end)
    assert.has_error(function() webhooks.parse({}) end)
  end)

  it("is reachable from the entry point", function()
    assert.equal(webhooks, require("intercom").webhooks)
  end)
end)

describe("webhook signatures against tampering", function()
  -- Flips bit `b` (0-159) of a 40-digit hex string, with arithmetic only (runs in Lua 5.4 and LuaJIT).
  local function flip_bit(hex, b)
    local i = math.floor(b / 4) + 1
    local v, m = tonumber(hex:sub(i, i), 16), 2 ^ (b % 4)
    v = (math.floor(v / m) % 2 == 1) and v - m or v + m
    return hex:sub(1, i - 1) .. ("%x"):format(v) .. hex:sub(i + 1)
  end

  it("rejects every one-bit change of the signature", function()
    local hex = SIGNATURE:sub(6)
    for b = 0, 159 do
      local sig = "sha1=" .. flip_bit(hex, b)
      assert.same({ false, "signature mismatch" }, { webhooks.verify(BODY, sig, SECRET) }, "bit " .. b)
    end
  end)

  it("rejects a body that was decoded and re-encoded, truncated, or extended", function()
    local reencoded = core.json_encode(assert(core.json_decode(BODY)))
    assert.not_equal(BODY, reencoded)
    for _, body in ipairs{ reencoded, BODY:sub(1, -2), BODY:sub(2), " " .. BODY, BODY .. BODY, "" } do
      assert.same({ false, "signature mismatch" }, { webhooks.verify(body, SIGNATURE, SECRET) })
      assert.same({ nil, "signature mismatch" }, { webhooks.handle(body, SIGNATURE, SECRET) })
    end
  end)

  it("rejects a secret that differs in case, whitespace or a trailing newline", function()
    for _, secret in ipairs{ SECRET:upper(), SECRET .. "\n", " " .. SECRET, SECRET:sub(1, -2) } do
      assert.same({ false, "signature mismatch" }, { webhooks.verify(BODY, SIGNATURE, secret) })
    end
  end)
end)
