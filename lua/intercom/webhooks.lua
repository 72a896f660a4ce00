-- Intercom webhook notifications: check the signature, then decode the body.
--
--   local webhooks = require "intercom.webhooks"      -- or intercom.webhooks
--   local note, why = webhooks.handle(raw_body, headers["X-Hub-Signature"], os.getenv("INTERCOM_CLIENT_SECRET"))
--   if not note then return respond(401, why) end
--   if note.topic == "contact.user.created" then ... note.data.item ... end
--
-- Intercom signs the raw request body with HMAC-SHA1 keyed by the app's client secret and sends
-- `X-Hub-Signature: sha1=<40 hex digits>`. Verify the body exactly as received, before any decoding: a
-- re-encoded body is not the one that was signed. The digest is computed and compared (in constant time)
-- by the C core.
--
-- Wrong inputs from the network (missing, malformed or wrong signature, a body that is not a notification)
-- return false/nil and a short reason; mistakes in the calling code (a non-string body or secret, an
-- empty secret) raise, so that an unset secret is not mistaken for forged traffic.

local core = require "intercom.core"
local misuse = require "intercom.misuse"

local getmetatable, tostring, type = getmetatable, tostring, type

---@class intercom.webhooks
local _M = {}

local function check_string(value, what, fname)
  if type(value) ~= "string" then
    misuse.raise(("intercom.webhooks.%s: %s must be a string, got %s"):format(fname, what, type(value)))
  end
end

local function check_secret(secret, fname)
  check_string(secret, "client_secret", fname)
  if secret == "" then
    misuse.raise(("intercom.webhooks.%s: webhook secret is empty"):format(fname))
  end
end

-- The checks of verify, with the function name to blame in misuse errors.
local function verify(raw_body, signature_header, client_secret, fname)
  check_string(raw_body, "raw_body", fname)
  check_secret(client_secret, fname)
  if signature_header == nil or signature_header == "" then
    return false, "missing signature"
  end
  -- A table here is what ngx.req.get_headers() gives for a repeated header: a request to refuse, not a bug.
  if type(signature_header) ~= "string" or not signature_header:match("^sha1=" .. ("%x"):rep(40) .. "$") then
    return false, "malformed signature"
  end
  if not core.webhook_verify(raw_body, signature_header, client_secret) then
    return false, "signature mismatch"
  end
  return true
end

--- Checks the `X-Hub-Signature` header of a webhook request against the raw body and the app's client
--- secret. Returns true, or false and one of "missing signature", "malformed signature",
--- "signature mismatch". Raises on a non-string body or secret and on an empty secret.
---@param raw_body string the request body exactly as received
---@param signature_header string|nil the X-Hub-Signature value, e.g. "sha1=3d9a..." (hex in either case)
---@param client_secret string the app's client secret (Developer Hub > Basic information)
---@return boolean ok
---@return string|nil reason
function _M.verify(raw_body, signature_header, client_secret)
  return verify(raw_body, signature_header, client_secret, "verify")
end

local function parse(raw_body, fname)
  check_string(raw_body, "raw_body", fname)
  local note, err = core.json_decode(raw_body)
  if err ~= nil or note == nil then
    return nil, "invalid JSON: " .. tostring(err)
  end
  if type(note) ~= "table" or getmetatable(note) == core.array_mt then
    return nil, "not an Intercom notification: the body is not a JSON object"
  end
  local t = note.type
  if t ~= "notification_event" then
    return nil, ("not an Intercom notification: type is %s, expected \"notification_event\"")
      :format(type(t) == "string" and ('"' .. t .. '"') or t == nil and "missing" or "not a string")
  end
  return note
end

--- Decodes a webhook body into the notification table (`type`, `topic`, `id`, `app_id`, `data.item`,
--- `delivery_attempts`, `created_at`, ...; JSON null is `intercom.null`). Returns nil and a message when
--- the body is not JSON or not an object with `type == "notification_event"`. Does not check the
--- signature: see `handle`.
---@param raw_body string
---@return table|nil notification
---@return string|nil err
function _M.parse(raw_body)
  return parse(raw_body, "parse")
end

--- Verifies, then parses: the notification, or nil and the reason (a verify reason, or a parse message).
---@param raw_body string the request body exactly as received
---@param signature_header string|nil the X-Hub-Signature value
---@param client_secret string the app's client secret
---@return table|nil notification
---@return string|nil reason
function _M.handle(raw_body, signature_header, client_secret)
  local ok, why = verify(raw_body, signature_header, client_secret, "handle")
  if not ok then return nil, why end
  return parse(raw_body, "handle")
end

return _M
